/* SPDX-License-Identifier: Apache-2.0 */
/* ptbench-probe: what this kernel offers a ptrace platform, as JSON. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "ptplat.h"

int main(int argc, char **argv)
{
	struct ptp_platform *p;
	const struct ptp_caps *c;
	struct utsname u;
	json_t *o;
	char hex[32];
	int rc;

	if (argc > 1) {
		fprintf(stderr, "ptbench-probe: takes no arguments (got '%s')\n", argv[1]);
		return 2;
	}
	rc = ptp_open(NULL, &p);
	if (rc < 0) {
		fprintf(stderr, "ptbench-probe: cannot open the platform: %s (%s)\n",
			strerror(-rc), ptp_open_error());
		return 1;
	}
	c = ptp_caps(p);
	uname(&u);
	o = json_object();
	json_object_set_new(o, "kernel", json_string(u.release));
	json_object_set_new(o, "arch", json_string(u.machine));
	json_object_set_new(o, "sysemu", json_boolean(c->sysemu));
	json_object_set_new(o, "seccomp_after_ptrace", json_boolean(c->seccomp_after_ptrace));
	json_object_set_new(o, "cpuid_faulting", json_boolean(c->cpuid_faulting));
	json_object_set_new(o, "syscall_info", json_boolean(c->syscall_info));
	json_object_set_new(o, "vsyscall", json_boolean(c->vsyscall));
	json_object_set_new(o, "fpstate_size", json_integer((json_int_t)c->fpstate_size));
	/* The defaults every result was produced with unless it says otherwise. */
	json_object_set_new(o, "default_mode",
			    json_string(ptp_mode_name(ptp_options(p)->mode)));
	json_object_set_new(o, "default_pinning", json_boolean(ptp_options(p)->pin));
	snprintf(hex, sizeof(hex), "%#lx", (unsigned long)ptp_max_user_address(p));
	json_object_set_new(o, "stub_start", json_string(hex));
	json_object_set_new(o, "max_user_address", json_string(hex));
	snprintf(hex, sizeof(hex), "%#lx", (unsigned long)ptp_min_user_address(p));
	json_object_set_new(o, "min_user_address", json_string(hex));
	ptp_close(p);
	rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (rc < 0 || puts("") < 0) {
		fprintf(stderr, "ptbench-probe: cannot write the JSON to stdout\n");
		return 1;
	}
	return 0;
}
