/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec-cases: the busybox cases of the 'exec' suite for a machine without
 * python (the VM guest; scripts/vm/exec-guest.sh calls it), as TAP lines
 * without a plan. What exec_suite.py does, in one process: under TCG every
 * process costs about 0.15 s, so the copying, the comparing and the
 * bookkeeping are done here, and only the two runs of a case are spawned.
 *
 * usage: exec-cases --data DIR --sentry EXE --mode MODE --busybox EXE
 *                   --work DIR [--share I/K] [--backend B]
 * DIR holds what exec_suite.py --export writes: cases (one a line:
 * "CAT/NAME<TAB>STDIN-or--<TAB>argv shell-quoted"), stdin/ and fixtures/.
 * Each case runs in WORK/case, a fresh copy of the fixtures (times kept,
 * symlinks' too), natively and then through the sentry; the exit status,
 * stdout, stderr and the tree afterwards (names, types, modes, link
 * targets, contents) must be identical. With --share I/K only the cases
 * whose index (from 0) is I modulo K run; the others are TAP skips.
 * Exit 0 if every case that ran agreed, 1 if one did not, 2 on bad usage
 * or a broken setup.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64
#define WHY_MAX 4096

/* The PATH of both runs: WORK/applets first, links to the busybox for what
 * a case execs by name (tar -z runs "gzip"), as exec_suite.py's
 * EXEC_APPLETS: the same static program natively and in the sentry, which
 * runs static programs only. */
static const char *const exec_applets[] = { "gzip", "cat", "sort" };
static char *path_env;

struct opts {
	const char *data, *sentry, *mode, *busybox, *work;
	const char *backend; /* the sentry's --backend (default ptrace) */
	unsigned share_i, share_k;
};

static char why[WHY_MAX];

/* why_add: append one line to the reason of the current case. */
__attribute__((format(printf, 1, 2))) static void why_add(const char *fmt, ...)
{
	size_t len = strlen(why);
	va_list ap;

	if (len >= sizeof(why) - 2)
		return;
	va_start(ap, fmt);
	vsnprintf(why + len, sizeof(why) - len - 1, fmt, ap);
	va_end(ap);
	strcat(why, "\n");
}

static void die(const char *what)
{
	fprintf(stderr, "exec-cases: %s: %s\n", what, strerror(errno));
	exit(2);
}

static char *path_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		die("asprintf");
	return p;
}

/* remove_tree: rm -rf PATH (missing is fine). */
static void remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		d = opendir(path);
		if (!d)
			die(path);
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char *sub = path_join(path, e->d_name);
			remove_tree(sub);
			free(sub);
		}
		closedir(d);
		if (rmdir(path) < 0)
			die(path);
	} else if (unlink(path) < 0) {
		die(path);
	}
}

static void copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in = open(src, O_RDONLY | O_CLOEXEC), out;

	if (in < 0)
		die(src);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	if (out < 0)
		die(dst);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			die(dst);
	if (n < 0)
		die(src);
	close(in);
	close(out);
}

/* copy_tree: cp -a SRC DST for the fixtures: directories, regular files
 * and symlinks, with their modes and times (a symlink's too: ls -l prints
 * it). */
static void copy_tree(const char *src, const char *dst)
{
	struct stat st;
	struct timespec times[2];

	if (lstat(src, &st) < 0)
		die(src);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(src);
		struct dirent *e;

		if (!d)
			die(src);
		if (mkdir(dst, 0700) < 0)
			die(dst);
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char *s = path_join(src, e->d_name), *t = path_join(dst, e->d_name);
			copy_tree(s, t);
			free(s);
			free(t);
		}
		closedir(d);
		if (chmod(dst, st.st_mode & 07777) < 0)
			die(dst);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(src, target, sizeof(target) - 1);

		if (n < 0)
			die(src);
		target[n] = 0;
		if (symlink(target, dst) < 0)
			die(dst);
	} else if (S_ISREG(st.st_mode)) {
		copy_file(src, dst, st.st_mode);
	} else {
		errno = EINVAL;
		die(src);
	}
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	if (utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW) < 0)
		die(dst);
}

/* read_all: the whole file (NUL-terminated; *len its size), NULL if none. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			if (!buf)
				die("realloc");
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* excerpt: up to LEN bytes of SRC on one line, C-escaped (TAP comments
 * are one line each). */
static void excerpt(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\n')
			o += (size_t)snprintf(dst + o, size - o, "\\n");
		else if (c < ' ' || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = 0;
}

/* same_file: A and B have the same bytes; else a reason (one line). */
static bool same_file(const char *what, const char *a, const char *b)
{
	size_t la, lb;
	char *x = read_all(a, &la), *y = read_all(b, &lb);
	bool same = x && y && la == lb && !memcmp(x, y, la);

	if (!same && x && y) {
		size_t i = 0;

		while (i < la && i < lb && x[i] == y[i])
			i++;
		size_t from = i > 40 ? i - 40 : 0;
		char ea[256], eb[256];

		excerpt(ea, sizeof(ea), x + from, la - from);
		excerpt(eb, sizeof(eb), y + from, lb - from);
		why_add("%s differs at byte %zu (native %zu bytes, sentry %zu):", what, i, la, lb);
		why_add("  native: %s", ea);
		why_add("  sentry: %s", eb);
	} else if (!same) {
		why_add("%s: cannot read %s", what, x ? b : a);
	}
	free(x);
	free(y);
	return same;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* same_tree: NATIVE and SENTRY (the case folder after each run) hold the
 * same names, types, modes, link targets and contents. REL names the
 * place for the reason. */
static bool same_tree(const char *native, const char *sentry, const char *rel)
{
	struct stat a, b;
	bool same = true;

	if (lstat(native, &a) < 0 || lstat(sentry, &b) < 0) {
		why_add("tree: %s is only in the %s run", rel, lstat(native, &a) < 0 ? "sentry" : "native");
		return false;
	}
	if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT) || (!S_ISLNK(a.st_mode) && a.st_mode != b.st_mode)) {
		why_add("tree: %s mode native %o, sentry %o", rel, (unsigned)a.st_mode, (unsigned)b.st_mode);
		return false;
	}
	if (S_ISLNK(a.st_mode)) {
		char ta[4096] = "", tb[4096] = "";

		if (readlink(native, ta, sizeof(ta) - 1) < 0 || readlink(sentry, tb, sizeof(tb) - 1) < 0 ||
		    strcmp(ta, tb)) {
			why_add("tree: link %s -> native %s, sentry %s", rel, ta, tb);
			return false;
		}
		return true;
	}
	if (S_ISREG(a.st_mode)) {
		char *what;

		if (asprintf(&what, "tree: file %s", rel) < 0)
			die("asprintf");
		same = same_file(what, native, sentry);
		free(what);
		return same;
	}
	if (!S_ISDIR(a.st_mode))
		return true;
	struct dirent **na, **nb;
	int ca = scandir(native, &na, NULL, by_name), cb = scandir(sentry, &nb, NULL, by_name);
	int i = 0, j = 0;

	if (ca < 0 || cb < 0)
		die(native);
	while (i < ca || j < cb) {
		int c = i >= ca ? 1 : j >= cb ? -1 : strcmp(na[i]->d_name, nb[j]->d_name);
		const char *name = c <= 0 ? na[i]->d_name : nb[j]->d_name;
		char *r = path_join(rel, name);

		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			/* the folders themselves are compared by the caller */
		} else if (c) {
			why_add("tree: %s is only in the %s run", r, c < 0 ? "native" : "sentry");
			same = false;
		} else {
			char *pa = path_join(native, name), *pb = path_join(sentry, name);

			same &= same_tree(pa, pb, r);
			free(pa);
			free(pb);
		}
		free(r);
		if (c <= 0)
			free(na[i++]);
		if (c >= 0)
			free(nb[j++]);
	}
	free(na);
	free(nb);
	return same;
}

/* split_argv: the words of LINE as exec_suite.py's shlex.join wrote them
 * (bare words, '...' and "..." runs). Returns the count, -1 if malformed. */
static int split_argv(char *line, char **argv, int max)
{
	int n = 0;
	char *in = line, *out = line;

	while (*in) {
		while (*in == ' ')
			in++;
		if (!*in)
			break;
		if (n == max - 1)
			return -1;
		argv[n++] = out;
		while (*in && *in != ' ') {
			if (*in == '\'' || *in == '"') {
				char q = *in++;

				while (*in && *in != q)
					*out++ = *in++;
				if (*in++ != q)
					return -1;
			} else {
				*out++ = *in++;
			}
		}
		if (*in)
			in++;
		*out++ = 0;
	}
	argv[n] = NULL;
	return n;
}

/* run_case_side: ARGV in WORK/case with exec_suite.py's environment, stdin
 * from IN, stdout and stderr into WORK/SIDE.out and .err. Returns the wait
 * status. */
static int run_side(const struct opts *o, const char *side, char **argv, const char *in)
{
	char *dir = path_join(o->work, "case"), *home, *out, *err, outn[64], errn[64];
	char *env[] = { path_env, "LC_ALL=C", "TZ=UTC", NULL, NULL };
	int status;
	pid_t pid;

	snprintf(outn, sizeof(outn), "%s.out", side);
	snprintf(errn, sizeof(errn), "%s.err", side);
	out = path_join(o->work, outn);
	err = path_join(o->work, errn);
	if (asprintf(&home, "HOME=%s", dir) < 0)
		die("asprintf");
	env[3] = home;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fi = open(in, O_RDONLY), fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644),
		    fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fi < 0 || fo < 0 || fe < 0 || chdir(dir) < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 ||
		    dup2(fe, 2) < 0)
			_exit(125);
		execve(argv[0], argv, env);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	free(dir);
	free(home);
	free(out);
	free(err);
	return status;
}

static void describe_status(char *buf, size_t len, int status)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
}

/* run_case: one busybox case, both runs; true if they agreed. */
static bool run_case(const struct opts *o, char **args, const char *in)
{
	char *fixtures = path_join(o->data, "fixtures"), *c = path_join(o->work, "case"),
	     *native = path_join(o->work, "native"), *log = path_join(o->work, "log");
	char *argv[MAX_ARGS + 10]; /* the sentry's options, busybox, the args, NULL */
	int n = 0, st_native, st_sentry;
	bool same = true;

	argv[n++] = (char *)o->busybox;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	remove_tree(c);
	remove_tree(native);
	copy_tree(fixtures, c);
	st_native = run_side(o, "native", argv, in);
	if (rename(c, native) < 0)
		die(native);
	copy_tree(fixtures, c);
	n = 0;
	argv[n++] = (char *)o->sentry;
	argv[n++] = "--backend";
	argv[n++] = (char *)o->backend;
	argv[n++] = "--mode";
	argv[n++] = (char *)o->mode;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = (char *)o->busybox;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	unlink(log);
	st_sentry = run_side(o, "sentry", argv, in);
	if (st_native != st_sentry) {
		char a[64], b[64];

		describe_status(a, sizeof(a), st_native);
		describe_status(b, sizeof(b), st_sentry);
		why_add("status differs: native %s, sentry %s", a, b);
		same = false;
	}
	for (int i = 0; i < 2; i++) {
		const char *part = i ? "err" : "out";
		char na[64], sa[64];

		snprintf(na, sizeof(na), "native.%s", part);
		snprintf(sa, sizeof(sa), "sentry.%s", part);
		char *pa = path_join(o->work, na), *pb = path_join(o->work, sa);
		same &= same_file(i ? "stderr" : "stdout", pa, pb);
		free(pa);
		free(pb);
	}
	same &= same_tree(native, c, ".");
	if (!same) {
		size_t len;
		char *text = read_all(log, &len);

		if (text)
			why_add("sentry log (end): %s", text + (len > 600 ? len - 600 : 0));
		free(text);
	}
	free(fixtures);
	free(c);
	free(native);
	free(log);
	return same;
}

static void usage_error(const char *msg)
{
	fprintf(stderr, "exec-cases: %s (usage: exec-cases --data DIR --sentry EXE --mode MODE "
			"--busybox EXE --work DIR [--share I/K] [--backend B])\n", msg);
	exit(2);
}

static void parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){ .backend = "ptrace", .share_i = 0, .share_k = 1 };
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage_error("an option without its value");
		if (!strcmp(k, "--data"))
			o->data = v;
		else if (!strcmp(k, "--sentry"))
			o->sentry = v;
		else if (!strcmp(k, "--mode"))
			o->mode = v;
		else if (!strcmp(k, "--backend"))
			o->backend = v;
		else if (!strcmp(k, "--busybox"))
			o->busybox = v;
		else if (!strcmp(k, "--work"))
			o->work = v;
		else if (!strcmp(k, "--share")) {
			char end;

			if (sscanf(v, "%u/%u%c", &o->share_i, &o->share_k, &end) != 2 ||
			    o->share_i >= o->share_k)
				usage_error("--share wants I/K with 0 <= I < K");
		} else
			usage_error("unknown option");
	}
	if (!o->data || !o->sentry || !o->mode || !o->busybox || !o->work)
		usage_error("--data, --sentry, --mode, --busybox and --work are required");
}

int main(int argc, char **argv)
{
	struct opts o;
	char *cases, line[4096];
	FILE *f;
	unsigned index = 0, failed = 0;

	parse(&o, argc, argv);
	{
		char *applets = path_join(o.work, "applets"), *busybox = realpath(o.busybox, NULL);

		if (!busybox)
			die(o.busybox);
		if (mkdir(applets, 0755) < 0 && errno != EEXIST)
			die(applets);
		for (size_t i = 0; i < sizeof(exec_applets) / sizeof(exec_applets[0]); i++) {
			char *link = path_join(applets, exec_applets[i]);

			if (symlink(busybox, link) < 0 && errno != EEXIST)
				die(link);
			free(link);
		}
		if (asprintf(&path_env, "PATH=%s:/usr/bin:/bin", applets) < 0)
			die("asprintf");
		free(busybox);
		free(applets);
	}
	cases = path_join(o.data, "cases");
	f = fopen(cases, "re");
	if (!f)
		die(cases);
	while (fgets(line, sizeof(line), f)) {
		char *name = line, *stdin_name, *words, *args[MAX_ARGS], *in;
		size_t len = strlen(line);

		if (len && line[len - 1] == '\n')
			line[len - 1] = 0;
		stdin_name = strchr(name, '\t');
		words = stdin_name ? strchr(stdin_name + 1, '\t') : NULL;
		if (!words) {
			fprintf(stderr, "exec-cases: %s: malformed line: %s\n", cases, line);
			return 2;
		}
		*stdin_name++ = 0;
		*words++ = 0;
		if (split_argv(words, args, MAX_ARGS) < 1) {
			fprintf(stderr, "exec-cases: %s: bad argv in case %s\n", cases, name);
			return 2;
		}
		index++;
		if ((index - 1) % o.share_k != o.share_i) {
			printf("ok %u - %s # SKIP not in this run's share %u/%u of the cases "
			       "(TCG time; another run holds it)\n", index, name, o.share_i, o.share_k);
			continue;
		}
		if (strcmp(stdin_name, "-")) {
			char *dir = path_join(o.data, "stdin");

			in = path_join(dir, stdin_name);
			free(dir);
		} else {
			in = strdup("/dev/null");
		}
		why[0] = 0;
		if (run_case(&o, args, in)) {
			printf("ok %u - %s\n", index, name);
		} else {
			failed++;
			printf("not ok %u - %s\n", index, name);
			for (char *p = strtok(why, "\n"); p; p = strtok(NULL, "\n"))
				printf("  # %s\n", p);
		}
		fflush(stdout);
		free(in);
	}
	fclose(f);
	free(cases);
	return failed ? 1 : 0;
}
