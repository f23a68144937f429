/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X-macro list of the hostile seeds: SEED(symbol, escapes_without_sysemu).
 * The assembly for each arch (arch/<arch>/seeds.S) defines
 * fz_seed_<symbol>_start and _end; a seed an arch cannot express is empty.
 * escapes_without_sysemu says the positive control (the core resuming with
 * PTRACE_CONT) must report this seed as an escape: it makes a host syscall
 * the stub filter kills, or one it allows whose effect an oracle sees.
 */
SEED(fork, 1)                 /* fork / clone(SIGCHLD): killed by the filter */
SEED(clone_process, 1)        /* clone with the core's own flags: allowed */
SEED(clone_thread, 1)         /* a new thread in the stub: allowed */
SEED(ptrace_traceme, 1)
SEED(kill_all_sigkill, 1)     /* kill(-1, SIGKILL) */
SEED(kill_all_sigstop, 1)     /* kill(-1, SIGSTOP): allowed by the filter */
SEED(kill_tracer_sigstop, 1)  /* kill(tracer, SIGSTOP): allowed */
SEED(mmap_canary_file, 1)     /* MAP_SHARED the tracer's canary fd, write */
SEED(write_canary_pipe, 1)
SEED(create_file, 1)          /* open(O_CREAT) in the tracer's cwd */
SEED(munmap_stub, 1)          /* allowed: the stub vanishes */
SEED(mprotect_stub, 1)
SEED(mprotect_straddle, 1)    /* [stub - 4 KiB, stub + 4 KiB): the filter's
				 bound, not just "addr >= stub", kills it */
SEED(stub_syscall_jump, 1)    /* the stub's own syscall insn, crafted regs */
SEED(sigreturn_forged, 1)     /* rt_sigreturn over a forged frame */
SEED(exit_thread, 1)
SEED(exit_group, 1)
SEED(int80_fork, 1)           /* x86_64: the i386 ABI's fork */
SEED(vsyscall_time, 0)        /* x86_64: trapped by the filter either way */
SEED(vsyscall_gettimeofday, 0)
SEED(x7_kick, 1)              /* arm64: a syscall with x7 crafted */
/* Regressions of what the fuzzer found (x86_64); no host syscall. */
SEED(null_selector, 0)        /* ds = 1, then a syscall: ptrace refused it */
SEED(compat_mode, 0)          /* lret to the 32-bit code segment */
