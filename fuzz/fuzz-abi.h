/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fuzzer's address-space layout, shared by the seed assembly and the
 * engine. Every execution sees the same layout: code at FZ_CODE (read+exec),
 * a data page at FZ_DATA whose first words are hints a hostile payload would
 * love to know, and a stack below FZ_STACK + FZ_STACK_SIZE.
 */
#ifndef FUZZ_ABI_H
#define FUZZ_ABI_H

#define FZ_CODE 0x10000000
#define FZ_CODE_SIZE 4096
#define FZ_DATA 0x20000000
#define FZ_DATA_SIZE 4096
#define FZ_STACK 0x30000000
#define FZ_STACK_SIZE 16384

/* Hints at FZ_DATA: the stub's range and the pids around the app. */
#define FZ_HINT_STUB_START 0
#define FZ_HINT_STUB_END 8
#define FZ_HINT_TRACER_PID 16
#define FZ_HINT_MASTER_PID 24
/* systrap: the app thread's shared page (stub/systrap-abi.h); 0 on ptrace. */
#define FZ_HINT_SHARED 32

/* Canary fds of the tracer, at fixed numbers so seeds can name them. Stubs
 * share the tracer's fd table (CLONE_FILES), so these are theirs too. */
#define FZ_FD_CANARY_PIPE 200
#define FZ_FD_CANARY_FILE 201

/* The core's clone flags for a new address space (CLONE_FILES | SIGCHLD),
 * which the stub filter allows. */
#define FZ_CLONE_AS_FLAGS 0x411
/* CLONE_FILES|CLONE_FS|CLONE_SIGHAND|CLONE_THREAD|CLONE_PTRACE|CLONE_VM */
#define FZ_CLONE_THREAD_FLAGS 0x12f00

#endif /* FUZZ_ABI_H */
