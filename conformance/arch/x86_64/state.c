/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86_64 reference for the state cases (contract: conformance/arch/arch.h):
 * execve's start_thread (arch/x86/kernel/process_64.c) and the SDM's XSAVE
 * layout and init states.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include "arch/arch.h"
#include "arch/state-bytes.h"
#include "payload-abi.h"

#define NGPR 16
#define EFLAGS_EXECVE 0x202ull /* IF and the fixed bit 1 */
#define FCW_INIT 0x37f
#define MXCSR_INIT 0x1f80
#define XSAVE_HEADER 512
#define XSAVE_HEADER_END 576
#define XFEATURE_X87 0
#define XFEATURE_SSE 1
#define XFEATURE_AVX 2
#define XFEATURE_PKRU 9
#define NXFEATURES 64
#define HWCAP2_FSGSBASE_BIT (1ul << 1)

static bool all_zero(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Where XSAVE component i lies in the standard format. */
static void xfeature_place(unsigned int i, size_t *off, size_t *size)
{
	unsigned int a, b, c, d;

	__cpuid_count(0xd, i, a, b, c, d);
	*size = a;
	*off = b;
}

static uint32_t own_pkru(void)
{
	uint32_t eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

const char *af_check_init_fp(const unsigned char *fp, size_t fp_size, bool every_byte)
{
	uint64_t bv = fp_size > XSAVE_HEADER ? u64_at(fp, XSAVE_HEADER) : 3;

	/* Bytes of a component in its init state hold its init values too:
	 * every feature the area holds (the kernel's software bytes). */
	if (every_byte)
		bv = fp_size > XSAVE_HEADER ? u64_at(fp, 464 + 8) | 3 : 3;

	if (u32_at(fp, 24) != MXCSR_INIT)
		return snprintf(why, sizeof(why), "MXCSR %#x, want %#x", u32_at(fp, 24),
				MXCSR_INIT), why;
	if (bv & (1ull << XFEATURE_X87)) {
		if (u16_at(fp, 0) != FCW_INIT)
			return snprintf(why, sizeof(why), "FCW %#x, want %#x",
					u16_at(fp, 0), FCW_INIT), why;
		/* FSW, abridged FTW, FOP, FIP, FDP; then st0-7. */
		if (!all_zero(fp + 2, 22) || !all_zero(fp + 32, 128))
			return snprintf(why, sizeof(why), "x87 state not in its init state"), why;
	}
	if ((bv & (1ull << XFEATURE_SSE)) && !all_zero(fp + 160, 256))
		return snprintf(why, sizeof(why), "xmm registers not 0"), why;
	if (fp_size <= XSAVE_HEADER)
		return NULL;
	for (unsigned int i = XFEATURE_AVX; i < NXFEATURES; i++) {
		size_t off, size;

		if (!(bv & (1ull << i)))
			continue;
		xfeature_place(i, &off, &size);
		if (off + size > fp_size)
			return snprintf(why, sizeof(why), "xstate_bv bit %u beyond the area", i),
			       why;
		/* A fresh process's PKRU is the kernel's default, which this
		 * test process also started with. */
		if (i == XFEATURE_PKRU && every_byte &&
		    !(u64_at(fp, XSAVE_HEADER) & (1ull << XFEATURE_PKRU)))
			continue; /* not set: the kernel's 0 would not be a default */
		if (i == XFEATURE_PKRU) {
			if (u32_at(fp, off) != own_pkru())
				return snprintf(why, sizeof(why), "PKRU %#x, want %#x (ours)",
						u32_at(fp, off), own_pkru()), why;
			continue;
		}
		if (!all_zero(fp + off, size))
			return snprintf(why, sizeof(why),
					"XSAVE component %u in use and not 0", i), why;
	}
	return NULL;
}

const char *af_check_init_dump(const unsigned char *dump, size_t fp_size)
{
	static const char *const names[NGPR] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};

	for (unsigned int i = 0; i < NGPR; i++)
		if (u64_at(dump, 8 * i))
			return snprintf(why, sizeof(why), "%s = %#lx, want 0", names[i],
					(unsigned long)u64_at(dump, 8 * i)), why;
	if (u64_at(dump, PAYLOAD_DUMP_FLAGS) != EFLAGS_EXECVE)
		return snprintf(why, sizeof(why), "rflags %#lx, want %#llx",
				(unsigned long)u64_at(dump, PAYLOAD_DUMP_FLAGS),
				EFLAGS_EXECVE), why;
	return af_check_init_fp(dump + PAYLOAD_DUMP_FP, fp_size, false);
}

bool af_dump_has_bases(void)
{
	return getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE_BIT;
}

const char *af_check_dump_bases(const unsigned char *dump)
{
	if (u64_at(dump, PAYLOAD_DUMP_FLAGS + 8) || u64_at(dump, PAYLOAD_DUMP_FLAGS + 16))
		return snprintf(why, sizeof(why), "fs_base %#lx, gs_base %#lx, want 0",
				(unsigned long)u64_at(dump, PAYLOAD_DUMP_FLAGS + 8),
				(unsigned long)u64_at(dump, PAYLOAD_DUMP_FLAGS + 16)), why;
	return NULL;
}

/* Precision 53 bits; round toward zero, all exceptions masked. */
#define FCW_MARK 0x27f
#define MXCSR_MARK 0x7f80
#define VREG_MARK(reg, byte) ((unsigned char)(0xa5 ^ ((reg) * 16 + (byte))))
#define YMM_MARK(reg, byte) ((unsigned char)(0x5a ^ ((reg) * 16 + (byte))))

/* Whether the area holds AVX state: XCR0 (the features the kernel
 * enabled) has it, and it fits. Not the image's software bytes, which an
 * app's own XSAVE does not write. */
static bool has_avx(const unsigned char *fp, size_t fp_size)
{
	uint32_t lo, hi;
	size_t off, size;

	(void)fp;
	if (fp_size <= XSAVE_HEADER_END)
		return false;
	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if (!(lo & (1u << XFEATURE_AVX)))
		return false;
	xfeature_place(XFEATURE_AVX, &off, &size);
	return off + size <= fp_size;
}

void af_fp_mark(unsigned char *fp, size_t fp_size)
{
	uint16_t fcw = FCW_MARK;
	uint32_t mxcsr = MXCSR_MARK;

	memcpy(fp, &fcw, sizeof(fcw));
	memcpy(fp + 24, &mxcsr, sizeof(mxcsr));
	for (unsigned int r = 0; r < 16; r++)
		for (unsigned int b = 0; b < 16; b++)
			fp[160 + 16 * r + b] = VREG_MARK(r, b);
	if (fp_size > XSAVE_HEADER) {
		uint64_t bv = u64_at(fp, XSAVE_HEADER) | 1ull << XFEATURE_X87 |
			      1ull << XFEATURE_SSE;

		if (has_avx(fp, fp_size)) {
			size_t off, size;

			xfeature_place(XFEATURE_AVX, &off, &size);
			for (unsigned int r = 0; r < 16; r++)
				for (unsigned int b = 0; b < 16; b++)
					fp[off + 16 * r + b] = YMM_MARK(r, b);
			bv |= 1ull << XFEATURE_AVX;
		}
		memcpy(fp + XSAVE_HEADER, &bv, sizeof(bv));
	}
}

const char *af_check_fp_marked(const unsigned char *fp, size_t fp_size)
{
	if (u16_at(fp, 0) != FCW_MARK)
		return snprintf(why, sizeof(why), "FCW %#x, want %#x", u16_at(fp, 0),
				FCW_MARK), why;
	if (u32_at(fp, 24) != MXCSR_MARK)
		return snprintf(why, sizeof(why), "MXCSR %#x, want %#x", u32_at(fp, 24),
				MXCSR_MARK), why;
	for (unsigned int r = 0; r < 16; r++)
		for (unsigned int b = 0; b < 16; b++)
			if (fp[160 + 16 * r + b] != VREG_MARK(r, b))
				return snprintf(why, sizeof(why), "xmm%u byte %u", r, b), why;
	if (fp_size > XSAVE_HEADER && has_avx(fp, fp_size)) {
		size_t off, size;

		if (!(u64_at(fp, XSAVE_HEADER) & (1ull << XFEATURE_AVX)))
			return snprintf(why, sizeof(why), "AVX state in its init state"), why;
		xfeature_place(XFEATURE_AVX, &off, &size);
		for (unsigned int r = 0; r < 16; r++)
			for (unsigned int b = 0; b < 16; b++)
				if (fp[off + 16 * r + b] != YMM_MARK(r, b))
					return snprintf(why, sizeof(why),
							"ymm%u upper half byte %u", r, b), why;
	}
	return NULL;
}

/* Each one the kernel's xstateregs_set/xfpregs_set refuses. */
unsigned int af_fp_corruptions(void)
{
	return 4;
}

const char *af_fp_corrupt(unsigned int k, unsigned char *fp, size_t fp_size)
{
	uint64_t v;
	uint32_t mxcsr;

	if (k > 0 && fp_size <= XSAVE_HEADER)
		k = 0; /* FXSAVE only: MXCSR is all there is to get wrong */
	switch (k) {
	case 0:
		/* Bit 16 and up are reserved in MXCSR on every CPU so far. */
		mxcsr = u32_at(fp, 24) | 1u << 31;
		memcpy(fp + 24, &mxcsr, sizeof(mxcsr));
		return "MXCSR reserved bit";
	case 1:
		v = u64_at(fp, XSAVE_HEADER) | 1ull << 63;
		memcpy(fp + XSAVE_HEADER, &v, sizeof(v));
		return "xstate_bv with an unknown feature";
	case 2:
		v = 1ull << 63 | 3;
		memcpy(fp + XSAVE_HEADER + 8, &v, sizeof(v));
		return "compacted format (xcomp_bv)";
	default:
		fp[XSAVE_HEADER + 16 + 47] = 1;
		return "reserved header byte";
	}
}
