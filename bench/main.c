/* SPDX-License-Identifier: Apache-2.0 */
/* ptbench-bench: every benchmark family in one executable. Flags of its own
 * (--ptbench_backend=ptrace|systrap, --ptbench_mode=faithful|lean,
 * --ptbench_pin=0|1, --ptbench_app_size=full|quick, --ptbench_idle=0|1) are
 * taken out before the rest goes to Google Benchmark. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "bench.h"

static void context_file_line(const char *key, const char *path, const char *prefix)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v;

		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		v = strchr(line, ':');
		if (!v)
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\n")] = 0;
		gb_context(key, v);
		break;
	}
	fclose(f);
}

/* "name=status;..." from /sys/devices/system/cpu/vulnerabilities. */
static void context_mitigations(void)
{
	static const char dir[] = "/sys/devices/system/cpu/vulnerabilities";
	char all[4096] = "", line[256], path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d) {
		gb_context("mitigations", "unknown");
		return;
	}
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s=%s",
				 all[0] ? ";" : "", e->d_name, line);
		}
		fclose(f);
	}
	closedir(d);
	gb_context("mitigations", all);
}

/* The value of --ptbench_NAME=V in arg, if it is that flag (else NULL);
 * *bad set when V is not one of the allowed values. */
static const char *own_flag(const char *arg, const char *name,
			    const char *const allowed[], bool *bad)
{
	size_t n = strlen(name);

	if (strncmp(arg, "--ptbench_", 10) || strncmp(arg + 10, name, n) ||
	    arg[10 + n] != '=')
		return NULL;
	arg += 11 + n;
	*bad = true;
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(arg, allowed[i]) == 0)
			*bad = false;
	if (*bad)
		fprintf(stderr, "ptbench-bench: bad --ptbench_%s '%s' (%s or %s)\n", name,
			arg, allowed[0], allowed[1]);
	return arg;
}

static int parse_own_flags(int *argc, char **argv)
{
	static const char *const backends[] = { "ptrace", "systrap", NULL };
	static const char *const modes[] = { "faithful", "lean", NULL };
	static const char *const pins[] = { "0", "1", NULL };
	static const char *const sizes[] = { "full", "quick", NULL };
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *v;
		bool bad = false;

		if ((v = own_flag(a, "backend", backends, &bad)))
			bench_config.backend = v;
		else if ((v = own_flag(a, "mode", modes, &bad)))
			bench_config.mode = v;
		else if ((v = own_flag(a, "pin", pins, &bad)))
			bench_config.pin = v[0] == '1';
		else if ((v = own_flag(a, "app_size", sizes, &bad)))
			bench_config.app_size = v;
		else if ((v = own_flag(a, "idle", pins, &bad)))
			bench_config.idle = v[0] == '1';
		else
			argv[out++] = argv[i];
		if (bad)
			return -1;
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

/* Printed after Google Benchmark's own flags by --help. */
static void print_own_help(void)
{
	printf("\nptbench-bench's own flags (taken out before Google Benchmark's):\n"
	       "          [--ptbench_backend={ptrace|systrap}]  the core families' backend\n"
	       "                                                (default ptrace; JSON context 'backend')\n"
	       "          [--ptbench_mode={faithful|lean}]      the switch mode of core benchmarks that\n"
	       "                                                are not per-mode (default faithful;\n"
	       "                                                context 'switch_mode')\n"
	       "          [--ptbench_pin={0|1}]                 pin traced threads and the benchmark's\n"
	       "                                                processes (default 1; context 'pinning')\n"
	       "          [--ptbench_app_size={full|quick}]     the app family's inputs: 20 MB of text and\n"
	       "                                                50,000 files, or a tenth (default full;\n"
	       "                                                context 'app_size')\n"
	       "          [--ptbench_idle={0|1}]                the counters idle_ns, idle_sleeps and\n"
	       "                                                timer_ticks per iteration of every loop,\n"
	       "                                                from /proc/timer_list and /proc/interrupts\n"
	       "                                                (default 0; context 'idle_counters')\n"
	       "environment:\n"
	       "          PTBENCH_SAMPLES_DIR=DIR   write the latency samples of switch/* and\n"
	       "                                    interrupt/latency there, one file each\n"
	       "          PTBENCH_BUSYBOX=PATH      the app family's busybox-static (default\n"
	       "                                    .cache/sysroot/ARCH/bin/busybox of the source)\n"
	       "          PTBENCH_APP_DIR=DIR       where the app family's inputs are generated\n"
	       "                                    (default .cache/app of the source)\n");
}

int main(int argc, char **argv)
{
	struct utsname u;
	char buf[64];

	if (parse_own_flags(&argc, argv) < 0)
		return 2;
	uname(&u);
	gb_context("kernel", u.release);
	gb_context("arch", u.machine);
	context_file_line("cpu_model", "/proc/cpuinfo", "model name");
	context_mitigations();
	gb_context("backend", bench_config.backend);
	gb_context("switch_mode", bench_config.mode);
	gb_context("pinning", bench_config.pin ? "on" : "off");
	gb_context("app_size", bench_config.app_size);
	gb_context("idle_counters", bench_config.idle ? "on" : "off");
	if (bench_config.idle)
		bench_idle_counters_enable();
	gb_context("compiler", PTBENCH_COMPILER);
	gb_context("cflags", PTBENCH_CFLAGS);
	bench_native_ns = bench_measure_native_ns();
	snprintf(buf, sizeof(buf), "%.1f", bench_native_ns);
	gb_context("native_getpid_ns_at_start", buf);

	bench_register_native();
	bench_register_mechanism();
	bench_register_floor();
	bench_register_systrap();
	bench_register_mem();
	bench_register_switch();
	bench_register_map();
	bench_register_pool();
	bench_register_interrupt();
	bench_register_app();
	return gb_main(argc, argv, print_own_help);
}
