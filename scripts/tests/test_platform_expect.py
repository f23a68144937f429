"""platform_expect.py's verdict: the broken platform must fail exactly the
named cases, in every mode that ran, and nothing else."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import platform_expect  # noqa: E402
import ptcases  # noqa: E402

EXPECTED = {"fault/signal_clears_record"}


def case(program, desc, status):
    return ptcases.Case("conformance", program, desc, status, "", 0.1)


def run_of(fault_lean="fail", fault_faithful="fail", other="pass"):
    return [case("fault/faithful", "fault/signal_clears_record", fault_faithful),
            case("fault/lean", "fault/signal_clears_record", fault_lean),
            case("fault/lean", "fault/read_unmapped", other),
            case("fault/lean", "fault/table_written", "skip")]


class Judge(unittest.TestCase):
    def test_exactly_the_named_cases_fail(self):
        problems, runs = platform_expect.judge(run_of(), EXPECTED)
        self.assertEqual(problems, [])
        self.assertEqual(runs, 2)

    def test_a_named_case_that_passes_in_one_mode(self):
        problems, _ = platform_expect.judge(run_of(fault_lean="pass"), EXPECTED)
        self.assertEqual(len(problems), 1)
        self.assertIn("fault/lean", problems[0])

    def test_another_case_that_fails(self):
        problems, _ = platform_expect.judge(run_of(other="fail"), EXPECTED)
        self.assertEqual(len(problems), 1)
        self.assertIn("read_unmapped", problems[0])

    def test_a_named_case_that_did_not_run(self):
        problems, _ = platform_expect.judge(run_of(), EXPECTED | {"fault/renamed_case"})
        self.assertEqual(len(problems), 1)
        self.assertIn("renamed_case", problems[0])
        problems, _ = platform_expect.judge(run_of(), EXPECTED | {"interrupt/x"})
        self.assertIn("did not run", problems[0])


if __name__ == "__main__":
    unittest.main()
