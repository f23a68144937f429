/* SPDX-License-Identifier: Apache-2.0 */
/* A classic-BPF interpreter for seccomp programs (cbpf.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "cbpf.h"

/* A conditional jump's target, or -1 when it leaves the program. */
static long target(unsigned int pc, unsigned int off, unsigned int len)
{
	unsigned long to = (unsigned long)pc + 1 + off;

	return to < len ? (long)to : -1;
}

int cbpf_run(const struct sock_fprog *prog, const struct seccomp_data *data,
	     uint32_t *action)
{
	unsigned int pc = 0, len = prog->len;
	uint32_t acc = 0;

	/* The kernel's checker wants a return last, wherever jumps lead. */
	if (len == 0 || len > BPF_MAXINSNS ||
	    BPF_CLASS(prog->filter[len - 1].code) != BPF_RET)
		return -EINVAL;
	/* Jumps only go forward, so the program ends within len steps. */
	while (pc < len) {
		const struct sock_filter *in = &prog->filter[pc];
		long next;

		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (in->k % 4 || in->k > sizeof(*data) - 4)
				return -EINVAL;
			memcpy(&acc, (const char *)data + in->k, sizeof(acc));
			next = pc + 1;
			break;
		case BPF_JMP | BPF_JA:
			next = target(pc, in->k, len);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			next = target(pc, acc == in->k ? in->jt : in->jf, len);
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			next = target(pc, acc > in->k ? in->jt : in->jf, len);
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			next = target(pc, acc >= in->k ? in->jt : in->jf, len);
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			next = target(pc, (acc & in->k) ? in->jt : in->jf, len);
			break;
		case BPF_RET | BPF_K:
			*action = in->k;
			return 0;
		default:
			return -EINVAL;
		}
		if (next < 0)
			return -EINVAL;
		pc = (unsigned int)next;
	}
	return -EINVAL; /* not reached: the last instruction returns */
}
