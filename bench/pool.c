/* SPDX-License-Identifier: Apache-2.0 */
/* The pool family: placeholder until it is written. */
#include "bench.h"

void bench_register_pool(void)
{
}
