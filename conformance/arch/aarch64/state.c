/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arm64 reference for the state cases (contract: conformance/arch/arch.h):
 * execve's start_thread (arch/arm64/include/asm/processor.h) zeroes every
 * register; FP state (struct user_fpsimd_state): v0-v31 at 0, FPSR at
 * 512, FPCR at 516.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/state-bytes.h"
#include "payload-abi.h"

#define NGPR 32 /* x0-x30, sp */
#define FP_VREGS_BYTES 512
#define FP_FPSR 512
#define FP_FPCR 516
#define FP_BYTES 520 /* what the kernel defines: vregs, FPSR, FPCR */
#define NZCV_MASK 0xf0000000ull
/* FPCR.RMode = round toward zero; FPSR.QC. */
#define FPCR_MARK 0x00c00000u
#define FPSR_MARK 0x08000000u
#define VREG_MARK(reg, byte) ((unsigned char)(0xa5 ^ ((reg) * 16 + (byte))))

const char *af_check_init_fp(const unsigned char *fp, size_t fp_size, bool every_byte)
{
	(void)every_byte; /* no header: every byte is a register */
	if (fp_size < FP_BYTES)
		return snprintf(why, sizeof(why), "FP state of %zu bytes", fp_size), why;
	for (size_t i = 0; i < FP_VREGS_BYTES; i++)
		if (fp[i])
			return snprintf(why, sizeof(why), "v%zu not 0", i / 16), why;
	if (u32_at(fp, FP_FPSR) || u32_at(fp, FP_FPCR))
		return snprintf(why, sizeof(why), "FPSR %#x, FPCR %#x, want 0",
				u32_at(fp, FP_FPSR), u32_at(fp, FP_FPCR)), why;
	return NULL;
}

const char *af_check_init_dump(const unsigned char *dump, size_t fp_size)
{
	for (unsigned int i = 0; i < NGPR; i++) {
		char name[8];

		if (i < 31)
			snprintf(name, sizeof(name), "x%u", i);
		else
			snprintf(name, sizeof(name), "sp");
		if (u64_at(dump, 8 * i))
			return snprintf(why, sizeof(why), "%s = %#lx, want 0", name,
					(unsigned long)u64_at(dump, 8 * i)), why;
	}
	if (u64_at(dump, PAYLOAD_DUMP_FLAGS) & NZCV_MASK)
		return snprintf(why, sizeof(why), "NZCV %#lx, want 0",
				(unsigned long)u64_at(dump, PAYLOAD_DUMP_FLAGS)), why;
	if (u64_at(dump, PAYLOAD_DUMP_FLAGS + 8))
		return snprintf(why, sizeof(why), "TPIDR_EL0 %#lx, want 0",
				(unsigned long)u64_at(dump, PAYLOAD_DUMP_FLAGS + 8)), why;
	return af_check_init_fp(dump + PAYLOAD_DUMP_FP, fp_size, false);
}

/* TPIDR_EL0 is in the record itself. */
bool af_dump_has_bases(void)
{
	return false;
}

const char *af_check_dump_bases(const unsigned char *dump)
{
	(void)dump;
	return NULL;
}

void af_fp_mark(unsigned char *fp, size_t fp_size)
{
	uint32_t fpsr = FPSR_MARK, fpcr = FPCR_MARK;

	(void)fp_size;
	for (unsigned int r = 0; r < 32; r++)
		for (unsigned int b = 0; b < 16; b++)
			fp[16 * r + b] = VREG_MARK(r, b);
	memcpy(fp + FP_FPSR, &fpsr, sizeof(fpsr));
	memcpy(fp + FP_FPCR, &fpcr, sizeof(fpcr));
}

const char *af_check_fp_marked(const unsigned char *fp, size_t fp_size)
{
	(void)fp_size;
	for (unsigned int r = 0; r < 32; r++)
		for (unsigned int b = 0; b < 16; b++)
			if (fp[16 * r + b] != VREG_MARK(r, b))
				return snprintf(why, sizeof(why), "v%u byte %u", r, b), why;
	if (u32_at(fp, FP_FPSR) != FPSR_MARK || u32_at(fp, FP_FPCR) != FPCR_MARK)
		return snprintf(why, sizeof(why), "FPSR %#x FPCR %#x, want %#x %#x",
				u32_at(fp, FP_FPSR), u32_at(fp, FP_FPCR), FPSR_MARK,
				FPCR_MARK), why;
	return NULL;
}

/* The kernel takes any fpsimd content of the right size. */
unsigned int af_fp_corruptions(void)
{
	return 0;
}

const char *af_fp_corrupt(unsigned int k, unsigned char *fp, size_t fp_size)
{
	(void)k;
	(void)fp;
	(void)fp_size;
	return NULL;
}
