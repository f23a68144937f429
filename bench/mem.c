/* SPDX-License-Identifier: Apache-2.0 */
/* The mem family: placeholder until it is written. */
#include "bench.h"

void bench_register_mem(void)
{
}
