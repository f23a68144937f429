/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A classic-BPF interpreter for seccomp programs, for tests only: it runs a
 * filter over a struct seccomp_data without installing it. It knows the
 * opcodes core/backend/systrap/bpf.c emits (32-bit absolute loads, JA,
 * JEQ/JGT/JGE/JSET against a constant, RET of a constant) and refuses any
 * other, and checks what the kernel's checker would: every jump lands inside
 * the program, loads are aligned and inside seccomp_data, the program ends in
 * a return.
 */
#ifndef UNIT_CBPF_H
#define UNIT_CBPF_H

#include <stdint.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* 0 and the action in *action, or -EINVAL for a program the kernel would
 * refuse or that uses an opcode this interpreter does not know. */
int cbpf_run(const struct sock_fprog *prog, const struct seccomp_data *data,
	     uint32_t *action);

#endif /* UNIT_CBPF_H */
