#!/usr/bin/python3
"""Tests of lib.sh's progress helpers (watch_progress, eta_text,
duration_text, kill_tree), which fuzz, soak and kernels use."""

import os
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(os.path.dirname(HERE), "lib.sh")


def bash(script, **env):
    e = dict(os.environ, **env)
    return subprocess.run(["bash", "-c", f"source '{LIB}'\n{script}"], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=e, timeout=60)


class TestProgress(unittest.TestCase):
    def test_lines_while_the_job_runs_and_its_status(self):
        r = bash('describe() { echo "step $1 ${2}s"; }\n'
                 '(sleep 3.5; exit 7) &\n'
                 'watch_progress $! describe 2/5; echo "status $?"',
                 PTBENCH_PROGRESS_S="1", PTBENCH_PROG="t")
        self.assertEqual(r.stdout.strip(), "status 7")
        lines = r.stderr.strip().splitlines()
        self.assertGreaterEqual(len(lines), 2, r.stderr)
        self.assertTrue(all(ln.startswith("t: step 2/5 ") and ln.endswith("s") for ln in lines), lines)

    def test_a_quick_job_prints_nothing(self):
        r = bash('describe() { echo never; }\n(exit 0) &\nwatch_progress $! describe',
                 PTBENCH_PROGRESS_S="10")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, "")

    def test_eta_and_duration(self):
        r = bash('eta_text 25 100 10; echo; eta_text 0 100 10; echo; eta_text 100 100 9; echo\n'
                 'duration_text 42; echo; duration_text 185; echo; duration_text 3725; echo')
        self.assertEqual(r.stdout.split("\n")[:6],
                         ["ETA 30s", "ETA unknown", "ETA 0s", "42s", "3m05s", "1h02m"])

    def test_kill_tree_reaches_grandchildren(self):
        r = bash('(sh -c "sleep 300 & sleep 300; wait") & p=$!\n'
                 'sleep 0.5; kids=$(pgrep -P $p); grand=$(for k in $kids; do pgrep -P $k; done)\n'
                 'kill_tree $p; sleep 0.5\n'
                 # a zombie is dead (init here may reap it late)
                 'for q in $p $kids $grand; do st=$(ps -o stat= -p $q); '
                 '[[ -n $st && $st != Z* ]] && echo "alive $q $st"; done; echo done')
        self.assertEqual(r.stdout.strip(), "done", r.stdout)


if __name__ == "__main__":
    unittest.main()
