#!/usr/bin/env python3
"""platform_expect.py: did a platform fail exactly the cases it should?

Usage: platform_expect.py --testlog TESTLOG.json --expect FILE

TESTLOG is meson's testlog.json of a "ptbench test --platform" run (the
behaviour groups against one shared library); FILE names the cases that
must fail, one GROUP/CASE a line ('#' starts a comment), e.g.
conformance/broken-for-test.expect for the core built with
-Dbroken_for_test=true. Exit 0 when every named case failed in every mode
that ran and every other case passed or skipped; 1 otherwise, naming each
case that did not go as expected; 2 on bad input (one line).

Python 3 standard library only.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptcases  # noqa: E402
import ptcli  # noqa: E402

PROG = "platform_expect.py"


def read_expect(path):
    with open(path, encoding="utf-8") as f:
        names = [line.split("#", 1)[0].strip() for line in f]
    names = [n for n in names if n]
    bad = [n for n in names if n.count("/") != 1]
    if bad:
        raise ptcli.InputError(f"{path}: not GROUP/CASE: {bad[0]}")
    if not names:
        raise ptcli.InputError(f"{path}: names no case")
    return set(names)


def judge(cases, expected):
    """The lines saying what went otherwise than expected ([] when all
    did), and the number of runs (programs) that were read."""
    problems, programs, failed_where = [], set(), {}
    for c in cases:
        programs.add(c.program)
        desc = c.desc or c.program
        if desc in expected:
            failed_where.setdefault(desc, set())
            if c.status == "fail":
                failed_where[desc].add(c.program)
            else:
                problems.append(f"{desc} ({c.program}): {c.status}, expected to fail")
        elif c.status == "fail":
            problems.append(f"{desc} ({c.program}): failed, expected to pass")
    for name in sorted(expected):
        group = name.split("/")[0]
        runs = {p for p in programs if p.split("/")[0] == group}
        if not runs:
            problems.append(f"{name}: its group {group} did not run")
        elif name not in failed_where:
            problems.append(f"{name}: no such case in {', '.join(sorted(runs))}")
    return problems, len(programs)


def main(argv=None):
    p = ptcli.Parser(prog=PROG, description=__doc__.split("\n")[0])
    p.add_argument("--testlog", required=True)
    p.add_argument("--expect", required=True)

    def run(a):
        expected = read_expect(a.expect)
        cases = ptcases.cases_of_testlog(a.testlog)
        if not cases:
            raise ptcli.InputError(f"{a.testlog}: no test in it")
        problems, nprog = judge(cases, expected)
        for line in problems:
            print(f"{PROG}: {line}", file=sys.stderr)
        if problems:
            return 1
        print(f"{PROG}: as expected: {len(expected)} case(s) failed in every mode, "
              f"the rest of {nprog} run(s) passed or skipped")
        return 0

    p.set_defaults(func=run)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main())
