/* SPDX-License-Identifier: Apache-2.0 */
/*
 * App memory: one memfd per address space, app address a at file offset a,
 * mapped into the app by ptp_as_map and into the sentry by mmap, as
 * gVisor's MemoryFile. Freed ranges are punched out of the file, so a new
 * mapping always reads zeros.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sentry.h"

/* Counts one injection and its time: --stats splits the sentry's own time
 * from the injections', which the app benchmarks model apart. */
static int count_injection(uint64_t t0, int err)
{
	atomic_fetch_add(&sn.st.injections, 1);
	atomic_fetch_add(&sn.st.ns_inject, sn_now_ns() - t0);
	return err;
}

/* The time is taken before call runs (an argument's order of evaluation
 * is unspecified). */
#define INJECT(call)                                   \
	({                                             \
		uint64_t t0_ = sn_now_ns();            \
		count_injection(t0_, (call));          \
	})

/* The app side of one operation: now, or queued while batching (under
 * mm->lock). */
static int app_op(struct sn_mm *mm, const struct ptp_as_op *op)
{
	if (mm->batching) {
		if (mm->nbatch == mm->batch_cap) {
			size_t cap = mm->batch_cap ? mm->batch_cap * 2 : PTP_AS_BATCH_MAX;
			struct ptp_as_op *b = realloc(mm->batch, cap * sizeof(*b));

			if (!b)
				return -ENOMEM;
			mm->batch = b;
			mm->batch_cap = cap;
		}
		mm->batch[mm->nbatch++] = *op;
		return 0;
	}
	switch (op->kind) {
	case PTP_AS_OP_MAP:
		return INJECT(ptp_as_map(mm->as, op->addr, op->len, op->prot, op->fd, op->offset,
					 op->flags));
	case PTP_AS_OP_UNMAP:
		return INJECT(ptp_as_unmap(mm->as, op->addr, op->len));
	default:
		return INJECT(ptp_as_protect(mm->as, op->addr, op->len, op->prot));
	}
}

/* Takes back the app side of a map that app_op just made or queued. */
static void app_unmap_last(struct sn_mm *mm, uintptr_t s, size_t len)
{
	if (mm->batching)
		mm->nbatch--;
	else
		INJECT(ptp_as_unmap(mm->as, s, len));
}

void sn_mm_batch_begin(struct sn_mm *mm)
{
	pthread_mutex_lock(&mm->lock);
	mm->batching = true;
	pthread_mutex_unlock(&mm->lock);
}

int sn_mm_batch_end(struct sn_mm *mm)
{
	size_t done = 0;
	int err = 0;

	pthread_mutex_lock(&mm->lock);
	if (mm->nbatch) {
		uint64_t t0 = sn_now_ns();

		err = ptp_as_map_batch(mm->as, mm->batch, mm->nbatch, &done);
		/* Its round trips (ptp_stats counts them the same way): one
		 * per PTP_AS_BATCH_MAX, up to the one that stopped. */
		if (err < 0 && done < mm->nbatch)
			done++;
		atomic_fetch_add(&sn.st.injections, (done + PTP_AS_BATCH_MAX - 1) / PTP_AS_BATCH_MAX);
		atomic_fetch_add(&sn.st.ns_inject, sn_now_ns() - t0);
	}
	mm->batching = false;
	free(mm->batch);
	mm->batch = NULL;
	mm->nbatch = mm->batch_cap = 0;
	pthread_mutex_unlock(&mm->lock);
	return err;
}

int sn_mm_new(struct ptp_as *as, struct sn_mm **out)
{
	struct sn_mm *mm = calloc(1, sizeof(*mm));
	uintptr_t max = ptp_max_user_address(sn.plat);

	if (!mm)
		return -ENOMEM;
	mm->memfd = memfd_create("ptbench-app", MFD_CLOEXEC);
	if (mm->memfd < 0 || ftruncate(mm->memfd, (off_t)max) < 0) {
		int err = -errno;

		if (mm->memfd >= 0)
			close(mm->memfd);
		free(mm);
		return err;
	}
	pthread_mutex_init(&mm->lock, NULL);
	mm->as = as;
	mm->min_addr = ptp_min_user_address(sn.plat);
	if (mm->min_addr < 0x10000)
		mm->min_addr = 0x10000;
	*out = mm;
	return 0;
}

void sn_mm_free(struct sn_mm *mm)
{
	for (size_t i = 0; i < mm->n; i++)
		munmap(mm->r[i].host, mm->r[i].end - mm->r[i].start);
	free(mm->r);
	free(mm->batch);
	close(mm->memfd);
	if (mm->as)
		ptp_as_release(mm->as);
	pthread_mutex_destroy(&mm->lock);
	free(mm);
}

/* The index of the first region whose end lies above a (n if none). */
static size_t find_from(const struct sn_mm *mm, uintptr_t a)
{
	size_t lo = 0, hi = mm->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (mm->r[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_at(struct sn_mm *mm, size_t i, const struct sn_region *reg)
{
	if (mm->n == mm->cap) {
		size_t cap = mm->cap ? mm->cap * 2 : 64;
		struct sn_region *r = realloc(mm->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		mm->r = r;
		mm->cap = cap;
	}
	memmove(&mm->r[i + 1], &mm->r[i], (mm->n - i) * sizeof(*reg));
	mm->r[i] = *reg;
	mm->n++;
	return 0;
}

static void remove_at(struct sn_mm *mm, size_t i)
{
	memmove(&mm->r[i], &mm->r[i + 1], (mm->n - i - 1) * sizeof(mm->r[0]));
	mm->n--;
}

/* Splits the region that strictly contains a into two at a. */
static int split_at(struct sn_mm *mm, uintptr_t a)
{
	size_t i = find_from(mm, a);
	struct sn_region hi;

	if (i == mm->n || mm->r[i].start >= a)
		return 0;
	hi = mm->r[i];
	hi.host += a - hi.start;
	hi.start = a;
	mm->r[i].end = a;
	return insert_at(mm, i + 1, &hi);
}

static bool mergeable(const struct sn_region *a, const struct sn_region *b)
{
	return a->end == b->start && a->prot == b->prot &&
	       a->host + (a->end - a->start) == b->host;
}

/* Merges what can be merged among the regions touching [s, e]. */
static void merge_span(struct sn_mm *mm, uintptr_t s, uintptr_t e)
{
	size_t i = find_from(mm, s ? s - 1 : 0);

	while (i + 1 < mm->n && mm->r[i].start <= e) {
		if (mergeable(&mm->r[i], &mm->r[i + 1])) {
			mm->r[i].end = mm->r[i + 1].end;
			remove_at(mm, i + 1);
		} else {
			i++;
		}
	}
}

/* Drops [s, e) from the table and the sentry and zeroes the file there;
 * the app's side is the caller's. Whether anything was mapped. */
static int drop_range(struct sn_mm *mm, uintptr_t s, uintptr_t e, bool *any)
{
	size_t i;
	int err;

	*any = false;
	if ((err = split_at(mm, s)) < 0 || (err = split_at(mm, e)) < 0)
		return err;
	i = find_from(mm, s);
	while (i < mm->n && mm->r[i].start < e) {
		munmap(mm->r[i].host, mm->r[i].end - mm->r[i].start);
		remove_at(mm, i);
		*any = true;
	}
	if (*any && fallocate(mm->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)s, (off_t)(e - s)) < 0)
		return -errno;
	return 0;
}

static bool range_ok(const struct sn_mm *mm, uintptr_t s, size_t len)
{
	return len && !(s & (SN_PAGE - 1)) && s >= mm->min_addr && s + len > s &&
	       s + len <= ptp_max_user_address(sn.plat);
}

int sn_mm_map(struct sn_mm *mm, uintptr_t s, size_t len, int prot)
{
	struct sn_region reg = { .start = s, .end = s + SN_PAGE_UP(len), .prot = prot };
	void *hint = NULL, *host;
	size_t i;
	bool any;
	int err;

	len = SN_PAGE_UP(len);
	if (!range_ok(mm, s, len))
		return -ENOMEM;
	pthread_mutex_lock(&mm->lock);
	err = drop_range(mm, s, s + len, &any);
	if (err < 0)
		goto out;
	/* The app side: MAP_FIXED replaces whatever was there. */
	err = app_op(mm, &(struct ptp_as_op){ .kind = PTP_AS_OP_MAP, .addr = s, .len = len,
					      .prot = prot, .fd = mm->memfd, .offset = (off_t)s });
	if (err < 0)
		goto out;
	/* Place the sentry's view right after its neighbour's where that is
	 * free, so that growing ranges (brk) stay one region. */
	i = find_from(mm, s);
	if (i > 0 && mm->r[i - 1].end == s)
		hint = mm->r[i - 1].host + (s - mm->r[i - 1].start);
	host = MAP_FAILED;
	if (hint)
		host = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE,
			    mm->memfd, (off_t)s);
	if (host == MAP_FAILED)
		host = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mm->memfd, (off_t)s);
	if (host == MAP_FAILED) {
		err = -errno;
		app_unmap_last(mm, s, len);
		goto out;
	}
	reg.host = host;
	err = insert_at(mm, i, &reg);
	if (err < 0) {
		munmap(host, len);
		app_unmap_last(mm, s, len);
		goto out;
	}
	merge_span(mm, s, s + len);
out:
	pthread_mutex_unlock(&mm->lock);
	return err;
}

int sn_mm_unmap(struct sn_mm *mm, uintptr_t s, size_t len)
{
	bool any;
	int err;

	if ((s & (SN_PAGE - 1)) || !len)
		return -EINVAL;
	len = SN_PAGE_UP(len);
	if (s + len < s)
		return -EINVAL;
	pthread_mutex_lock(&mm->lock);
	err = drop_range(mm, s, s + len, &any);
	if (!err && any)
		err = app_op(mm, &(struct ptp_as_op){ .kind = PTP_AS_OP_UNMAP, .addr = s, .len = len });
	pthread_mutex_unlock(&mm->lock);
	return err;
}

int sn_mm_protect(struct sn_mm *mm, uintptr_t s, size_t len, int prot)
{
	uintptr_t e, at;
	size_t i;
	int err;

	if (s & (SN_PAGE - 1))
		return -EINVAL;
	len = SN_PAGE_UP(len);
	if (!len)
		return 0;
	e = s + len;
	pthread_mutex_lock(&mm->lock);
	/* The whole range must be mapped, as for the kernel. */
	at = s;
	for (i = find_from(mm, s); i < mm->n && mm->r[i].start <= at && at < e; i++)
		at = mm->r[i].end;
	err = at < e ? -ENOMEM : 0;
	if (!err && !(err = split_at(mm, s)) && !(err = split_at(mm, e))) {
		err = app_op(mm, &(struct ptp_as_op){ .kind = PTP_AS_OP_PROTECT, .addr = s,
						      .len = len, .prot = prot });
		for (i = find_from(mm, s); !err && i < mm->n && mm->r[i].start < e; i++)
			mm->r[i].prot = prot;
		merge_span(mm, s, e);
	}
	pthread_mutex_unlock(&mm->lock);
	return err;
}

long sn_mm_code_page(struct sn_mm *mm, const void *code, size_t len)
{
	/* Two threads' first signals at once must map one page. */
	static pthread_mutex_t code_lock = PTHREAD_MUTEX_INITIALIZER;
	uintptr_t at;
	long r;

	if (len > SN_PAGE)
		return -EINVAL;
	pthread_mutex_lock(&code_lock);
	if (mm->code_page) {
		r = (long)mm->code_page;
		goto out;
	}
	r = -ENOMEM;
	if (!(at = sn_mm_find_gap(mm, SN_PAGE)))
		goto out;
	if ((r = sn_mm_map(mm, at, SN_PAGE, PROT_READ | PROT_EXEC)) < 0)
		goto out;
	if ((r = sn_copy_out_any(mm, at, code, len)) < 0) {
		sn_mm_unmap(mm, at, SN_PAGE);
		goto out;
	}
	mm->code_page = at;
	r = (long)at;
out:
	pthread_mutex_unlock(&code_lock);
	return r;
}

uintptr_t sn_mm_find_gap(struct sn_mm *mm, size_t len)
{
	uintptr_t hi, found = 0;

	len = SN_PAGE_UP(len);
	pthread_mutex_lock(&mm->lock);
	hi = mm->mmap_top;
	for (size_t i = mm->n; i-- > 0;) {
		if (mm->r[i].start >= hi)
			continue;
		if (mm->r[i].end <= hi && hi - mm->r[i].end >= len) {
			found = hi - len;
			break;
		}
		hi = mm->r[i].start;
	}
	if (!found && hi - mm->min_addr >= len && hi > mm->brk_start + len)
		found = hi - len;
	pthread_mutex_unlock(&mm->lock);
	return found;
}

bool sn_mm_is_free(struct sn_mm *mm, uintptr_t s, size_t len)
{
	size_t i;
	bool free_range;

	if (!range_ok(mm, s, SN_PAGE_UP(len)))
		return false;
	pthread_mutex_lock(&mm->lock);
	i = find_from(mm, s);
	free_range = i == mm->n || mm->r[i].start >= s + SN_PAGE_UP(len);
	pthread_mutex_unlock(&mm->lock);
	return free_range;
}

int sn_mm_prot(struct sn_mm *mm, uintptr_t a)
{
	int prot = -1;
	size_t i;

	pthread_mutex_lock(&mm->lock);
	i = find_from(mm, a);
	if (i < mm->n && mm->r[i].start <= a)
		prot = mm->r[i].prot;
	pthread_mutex_unlock(&mm->lock);
	return prot;
}

/* Walks [a, a+n) region by region: fn(host, app offset, chunk). */
static int walk(struct sn_mm *mm, uintptr_t a, size_t n, int prot,
		void (*fn)(uint8_t *host, size_t off, size_t len, void *arg), void *arg)
{
	size_t done = 0;
	int err = 0;

	if (a + n < a)
		return -EFAULT;
	pthread_mutex_lock(&mm->lock);
	for (size_t i = find_from(mm, a); done < n; i++) {
		uintptr_t at = a + done;
		size_t chunk;

		if (i == mm->n || mm->r[i].start > at || (mm->r[i].prot & prot) != prot) {
			err = -EFAULT;
			break;
		}
		chunk = mm->r[i].end - at;
		if (chunk > n - done)
			chunk = n - done;
		fn(mm->r[i].host + (at - mm->r[i].start), done, chunk, arg);
		done += chunk;
	}
	pthread_mutex_unlock(&mm->lock);
	return err;
}

static void chunk_in(uint8_t *host, size_t off, size_t len, void *dst)
{
	memcpy((uint8_t *)dst + off, host, len);
}

static void chunk_out(uint8_t *host, size_t off, size_t len, void *src)
{
	memcpy(host, (const uint8_t *)src + off, len);
}

static void chunk_none(uint8_t *host, size_t off, size_t len, void *arg)
{
	(void)host, (void)off, (void)len, (void)arg;
}

int sn_copy_in(struct sn_mm *mm, void *dst, uintptr_t src, size_t n)
{
	return walk(mm, src, n, PROT_READ, chunk_in, dst);
}

int sn_copy_out(struct sn_mm *mm, uintptr_t dst, const void *src, size_t n)
{
	return walk(mm, dst, n, PROT_WRITE, chunk_out, (void *)src);
}

int sn_copy_out_any(struct sn_mm *mm, uintptr_t dst, const void *src, size_t n)
{
	return walk(mm, dst, n, 0, chunk_out, (void *)src);
}

long sn_str_in(struct sn_mm *mm, char *dst, uintptr_t src, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		uintptr_t a = src + i;
		/* Up to the end of this page in one copy. */
		size_t chunk = SN_PAGE - (a & (SN_PAGE - 1));

		if (chunk > max - i)
			chunk = max - i;
		if (sn_copy_in(mm, dst + i, a, chunk) < 0) {
			/* The string may end before the unreadable part. */
			for (size_t j = 0; j < chunk; j++) {
				if (sn_copy_in(mm, dst + i + j, a + j, 1) < 0)
					return -EFAULT;
				if (!dst[i + j])
					return (long)(i + j);
			}
		}
		for (size_t j = 0; j < chunk; j++)
			if (!dst[i + j])
				return (long)(i + j);
		i += chunk - 1;
	}
	return -ENAMETOOLONG;
}

void *sn_ptr(struct sn_mm *mm, uintptr_t a, size_t n, int prot)
{
	void *p = NULL;
	size_t i;

	pthread_mutex_lock(&mm->lock);
	i = find_from(mm, a);
	if (i < mm->n && mm->r[i].start <= a && a + n >= a && a + n <= mm->r[i].end &&
	    (mm->r[i].prot & prot) == prot)
		p = mm->r[i].host + (a - mm->r[i].start);
	pthread_mutex_unlock(&mm->lock);
	return p;
}

int sn_io_begin(struct sn_mm *mm, struct sn_iobuf *b, uintptr_t app, size_t n, bool out)
{
	static uint8_t empty;

	*b = (struct sn_iobuf){ .app = app, .n = n, .out = out };
	if (!n) {
		b->p = &empty;
		return 0;
	}
	b->p = sn_ptr(mm, app, n, out ? PROT_WRITE : PROT_READ);
	if (b->p)
		return 0;
	if (walk(mm, app, n, out ? PROT_WRITE : PROT_READ, chunk_none, NULL) < 0)
		return -EFAULT;
	b->p = malloc(n);
	if (!b->p)
		return -ENOMEM;
	b->bounce = true;
	if (!out && sn_copy_in(mm, b->p, app, n) < 0) {
		free(b->p);
		return -EFAULT;
	}
	return 0;
}

int sn_io_end(struct sn_mm *mm, struct sn_iobuf *b, size_t done)
{
	int err = 0;

	if (!b->bounce)
		return 0;
	if (b->out && done)
		err = sn_copy_out(mm, b->app, b->p, done < b->n ? done : b->n);
	free(b->p);
	return err;
}
