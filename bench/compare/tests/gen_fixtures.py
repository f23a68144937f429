#!/usr/bin/python3
"""Write the JSON fixtures of ptbench-compare's tests into data/.

The fixtures are committed; this script documents how they were made and
prints the p-values Google Benchmark's own compare.py gives for the pair
base9.json / new9.json, which test_cli.c hard-codes.  Run it with
Debian's interpreter (compare.py needs python3-scipy, libbenchmark-tools):

    /usr/bin/python3 bench/compare/tests/gen_fixtures.py

The data are deterministic (seeded), so rerunning rewrites the same files.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
COMPARE_PY = "/usr/share/benchmark/compare.py"

CONTEXT = {
    "date": "2026-11-24T21:00:00+00:00",
    "host_name": "fixture",
    "executable": "ptbench-bench",
    "num_cpus": 2,
    "mhz_per_cpu": 2600,
    "cpu_scaling_enabled": False,
    "caches": [],
    "load_avg": [0.0, 0.0, 0.0],
    "library_build_type": "release",
}


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def rows(name, times, unit="ns", aggregates=True, family=0):
    """Iteration rows, then GB's aggregates, as Google Benchmark 1.7.1."""
    out = []
    n = len(times)
    for i, t in enumerate(times):
        out.append({
            "name": name, "family_index": family,
            "per_family_instance_index": 0, "run_name": name,
            "run_type": "iteration", "repetitions": n,
            "repetition_index": i, "threads": 1, "iterations": 1000,
            "real_time": t, "cpu_time": t * 0.9, "time_unit": unit,
        })
    if aggregates and n > 1:
        mean = sum(times) / n
        sd = (sum((t - mean) ** 2 for t in times) / (n - 1)) ** 0.5
        for agg, val, aunit in (("mean", mean, "time"),
                                ("median", median(times), "time"),
                                ("stddev", sd, "time"),
                                ("cv", sd / mean, "percentage")):
            out.append({
                "name": name + "_" + agg, "family_index": family,
                "per_family_instance_index": 0, "run_name": name,
                "run_type": "aggregate", "repetitions": n, "threads": 1,
                "aggregate_name": agg, "aggregate_unit": aunit,
                "iterations": n, "real_time": val, "cpu_time": val * 0.9,
                "time_unit": unit,
            })
    return out


def write(fname, benchmarks):
    with open(os.path.join(DATA, fname), "w") as f:
        json.dump({"context": CONTEXT, "benchmarks": benchmarks}, f, indent=2)
        f.write("\n")


def sample(rng, n, mean, cv, digits=None):
    v = [rng.gauss(mean, mean * cv) for _ in range(n)]
    return [round(x, digits) if digits is not None else x for x in v]


def main():
    rng = random.Random(20261124)
    os.makedirs(DATA, exist_ok=True)

    # The validation pair: every path of the test and of the verdicts.
    base, new = [], []
    spec = [
        # name, n base, n new, base mean, new mean, cv, rounding
        ("BM_same/real_time", 9, 9, 1000.0, 1000.0, 0.02, None),
        ("BM_slow/real_time", 9, 9, 1000.0, 1200.0, 0.02, None),
        ("BM_fast/real_time", 9, 9, 1000.0, 800.0, 0.02, None),
        # Integers at 1% of spread: ties, so the tie-corrected normal
        # approximation.
        ("BM_ties/real_time", 9, 9, 100.0, 102.0, 0.02, 0),
        # Small and tie-free: scipy's exact distribution.
        ("BM_small/real_time", 5, 6, 500.0, 560.0, 0.03, None),
        ("BM_small_ties/real_time", 5, 6, 50.0, 56.0, 0.03, 0),
        # 8 against 12: exact (one side <= 8) with unequal sizes.
        ("BM_eight/real_time", 8, 12, 700.0, 690.0, 0.03, None),
        ("BM_noisy/real_time", 9, 9, 1000.0, 1000.0, 0.25, None),
    ]
    for fam, (name, nb, nn, mb, mn, cv, dig) in enumerate(spec):
        base += rows(name, sample(rng, nb, mb, cv, dig), family=fam)
        new += rows(name, sample(rng, nn, mn, cv, dig), family=fam)
    write("base9.json", base)
    write("new9.json", new)

    # Same numbers in another unit: the comparison must not change.
    us = []
    for r in new:
        r = dict(r)
        if r.get("aggregate_name") != "cv":
            r["real_time"] /= 1000.0
            r["cpu_time"] /= 1000.0
        r["time_unit"] = "us"
        us.append(r)
    write("new9_us.json", us)

    clean = lambda fam, name, m, ratio=1.0, cv=0.02, n=9: (
        rows(name, sample(rng, n, m, cv), family=fam),
        rows(name, sample(rng, n, m * ratio, cv), family=fam))

    # Pass, regression, noise, too few: one pair each.
    b1, n1 = clean(0, "BM_a/real_time", 1000.0)
    b2, n2 = clean(1, "BM_b/real_time", 2000.0)
    write("pass_base.json", b1 + b2)
    write("pass_new.json", n1 + n2)
    b3, n3 = clean(1, "BM_b/real_time", 2000.0, ratio=1.3)
    write("regress_new.json", n1 + n3)
    b4, n4 = clean(2, "BM_n/real_time", 1000.0, cv=0.3)
    write("noisy_base.json", b1 + b4)
    write("noisy_new.json", n1 + n4)
    # regression on BM_b and noise on BM_n: 1 wins over 3
    write("regress_noisy_base.json", b1 + b2 + b4)
    write("regress_noisy_new.json", n1 + n3 + n4)
    b5, n5 = clean(0, "BM_a/real_time", 1000.0, n=3)
    write("few3_base.json", b5)
    write("few3_new.json", n5)

    # Bad inputs.
    with open(os.path.join(DATA, "empty.json"), "w"):
        pass
    good = json.dumps({"context": CONTEXT, "benchmarks": b1}, indent=2)
    with open(os.path.join(DATA, "malformed.json"), "w") as f:
        f.write(good[: len(good) // 2])
    write_raw = lambda fname, obj: open(os.path.join(DATA, fname), "w").write(
        json.dumps(obj, indent=2) + "\n")
    write_raw("nobench.json", {"context": CONTEXT})
    bad_unit = [dict(r, time_unit="fs") for r in n1]
    write("unknown_unit.json", bad_unit)
    write("onerep.json", rows("BM_a/real_time", [1000.0]))
    errored = [dict(r) for r in n1]
    for r in errored:
        if r["run_type"] == "iteration":
            r["error_occurred"] = True
            r["error_message"] = "ptrace: Operation not permitted"
            r["real_time"] = 0.0
            r["cpu_time"] = 0.0
    errored = [r for r in errored if r["run_type"] == "iteration"]
    write("errored.json", errored + n2)
    write("aggonly.json", [r for r in n1 if r["run_type"] == "aggregate"] + n2)
    write("dupidx.json", n1 + [r for r in n1 if r["run_type"] == "iteration"] + n2)
    mism = [dict(r) for r in n1]
    for r in mism:
        if r.get("aggregate_name") == "median":
            r["real_time"] *= 1.5
    write("aggmismatch.json", mism + n2)
    write("missing_b.json", n1)

    with open(os.path.join(DATA, "keys.txt"), "w") as f:
        f.write("# key benchmarks for the fixture pair pass_*/regress_*\n"
                "\n  BM_b  \n")
    with open(os.path.join(DATA, "keys_empty.txt"), "w") as f:
        f.write("# nothing\n\n")

    # What compare.py says about the validation pairs.
    for a, b in (("base9.json", "new9.json"),
                 ("pass_base.json", "regress_new.json")):
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            subprocess.run([sys.executable, COMPARE_PY, "-d", tmp.name,
                            "benchmarks", os.path.join(DATA, a),
                            os.path.join(DATA, b)],
                           check=True, stdout=subprocess.DEVNULL)
            report = json.load(open(tmp.name))
        print("compare.py %s %s:" % (a, b))
        for r in report:
            if r["utest"]:
                print("  %-28s time_pvalue %r" % (r["name"],
                                                 r["utest"]["time_pvalue"]))


if __name__ == "__main__":
    main()
