#!/usr/bin/env python3
"""fuzz_report.py: summary.json and summary.md of one `ptbench fuzz` run,
from the engine's stats.json and libFuzzer's log. Escapes are also given as
a false-alarm (or miss) rate with its Wilson 95% interval."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import ptcli  # noqa: E402
from gate import wilson  # noqa: E402  (the project's one Wilson interval)


def libfuzzer_figures(log_path):
    """The last status line's cov/ft/corp, and libFuzzer's final stats."""
    out = {}
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise ptcli.InputError(f"{log_path}: {e.strerror}")
    status = re.findall(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", text, re.M)
    if status:
        n, cov, ft, corp, corp_size = status[-1]
        out.update(libfuzzer_units=int(n), coverage_edges=int(cov), features=int(ft),
                   corpus_units=int(corp), corpus_size=corp_size)
    for key, val in re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M):
        out[key] = int(val)
    out["crash_artifacts"] = len(re.findall(r"Test unit written to \S*(?:crash|leak|timeout|oom)-", text))
    out["timeouts"] = len(re.findall(r"ALARM: working on the last Unit for", text))
    return out


def render(args):
    try:
        with open(args.stats, encoding="utf-8") as f:
            st = json.load(f)
    except (OSError, ValueError) as e:
        raise ptcli.InputError(f"{args.stats}: {e}")
    need = ("executions", "escapes", "hangs", "oracle_violations", "distinct_outcomes",
            "emulated_syscalls", "distinct_first_syscalls", "outcomes")
    lacks = [k for k in need if k not in st] if isinstance(st, dict) else list(need)
    if lacks:
        raise ptcli.InputError(f"{args.stats}: not the engine's stats.json (lacks {', '.join(lacks)})")
    lf = libfuzzer_figures(args.log)
    n, esc = st["executions"], st["escapes"]
    lo, hi = wilson(esc, n)
    lo = 0.0 if esc == 0 else lo  # float noise at k = 0
    hangs = st["hangs"] + lf["timeouts"]
    summary = dict(st, libfuzzer=lf, control=args.control, hangs_total=hangs, exit_status=args.exit_status,
                   escape_rate_ci95=[lo, hi], host=args.host, kernel=args.kernel,
                   commit=args.commit, date=args.date,
                   executions_per_second=n / st["seconds"] if st.get("seconds") else None)
    ptcli.write_atomic(os.path.join(args.outdir, "summary.json"),
                       json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if args.control:
        # The positive control passes only when the fuzzer reported an escape.
        verdict = "PASS (escape reported)" if esc > 0 and args.exit_status != 0 else "FAIL (no escape)"
    else:
        verdict = "PASS" if esc == 0 and hangs == 0 and args.exit_status == 0 else "FAIL"
    rows = [
        ("executions", f"{n:,}"),
        ("escapes (outcome or oracle)", f"{esc} (Wilson 95%: {lo:.2e} to {hi:.2e} per execution)"),
        ("oracle violations", str(st["oracle_violations"])),
        ("hangs (engine watchdog + libFuzzer timeouts)", str(hangs)),
        ("self-kills (systrap: the app ended its own address space, nothing else felt it; "
         "not escapes)", f"{st.get('classes', {}).get('self-kill', 0):,}"),
        ("distinct outcomes", str(st["distinct_outcomes"])),
        ("emulated syscalls (distinct first numbers)",
         f"{st['emulated_syscalls']:,} ({st['distinct_first_syscalls']})"),
        ("time", f"{st.get('seconds', 0):.0f} s, {summary['executions_per_second'] or 0:.0f} executions/s"),
        ("corpus", f"{lf.get('corpus_units', '?')} units ({lf.get('corpus_size', '?')})"),
        ("libFuzzer coverage (cov / ft)",
         f"{lf.get('coverage_edges', '?')} / {lf.get('features', '?')} (tracer-side code "
         "plus outcome features; the app runs in another process)"),
        ("backend", st.get("backend", "ptrace")),
        ("mode", st.get("mode", "?")),
        ("libFuzzer exit status", str(args.exit_status)),
    ]
    title = "Positive control (PTRACE_CONT core)" if args.control else "Fuzz run"
    md = [f"# {title} {args.date}: {verdict}", "",
          f"Host {args.host}, kernel {args.kernel}, commit {args.commit}.", "",
          "| figure | value |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in rows]
    md += ["", "| outcome | executions |", "|---|---|"]
    for key, count in sorted(st["outcomes"].items(), key=lambda kv: -kv[1]):
        md.append(f"| `{key}` | {count:,} |")
    if st.get("first_escape"):
        md += ["", f"First escape: {st['first_escape']}"]
    md += ["", "Outcome keys: `fault:<si_code>:<access r/w/x from the core's heuristic>`, "
           "`signal:<SIG>:<si_code>`, `syscalls` (the stop limit reached, every "
           "syscall answered -ENOSYS), `interrupted` (the watchdog), `refused` (the app left 64-bit mode; the core retired its address space), `self-kill` (systrap: "
           "the address space died, the sentinel address space and the full oracle unaffected), "
           "`died` / `hung` / `bogus-event` (escapes)."]
    ptcli.write_atomic(os.path.join(args.outdir, "summary.md"), "\n".join(md) + "\n")
    print(f"{verdict}: {n} executions, {esc} escapes, {hangs} hangs")
    return 0 if verdict.startswith("PASS") else 1


def main(argv):
    p = ptcli.Parser(prog="fuzz_report.py", description=__doc__)
    p.add_argument("--stats", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--outdir", required=True)
    p.add_argument("--exit-status", type=int, required=True)
    p.add_argument("--control", action="store_true",
                   help="the PTRACE_CONT control: an escape is the expected result")
    for k in ("host", "kernel", "commit", "date"):
        p.add_argument("--" + k, default="?")
    p.set_defaults(func=render)
    return ptcli.run("fuzz_report.py", p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
