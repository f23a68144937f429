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
  fault-accuracy.tsv  rows "backend mode scenario truth heuristic agree
                      exact exact_agree" (the first and last two optional; tab
                      separated, agree is yes/no) appended by the fault group

Exit status: 0 on success, 2 on a missing or unreadable input (one line on
stderr). Python 3 standard library only.
"""

import json
import os
import re
import sys

import ptcli  # noqa: E402  (shared with the other ptbench tools)
import ptfmt  # noqa: E402  (the one reader per format)

PROG = "report.py"
FAULT_COLUMNS = ["mode", "scenario", "truth", "heuristic", "agree"]
PASS_RESULTS = {"OK", "EXPECTEDFAIL"}
SKIP_RESULTS = {"SKIP"}

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
        if {"mode", "scenario"} <= {f.strip() for f in fields}:
            if not header_seen:
                columns = [c.strip() for c in fields]
                header_seen = True
            continue
        rows.append(fields)
    return columns, rows


# ------------------------------------------------------------------ tests

def short_name(meson_name):
    """'ptbench:conformance+fault / fault/lean' -> 'fault/lean'."""
    return meson_name.split(" / ", 1)[-1]


def classify(result):
    if result in PASS_RESULTS:
        return "passed"
    if result in SKIP_RESULTS:
        return "skipped"
    return "failed"


table = ptfmt.table


def show_value(key, value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "unknown"
    if isinstance(value, int) and ADDRESS_KEY.search(key):
        return f"{value:#x}"
    if isinstance(value, list):
        return ", ".join(show_value(key, v) for v in value) or "none"
    if isinstance(value, dict):
        return "`" + json.dumps(value, separators=(", ", ": ")) + "`"
    return str(value)


def probe_rows(probe):
    """One row per capability; an object (mitigations, seccomp filter
    flags) gives one row per member, "name: member"."""
    rows = []
    for k, v in probe.items():
        if isinstance(v, dict) and v:
            rows += [[f"{k}: {sk}", show_value(sk, sv)] for sk, sv in v.items()]
        elif isinstance(v, dict):
            rows.append([k, "none"])
        else:
            rows.append([k, show_value(k, v)])
    return rows


# Test programs by their meson suite, in this order; others after them.
SUITE_TITLES = {
    "conformance": "Conformance",
    "reliability": "Reliability",
    "fuzz": "Fuzz replay",
    "compare": "Unit tests (bench/compare)",
}


def suite_of(test):
    """The first suite of a meson test: its name says it before " / "
    ('ptbench:conformance+fault / fault/lean' -> 'conformance'); a name
    without one gives its part before '/'."""
    name = test["name"]
    if " / " in name:
        return name.split(" / ", 1)[0].split(":", 1)[-1].split("+", 1)[0]
    return name.split("/", 1)[0]


def test_sections(tests):
    """Markdown lines: per suite, one row per program with its TAP cases
    and a total row; then the skipped cases."""
    groups = {}
    for t in tests:
        groups.setdefault(suite_of(t), []).append(t)
    order = [g for g in SUITE_TITLES if g in groups] + [g for g in groups if g not in SUITE_TITLES]
    progs = {"passed": 0, "failed": 0, "skipped": 0}
    cases = [0, 0, 0, 0]
    body, skips = [], []
    for g in order:
        rows, tot, gprog, secs = [], [0, 0, 0, 0], {"passed": 0, "failed": 0, "skipped": 0}, 0.0
        for t in groups[g]:
            name = short_name(t["name"])
            gprog[classify(t["result"])] += 1
            tap = ptfmt.parse_tap(t.get("stdout"))
            dur = t.get("duration")
            if isinstance(dur, (int, float)):
                secs += dur
            counts = [tap.passed, tap.failed, tap.skipped, tap.todo]
            tot = [a + b for a, b in zip(tot, counts)]
            if tap.verdict == "none":
                counts, plan = ["", "", "", ""], "(no TAP: exit status only)"
            else:
                plan = "none" if tap.plan is None else tap.plan
            rows.append([name, t["result"], f"{dur:.2f}" if isinstance(dur, (int, float)) else "?",
                         *counts, plan])
            skips += [(name, d, r) for d, r in tap.skips]
        rows.append([f"**total: {len(groups[g])} programs**",
                     f"{gprog['passed']} passed, {gprog['failed']} failed, {gprog['skipped']} skipped",
                     f"{secs:.2f}", *tot, ""])
        for k in progs:
            progs[k] += gprog[k]
        cases = [a + b for a, b in zip(cases, tot)]
        body += ["", f"### {SUITE_TITLES.get(g, 'Suite ' + g)}", ""]
        body += table(["test", "result", "duration (s)", "cases passed", "failed",
                       "skipped", "todo", "planned"], rows, align="llrrrrrr")
    head = [f"{len(tests)} test programs: {progs['passed']} passed, {progs['failed']} failed, "
            f"{progs['skipped']} skipped. Their TAP cases: {cases[0]} passed, {cases[1]} failed, "
            f"{cases[2]} skipped, {cases[3]} todo (of {sum(cases)}). Programs are grouped by "
            "meson suite; the unit tests of the tools are apart from the conformance suite."]
    tail = ["", "### Skipped cases", ""]
    if skips:
        for name, desc, reason in skips:
            what = f"`{name}`" + (f" {desc}" if desc else "")
            tail.append(f"- {what}: {reason or '(no reason given)'}")
    else:
        tail.append("None.")
    return head + body + tail


def fault_section(fault):
    """The fault-accuracy table grouped by scenario: one column per backend
    and mode found in the file (a row without a backend is ptrace's) with
    what the heuristic reported, and beside it, where the platform tells
    the access the CPU made (an exact column other than n/a), a column of
    that exact access."""
    if fault is None:
        return ["No fault table (fault-accuracy.tsv is missing)."]
    columns, frows = fault
    if not frows:
        return ["No fault table rows (fault-accuracy.tsv is empty)."]
    missing = [c for c in FAULT_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"fault table: no column {', '.join(missing)} in its header")
    cols, scen = [], {}
    for fields in frows:
        r = {c: (fields[i].strip() if i < len(fields) else "") for i, c in enumerate(columns)}
        col = f"{r.get('backend') or 'ptrace'}/{r['mode'] or '?'}"
        exact = r.get("exact") or "n/a"
        for c in [col] + ([col + " exact"] if exact != "n/a" else []):
            if c not in cols:
                cols.append(c)
        sc = scen.setdefault(r["scenario"], {"truth": [], "cells": {}})
        if r["truth"] not in sc["truth"]:
            sc["truth"].append(r["truth"])
        sc["cells"].setdefault(col, []).append((r["heuristic"], r["agree"].lower() == "yes"))
        if exact != "n/a":
            sc["cells"].setdefault(col + " exact", []).append(
                (exact, (r.get("exact_agree") or "").lower() == "yes"))
    agree_n = {c: [0, 0] for c in cols}
    rows = []
    for name, sc in scen.items():
        row = [name, " / ".join(sc["truth"])]
        for c in cols:
            got = sc["cells"].get(c)
            if not got:
                row.append("(not run)")
                continue
            for _h, a in got:
                agree_n[c][0] += a
                agree_n[c][1] += 1
            row.append("; ".join(h + ("" if a else " (DISAGREES)") for h, a in got))
        rows.append(row)
    rows.append(["**agree**", ""] + [f"{a} of {m}" for a, m in agree_n.values()])
    out = ["What the fault heuristic reported for each scenario, per backend and "
           "mode, and in the columns marked exact the access the CPU reported where "
           "the platform tells it (systrap: the page fault's error code). DISAGREES: "
           "not the truth's access; the conformance cases assert the heuristic's "
           "documented false results.", ""]
    return out + table(["scenario", "truth"] + cols, rows)


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
    lines += table(["capability", "value"], probe_rows(probe))
    lines += ["", "## Tests", ""] + test_sections(tests)
    lines += ["", "## Fault heuristic accuracy", ""] + fault_section(fault)
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
