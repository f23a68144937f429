/* SPDX-License-Identifier: Apache-2.0 */
/* ptbench-bench: every benchmark family in one executable. Flags of its own
 * (--ptbench_mode=faithful|lean, --ptbench_pin=0|1) are taken out before the
 * rest goes to Google Benchmark. */
#define _GNU_SOURCE
#include <dirent.h>
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

static int parse_own_flags(int *argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--ptbench_mode=", 15) == 0) {
			bench_config.mode = a + 15;
			if (strcmp(bench_config.mode, "faithful") &&
			    strcmp(bench_config.mode, "lean")) {
				fprintf(stderr, "ptbench-bench: bad --ptbench_mode '%s' "
					"(faithful or lean)\n", bench_config.mode);
				return -1;
			}
		} else if (strncmp(a, "--ptbench_pin=", 14) == 0) {
			if (strcmp(a + 14, "0") && strcmp(a + 14, "1")) {
				fprintf(stderr, "ptbench-bench: bad --ptbench_pin '%s' (0 or 1)\n",
					a + 14);
				return -1;
			}
			bench_config.pin = a[14] == '1';
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
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
	gb_context("switch_mode", bench_config.mode);
	gb_context("pinning", bench_config.pin ? "on" : "off");
	gb_context("compiler", PTBENCH_COMPILER);
	gb_context("cflags", PTBENCH_CFLAGS);
	bench_native_ns = bench_measure_native_ns();
	snprintf(buf, sizeof(buf), "%.1f", bench_native_ns);
	gb_context("native_getpid_ns_at_start", buf);

	bench_register_native();
	bench_register_mechanism();
	bench_register_floor();
	bench_register_mem();
	bench_register_switch();
	bench_register_map();
	bench_register_pool();
	bench_register_interrupt();
	return gb_main(argc, argv);
}
