/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform core's set-up, shared by the core families (switch, map,
 * pool, interrupt): open a platform as the run's flags say, create an
 * address space and a context, and map a payload for the app to run.
 * The only shared file that includes ptplat.h: the native, mechanism,
 * floor and mem families use common.c alone and stay independent of the
 * core they are the yardstick for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "payloads.h"
#include "ptplat.h"

void bench_core_label(char *buf, size_t len, const char *mode)
{
	snprintf(buf, len, "mode=%s pin=%s", mode ? mode : bench_config.mode,
		 bench_config.pin ? "on" : "off");
}

int bench_core_open(const char *mode, bool reuse_pool, struct ptp_platform **p, char *err,
		    size_t errlen)
{
	return bench_core_open_backend(mode, NULL, reuse_pool, p, err, errlen);
}

int bench_core_open_backend(const char *mode, const char *backend, bool reuse_pool,
			    struct ptp_platform **p, char *err, size_t errlen)
{
	struct ptp_options o;
	int rc;

	*p = NULL;
	if (!mode)
		mode = bench_config.mode;
	if (!backend)
		backend = bench_config.backend;
	ptp_options_default(&o);
	if (ptp_mode_parse(mode, &o.mode) < 0) {
		snprintf(err, errlen, "unknown mode '%s'", mode);
		return -EINVAL;
	}
	if (ptp_backend_parse(backend, &o.backend) < 0) {
		snprintf(err, errlen, "unknown backend '%s'", backend);
		return -EINVAL;
	}
	o.pin = bench_config.pin;
	if (!reuse_pool)
		o.reuse_pool = 0;
	rc = ptp_open(&o, p);
	if (rc < 0) {
		snprintf(err, errlen, "ptp_open: %s: %s", strerror(-rc), ptp_open_error());
		*p = NULL;
	}
	return rc;
}

int bench_core_payload_fd(const struct payload *pl, char *err, size_t errlen)
{
	if (!pl || pl->size == 0) {
		snprintf(err, errlen, "no %s payload on this arch", pl ? pl->name : "such");
		return -ENOSYS;
	}
	return bench_memfd("ptbench-payload", (size_t)sysconf(_SC_PAGESIZE), pl->start,
			   pl->size, err, errlen);
}

int bench_core_map_payload(struct ptp_as *as, uintptr_t code, int fd, char *err,
			   size_t errlen)
{
	int rc = ptp_as_map(as, code, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_EXEC,
			    fd, 0, 0);

	if (rc < 0)
		snprintf(err, errlen, "ptp_as_map payload: %s", strerror(-rc));
	return rc;
}

int bench_core_env_open(struct bench_core_env *e, const struct bench_core_env_spec *spec,
			char *err, size_t errlen)
{
	int fd = -1, rc;

	memset(e, 0, sizeof(*e));
	/* The payload first: an arch without it fails before any stub
	 * process is made. */
	if (spec->payload) {
		fd = bench_core_payload_fd(spec->payload, err, errlen);
		if (fd < 0)
			return fd;
	}
	rc = bench_core_open_backend(spec->mode, spec->backend, spec->reuse_pool, &e->p, err,
				     errlen);
	if (rc < 0)
		goto fail;
	rc = ptp_as_new(e->p, &e->as);
	if (rc < 0) {
		e->as = NULL;
		snprintf(err, errlen, "ptp_as_new: %s", strerror(-rc));
		goto fail;
	}
	if (!spec->payload)
		return 0;
	rc = ptp_ctx_new(e->p, &e->ctx);
	if (rc < 0) {
		e->ctx = NULL;
		snprintf(err, errlen, "ptp_ctx_new: %s", strerror(-rc));
		goto fail;
	}
	/* The mapping keeps the memfd's pages: the fd is not needed after. */
	rc = bench_core_map_payload(e->as, spec->code, fd, err, errlen);
	close(fd);
	fd = -1;
	if (rc < 0)
		goto fail;
	ptp_ctx_set_ip(e->ctx, spec->code);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	bench_core_env_close(e);
	return rc;
}

void bench_core_env_close(struct bench_core_env *e)
{
	ptp_ctx_free(e->ctx);
	ptp_as_release(e->as);
	ptp_close(e->p);
	memset(e, 0, sizeof(*e));
}
