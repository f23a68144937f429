/* SPDX-License-Identifier: Apache-2.0 */
/* The switch family: placeholder until it is written. */
#include "bench.h"

void bench_register_switch(void)
{
}
