/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The README's "core API in brief", made a complete program: open a
 * platform, map a page of app code into a fresh address space, run it in a
 * context until its first syscall, answer that syscall in the tracer, and
 * run on to the next one. Build it against an installed libptplat:
 *
 *   cc api.c $(pkg-config --cflags --libs ptplat) -o api && ./api [faithful|lean]
 *
 * Exit status: 0 when the app's getpid was intercepted and answered, 1 when
 * the platform failed, 2 for a bad argument.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ptplat.h>

#define APP_ADDR 0x10000000ul
#define FAKE_PID 4242

/* The app: getpid in a loop, as machine code. */
#if defined(__x86_64__)
static const unsigned char app_code[] = {
	0xb8, SYS_getpid, 0x00, 0x00, 0x00, /* mov $SYS_getpid, %eax */
	0x0f, 0x05,                         /* syscall */
	0xeb, 0xf7,                         /* jmp to the mov */
};
#elif defined(__aarch64__)
static const unsigned int app_code[] = {
	0xd2800008u | (SYS_getpid << 5), /* mov x8, #SYS_getpid */
	0xd4000001u,                     /* svc #0 */
	0x17fffffeu,                     /* b to the mov */
};
#else
#error the example needs app code for your machine type
#endif

static int fail(const char *what, int rc)
{
	fprintf(stderr, "api: %s: %s\n", what, strerror(-rc));
	return 1;
}

/* One switch that must stop at the app's getpid. */
static int run_to_getpid(struct ptp_ctx *ctx, struct ptp_as *as)
{
	struct ptp_event ev;
	int rc = ptp_switch(ctx, as, &ev);

	if (rc < 0)
		return fail("ptp_switch", rc);
	if (ev.kind != PTP_EV_SYSCALL || ev.nr != SYS_getpid) {
		fprintf(stderr, "api: expected the app's getpid, got event %d nr %ld\n",
			(int)ev.kind, ev.nr);
		return 1;
	}
	printf("api: intercepted getpid (syscall %ld, %s ABI), answered %d\n", ev.nr,
	       ptp_syscall_abi_name(ev.abi), FAKE_PID);
	ptp_ctx_set_result(ctx, FAKE_PID);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int v = ptp_version();
	struct ptp_options o;
	struct ptp_platform *p;
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	int memfd, rc, status = 1;

	if (argc > 2) {
		fprintf(stderr, "usage: api [faithful|lean]\n");
		return 2;
	}
	printf("api: libptplat %u.%u.%u, built with ptplat.h %d.%d.%d\n", v >> 16,
	       (v >> 8) & 0xff, v & 0xff, PTP_VERSION_MAJOR, PTP_VERSION_MINOR,
	       PTP_VERSION_PATCH);
	if (v < PTP_VERSION) {
		fprintf(stderr, "api: the library is older than the header\n");
		return 1;
	}

	ptp_options_default(&o); /* faithful mode, pinning on, pool of 8 */
	if (argc == 2 && ptp_mode_parse(argv[1], &o.mode) < 0) {
		fprintf(stderr, "api: unknown mode '%s' (faithful or lean)\n", argv[1]);
		return 2;
	}
	rc = ptp_open(&o, &p); /* -EPERM: ptrace denied; -ENOSYS: no SYSEMU */
	if (rc < 0) {
		fprintf(stderr, "api: ptp_open: %s\n", ptp_open_error());
		return 1;
	}

	/* The app's code, in a memfd the stub maps (the fd is this process's). */
	memfd = memfd_create("api-app", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, getpagesize()) < 0 ||
	    pwrite(memfd, app_code, sizeof(app_code), 0) != (ssize_t)sizeof(app_code)) {
		perror("api: memfd");
		goto out_close;
	}

	rc = ptp_as_new(p, &as); /* a stub process holding only the stub */
	if (rc < 0) {
		fail("ptp_as_new", rc);
		goto out_fd;
	}
	rc = ptp_as_map(as, APP_ADDR, (size_t)getpagesize(), PROT_READ | PROT_EXEC,
			memfd, 0, 0);
	if (rc < 0) {
		fail("ptp_as_map", rc);
		goto out_as;
	}

	rc = ptp_ctx_new(p, &ctx); /* registers + fault record + interrupts */
	if (rc < 0) {
		fail("ptp_ctx_new", rc);
		goto out_as;
	}
	ptp_ctx_set_ip(ctx, APP_ADDR);
	/* The first getpid, answered; the app loops to the second. */
	if (run_to_getpid(ctx, as) == 0 && run_to_getpid(ctx, as) == 0) {
		printf("api: ok (%s mode)\n", ptp_mode_name(o.mode));
		status = 0;
	}
	ptp_ctx_free(ctx);
out_as:
	ptp_as_release(as);
out_fd:
	close(memfd);
out_close:
	ptp_close(p);
	return status;
}
