/* SPDX-License-Identifier: Apache-2.0 */
/* The native family: placeholder until it is written. */
#include "bench.h"

void bench_register_native(void)
{
}
