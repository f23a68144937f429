/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systrap filters in raw classic BPF (bpf.h says what they decide): a
 * tiny assembler with forward labels, and the program built with it:
 *
 *	ld arch; == native ABI's?      no: foreign
 *	ld nr; x32 bit set?            yes: foreign (only where the arch has x32)
 *	                               no: native
 *   foreign:
 *	ip from the stub's code?       no: ret TRAP
 *	ret in_range_miss
 *   native:
 *	ip from the stub's code?       no: ret TRAP
 *	per rule: nr, then each argument's two halves; all hold: ret ALLOW
 *	ret in_range_miss
 *
 * The arch comes first because the number means nothing without it. Classic
 * BPF compares 32 bits at a time, so every 64-bit value (the instruction
 * pointer, each argument) is compared as its high and its low half. Each
 * block returns or jumps only within itself, and blocks follow one another,
 * so every jump is forward and short: BPF's 8-bit conditional offsets never
 * limit how many rules a filter has; only BPF_MAXINSNS does.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>

#include "arch.h"
#include "backend/systrap/bpf.h"

/* seccomp_data's fields; a 64-bit one's halves by byte order. */
#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#define OFF_IP offsetof(struct seccomp_data, instruction_pointer)
#define OFF_ARG(i) (offsetof(struct seccomp_data, args) + 8u * (i))
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LOW_HALF 0u
#define HIGH_HALF 4u
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LOW_HALF 4u
#define HIGH_HALF 0u
#else
#error "seccomp_data's 64-bit fields: unknown byte order"
#endif

/* A conditional jump's branch that goes on to the next instruction. */
#define NEXT UINT32_MAX
#define UNPLACED UINT32_MAX
/* A jump offset in a conditional jump's jt/jf is 8 bits. */
#define MAX_COND_OFFSET 255u

enum jump_field { JUMP_TRUE, JUMP_FALSE, JUMP_ALWAYS };

struct fixup {
	uint32_t at;    /* the jump instruction */
	uint32_t label;
	enum jump_field field;
};

/* Never more labels than instructions, nor jump targets than two per
 * instruction: the fixed sizes follow from BPF_MAXINSNS. */
struct bpf_asm {
	struct sock_filter insn[BPF_MAXINSNS];
	uint32_t len;
	uint32_t label_at[BPF_MAXINSNS];
	uint32_t nlabels;
	struct fixup fix[2 * BPF_MAXINSNS];
	uint32_t nfix;
	int err; /* the first error; later calls then do nothing */
};

static void emit(struct bpf_asm *a, uint16_t code, uint32_t k)
{
	if (a->err)
		return;
	if (a->len == BPF_MAXINSNS) {
		a->err = -E2BIG;
		return;
	}
	a->insn[a->len++] = (struct sock_filter){ .code = code, .k = k };
}

static uint32_t new_label(struct bpf_asm *a)
{
	if (a->nlabels == BPF_MAXINSNS) {
		if (!a->err)
			a->err = -E2BIG;
		return NEXT;
	}
	a->label_at[a->nlabels] = UNPLACED;
	return a->nlabels++;
}

/* The label names the next instruction emitted. */
static void place(struct bpf_asm *a, uint32_t label)
{
	if (!a->err && label != NEXT)
		a->label_at[label] = a->len;
}

/* The last instruction emitted jumps to label through field. */
static void jump_to(struct bpf_asm *a, enum jump_field field, uint32_t label)
{
	if (a->err || label == NEXT)
		return;
	a->fix[a->nfix++] = (struct fixup){ a->len - 1, label, field };
}

static void load(struct bpf_asm *a, size_t off)
{
	emit(a, BPF_LD | BPF_W | BPF_ABS, (uint32_t)off);
}

/* if (A op k) goto jt; else goto jf. */
static void jump_if(struct bpf_asm *a, uint16_t op, uint32_t k, uint32_t jt,
		    uint32_t jf)
{
	emit(a, BPF_JMP | op | BPF_K, k);
	jump_to(a, JUMP_TRUE, jt);
	jump_to(a, JUMP_FALSE, jf);
}

static void jump(struct bpf_asm *a, uint32_t label)
{
	emit(a, BPF_JMP | BPF_JA, 0);
	jump_to(a, JUMP_ALWAYS, label);
}

static void ret(struct bpf_asm *a, uint32_t action)
{
	emit(a, BPF_RET | BPF_K, action);
}

/* Writes every jump's offset. A jump to an unplaced label or backwards
 * (which BPF cannot do) is a bug of this file: -EINVAL. */
static int resolve(struct bpf_asm *a)
{
	for (uint32_t i = 0; i < a->nfix; i++) {
		const struct fixup *f = &a->fix[i];
		uint32_t to = a->label_at[f->label], off;

		if (to == UNPLACED || to <= f->at || to >= a->len)
			return -EINVAL;
		off = to - f->at - 1;
		if (f->field == JUMP_ALWAYS) {
			a->insn[f->at].k = off;
			continue;
		}
		if (off > MAX_COND_OFFSET)
			return -E2BIG;
		if (f->field == JUMP_TRUE)
			a->insn[f->at].jt = (uint8_t)off;
		else
			a->insn[f->at].jf = (uint8_t)off;
	}
	return 0;
}

/* Goes on when the 64-bit field at off compares with v as cmp says
 * (unsigned), else jumps to miss. */
static void cmp64(struct bpf_asm *a, size_t off, enum ptp_bpf_cmp cmp, uint64_t v,
		  uint32_t miss)
{
	uint32_t high = (uint32_t)(v >> 32), low = (uint32_t)v, holds;
	bool ge = cmp == PTP_BPF_GE;

	if (cmp == PTP_BPF_EQ) {
		load(a, off + LOW_HALF);
		jump_if(a, BPF_JEQ, low, NEXT, miss);
		load(a, off + HIGH_HALF);
		jump_if(a, BPF_JEQ, high, NEXT, miss);
		return;
	}
	/* An order: the high halves decide unless they are equal. */
	holds = new_label(a);
	load(a, off + HIGH_HALF);
	jump_if(a, BPF_JGT, high, ge ? holds : miss, NEXT);
	jump_if(a, BPF_JEQ, high, NEXT, ge ? miss : holds);
	load(a, off + LOW_HALF);
	if (ge)
		jump_if(a, BPF_JGE, low, NEXT, miss);
	else
		jump_if(a, BPF_JGT, low, miss, NEXT);
	place(a, holds);
}

/* Goes on when the syscall instruction lay inside the stub's code, else
 * returns TRAP: a syscall from elsewhere is the app's. */
static void from_stub_or_trap(struct bpf_asm *a, const struct ptp_bpf_spec *s)
{
	uint32_t elsewhere = new_label(a), inside = new_label(a);

	cmp64(a, OFF_IP, PTP_BPF_GE, s->code_lo + ARCH_SYSCALL_INSN_LEN, elsewhere);
	cmp64(a, OFF_IP, PTP_BPF_LE, s->code_hi + 1, elsewhere);
	jump(a, inside);
	place(a, elsewhere);
	ret(a, SECCOMP_RET_TRAP);
	place(a, inside);
}

static void rule(struct bpf_asm *a, const struct ptp_bpf_rule *r)
{
	uint32_t next_rule = new_label(a);

	load(a, OFF_NR);
	jump_if(a, BPF_JEQ, (uint32_t)r->nr, NEXT, next_rule);
	for (unsigned int i = 0; i < r->nargs; i++)
		cmp64(a, OFF_ARG(r->arg[i].idx), r->arg[i].cmp, r->arg[i].val, next_rule);
	ret(a, SECCOMP_RET_ALLOW);
	place(a, next_rule);
}

static void program(struct bpf_asm *a, const struct ptp_bpf_spec *s)
{
	uint32_t foreign = new_label(a), native = new_label(a);

	load(a, OFF_ARCH);
	if (ARCH_X32_SYSCALL_BIT != 0) {
		jump_if(a, BPF_JEQ, ARCH_AUDIT_NATIVE, NEXT, foreign);
		load(a, OFF_NR);
		jump_if(a, BPF_JSET, ARCH_X32_SYSCALL_BIT, foreign, native);
	} else {
		jump_if(a, BPF_JEQ, ARCH_AUDIT_NATIVE, native, foreign);
	}

	place(a, foreign);
	from_stub_or_trap(a, s);
	ret(a, s->in_range_miss);

	place(a, native);
	from_stub_or_trap(a, s);
	for (size_t i = 0; i < s->nrules; i++)
		rule(a, &s->rules[i]);
	ret(a, s->in_range_miss);
}

static bool spec_valid(const struct ptp_bpf_spec *s)
{
	if (s->in_range_miss != SECCOMP_RET_KILL_PROCESS &&
	    s->in_range_miss != SECCOMP_RET_KILL_THREAD &&
	    s->in_range_miss != SECCOMP_RET_TRAP)
		return false;
	/* code_hi + 1 is compared, and the range holds at least one syscall
	 * instruction. */
	if (s->code_hi == UINT64_MAX || s->code_lo > s->code_hi ||
	    s->code_hi - s->code_lo + 1 < ARCH_SYSCALL_INSN_LEN)
		return false;
	if (s->nrules && !s->rules)
		return false;
	for (size_t i = 0; i < s->nrules; i++) {
		const struct ptp_bpf_rule *r = &s->rules[i];

		/* seccomp_data.nr is 32 bits, and a number with the x32 bit
		 * belongs to another table, which no rule may allow. */
		if (r->nr < 0 || r->nr > INT32_MAX ||
		    ((uint32_t)r->nr & ARCH_X32_SYSCALL_BIT) ||
		    r->nargs > PTP_BPF_MAX_ARGS)
			return false;
		for (unsigned int j = 0; j < r->nargs; j++)
			if (r->arg[j].idx >= PTP_BPF_MAX_ARGS ||
			    (r->arg[j].cmp != PTP_BPF_EQ && r->arg[j].cmp != PTP_BPF_LE &&
			     r->arg[j].cmp != PTP_BPF_GE))
				return false;
	}
	return true;
}

int ptp_bpf_build(const struct ptp_bpf_spec *spec, struct sock_fprog *out)
{
	struct bpf_asm *a;
	int rc;

	if (!spec || !out || !spec_valid(spec))
		return -EINVAL;
	/* Too large for the stack (about 150 KiB). */
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	program(a, spec);
	rc = a->err ? a->err : resolve(a);
	if (rc == 0) {
		out->filter = malloc(a->len * sizeof(a->insn[0]));
		if (out->filter) {
			memcpy(out->filter, a->insn, a->len * sizeof(a->insn[0]));
			out->len = (unsigned short)a->len;
		} else {
			rc = -ENOMEM;
		}
	}
	free(a);
	return rc;
}
