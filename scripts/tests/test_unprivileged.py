#!/usr/bin/python3
"""Tests of scripts/unprivileged.py's judgement and its bad input (the
real run is a step of scripts/ptbench test)."""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
sys.path.insert(0, SCRIPTS)

import ptfmt  # noqa: E402
import unprivileged  # noqa: E402


def result(text, status=0):
    return status, ptfmt.parse_tap(text), 1


PASS2 = "1..2\nok 1 - a/one\nok 2 - a/two\n"


class TestVerdict(unittest.TestCase):
    def verdict(self, unpriv, root=result(PASS2)):
        return unprivileged.slice_verdict("conf-a", "lean", unpriv, root)

    def test_clean_pass(self):
        self.assertEqual(self.verdict(result(PASS2)), [])

    def test_exit_status_fails(self):
        self.assertIn("exit 1", self.verdict(result(PASS2, 1))[0])

    def test_failed_case_fails(self):
        p = self.verdict(result("1..2\nok 1 - a/one\nnot ok 2 - a/two\n"))
        self.assertTrue(any("a/two" in x for x in p), p)

    def test_short_plan_fails(self):
        self.assertTrue(self.verdict(result("1..2\nok 1 - a/one\n")))

    def test_new_skip_must_name_the_privilege(self):
        vague = result("1..2\nok 1 - a/one\nok 2 - a/two # SKIP no hierarchy here\n")
        p = self.verdict(vague)
        self.assertEqual(len(p), 1)
        self.assertIn("does not say which privilege", p[0])
        for reason in ("needs root", "needs CAP_SYS_ADMIN", "uid 64000 may not write",
                       "open: Permission denied", "EPERM from setns"):
            ok = result(f"1..2\nok 1 - a/one\nok 2 - a/two # SKIP {reason}\n")
            self.assertEqual(self.verdict(ok), [], reason)

    def test_skip_as_root_too_is_not_a_privilege_skip(self):
        both = "1..2\nok 1 - a/one\nok 2 - a/two # SKIP no such kernel feature\n"
        self.assertEqual(self.verdict(result(both), result(both)), [])


class TestBadInput(unittest.TestCase):
    def run_tool(self, *args):
        return subprocess.run([sys.executable, os.path.join(SCRIPTS, "unprivileged.py"), *args],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)

    def test_missing_build_dir(self):
        r = self.run_tool("--build-dir", "/nonexistent/build")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_unbuilt_dir(self):
        with tempfile.TemporaryDirectory() as d:
            r = self.run_tool("--build-dir", d)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no conformance executables", r.stderr)

    def test_no_args(self):
        self.assertEqual(self.run_tool().returncode, 2)


if __name__ == "__main__":
    unittest.main()
