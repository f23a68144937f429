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

struct json_t;
/* ptbench-probe's arch facts into out: ia32_int80 (from ia32_syscalls,
 * ptp_caps' own probe), x32_syscall_bit, arch_get_cpuid; JSON null where
 * the question does not exist on this arch. */
void af_probe_arch(struct json_t *out, bool ia32_syscalls);

#endif /* CONFORMANCE_ARCH_H */
