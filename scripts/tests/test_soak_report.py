#!/usr/bin/python3
"""Tests of scripts/soak_report.py (no soak runs).

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import ptcli  # noqa: E402
import soak_report  # noqa: E402


class Wilson(unittest.TestCase):
    def test_zero_of_forty(self):
        # The closed form at k = 0: upper = z^2 / (n + z^2).
        lo, hi = soak_report.wilson(0, 40)
        self.assertEqual(lo, 0.0)
        self.assertAlmostEqual(hi, 1.96 ** 2 / (40 + 1.96 ** 2), places=12)

    def test_all_of_forty_mirrors_zero(self):
        lo, hi = soak_report.wilson(40, 40)
        self.assertAlmostEqual(lo, 1 - soak_report.wilson(0, 40)[1], places=12)
        self.assertAlmostEqual(hi, 1.0, places=12)

    def test_half(self):
        # A textbook value: 50 of 100 gives [0.4038, 0.5962].
        lo, hi = soak_report.wilson(50, 100)
        self.assertAlmostEqual(lo, 0.4038, places=4)
        self.assertAlmostEqual(hi, 0.5962, places=4)

    def test_no_runs_is_bad_input(self):
        with self.assertRaises(ptcli.InputError):
            soak_report.wilson(0, 0)


if __name__ == "__main__":
    unittest.main()
