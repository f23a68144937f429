#!/usr/bin/python3
"""Render a ptbench results folder as Markdown, from files only.

Subcommands:
  render   probe.json + testlog.json + fault-accuracy.tsv -> report.md
  count    print "PASSED FAILED SKIPPED" over one or more meson testlog.json
  sanitize copy a meson testlog.json without each test's environment

Inputs:
  probe.json          one JSON object from ptbench-probe (kernel capabilities)
  summary.md          optional: the benchmark summary of scripts/bench_report.py,
                      included in report.md (its headings one level down)
  testlog.json        meson's test log: JSON Lines, one object per test with
                      name, result, duration, stdout (TAP for our tests), ...
  fault-accuracy.tsv  rows "mode scenario truth heuristic agree" (tab
                      separated, agree is yes/no) appended by the fault group

Exit status: 0 on success, 2 on a missing or unreadable input (one line on
stderr). Python 3 standard library only.
"""

import json
import os
import re
import sys

import ptcli  # noqa: E402  (shared with the other ptbench tools)

PROG = "report.py"
FAULT_COLUMNS = ["mode", "scenario", "truth", "heuristic", "agree"]
PASS_RESULTS = {"OK", "EXPECTEDFAIL"}
SKIP_RESULTS = {"SKIP"}

# "ok 3 - name # SKIP reason", "not ok 2 # SKIP name" (cmocka), "ok 1"
TAP_LINE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
TAP_SKIP = re.compile(r"^skip\S*\s*(.*)$", re.IGNORECASE)
# probe.json integers shown in hex
ADDRESS_KEY = re.compile(r"(address|addr|_start|_end)$")


InputError = ptcli.InputError


# ------------------------------------------------------------------ inputs

def read_text(path, what):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as e:
        raise InputError(f"cannot read {what} {path}: {e.strerror}") from e


def load_probe(path):
    text = read_text(path, "probe")
    if not text.strip():
        raise InputError(f"probe file is empty: {path}")
    try:
        probe = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"probe file is not JSON: {path}: {e}") from e
    if not isinstance(probe, dict):
        raise InputError(f"probe file is not a JSON object: {path}")
    return probe


def load_testlog(path, allow_empty=False):
    """Return the list of test objects of a meson testlog.json."""
    text = read_text(path, "test log")
    tests = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: line {n} is not JSON: {e}") from e
        if not isinstance(obj, dict) or "name" not in obj or "result" not in obj:
            raise InputError(f"{path}: line {n} is not a meson test result")
        tests.append(obj)
    if not tests and not allow_empty:
        raise InputError(f"test log has no test results: {path}")
    return tests


def load_fault_table(path):
    """Return (columns, rows), or None if the file does not exist.

    Several test programs append to the file; each may write the header if
    it saw the file empty, so every line equal to the header is skipped.
    """
    if path is None or not os.path.exists(path):
        return None
    text = read_text(path, "fault table")
    columns = list(FAULT_COLUMNS)
    rows = []
    header_seen = False
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if fields and fields[0].strip() == "mode":
            if not header_seen:
                columns = [c.strip() for c in fields]
                header_seen = True
            continue
        rows.append(fields)
    return columns, rows


# ------------------------------------------------------------------ TAP

def short_name(meson_name):
    """'ptbench:conformance+fault / fault/lean' -> 'fault/lean'."""
    return meson_name.split(" / ", 1)[-1]


def classify(result):
    if result in PASS_RESULTS:
        return "passed"
    if result in SKIP_RESULTS:
        return "skipped"
    return "failed"


def parse_tap(text):
    """Count top-level TAP lines: ok, not ok, skip; collect skip reasons.

    A line with a SKIP directive counts as a skip whether it says "ok" or
    "not ok" (cmocka prints "not ok N # SKIP name"). Indented (subtest)
    lines and comments are ignored.
    """
    ok = not_ok = skip = 0
    reasons = []
    for line in (text or "").splitlines():
        line = line.rstrip("\r")
        m = TAP_PLAN.match(line)
        if m:
            directive = m.group(2) or ""
            sm = TAP_SKIP.match(directive)
            if m.group(1) == "0" and sm:
                skip += 1
                reasons.append(("(whole program)", sm.group(1).strip()))
            continue
        m = TAP_LINE.match(line)
        if not m:
            continue
        status, _num, desc, directive = m.groups()
        sm = TAP_SKIP.match(directive or "")
        if sm:
            skip += 1
            reasons.append((desc.strip(), sm.group(1).strip()))
        elif status == "ok":
            ok += 1
        else:
            not_ok += 1
    return ok, not_ok, skip, reasons


# ------------------------------------------------------------------ Markdown

def cell(value):
    s = str(value).replace("\r", " ").replace("\n", " ").strip()
    return s.replace("|", "\\|") if s else " "


def table(header, rows):
    out = ["| " + " | ".join(cell(h) for h in header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        r = list(r) + [""] * (len(header) - len(r))
        out.append("| " + " | ".join(cell(c) for c in r) + " |")
    return out


def show_value(key, value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "unknown"
    if isinstance(value, int) and ADDRESS_KEY.search(key):
        return f"{value:#x}"
    if isinstance(value, (dict, list)):
        return "`" + json.dumps(value, separators=(", ", ": ")) + "`"
    return str(value)


def render(args):
    probe = load_probe(args.probe)
    tests = load_testlog(args.testlog)
    fault = load_fault_table(args.fault)

    lines = [f"# ptbench report: {args.host}, Linux {args.kernel}", ""]
    lines += table(["field", "value"], [
        ["host", args.host],
        ["kernel", args.kernel],
        ["arch", args.arch],
        ["date (UTC)", args.date],
        ["commit", args.commit],
    ])

    lines += ["", "## Kernel capabilities (probe.json)", ""]
    lines += table(["capability", "value"],
                   [[k, show_value(k, v)] for k, v in probe.items()])

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    rows = []
    skips = []
    for t in tests:
        name = short_name(t["name"])
        counts[classify(t["result"])] += 1
        ok, not_ok, skip, reasons = parse_tap(t.get("stdout"))
        dur = t.get("duration")
        dur = f"{dur:.2f} s" if isinstance(dur, (int, float)) else "?"
        rows.append([name, t["result"], dur, ok, not_ok, skip])
        skips += [(name, d, r) for d, r in reasons]

    lines += ["", "## Conformance", ""]
    lines.append(f"{counts['passed']} passed, {counts['failed']} failed, "
                 f"{counts['skipped']} skipped, of {len(tests)} test programs "
                 "(TAP columns count the cases inside each program).")
    lines.append("")
    lines += table(["test", "result", "duration", "ok", "not ok", "skip"], rows)
    lines += ["", "### Skipped cases", ""]
    if skips:
        for name, desc, reason in skips:
            what = f"`{name}`" + (f" {desc}" if desc else "")
            lines.append(f"- {what}: {reason or '(no reason given)'}")
    else:
        lines.append("None.")

    lines += ["", "## Fault heuristic accuracy", ""]
    if fault is None:
        lines.append("No fault table (fault-accuracy.tsv is missing).")
    elif not fault[1]:
        lines.append("No fault table rows (fault-accuracy.tsv is empty).")
    else:
        columns, frows = fault
        try:
            mi = columns.index("mode")
            ai = columns.index("agree")
        except ValueError:
            mi, ai = 0, len(FAULT_COLUMNS) - 1
        per_mode = {}
        for r in frows:
            mode = r[mi].strip() if mi < len(r) else "?"
            agree = r[ai].strip().lower() == "yes" if ai < len(r) else False
            n = per_mode.setdefault(mode, [0, 0])
            n[0] += agree
            n[1] += 1
        for mode, (a, m) in per_mode.items():
            lines.append(f"- {mode}: agree {a} of {m}")
        lines.append("")
        lines += table(columns, frows)

    lines += ["", "## Benchmarks", ""]
    lines += bench_section(args)

    write_atomic(args.out, "\n".join(lines) + "\n")
    return 0


def bench_section(args):
    """The benchmark summary (summary.md), headings moved one level down,
    or the note that says why there is none."""
    out = []
    if args.bench_note:
        out += [args.bench_note, ""]
    if not args.bench_summary:
        if not args.bench_note:
            out.append("No benchmark results.")
        return out
    text = read_text(args.bench_summary, "benchmark summary")
    name = os.path.basename(args.bench_summary)
    folder = os.path.dirname(os.path.abspath(args.bench_summary))
    links = [f"[{name}]({name}) (included below)"]
    for f, what in (("checks.json", "the self-checks for machines"),
                    ("bench.json", "Google Benchmark JSON"),
                    ("bench.partial.json", "Google Benchmark JSON, cut short"),
                    ("plots/", "PNG, SVG and gnuplot data"),
                    ("samples/", "latency samples, ns")):
        if os.path.exists(os.path.join(folder, f)):
            links.append(f"[{f}]({f}) ({what})")
    out.append("Quick benchmarks of this run: " + ", ".join(links) + ".")
    out.append("")
    body = text.splitlines()
    if body and body[0].startswith("# "):
        body = body[1:]
    while body and not body[0].strip():
        body = body[1:]
    in_code = False
    for line in body:
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(r"^#{1,5} ", line):
            line = "#" + line
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return out


# ------------------------------------------------------------------ output

write_atomic = ptcli.write_atomic


def count(args):
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for path in args.testlog:
        for t in load_testlog(path, allow_empty=True):
            totals[classify(t["result"])] += 1
    print(totals["passed"], totals["failed"], totals["skipped"])
    return 0


def sanitize(args):
    tests = load_testlog(args.testlog, allow_empty=True)
    out = []
    for t in tests:
        t.pop("env", None)
        out.append(json.dumps(t, sort_keys=False))
    write_atomic(args.out, "".join(line + "\n" for line in out))
    return 0


def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("render", help="write report.md")
    r.add_argument("--probe", required=True)
    r.add_argument("--testlog", required=True)
    r.add_argument("--fault", help="fault-accuracy.tsv (may be missing)")
    r.add_argument("--out", required=True, help="report.md to write")
    r.add_argument("--host", default="unknown")
    r.add_argument("--kernel", default="unknown")
    r.add_argument("--arch", default="unknown")
    r.add_argument("--date", default="unknown")
    r.add_argument("--commit", default="unknown")
    r.add_argument("--bench-summary", help="summary.md of bench_report.py to include")
    r.add_argument("--bench-note", help="a line for the benchmark section")
    r.set_defaults(func=render)

    c = sub.add_parser("count", help='print "PASSED FAILED SKIPPED"')
    c.add_argument("testlog", nargs="+")
    c.set_defaults(func=count)

    s = sub.add_parser("sanitize", help="copy a testlog without environments")
    s.add_argument("testlog")
    s.add_argument("out")
    s.set_defaults(func=sanitize)

    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
