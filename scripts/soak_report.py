#!/usr/bin/env python3
"""Renders a soak run (scripts/ptbench soak): the full soak and tracer-death
JSON files, the fault suite's TAP files and the repeated CI-sized runs
that give the leak oracle's false-alarm and detection rates (with Wilson
95% intervals; their verdicts are condensed into repeat.json), into
summary.json and summary.md (written last).

usage: soak_report.py render --outdir DIR --commit C --host H --kernel K"""

import glob
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptcli  # noqa: E402

PROG = "soak_report.py"


def wilson(k, n, z=1.96):
    """The Wilson score interval of k successes in n trials."""
    if n <= 0:
        raise ptcli.InputError("a rate over zero runs")
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ptcli.InputError(f"{path}: not JSON: {e}") from e


def tap_counts(path):
    ok = notok = skip = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("ok "):
                if "# SKIP" in line:
                    skip += 1
                else:
                    ok += 1
            elif line.startswith("not ok "):
                notok += 1
    return {"passed": ok, "failed": notok, "skipped": skip}


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
    lo, hi = wilson(leaks, len(v))
    return {"runs": len(v), "leak_verdicts": leaks, "errors": errors,
            "rate": leaks / len(v), "wilson95": [round(lo, 4), round(hi, 4)]}


def render(args):
    out = args.outdir
    s = {"commit": args.commit, "host": args.host, "kernel": args.kernel,
         "soak": {}, "tracer_death": {}, "faults": {}, "oracle": {}}
    for path in sorted(glob.glob(os.path.join(out, "soak-*.json"))):
        d = load(path)
        s["soak"][d["mode"]] = d
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
    ok &= all(c["failed"] == 0 for c in s["faults"].values())
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
    L = [f"# Soak and fault run ({s['commit']}, {s['host']}, Linux {s['kernel']})", ""]
    L += ["Verdict: " + ("everything as expected" if s["all_as_expected"]
                         else "**NOT as expected** (see below)"), ""]
    L += ["## Soak (leak oracle)", "",
          "| mode | phase | work | s | leaks | traced threads max / bound | "
          "tasks | fds | maps | RSS KiB | stub procs | stub tasks |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for mode, d in s["soak"].items():
        for ph in d["phases"]:
            w, e = ph["samples"][ph["warmup_sample"]], ph["samples"][-1]

            def pair(k):
                return f"{w[k]} → {e[k]}"
            L.append(f"| {mode} | {ph['name']} | {ph['work']} | {ph['elapsed_s']:.1f} | "
                     f"{', '.join(ph['leaks']) or 'none'} | "
                     f"{ph['max_traced_threads']} / {ph['bound_traced_threads']} | "
                     f"{pair('tracer_tasks')} | {pair('tracer_fds')} | {pair('tracer_maps')} | "
                     f"{pair('tracer_rss_kib')} | {pair('stub_processes')} | {pair('stub_tasks')} |")
    L += ["", "Columns show the value after the warm-up → at the end.", "",
          "The whole run, before the first platform and after the last "
          "(tasks, fds and stubs must match; maps and RSS keep glibc's caches):", ""]
    for mode, d in s["soak"].items():
        b, a = d["before_run"], d["after_run"]
        L.append(f"- {mode}: " + ", ".join(
            f"{k} {b[k]} → {a[k]}" for k in ("tracer_tasks", "tracer_fds", "stub_processes",
                                             "tracer_maps", "tracer_rss_kib")))
    L.append("")
    L += ["## Memory per address space and per traced thread", "",
          "| mode | held | stub PSS KiB | stub RSS KiB | page tables KiB | "
          "kernel stack KiB (system-wide) | tracer RSS KiB |", "|---|---|---|---|---|---|---|"]
    for mode, d in s["soak"].items():
        m = d["memory"]
        L.append(f"| {mode} | {m['held_as']} address spaces | {m['as_stub_pss_kib']:.2f} | "
                 f"{m['as_stub_rss_kib']:.2f} | {m['as_page_tables_kib']:.2f} | "
                 f"{m['as_kernel_stack_kib_systemwide']:.1f} | {m['as_tracer_rss_kib']:.2f} |")
        L.append(f"| {mode} | {m['held_threads']} traced threads | {m['thread_stub_pss_kib']:.2f} | "
                 f"| | {m['thread_kernel_stack_kib_systemwide']:.1f} | "
                 f"{m['thread_tracer_rss_kib_with_its_pthread']:.2f} (with its pthread) |")
    L += ["", "## Tracer death", "",
          "| run | kills | seed | leftovers | kills with a leftover (Wilson 95%) | "
          "tracer exits not by the kill | gone p50 / p90 / max (ms) | "
          "main thread's phase at the kill |",
          "|---|---|---|---|---|---|---|---|"]
    for name, d in s["tracer_death"].items():
        t = d["time_to_gone_us"]
        phases = ", ".join(f"{k} {v}" for k, v in d["main_thread_phase_at_kill"].items() if v)
        hit = d["kills_with_a_leftover"]
        lo, hi = wilson(hit, d["kills"])
        L.append(f"| {name} | {d['kills']} | {d['seed']} | {d['leftover_processes']} | "
                 f"{hit} [{lo:.3f}, {hi:.3f}] | "
                 f"{d['tracer_exits_not_by_the_kill']} | {t['p50'] / 1000:.1f} / "
                 f"{t['p90'] / 1000:.1f} / {t['max'] / 1000:.1f} | {phases} |")
    L += ["", "## Fault cases (rel-faults)", "", "| mode | passed | failed | skipped |",
          "|---|---|---|---|"]
    for mode, c in s["faults"].items():
        L.append(f"| {mode} | {c['passed']} | {c['failed']} | {c['skipped']} |")
    L += ["", "## The leak oracle's error rates (CI-sized runs)", "",
          "| runs | leak verdicts | rate | Wilson 95% |", "|---|---|---|---|"]
    for name, r in s["oracle"].items():
        lo, hi = r["wilson95"]
        L.append(f"| {name}: {r['runs']} | {r['leak_verdicts']} | {r['rate']:.3f} | "
                 f"[{lo:.3f}, {hi:.3f}] |")
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
