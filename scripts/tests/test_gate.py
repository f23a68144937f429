#!/usr/bin/python3
"""Tests of scripts/gate.py, scripts/history.py and the argument checks of
scripts/ab.sh, gate_ci.sh and gate_selftest.sh (no benchmark runs).

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
ROOT = os.path.dirname(SCRIPTS)
sys.path.insert(0, SCRIPTS)

import gate  # noqa: E402
import history  # noqa: E402

PY = sys.executable


def rows(run_name, times, unit="ns", start=0, total=None, **extra):
    total = total or len(times)
    out = []
    for i, t in enumerate(times):
        r = {"name": run_name, "family_index": 0, "per_family_instance_index": 0,
             "run_name": run_name, "run_type": "iteration", "repetitions": total,
             "repetition_index": start + i, "threads": 1, "iterations": 1000,
             "real_time": t, "cpu_time": t * 0.7, "time_unit": unit}
        r.update(extra)
        out.append(r)
    return out


def doc(*row_lists, **ctx):
    c = {"host": "h", "kernel": "k", "commit": "c0ffee", "date": "2026-11-24T10:00:00+00:00"}
    c.update(ctx)
    return {"context": c, "benchmarks": [r for rl in row_lists for r in rl]}


def full_doc(faithful=11000.0, regs=12000.0, lean=8000.0, gpr=8500.0, inject_us=9.5,
             map_inject=25000.0, map_native=3000.0, spread=0.01, st_futex=12000.0,
             st_mech_futex=3000.0, st_spin=2500.0, st_mech_spin=2000.0, systrap=True,
             **ctx):
    def five(m):
        return [m * (1 + spread * k) for k in (-2, -1, 0, 1, 2)]
    extra = []
    if systrap:
        extra = [rows("switch/systrap_futex/real_time", five(st_futex)),
                 rows("mechanism/systrap_futex/real_time", five(st_mech_futex)),
                 rows("switch/systrap_spin/real_time", five(st_spin)),
                 rows("mechanism/systrap_spin/real_time", five(st_mech_spin))]
    return doc(*extra,
        rows("switch/faithful/real_time", five(faithful)),
        rows("switch/lean/real_time", five(lean)),
        rows("mechanism/sysemu_regs/real_time", five(regs / 1e3), unit="us"),
        rows("mechanism/sysemu_gpr/real_time", five(gpr / 1e3), unit="us"),
        rows("mechanism/inject/real_time", five(inject_us), unit="us"),
        rows("map/inject/pages:1/real_time", five(map_inject)),
        rows("map/inject/pages:16/real_time", five(map_inject * 1.1)),
        rows("map/native/pages:1/real_time", five(map_native)),
        rows("native/getpid/real_time", five(100.0)),
        rows("pool/private/real_time/threads:2", five(6000.0), threads=2),
        **ctx)


def write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def compare_tool():
    for rel in ("build/test/bench/compare/ptbench-compare",
                "build/bench/bench/compare/ptbench-compare",
                ".cache/ab/tool/bench/compare/ptbench-compare"):
        p = os.path.join(ROOT, rel)
        if os.access(p, os.X_OK):
            return p
    return None


class Tmp(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="test_gate.")

    def tearDown(self):
        shutil.rmtree(self.d, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.d, name)

    def gate(self, *args):
        return subprocess.run([PY, os.path.join(SCRIPTS, "gate.py"), *args],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)


class TestMerge(Tmp):
    def test_renumbers_and_recomputes(self):
        a = doc(rows("x/real_time", [10.0, 12.0]), rows("y/real_time", [1.0, 2.0], unit="us"))
        b = doc(rows("x/real_time", [11.0, 30.0, 13.0]), rows("y/real_time", [3.0, 4.0], unit="us"))
        m = gate.merge_docs([a, b], {"ab_side": "A"})
        xs = [r for r in m["benchmarks"] if r["run_name"] == "x/real_time"]
        it = [r for r in xs if r["run_type"] == "iteration"]
        self.assertEqual([r["repetition_index"] for r in it], [0, 1, 2, 3, 4])
        self.assertEqual({r["repetitions"] for r in xs}, {5})
        self.assertEqual([r["real_time"] for r in it], [10.0, 12.0, 11.0, 30.0, 13.0])
        agg = {r["aggregate_name"]: r for r in xs if r["run_type"] == "aggregate"}
        self.assertEqual(set(agg), {"mean", "median", "stddev", "cv"})
        self.assertEqual(agg["median"]["real_time"], 12.0)
        self.assertAlmostEqual(agg["mean"]["real_time"], 15.2)
        self.assertEqual(agg["median"]["name"], "x/real_time_median")
        self.assertEqual(agg["cv"]["aggregate_unit"], "percentage")
        self.assertEqual(m["context"]["merged_runs"], "2")
        self.assertEqual(m["context"]["ab_side"], "A")
        ys = [r for r in m["benchmarks"] if r["run_name"] == "y/real_time"
              and r.get("aggregate_name") == "median"]
        self.assertEqual(ys[0]["real_time"], 2.5)
        self.assertEqual(ys[0]["time_unit"], "us")

    def test_errored_rows_get_no_aggregates(self):
        a = doc(rows("x/real_time", [10.0]),
                rows("x/real_time", [0.0], error_occurred=True, error_message="boom"))
        m = gate.merge_docs([a, a])
        self.assertFalse([r for r in m["benchmarks"] if r["run_type"] == "aggregate"])
        self.assertEqual(len(m["benchmarks"]), 4)

    def test_aggregate_input_rows_are_dropped(self):
        a = doc(rows("x/real_time", [10.0, 11.0]))
        a["benchmarks"].append({"name": "x/real_time_median", "run_name": "x/real_time",
                                "run_type": "aggregate", "aggregate_name": "median",
                                "real_time": 10.5, "time_unit": "ns", "repetitions": 2})
        m = gate.merge_docs([a, a])
        med = [r for r in m["benchmarks"] if r.get("aggregate_name") == "median"]
        self.assertEqual(len(med), 1)
        self.assertEqual(med[0]["repetitions"], 4)

    def test_only_in(self):
        write(self.path("full.json"), full_doc())
        write(self.path("ref.json"), doc(rows("switch/lean/real_time", [1.0, 2.0])))
        r = self.gate("merge", self.path("out.json"), self.path("full.json"),
                      "--only-in", self.path("ref.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("out.json")) as f:
            names = {b["run_name"] for b in json.load(f)["benchmarks"]}
        self.assertEqual(names, {"switch/lean/real_time"})

    def test_bad_input(self):
        with open(self.path("bad.json"), "w") as f:
            f.write("{nope")
        r = self.gate("merge", self.path("out.json"), self.path("bad.json"))
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("gate.py: "))

    @unittest.skipUnless(compare_tool(), "no ptbench-compare built")
    def test_compare_tool_accepts_merged(self):
        a = doc(rows("x/real_time", [10.0, 12.0, 11.0]))
        b = doc(rows("x/real_time", [10.5, 11.5, 12.5]))
        write(self.path("m.json"), gate.merge_docs([a, b]))
        r = subprocess.run([compare_tool(), self.path("m.json"), self.path("m.json")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)


class TestRatios(Tmp):
    def test_values(self):
        write(self.path("r.json"), full_doc())
        rs = gate.ratios_of(gate.load(self.path("r.json")))
        self.assertAlmostEqual(rs["faithful_over_sysemu_regs"]["value"], 11000 / 12000)
        self.assertAlmostEqual(rs["lean_over_sysemu_gpr"]["value"], 8000 / 8500)
        self.assertAlmostEqual(rs["map_inject_over_parts"]["value"], 25000 / (2 * 9500 + 3000))
        self.assertEqual(rs["map_inject_over_parts"]["inputs"]["mechanism/inject"]["n"], 5)

    def test_missing(self):
        d = full_doc()
        d["benchmarks"] = [r for r in d["benchmarks"] if not r["run_name"].startswith("switch/lean")]
        write(self.path("r.json"), d)
        rs = gate.ratios_of(gate.load(self.path("r.json")))
        self.assertIsNone(rs["lean_over_sysemu_gpr"]["value"])
        self.assertIn("switch/lean (missing)", rs["lean_over_sysemu_gpr"]["missing"])

    def test_write_baseline(self):
        write(self.path("r.json"), full_doc())
        r = self.gate("write-baseline", self.path("r.json"), self.path("base.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        base = gate.load_baseline(self.path("base.json"))
        self.assertAlmostEqual(base["faithful_over_sysemu_regs"], 11000 / 12000)
        with open(self.path("base.json")) as f:
            self.assertEqual(json.load(f)["commit"], "c0ffee")

    def test_median(self):
        write(self.path("r.json"), full_doc())
        r = self.gate("median", self.path("r.json"), "mechanism/inject")
        self.assertEqual(r.stdout.strip(), "9500.0")
        self.assertEqual(self.gate("median", self.path("r.json"), "nope").returncode, 2)


class TestCiCheck(Tmp):
    def setUp(self):
        super().setUp()
        write(self.path("base.run.json"), full_doc())
        self.assertEqual(self.gate("write-baseline", self.path("base.run.json"),
                                   self.path("base.json")).returncode, 0)

    def check(self, *runs, **kw):
        names = []
        for i, d in enumerate(runs):
            write(self.path(f"run{i}.json"), d)
            names.append(self.path(f"run{i}.json"))
        extra = []
        for k, v in kw.items():
            extra += [f"--{k.replace('_', '-')}", str(v)]
        return self.gate("ci-check", "--baseline", self.path("base.json"), *extra, *names)

    def test_same_passes(self):
        r = self.check(full_doc())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.stdout.strip().splitlines()[-1].startswith("PASS"))
        self.assertEqual(len(r.stdout.strip().splitlines()), 6)

    def test_machine_independent(self):
        # every figure 40% slower: the ratios do not move
        slow = full_doc(faithful=15400, regs=16800, lean=11200, gpr=11900, inject_us=13.3,
                        map_inject=35000, map_native=4200)
        self.assertEqual(self.check(slow).returncode, 0)

    def test_worse_once_asks_rerun(self):
        r = self.check(full_doc(faithful=15000))
        self.assertEqual(r.returncode, 1)
        self.assertIn("worse", r.stdout)
        self.assertTrue(r.stdout.strip().splitlines()[-1].startswith("RERUN"))

    def test_small_change_passes(self):
        self.assertEqual(self.check(full_doc(faithful=13000)).returncode, 0)  # +18%

    def test_threshold_option(self):
        self.assertEqual(self.check(full_doc(faithful=13000), threshold=0.1).returncode, 1)

    def test_worse_twice_fails(self):
        r = self.check(full_doc(faithful=15000), full_doc(faithful=15200))
        self.assertEqual(r.returncode, 1)
        self.assertIn("switch/faithful / mechanism/sysemu_regs: FAIL", r.stdout)
        self.assertTrue(r.stdout.strip().splitlines()[-1].startswith("FAIL"))

    def test_worse_then_ok_passes(self):
        r = self.check(full_doc(faithful=15000), full_doc())
        self.assertEqual(r.returncode, 0)
        self.assertIn("ok on rerun", r.stdout)

    def test_noisy_never_fails(self):
        r = self.check(full_doc(spread=0.2))
        self.assertEqual(r.returncode, 3)
        noisy_worse = full_doc(faithful=15000, spread=0.2)
        r = self.check(noisy_worse, noisy_worse)
        self.assertEqual(r.returncode, 0)
        self.assertIn("PASS (noisy: not failing)", r.stdout)
        r = self.check(full_doc(faithful=15000), noisy_worse)
        self.assertEqual(r.returncode, 0)

    def test_better_passes(self):
        r = self.check(full_doc(faithful=6000))
        self.assertEqual(r.returncode, 0)
        self.assertIn("better", r.stdout)

    def test_missing_input_is_na(self):
        d = full_doc()
        d["benchmarks"] = [r for r in d["benchmarks"] if not r["run_name"].startswith("switch/lean")]
        r = self.check(d)
        self.assertEqual(r.returncode, 0)
        self.assertIn("n/a", r.stdout)

    def test_systrap_futex_ratio(self):
        # the core's switch on systrap over its bare futex hand-off
        self.assertEqual(self.check(full_doc(st_futex=14000)).returncode, 0)  # +17%
        r = self.check(full_doc(st_futex=20000), full_doc(st_futex=20000))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("switch/systrap_futex / mechanism/systrap_futex: FAIL", r.stdout)

    def test_systrap_spin_ratio_with_two_cpus(self):
        self.assertEqual(self.check(full_doc(), cpus_online=2).returncode, 0)
        r = self.check(full_doc(st_spin=4000), full_doc(st_spin=4000), cpus_online=2)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("switch/systrap_spin / mechanism/systrap_spin: FAIL", r.stdout)

    def test_systrap_spin_ratio_skipped_on_one_cpu(self):
        # worse twice, but with one CPU online the spin ratio is not gated
        r = self.check(full_doc(st_spin=4000), full_doc(st_spin=4000), cpus_online=1)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("switch/systrap_spin / mechanism/systrap_spin: skipped "
                      "(1 CPU online; it needs 2)", r.stdout)
        self.assertIn("(1 skipped)", r.stdout.strip().splitlines()[-1])

    def test_an_input_the_benchmark_skipped(self):
        d = full_doc()
        d["benchmarks"] = [r for r in d["benchmarks"]
                           if not r["run_name"].startswith("switch/systrap_spin")]
        d["benchmarks"].append({"name": "switch/systrap_spin/real_time",
                                "run_name": "switch/systrap_spin/real_time",
                                "run_type": "iteration", "error_occurred": True,
                                "error_message": "systrap spin: needs 2 CPUs allowed"})
        r = self.check(d)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("switch/systrap_spin / mechanism/systrap_spin: skipped "
                      "(switch/systrap_spin skipped: systrap spin: needs 2 CPUs allowed)",
                      r.stdout)

    def test_a_baseline_from_before_systrap(self):
        # the committed baseline has no systrap ratios: it still loads,
        # and they are n/a against it or against its reference build
        write(self.path("old.run.json"), full_doc(systrap=False))
        self.assertEqual(self.gate("write-baseline", self.path("old.run.json"),
                                   self.path("base.json")).returncode, 0)
        base = gate.load_baseline(self.path("base.json"))
        self.assertIsNone(base["systrap_futex_over_mechanism"])
        r = self.check(full_doc(st_futex=50000), full_doc(st_futex=50000))
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("n/a (not in the baseline: refresh it", r.stdout)
        r = self.ref_check([(full_doc(st_futex=50000), full_doc(systrap=False))])
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("switch/systrap_futex (missing) in reference c0ffee", r.stdout)

    def test_bad_baseline(self):
        write(self.path("base.json"), {"ratios": {}})
        self.assertEqual(self.check(full_doc()).returncode, 2)

    def ref_check(self, pairs):
        """pairs: [(run doc, reference doc)] judged with --reference."""
        args = []
        runs = []
        for i, (run, ref) in enumerate(pairs):
            write(self.path(f"run{i}.json"), run)
            write(self.path(f"ref{i}.json"), ref)
            args += ["--reference", self.path(f"ref{i}.json")]
            runs.append(self.path(f"run{i}.json"))
        return self.gate("ci-check", "--baseline", self.path("base.json"), *args, *runs)

    def test_reference_replaces_stored_values(self):
        # a machine where faithful is 40% above the stored ratio on both
        # sides: the stored value would fail it, the reference does not
        other = full_doc(faithful=15400)
        r = self.ref_check([(other, other)])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("vs reference c0ffee", r.stdout)
        self.assertIn("the reference c0ffee measured in the same run", r.stdout)
        self.assertEqual(self.check(other).returncode, 1)

    def test_reference_worse_twice_fails(self):
        r = self.ref_check([(full_doc(faithful=15000), full_doc()),
                            (full_doc(faithful=15000), full_doc())])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("switch/faithful / mechanism/sysemu_regs: FAIL", r.stdout)

    def test_reference_noise_counts(self):
        r = self.ref_check([(full_doc(faithful=15000), full_doc(spread=0.2))])
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("of reference c0ffee spread", r.stdout)

    def test_reference_count_must_match(self):
        write(self.path("ref.json"), full_doc())
        write(self.path("a.json"), full_doc())
        r = self.gate("ci-check", "--baseline", self.path("base.json"),
                      "--reference", self.path("ref.json"), self.path("a.json"), self.path("a.json"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("one reference per run", r.stderr)

    def test_one_outlier_is_not_noise(self):
        # four quiet repetitions and one 3x hiccup: the median and the
        # robust spread do not move, the cv would be 70%
        d = full_doc()
        for row in d["benchmarks"]:
            if row["run_name"] == "switch/faithful/real_time" and row["repetition_index"] == 4:
                row["real_time"] *= 3
        r = self.check(d)
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_final_status(self):
        f = gate.final_status
        self.assertEqual(f(["worse", "worse"]), "FAIL")
        self.assertEqual(f(["ok", "worse"]), "ok")
        self.assertEqual(f(["worse", "ok"]), "ok on rerun")
        self.assertEqual(f(["noisy", "worse"]), "noisy: not failing")
        self.assertEqual(f(["worse", "noisy"]), "noisy: not failing")


class TestSelftestSummary(Tmp):
    def test_wilson(self):
        lo, hi = gate.wilson(0, 20)
        self.assertEqual(lo, 0.0)
        self.assertAlmostEqual(hi, 0.16113, places=4)
        lo, hi = gate.wilson(20, 20)
        self.assertAlmostEqual(lo, 0.83887, places=4)
        self.assertEqual(hi, 1.0)
        lo, hi = gate.wilson(5, 10)
        self.assertAlmostEqual(lo, 0.23659, places=4)
        self.assertAlmostEqual(hi, 0.76341, places=4)
        self.assertTrue(math.isnan(gate.wilson(0, 0)[0]))

    def test_summary(self):
        lines = ["# trial\tkind\texit\tseconds\tverdict\tp\tchange\tbase_ns\tnew_ns"]
        for i in range(1, 21):
            ex = 3 if i == 5 else (1 if i == 7 else 0)
            lines.append(f"{i}\tidentical\t{ex}\t10.1\tunchanged\t0.5\t0.01\t11000\t11100")
            ex = 0 if i == 3 else 1
            lines.append(f"{i}\tslowed\t{ex}\t9.5\tregressed\t0.0004\t0.105\t11000\t12100")
        with open(self.path("t.tsv"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(self.path("meta.json"), "w") as f:
            json.dump({"slowdown_ns": 1100, "host": "h"}, f)
        r = self.gate("selftest-summary", self.path("t.tsv"), self.path("out"),
                      "--meta", self.path("meta.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("out/summary.json")) as f:
            s = json.load(f)["summary"]
        self.assertEqual(s["identical"]["flagged"], 1)
        self.assertEqual(s["identical"]["inconclusive"], 1)
        self.assertAlmostEqual(s["identical"]["rate"], 0.05)
        self.assertEqual(s["slowed"]["flagged"], 19)
        self.assertAlmostEqual(s["slowed"]["ci95"][0], gate.wilson(19, 20)[0])
        self.assertIn("False-alarm rate 5.0%", r.stdout)
        self.assertTrue(os.path.exists(self.path("out/trials.tsv")))

    def test_bad_tsv(self):
        with open(self.path("t.tsv"), "w") as f:
            f.write("1 other 0 1 x 1 1 1 1\n")
        self.assertEqual(self.gate("selftest-summary", self.path("t.tsv"),
                                   self.path("out")).returncode, 2)


class TestHistory(Tmp):
    def results(self, name, **kw):
        d = self.path(name)
        os.makedirs(d)
        write(os.path.join(d, "bench.json"), full_doc(**kw))
        return d

    def hist(self, *args):
        return subprocess.run([PY, os.path.join(SCRIPTS, "history.py"), *args],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)

    def test_append_and_dedupe(self):
        h = self.path("hist/history.jsonl")
        d1 = self.results("vm-k-20261124-100000", commit="aaa")
        d2 = self.results("vm-k-20261125-100000", commit="bbb", faithful=12000,
                          date="2026-11-25T10:00:00+00:00")
        for d in (d1, d2, d1):
            r = self.hist("append", d, "--history", h)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("recorded already", r.stderr)
        recs = history.read_history(h)
        self.assertEqual([x["commit"] for x in recs], ["aaa", "bbb"])
        f = recs[1]["figures"]
        self.assertEqual(f["switch/faithful"]["median_ns"], 12000)
        self.assertEqual(f["mechanism/inject"]["median_ns"], 9500)
        self.assertIn("pool/private/threads:2", f)
        self.assertIn("map/inject/pages:1", f)
        self.assertNotIn("map/inject/pages:16", f)
        self.assertAlmostEqual(recs[1]["ratios"]["faithful_over_sysemu_regs"], 1.0)
        self.assertEqual(recs[0]["run"], "vm-k-20261124-100000")
        self.assertEqual(recs[0]["host"], "h")

    def test_no_bench_json(self):
        os.makedirs(self.path("empty"))
        self.assertEqual(self.hist("append", self.path("empty"),
                                   "--history", self.path("h.jsonl")).returncode, 2)

    def test_series_and_dat(self):
        recs = [{"date": "2026-11-24T10:00:00+00:00", "commit": "aaa",
                 "figures": {"switch/faithful": {"median_ns": 1.0}, "native/getpid": {"median_ns": 5}},
                 "ratios": {"r": 0.9}},
                {"date": "2026-11-25T10:00:00+00:00", "commit": "bbb",
                 "figures": {"switch/faithful": {"median_ns": 2.0},
                             "switch/lean": {"median_ns": 3.0}}, "ratios": {"r": None}}]
        names, rows_ = history.series(recs, "switch")
        self.assertEqual(names, ["switch/faithful", "switch/lean"])
        self.assertEqual(rows_[0][1:], [1.0, None])
        text = history.dat_text(names, rows_)
        self.assertIn('"switch/faithful"', text.splitlines()[0])
        self.assertTrue(text.splitlines()[1].endswith(" ?"))
        self.assertEqual(history.series(recs, "ratios")[1][1][1:], [None])

    @unittest.skipUnless(shutil.which("gnuplot"), "no gnuplot")
    def test_plot(self):
        h = self.path("hist/history.jsonl")
        self.hist("append", self.results("a"), "--history", h)
        self.hist("append", self.results("b", date="2026-11-25T10:00:00+00:00"), "--history", h)
        r = self.hist("plot", "--history", h)
        self.assertEqual(r.returncode, 0, r.stderr)
        for fam in ("switch", "mechanism", "map", "ratios", "pool", "native"):
            for ext in ("png", "svg", "dat"):
                p = self.path(f"hist/{fam}.{ext}")
                self.assertTrue(os.path.getsize(p) > 0, p)
        self.assertFalse(os.path.exists(self.path("hist/floor.png")))


class TestScriptArgs(unittest.TestCase):
    def run_sh(self, script, *args):
        return subprocess.run(["bash", os.path.join(SCRIPTS, script), *args],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)

    def test_help(self):
        for s in ("ab.sh", "gate_ci.sh", "gate_selftest.sh"):
            r = self.run_sh(s, "--help")
            self.assertEqual(r.returncode, 0, s)
            self.assertIn(s, r.stdout)

    def test_usage_errors(self):
        for s, args in (("ab.sh", ["HEAD"]), ("ab.sh", ["--rounds", "0", "HEAD", "HEAD"]),
                        ("ab.sh", ["--bogus"]), ("ab.sh", ["no-such-rev-xyz", "HEAD"]),
                        ("ab.sh", ["--baseline", "/nonexistent.json"]),
                        ("gate_ci.sh", ["--reps", "1"]),
                        ("gate_ci.sh", ["--baseline", "/nonexistent.json"]),
                        ("gate_selftest.sh", ["--trials", "x"])):
            r = self.run_sh(s, *args)
            self.assertEqual(r.returncode, 2, f"{s} {args}: {r.stderr}")
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, f"{s} {args}: {r.stderr}")


if __name__ == "__main__":
    unittest.main()
