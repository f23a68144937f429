#!/usr/bin/python3
"""Report a ptbench results folder to LAVA, from inside a LAVA test shell.

Usage:
  lava_report.py DIR [--print]
      Call LAVA's lava-test-case helper (found on PATH, as the test shell
      puts it there) once per test case of DIR/testlog.json:
        lava-test-case NAME --result pass|fail|skip
      and once per key figure of DIR/bench.json (the benchmarks that
      results/history keeps, scripts/history.py FAMILIES), with its median:
        lava-test-case NAME --result pass --measurement VALUE --units ns
      (a key benchmark that skipped: --result skip, no measurement). NAMEs
      are scripts/ptcases.py's: dot-separated, unique, without spaces or
      '/' (LAVA turns '/' into '_' and drops names with spaces); figures
      are bench.FAMILY.NAME. --print: print the calls instead of making
      them. lava/ptbench.yaml runs it after scripts/ptbench run.

Exit status: 0 all reported, 1 a call of lava-test-case failed, 2 on a
missing or malformed input or no lava-test-case on PATH (one line on
stderr). Python 3 standard library only.
"""

import os
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import history  # noqa: E402  (which benchmarks are key figures)
import ptcases  # noqa: E402
import ptcli  # noqa: E402
import ptfmt  # noqa: E402

PROG = "lava_report.py"
HELPER = "lava-test-case"
InputError = ptcli.InputError


def calls_of(folder):
    """The lava-test-case argument lists for a results folder."""
    if not os.path.isdir(folder):
        raise InputError(f"no results folder {folder}")
    calls = [[c.name, "--result", c.status]
             for c in ptcases.cases_of_testlog(os.path.join(folder, "testlog.json"))]
    bench_json = os.path.join(folder, "bench.json")
    if os.path.exists(bench_json):
        res = ptfmt.Results.load(bench_json, salvage=False)
        for key in sorted(res.benches):
            if history.family_of(key) is None:
                continue
            median = res.benches[key].median()
            name = ptcases.bench_path(key)
            if median is None:
                calls.append([name, "--result", "skip"])
            else:
                calls.append([name, "--result", "pass", "--measurement", f"{median:.3f}",
                              "--units", "ns"])
    return calls


def cmd_report(args):
    calls = calls_of(args.dir)
    if args.print:
        print("\n".join(shlex.join([HELPER] + c) for c in calls))
        return 0
    helper = shutil.which(HELPER)
    if helper is None:
        raise InputError(f"{HELPER} is not on PATH (run this inside a LAVA test shell, or use --print)")
    failed = 0
    for c in calls:
        if subprocess.run([helper] + c, stdin=subprocess.DEVNULL).returncode != 0:
            failed += 1
    if failed:
        print(f"{PROG}: {failed} of {len(calls)} calls of {HELPER} failed", file=sys.stderr)
        return 1
    return 0


def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("dir", help="a results folder of scripts/ptbench run")
    p.add_argument("--print", action="store_true", help="print the calls, make none")
    p.set_defaults(func=cmd_report)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
