/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Constants shared by the payload assembly and the C that checks it: the
 * syscall numbers payloads report with and the register-check patterns.
 * Written so that both the C compiler and the assembler can evaluate them.
 */
#ifndef PAYLOAD_ABI_H
#define PAYLOAD_ABI_H

/* Numbers no kernel uses: payloads report with them (never run on a host). */
#define PAYLOAD_NR_OK 0x7000
#define PAYLOAD_NR_FAIL 0x7001

/* x86_64's int 0x80 and sysenter payloads: getpid in the i386 table,
 * writev in the x86_64 one. */
#define PAYLOAD_IA32_NR 20

#ifdef __ASSEMBLER__
#define PAYLOAD_U64(x) (x)
#else
#include <stdint.h>
#define PAYLOAD_U64(x) ((uint64_t)(x))
#endif

/* Register i of the arch's GPR order (ptp_gpr_name), tracer -> app and
 * app -> tracer; vector register i, low and high halves. */
#define PAYLOAD_GPR_IN(i) (PAYLOAD_U64(0x5a00000012345678) | (PAYLOAD_U64(i) << 40))
#define PAYLOAD_GPR_OUT(i) (PAYLOAD_U64(0x3c0000009abcdef0) | (PAYLOAD_U64(i) << 40))
#define PAYLOAD_VLO_IN(i) (PAYLOAD_U64(0x6b00000011223344) | (PAYLOAD_U64(i) << 40))
#define PAYLOAD_VHI_IN(i) (PAYLOAD_U64(0x1e00000055667788) | (PAYLOAD_U64(i) << 40))
#define PAYLOAD_VLO_OUT(i) (PAYLOAD_U64(0x2d000000a1b2c3d4) | (PAYLOAD_U64(i) << 40))
#define PAYLOAD_VHI_OUT(i) (PAYLOAD_U64(0x4f000000e5f60718) | (PAYLOAD_U64(i) << 40))
/* PAYLOAD_NR_FAIL's first argument for a vector register mismatch. */
#define PAYLOAD_FAIL_VREG 100

/*
 * PAYLOAD_STATE_DUMP's record, at a fixed address below 2 GiB (x86_64
 * code stores to it with 32-bit absolute addresses).
 * x86_64: the 16 GPRs in ptp_gpr_name order at 0, rflags (as pushfq reads
 * it) at PAYLOAD_DUMP_FLAGS, fs_base and gs_base after them (second stop),
 * the XSAVE area (all of XCR0) at PAYLOAD_DUMP_FP, 64-byte aligned.
 * arm64: x0-x30 and sp in ptp_gpr_name order at 0, NZCV at
 * PAYLOAD_DUMP_FLAGS and TPIDR_EL0 after it, and at PAYLOAD_DUMP_FP a
 * struct user_fpsimd_state (v0-v31, FPSR, FPCR).
 * Either way the FP part has the layout of ptp_ctx_fpstate().
 */
#define PAYLOAD_DUMP_ADDR 0x20000000
#define PAYLOAD_DUMP_FLAGS 256
#define PAYLOAD_DUMP_FP 4096
#define PAYLOAD_DUMP_BYTES(fp_size) (PAYLOAD_DUMP_FP + (fp_size))

#endif /* PAYLOAD_ABI_H */
