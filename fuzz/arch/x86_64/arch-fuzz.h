/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64 part of the fuzzer's arch contract (fuzz/arch/arch.h). */
#ifndef FUZZ_ARCH_FUZZ_H
#define FUZZ_ARCH_FUZZ_H

#define FZ_ARCH_CODE_FILLER { 0x0f, 0x0b } /* ud2 */

#endif /* FUZZ_ARCH_FUZZ_H */
