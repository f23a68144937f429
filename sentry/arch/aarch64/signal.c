/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arm64 signal frames, laid out as the kernel's (arch/arm64/kernel/signal.c):
 * a frame record {fp, lr} below the interrupted sp, then struct rt_sigframe
 * { siginfo; ucontext } 16-byte aligned, the ucontext's sigcontext holding
 * x0-x30, sp, pc, pstate and, in its 4 KiB of records, an fpsimd_context
 * and the terminator. The handler returns to lr: the app's sa_restorer
 * with SA_RESTORER, else a trampoline page the sentry maps on first use
 * (the kernel uses the vDSO's __kernel_rt_sigreturn, and the sentry maps
 * no vDSO; glibc's arm64 sigaction sets no restorer). rt_sigreturn reads
 * the frame back as hostile input, refusing what the kernel refuses.
 *
 * Not there: an esr_context record (ptrace cannot tell the fault's ESR),
 * SVE/SME records (the suite runs with SVE off), BTI's BTYPE for the
 * handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "sentry.h"

#define K_FPSIMD_MAGIC 0x46508001u
#define K_ESR_MAGIC 0x45535201u
#define RESERVED_SIZE 4096
#define NR_RT_SIGRETURN 139
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
/* PSTATE: what a valid EL0 AArch64 state may hold (valid_native_regs):
 * mode EL0t (bits 0-3 zero), not AArch32 (bit 4), D, A, I, F clear. */
#define PSR_MODE_MASK 0x1full
#define PSR_DAIF_MASK 0x3c0ull

struct k_sigcontext {
	uint64_t fault_address;
	uint64_t regs[31];
	uint64_t sp, pc, pstate;
	uint8_t reserved[RESERVED_SIZE] __attribute__((aligned(16)));
};

struct k_ucontext {
	uint64_t uc_flags, uc_link;
	struct sn_frame_stack uc_stack;
	uint64_t uc_sigmask;
	/* glibc's 1024-bit sigset_t */
	uint8_t unused[1024 / 8 - sizeof(uint64_t)];
	struct k_sigcontext uc_mcontext __attribute__((aligned(16)));
};

struct k_rt_sigframe {
	siginfo_t info;
	struct k_ucontext uc;
};

struct ctx_head {
	uint32_t magic, size;
};

struct k_fpsimd_context {
	struct ctx_head head;
	uint32_t fpsr, fpcr;
	uint8_t vregs[32][16];
};

/* ptp_ctx_fpstate's layout (struct user_fpsimd_state). */
struct user_fpsimd {
	uint8_t vregs[32][16];
	uint32_t fpsr, fpcr;
	uint32_t reserved[2];
};

_Static_assert(offsetof(struct k_ucontext, uc_mcontext) == 176, "the kernel's ucontext");
_Static_assert(offsetof(struct k_sigcontext, reserved) == 288, "the kernel's sigcontext");
_Static_assert(sizeof(struct k_rt_sigframe) == 4688, "the kernel's rt_sigframe");
_Static_assert(sizeof(struct k_fpsimd_context) == 528, "the kernel's fpsimd_context");
_Static_assert(sizeof(struct user_fpsimd) == 528, "struct user_fpsimd_state");

/* The trampoline: a nop first, as the vDSO's (an unwinder looks at the
 * instruction before the return address), then rt_sigreturn. */
static const uint32_t sigtramp[] = {
	0xd503201fu,                              /* nop */
	0xd2800008u | (NR_RT_SIGRETURN << 5),     /* mov x8, #139 */
	0xd4000001u,                              /* svc #0 */
};

static unsigned int x_index(unsigned int n)
{
	char name[8];

	snprintf(name, sizeof(name), "x%u", n);
	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		if (!strcmp(ptp_gpr_name(i), name))
			return i;
	abort(); /* the core names every arm64 GPR */
}

static int fp_size_ok(void)
{
	return ptp_caps(sn.plat)->fpstate_size == sizeof(struct user_fpsimd) ? 0 : -EINVAL;
}

int sn_arch_signal_frame(struct sn_thread *t, const struct sn_sigaction *act,
			 const siginfo_t *info, uint64_t old_mask)
{
	struct k_rt_sigframe *frame = calloc(1, sizeof(*frame));
	struct k_sigcontext *sc;
	struct k_fpsimd_context *fp;
	struct user_fpsimd ufp;
	uint64_t sp = ptp_ctx_sp(t->ctx), record_addr, frame_addr, ret;
	uint64_t record[2];
	int err;

	if (!frame)
		return -ENOMEM;
	sc = &frame->uc.uc_mcontext;
	fp = (struct k_fpsimd_context *)sc->reserved;
	if ((err = fp_size_ok()) < 0 || (err = ptp_ctx_fpstate(t->ctx, &ufp, sizeof(ufp))) < 0)
		goto out;
	if (act->flags & SA_RESTORER) {
		ret = act->restorer;
	} else {
		long page = sn_mm_code_page(t->proc->mm, sigtramp, sizeof(sigtramp));

		if (page < 0) {
			err = (int)page;
			goto out;
		}
		ret = (uint64_t)page + 4;
	}
	/* The kernel's sigsp: SA_ONSTACK moves to the top of an alternate
	 * stack the thread is not on yet. */
	if ((act->flags & SA_ONSTACK) && sn_altstack_state(t, sp) == 0)
		sp = t->ss_sp + t->ss_size;
	record_addr = (sp - sizeof(record)) & ~15ull;
	frame_addr = (record_addr & ~15ull) - sizeof(*frame);
	record[0] = ptp_ctx_gpr(t->ctx, x_index(29));
	record[1] = ptp_ctx_gpr(t->ctx, x_index(30));
	for (unsigned int i = 0; i < 31; i++)
		sc->regs[i] = ptp_ctx_gpr(t->ctx, x_index(i));
	sc->sp = ptp_ctx_sp(t->ctx);
	sc->pc = ptp_ctx_ip(t->ctx);
	sc->pstate = ptp_ctx_flags(t->ctx);
	if ((info->si_signo == SIGSEGV || info->si_signo == SIGBUS) && info->si_code > 0)
		sc->fault_address = (uint64_t)(uintptr_t)info->si_addr;
	fp->head = (struct ctx_head){ K_FPSIMD_MAGIC, sizeof(*fp) };
	fp->fpsr = ufp.fpsr;
	fp->fpcr = ufp.fpcr;
	memcpy(fp->vregs, ufp.vregs, sizeof(fp->vregs));
	/* The terminator after it is the zeros calloc left. */
	sn_altstack_save(t, &frame->uc.uc_stack);
	frame->uc.uc_sigmask = old_mask;
	frame->info = *info;
	if ((err = sn_copy_out(t->proc->mm, record_addr, record, sizeof(record))) < 0 ||
	    (err = sn_copy_out(t->proc->mm, frame_addr, frame, sizeof(*frame))) < 0)
		goto out;
	/* The handler keeps the FP state (arm64 resets none of it). */
	ptp_ctx_set_gpr(t->ctx, x_index(0), (uint64_t)info->si_signo);
	if (act->flags & SA_SIGINFO) {
		ptp_ctx_set_gpr(t->ctx, x_index(1), frame_addr + offsetof(struct k_rt_sigframe, info));
		ptp_ctx_set_gpr(t->ctx, x_index(2), frame_addr + offsetof(struct k_rt_sigframe, uc));
	}
	ptp_ctx_set_gpr(t->ctx, x_index(29), record_addr);
	ptp_ctx_set_gpr(t->ctx, x_index(30), ret);
	ptp_ctx_set_sp(t->ctx, frame_addr);
	ptp_ctx_set_ip(t->ctx, act->handler);
out:
	free(frame);
	return err;
}

/* The kernel's parse_user_sigframe over the records: the fpsimd_context,
 * or NULL for records it would refuse. */
static const struct k_fpsimd_context *find_fpsimd(const struct k_sigcontext *sc)
{
	const struct k_fpsimd_context *found = NULL;
	size_t off = 0;

	for (;;) {
		struct ctx_head head;

		if (RESERVED_SIZE - off < sizeof(head) || (off & 15))
			return NULL;
		memcpy(&head, sc->reserved + off, sizeof(head));
		if (head.magic == 0)
			return head.size ? NULL : found;
		if (head.size < sizeof(head) || RESERVED_SIZE - off < head.size)
			return NULL;
		if (head.magic == K_FPSIMD_MAGIC) {
			if (found || head.size != sizeof(*found))
				return NULL;
			found = (const struct k_fpsimd_context *)(sc->reserved + off);
		} else if (head.magic != K_ESR_MAGIC) {
			/* Only the ESR record (which the kernel ignores) may
			 * sit beside it; SVE, ZA, extra: not built. */
			return NULL;
		}
		off += head.size;
	}
}

int sn_arch_sigreturn(struct sn_thread *t, uint64_t *mask)
{
	uint64_t frame_addr = ptp_ctx_sp(t->ctx);
	struct k_rt_sigframe *frame = malloc(sizeof(*frame));
	const struct k_sigcontext *sc;
	const struct k_fpsimd_context *fp;
	struct user_fpsimd ufp = { 0 };
	int err;

	if (!frame)
		return -ENOMEM;
	sc = &frame->uc.uc_mcontext;
	err = -EFAULT;
	if ((frame_addr & 15) || sn_copy_in(t->proc->mm, frame, frame_addr, sizeof(*frame)) < 0)
		goto out;
	err = -EINVAL;
	if ((sc->pstate & (PSR_MODE_MASK | PSR_DAIF_MASK)) || !(fp = find_fpsimd(sc)) ||
	    fp_size_ok() < 0)
		goto out;
	memcpy(ufp.vregs, fp->vregs, sizeof(ufp.vregs));
	ufp.fpsr = fp->fpsr;
	ufp.fpcr = fp->fpcr;
	if ((err = ptp_ctx_set_fpstate(t->ctx, &ufp, sizeof(ufp))) < 0)
		goto out;
	for (unsigned int i = 0; i < 31; i++)
		ptp_ctx_set_gpr(t->ctx, x_index(i), sc->regs[i]);
	ptp_ctx_set_sp(t->ctx, sc->sp);
	ptp_ctx_set_ip(t->ctx, sc->pc);
	/* NZCV only (ptplat keeps the rest). */
	ptp_ctx_set_flags(t->ctx, sc->pstate);
	*mask = frame->uc.uc_sigmask;
	sn_altstack_restore(t, &frame->uc.uc_stack, sc->sp);
	err = 0;
out:
	free(frame);
	return err;
}
