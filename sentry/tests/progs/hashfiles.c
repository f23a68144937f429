/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hashfiles [-j WORKERS] PATH...: SHA-256 of every regular file under the
 * PATHs, hashed by WORKERS threads (default 4) in parallel, printed as
 * sha256sum does ("<hash>  <path>"), sorted by path, then one summary line.
 * The sentry's real pthread program (the exec suite and app/threads):
 *
 *   - the main thread walks the PATHs, then feeds file indices to the
 *     workers through a queue of QUEUE_CAP slots guarded by a mutex and two
 *     condition variables; the queue is much shorter than the work, so
 *     both sides really wait (futex wait and wake);
 *   - each worker reads with its own malloc'd buffer (glibc gives threads
 *     their own arenas: mmap, munmap and mprotect from threads);
 *   - once every worker is waiting for work, the main thread sends each a
 *     SIGUSR1 with pthread_kill (a futex wait interrupted by a handler),
 *     each worker raises one at itself before it ends, and the main thread
 *     raises one: the handler counts them per thread in a sig_atomic_t, so
 *     the total is exact (2 x WORKERS + 1) whatever the interleaving;
 *   - even workers end by returning, odd ones by pthread_exit from a
 *     nested call; the joins check each one's result.
 *
 * The output depends only on the files, so a run through the sentry must
 * match the native run byte for byte. Exit 0, 1 if a file could not be
 * read (reported on stderr, the others still printed), 2 on bad usage or
 * a failure of the program itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUEUE_CAP 4
#define MAX_WORKERS 64
#define READ_BYTES (64 * 1024)

/* ---- SHA-256 (FIPS 180-4) --------------------------------------------- */

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, iv, sizeof(iv));
	s->bytes = 0;
	s->used = 0;
}

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], v[8];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
			      ((v[4] & v[5]) ^ (~v[4] & v[6])) + K[i] + w[i];
		uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
			      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));

		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

static void sha256_update(struct sha256 *s, const unsigned char *p, size_t n)
{
	s->bytes += n;
	while (n) {
		size_t take = 64 - s->used < n ? 64 - s->used : n;

		memcpy(s->block + s->used, p, take);
		s->used += take;
		p += take;
		n -= take;
		if (s->used == 64) {
			sha256_block(s->h, s->block);
			s->used = 0;
		}
	}
}

static void sha256_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->bytes * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = (s->used < 56 ? 56 : 120) - s->used;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

/* ---- the files -------------------------------------------------------- */

struct file {
	char *path;
	char hash[65];
	int err; /* errno of a failed read, else 0 */
	uint64_t bytes;
};

static struct file *files;
static size_t nfiles, files_cap;
static int walk_failed;

static int add_file(const char *path)
{
	if (nfiles == files_cap) {
		size_t cap = files_cap ? 2 * files_cap : 256;
		struct file *f = realloc(files, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		files = f;
		files_cap = cap;
	}
	files[nfiles].path = strdup(path);
	if (!files[nfiles].path)
		return -ENOMEM;
	files[nfiles].err = 0;
	files[nfiles].bytes = 0;
	nfiles++;
	return 0;
}

/* Adds the regular files at or under path; what cannot be read is reported
 * and sets walk_failed. 0, or -ENOMEM. */
static int walk(const char *path)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (lstat(path, &st) < 0) {
		fprintf(stderr, "hashfiles: %s: %s\n", path, strerror(errno));
		walk_failed = 1;
		return 0;
	}
	if (S_ISREG(st.st_mode))
		return add_file(path);
	if (!S_ISDIR(st.st_mode))
		return 0;
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "hashfiles: %s: %s\n", path, strerror(errno));
		walk_failed = 1;
		return 0;
	}
	while (!rc && (e = readdir(d))) {
		char *sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s/%s", path, e->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		rc = walk(sub);
		free(sub);
	}
	closedir(d);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

/* Hashes files[i] with buf as its read buffer. */
static void hash_file(struct file *f, unsigned char *buf)
{
	struct sha256 s;
	ssize_t n;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		f->err = errno;
		return;
	}
	sha256_init(&s);
	while ((n = read(fd, buf, READ_BYTES)) > 0)
		sha256_update(&s, buf, (size_t)n);
	/* Before the padding, which sha256_hex adds to the count. */
	f->bytes = s.bytes;
	if (n < 0)
		f->err = errno;
	else
		sha256_hex(&s, f->hash);
	close(fd);
}

/* ---- the work queue --------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t all_waiting = PTHREAD_COND_INITIALIZER;
static size_t ring[QUEUE_CAP], ring_head, ring_count;
static int no_more_work, workers_waiting;

/* Signals that reached this thread's handler. */
static __thread volatile sig_atomic_t signals_here;

static void on_usr1(int sig)
{
	(void)sig;
	signals_here++;
}

struct worker {
	pthread_t thread;
	int index;
	size_t files;
	uint64_t bytes;
	int signals;
	int failed; /* a self-raised signal did not arrive */
};

/* The next file index, or SIZE_MAX when the work is done. */
static size_t take_work(void)
{
	size_t i = SIZE_MAX;

	pthread_mutex_lock(&lock);
	while (!ring_count && !no_more_work) {
		/* The main thread signals the workers once all of them wait. */
		workers_waiting++;
		pthread_cond_signal(&all_waiting);
		pthread_cond_wait(&not_empty, &lock);
		workers_waiting--;
	}
	if (ring_count) {
		i = ring[ring_head];
		ring_head = (ring_head + 1) % QUEUE_CAP;
		ring_count--;
		pthread_cond_signal(&not_full);
	}
	pthread_mutex_unlock(&lock);
	return i;
}

static void put_work(size_t i)
{
	pthread_mutex_lock(&lock);
	while (ring_count == QUEUE_CAP)
		pthread_cond_wait(&not_full, &lock);
	ring[(ring_head + ring_count) % QUEUE_CAP] = i;
	ring_count++;
	pthread_cond_signal(&not_empty);
	pthread_mutex_unlock(&lock);
}

/* Odd workers leave from here, a call below their start routine. */
static void __attribute__((noreturn)) leave(struct worker *w)
{
	pthread_exit(w);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char *buf = malloc(READ_BYTES);
	size_t i;
	int before;

	while ((i = take_work()) != SIZE_MAX) {
		if (!buf) {
			files[i].err = ENOMEM;
			continue;
		}
		hash_file(&files[i], buf);
		w->files++;
		w->bytes += files[i].bytes;
	}
	free(buf);
	/* A signal a thread raises at itself is delivered before raise returns. */
	before = signals_here;
	raise(SIGUSR1);
	if (signals_here != before + 1)
		w->failed = 1;
	w->signals = signals_here;
	if (w->index % 2)
		leave(w);
	return w;
}

/* ---- main ------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: hashfiles [-j WORKERS] PATH...  (1 <= WORKERS <= %d)\n",
		MAX_WORKERS);
	exit(2);
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_WORKERS];
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	int nworkers = 4, opt, rc, signals, read_failed = 0, self_before;
	size_t done_files = 0;
	uint64_t done_bytes = 0, total_bytes = 0;

	while ((opt = getopt(argc, argv, "j:")) != -1) {
		char *end;
		long v;

		if (opt != 'j')
			usage();
		errno = 0;
		v = strtol(optarg, &end, 10);
		if (errno || *end || end == optarg || v < 1 || v > MAX_WORKERS)
			usage();
		nworkers = (int)v;
	}
	if (optind == argc)
		usage();
	for (int a = optind; a < argc; a++)
		if (walk(argv[a]) < 0) {
			fprintf(stderr, "hashfiles: out of memory listing %s\n", argv[a]);
			return 2;
		}
	if (nfiles > 1)
		qsort(files, nfiles, sizeof(*files), by_path);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0) {
		fprintf(stderr, "hashfiles: sigaction: %s\n", strerror(errno));
		return 2;
	}
	for (int i = 0; i < nworkers; i++) {
		workers[i].index = i;
		rc = pthread_create(&workers[i].thread, NULL, work, &workers[i]);
		if (rc) {
			fprintf(stderr, "hashfiles: pthread_create: %s\n", strerror(rc));
			return 2;
		}
	}
	/* Every worker waits in pthread_cond_wait now (it counted itself
	 * under the lock, which cond_wait releases): a signal interrupts
	 * each one's futex wait. */
	pthread_mutex_lock(&lock);
	while (workers_waiting < nworkers)
		pthread_cond_wait(&all_waiting, &lock);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < nworkers; i++) {
		rc = pthread_kill(workers[i].thread, SIGUSR1);
		if (rc) {
			fprintf(stderr, "hashfiles: pthread_kill: %s\n", strerror(rc));
			return 2;
		}
	}
	self_before = signals_here;
	raise(SIGUSR1);
	if (signals_here != self_before + 1) {
		fprintf(stderr, "hashfiles: SIGUSR1 raised by the main thread was not handled\n");
		return 2;
	}

	for (size_t i = 0; i < nfiles; i++)
		put_work(i);
	pthread_mutex_lock(&lock);
	no_more_work = 1;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&lock);

	signals = signals_here;
	for (int i = 0; i < nworkers; i++) {
		void *ret;

		rc = pthread_join(workers[i].thread, &ret);
		if (rc || ret != &workers[i] || workers[i].failed) {
			fprintf(stderr, "hashfiles: worker %d: join %s, result %s, %s\n", i,
				rc ? strerror(rc) : "ok", ret == &workers[i] ? "its own" : "wrong",
				workers[i].failed ? "failed" : "ok");
			return 2;
		}
		done_files += workers[i].files;
		done_bytes += workers[i].bytes;
		signals += workers[i].signals;
	}

	for (size_t i = 0; i < nfiles; i++) {
		total_bytes += files[i].bytes;
		if (files[i].err) {
			fprintf(stderr, "hashfiles: %s: %s\n", files[i].path, strerror(files[i].err));
			read_failed = 1;
			continue;
		}
		printf("%s  %s\n", files[i].hash, files[i].path);
	}
	if (done_files != nfiles || done_bytes != total_bytes) {
		fprintf(stderr, "hashfiles: the workers hashed %zu files of %zu, %llu bytes of %llu\n",
			done_files, nfiles, (unsigned long long)done_bytes,
			(unsigned long long)total_bytes);
		return 2;
	}
	printf("hashfiles: %zu files, %llu bytes, %d workers, %d signals\n", nfiles,
	       (unsigned long long)total_bytes, nworkers, signals);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "hashfiles: writing the output: %s\n", strerror(errno));
		return 2;
	}
	return read_failed || walk_failed ? 1 : 0;
}
