/* SPDX-License-Identifier: Apache-2.0 */
/* mem/*: placeholder until the family is written. */
#include "bench.h"

void bench_register_mem(void)
{
}
