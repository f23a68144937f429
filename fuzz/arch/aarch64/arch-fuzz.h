/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 part of the fuzzer's arch contract (fuzz/arch/arch.h). */
#ifndef FUZZ_ARCH_FUZZ_H
#define FUZZ_ARCH_FUZZ_H

#define FZ_ARCH_CODE_FILLER { 0x00, 0x00, 0x00, 0x00 } /* udf #0 */

#endif /* FUZZ_ARCH_FUZZ_H */
