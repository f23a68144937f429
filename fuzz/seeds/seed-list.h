/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X-macro list of the hostile seeds:
 * SEED(symbol, escapes_without_sysemu, escapes_ip_only_filter).
 * The assembly for each arch (arch/<arch>/seeds.S) defines
 * fz_seed_<symbol>_start and _end; a seed an arch cannot express is empty.
 * escapes_without_sysemu says the positive control (the core resuming with
 * PTRACE_CONT) must report this seed as an escape: it makes a host syscall
 * the stub filter kills, or one it allows whose effect an oracle sees.
 * escapes_ip_only_filter says the systrap positive control (a thread filter
 * that allows every syscall from the handler's code, ptbench-fuzz-control-
 * ip-only) must report it as an escape: the syscall also passes the stub
 * filter below, and an oracle sees its effect. The handler_* seeds find the
 * handler's syscall instructions by their bytes in the stub range (the
 * hints) and enter them with crafted registers; the page_* seeds write the
 * thread's shared page (FZ_HINT_SHARED); the sigreturn_* ones return
 * through the handler's rt_sigreturn with a forged frame.
 */
SEED(fork, 1, 0)                 /* fork / clone(SIGCHLD): killed by the filter */
SEED(clone_process, 1, 0)        /* clone with the core's own flags: allowed */
SEED(clone_thread, 1, 0)         /* a new thread in the stub: allowed */
SEED(ptrace_traceme, 1, 0)
SEED(kill_all_sigkill, 1, 0)     /* kill(-1, SIGKILL) */
SEED(kill_all_sigstop, 1, 0)     /* kill(-1, SIGSTOP): allowed by the filter */
SEED(kill_tracer_sigstop, 1, 0)  /* kill(tracer, SIGSTOP): allowed */
SEED(mmap_canary_file, 1, 0)     /* MAP_SHARED the tracer's canary fd, write */
SEED(write_canary_pipe, 1, 0)
SEED(create_file, 1, 0)          /* open(O_CREAT) in the tracer's cwd */
SEED(munmap_stub, 1, 0)          /* allowed: the stub vanishes */
SEED(mprotect_stub, 1, 0)
SEED(mprotect_straddle, 1, 0)    /* [stub - 4 KiB, stub + 4 KiB): the filter's
				 bound, not just "addr >= stub", kills it */
SEED(stub_syscall_jump, 1, 0)    /* the stub's own syscall insn, crafted regs */
SEED(sigreturn_forged, 1, 0)     /* rt_sigreturn over a forged frame */
SEED(exit_thread, 1, 0)
SEED(exit_group, 1, 0)
SEED(int80_fork, 1, 0)           /* x86_64: the i386 ABI's fork */
SEED(vsyscall_time, 0, 0)        /* x86_64: trapped by the filter either way */
SEED(vsyscall_gettimeofday, 0, 0)
SEED(x7_kick, 1, 0)              /* arm64: a syscall with x7 crafted */
/* Regressions of what the fuzzer found (x86_64); no host syscall. */
SEED(null_selector, 0, 0)        /* ds = 1, then a syscall: ptrace refused it */
SEED(compat_mode, 0, 0)          /* lret to the 32-bit code segment */
/* systrap: the app's own signal set-up, from its code (trapped). */
SEED(app_rt_sigaction, 0, 0)  /* SIGSYS to SIG_IGN */
SEED(app_rt_sigprocmask, 0, 0)/* block every signal */
SEED(app_sigaltstack, 0, 0)   /* SS_DISABLE */
SEED(raise_sigsys, 0, 0)      /* kill(0, SIGSYS) */
SEED(app_clone_thread, 0, 0)  /* clone(CLONE_VM|CLONE_THREAD...) */
/* systrap: the same from the handler's futex syscall (kills the address
 * space: a self-kill). The first four re-issue the seeds above. */
/* Not a control seed any more: a systrap address space has its own fd
 * table (the socket alone, as fd 0), so FZ_FD_CANARY_FILE is not open in
 * the stub and even the ip-only filter's mmap of it fails with EBADF. */
SEED(handler_mmap_canary_file, 0, 0)
SEED(handler_kill_all_sigstop, 0, 1)
SEED(handler_clone_process, 0, 1)
SEED(handler_create_file, 0, 0)  /* open(): the stub filter traps it too */
SEED(handler_clone_thread, 0, 1)
SEED(handler_rt_sigaction, 0, 0)
SEED(handler_rt_sigprocmask, 0, 0)
SEED(handler_raise_sigsys, 0, 0)
/* systrap: forged frames through the handler's rt_sigreturn. */
SEED(sigreturn_block_all_spin, 0, 0) /* interrupt blocked, then a spin */
SEED(sigreturn_block_all_syscall, 0, 0) /* SIGSYS blocked, then a syscall */
SEED(sigreturn_altstack_disable, 0, 0)
SEED(sigreturn_altstack_unmapped, 0, 0)
SEED(sigreturn_altstack_data, 0, 0)  /* the altstack on the data page */
/* systrap: writes to the thread's shared page while the tracer waits. */
SEED(page_state_garbage, 0, 0)
SEED(page_state_exit, 0, 0)
SEED(page_forged_signo, 0, 0)
SEED(page_forged_fp_size, 0, 0)
SEED(page_forged_sigsys, 0, 0)  /* a well-formed forged syscall event */
SEED(page_spin_bound, 0, 0)     /* spin cycles and sleeper flags */
SEED(page_random, 0, 0)         /* pseudo-random bytes over the page */
