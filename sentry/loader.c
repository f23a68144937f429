/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The static-ELF loader: ET_EXEC and static-pie ET_DYN, no interpreter,
 * no vDSO. The initial stack is laid out as the kernel's create_elf_tables
 * does: argc, argv, NULL, envp, NULL, auxv, then the strings above.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/arch.h"
#include "sentry.h"

#define STACK_SIZE (8ul << 20)
/* Between the stack and the highest mmap(NULL) placement. */
#define STACK_GAP (128ul << 20)
/* The stub sits at the top of user space; keep the stack clear of it. */
#define TOP_GAP (1ul << 20)
#define MAX_ARG_BYTES (2ul << 20)

static int fail(char *err, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return code;
}

static int prot_of(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

/* Reads the whole file; 0 or -errno. */
static int slurp(int fd, uint8_t **data, size_t *size)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	*data = malloc((size_t)st.st_size + 1);
	if (!*data)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, *data + got, (size_t)st.st_size - got, (off_t)got);

		if (n <= 0) {
			free(*data);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	*size = got;
	return 0;
}

struct stack_builder {
	uint8_t *buf;   /* the stack's top bytes, built here then copied */
	size_t size, used; /* used: bytes taken from the top */
	uintptr_t top;  /* app address of buf + size */
};

/* Pushes n bytes (strings and random bytes) below what is there; the app
 * address or 0 when the area is full. */
static uintptr_t push(struct stack_builder *sb, const void *p, size_t n)
{
	if (sb->used + n > sb->size)
		return 0;
	sb->used += n;
	memcpy(sb->buf + sb->size - sb->used, p, n);
	return sb->top - sb->used;
}

static size_t count(char *const v[])
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static int build_stack(struct sn_mm *mm, uintptr_t *sp_out, char *const argv[],
		       char *const envp[], const char *execfn, const uint64_t *aux, size_t naux)
{
	size_t argc = count(argv), envc = count(envp), nptr;
	struct stack_builder sb = { .size = MAX_ARG_BYTES + SN_PAGE };
	uintptr_t *ptrs, sp, exec_at, plat_at = 0, rnd_at;
	uint8_t rnd[16];
	const char *platform = (const char *)getauxval(AT_PLATFORM);
	int err = -E2BIG;

	sb.top = mm->mmap_top + STACK_GAP + STACK_SIZE;
	sb.buf = calloc(1, sb.size);
	nptr = 1 + argc + 1 + envc + 1 + naux;
	ptrs = calloc(nptr, sizeof(*ptrs));
	if (!sb.buf || !ptrs) {
		err = -ENOMEM;
		goto out;
	}
	/* The kernel's order from the top: execfn, envp and argv strings,
	 * platform, random bytes. */
	exec_at = push(&sb, execfn, strlen(execfn) + 1);
	ptrs[0] = argc;
	for (size_t i = envc; i-- > 0;)
		if (!(ptrs[1 + argc + 1 + i] = push(&sb, envp[i], strlen(envp[i]) + 1)))
			goto out;
	for (size_t i = argc; i-- > 0;)
		if (!(ptrs[1 + i] = push(&sb, argv[i], strlen(argv[i]) + 1)))
			goto out;
	if (platform)
		plat_at = push(&sb, platform, strlen(platform) + 1);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		err = -errno;
		goto out;
	}
	rnd_at = push(&sb, rnd, sizeof(rnd));
	if (!exec_at || !rnd_at)
		goto out;
	memcpy(&ptrs[1 + argc + 1 + envc + 1], aux, naux * sizeof(*aux));
	for (size_t i = 0; i + 1 < naux; i += 2) {
		uintptr_t *val = &ptrs[1 + argc + 1 + envc + 1 + i + 1];

		if (aux[i] == AT_EXECFN)
			*val = exec_at;
		else if (aux[i] == AT_PLATFORM)
			*val = plat_at;
		else if (aux[i] == AT_RANDOM)
			*val = rnd_at;
	}
	sp = (sb.top - sb.used - nptr * sizeof(*ptrs)) & ~(uintptr_t)15;
	if (sb.top - sp > sb.size)
		goto out;
	memcpy(sb.buf + sb.size - (sb.top - sp), ptrs, nptr * sizeof(*ptrs));
	err = sn_copy_out(mm, sp, sb.buf + sb.size - (sb.top - sp), sb.top - sp);
	*sp_out = sp;
out:
	free(sb.buf);
	free(ptrs);
	return err;
}

int sn_load(struct sn_mm *mm, struct ptp_ctx *ctx, const char *path, int dirfd,
	    char *const argv[], char *const envp[], char *err, size_t errlen)
{
	uintptr_t max = ptp_max_user_address(sn.plat), bias = 0, end = 0, phdr_at = 0;
	uintptr_t mapped_end = 0, stack_top, sp = 0;
	uint8_t *data = NULL;
	size_t size = 0;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	int fd, rc;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	rc = slurp(fd, &data, &size);
	close(fd);
	if (rc < 0)
		return fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	eh = (const Elf64_Ehdr *)data;
	rc = -ENOEXEC;
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		fail(err, errlen, rc, "%s: not an ELF file", path);
		goto out;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != sn_arch_elf_machine) {
		fail(err, errlen, rc, "%s: not a 64-bit %s ELF program", path, sn_arch_name);
		goto out;
	}
	if ((eh->e_type != ET_EXEC && eh->e_type != ET_DYN) || eh->e_phentsize != sizeof(*ph) ||
	    eh->e_phoff > size || eh->e_phnum > (size - eh->e_phoff) / sizeof(*ph)) {
		fail(err, errlen, rc, "%s: bad ELF header or program headers", path);
		goto out;
	}
	ph = (const Elf64_Phdr *)(data + eh->e_phoff);
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP) {
			fail(err, errlen, rc,
			     "%s: dynamically linked (PT_INTERP): the sentry runs static programs only",
			     path);
			goto out;
		}
	}
	/* Static-pie goes where the kernel puts ET_DYN programs. */
	if (eh->e_type == ET_DYN)
		bias = SN_PAGE_DOWN(max / 3 * 2);
	/* No app thread runs in mm yet: its mappings go in one round trip
	 * (the segments are filled through the sentry's view meanwhile). */
	sn_mm_batch_begin(mm);
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		uintptr_t s, e;

		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		if (ph[i].p_filesz > ph[i].p_memsz || ph[i].p_offset > size ||
		    ph[i].p_filesz > size - ph[i].p_offset) {
			fail(err, errlen, rc, "%s: segment %u lies outside the file", path, i);
			goto out;
		}
		s = SN_PAGE_DOWN(ph[i].p_vaddr + bias);
		e = SN_PAGE_UP(ph[i].p_vaddr + bias + ph[i].p_memsz);
		/* A page shared with the previous segment keeps its mapping. */
		if (s < mapped_end)
			s = mapped_end;
		if (s < e && (rc = sn_mm_map(mm, s, e - s, prot_of(ph[i].p_flags))) < 0) {
			fail(err, errlen, rc, "%s: mapping segment %u at %#lx: %s", path, i,
			     (unsigned long)s, strerror(-rc));
			goto out;
		}
		rc = sn_copy_out_any(mm, ph[i].p_vaddr + bias, data + ph[i].p_offset,
				     ph[i].p_filesz);
		if (rc < 0) {
			fail(err, errlen, rc, "%s: copying segment %u: %s", path, i, strerror(-rc));
			goto out;
		}
		if (eh->e_phoff >= ph[i].p_offset &&
		    eh->e_phoff - ph[i].p_offset < ph[i].p_filesz)
			phdr_at = ph[i].p_vaddr + bias + (eh->e_phoff - ph[i].p_offset);
		if (e > mapped_end)
			mapped_end = e;
		if (e > end)
			end = e;
	}
	rc = -ENOEXEC;
	if (!end) {
		fail(err, errlen, rc, "%s: no loadable segment", path);
		goto out;
	}
	mm->brk_start = mm->brk_cur = mm->brk_mapped = end;
	stack_top = SN_PAGE_DOWN(max - TOP_GAP);
	mm->mmap_top = stack_top - STACK_SIZE - STACK_GAP;
	rc = sn_mm_map(mm, stack_top - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE);
	if (rc < 0) {
		fail(err, errlen, rc, "%s: mapping the stack: %s", path, strerror(-rc));
		goto out;
	}
	{
		const uint64_t aux[] = {
			AT_PHDR, phdr_at,
			AT_PHENT, sizeof(*ph),
			AT_PHNUM, eh->e_phnum,
			AT_PAGESZ, SN_PAGE,
			AT_BASE, 0,
			AT_FLAGS, 0,
			AT_ENTRY, eh->e_entry + bias,
			AT_UID, getuid(),
			AT_EUID, geteuid(),
			AT_GID, getgid(),
			AT_EGID, getegid(),
			AT_SECURE, 0,
			AT_HWCAP, getauxval(AT_HWCAP),
			AT_HWCAP2, getauxval(AT_HWCAP2),
			AT_CLKTCK, (uint64_t)sysconf(_SC_CLK_TCK),
			AT_RANDOM, 0,
			AT_PLATFORM, 0,
			AT_EXECFN, 0,
#ifdef AT_MINSIGSTKSZ
			AT_MINSIGSTKSZ, getauxval(AT_MINSIGSTKSZ),
#endif
			AT_NULL, 0,
		};

		rc = build_stack(mm, &sp, argv, envp, path, aux, sizeof(aux) / sizeof(aux[0]));
	}
	if (rc < 0) {
		fail(err, errlen, rc, "%s: building the initial stack: %s", path, strerror(-rc));
		goto out;
	}
	if ((rc = sn_mm_batch_end(mm)) < 0) {
		fail(err, errlen, rc, "%s: mapping the program into the address space: %s", path,
		     strerror(-rc));
		goto out;
	}
	/* What execve gives a thread: nothing of the context's past (a
	 * reused one, or the tracer's) in any register. */
	ptp_ctx_reset(ctx);
	ptp_ctx_set_ip(ctx, eh->e_entry + bias);
	ptp_ctx_set_sp(ctx, sp);
	rc = 0;
out:
	/* On an error what is still queued stays so: the caller discards
	 * mm (sn_mm_free drops the queue). */
	free(data);
	return rc;
}
