#!/usr/bin/python3
"""The benchmark history: one record of key figures per run, and a trend
plot per benchmark family.

Usage:
  history.py append RESULTS_DIR [--history FILE] [--plot] [--commit C]
                    [--host H] [--kernel K] [--date D]
      Append one record for RESULTS_DIR/bench.json to FILE (default
      results/history/history.jsonl): run (the folder's name), commit,
      kernel, host, date, arch, cpu, the repetitions, and per key benchmark
      its median real time (ns), cv and repetitions, plus the within-run
      ratios of the CI gate (scripts/gate.py). Values come from the JSON's
      context, or the options. A run already recorded is not added twice.
      With --plot, redraws the plots afterwards.
  history.py plot [--history FILE] [--outdir DIR] [--host H|all]
      Draw DIR/<family>.png and .svg (default DIR: the history file's
      folder) with gnuplot: the medians of each family's key benchmarks,
      one line each, over the recorded runs in date order (x labels: commit
      and date). Only the runs of one host are drawn (default: the host of
      the newest record; "all" for every host): figures of different
      machines do not make a trend. The ratios are drawn as the family
      "ratios".

Exit status: 0 done (also when a run was recorded already), 1 if a plot
could not be drawn (gnuplot missing or failing; the record is written),
2 on an unreadable input (one line on stderr). Python 3 standard library only.
"""

import datetime
import json
import math
import os
import re
import sys

import ptcli  # noqa: E402  (shared with the other ptbench tools)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_report  # noqa: E402  (its gnuplot driver)
import gate  # noqa: E402
import ptfmt  # noqa: E402

PROG = "history.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_HISTORY = os.path.join(ROOT, "results", "history", "history.jsonl")

# Family -> pattern over bench_report.py's benchmark keys: the key figures.
FAMILIES = {
    "native": r"^native/getpid$",
    "mechanism": r"^mechanism/[^/]+$",
    "switch": r"^switch/(faithful|lean)$",
    "floor": r"^floor/[^/]+$",
    "mem": r"^mem/[^/]+/bytes:4096$",
    "map": r"^map/(inject|native)/pages:1$|^map/(fault_roundtrip|as_create|as_create_reused)$",
    "pool": r"^pool/(private|shared)/threads:[12]$|^pool/thread_create$",
    "interrupt": r"^interrupt/latency$",
}


InputError = ptcli.InputError


def family_of(key):
    for fam, pat in FAMILIES.items():
        if re.search(pat, key):
            return fam
    return None


def make_record(results_dir, args):
    path = os.path.join(results_dir, "bench.json")
    if not os.path.exists(path):
        raise InputError(f"no bench.json in {results_dir}")
    res = ptfmt.Results.load(path)
    ctx = res.context
    figures = {}
    reps = 0
    for key in sorted(res.benches):
        if family_of(key) is None:
            continue
        med, cv, n = gate.figure(res, key)
        if med is None:
            continue
        figures[key] = {"median_ns": round(med, 3),
                        "cv": None if cv is None else round(cv, 5), "n": n}
        reps = max(reps, n or 0)
    if not figures:
        raise InputError(f"{path}: none of the key benchmarks ran")
    ratios = {n: (None if r["value"] is None else round(r["value"], 5))
              for n, r in gate.ratios_of(res).items()}
    return {
        "schema": 1,
        "run": os.path.basename(os.path.normpath(results_dir)),
        "commit": args.commit or ctx.get("commit", "unknown"),
        "kernel": args.kernel or ctx.get("kernel", "unknown"),
        "host": args.host or ctx.get("host") or ctx.get("host_name", "unknown"),
        "date": args.date or ctx.get("date", "unknown"),
        "arch": ctx.get("arch", "unknown"),
        "cpu_model": ctx.get("cpu_model", "unknown"),
        "num_cpus": ctx.get("num_cpus"),
        "pinning": ctx.get("pinning", "unknown"),
        "repetitions": reps,
        "partial": res.partial,
        "figures": figures,
        "ratios": ratios,
    }


def read_history(path):
    recs = []
    if not os.path.exists(path):
        return recs
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e
    with f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{ln}: not JSON: {e}") from e
            if not isinstance(r, dict) or not isinstance(r.get("figures"), dict):
                raise InputError(f"{path}:{ln}: not a history record")
            recs.append(r)
    return recs


def cmd_append(a):
    rec = make_record(a.results_dir, a)
    hist = a.history
    os.makedirs(os.path.dirname(os.path.abspath(hist)), exist_ok=True)
    if any(r.get("run") == rec["run"] for r in read_history(hist)):
        print(f"{PROG}: {rec['run']} is recorded already in {hist}", file=sys.stderr)
    else:
        line = json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n"
        # one write of one line in append mode: no torn records
        fd = os.open(hist, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        print(f"{PROG}: recorded {rec['run']} ({len(rec['figures'])} figures, commit "
              f"{rec['commit']}) in {hist}", file=sys.stderr)
    if a.plot:
        a.outdir = None
        a.host = None
        return cmd_plot(a)
    return 0


def parse_date(s):
    try:
        return datetime.datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    except ValueError:
        return None


def sort_key(r):
    d = parse_date(r.get("date"))
    if d is None:
        return (1, "")
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return (0, d.astimezone(datetime.timezone.utc).isoformat())


def label_of(r):
    d = parse_date(r.get("date"))
    day = d.strftime("%m-%d %H:%M") if d else "?"
    return f"{str(r.get('commit', '?'))[:12]} {day}"


def series(recs, fam):
    """(names, rows) for family fam: rows are [label, value|None...]."""
    names = []
    for r in recs:
        src = r.get("ratios", {}) if fam == "ratios" else r.get("figures", {})
        for k in src:
            if (fam == "ratios" or family_of(k) == fam) and k not in names:
                names.append(k)
    rows = []
    for r in recs:
        src = r.get("ratios", {}) if fam == "ratios" else r.get("figures", {})
        vals = []
        for k in names:
            v = src.get(k)
            if isinstance(v, dict):
                v = v.get("median_ns")
            vals.append(v if isinstance(v, (int, float)) and math.isfinite(v) else None)
        rows.append([label_of(r)] + vals)
    return names, rows


def gp_quote(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', "'") + '"'


def dat_text(names, rows):
    out = [" ".join(["idx", "label"] + [gp_quote(n) for n in names])]
    for i, row in enumerate(rows):
        vals = ["?" if v is None else repr(float(v)) for v in row[1:]]
        out.append(" ".join([str(i), gp_quote(row[0])] + vals))
    return "\n".join(out) + "\n"


def cmd_plot(a):
    recs = read_history(a.history)
    if not recs:
        raise InputError(f"no records in {a.history}")
    recs.sort(key=sort_key)
    host = a.host or recs[-1].get("host", "unknown")
    if host != "all":
        recs = [r for r in recs if r.get("host") == host]
    outdir = a.outdir or os.path.dirname(os.path.abspath(a.history))
    os.makedirs(outdir, exist_ok=True)
    status = 0
    for fam in list(FAMILIES) + ["ratios"]:
        names, rows = series(recs, fam)
        if not names:
            print(f"{PROG}: {fam}: no data", file=sys.stderr)
            continue
        vals = [v for row in rows for v in row[1:] if v is not None]
        dat = os.path.join(outdir, f"{fam}.dat")
        ptcli.write_atomic(dat, dat_text(names, rows))
        ratio = fam == "ratios"
        logy = 1 if not ratio and min(vals) > 0 and max(vals) / min(vals) > 20 else 0
        sub = (f"host {host}" if host != "all" else "all hosts") + \
            f", {len(rows)} run{'s' if len(rows) != 1 else ''}"
        if rows:
            sub += f", {rows[0][0].split(' ', 1)[1]} to {rows[-1][0].split(' ', 1)[1]}"
        err = bench_report.gnuplot("history.gp", os.path.join(outdir, fam), {
            "data": dat, "ncol": len(names) + 2, "nrec": len(rows), "logy": logy,
            "title": ("Within-run ratios of the CI gate (unitless)" if ratio else
                      f"{fam}: median real time per run (ns{', log scale' if logy else ''})"),
            "ylabel": "ratio" if ratio else "median (ns)",
            "subtitle": sub,
        })
        if err:
            print(f"{PROG}: {fam}: {err}", file=sys.stderr)
            status = 1 if status == 0 else status
        else:
            print(f"{PROG}: wrote {os.path.join(outdir, fam)}.png and .svg", file=sys.stderr)
    return status


def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ap = sub.add_parser("append")
    ap.add_argument("results_dir")
    ap.add_argument("--history", default=DEFAULT_HISTORY)
    ap.add_argument("--plot", action="store_true")
    for o in ("commit", "host", "kernel", "date"):
        ap.add_argument(f"--{o}")
    ap.set_defaults(func=cmd_append)
    pp = sub.add_parser("plot")
    pp.add_argument("--history", default=DEFAULT_HISTORY)
    pp.add_argument("--outdir")
    pp.add_argument("--host")
    pp.set_defaults(func=cmd_plot)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
