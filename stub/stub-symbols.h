/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For each arch's stub.S: the symbols every stub defines, which
 * core/arch/arch.h declares. Global for the core's C, never exported by
 * libptplat.so (hidden).
 */
.macro STUB_SYMBOLS
	.irp sym, ptp_stub_blob_start, ptp_stub_blob_end, ptp_stub_entry, \
		ptp_stub_syscall, ptp_stub_trap_ip, ptp_stub_park, \
		ptp_stub_batch, ptp_stub_batch_list, \
		ptp_stub_syscall_thread, ptp_stub_syscall_thread_end, \
		ptp_stub_systrap_handler, ptp_stub_systrap_restorer, \
		ptp_stub_systrap_end, ptp_stub_systrap_boot, ptp_stub_systrap_boot_ip
	.globl \sym
	.hidden \sym
	.endr
.endm
