/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systrap positive control's weakening, linked into
 * ptbench-fuzz-control-ip-only only (with -Wl,--wrap=ptp_bpf_build): every
 * filter the systrap backend builds is the real one with each KILL turned
 * into ALLOW. The thread filter's only KILL is what a syscall from the
 * handler's code that no rule allows gets, so the result matches on the
 * instruction pointer alone: the handler's syscall instructions then run
 * whatever the app loads into the registers (the stub filter below still
 * holds: a syscall it traps is a self-kill there too). Hostile seeds the
 * real filter turns into self-kills must then show as escapes.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>

struct ptp_bpf_spec;
int __real_ptp_bpf_build(const struct ptp_bpf_spec *spec, struct sock_fprog *out);
int __wrap_ptp_bpf_build(const struct ptp_bpf_spec *spec, struct sock_fprog *out);

int __wrap_ptp_bpf_build(const struct ptp_bpf_spec *spec, struct sock_fprog *out)
{
	int rc = __real_ptp_bpf_build(spec, out);

	for (unsigned int i = 0; rc == 0 && i < out->len; i++) {
		struct sock_filter *insn = &out->filter[i];

		if (insn->code == (BPF_RET | BPF_K) &&
		    (insn->k == SECCOMP_RET_KILL_PROCESS || insn->k == SECCOMP_RET_KILL_THREAD))
			insn->k = SECCOMP_RET_ALLOW;
	}
	return rc;
}
