/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the core and the stub's batch routine (stub/arch/<arch>/stub.S,
 * ptp_stub_batch) agree on; included by both, so only #defines.
 *
 * The batch list lives inside the stub's own mapping (read and execute, never
 * writable by the app), at ptp_stub_batch_list: up to PTP_STUB_BATCH_MAX
 * records of PTP_STUB_BATCH_WORDS 64-bit words each, { nr, arg0..arg5 }. The
 * tracer writes it through /proc/<tid>/mem (which may write a page the app
 * cannot) and starts the routine with the record count in the first argument
 * register. The routine runs the records in order and stops at the first one
 * it refuses or that fails: result register 0 or that record's -errno
 * (-EPERM: refused by the stub's own check), second argument register the
 * number of records that took effect.
 */
#ifndef PTP_STUB_ABI_H
#define PTP_STUB_ABI_H

#define PTP_STUB_BATCH_MAX 64
#define PTP_STUB_BATCH_WORDS 7
#define PTP_STUB_BATCH_BYTES (PTP_STUB_BATCH_MAX * PTP_STUB_BATCH_WORDS * 8)

/* Flags a batched mmap may carry, as ptp_as_map makes them: MAP_SHARED |
 * MAP_FIXED, and MAP_POPULATE on request. */
#define PTP_STUB_MAP_FLAGS 0x11
#define PTP_STUB_MAP_POPULATE 0x8000
/* The protection bits a batched mmap or mprotect may carry: the low six,
 * PROT_READ, PROT_WRITE, PROT_EXEC, PROT_SEM and the two arch bits (arm64's
 * PROT_BTI and PROT_MTE, which a static glibc's startup asks for; the kernel
 * refuses them elsewhere). Never PROT_GROWSDOWN or PROT_GROWSUP: they make
 * mprotect reach beyond [addr, addr + len). */
#define PTP_STUB_PROT_MASK 0x3f

#endif /* PTP_STUB_ABI_H */
