#!/usr/bin/env python3
"""Renders a soak run (scripts/ptbench soak): the full soak and tracer-death
JSON files, the fault suite's TAP files and the repeated CI-sized runs
that give the leak oracle's false-alarm and detection rates (with Wilson
95% intervals; their verdicts are condensed into repeat.json), into
summary.json and summary.md (written last).

usage: soak_report.py render --outdir DIR --commit C --host H --kernel K"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptcli  # noqa: E402
import ptfmt  # noqa: E402

PROG = "soak_report.py"


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ptcli.InputError(f"{path}: not JSON: {e}") from e


def tap_counts(path):
    t = ptfmt.read_tap(path)
    # complete: a plan met and no bail-out (a fault run cut short is not a pass)
    return {"passed": t.passed, "failed": t.failed, "skipped": t.skipped,
            "complete": t.plan == t.count and t.bail_out is None}


def repeated_verdicts(outdir):
    """{kind: [verdict...]} of the repeated runs: from outdir/repeat/ (one
    JSON per run, which is then condensed into repeat.json), or from
    repeat.json once the per-run files are gone."""
    condensed = os.path.join(outdir, "repeat.json")
    files = sorted(glob.glob(os.path.join(outdir, "repeat", "*.json")))
    if not files:
        if not os.path.exists(condensed):
            raise ptcli.InputError(f"no repeated runs in {outdir}/repeat or {condensed}")
        return load(condensed)
    out = {}
    try:
        for f in files:
            kind = os.path.basename(f).rsplit("-", 1)[0]
            out.setdefault(kind, []).append(load(f)["verdict"])
    except (KeyError, TypeError) as e:
        raise ptcli.InputError(f"{outdir}/repeat: a run without a verdict ({e!r})") from e
    ptcli.write_atomic(condensed, json.dumps(out, indent=1) + "\n")
    return out


def rate(verdicts, kind):
    """The leak verdicts among the repeated runs of one kind."""
    v = verdicts.get(kind)
    if not v:
        raise ptcli.InputError(f"no repeated runs of kind {kind}")
    leaks = sum(x == "leak" for x in v)
    errors = sum(x == "error" for x in v)
    lo, hi = ptfmt.wilson(leaks, len(v))
    return {"runs": len(v), "leak_verdicts": leaks, "errors": errors,
            "rate": leaks / len(v), "wilson95": [round(lo, 4), round(hi, 4)]}


def render(args):
    out = args.outdir
    s = {"commit": args.commit, "host": args.host, "kernel": args.kernel,
         "soak": {}, "tracer_death": {}, "faults": {}, "oracle": {}}
    for path in sorted(glob.glob(os.path.join(out, "soak-*.json"))):
        d = load(path)
        # A systrap run is named by its backend (it has one mode).
        s["soak"]["systrap" if d.get("backend") == "systrap" else d["mode"]] = d
    for path in sorted(glob.glob(os.path.join(out, "tracer-death-*.json"))):
        d = load(path)
        s["tracer_death"][os.path.basename(path)[len("tracer-death-"):-5]] = d
    for path in sorted(glob.glob(os.path.join(out, "faults-*.tap"))):
        s["faults"][os.path.basename(path)[len("faults-"):-4]] = tap_counts(path)
    verdicts = repeated_verdicts(out)
    s["oracle"]["clean"] = rate(verdicts, "clean")
    for kind in ("fd", "thread", "map"):
        s["oracle"][f"planted_{kind}"] = rate(verdicts, f"plant-{kind}")
    if not s["soak"] or not s["tracer_death"]:
        raise ptcli.InputError(f"{out}: no soak-*.json or tracer-death-*.json")

    try:
        ok = all(d["verdict"] == "flat" for d in s["soak"].values())
        ok &= all(d["as_expected"] for d in s["tracer_death"].values())
    except (KeyError, TypeError) as e:
        raise ptcli.InputError(f"{out}: a result without a verdict ({e!r})") from e
    ok &= all(c["failed"] == 0 and c["complete"] for c in s["faults"].values())
    ok &= s["oracle"]["clean"]["leak_verdicts"] == 0
    ok &= all(s["oracle"][f"planted_{k}"]["leak_verdicts"] == s["oracle"][f"planted_{k}"]["runs"]
              for k in ("fd", "thread", "map"))
    s["all_as_expected"] = ok
    try:
        md = markdown(s)
    except (KeyError, TypeError, IndexError) as e:
        raise ptcli.InputError(f"{out}: a result file lacks a field ({e!r}): "
                               "written by another version of the programs?") from e
    ptcli.write_atomic(os.path.join(out, "summary.json"), json.dumps(s, indent=2) + "\n")
    ptcli.write_atomic(os.path.join(out, "summary.md"), md)
    return 0 if ok else 1


def markdown(s):
    table = ptfmt.table
    L = [f"# Soak and fault run ({s['commit']}, {s['host']}, Linux {s['kernel']})", ""]
    L += ["Verdict: " + ("everything as expected" if s["all_as_expected"]
                         else "**NOT as expected** (see below)"), ""]
    L += ["## Soak (leak oracle)", ""]
    rows = []
    for mode, d in s["soak"].items():
        for ph in d["phases"]:
            w, e = ph["samples"][ph["warmup_sample"]], ph["samples"][-1]

            def pair(k):
                return f"{w[k]} → {e[k]}"
            rows.append([mode, ph["name"], ph["work"], f"{ph['elapsed_s']:.1f}",
                         ", ".join(ph["leaks"]) or "none",
                         f"{ph['max_traced_threads']} / {ph['bound_traced_threads']}",
                         pair("tracer_tasks"), pair("tracer_fds"), pair("tracer_maps"),
                         pair("tracer_rss_kib"), pair("stub_processes"), pair("stub_tasks")])
    L += table(["mode", "phase", "work", "s", "leaks", "traced threads max / bound",
                "tasks", "fds", "maps", "RSS KiB", "stub procs", "stub tasks"], rows)
    L += ["", "Columns show the value after the warm-up → at the end.", "",
          "The whole run, before the first platform and after the last "
          "(tasks, fds and stubs must match; maps and RSS keep glibc's caches):", ""]
    for mode, d in s["soak"].items():
        b, a = d["before_run"], d["after_run"]
        L.append(f"- {mode}: " + ", ".join(
            f"{k} {b[k]} → {a[k]}" for k in ("tracer_tasks", "tracer_fds", "stub_processes",
                                             "tracer_maps", "tracer_rss_kib")))
    L += ["", "## Memory per address space and per traced thread", ""]
    rows = []
    for mode, d in s["soak"].items():
        m = d["memory"]
        rows.append([mode, f"{m['held_as']} address spaces", f"{m['as_stub_pss_kib']:.2f}",
                     f"{m['as_stub_rss_kib']:.2f}", f"{m['as_page_tables_kib']:.2f}",
                     f"{m['as_kernel_stack_kib_systemwide']:.1f}",
                     f"{m['as_tracer_rss_kib']:.2f}"])
        rows.append([mode, f"{m['held_threads']} traced threads",
                     f"{m['thread_stub_pss_kib']:.2f}", "", "",
                     f"{m['thread_kernel_stack_kib_systemwide']:.1f}",
                     f"{m['thread_tracer_rss_kib_with_its_pthread']:.2f} (with its pthread)"])
    L += table(["mode", "held", "stub PSS KiB", "stub RSS KiB", "page tables KiB",
                "kernel stack KiB (system-wide)", "tracer RSS KiB"], rows)
    L += ["", "## Tracer death", ""]
    rows = []
    for name, d in s["tracer_death"].items():
        t = d["time_to_gone_us"]
        phases = ", ".join(f"{k} {v}" for k, v in d["main_thread_phase_at_kill"].items() if v)
        hit = d["kills_with_a_leftover"]
        lo, hi = ptfmt.wilson(hit, d["kills"])
        rows.append([name, d["kills"], d["seed"], d["leftover_processes"],
                     f"{hit} [{lo:.3f}, {hi:.3f}]", d["tracer_exits_not_by_the_kill"],
                     f"{t['p50'] / 1000:.1f} / {t['p90'] / 1000:.1f} / {t['max'] / 1000:.1f}",
                     phases])
    L += table(["run", "kills", "seed", "leftovers", "kills with a leftover (Wilson 95%)",
                "tracer exits not by the kill", "gone p50 / p90 / max (ms)",
                "main thread's phase at the kill"], rows)
    L += ["", "## Fault cases (rel-faults)", ""]
    L += table(["mode", "passed", "failed", "skipped", "complete (plan met)"],
               [[mode, c["passed"], c["failed"], c["skipped"],
                 "yes" if c.get("complete", True) else "NO"] for mode, c in s["faults"].items()])
    L += ["", "## The leak oracle's error rates (CI-sized runs)", ""]
    L += table(["runs", "leak verdicts", "rate", "Wilson 95%"],
               [[f"{name}: {r['runs']}", r["leak_verdicts"], f"{r['rate']:.3f}",
                 f"[{r['wilson95'][0]:.3f}, {r['wilson95'][1]:.3f}]"]
                for name, r in s["oracle"].items()])
    L += ["", "`clean` is the false-alarm rate; `planted_*` the detection rate of one "
          "planted leak per 10 cycles and per switch round.", ""]
    return "\n".join(L)


def main(argv):
    p = ptcli.Parser(prog=PROG)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--outdir", required=True)
    r.add_argument("--commit", default="unknown")
    r.add_argument("--host", default="unknown")
    r.add_argument("--kernel", default="unknown")
    r.set_defaults(func=render)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
