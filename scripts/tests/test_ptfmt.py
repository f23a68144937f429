#!/usr/bin/python3
"""Tests of scripts/ptfmt.py: the one reader per format (Google Benchmark
JSON, TAP), the Markdown table writer and the Wilson interval, and its
command line (bad input: one line, exit 2, no traceback).

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
sys.path.insert(0, os.path.dirname(HERE))

import ptfmt  # noqa: E402

PTFMT = [sys.executable, os.path.join(os.path.dirname(HERE), "ptfmt.py")]


class Tmp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ptfmt-test.")
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path


def run(name, ns, unit="ns", **extra):
    return dict({"name": name, "run_name": name, "run_type": "iteration",
                 "real_time": ns, "time_unit": unit, "threads": 1}, **extra)


class BenchJson(Tmp):
    DOC = {"context": {"num_cpus": 2}, "benchmarks": [
        run("switch/faithful/real_time", 12.0, "us"),
        run("switch/faithful/real_time", 14.0, "us"),
        run("switch/faithful/real_time", 13.0, "us"),
        run("map/inject/pages:4/real_time", 25000.0, p50_ns=1.5),
        {"name": "mechanism/sud", "run_name": "mechanism/sud", "run_type": "iteration",
         "error_occurred": True, "error_message": "no SUD here"},
    ]}

    def test_keys_units_and_medians(self):
        res = ptfmt.Results(self.DOC)
        self.assertEqual(sorted(res.benches), ["map/inject/pages:4", "mechanism/sud", "switch/faithful"])
        sw = res.benches["switch/faithful"]
        self.assertEqual(sw.median(), 13000.0)
        self.assertEqual(sw.values(), [12000.0, 14000.0, 13000.0])
        self.assertEqual(sw.nreps(), 3)
        self.assertAlmostEqual(sw.cv(), 1000.0 / 13000.0)
        self.assertEqual(res.find("map/inject", pages=4).counters(), ["p50_ns"])
        self.assertTrue(res.benches["mechanism/sud"].skipped)
        self.assertEqual(res.benches["mechanism/sud"].error, "no SUD here")
        self.assertEqual(res.nproc(), 2)

    def test_a_json_cut_short_is_salvaged_or_refused(self):
        text = json.dumps(self.DOC, indent=2)  # as Google Benchmark indents
        cut = self.write("cut.json", text[:text.index('"map/inject') - 30])
        doc, partial = ptfmt.load_json(cut)
        self.assertTrue(partial)
        self.assertIn("switch/faithful", ptfmt.Results(doc, partial).benches)
        with self.assertRaisesRegex(ptfmt.InputError, "cut.json is not JSON"):
            ptfmt.load_json(cut, salvage=False)

    def test_bad_files_are_input_errors_naming_the_file(self):
        for name, text, why in (("empty.json", "", "empty"), ("junk.json", "}{", "not JSON"),
                                ("list.json", "[1]", "not a Google Benchmark JSON object"),
                                ("bl.json", '{"benchmarks": 3}', "not a list")):
            with self.subTest(name):
                with self.assertRaisesRegex(ptfmt.InputError, f"{name}.*{why}|{why}.*{name}"):
                    ptfmt.load_json(self.write(name, text))
        with self.assertRaisesRegex(ptfmt.InputError, "cannot read .*nope.json"):
            ptfmt.load_json(os.path.join(self.dir, "nope.json"))


class Tap(unittest.TestCase):
    def test_counts_and_directives(self):
        t = ptfmt.parse_tap("noise\n1..5\nok 1 - a\nnot ok 2 - b # SKIP no cpu\n"
                            "ok 3 # skip quiet\nnot ok 4 - d # TODO later\nnot ok 5 - e\n"
                            "    not ok 1 - indented subtest\n# comment\n")
        self.assertEqual((t.passed, t.failed, t.skipped, t.todo, t.plan), (1, 1, 2, 1, 5))
        self.assertEqual(t.skips, [("b", "no cpu"), ("", "quiet")])
        self.assertEqual(t.failures, ["e"])
        self.assertEqual(t.verdict, "fail")

    def test_cases_reasons_diagnostics_and_durations(self):
        t = ptfmt.parse_tap("1..4\nok 1 - g/a\n# duration_ms: 12.5\n"
                            "ok 2 - g/b # SKIP no Yama\n# duration_ms: 0.250\n"
                            "not ok 3 - g/c\n# duration_ms: 3\n# expected 1\n# got 2\n"
                            "not ok 4 - g/d\n# boom\n# duration_ms: 9\n")
        got = [(c.number, c.desc, c.status, c.reason, c.duration, c.diag) for c in t.cases]
        self.assertEqual(got, [
            (1, "g/a", "pass", "", 0.0125, []),
            (2, "g/b", "skip", "no Yama", 0.00025, []),
            (3, "g/c", "fail", "", 0.003, ["expected 1", "got 2"]),
            # a duration only right after the line: here it is diagnostics
            (4, "g/d", "fail", "", None, ["boom", "duration_ms: 9"]),
        ])

    def test_verdicts(self):
        self.assertEqual(ptfmt.parse_tap("").verdict, "none")
        self.assertEqual(ptfmt.parse_tap(None).verdict, "none")
        self.assertEqual(ptfmt.parse_tap("1..2\nok 1\nok 2\n").verdict, "pass")
        # a plan not met, a missing plan, a bail-out: each fails
        self.assertEqual(ptfmt.parse_tap("1..3\nok 1\nok 2\n").verdict, "fail")
        self.assertEqual(ptfmt.parse_tap("ok 1\nok 2\n").verdict, "fail")
        self.assertEqual(ptfmt.parse_tap("1..1\nok 1\nBail out! disk\n").verdict, "fail")
        t = ptfmt.parse_tap("1..0 # SKIP no CPUID faulting\n")
        self.assertEqual((t.verdict, t.skips), ("pass", [("(whole program)", "no CPUID faulting")]))
        self.assertEqual(ptfmt.parse_tap("1..1\r\nnot ok 1 # TODO x\r\n").verdict, "pass")


class Markdown(unittest.TestCase):
    def test_cells_are_escaped_and_rows_padded(self):
        self.assertEqual(ptfmt.table(["a", "b"], [["x|y", ""], ["1"]], align="lr"),
                         ["| a | b |", "|---|--:|", "| x\\|y |   |", "| 1 |   |"])
        self.assertEqual(ptfmt.table(["a"], [["two\nlines"]])[2], "| two lines |")


class Wilson(unittest.TestCase):
    Z = ptfmt.Z95

    def test_zero_of_forty(self):
        # The closed form at k = 0: upper = z^2 / (n + z^2).
        lo, hi = ptfmt.wilson(0, 40)
        self.assertEqual(lo, 0.0)
        self.assertAlmostEqual(hi, self.Z ** 2 / (40 + self.Z ** 2), places=12)

    def test_all_mirrors_zero(self):
        lo, hi = ptfmt.wilson(40, 40)
        self.assertAlmostEqual(lo, 1 - ptfmt.wilson(0, 40)[1], places=12)
        self.assertAlmostEqual(hi, 1.0, places=12)

    def test_textbook_values(self):
        # 50 of 100: [0.4038, 0.5962]; 5 of 10: [0.2366, 0.7634]
        lo, hi = ptfmt.wilson(50, 100)
        self.assertAlmostEqual(lo, 0.4038, places=4)
        self.assertAlmostEqual(hi, 0.5962, places=4)
        lo, hi = ptfmt.wilson(5, 10)
        self.assertAlmostEqual(lo, 0.23659, places=4)
        self.assertAlmostEqual(hi, 0.76341, places=4)

    def test_no_trials_is_bad_input(self):
        with self.assertRaises(ptfmt.InputError):
            ptfmt.wilson(0, 0)


class CommandLine(Tmp):
    def ptfmt(self, *args):
        return subprocess.run(PTFMT + list(args), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)

    def test_tap_lines(self):
        a = self.write("a.tap", "1..2\nok 1\nnot ok 2 # SKIP x\n")
        b = self.write("b.tap", "")
        c = self.write("c.tap", "1..2\nok 1\n")
        p = self.ptfmt("tap", a, b, c)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            f"1\t0\t1\t0\t2\tpass\t{a}", f"0\t0\t0\t0\t-1\tnone\t{b}", f"1\t0\t0\t0\t2\tfail\t{c}"])

    def test_bad_input_is_one_line_and_exit_2(self):
        for args in (["tap", os.path.join(self.dir, "missing.tap")], ["tap", self.dir],
                     ["tap"], ["frob"], []):
            with self.subTest(args):
                p = self.ptfmt(*args)
                self.assertEqual(p.returncode, 2)
                self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
                self.assertNotIn("Traceback", p.stderr)
                self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    unittest.main()
