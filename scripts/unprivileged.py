#!/usr/bin/python3
"""unprivileged.py: the conformance slice as an ordinary user.

Sandboxes run as ordinary users, so ptbench must not pass only as root.
Run as root, this drops to a throwaway uid and gid (no supplementary
groups, no capabilities, not in /etc/passwd) with setpriv, and runs every
conformance group and the reliability faults group of a build in both
switch modes, from a scratch directory that uid owns. Then it runs the
same executables as root, and judges:

  - every executable exits 0 with its TAP plan met, unprivileged;
  - a case that skips unprivileged but not as root must say which
    privilege it lacks (its reason names root, a capability, a uid or a
    permission), as must every skip unprivileged;
  - the uid really was unprivileged (CapEff 0, the uid asked for);
  - no process of that uid is left behind.

Usage:
  unprivileged.py --build-dir DIR [--uid N] [--timeout S] [--out DIR]

--uid: the throwaway uid (and gid); default the first of 64000..64999 that
no passwd or group entry and no process uses. --out: keep each TAP output
there (default: a temporary folder, removed). Prints one line per run and
a verdict line. Exit 0 pass, 1 fail, 2 bad input, 77 when it cannot run
here (not root, no setpriv): the caller reports a skip with that line.
"""

import glob
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptcli  # noqa: E402
import ptfmt  # noqa: E402

PROG = "unprivileged.py"
MODES = ("faithful", "lean")
SKIP_EXIT = 77
# What a skip for want of privilege says.
PRIVILEGE_WORDS = re.compile(
    r"root|privilege|CAP_[A-Z_]+|capabilit|\buid\b|permission|EPERM|EACCES|unprivileged",
    re.IGNORECASE)


class CannotRun(Exception):
    """The slice cannot run on this machine (exit 77, with the reason)."""


def executables(build_dir):
    exes = sorted(glob.glob(os.path.join(build_dir, "conformance", "conf-*")))
    exes = [e for e in exes if os.path.isfile(e) and os.access(e, os.X_OK)]
    rel = os.path.join(build_dir, "reliability", "rel-faults")
    if os.access(rel, os.X_OK):
        exes.append(rel)
    if not exes:
        raise ptcli.InputError(f"{build_dir}: no conformance executables (conformance/conf-*): is it built?")
    return exes


def uid_in_use(uid):
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        pass
    try:
        grp.getgrgid(uid)
        return True
    except KeyError:
        pass
    return bool(processes_of(uid))


def pick_uid():
    for uid in range(64000, 65000):
        if not uid_in_use(uid):
            return uid
    raise CannotRun("no free uid in 64000..64999")


def processes_of(uid):
    pids = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            if os.stat(d).st_uid == uid:
                pids.append(int(os.path.basename(d)))
        except OSError:
            continue
    return pids


def dropped(uid, argv):
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", *argv]


def check_dropped(uid, scratch):
    """That setpriv gives uid with no effective capability, and that uid
    can run from scratch."""
    r = subprocess.run(dropped(uid, ["sh", "-c", "id -u; grep '^CapEff:' /proc/self/status"]),
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=scratch)
    if r.returncode != 0:
        raise CannotRun(f"setpriv to uid {uid} failed: {r.stderr.strip() or r.returncode}")
    lines = r.stdout.split()
    if not lines or lines[0] != str(uid):
        raise CannotRun(f"setpriv did not give uid {uid}: {r.stdout.strip()}")
    cap = r.stdout.split("CapEff:")[-1].strip()
    if int(cap, 16) != 0:
        raise ptcli.InputError(f"uid {uid} still has capabilities (CapEff {cap})")


def run_one(exe, mode, uid, scratch, timeout, out_dir, tag):
    env = {"PATH": "/usr/bin:/bin", "HOME": scratch, "LANG": "C.UTF-8",
           "PTBENCH_FAULT_TABLE": os.path.join(scratch, f"fault-{tag}-{mode}.tsv")}
    argv = [exe, mode] if uid is None else dropped(uid, [exe, mode])
    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                           stdin=subprocess.DEVNULL, cwd=scratch, env=env, timeout=timeout)
        status, text = r.returncode, r.stdout
    except subprocess.TimeoutExpired as e:
        status = f"timeout after {timeout} s"
        text = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
    ms = int(1000 * (time.monotonic() - t0))
    name = f"{os.path.basename(exe)}.{mode}.{tag}.tap"
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        f.write(text)
    return status, ptfmt.parse_tap(text), ms


def slice_verdict(exe, mode, unpriv, root):
    """Problems of one executable and mode: a list of strings."""
    status, tap, _ms = unpriv
    problems = []
    if status != 0:
        problems.append(f"exit {status}")
    if tap.verdict != "pass":
        problems.append(f"TAP {tap.verdict} (failed: {', '.join(tap.failures) or 'none'}, "
                        f"plan {tap.plan}, count {tap.count})")
    root_skips = {d for d, _r in root[1].skips}
    for desc, reason in tap.skips:
        if desc not in root_skips and not PRIVILEGE_WORDS.search(reason):
            problems.append(f"{desc} skips only unprivileged and does not say which privilege "
                            f"it lacks: '{reason}'")
    return problems


def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--build-dir", required=True)
    p.add_argument("--uid", type=int)
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--out")
    a = p.parse_args(argv)
    try:
        return slice_main(a)
    except CannotRun as e:
        print(f"{PROG}: cannot run here: {e}", file=sys.stderr)
        return SKIP_EXIT
    except ptcli.InputError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2


def slice_main(a):
    if not os.path.isdir(a.build_dir):
        raise ptcli.InputError(f"no build directory {a.build_dir}")
    exes = executables(os.path.abspath(a.build_dir))
    if os.geteuid() != 0:
        raise CannotRun("not root, so there is no privilege to drop (this run was unprivileged already)")
    if shutil.which("setpriv") is None:
        raise CannotRun("no setpriv (util-linux)")
    uid = a.uid if a.uid is not None else pick_uid()
    if a.uid is not None and uid_in_use(uid):
        raise ptcli.InputError(f"uid {uid} is in use (passwd, group or a process): give a throwaway one")
    for exe in exes:
        r = subprocess.run(dropped(uid, ["test", "-x", exe]), stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise CannotRun(f"uid {uid} cannot reach {exe} (a parent folder is not searchable by others)")
    scratch = tempfile.mkdtemp(prefix="ptbench-unpriv.")
    keep = a.out is not None
    out_dir = a.out or scratch
    os.makedirs(out_dir, exist_ok=True)
    try:
        os.chown(scratch, uid, uid)
        check_dropped(uid, scratch)
        failed = 0
        cases = skipped = 0
        for exe in exes:
            for mode in MODES:
                unpriv = run_one(exe, mode, uid, scratch, a.timeout, out_dir, "unprivileged")
                root = run_one(exe, mode, None, scratch, a.timeout, out_dir, "root")
                problems = slice_verdict(exe, mode, unpriv, root)
                t = unpriv[1]
                cases += t.count
                skipped += t.skipped
                skips = "".join(f"; skip {d}: {r}" for d, r in t.skips)
                line = (f"{os.path.basename(exe)} {mode} as uid {uid}: {t.passed} ok, "
                        f"{t.failed} not ok, {t.skipped} skipped, {unpriv[2]} ms{skips}")
                if problems:
                    failed += 1
                    line += " -- FAIL: " + "; ".join(problems)
                print(line, flush=True)
        left = processes_of(uid)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if left:
            print(f"FAIL: {len(left)} process(es) of uid {uid} left behind: "
                  f"{', '.join(map(str, left[:10]))} (killed)")
            failed += 1
        runs = len(exes) * len(MODES)
        if failed:
            print(f"FAIL: {failed} of {runs} runs as uid {uid} failed (TAP in {out_dir})"
                  if keep else f"FAIL: {failed} of {runs} runs as uid {uid} failed")
            return 1
        print(f"PASS: {runs} runs as uid {uid} (no capability), {cases} cases, {skipped} skipped")
        return 0
    finally:
        # the TAP is in out_dir: scratch itself unless --out was given
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
