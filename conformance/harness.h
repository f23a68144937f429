/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The conformance harness: every case runs in a forked child (a crash is one
 * failure), cmocka's assertions inside it, and the TAP lines written here
 * (Debian's cmocka 1.1.5 writes skips in a form meson counts as failures, and
 * its skip() carries no reason). Run as: conf-GROUP MODE [CASE]; conf-GROUP
 * --list names the cases.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/types.h>

#include "ptplat.h"
#include "payloads.h"

struct hcase {
	const char *name;
	void (*fn)(void);
};

#define HCASE(fn) { #fn, fn }

/* The switch mode this run tests, and the backend (H_BACKEND in the
 * environment, else ptrace): h_open and h_setup open that. */
extern enum ptp_switch_mode h_mode;
extern enum ptp_backend h_backend;

/* group_skip: NULL, or a function returning NULL or why the whole group
 * cannot run here. */
int harness_main(int argc, char **argv, const char *group,
		 const struct hcase *cases, size_t ncases,
		 const char *(*group_skip)(void));

/* Ends the running case as skipped, with the reason. */
__attribute__((noreturn, format(printf, 1, 2))) void h_skip(const char *fmt, ...);
/* A diagnostic line in the TAP output. */
__attribute__((format(printf, 1, 2))) void h_note(const char *fmt, ...);
/* The case cannot be leak-checked (LeakSanitizer needs ptrace and more):
 * why, as a note. Without it a passing case of an ASan build fails if it
 * leaked. */
void h_no_leak_check(const char *why);

/* Opens a platform in this run's mode (pool size as given), or fails. */
struct ptp_platform *h_open_pool(unsigned int reuse_pool);
struct ptp_platform *h_open(void);
struct ptp_as *h_as(struct ptp_platform *p);
struct ptp_ctx *h_ctx(struct ptp_platform *p);

/* Address where tests put code, data and stacks in a fresh address space. */
#define H_CODE 0x10000000ul
#define H_DATA 0x20000000ul
#define H_STACK 0x30000000ul

size_t h_page(void);
/* A memfd of len bytes; optionally filled from src. */
int h_memfd(size_t len, const void *src, size_t srclen);
/* Maps payload id at H_CODE (read+exec) and points ctx at it; skips the case
 * when the arch has no such payload. */
void h_load(struct ptp_as *as, struct ptp_ctx *ctx, enum payload_id id);
/* Maps len bytes of zeroed read-write memory at addr. */
void h_map_rw(struct ptp_as *as, uintptr_t addr, size_t len);
/* Maps a stack of pages below H_STACK + len and sets the context's SP. */
void h_stack(struct ptp_as *as, struct ptp_ctx *ctx, size_t len);

/* Maps payload id read+exec at addr; skips the case when the arch has no
 * such payload. */
void h_load_at(struct ptp_as *as, uintptr_t addr, enum payload_id id);
/* The same without cmocka (for worker threads): 0 or -errno, -ENOENT when
 * the arch has no such payload. */
int h_try_load_at(struct ptp_as *as, uintptr_t addr, enum payload_id id);
/* Skips the case when the arch has no payload id. */
void h_need_payload(enum payload_id id);

/* A platform, an address space and a context at payload id's entry. */
struct hfix {
	struct ptp_platform *p;
	struct ptp_as *as;
	struct ptp_ctx *ctx;
};
struct hfix h_setup(enum payload_id id);
void h_teardown(struct hfix *f);

/* Switches and asserts the outcome kind. */
void h_switch(struct ptp_ctx *ctx, struct ptp_as *as, struct ptp_event *ev,
	      enum ptp_event_kind kind);
const char *h_event_name(enum ptp_event_kind kind);

/* The first mapping of pid at or above from whose /proc/PID/maps line
 * contains what: true and its range, or false. */
bool h_mapping(pid_t pid, uintptr_t from, const char *what, uintptr_t *lo, uintptr_t *hi);
/* Processes whose parent is pid (0: this process), alive or zombie. */
int h_children_of(pid_t pid);
bool h_proc_exists(pid_t pid);
bool h_task_exists(pid_t pid, pid_t tid);
/* Entries of a /proc directory named by a number (tasks, fds), or -1. */
int h_count_numeric(const char *dir);
/* Threads of process pid, or -1. */
int h_task_count(pid_t pid);
/* Open fds and mappings of this process. */
int h_count_fds(void);
int h_count_maps(void);
/* Whether the tracer's own [stack] is its highest mapping ([vsyscall]
 * aside), with its range: so it is without address randomization
 * (setarch -R, norandmaps), where the kernel puts the stack at the top of
 * the address space and the platform's stub must go below it. */
bool h_stack_on_top(uintptr_t *lo, uintptr_t *hi);
long h_now_ms(void);

#endif /* HARNESS_H */
