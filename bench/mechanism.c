/* SPDX-License-Identifier: Apache-2.0 */
/* The mechanism family: placeholder until it is written. */
#include "bench.h"

void bench_register_mechanism(void)
{
}
