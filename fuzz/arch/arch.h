/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract of the fuzzer's arch corners (fuzz/arch/<arch>/). Generic
 * fuzz files include only this header; arch-fuzz.h, found through the
 * include path of the arch being built, defines:
 *   FZ_ARCH_CODE_FILLER  initializer of the instruction bytes that fill the
 *                        code page after the input: whatever runs off its
 *                        end must fault (SIGILL), never run on into stale
 *                        code of an earlier input
 * and fuzz/arch/<arch>/seeds.S defines fz_seed_<name>_start and _end for
 * every seed of seeds/seed-list.h (empty where the arch cannot express it).
 */
#ifndef FUZZ_ARCH_H
#define FUZZ_ARCH_H

#include "arch-fuzz.h"

#endif /* FUZZ_ARCH_H */
