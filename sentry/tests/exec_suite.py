#!/usr/bin/python3
"""The 'exec' suite: real programs through ptbench-exec, as TAP.

Each busybox case runs twice in the same fresh folder with the same
fixtures: natively, then through the sentry. stdout, stderr, the exit
status (or the killing signal) and the folder's contents afterwards must be
byte-identical. The negative cases (a segfault, an unimplemented syscall,
an IA32 int 0x80 call, closing every fd) check their documented result;
the signals and clonestate programs must match their native runs, and
hashfiles (threads hashing a generated tree) its native run, which must
match hashlib.
The last test checks that no process of the sentry's executable is left.

usage: exec_suite.py --sentry EXE --mode MODE --busybox PATH|--fetch FETCH_SH
                     [--progs DIR] [--only NAME]
       exec_suite.py --export DIR --busybox PATH
       exec_suite.py --guest-runner SCRIPT --cases-exe EXE --sentry EXE
                     --mode MODE --busybox PATH|--fetch FETCH_SH
                     [--progs DIR] [--share I/K]

--export writes the busybox cases for a machine without python (the arm64
VM: scripts/vm/exec-guest.sh runs them there): DIR/fixtures (the tree,
made with the given busybox: its gzip, tar and cpio output is the same on
every arch), DIR/stdin/NAME (a case's stdin), DIR/cases, one case a line:
"CAT/NAME<TAB>STDIN-FILE-or--<TAB>argv, shell-quoted", and DIR/skips, the
cases not run yet: "CAT/NAME<TAB>reason".

--guest-runner runs the VM's runner (scripts/vm/exec-guest.sh, with
--cases-exe the built exec-cases) here on the host, on an export made
here, and passes its TAP through: so the guest's side is tested on every
build, not only when the VM boots.
"""

import argparse
import hashlib
import lzma
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

# (category, name, busybox argv, stdin). Each runs in a folder holding the
# fixtures of make_fixtures().
CASES = [
    # files and directories
    ("files", "ls", ["ls"], None),
    ("files", "ls-la", ["ls", "-la", "d"], None),
    ("files", "ls-lR", ["ls", "-lR"], None),
    ("files", "find", ["find", ".", "-name", "*.txt"], None),
    ("files", "find-type-d", ["find", "d", "-type", "d"], None),
    ("files", "stat", ["stat", "-c", "%n %s %a %F", "a.txt", "d"], None),
    ("files", "du", ["du", "-a", "d"], None),
    ("files", "cp", ["cp", "a.txt", "copy.txt"], None),
    ("files", "cp-r", ["cp", "-r", "d", "d2"], None),
    ("files", "mv", ["mv", "a.txt", "moved.txt"], None),
    ("files", "rm-r", ["rm", "-r", "d"], None),
    ("files", "mkdir-p", ["mkdir", "-p", "x/y/z"], None),
    ("files", "ln-s", ["ln", "-s", "a.txt", "link"], None),
    ("files", "readlink", ["readlink", "sym"], None),
    ("files", "realpath", ["realpath", "--", "d/e/.."], None),
    ("files", "touch", ["touch", "-d", "2020-01-02 03:04:05", "new"], None),
    ("files", "chmod", ["chmod", "600", "a.txt"], None),
    ("files", "wc", ["wc", "a.txt", "nums.txt"], None),
    ("files", "cat", ["cat", "a.txt", "nums.txt"], None),
    ("files", "head-tail", ["tail", "-n", "3", "a.txt"], None),
    ("files", "dd", ["dd", "if=nums.txt", "of=out.bin", "bs=7", "count=3"], None),
    ("files", "truncate", ["truncate", "-s", "5", "a.txt"], None),
    ("files", "basename", ["basename", "/x/y/z.txt", ".txt"], None),
    ("files", "cmp", ["cmp", "a.txt", "nums.txt"], None),
    ("files", "diff", ["diff", "a.txt", "b.txt"], None),
    # text
    ("text", "sort", ["sort", "a.txt"], None),
    ("text", "sort-n-r", ["sort", "-n", "-r", "nums.txt"], None),
    ("text", "sort-k", ["sort", "-t", ",", "-k", "2", "data.csv"], None),
    ("text", "uniq-c", ["uniq", "-c", "dups.txt"], None),
    ("text", "awk-float", ["awk", "{ s += $1 } END { printf \"%.6f %g\\n\", s / NR, s * 3.14159 }",
                           "nums.txt"], None),
    ("text", "awk-fields", ["awk", "-F", ",", "{ print $2, $1 * 1.5 }", "data.csv"], None),
    ("text", "awk-math", ["awk", "BEGIN { print sin(1), exp(2), sqrt(2), 10 / 3 }"], None),
    ("text", "sed", ["sed", "-e", "s/o/0/g", "-e", "2d", "a.txt"], None),
    ("text", "sed-n", ["sed", "-n", "/ba/p", "a.txt"], None),
    ("text", "grep", ["grep", "-n", "an", "a.txt"], None),
    ("text", "grep-E-c", ["grep", "-E", "-c", "^[a-c]", "a.txt"], None),
    ("text", "grep-r", ["grep", "-r", "needle", "d"], None),
    ("text", "cut", ["cut", "-d", ",", "-f", "1,3", "data.csv"], None),
    ("text", "tr", ["tr", "a-z", "A-Z"], b"hello world\n"),
    ("text", "tr-d", ["tr", "-d", "aeiou"], b"the quick brown fox\n"),
    ("text", "od", ["od", "-c", "a.txt"], None),
    ("text", "hexdump", ["hexdump", "-C", "nums.txt"], None),
    ("text", "seq", ["seq", "1", "3", "20"], None),
    ("text", "printf", ["printf", "%5.2f|%x|%s\\n", "3.14159", "255", "str"], None),
    ("text", "expand", ["expand", "tabs.txt"], None),
    ("text", "fold", ["fold", "-w", "5", "a.txt"], None),
    ("text", "rev", ["rev", "a.txt"], None),
    ("text", "nl", ["nl", "a.txt"], None),
    # compression and archives
    ("archive", "gzip", ["gzip", "-c", "a.txt"], None),
    ("archive", "gzip-9-file", ["gzip", "-9", "big.txt"], None),
    ("archive", "gunzip", ["gunzip", "-c", "a.txt.gz"], None),
    ("archive", "bzip2", ["bzip2", "-c", "big.txt"], None),
    ("archive", "xz-d", ["xz", "-d", "-c", "a.txt.xz"], None),
    ("archive", "tar-c", ["tar", "-cf", "out.tar", "d"], None),
    ("archive", "tar-t", ["tar", "-tvf", "d.tar"], None),
    ("archive", "tar-x", ["tar", "-xf", "d.tar", "-C", "x"], None),
    ("archive", "gzip-d-file", ["gzip", "-d", "a.txt.gz"], None),
    ("archive", "cpio-t", ["cpio", "-t"], "d.cpio"),
    ("archive", "unzip-l", ["unzip", "-l", "a.zip"], None),
    # hashing
    ("hash", "md5sum", ["md5sum", "a.txt", "big.txt"], None),
    ("hash", "sha1sum", ["sha1sum", "big.txt"], None),
    ("hash", "sha256sum", ["sha256sum", "a.txt", "nums.txt"], None),
    ("hash", "sha512sum", ["sha512sum", "big.txt"], None),
    ("hash", "cksum", ["cksum", "big.txt"], None),
    ("hash", "md5sum-c", ["md5sum", "-c", "sums.md5"], None),
    # shell: builtins, redirections, control flow (no fork)
    ("shell", "echo", ["sh", "-c", "echo hello; echo err >&2"], None),
    ("shell", "exit-status", ["sh", "-c", "false; echo $?; exit 7"], None),
    ("shell", "vars-arith", ["sh", "-c", "a=6; b=7; echo $((a * b)) ${a}x ${c:-dflt}"], None),
    ("shell", "for-while", ["sh", "-c", "for i in 1 2 3; do echo $i; done; n=0; "
                            "while [ $n -lt 3 ]; do n=$((n+1)); done; echo $n"], None),
    ("shell", "case-if", ["sh", "-c", "x=foo; case $x in f*) echo f;; *) echo no;; esac; "
                          "if [ -d d ] && [ -f a.txt ]; then echo both; fi"], None),
    ("shell", "functions", ["sh", "-c", "f() { echo \"arg:$1\"; return 3; }; f one; echo $?"], None),
    ("shell", "redirect-file", ["sh", "-c", "echo one > o.txt; echo two >> o.txt; "
                                "read l < o.txt; echo \"$l\""], None),
    ("shell", "redirect-high-fd", ["sh", "-c", "exec 9> hi.txt; echo nine >&9; exec 9>&-; "
                                   "exec 8< hi.txt; read v <&8; echo \"got $v\""], None),
    ("shell", "redirect-1000", ["sh", "-c", "exec 200> two.txt; echo x >&200; echo done"], None),
    ("shell", "read-stdin", ["sh", "-c", "while read a b; do echo \"$b $a\"; done"],
     b"1 one\n2 two\n"),
    ("shell", "printf-builtin", ["sh", "-c", "printf '%s-%d\\n' a 1 b 2"], None),
    ("shell", "test-builtin", ["sh", "-c", "[ 3 -gt 2 ] && test abc = abc && echo yes"], None),
    ("shell", "script-file", ["sh", "script.sh", "A", "B"], None),
    ("shell", "set-positional", ["sh", "-c", "set -- x y z; echo $# $2; shift; echo $@"], None),
    ("shell", "cd-pwd", ["sh", "-c", "cd d/e && pwd && cd .. && echo $PWD"], None),
    ("shell", "umask", ["sh", "-c", "umask 027; umask; echo z > u.txt"], None),
    # shell: fork, vfork, exec, wait4 and pipes
    ("shell", "pipeline", ["sh", "-c", "echo b a | tr ' ' '\\n' | sort"], None),
    ("shell", "command-substitution", ["sh", "-c", "x=$(echo sub); echo $x"], None),
    ("shell", "external-command", ["sh", "-c", "ls d; echo after"], None),
    ("shell", "subshell", ["sh", "-c", "(echo in; exit 3); echo $?"], None),
    ("shell", "exec-by-path", ["sh", "-c", "gzip -c a.txt | gzip -dc | cat; cat < a.txt | sort -r"],
     None),
    ("shell", "trap-signals", ["sh", "-c", "trap 'echo usr1' USR1; kill -USR1 $$; "
                               "trap 'echo alrm' ALRM; (sleep 0.2; kill -ALRM $$) & wait; "
                               "echo waited $?; sh -c 'kill -SEGV $$'; echo $?"], None),
    # Process groups with signal 0 only: natively the shell shares the
    # test runner's group, which a real signal would reach. The shell is
    # no group leader (-$$ names no group: ESRCH) in either run.
    ("shell", "kill-groups", ["sh", "-c", "kill -0 0 && echo group-0; "
                              "kill -0 -$$ 2>/dev/null || echo not-a-leader; "
                              "(exit 4) & wait $!; echo child $?"], None),
    ("shell", "child-status", ["sh", "-c", "sh -c 'exit 5'; echo $?; "
                               "sh -c 'kill -9 $$'; echo $?"], None),
    ("archive", "tar-czf", ["tar", "-czf", "out.tgz", "d"], None),  # vforks gzip
    # fails on purpose
    ("fail", "cat-missing", ["cat", "no-such-file"], None),
    ("fail", "ls-missing", ["ls", "missing-dir"], None),
    ("fail", "sort-bad-option", ["sort", "--no-such-option"], None),
    ("fail", "grep-no-match", ["grep", "zzz", "a.txt"], None),
    ("fail", "gunzip-not-gzip", ["gunzip", "-c", "a.txt"], None),
    ("fail", "unknown-applet", ["no-such-applet"], None),
    ("fail", "tar-missing", ["tar", "-tf", "missing.tar"], None),
]

FIXED_TIME = 1600000000


def make_fixtures(d, busybox):
    """The same tree for every run; fixed mtimes so ls and tar agree."""
    def w(name, data):
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    w("a.txt", "banana\napple\ncherry\nbanana split\norange\nkiwi\n")
    w("b.txt", "banana\napple\ncherry pie\norange\n")
    w("nums.txt", "".join("%d\n" % (i * 37 % 101) for i in range(1, 40)))
    w("data.csv", "3,zeta,x\n1,alpha,y\n2,mid,z\n")
    w("dups.txt", "a\na\nb\nc\nc\nc\n")
    w("tabs.txt", "a\tb\tc\n\tindent\n")
    w("big.txt", "".join("line %d of the big file, with some words\n" % i
                         for i in range(20000)))
    w("d/e/f.txt", "deep needle\n")
    w("d/g.txt", "no\n")
    w("d/h/needle.bin", b"\x00\x01needle\x02")
    w("script.sh", "echo \"script $1 $2 $#\"\nfor a in \"$@\"; do echo \"<$a>\"; done\n")
    w("x/.keep", "")
    os.symlink("a.txt", os.path.join(d, "sym"))
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "TZ": "UTC"}
    for tool in (["gzip", "-k", "a.txt"],
                 ["tar", "-cf", "d.tar", "d"],
                 ["sh", "-c", "md5sum a.txt nums.txt > sums.md5"]):
        r = subprocess.run([busybox] + tool, cwd=d, env=env, capture_output=True)
        if r.returncode:
            raise RuntimeError("fixture %s: %s" % (tool, r.stderr.decode()))
    # cpio and zip: through the host's tools where busybox cannot create
    with open(os.path.join(d, "d.cpio"), "wb") as f:
        files = sorted(os.path.relpath(os.path.join(r, n), d)
                       for r, _, fs in os.walk(os.path.join(d, "d")) for n in fs)
        subprocess.run([busybox, "cpio", "-o", "-H", "newc"], cwd=d, env=env,
                       input="\n".join(files).encode() + b"\n", stdout=f,
                       stderr=subprocess.DEVNULL, check=True)
    # busybox xz only decompresses
    with open(os.path.join(d, "a.txt"), "rb") as f:
        w("a.txt.xz", lzma.compress(f.read()))
    with zipfile.ZipFile(os.path.join(d, "a.zip"), "w") as z:
        z.writestr(zipfile.ZipInfo("a.txt", (2020, 1, 2, 3, 4, 6)), "zip content\n")
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            os.utime(os.path.join(root, n), (FIXED_TIME, FIXED_TIME), follow_symlinks=False)
    os.utime(d, (FIXED_TIME, FIXED_TIME))


def snapshot(d):
    """The tree after a run: path, type, mode, size and content hash."""
    out = []
    for root, dirs, files in os.walk(d):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, d)
            if os.path.islink(p):
                out.append((rel, "l", os.readlink(p)))
            elif os.path.isdir(p):
                out.append((rel, "d", oct(st.st_mode)))
            else:
                with open(p, "rb") as f:
                    out.append((rel, "f", oct(st.st_mode), hashlib.sha256(f.read()).hexdigest()))
    return out


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# A folder of busybox applet links, first in PATH: what a program execs
# by name (tar -z runs "gzip") is the same static busybox natively and in
# the sentry (which runs static programs only), not the host's tool.
APPLET_DIR = None
EXEC_APPLETS = ("gzip", "cat", "sort")


def run(argv, cwd, stdin):
    env = {"PATH": "%s:/usr/bin:/bin" % APPLET_DIR, "LC_ALL": "C", "TZ": "UTC", "HOME": cwd}
    if isinstance(stdin, str):
        with open(os.path.join(cwd, stdin), "rb") as f:
            stdin = f.read()
    try:
        r = subprocess.run(argv, cwd=cwd, env=env, input=stdin or b"", capture_output=True,
                           timeout=60, preexec_fn=no_core)
    except subprocess.TimeoutExpired:
        return None
    return r.returncode, r.stdout, r.stderr


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.since = time.monotonic()

    def duration(self):
        # Each case's time, as the conformance harness prints it (the
        # JUnit and KCIDB reports read it): the time since the last result.
        now = time.monotonic()
        print("# duration_ms: %.3f" % ((now - self.since) * 1000))
        self.since = now

    def ok(self, good, name, why=""):
        self.n += 1
        if not good:
            self.failed += 1
        print("%s %d - %s" % ("ok" if good else "not ok", self.n, name))
        self.duration()
        if not good and why:
            print("  # " + why.replace("\n", "\n  # "))
        sys.stdout.flush()

    def diag(self, text):
        print("# " + text)

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why))
        self.duration()


def diff_summary(native, sandboxed):
    for what, a, b in zip(("status", "stdout", "stderr"), native, sandboxed):
        if a != b:
            return "%s differs: native %r, sentry %r" % (what, a[:300] if isinstance(a, bytes) else a,
                                                          b[:300] if isinstance(b, bytes) else b)
    return ""


def busybox_case(tap, args, work, cat, name, argv, stdin):
    d = os.path.join(work, "case")
    results = []
    for sandbox in (False, True):
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(args.fixtures, d, symlinks=True)
        cmd = [args.busybox] + argv
        if sandbox:
            cmd = platform_argv(args) + ["--log", os.path.join(work, "log")] + cmd
        r = run(cmd, d, stdin)
        if r is None:
            tap.ok(False, "%s/%s" % (cat, name), "timed out (60 s) %s" % ("in the sentry" if sandbox else "natively"))
            return
        results.append((r, snapshot(d)))
    (nat, ntree), (sb, stree) = results
    why = diff_summary(nat, sb)
    if not why and ntree != stree:
        why = "the folder differs afterwards: %s" % sorted(set(stree) ^ set(ntree))[:4]
    if why:
        with open(os.path.join(work, "log"), errors="replace") as f:
            why += "\nsentry log: " + f.read()[-600:]
    tap.ok(not why, "%s/%s" % (cat, name), why)


def prog_case(tap, args, work, name, check):
    exe = os.path.join(args.progs, name) if args.progs else ""
    if not exe or not os.access(exe, os.X_OK):
        tap.skip("negative/" + name, "test program not built (built only without sanitizers: they cannot link statically)")
        return
    log = os.path.join(work, "log")
    nat = run([exe], work, None)
    sb = run(platform_argv(args) + ["--log", log, "--stats"] + PROG_SENTRY_ARGS.get(name, []) +
             [exe], work, None)
    with open(log, errors="replace") as f:
        logtext = f.read()
    check(tap, "negative/" + name, nat, sb, logtext)


def check_segv(tap, name, nat, sb, log):
    good = nat is not None and sb is not None and nat[0] == sb[0] == -11 and \
        "SIGSEGV" in log and sb[1] == nat[1]
    tap.ok(good, name, "native %r, sentry %r, log %r" % (nat and nat[0], sb and sb[0], log[-300:]))


def check_enosys(tap, name, nat, sb, log):
    # Natively prctl works; in the sentry it is ENOSYS, logged, and the
    # app's stderr holds only the stats (no word of it from the sentry).
    good = nat is not None and sb is not None and nat[1] == b"prctl: ok\n" and \
        sb[1] == b"prctl: ENOSYS\n" and sb[0] == 0 and "prctl (" in log and \
        b"prctl" not in sb[2]
    tap.ok(good, name, "native %r, sentry %r, log %r" % (nat, sb, log[-300:]))


def check_int80(tap, name, nat, sb, log):
    if nat is not None and nat[0] == -11:
        tap.skip(name, "int 0x80 faults natively (no IA32 emulation in this kernel)")
        return
    good = nat is not None and sb is not None and nat[1] == b"int80: native\n" and \
        sb[1] == b"int80: ENOSYS\n" and sb[0] == 0 and "ia32 syscall" in log
    tap.ok(good, name, "native %r, sentry %r, log %r" % (nat, sb, log[-300:]))


def check_closefds(tap, name, nat, sb, log):
    # The app closes and dup2s over fds 0-1023; the sentry's own stderr
    # must survive it: the stats are printed there afterwards.
    good = nat is not None and sb is not None and nat[0] == sb[0] == 42 and \
        "ptbench-exec stats" in log and ("dup2 " in log or "dup3 " in log)
    tap.ok(good, name, "native %r, sentry %r" % (nat, sb))


def check_threads(tap, name, nat, sb, log):
    good = nat is not None and sb is not None and nat == sb and nat[1] == b"threads: 4 40000\n"
    tap.ok(good, name, "native %r, sentry %r, log %r" % (nat, sb, log[-300:]))


def skipped_without_frames(tap, name, log):
    """A case that catches signals, on an arch without the sentry's frames."""
    if "builds no signal frames" not in log:
        return False
    tap.skip(name, "the sentry builds no signal frames on %s yet (its log says so)" %
             os.uname().machine)
    return True


def check_signals(tap, name, nat, sb, log):
    if skipped_without_frames(tap, name, log):
        return
    # The program's probe decides whether the CPU lets the FP-state case be
    # tried (qemu's TCG CPU takes reserved MXCSR bits); it prints the same
    # line natively and in the sentry, and says so here.
    fp_state_untried = nat is not None and b"bad frame (FP state): not tried" in nat[1]
    good = nat is not None and sb is not None and nat == sb and nat[0] == 3 and \
        (fp_state_untried or b"bad frame (FP state): child killed by 11" in nat[1]) and \
        b"bad frame (FP pointer): child killed by 11" in nat[1] and \
        b"vector register kept across a handler: 1\n" in nat[1]
    if good and fp_state_untried:
        tap.diag("%s: the FP-state bad frame was not tried: this CPU takes reserved "
                 "MXCSR bits (qemu TCG)" % name)
    tap.ok(good, name, "native %r, sentry %r, log %r" % (nat, sb, log[-400:]))


def check_clonestate(tap, name, nat, sb, log):
    good = nat is not None and sb is not None and nat == sb and nat[0] == 0 and \
        b"thread: rounding upward 1\n" in nat[1]
    tap.ok(good, name, "native %r, sentry %r, log %r" % (nat, sb, log[-300:]))


def matches_native(*expected, frames=False):
    """A check: the sentry's run is the native one, which exits 0 with
    each of expected in its stdout (so that a native run gone wrong
    cannot pass); frames: the program catches signals."""
    def check(tap, name, nat, sb, log):
        if frames and skipped_without_frames(tap, name, log):
            return
        good = nat is not None and sb is not None and nat == sb and nat[0] == 0 and \
            all(e in nat[1] for e in expected)
        tap.ok(good, name, "native %r, sentry %r, log %r" % (nat, sb, log[-300:]))
    return check


HASHFILES_WORKERS = 4


def make_hash_tree(root):
    """hashfiles' input: nested folders of files whose sizes straddle
    SHA-256's padding edges (55, 56, 64 bytes...) and its 64 KiB reads,
    with deterministic contents; a symlink it must skip. Returns
    {path relative to root's parent: content}."""
    sizes = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 1000, 4096, 65535, 65536, 65537,
             200003] + [37 * i + 11 for i in range(24)]
    files = {}
    for i, size in enumerate(sizes):
        rel = os.path.join("tree", "d%d" % (i % 3), "sub %d" % (i % 5), "f%02d.bin" % i)
        stream = b"".join(hashlib.sha256(b"%d:%d" % (i, k)).digest() for k in range(size // 32 + 1))
        files[rel] = stream[:size]
    for rel, data in files.items():
        p = os.path.join(os.path.dirname(root), rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    os.symlink("d0", os.path.join(root, "link"))
    return files


def hashfiles_case(tap, args, work):
    """The pthread program: its native output must be what hashlib says
    (so the native run is right), and the sentry's must equal the native
    run's: status, stdout and stderr."""
    name = "threads/hashfiles"
    exe = os.path.join(args.progs, "hashfiles") if args.progs else ""
    if not exe or not os.access(exe, os.X_OK):
        tap.skip(name, "test program not built (built only without sanitizers: they cannot link statically)")
        return
    d = os.path.join(work, "hash")
    os.mkdir(d)
    files = make_hash_tree(os.path.join(d, "tree"))
    want = "".join("%s  %s\n" % (hashlib.sha256(files[p]).hexdigest(), p) for p in
                   sorted(files, key=os.fsencode))
    want += "hashfiles: %d files, %d bytes, %d workers, %d signals\n" % (
        len(files), sum(len(v) for v in files.values()), HASHFILES_WORKERS,
        2 * HASHFILES_WORKERS + 1)
    argv = [exe, "-j", str(HASHFILES_WORKERS), "tree"]
    log = os.path.join(work, "log")
    nat = run(argv, d, None)
    sb = run(platform_argv(args) + ["--log", log] + argv, d, None)
    with open(log, errors="replace") as f:
        logtext = f.read()
    if "builds no signal frames" in logtext:
        tap.skip(name, "the sentry builds no signal frames on %s yet (its log says so)" %
                 os.uname().machine)
        return
    if nat is None or sb is None:
        why = "timed out (60 s) %s" % ("natively" if nat is None else "in the sentry")
    elif nat != (0, want.encode(), b""):
        why = "native run wrong: status %r, stderr %r, stdout %r, want %r" % (
            nat[0], nat[2][:300], nat[1][-300:], want[-300:])
    elif nat != sb:
        lines = [(a, b) for a, b in zip(nat[1].splitlines(), sb[1].splitlines()) if a != b]
        why = "sentry: status %r, stderr %r; first stdout line that differs: native %r, sentry %r" % (
            sb[0], sb[2][:300], *(lines[0] if lines else (len(nat[1]), len(sb[1]))))
        why += "\nsentry log: " + logtext[-600:]
    else:
        why = ""
    tap.ok(not why, name, why)


PROGS = [
    ("segv", check_segv),
    ("enosys", check_enosys),
    ("int80", check_int80),
    ("closefds", check_closefds),
    ("threads", check_threads),
    ("signals", check_signals),
    ("clonestate", check_clonestate),
    ("restart", matches_native(b"read, no SA_RESTART: -1 EINTR, handler ran 1\n",
                               b"read, SA_RESTART: 1 (the handler's byte), handler ran 1\n",
                               frames=True)),
    ("pgroups", matches_native(b"kill(-g1, SIGUSR1): ok\nwait4(-g1): reaped 2: 11 21; again: ECHILD\n",
                               b"setpgid on a child that exec'd: EACCES\n", frames=True)),
    ("altstack", matches_native(b"  in the handler: flags SS_ONSTACK, sp alt",
                                b"thread stack overflow: SIGSEGV handler on alt 1\n",
                                frames=True)),
    ("lostkick", matches_native(b"read: -1 EINTR, handler ran 1\n",
                                b"nanosleep: -1 EINTR, handler ran 1\n",
                                b"futex wait: -1 EINTR, handler ran 1\n",
                                b"open fifo: -1 EINTR, handler ran 1\n", frames=True)),
]

# Sentry options of a program's run: lostkick's alarms (100 ms) must land
# while the sentry holds each blocking call back (the instant a kick could
# be lost).
PROG_SENTRY_ARGS = {"lostkick": ["--test-delay-blocking", "300"]}


def injections_case(tap, args, work):
    """The sentry maps a program it loads and a fork's copy of the memory
    in one injection round trip each (ptp_as_map_batch): the loader's
    share of --stats' injections is 1, and each subshell busybox sh forks
    (the last one it execs in place, without a fork) adds exactly 1."""
    name = "stats/injections-batched"
    log = os.path.join(work, "log")
    counts = []
    for script in ("(true); (true)", "(true); (true); (true); (true)"):
        r = run(platform_argv(args) + ["--log", log, "--stats", args.busybox,
                 "sh", "-c", script], work, None)
        with open(log, errors="replace") as f:
            m = re.search(r"injections (\d+) \((\d+) of them loading the program\)", f.read())
        if r is None or r[0] != 0 or not m:
            tap.ok(False, name, "%r: %r, no injection count in --stats" % (script, r))
            return
        counts.append((int(m.group(1)), int(m.group(2))))
    (two, load2), (four, load4) = counts
    tap.ok(load2 == load4 == 1 and four - two == 2, name,
           "loading took %d and %d round trips (want 1); two more forks added %d (want 2)" %
           (load2, load4, four - two))


def leftovers(sentry):
    real = os.path.realpath(sentry)
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/exe" % pid) == real:
                found.append(pid)
        except OSError:
            pass
    return found


# Cases whose program catches a signal: the sentry builds signal frames on
# these arches only (elsewhere a caught signal takes its default action,
# and the log says so), so the guest of another arch lists them as skips.
SIGNAL_FRAME_CASES = {"shell/trap-signals"}
SIGNAL_FRAME_ARCHES = {"x86_64", "aarch64"}


def export(out, busybox, arch):
    """The cases and their fixtures for exec-guest.sh (see the docstring),
    for a guest of arch."""
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "stdin"))
    fixtures = os.path.join(out, "fixtures")
    os.mkdir(fixtures)
    make_fixtures(fixtures, busybox)
    lines, skips = [], []
    for cat, name, argv, stdin in CASES:
        if "%s/%s" % (cat, name) in SIGNAL_FRAME_CASES and arch not in SIGNAL_FRAME_ARCHES:
            skips.append("%s/%s\tthe program catches a signal, and the sentry builds signal "
                         "frames on %s only\n" % (cat, name, ", ".join(sorted(SIGNAL_FRAME_ARCHES))))
            continue
        if "\t" in name or any("\n" in a for a in argv):
            raise RuntimeError("case %s cannot be written one a line" % name)
        where = "-"
        if stdin is not None:
            where = name
            if isinstance(stdin, str):
                with open(os.path.join(fixtures, stdin), "rb") as f:
                    stdin = f.read()
            with open(os.path.join(out, "stdin", name), "wb") as f:
                f.write(stdin)
        lines.append("%s/%s\t%s\t%s\n" % (cat, name, where, shlex.join(argv)))
    with open(os.path.join(out, "cases"), "w") as f:
        f.writelines(lines)
    # Cases the guest lists as skips, with the reason.
    with open(os.path.join(out, "skips"), "w") as f:
        f.writelines(skips)
    return 0


def guest_runner(args):
    """exec-guest.sh on the host: export, the programs, then its TAP."""
    if not args.cases_exe:
        print("exec_suite.py: --guest-runner needs --cases-exe", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ptbench-exec-runner-") as tmp:
        data = os.path.join(tmp, "data")
        export(data, os.path.abspath(args.busybox), os.uname().machine)
        os.mkdir(os.path.join(data, "progs"))
        for name, _ in PROGS:
            exe = os.path.join(args.progs, name) if args.progs else ""
            if exe and os.access(exe, os.X_OK):
                shutil.copy(exe, os.path.join(data, "progs", name))
        tools = os.path.join(tmp, "bin")
        os.mkdir(tools)
        os.symlink(os.path.abspath(args.cases_exe), os.path.join(tools, "exec-cases"))
        env = dict(os.environ, PATH=tools + ":/usr/bin:/bin",
                   PTBENCH_EXEC_DATA=data, PTBENCH_EXEC_SENTRY=os.path.abspath(args.sentry),
                   PTBENCH_EXEC_BUSYBOX=os.path.abspath(args.busybox),
                   PTBENCH_EXEC_WORK=os.path.join(tmp, "work"))
        return subprocess.run(["sh", args.guest_runner, args.mode, "--share", args.share],
                              env=env, preexec_fn=no_core).returncode


def platform_argv(args):
    """The sentry with this run's backend and mode."""
    return [args.sentry, "--backend", args.backend, "--mode", args.mode]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--export", metavar="DIR")
    ap.add_argument("--sentry")
    ap.add_argument("--mode")
    ap.add_argument("--backend", default="ptrace")
    ap.add_argument("--busybox")
    ap.add_argument("--fetch")
    ap.add_argument("--progs")
    ap.add_argument("--only")
    ap.add_argument("--guest-runner")
    ap.add_argument("--cases-exe")
    ap.add_argument("--share", default="0/1")
    ap.add_argument("--arch", default=os.uname().machine,
                    help="--export: the guest's arch (default this machine's)")
    args = ap.parse_args()
    if args.export:
        if not args.busybox:
            ap.error("--export needs --busybox")
        return export(args.export, os.path.abspath(args.busybox), args.arch)
    if not args.sentry or not args.mode:
        ap.error("--sentry and --mode are required")
    if not args.busybox:
        r = subprocess.run(["bash", args.fetch, os.uname().machine, "--busybox-only"],
                           capture_output=True, text=True)
        if r.returncode:
            print("1..0 # SKIP busybox-static could not be fetched: %s" % r.stderr.strip()[-300:])
            return 0
        args.busybox = r.stdout.strip()
    probe = subprocess.run(platform_argv(args) + [args.busybox, "true"],
                           capture_output=True, text=True)
    if probe.returncode == 125 and re.search(r"opening the \w+ platform", probe.stderr):
        print("1..0 # SKIP %s" % probe.stderr.strip())
        return 0
    if args.guest_runner:
        return guest_runner(args)
    args.sentry = os.path.abspath(args.sentry)
    args.busybox = os.path.abspath(args.busybox)
    if args.progs:
        args.progs = os.path.abspath(args.progs)
    tap = Tap()
    before = set(leftovers(args.sentry))
    with tempfile.TemporaryDirectory(prefix="ptbench-exec-") as work:
        global APPLET_DIR
        APPLET_DIR = os.path.join(work, "bin")
        os.mkdir(APPLET_DIR)
        for applet in EXEC_APPLETS:
            os.symlink(args.busybox, os.path.join(APPLET_DIR, applet))
        args.fixtures = os.path.join(work, "fixtures")
        os.mkdir(args.fixtures)
        make_fixtures(args.fixtures, args.busybox)
        for cat, name, argv, stdin in CASES:
            if args.only and args.only != name:
                continue
            busybox_case(tap, args, work, cat, name, argv, stdin)
        if not args.only:
            for name, check in PROGS:
                prog_case(tap, args, work, name, check)
            injections_case(tap, args, work)
            hashfiles_case(tap, args, work)
    left = sorted(set(leftovers(args.sentry)) - before)
    tap.ok(not left, "no process of %s left behind" % os.path.basename(args.sentry),
           "left: %s" % left)
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
