/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract of the conformance suite's arch corners
 * (conformance/arch/<arch>/): the few facts about the machine a case must
 * know and the core's API does not tell (hardware behaviour of a payload,
 * see stub/arch/<arch>/payloads.S), and the arch part of ptbench-probe.
 * Kept out of core/ on purpose: these facts are the suite's independent
 * reference, so a wrong fact in the core cannot agree with itself here.
 * Generic conformance files include only this header.
 *
 * arch-facts.h, found through the include path of the arch being built,
 * defines:
 *   AF_GPR_RESULT              ptp_gpr_name index of a syscall's result
 *   AF_BAD_ADDRESS_IS_GP       1: PAYLOAD_BAD_ADDRESS takes a general-
 *                              protection fault, not a page fault
 *   AF_BAD_ADDRESS_LOAD_OFFSET bytes from the payload's start to its load
 *   AF_BAD_ADDRESS_SI_CODE     the si_code of its SIGSEGV
 *   AF_BAD_ADDRESS_SI_ADDR     the si_addr of its SIGSEGV
 *   AF_AUDIT_ARCH_NATIVE       AUDIT_ARCH_* of the stub's own syscalls
 *   AF_ABI_NEEDS_SYSCALL_INFO  1: only PTRACE_GET_SYSCALL_INFO tells the
 *                              syscall tables apart
 *   AF_X32_BIT_ABI             the ABI of a number with 0x40000000 set
 */
#ifndef CONFORMANCE_ARCH_H
#define CONFORMANCE_ARCH_H

#include <signal.h>
#include <stdbool.h>

#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

#include "arch-facts.h"

/*
 * The state cases' reference (conformance/arch/<arch>/state.c), written
 * from the architecture manuals and execve's start_thread, not from the
 * core. A PAYLOAD_STATE_DUMP record (stub/payload-abi.h) and FP images in
 * ptp_ctx_fpstate's format; each check returns NULL or what differs (a
 * static buffer).
 *   af_check_init_dump: every register of the record is a fresh execve's
 *     (GPRs, flags, FP/SIMD; the TLS where the record has it).
 *   af_check_init_fp: an FP image is in that state; every_byte: also
 *     where its header says a component is in its init state (the core's
 *     own image, whose registers ptp_ctx_vreg reads as bytes), else as the
 *     header says (what an app's XSAVE wrote).
 *   af_dump_has_bases: x86_64 only: the payload's second stop stores
 *     fs_base and gs_base (the kernel enabled FSGSBASE);
 *     af_check_dump_bases checks them 0.
 *   af_fp_mark writes non-init values into an FP image (control words,
 *     every vector register, wider registers where the image has them);
 *     af_check_fp_marked checks an image shows them.
 *   af_fp_corrupt makes image k (0..af_fp_corruptions()-1) of ones the
 *     kernel would refuse from a valid image; returns its name.
 * AF_CARRY_FLAG: the carry bit of ptp_ctx_flags (the payload flips it).
 */
const char *af_check_init_dump(const unsigned char *dump, size_t fp_size);
const char *af_check_init_fp(const unsigned char *fp, size_t fp_size, bool every_byte);
bool af_dump_has_bases(void);
const char *af_check_dump_bases(const unsigned char *dump);
void af_fp_mark(unsigned char *fp, size_t fp_size);
const char *af_check_fp_marked(const unsigned char *fp, size_t fp_size);
unsigned int af_fp_corruptions(void);
const char *af_fp_corrupt(unsigned int k, unsigned char *fp, size_t fp_size);

struct json_t;
/* ptbench-probe's arch facts into out: ia32_int80 (from ia32_syscalls,
 * ptp_caps' own probe), x32_syscall_bit, arch_get_cpuid; JSON null where
 * the question does not exist on this arch. */
void af_probe_arch(struct json_t *out, bool ia32_syscalls);

#endif /* CONFORMANCE_ARCH_H */
