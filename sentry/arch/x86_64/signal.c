/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86_64 signal frames, laid out as the kernel's (arch/x86/kernel/signal_64.c):
 * below the red zone, the XSAVE area (64-byte aligned, FP_XSTATE_MAGIC2
 * after it), then struct rt_sigframe { pretcode; ucontext; siginfo } with
 * (frame + 8) 16-byte aligned, as after a call. rt_sigreturn reads it back
 * as hostile input: every field is range-checked or masked, and the FP
 * state goes through ptp_ctx_set_fpstate, which refuses what the kernel's
 * XRSTOR would.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "sentry.h"

struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct k_ucontext {
	uint64_t uc_flags, uc_link;
	struct sn_frame_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	siginfo_t info;
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "the kernel's struct sigcontext");
_Static_assert(offsetof(struct k_rt_sigframe, info) == 312, "the kernel's rt_sigframe");

#define RED_ZONE 128
/* The top of the canonical lower half (4-level paging): a rip at or
 * above it makes the kernel's return to user mode fault. */
#define USER_CANONICAL_END (1ull << 47)
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
/* <signal.h> has the FP_XSTATE_MAGIC values; glibc keeps SA_RESTORER
 * to itself. */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#define FXSAVE_SIZE 512
#define SW_BYTES_OFFSET 464
#define MXCSR_OFFSET 24
#define MXCSR_MASK_OFFSET 28
#define XSTATE_BV_OFFSET 512
#define USER_CS 0x33
#define USER_SS 0x2b
#define TRAP_PF 14
#define PF_USER 0x4
#define PF_WRITE 0x2
#define PF_INSTR 0x10
/* The flags a handler starts without (the kernel clears them). */
#define EFLAGS_DF 0x400
#define EFLAGS_TF 0x100
#define EFLAGS_RF 0x10000

/* struct _fpx_sw_bytes: what says an XSAVE area follows the FXSAVE one. */
struct sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

/* The GPRs in sigcontext order, by ptplat name. */
static const struct {
	const char *name;
	size_t off;
} frame_gprs[] = {
#define G(n) { #n, offsetof(struct k_sigcontext, n) }
	G(r8), G(r9), G(r10), G(r11), G(r12), G(r13), G(r14), G(r15),
	G(rdi), G(rsi), G(rbp), G(rbx), G(rdx), G(rax), G(rcx),
#undef G
};

static unsigned int gpr_index(const char *name)
{
	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		if (!strcmp(ptp_gpr_name(i), name))
			return i;
	abort(); /* the core names every x86_64 GPR */
}

static void set_u64(struct k_sigcontext *sc, size_t off, uint64_t v)
{
	memcpy((char *)sc + off, &v, sizeof(v));
}

static uint64_t get_u64(const struct k_sigcontext *sc, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)sc + off, sizeof(v));
	return v;
}

/* The FP state a handler starts with: what the kernel's
 * fpu__clear_user_states leaves (FCW 0x37F, MXCSR 0x1F80, every component
 * in its init state), keeping the CPU's MXCSR mask and the software bytes
 * (the kernel ignores them when a tracer sets the state). */
static void init_fpstate(uint8_t *fp, size_t size)
{
	uint8_t mask[4], sw[FXSAVE_SIZE - SW_BYTES_OFFSET];
	uint16_t fcw = 0x37f;
	uint32_t mxcsr = 0x1f80;

	memcpy(mask, fp + MXCSR_MASK_OFFSET, sizeof(mask));
	memcpy(sw, fp + SW_BYTES_OFFSET, sizeof(sw));
	memset(fp, 0, size);
	memcpy(fp, &fcw, sizeof(fcw));
	memcpy(fp + MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
	memcpy(fp + MXCSR_MASK_OFFSET, mask, sizeof(mask));
	memcpy(fp + SW_BYTES_OFFSET, sw, sizeof(sw));
}

int sn_arch_signal_frame(struct sn_thread *t, const struct sn_sigaction *act,
			 const siginfo_t *info, uint64_t old_mask)
{
	size_t fpsize = ptp_caps(sn.plat)->fpstate_size;
	struct k_rt_sigframe frame = { 0 };
	struct k_sigcontext *sc = &frame.uc.uc_mcontext;
	uint8_t *fp = calloc(1, fpsize + sizeof(uint32_t));
	uint64_t sp = ptp_ctx_sp(t->ctx), fp_addr, frame_addr;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	bool xsave = fpsize > FXSAVE_SIZE;
	bool nested_altstack = sn_on_altstack(t, sp), entering_altstack = false;
	int err;

	if (!fp)
		return -ENOMEM;
	/* The kernel refuses a 64-bit handler without a restorer. */
	if (!(act->flags & SA_RESTORER) || !act->restorer) {
		err = -EFAULT;
		goto out;
	}
	if ((err = ptp_ctx_fpstate(t->ctx, fp, fpsize)) < 0)
		goto out;
	if (xsave) {
		/* ptrace puts XCR0 in the first word of the FXSAVE area's
		 * software bytes; a signal frame has struct _fpx_sw_bytes
		 * there, which says an XSAVE area of this size follows. */
		struct sw_bytes sw = { .magic1 = FP_XSTATE_MAGIC1,
				       .extended_size = (uint32_t)(fpsize + sizeof(magic2)),
				       .xstate_size = (uint32_t)fpsize };

		memcpy(&sw.xfeatures, fp + SW_BYTES_OFFSET, sizeof(sw.xfeatures));
		memcpy(fp + SW_BYTES_OFFSET, &sw, sizeof(sw));
		memcpy(fp + fpsize, &magic2, sizeof(magic2));
	}
	sp -= RED_ZONE;
	/* The kernel's get_sigframe: SA_ONSTACK moves to the top of an
	 * alternate stack the thread is not on yet. */
	if ((act->flags & SA_ONSTACK) && sn_altstack_state(t, sp) == 0) {
		sp = t->ss_sp + t->ss_size;
		entering_altstack = true;
	}
	fp_addr = (sp - fpsize - (xsave ? sizeof(magic2) : 0)) & ~63ull;
	frame_addr = ((fp_addr - sizeof(frame)) & ~15ull) - 8;
	/* A frame that would overflow the alternate stack: SIGSEGV, as the
	 * kernel's always-bogus frame address. */
	if ((nested_altstack || entering_altstack) && !sn_in_altstack(t, frame_addr)) {
		err = -EFAULT;
		goto out;
	}
	for (size_t i = 0; i < sizeof(frame_gprs) / sizeof(frame_gprs[0]); i++)
		set_u64(sc, frame_gprs[i].off, ptp_ctx_gpr(t->ctx, gpr_index(frame_gprs[i].name)));
	sc->rsp = ptp_ctx_sp(t->ctx);
	sc->rip = ptp_ctx_ip(t->ctx);
	sc->eflags = ptp_ctx_flags(t->ctx);
	sc->cs = USER_CS;
	sc->ss = USER_SS;
	sc->fpstate = fp_addr;
	sc->oldmask = old_mask;
	if (info->si_signo == SIGSEGV && info->si_code > 0) {
		sc->trapno = TRAP_PF;
		sc->cr2 = (uint64_t)(uintptr_t)info->si_addr;
		/* The page-fault error code as far as ptplat's access
		 * heuristic tells it: a first fault reads as a read, so a
		 * write to an unmapped page has no write bit here (the
		 * kernel's has); no present bit either. */
		sc->err = PF_USER | (t->fault_access & PTP_ACCESS_WRITE ? PF_WRITE : 0) |
			  (t->fault_access & PTP_ACCESS_EXEC ? PF_INSTR : 0);
	}
	frame.pretcode = act->restorer;
	frame.uc.uc_flags = (xsave ? UC_FP_XSTATE : 0) | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	sn_altstack_save(t, &frame.uc.uc_stack);
	frame.uc.uc_sigmask = old_mask;
	frame.info = *info;
	if ((err = sn_copy_out(t->proc->mm, fp_addr, fp, fpsize + (xsave ? sizeof(magic2) : 0))) < 0 ||
	    (err = sn_copy_out(t->proc->mm, frame_addr, &frame, sizeof(frame))) < 0)
		goto out;
	init_fpstate(fp, fpsize);
	if ((err = ptp_ctx_set_fpstate(t->ctx, fp, fpsize)) < 0)
		goto out;
	ptp_ctx_set_gpr(t->ctx, gpr_index("rdi"), (uint64_t)info->si_signo);
	ptp_ctx_set_gpr(t->ctx, gpr_index("rsi"), frame_addr + offsetof(struct k_rt_sigframe, info));
	ptp_ctx_set_gpr(t->ctx, gpr_index("rdx"), frame_addr + offsetof(struct k_rt_sigframe, uc));
	ptp_ctx_set_gpr(t->ctx, gpr_index("rax"), 0);
	ptp_ctx_set_sp(t->ctx, frame_addr);
	ptp_ctx_set_ip(t->ctx, act->handler);
	ptp_ctx_set_flags(t->ctx, ptp_ctx_flags(t->ctx) & ~(uint64_t)(EFLAGS_DF | EFLAGS_TF | EFLAGS_RF));
out:
	free(fp);
	return err;
}

int sn_arch_sigreturn(struct sn_thread *t, uint64_t *mask)
{
	size_t fpsize = ptp_caps(sn.plat)->fpstate_size;
	/* The handler's ret popped pretcode: the frame starts 8 below. */
	uint64_t frame_addr = ptp_ctx_sp(t->ctx) - 8;
	struct k_rt_sigframe frame;
	const struct k_sigcontext *sc = &frame.uc.uc_mcontext;
	uint8_t *fp = calloc(1, fpsize + sizeof(uint32_t));
	int err;

	if (!fp)
		return -ENOMEM;
	if ((err = sn_copy_in(t->proc->mm, &frame, frame_addr, sizeof(frame))) < 0)
		goto out;
	if (sc->rip >= USER_CANONICAL_END) {
		err = -EFAULT;
		goto out;
	}
	if (!sc->fpstate) {
		/* No FP state in the frame: the kernel resets it. */
		if ((err = ptp_ctx_fpstate(t->ctx, fp, fpsize)) < 0)
			goto out;
		init_fpstate(fp, fpsize);
	} else if (fpsize > FXSAVE_SIZE) {
		struct sw_bytes sw;
		uint32_t magic2 = 0;

		if ((err = sn_copy_in(t->proc->mm, fp, sc->fpstate, FXSAVE_SIZE)) < 0)
			goto out;
		memcpy(&sw, fp + SW_BYTES_OFFSET, sizeof(sw));
		if (sw.magic1 == FP_XSTATE_MAGIC1 && sw.xstate_size == fpsize &&
		    sn_copy_in(t->proc->mm, &magic2, sc->fpstate + fpsize, sizeof(magic2)) == 0 &&
		    magic2 == FP_XSTATE_MAGIC2) {
			if ((err = sn_copy_in(t->proc->mm, fp, sc->fpstate, fpsize)) < 0)
				goto out;
		} else {
			/* The kernel's fallback: the FXSAVE part only, every
			 * other component to its init state. */
			uint64_t bv = 0x3;

			memset(fp + FXSAVE_SIZE, 0, fpsize - FXSAVE_SIZE);
			memcpy(fp + XSTATE_BV_OFFSET, &bv, sizeof(bv));
		}
	} else if ((err = sn_copy_in(t->proc->mm, fp, sc->fpstate, fpsize)) < 0) {
		goto out;
	}
	/* Refuses (and leaves the context as it was) what XRSTOR would. */
	if ((err = ptp_ctx_set_fpstate(t->ctx, fp, fpsize)) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(frame_gprs) / sizeof(frame_gprs[0]); i++)
		ptp_ctx_set_gpr(t->ctx, gpr_index(frame_gprs[i].name), get_u64(sc, frame_gprs[i].off));
	ptp_ctx_set_sp(t->ctx, sc->rsp);
	ptp_ctx_set_ip(t->ctx, sc->rip);
	/* Only the bits a tracer may write change (ptplat masks the rest). */
	ptp_ctx_set_flags(t->ctx, sc->eflags);
	*mask = frame.uc.uc_sigmask;
	sn_altstack_restore(t, &frame.uc.uc_stack, sc->rsp);
out:
	free(fp);
	return err;
}
