/* SPDX-License-Identifier: Apache-2.0 */
/* pool/*: placeholder until the family is written. */
#include "bench.h"

void bench_register_pool(void)
{
}
