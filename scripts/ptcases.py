"""The test cases of a run, for the reports that CI systems and fleets read
(scripts/junit.py, scripts/kcidb.py, scripts/lava_report.py): one Case per
TAP line of every test program, or one per program that prints no TAP, with
one dot-separated name that all three use.

Sources: meson's testlog.json (cases_of_testlog) and the VM suite's
console log (cases_of_vm_log, runs_of_vm_log). TAP is read by
scripts/ptfmt.py, the testlog by scripts/report.py: nothing here parses
either format itself.

Python 3 standard library only.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptcli  # noqa: E402
import ptfmt  # noqa: E402
import report  # noqa: E402  (the testlog reader and the suite of a test)

InputError = ptcli.InputError

# A name segment keeps what KCIDB's test path and LAVA's case names accept
# ([A-Za-z0-9_-]; LAVA turns '/' into '_' and drops names with spaces).
SEGMENT_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def segment(text):
    return SEGMENT_BAD.sub("_", text).strip("_") or "unnamed"


def bench_path(key):
    """A benchmark's name: 'pool/private/threads:2' ->
    'bench.pool.private.threads_2'."""
    return ".".join(["bench"] + [segment(p) for p in key.split("/") if p])


class Case:
    """One result: suite (meson suite), program (meson's short name, e.g.
    "fault/lean"), desc (the TAP description, "" for a whole program),
    status ("pass", "fail" or "skip"), reason (why it skipped, or the
    failure's diagnostics), duration (seconds or None), number (the TAP
    number or None) and name (unique, dot-separated)."""

    def __init__(self, suite, program, desc, status, reason, duration, number=None):
        self.suite = suite
        self.program = program
        self.desc = desc
        self.status = status
        self.reason = reason
        self.duration = duration
        self.number = number
        self.name = ""


def base_name(suite, program, desc, number):
    """'conformance', 'fault/lean', 'fault/read_unmapped' ->
    'conformance.fault.lean.read_unmapped': the group in the description
    repeats the program's and is dropped."""
    prog = [p for p in program.split("/") if p]
    # "self-test up: <what it found>": the words before ": " name the case,
    # the rest is a finding that changes from run to run.
    desc = desc.split(": ", 1)[0]
    parts = [p for p in desc.split("/") if p] if desc else []
    if parts and prog and parts[0] == prog[0] and len(parts) > 1:
        parts = parts[1:]
    if desc and not parts:
        parts = [desc]
    if not desc and number is not None:
        parts = [f"case{number}"]
    return ".".join(segment(p) for p in [suite] + prog + parts)


def name_cases(cases):
    """Give every case its name; a name seen before gets "-2", "-3"..."""
    seen = {}
    for c in cases:
        name = base_name(c.suite, c.program, c.desc, c.number)
        n = seen.get(name, 0) + 1
        seen[name] = n
        c.name = name if n == 1 else f"{name}-{n}"
    return cases


def cases_of_tap(suite, program, text, program_status, program_duration, strict_plan=False):
    """The cases of one program's output; a program without TAP lines is
    one case with its own status (a whole-program "1..0 # SKIP" is one
    skipped case with the reason). A program that failed with no failed
    case is one failed case more; so is, with strict_plan (the VM suite's
    rule, scripts/vm/run.sh), a TAP that missed its plan or bailed out.
    Otherwise the program's status is meson's, which judges the plan by
    the test's protocol."""
    tap = ptfmt.parse_tap(text)
    out = []
    for c in tap.cases:
        if c.status in ("pass", "todo"):
            status, reason = "pass", c.reason
        elif c.status == "skip":
            status, reason = "skip", c.reason or "no reason given"
        else:
            status, reason = "fail", "\n".join(c.diag) or "failed (no diagnostics)"
        out.append(Case(suite, program, c.desc, status, reason, c.duration, c.number))
    if out:
        if not any(c.status == "fail" for c in out):
            if tap.bail_out is not None and (strict_plan or program_status == "fail"):
                out.append(Case(suite, program, "", "fail", f"Bail out! {tap.bail_out}", None))
            elif tap.verdict == "fail" and strict_plan:
                out.append(Case(suite, program, "", "fail",
                                f"planned {tap.plan}, ran {tap.count}", None))
            elif program_status == "fail":
                out.append(Case(suite, program, "", "fail",
                                "the program failed after its cases (exit status or plan)", None))
        return out
    if tap.plan == 0 and tap.skips:
        return [Case(suite, program, "", "skip", tap.skips[0][1] or "no reason given",
                     program_duration)]
    return [Case(suite, program, "", program_status, "" if program_status == "pass" else
                 "the program failed (no TAP lines)", program_duration)]


MESON_STATUS = {"passed": "pass", "failed": "fail", "skipped": "skip"}


def cases_of_testlog(path):
    """Every case of a meson testlog.json, named."""
    cases = []
    for t in report.load_testlog(path):
        status = MESON_STATUS[report.classify(t["result"])]
        dur = t.get("duration") if isinstance(t.get("duration"), (int, float)) else None
        cases += cases_of_tap(report.suite_of(t), report.short_name(t["name"]),
                              t.get("stdout"), status, dur)
    return name_cases(cases)


# ------------------------------------------------------------------ the VM's console

VM_BEGIN = re.compile(r"^PTBENCH-VM: BEGIN (\d+)/(\d+) (.*)$")
VM_END = re.compile(r"^PTBENCH-VM: END (\d+)/(\d+) exit=(\S+) ms=(\S+)")
VM_INFO = re.compile(r"^PTBENCH-VM: INFO ([A-Za-z0-9_]+)=(.*)$")


class VmRun:
    """One command of the VM suite: its text, exit status (None: it never
    ended), milliseconds and the lines it printed."""

    def __init__(self, command):
        self.command = command
        self.exit = None
        self.ms = None
        self.lines = []


def runs_of_vm_log(path):
    """(info dict, [VmRun]) of a console log (scripts/vm/init.sh's
    protocol: PTBENCH-VM: BEGIN / END around each command)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"cannot read VM log {path}: {e.strerror}") from e
    info, runs, cur = {}, [], None
    for line in text.splitlines():
        line = line.rstrip("\r")
        m = VM_INFO.match(line)
        if m:
            info.setdefault(m.group(1), m.group(2))
            continue
        m = VM_BEGIN.match(line)
        if m:
            cur = VmRun(m.group(3))
            runs.append(cur)
            continue
        m = VM_END.match(line)
        if m and cur is not None:
            cur.exit = m.group(3)
            cur.ms = float(m.group(4)) if re.fullmatch(r"\d+(\.\d+)?", m.group(4)) else None
            cur = None
            continue
        if cur is not None and not line.startswith("PTBENCH-VM: "):
            cur.lines.append(line)
    if not runs:
        raise InputError(f"{path}: no 'PTBENCH-VM: BEGIN' line (not a VM suite console log)")
    return info, runs


def vm_program(command):
    """'env X=1 rel-faults lean' -> ('reliability', 'faults/lean');
    'conf-fault faithful' -> ('conformance', 'fault/faithful')."""
    words = command.split()
    while words and (words[0] == "env" or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0])):
        words = words[1:]
    if not words:
        return "vm", "unnamed"
    exe, args = os.path.basename(words[0]), words[1:]
    for prefix, suite in (("conf-", "conformance"), ("rel-", "reliability")):
        if exe.startswith(prefix):
            return suite, "/".join([exe[len(prefix):]] + args)
    return "vm", "/".join([exe] + args)


def cases_of_vm_runs(runs):
    cases = []
    for r in runs:
        suite, program = vm_program(r.command)
        dur = r.ms / 1000 if r.ms is not None else None
        status = "pass" if r.exit == "0" else "fail"
        got = cases_of_tap(suite, program, "\n".join(r.lines), status, dur, strict_plan=True)
        # What ran is kept; a command that never ended fails as a whole
        # beside it.
        if r.exit is None:
            got = [c for c in got if c.desc] + [Case(
                suite, program, "", "fail",
                "the command never ended (timed out, or the guest stopped)", dur)]
        cases += got
    return name_cases(cases)
