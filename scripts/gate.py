#!/usr/bin/python3
"""Helpers of the regression gates (scripts/ab.sh, gate_ci.sh,
gate_selftest.sh, history.py). Python 3 standard library only.

Usage:
  gate.py merge OUT.json IN.json... [--context KEY=VALUE]...
      One Google Benchmark JSON from several runs of the same benchmarks
      (the rounds of an interleaved A/B run): the iteration rows of each
      benchmark concatenated in input order with repetition_index
      renumbered 0..n-1 and "repetitions" set to n, and the mean, median,
      stddev and cv aggregates recomputed over all n. The context is the
      first input's, plus merged_runs=N and the --context pairs.
      With --only-in REF.json, keeps only the benchmarks REF.json has (a
      committed full run cut down to the benchmarks of a filtered run).
  gate.py median BENCH.json KEY
      Print the median real_time in ns of benchmark KEY (bench_report.py's
      name, e.g. switch/faithful or map/inject/pages:1); exit 2 if absent.
  gate.py ratios BENCH.json
      The within-run ratios (RATIOS below) of one run, as JSON.
  gate.py write-baseline BENCH.json OUT.json
      Write the ratios of a committed run as the CI gate's baseline
      (results/baseline/ratios.json).
  gate.py ci-check --baseline RATIOS.json [--threshold F] [--cv-max F]
                   [--reference REF.json]... RUN.json [RERUN.json]
      The CI gate over the ratios; one line per ratio and run, the verdict
      last. With one run: exit 0 if every ratio is within the threshold
      (or n/a), 1 if one is worse (rerun), 3 if one is noisy (rerun). With
      a run and its rerun: exit 1 only if a ratio is worse than the
      baseline by more than the threshold, with quiet inputs, in both
      runs; else 0 (noisy, or worse once: not failing).
      With --reference REF.json (once per run, in the same order), each
      run is judged against the ratios of its reference, the baseline's
      commit measured in the same run (gate_ci.sh), not against the
      stored values: a ratio of one machine need not hold on another.
      A reference input's noise counts as the run's.
      With --cpus-online N, a ratio that needs more CPUs (RATIO_MIN_CPUS:
      the spin hand-off's two) is skipped, with that reason; so is one
      whose input the benchmark skipped. A skip never fails. A ratio the
      baseline lacks (LATER_RATIOS, a baseline older than it) is n/a
      with --stored.
  gate.py compare-fields COMPARE.json KEY
      Print "verdict p change base_median_ns new_median_ns" of benchmark KEY
      (a run_name prefix) from a ptbench-compare --format json report.
  gate.py selftest-summary TRIALS.tsv OUTDIR [--meta META.json]
      The gate self-test's rates: false alarms (identical builds flagged,
      exit 1) and detections (slowed build flagged) with Wilson 95%
      intervals, inconclusive (exit 3) and error (exit 2) counts. Writes
      OUTDIR/summary.md, summary.json and trials.tsv; prints summary.md.
      TRIALS.tsv: "trial kind exit seconds verdict p change base_ns new_ns"
      with kind "identical" or "slowed".

Errors are one line on stderr and exit 2.
"""

import json
import math
import os
import statistics
import sys

import ptcli  # noqa: E402  (shared with the other ptbench tools)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptfmt  # noqa: E402  (the project's reader of bench.json)

PROG = "gate.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Within-run ratios: machine-independent figures the CI gate compares with
# a committed baseline. name -> (text, numerator, denominator), each side a
# list of (coefficient, benchmark key as bench_report.py names it).
RATIOS = {
    "faithful_over_sysemu_regs": (
        "switch/faithful / mechanism/sysemu_regs",
        [(1, "switch/faithful")], [(1, "mechanism/sysemu_regs")]),
    "lean_over_sysemu_gpr": (
        "switch/lean / mechanism/sysemu_gpr",
        [(1, "switch/lean")], [(1, "mechanism/sysemu_gpr")]),
    "map_inject_over_parts": (
        "map/inject/pages:1 / (2 x mechanism/inject + map/native/pages:1)",
        [(1, "map/inject/pages:1")],
        [(2, "mechanism/inject"), (1, "map/native/pages:1")]),
    # The systrap backend's switch over its bare mechanism, as the ptrace
    # switch over its own: the core's cost above the hand-off it uses.
    "systrap_futex_over_mechanism": (
        "switch/systrap_futex / mechanism/systrap_futex",
        [(1, "switch/systrap_futex")], [(1, "mechanism/systrap_futex")]),
    "systrap_spin_over_mechanism": (
        "switch/systrap_spin / mechanism/systrap_spin",
        [(1, "switch/systrap_spin")], [(1, "mechanism/systrap_spin")]),
}

# Ratios a baseline may lack: they came after baselines were written (a
# baseline names the commit of the reference; one from before systrap
# has no systrap benchmarks, and these are n/a until it is refreshed).
LATER_RATIOS = ("systrap_futex_over_mechanism", "systrap_spin_over_mechanism")

# Ratios that need this many CPUs online (the spin hand-off puts tracer
# and stub on two CPUs): with fewer, ci-check --cpus-online skips them.
RATIO_MIN_CPUS = {"systrap_spin_over_mechanism": 2}

DEFAULT_THRESHOLD = 0.30
DEFAULT_CV_MAX = 0.15


InputError = ptcli.InputError


def load(path):
    return ptfmt.Results.load(path)


def write_json(path, obj):
    ptcli.write_atomic(path, json.dumps(obj, indent=2) + "\n")


# ------------------------------------------------------------------ merge

UNIT_NS = ptfmt.UNIT_NS


def _aggregate_rows(first, rows):
    """Google Benchmark's four aggregates over the iteration rows `rows`
    (non-errored), shaped like its own: times in the rows' time_unit."""
    n = len(rows)
    unit = first.get("time_unit", "ns")
    metrics = ["real_time", "cpu_time"]
    for k, v in first.items():
        if (k not in ptfmt.RUN_KEYS and isinstance(v, (int, float))
                and not isinstance(v, bool)):
            metrics.append(k)

    def values(m):
        out = []
        for r in rows:
            v = r.get(m)
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return None
            # rows of one benchmark share a time unit; convert if not
            if m in ("real_time", "cpu_time") and r.get("time_unit", "ns") != unit:
                v = v * UNIT_NS[r.get("time_unit", "ns")] / UNIT_NS[unit]
            out.append(float(v))
        return out

    fns = {
        "mean": statistics.fmean,
        "median": statistics.median,
        "stddev": lambda v: statistics.stdev(v) if len(v) > 1 else 0.0,
        "cv": lambda v: (statistics.stdev(v) / statistics.fmean(v))
        if len(v) > 1 and statistics.fmean(v) else 0.0,
    }
    out = []
    for agg, fn in fns.items():
        row = {
            "name": f"{first['run_name']}_{agg}",
            "family_index": first.get("family_index", 0),
            "per_family_instance_index": first.get("per_family_instance_index", 0),
            "run_name": first["run_name"],
            "run_type": "aggregate",
            "repetitions": n,
            "threads": first.get("threads", 1),
            "aggregate_name": agg,
            "aggregate_unit": "percentage" if agg == "cv" else "time",
            "iterations": n,
        }
        for m in metrics:
            v = values(m)
            if v:
                row[m] = fn(v)
        row["time_unit"] = unit
        if first.get("label"):
            row["label"] = first["label"]
        out.append(row)
    return out


def run_names(doc):
    return {r.get("run_name") or r.get("name") for r in doc.get("benchmarks") or []
            if isinstance(r, dict)}


def merge_docs(docs, extra_context=None, only=None):
    """docs: list of Google Benchmark JSON objects. Returns the merged one,
    with only the run names in `only` if given."""
    if not docs:
        raise InputError("merge: no input")
    order, rows = [], {}
    for i, doc in enumerate(docs):
        bl = doc.get("benchmarks")
        if not isinstance(bl, list):
            raise InputError(f"merge: input {i + 1} has no 'benchmarks' list")
        for r in bl:
            if not isinstance(r, dict) or r.get("run_type", "iteration") != "iteration":
                continue
            rn = r.get("run_name") or r.get("name")
            if not isinstance(rn, str) or (only is not None and rn not in only):
                continue
            if rn not in rows:
                order.append(rn)
                rows[rn] = []
            rows[rn].append(dict(r))
    out = []
    for rn in order:
        rs = rows[rn]
        n = len(rs)
        for idx, r in enumerate(rs):
            r["run_name"] = rn
            r["repetition_index"] = idx
            r["repetitions"] = n
            out.append(r)
        good = [r for r in rs if not r.get("error_occurred")]
        if len(good) == n and n >= 2:
            out.extend(_aggregate_rows(rs[0], good))
    ctx = dict(docs[0].get("context") or {})
    ctx["merged_runs"] = str(len(docs))
    ctx.update(extra_context or {})
    return {"context": ctx, "benchmarks": out}


def cmd_merge(a):
    docs = [read_doc(p) for p in a.inputs]
    only = run_names(read_doc(a.only_in)) if a.only_in else None
    extra = {}
    for kv in a.context or []:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            raise InputError(f"--context wants KEY=VALUE, not '{kv}'")
        extra[k] = v
    merged = merge_docs(docs, extra, only)
    if not merged["benchmarks"]:
        raise InputError("merge: no benchmark rows" + (f" in common with {a.only_in}" if only else ""))
    write_json(a.out, merged)
    return 0


def read_doc(p):
    """The JSON object of p; a JSON cut short is an error here (a merge or
    a reference must be whole)."""
    return ptfmt.load_json(p, salvage=False)[0]


def cmd_median(a):
    med, why, _ = figure(load(a.json), a.key)
    if med is None:
        raise InputError(f"{a.json}: {a.key}: {why}")
    print(f"{med:.1f}")
    return 0


# ------------------------------------------------------------------ ratios

def robust_spread(values, med):
    """1.4826 x the median absolute deviation, over the median: the noise
    of a median, as the coefficient of variation is the noise of a mean
    (the same for normal samples). One outlier in a handful of
    repetitions, such as a VM's scheduling hiccup, moves the cv a lot and
    the median and this little; the gate judges medians."""
    if len(values) < 2 or not med:
        return None
    return 1.4826 * statistics.median(abs(v - med) for v in values) / abs(med)


def figure(res, key):
    """(median_ns, spread, n) of benchmark key (real_time in ns, as
    bench_report.py reads it; spread: robust_spread, or the cv of the
    aggregates when the file has no repetitions), or (None, reason, 0)."""
    b = res.benches.get(key)
    if b is None:
        return None, "missing", 0
    if b.skipped:
        return None, f"skipped: {b.error}", 0
    if b.errors:
        return None, f"error: {b.error}", 0
    med = b.median()
    if med is None or med <= 0:
        return None, "no time", 0
    spread = robust_spread(b.values(), med)
    return med, b.cv() if spread is None else spread, b.nreps()


def ratios_of(res):
    """name -> {text, value, inputs: {key: {median_ns, cv, n}}, missing,
    skipped}; skipped lists the inputs the benchmark itself skipped, with
    its reason (a spin figure on one CPU)."""
    out = {}
    for name, (text, num_terms, den_terms) in RATIOS.items():
        inputs, missing, skipped = {}, [], []
        sums = []
        for terms in (num_terms, den_terms):
            total = 0.0
            for coef, key in terms:
                med, cv, n = figure(res, key)
                if med is None:
                    missing.append(f"{key} ({cv})")
                    if cv.startswith("skipped: "):
                        skipped.append(f"{key} {cv}")
                    continue
                inputs[key] = {"median_ns": med, "spread": cv, "n": n}
                total += coef * med
            sums.append(total)
        value = None if missing or not sums[1] else sums[0] / sums[1]
        out[name] = {"text": text, "value": value, "inputs": inputs,
                     "missing": missing, "skipped": skipped}
    return out


def cmd_ratios(a):
    res = load(a.json)
    print(json.dumps(ratios_of(res), indent=2))
    return 0


def rel_to_root(path):
    p = os.path.abspath(path)
    return os.path.relpath(p, ROOT) if p.startswith(ROOT + os.sep) else p


def cmd_write_baseline(a):
    res = load(a.json)
    rs = ratios_of(res)
    bad = [f"{n}: missing {', '.join(r['missing'])}" for n, r in rs.items()
           if r["value"] is None and n not in LATER_RATIOS]
    if bad:
        raise InputError(f"{a.json}: cannot compute " + "; ".join(bad))
    ctx = res.context
    obj = {
        "schema": 1,
        "what": "within-run ratios of a committed full run: the baseline of "
                "scripts/gate_ci.sh (written by gate.py write-baseline)",
        "source": rel_to_root(a.json),
        "commit": ctx.get("commit", "unknown"),
        "host": ctx.get("host") or ctx.get("host_name", "unknown"),
        "kernel": ctx.get("kernel", "unknown"),
        "cpu_model": ctx.get("cpu_model", "unknown"),
        "date": ctx.get("date", "unknown"),
        "ratios": {n: {"text": r["text"], "value": r["value"], "inputs": r["inputs"]}
                   for n, r in rs.items() if r["value"] is not None},
    }
    write_json(a.out, obj)
    for n, r in rs.items():
        v = f"{r['value']:.4f}" if r["value"] is not None else \
            f"not in the baseline (missing {', '.join(r['missing'])})"
        print(f"{PROG}: {r['text']} = {v}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------ ci-check

def load_baseline(path):
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not JSON: {e}") from e
    rs = obj.get("ratios") if isinstance(obj, dict) else None
    if not isinstance(rs, dict):
        raise InputError(f"{path}: no 'ratios' object")
    out = {}
    for name in RATIOS:
        v = (rs.get(name) or {}).get("value")
        if v is None and name in LATER_RATIOS:
            out[name] = None
            continue
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            raise InputError(f"{path}: no positive value for ratio '{name}'")
        out[name] = float(v)
    return out


def noisy_inputs(r, cv_max):
    """(cv, label) of the inputs of ratio r whose cv is above cv_max."""
    return [(f["spread"], k) for k, f in r["inputs"].items()
            if f["spread"] is not None and f["spread"] > cv_max]


def load_baseline_commit(path):
    """The commit the baseline was measured at ('unknown' if it names none)."""
    with open(path, encoding="utf-8") as f:
        c = json.load(f).get("commit")
    return c if isinstance(c, str) and c else "unknown"


def judge_ratio(r, base, threshold, cv_max, ref=None):
    """'skipped', 'n/a', 'noisy', 'worse', 'better' or 'ok', and the
    change. base is a number; ref, if given, the reference's ratio of the
    same run, whose inputs' noise counts too. 'skipped': an input that
    this machine cannot measure (the benchmark skipped, with its reason)."""
    if r.get("skipped"):
        return "skipped", None
    if r["value"] is None or base is None:
        return "n/a", None
    change = r["value"] / base - 1.0
    noisy = noisy_inputs(r, cv_max) + (noisy_inputs(ref, cv_max) if ref else [])
    if noisy:
        return "noisy", change
    if change > threshold:
        return "worse", change
    if change < -threshold:
        return "better", change
    return "ok", change


def describe(r, base, status, change, threshold, cv_max, ref=None, base_name="baseline"):
    text = r["text"]
    if status == "skipped":
        return f"{text}: skipped ({'; '.join(r['skipped'])})"
    if status == "n/a":
        missing = r["missing"] + [f"{m} in {base_name}" for m in (ref or {}).get("missing", [])]
        if not missing:
            # in the stored ratios only: a baseline from before this ratio
            return f"{text}: n/a (not in the baseline: refresh it with --write-baseline)"
        return f"{text}: n/a (missing {', '.join(missing)})"
    s = (f"{text}: {r['value']:.3f} vs {base_name} {base:.3f} "
         f"({100 * change:+.1f}%, limit +{100 * threshold:.0f}%)")
    if status == "noisy":
        worst = max(noisy_inputs(r, cv_max)
                    + [(cv, f"{k} of {base_name}") for cv, k in
                       (noisy_inputs(ref, cv_max) if ref else [])])
        s += f": noisy ({worst[1]} spread {100 * worst[0]:.1f}% > {100 * cv_max:.0f}%)"
    else:
        s += f": {status}"
    return s


def final_status(statuses):
    """The CI verdict of one ratio over a run and its rerun."""
    first, second = statuses
    if first == second == "worse":
        return "FAIL"
    if first in ("ok", "better", "n/a", "skipped"):
        return first
    if second in ("ok", "better", "n/a", "skipped"):
        return f"{second} on rerun"
    if "noisy" in statuses:
        return "noisy: not failing"
    return "worse in one run only: not failing"


def unmeasured(vals):
    """' (1 n/a, 1 skipped)' for the verdict line, or ''."""
    parts = [f"{vals.count(k)} {k}" for k in ("n/a", "skipped") if k in vals]
    return f" ({', '.join(parts)})" if parts else ""


def cmd_ci_check(a):
    base = load_baseline(a.baseline)
    if len(a.runs) > 2:
        raise InputError("ci-check takes a run and at most one rerun")
    runs = [ratios_of(load(p)) for p in a.runs]
    refs = [ratios_of(load(p)) for p in a.reference or []]
    if refs and len(refs) != len(runs):
        raise InputError(f"ci-check: {len(runs)} run(s) but {len(refs)} --reference; "
                         "give one reference per run")
    lim = f"+{100 * a.threshold:.0f}%"
    bname = rel_to_root(a.baseline)
    what = "baseline"
    if refs:
        commit = load_baseline_commit(a.baseline)
        bname = f"the reference {commit} measured in the same run"
        what = f"reference {commit}"
    lines, finals = [], {}
    for name in RATIOS:
        need = RATIO_MIN_CPUS.get(name, 1)
        if a.cpus_online is not None and a.cpus_online < need:
            # not measured at all (gate_ci.sh leaves its benchmarks out)
            lines.append(f"{RATIOS[name][0]}: skipped ({a.cpus_online} CPU"
                         f"{'' if a.cpus_online == 1 else 's'} online; it needs {need})")
            finals[name] = "skipped"
            continue
        statuses = []
        for i, rs in enumerate(runs):
            ref = refs[i][name] if refs else None
            b = ref["value"] if ref else base[name]
            st, ch = judge_ratio(rs[name], b, a.threshold, a.cv_max, ref)
            statuses.append(st)
            tag = "" if len(runs) == 1 else f"run {i + 1}: "
            lines.append(f"{tag}{describe(rs[name], b, st, ch, a.threshold, a.cv_max, ref, what)}")
        finals[name] = statuses[0] if len(runs) == 1 else final_status(statuses)
        if len(runs) == 2:
            lines.append(f"{RATIOS[name][0]}: {finals[name]}")
    vals = list(finals.values())
    measured = [v for v in vals if v not in ("n/a", "skipped")]
    if len(runs) == 1:
        if "worse" in vals or "noisy" in vals:
            bad = [RATIOS[n][0] for n, v in finals.items() if v in ("worse", "noisy")]
            lines.append(f"RERUN: {' and '.join(sorted(set(v for v in vals if v in ('worse', 'noisy'))))}: "
                         + "; ".join(bad))
            code = 1 if "worse" in vals else 3
        elif not measured:
            lines.append("PASS: no ratio could be measured (every one n/a)")
            code = 0
        else:
            lines.append(f"PASS: every ratio within {lim} of {bname}" + unmeasured(vals))
            code = 0
    elif "FAIL" in vals:
        bad = [RATIOS[n][0] for n, v in finals.items() if v == "FAIL"]
        lines.append(f"FAIL: worse than {bname} by more than {lim} in the run and its rerun: "
                     + "; ".join(bad))
        code = 1
    elif "noisy: not failing" in vals:
        lines.append("PASS (noisy: not failing)")
        code = 0
    elif "worse in one run only: not failing" in vals:
        lines.append("PASS (worse in one run only)")
        code = 0
    else:
        lines.append(f"PASS on rerun: every ratio within {lim} of {bname}" + unmeasured(vals))
        code = 0
    for ln in lines:
        print(ln)
    return code


# ------------------------------------------------------------------ compare-fields

def cmd_compare_fields(a):
    try:
        with open(a.json, encoding="utf-8") as f:
            obj = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read {a.json}: {e}") from e
    for b in obj.get("benchmarks", []):
        if str(b.get("name", "")).startswith(a.key):
            def g(x, fmt="{:.6g}"):
                return "nan" if x is None else fmt.format(x)
            print(b.get("verdict", "?"), g(b.get("p")), g(b.get("change")),
                  g((b.get("base") or {}).get("median_ns"), "{:.1f}"),
                  g((b.get("new") or {}).get("median_ns"), "{:.1f}"))
            return 0
    print("missing nan nan nan nan")
    return 0


# ------------------------------------------------------------------ self-test summary

def wilson(k, n):
    """(nan, nan) for a kind without trials."""
    return ptfmt.wilson(k, n) if n > 0 else (float("nan"), float("nan"))


def read_trials(path):
    trials = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e
    with f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            p = line.split()
            if len(p) != 9 or p[1] not in ("identical", "slowed"):
                raise InputError(f"{path}:{ln}: want 9 fields "
                                 "(trial kind exit seconds verdict p change base_ns new_ns)")
            try:
                trials.append({
                    "trial": int(p[0]), "kind": p[1], "exit": int(p[2]),
                    "seconds": float(p[3]), "verdict": p[4], "p": float(p[5]),
                    "change": float(p[6]), "base_ns": float(p[7]), "new_ns": float(p[8])})
            except ValueError as e:
                raise InputError(f"{path}:{ln}: {e}") from e
    return trials


def pct(x):
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def summarize(trials):
    out = {}
    for kind in ("identical", "slowed"):
        ts = [t for t in trials if t["kind"] == kind]
        n = len(ts)
        k = sum(1 for t in ts if t["exit"] == 1)
        lo, hi = wilson(k, n)
        changes = [t["change"] for t in ts if math.isfinite(t["change"])]
        ps = [t["p"] for t in ts if math.isfinite(t["p"])]
        out[kind] = {
            "trials": n, "flagged": k, "rate": k / n if n else None,
            "ci95": [lo, hi],
            "inconclusive": sum(1 for t in ts if t["exit"] == 3),
            "errors": sum(1 for t in ts if t["exit"] == 2),
            "passed": sum(1 for t in ts if t["exit"] == 0),
            "change_median": statistics.median(changes) if changes else None,
            "change_min": min(changes) if changes else None,
            "change_max": max(changes) if changes else None,
            "p_median": statistics.median(ps) if ps else None,
            "p_min": min(ps) if ps else None,
            "seconds_max": max((t["seconds"] for t in ts), default=None),
            "seconds_median": statistics.median([t["seconds"] for t in ts]) if ts else None,
        }
    return out


def render_selftest(s, meta, trials):
    m = meta or {}
    idn, slo = s["identical"], s["slowed"]
    L = ["# Regression gate self-test", ""]
    for k, label in (("date", "date (end)"), ("host", "host"), ("kernel", "kernel"),
                     ("cpu_model", "cpu"), ("commit", "commit"),
                     ("gate", "gate"), ("bench_flags", "benchmark flags per process"),
                     ("design", "design"), ("base_median_ns", "switch/faithful median (baseline build)"),
                     ("slowdown_ns", "slowdown_ns of the slowed build (10% of that median)")):
        if k in m:
            unit = " ns" if k.endswith("_ns") else ""
            L.append(f"- {label}: {m[k]}{unit}")
    L += ["", "| trials | kind | flagged as regression (exit 1) | rate | 95% CI (Wilson) | "
          "inconclusive (exit 3) | errors (exit 2) | passed (exit 0) | median change | "
          "change range | max benchmark time per comparison |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for kind, d, what in (("identical", idn, "false alarm"), ("slowed", slo, "detection")):
        L.append(
            f"| {d['trials']} | {kind} ({what}) | {d['flagged']} | {pct(d['rate'])} | "
            f"{pct(d['ci95'][0])} to {pct(d['ci95'][1])} | {d['inconclusive']} | "
            f"{d['errors']} | {d['passed']} | {pct(d['change_median'])} | "
            f"{pct(d['change_min'])} to {pct(d['change_max'])} | "
            f"{d['seconds_max']:.1f} s |" if d["trials"] else f"| 0 | {kind} | | | | | | | | | |")
    L += ["", f"False-alarm rate {pct(idn['rate'])} (95% CI {pct(idn['ci95'][0])} to "
          f"{pct(idn['ci95'][1])}); detection rate {pct(slo['rate'])} (95% CI "
          f"{pct(slo['ci95'][0])} to {pct(slo['ci95'][1])}).", "",
          "## Trials", "",
          "| trial | kind | exit | verdict | p | change | base median | new median | benchmark time |",
          "|---|---|---|---|---|---|---|---|---|"]
    for t in trials:
        L.append(f"| {t['trial']} | {t['kind']} | {t['exit']} | {t['verdict']} | "
                 f"{t['p']:.3g} | {100 * t['change']:+.2f}% | {t['base_ns']:.0f} ns | "
                 f"{t['new_ns']:.0f} ns | {t['seconds']:.1f} s |")
    return "\n".join(L) + "\n"


def cmd_selftest_summary(a):
    trials = read_trials(a.trials)
    if not trials:
        raise InputError(f"{a.trials}: no trials")
    meta = {}
    if a.meta:
        try:
            with open(a.meta, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise InputError(f"cannot read {a.meta}: {e}") from e
    s = summarize(trials)
    os.makedirs(a.outdir, exist_ok=True)
    write_json(os.path.join(a.outdir, "summary.json"),
               {"schema": 1, "meta": meta, "summary": s, "trials": trials})
    with open(a.trials, encoding="utf-8") as f:
        ptcli.write_atomic(os.path.join(a.outdir, "trials.tsv"), f.read())
    md = render_selftest(s, meta, trials)
    ptcli.write_atomic(os.path.join(a.outdir, "summary.md"), md)
    sys.stdout.write(md)
    return 0


# ------------------------------------------------------------------ main

def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge")
    m.add_argument("out")
    m.add_argument("inputs", nargs="+")
    m.add_argument("--context", action="append")
    m.add_argument("--only-in")
    m.set_defaults(func=cmd_merge)
    md = sub.add_parser("median")
    md.add_argument("json")
    md.add_argument("key")
    md.set_defaults(func=cmd_median)
    r = sub.add_parser("ratios")
    r.add_argument("json")
    r.set_defaults(func=cmd_ratios)
    w = sub.add_parser("write-baseline")
    w.add_argument("json")
    w.add_argument("out")
    w.set_defaults(func=cmd_write_baseline)
    c = sub.add_parser("ci-check")
    c.add_argument("--baseline", required=True)
    c.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    c.add_argument("--cv-max", type=float, default=DEFAULT_CV_MAX)
    c.add_argument("--reference", action="append")
    c.add_argument("--cpus-online", type=int)
    c.add_argument("runs", nargs="+")
    c.set_defaults(func=cmd_ci_check)
    f = sub.add_parser("compare-fields")
    f.add_argument("json")
    f.add_argument("key")
    f.set_defaults(func=cmd_compare_fields)
    s = sub.add_parser("selftest-summary")
    s.add_argument("trials")
    s.add_argument("outdir")
    s.add_argument("--meta")
    s.set_defaults(func=cmd_selftest_summary)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
