#!/usr/bin/python3
"""JUnit XML for CI systems: meson's, completed, and the VM suite's.

Usage:
  junit.py meson --junit testlog.junit.xml --testlog testlog.json --out FILE
      Copy meson's JUnit file with what meson 1.0 leaves out of the
      testcases of a TAP program: the reason in each <skipped message=...>
      (meson writes an empty <skipped/>), the diagnostics in each
      <failure message=...>, and every case's time (the conformance
      harness prints it as "# duration_ms: X" after each result line). The
      TAP comes from the same run's testlog.json.
  junit.py vm LOG --out FILE
      A JUnit file from the VM suite's console log (scripts/vm/run.sh's
      --log: PTBENCH-VM: BEGIN/END around each command, TAP between): one
      <testsuite> per command, one <testcase> per TAP line (or one for a
      command without TAP), with the same reasons and times; a command that
      never ended is a failure.

Exit status: 0 written, 2 on a missing or malformed input (one line on
stderr). Python 3 standard library only.
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptcases  # noqa: E402
import ptcli  # noqa: E402
import ptfmt  # noqa: E402
import report  # noqa: E402

PROG = "junit.py"
InputError = ptcli.InputError
LEADING_NUMBER = re.compile(r"^(\d+)\b")


def first_line(text):
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def mark(testcase, status, reason):
    """Fill a testcase's <skipped> or <failure> with the reason (replacing
    meson's empty one)."""
    for tag in ("skipped", "failure"):
        for old in testcase.findall(tag):
            testcase.remove(old)
    if status not in ("skip", "fail"):
        return
    el = ET.Element("skipped" if status == "skip" else "failure")
    el.set("message", first_line(reason) or ("skipped" if status == "skip" else "failed"))
    el.text = reason
    # JUnit readers expect <skipped>/<failure> before <system-out>.
    testcase.insert(0, el)


def load_junit(path):
    try:
        return ET.parse(path)
    except OSError as e:
        raise InputError(f"cannot read JUnit file {path}: {e.strerror}") from e
    except ET.ParseError as e:
        raise InputError(f"{path} is not XML: {e}") from e


def cmd_meson(args):
    tree = load_junit(args.junit)
    root = tree.getroot()
    if root.tag != "testsuites":
        raise InputError(f"{args.junit}: not a JUnit file (root <{root.tag}>, not <testsuites>)")
    stdout = {t["name"]: t.get("stdout") for t in report.load_testlog(args.testlog)}
    for suite in root.findall("testsuite"):
        # meson names a TAP program's suite "<project>.<test name>".
        name = suite.get("name", "")
        text = stdout.get(name.split(".", 1)[1] if "." in name else name)
        if text is None:
            continue
        tap_cases = ptfmt.parse_tap(text).cases
        by_number = {c.number: c for c in tap_cases if c.number is not None}
        for i, tc in enumerate(suite.findall("testcase")):
            m = LEADING_NUMBER.match(tc.get("name", ""))
            c = by_number.get(int(m.group(1))) if m else None
            if c is None and i < len(tap_cases):
                c = tap_cases[i]
            if c is None:
                continue
            if c.duration is not None:
                tc.set("time", f"{c.duration:.6f}")
            if c.status == "skip":
                mark(tc, "skip", c.reason or "no reason given")
            elif c.status == "fail":
                mark(tc, "fail", "\n".join(c.diag) or "failed (no diagnostics)")
    ET.indent(tree)
    ptcli.write_atomic(args.out, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
    return 0


def cmd_vm(args):
    info, runs = ptcases.runs_of_vm_log(args.log)
    cases = ptcases.cases_of_vm_runs(runs)
    arch = info.get("machine", "unknown")
    root = ET.Element("testsuites", name=f"ptbench VM suite ({arch}, kernel {info.get('kernel', 'unknown')})")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for run in runs:
        suite_name, program = ptcases.vm_program(run.command)
        mine = [c for c in cases if c.suite == suite_name and c.program == program]
        suite = ET.SubElement(root, "testsuite", name=f"vm-{arch}.{suite_name}.{program}")
        counts = {"tests": len(mine), "failures": sum(c.status == "fail" for c in mine),
                  "skipped": sum(c.status == "skip" for c in mine)}
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("errors", "0")
        if run.ms is not None:
            suite.set("time", f"{run.ms / 1000:.3f}")
        for c in mine:
            tc = ET.SubElement(suite, "testcase", name=c.name, classname=suite.get("name"))
            if c.duration is not None:
                tc.set("time", f"{c.duration:.6f}")
            mark(tc, c.status, c.reason)
        out = ET.SubElement(suite, "system-out")
        out.text = "\n".join(run.lines)
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("errors", "0")
    tree = ET.ElementTree(root)
    ET.indent(tree)
    ptcli.write_atomic(args.out, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
    return 0


def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("meson", help="complete meson's JUnit file")
    m.add_argument("--junit", required=True, help="meson's testlog.junit.xml")
    m.add_argument("--testlog", required=True, help="the same run's testlog.json")
    m.add_argument("--out", required=True)
    m.set_defaults(func=cmd_meson)
    v = sub.add_parser("vm", help="JUnit from the VM suite's console log")
    v.add_argument("log")
    v.add_argument("--out", required=True)
    v.set_defaults(func=cmd_vm)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
