#!/usr/bin/python3
"""Tests of scripts/kernels_bisect.py (the point-release bisection of
scripts/kernels.sh --bisect) on synthetic figures: no VM is booted.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
sys.path.insert(0, SCRIPTS)

import kernels_bisect as kb  # noqa: E402

PY = sys.executable


def s(*values):
    return kb.summarize([float(v) for v in values])


def series(medians, spread=0.001):
    """index -> summary of two boots per build around each median."""
    return {i: s(m * (1 - spread / 2), m * (1 + spread / 2)) for i, m in enumerate(medians)}


class Lazy(dict):
    """Summaries that count which builds a bisection asked for."""

    def __init__(self, full):
        super().__init__()
        self.full = full


def run_bisect(order, full):
    """Drive bisect_plan as kernels_bisect.sh does: boot what it asks."""
    have, booted = {}, []
    while True:
        what, val = kb.bisect_plan(order, have)
        if what == "done":
            return val, booted
        booted.append(val)
        have[val] = full[val]


class Judgement(unittest.TestCase):
    def test_threshold_is_one_percent_or_three_spreads(self):
        j = kb.judge(s(1000, 1001), s(1015, 1016))
        self.assertAlmostEqual(j["threshold"], 0.01)
        self.assertTrue(j["moved"])
        j = kb.judge(s(1000, 1020), s(1045, 1050))
        self.assertAlmostEqual(j["threshold"], 3 * 20 / 1010, places=6)
        self.assertFalse(j["moved"])  # 4% but the spread is 2%

    def test_one_boot_is_inconclusive(self):
        self.assertEqual(kb.judge(s(1000), s(2000))["verdict"], "inconclusive")

    def test_too_noisy_is_inconclusive(self):
        self.assertEqual(kb.judge(s(1000, 1150), s(2000, 2001))["verdict"], "inconclusive")


class Bisection(unittest.TestCase):
    def test_step_found_with_few_boots(self):
        meds = [1000] * 6 + [1100] * 5  # the step is at build 6
        res, booted = run_bisect(list(range(11)), series(meds))
        self.assertEqual(res["verdict"], "STEP")
        self.assertEqual((res["before"], res["after"]), (5, 6))
        self.assertLess(len(booted), 7)  # ends + about log2(11) middles
        self.assertAlmostEqual(res["judgement"]["change"], 0.1, places=6)

    def test_step_at_the_last_build(self):
        meds = [1000] * 10 + [980]
        res, _ = run_bisect(list(range(11)), series(meds))
        self.assertEqual((res["verdict"], res["after"]), ("STEP", 10))

    def test_no_step(self):
        meds = [1000, 1002, 999, 1001, 1003, 1000, 998]
        res, booted = run_bisect(list(range(7)), series(meds))
        self.assertEqual(res["verdict"], "NO STEP")
        self.assertEqual(booted, [0, 6])

    def test_noisy_spread_hides_a_small_move(self):
        # A 5% move with 3% spreads is within 3 x spread: no step.
        full = {i: s(1000, 1030) if i < 4 else s(1050, 1080) for i in range(8)}
        res, _ = run_bisect(list(range(8)), full)
        self.assertEqual(res["verdict"], "NO STEP")
        self.assertGreater(res["judgement"]["threshold"], 0.05)

    def test_gone_builds_are_left_out(self):
        # builds 2 and 3 are GONE: not candidates (kernels_bisect.candidates)
        order = [0, 1, 4, 5, 6]
        meds = {0: 1000, 1: 1000, 4: 1200, 5: 1200, 6: 1200}
        full = {i: s(m, m + 1) for i, m in meds.items()}
        res, booted = run_bisect(order, full)
        self.assertEqual((res["before"], res["after"]), (1, 4))
        self.assertNotIn(2, booted)
        self.assertNotIn(3, booted)

    def test_build_without_figure_is_skipped(self):
        full = series([1000, 1000, 1000, 1100, 1100])
        full[2] = None  # booted, the benchmark errored
        res, _ = run_bisect(list(range(5)), full)
        self.assertEqual(res["skipped"], [2])
        self.assertEqual((res["before"], res["after"]), (1, 3))


class Sweep(unittest.TestCase):
    def test_first_step_between_neighbours(self):
        meds = [1000, 1000, 1050, 1050, 1000]  # up at 2, back at 4
        res = kb.sweep_result(list(range(5)), series(meds))
        self.assertEqual((res["verdict"], res["before"], res["after"]), ("STEP", 1, 2))
        self.assertEqual([b for _, b, _ in res["steps"]], [2, 4])
        # a bisection of the same figures sees no step: the ends agree
        self.assertEqual(kb.bisect_plan(list(range(5)), series(meds))[1]["verdict"], "NO STEP")

    def test_no_step(self):
        res = kb.sweep_result(list(range(4)), series([1000, 1004, 998, 1001]))
        self.assertEqual(res["verdict"], "NO STEP")


class Versions(unittest.TestCase):
    def test_vercmp(self):
        self.assertLess(kb.vercmp("6.1.192-2", "6.1.192-3"), 0)
        self.assertLess(kb.vercmp("6.1.176-1", "6.1.177-1"), 0)
        self.assertGreater(kb.vercmp("6.1.192-1", "6.1.190-1"), 0)
        self.assertLess(kb.vercmp("6.12.95-1~bpo12+1", "6.12.95-1"), 0)
        self.assertEqual(kb.vercmp("1:2.0", "1:2.0-0"), 0)
        self.assertGreater(kb.vercmp("1:1.0", "9.0"), 0)

    def test_upstream(self):
        self.assertEqual(kb.upstream("6.1.192-3"), "6.1.192")
        self.assertEqual(kb.upstream("6.12.95-1~bpo12+1"), "6.12.95")

    def test_changelog_entries_between(self):
        text = "".join(
            f"linux ({v}) bookworm-security; urgency=high\n\n  * change {v}\n\n -- M <m@x>  Mon, 1 Jan 2026\n\n"
            for v in ("6.1.192-3", "6.1.192-2", "6.1.192-1", "6.1.190-1"))
        got = [v for v, _ in kb.changelog_entries(text, "6.1.190-1", "6.1.192-2")]
        self.assertEqual(got, ["6.1.192-2", "6.1.192-1"])


def bench_json(figures):
    return {"context": {}, "benchmarks": [
        {"name": n + "/real_time", "run_name": n + "/real_time", "run_type": "iteration",
         "iterations": 100, "real_time": v, "cpu_time": v, "time_unit": "ns"}
        for n, v in figures.items()]}


class Render(unittest.TestCase):
    """A bisect folder as kernels_bisect.sh leaves it, rendered."""

    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="ptbench-bisect-test.")

    def tearDown(self):
        shutil.rmtree(self.d)

    def make(self, rows, info, figures):
        """rows: (package, version, status, append); figures: index ->
        [value per boot] of switch/faithful."""
        lines = ["index\tpackage\tversion\tupstream\tsuite\tstatus\tlabel\tappend\tdeb\truns"]
        for i, (pkg, ver, status, app) in enumerate(rows):
            lab = f"b{i}"
            vals = figures.get(i, [])
            lines.append(f"{i}\t{pkg}\t{ver}\t{kb.upstream(ver) if ver else ''}\tbookworm\t"
                         f"{status}\t{lab}\t{app}\t\t{len(vals)}")
            os.makedirs(os.path.join(self.d, "raw", lab), exist_ok=True)
            for n, v in enumerate(vals, 1):
                with open(os.path.join(self.d, "raw", lab, f"run{n}.log.bench.json"), "w") as f:
                    json.dump(bench_json({"switch/faithful": v}), f)
        with open(os.path.join(self.d, "builds.tsv"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(self.d, "bisect.info"), "w") as f:
            f.write("".join(f"{k}={v}\n" for k, v in info.items()))

    def render(self):
        p = subprocess.run([PY, os.path.join(SCRIPTS, "kernels_bisect.py"), "render", self.d],
                           capture_output=True, text=True)
        with open(os.path.join(self.d, "report.md"), encoding="utf-8") as f:
            return p.returncode, f.read()

    def test_sweep_names_the_step_and_the_gone_build(self):
        rows = [(f"linux-image-6.1.0-{n}-amd64", v, st, "") for n, v, st in (
            (47, "6.1.170-3", "ok"), (48, "", "gone"), (49, "6.1.174-1", "ok"),
            (50, "6.1.176-1", "ok"))]
        self.make(rows, {"figures": "switch/faithful", "mode": "sweep", "runs": 2},
                  {0: [1000.0, 1001.0], 2: [1000.5, 1001.0], 3: [1100.0, 1101.0]})
        rc, md = self.render()
        self.assertEqual(rc, 0, md)
        self.assertIn("first moved in **6.1.0-50-amd64 (6.1.176-1, 6.1.176)**", md)
        self.assertIn("GONE (not in the archive, not in the cache): linux-image-6.1.0-48-amd64", md)
        with open(os.path.join(self.d, "bisect.tsv")) as f:
            self.assertIn("\tGONE\n", f.read())

    def test_control_must_find_the_planted_position(self):
        rows = [("linux-image-6.1.0-57-amd64", "6.1.192-3", "ok", "mitigations=off" if i >= 2 else "")
                for i in range(5)]
        info = {"figures": "switch/faithful", "mode": "sweep", "runs": 2,
                "control": "mitigations=off", "planted": 2}
        self.make(rows, info, {0: [1000.0, 1000.0], 1: [1000.0, 1000.0], 2: [900.0, 900.0],
                               3: [900.0, 900.0], 4: [900.0, 900.0]})
        rc, md = self.render()
        self.assertEqual(rc, 0, md)
        self.assertIn("**was found**", md)
        # the step one position late: the control fails
        self.make(rows, info, {0: [1000.0, 1000.0], 1: [1000.0, 1000.0], 2: [1000.0, 1000.0],
                               3: [900.0, 900.0], 4: [900.0, 900.0]})
        rc, md = self.render()
        self.assertEqual(rc, 1, md)
        self.assertIn("**was not found**", md)


class ScriptArgs(unittest.TestCase):
    """kernels.sh --bisect: usage errors exit 2 with one line, before any
    look-up in the archive."""

    def test_usage_errors(self):
        for args in (["--bisect", "switch/faithful", "6.1.0-57-amd64", "6.1.0-47-amd64"],
                     ["--bisect", "switch/faithful", "6.1.0-47-amd64", "6.12.1+deb13-amd64"],
                     ["--bisect", "a'b", "6.1.0-47-amd64", "6.1.0-57-amd64"],
                     ["--bisect", "switch/faithful", "6.1.0-47-amd64"],
                     ["--bisect", "x", "6.1.0-47-amd64", "6.1.0-57-amd64", "--runs", "0"],
                     ["--bisect", "x", "6.1.0-47-amd64", "6.1.0-57-amd64", "--accel", "kvm"]):
            p = subprocess.run(["bash", os.path.join(SCRIPTS, "kernels.sh"), *args],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, (args, p.stderr))


if __name__ == "__main__":
    unittest.main()
