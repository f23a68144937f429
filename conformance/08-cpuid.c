/* SPDX-License-Identifier: Apache-2.0 */
/* cpuid: with CPUID faulting the app's cpuid is emulated by the platform and
 * never reported as a fault. Runs only where the probe finds faulting. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "harness.h"

static char why[160];

static const char *cpuid_unavailable(void)
{
	struct ptp_platform *p = NULL;
	bool faulting;

	if (payload_get(PAYLOAD_CPUID)->size == 0)
		return "no cpuid instruction on this arch";
	if (ptp_open(NULL, &p) < 0) {
		snprintf(why, sizeof(why), "cannot open the platform: %s", ptp_open_error());
		return why;
	}
	faulting = ptp_caps(p)->cpuid_faulting;
	ptp_close(p);
	if (!faulting)
		return "CPUID faulting unavailable here (probe: ARCH_SET_CPUID fails; "
		       "no cpuid_fault in /proc/cpuinfo)";
	return NULL;
}

static void host_vendor(char out[13])
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "re");

	assert_non_null(f);
	out[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "vendor_id : %12s", out) == 1)
			break;
	fclose(f);
}

static void vendor_leaf_is_emulated(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct ptp_event ev;
	char vendor[13], host[13];
	uint32_t ebx, ecx, edx;

	h_load(as, ctx, PAYLOAD_CPUID);
	ptp_ctx_set_arg(ctx, 0, 0);
	ptp_ctx_set_arg(ctx, 1, 0);
	/* Emulated inside the switch: the app just goes on to its syscall. */
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, PAYLOAD_NR_OK);
	ebx = (uint32_t)ptp_ctx_arg(ctx, 1);
	ecx = (uint32_t)ptp_ctx_arg(ctx, 2);
	edx = (uint32_t)ptp_ctx_arg(ctx, 3);
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	vendor[12] = 0;
	host_vendor(host);
	assert_string_equal(vendor, host);
	assert_true(ptp_ctx_arg(ctx, 0) >= 1); /* max basic leaf */
	ptp_ctx_free(ctx);
	ptp_close(p);
}

static void cpuid_in_a_loop(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct ptp_event ev;
	uint64_t first = 0;

	h_load(as, ctx, PAYLOAD_CPUID);
	for (int i = 0; i < 100; i++) {
		ptp_ctx_set_ip(ctx, H_CODE);
		ptp_ctx_set_arg(ctx, 0, 1);
		ptp_ctx_set_arg(ctx, 1, 0);
		h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
		if (i == 0)
			first = ptp_ctx_arg(ctx, 0);
		assert_int_equal(ptp_ctx_arg(ctx, 0), first);
	}
	ptp_ctx_free(ctx);
	ptp_close(p);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(vendor_leaf_is_emulated),
		HCASE(cpuid_in_a_loop),
	};

	return harness_main(argc, argv, "cpuid", cases,
			    sizeof(cases) / sizeof(cases[0]), cpuid_unavailable);
}
