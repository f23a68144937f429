/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A generic executor: one thread that runs requests for the others, one at
 * a time. The platform needs one because ptrace ties a tracee and
 * PR_SET_PDEATHSIG to the thread that created or seized it: the master and
 * every address space's leader must belong to a thread that lives as long as
 * the platform. Each request carries its own function, so this layer knows
 * nothing of what it runs, and the layers above hand it work without it
 * calling back into them by name.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

static void *svc_main(void *arg)
{
	struct ptp_svc *s = arg;
	struct ptp_svc_req *req;
	bool quit;
	int rc;

	rc = s->startup(s->arg);
	pthread_mutex_lock(&s->lock);
	s->startup_rc = rc;
	s->started = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		return NULL;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!s->req || s->req->done)
			pthread_cond_wait(&s->cond, &s->lock);
		req = s->req;
		pthread_mutex_unlock(&s->lock);

		req->rc = req->fn(req->arg);
		/* req lives on the caller's stack: done is the last touch. */
		quit = req->quit;

		pthread_mutex_lock(&s->lock);
		req->done = true;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		if (quit)
			return NULL;
	}
}

int ptp_svc_start(struct ptp_svc *s, int (*startup)(void *arg), void *arg)
{
	int rc;

	*s = (struct ptp_svc){ .startup = startup, .arg = arg };
	pthread_mutex_init(&s->call_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	rc = -pthread_create(&s->thread, NULL, svc_main, s);
	if (rc < 0)
		goto err;
	pthread_mutex_lock(&s->lock);
	while (!s->started)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	rc = s->startup_rc;
	if (rc == 0)
		return 0;
	pthread_join(s->thread, NULL);
err:
	pthread_mutex_destroy(&s->call_lock);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	return rc;
}

static int svc_submit(struct ptp_svc *s, struct ptp_svc_req *req)
{
	if (pthread_equal(pthread_self(), s->thread)) {
		req->rc = req->fn(req->arg);
		return req->rc;
	}
	pthread_mutex_lock(&s->call_lock);
	pthread_mutex_lock(&s->lock);
	s->req = req;
	pthread_cond_broadcast(&s->cond);
	while (!req->done)
		pthread_cond_wait(&s->cond, &s->lock);
	s->req = NULL;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->call_lock);
	return req->rc;
}

int ptp_svc_call(struct ptp_svc *s, int (*fn)(void *arg), void *arg)
{
	return svc_submit(s, &(struct ptp_svc_req){ .fn = fn, .arg = arg });
}

void ptp_svc_stop(struct ptp_svc *s, int (*last)(void *arg), void *arg)
{
	svc_submit(s, &(struct ptp_svc_req){ .fn = last, .arg = arg, .quit = true });
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->call_lock);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}
