#!/usr/bin/python3
"""The systrap backend in bench_report.py (issue 12, section 3), on
made-up figures: the spin share (NOISY under 99%), the three bars
(switch/systrap_spin against seccomp_trap + the spin floor + 1 us and
against 0.30 x switch/faithful; mechanism/systrap_spin against
seccomp_trap + 1 us), their skip with the benchmark's reason when a spin
figure skipped (fewer than 2 CPUs), pool/* without a bar on systrap, and
the ladder's backend and CPU columns. Each check has a case that passes
and one that fails.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import bench_report  # noqa: E402
import ptfmt  # noqa: E402

FEWER_CPUS = "systrap spin: needs 2 CPUs allowed, 1 allowed"


def bench(name, us, **counters):
    return dict({"name": name + "/real_time", "run_name": name + "/real_time",
                 "run_type": "iteration", "repetitions": 1, "iterations": 1000,
                 "real_time": us, "cpu_time": us, "time_unit": "us"}, **counters)


def skipped(name, why=FEWER_CPUS):
    return {"name": name + "/real_time", "run_name": name + "/real_time",
            "run_type": "iteration", "error_occurred": True, "error_message": why}


def doc(sw_spin=3.5, mech_spin=3.2, faithful=15.0, trap=2.5, floor=0.2, share=0.999,
        spin_skipped=False, backend=None, pool_eff=None):
    """seccomp_trap 2.5 us and floor/spin_cross_cpu 0.2 us: the bar on
    switch/systrap_spin is 3.7 us, the self-check on mechanism/systrap_spin
    3.5 us; switch/faithful 15 us: 0.30 x is 4.5 us."""
    spin = dict(spin_share=share, tracer_cpu_ns=3300.0, stub_cpu_ns=3400.0)
    b = [bench("switch/faithful", faithful, tracer_cpu_ns=9000.0, stub_cpu_ns=6000.0),
         bench("switch/systrap_futex", 11.0, spin_share=0.0, tracer_cpu_ns=5000.0,
               stub_cpu_ns=6000.0),
         bench("mechanism/seccomp_trap", trap),
         bench("mechanism/systrap_futex", 7.0, spin_share=0.0),
         bench("mechanism/sysemu_regs", 14.0, tracer_cpu_ns=10000.0, stub_cpu_ns=2000.0)]
    if spin_skipped:
        b += [skipped("switch/systrap_spin"), skipped("mechanism/systrap_spin"),
              skipped("floor/spin_cross_cpu")]
    else:
        b += [bench("switch/systrap_spin", sw_spin, **spin),
              bench("mechanism/systrap_spin", mech_spin, **spin),
              bench("floor/spin_cross_cpu", floor)]
    if pool_eff is not None:
        b += [bench("pool/private/threads:1", 20.0, rt_per_s=50000.0),
              bench("pool/private/threads:2", 20.0, rt_per_s=2 * 50000.0 * pool_eff)]
    ctx = {"num_cpus": 2}
    if backend:
        ctx["backend"] = backend
    return {"context": ctx, "benchmarks": b}


def checks_of(d):
    return {c.id: c for c in bench_report.make_checks(ptfmt.Results(d))}


class SpinShare(unittest.TestCase):
    def test_pass_at_99_percent(self):
        c = checks_of(doc(share=0.995))["systrap_spin_share"]
        self.assertEqual(c.status, "PASS", c.detail)
        self.assertAlmostEqual(c.measured[1], 0.995)

    def test_noisy_under_99_percent(self):
        c = checks_of(doc(share=0.874))["systrap_spin_share"]
        self.assertEqual(c.status, "NOISY", c.detail)
        self.assertIn("87.4%", c.detail)
        self.assertEqual(c.status_text(), "NOISY, rerun")

    def test_a_low_share_makes_the_spin_bars_noisy(self):
        # figures that would pass, measured with hand-offs that slept
        cs = checks_of(doc(share=0.90))
        for cid in ("bar_systrap_spin_floor", "bar_systrap_spin_faithful",
                    "systrap_mechanism_near_trap"):
            self.assertEqual(cs[cid].status, "NOISY", cid)
            self.assertIn("spin share 90.0% < 99%", cs[cid].detail)
            self.assertIn("the figures alone: PASS", cs[cid].detail)

    def test_the_futex_figures_are_not_spin_figures(self):
        # switch/systrap_futex spins little by design: no verdict on it
        c = checks_of(doc())["systrap_spin_share"]
        self.assertNotIn("futex", c.detail)


class Bars(unittest.TestCase):
    def test_switch_spin_against_trap_and_floor(self):
        c = checks_of(doc(sw_spin=3.6))["bar_systrap_spin_floor"]
        self.assertEqual(c.status, "PASS", c.detail)
        self.assertAlmostEqual(c.measured[1], 3.6 / 3.7)
        c = checks_of(doc(sw_spin=3.8))["bar_systrap_spin_floor"]
        self.assertEqual(c.status, "FAIL", c.detail)
        self.assertIn("2.5 us + 200 ns + 1.0 us = 3.7 us", c.detail)

    def test_switch_spin_against_faithful(self):
        self.assertEqual(checks_of(doc(sw_spin=3.6))["bar_systrap_spin_faithful"].status,
                         "PASS")
        c = checks_of(doc(sw_spin=3.6, faithful=11.0))["bar_systrap_spin_faithful"]
        self.assertEqual(c.status, "FAIL", c.detail)
        self.assertAlmostEqual(c.measured[1], 3.6 / 11.0)

    def test_mechanism_spin_against_trap(self):
        c = checks_of(doc(mech_spin=3.4))["systrap_mechanism_near_trap"]
        self.assertEqual(c.status, "PASS", c.detail)
        c = checks_of(doc(mech_spin=3.6))["systrap_mechanism_near_trap"]
        self.assertEqual(c.status, "FAIL", c.detail)
        self.assertAlmostEqual(c.measured[1], 3.6 / 3.5)

    def test_spin_bars_skip_with_the_benchmark_s_reason(self):
        cs = checks_of(doc(spin_skipped=True))
        for cid in ("systrap_spin_share", "bar_systrap_spin_floor",
                    "bar_systrap_spin_faithful", "systrap_mechanism_near_trap"):
            self.assertEqual(cs[cid].status, "SKIP", cid)
            self.assertIn(f"skipped: {FEWER_CPUS}", cs[cid].detail)

    def test_a_missing_figure_is_not_a_skip(self):
        d = doc()
        d["benchmarks"] = [b for b in d["benchmarks"]
                           if not b["name"].startswith("floor/")]
        c = checks_of(d)["bar_systrap_spin_floor"]
        self.assertEqual(c.status, "n/a")
        self.assertIn("floor/spin_cross_cpu", c.missing)


class Pool(unittest.TestCase):
    def test_pool_bar_on_ptrace(self):
        self.assertEqual(checks_of(doc(pool_eff=0.9))["bar_pool_private"].status, "PASS")
        self.assertEqual(checks_of(doc(pool_eff=0.5))["bar_pool_private"].status, "FAIL")

    def test_pool_without_a_bar_on_systrap(self):
        c = checks_of(doc(pool_eff=0.5, backend="systrap"))["bar_pool_private"]
        self.assertEqual((c.kind, c.status), ("info", "INFO"))
        self.assertAlmostEqual(c.measured[1], 0.5)


class Ladder(unittest.TestCase):
    def test_both_backends_with_cpu_time(self):
        rows, _ = bench_report.ladder_rows(ptfmt.Results(doc()))
        by = {r["key"]: r for r in rows}
        self.assertEqual(by["switch/faithful"]["backend"], "ptrace")
        self.assertEqual(by["switch/systrap_spin"]["backend"], "systrap")
        self.assertEqual(by["mechanism/systrap_futex"]["backend"], "systrap")
        self.assertEqual(by["mechanism/seccomp_trap"]["backend"], "")
        self.assertEqual(by["floor/spin_cross_cpu"]["group"], 4)
        self.assertEqual(bench_report.cpu_text(by["switch/faithful"]), "9 + 6 us")
        self.assertEqual(bench_report.cpu_text(by["mechanism/seccomp_trap"]), "")
        self.assertEqual([r["key"] for r in rows][0], "floor/spin_cross_cpu")

    def test_the_summary_shows_the_ladder_and_the_skips(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bench.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(doc(spin_skipped=True), f)
            out = os.path.join(tmp, "out")
            rc = bench_report.main(["render", "--json", path, "--outdir", out, "--no-plots"])
            self.assertEqual(rc, 0)
            with open(os.path.join(out, "summary.md"), encoding="utf-8") as f:
                text = f.read()
        self.assertIn("## The ladder: both backends, with CPU time", text)
        self.assertIn("| switch/systrap_futex | systrap | 11 | 5 | 6 | 11 | 0.0% |", text)
        self.assertIn(f"- switch/systrap_spin skipped: {FEWER_CPUS}", text)
        self.assertIn(f"| SKIP |   | each >= 99%, else NOISY | switch/systrap_spin skipped: "
                      f"{FEWER_CPUS}", text)


if __name__ == "__main__":
    unittest.main()
