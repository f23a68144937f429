#!/usr/bin/python3
"""Tests of scripts/junit.py: meson's JUnit file completed with the skip
reasons, failure diagnostics and case times, and the VM suite's JUnit file
from a constructed console log (no VM is booted).

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import json
import os
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

import test_ptfmt

HERE = os.path.dirname(os.path.abspath(__file__))
JUNIT = [sys.executable, os.path.join(os.path.dirname(HERE), "junit.py")]

# What the conformance harness prints for a group with a pass, a skip and
# a failure (diagnostics after the duration comment).
FAULT_TAP = ("1..3\n"
             "ok 1 - fault/read_unmapped\n# duration_ms: 4.250\n"
             "ok 2 - fault/table_written # SKIP PTBENCH_FAULT_TABLE is not set\n"
             "# duration_ms: 0.500\n"
             "not ok 3 - fault/write_dance\n# duration_ms: 7.000\n"
             "# fault.c:12: error: 1 != 2\n# killed by signal 6\n")
TEST_NAME = "ptbench:conformance+fault / fault/lean"

# meson 1.0.1's JUnit for that output: empty <skipped/> and <failure/>,
# no time per case (as it writes them).
MESON_JUNIT = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<testsuites tests="4" errors="0" failures="1">'
    '<testsuite name="ptbench" tests="1" errors="0" failures="0" skipped="0" time="0.5">'
    '<testcase name="ptbench:compare / compare-cli" classname="ptbench" time="0.5"/></testsuite>'
    f'<testsuite name="ptbench.{TEST_NAME}" tests="3" errors="0" failures="1" skipped="1" time="0.02">'
    f'<testcase name="1 - fault/read_unmapped" classname="ptbench.{TEST_NAME}"/>'
    f'<testcase name="2 - fault/table_written" classname="ptbench.{TEST_NAME}"><skipped/>'
    '<system-out>PTBENCH_FAULT_TABLE is not set</system-out></testcase>'
    f'<testcase name="3 - fault/write_dance" classname="ptbench.{TEST_NAME}"><failure/></testcase>'
    "</testsuite></testsuites>\n")

VM_LOG = """\
PTBENCH-VM: INFO boot_ms=3360
PTBENCH-VM: INFO kernel=6.1.0-57-cloud-arm64
PTBENCH-VM: INFO machine=aarch64
PTBENCH-VM: BEGIN 1/5 conf-cpuid faithful
1..0 # SKIP no cpuid instruction on this arch
PTBENCH-VM: END 1/5 exit=0 ms=130 conf-cpuid faithful
PTBENCH-VM: BEGIN 2/5 conf-fault lean
""" + FAULT_TAP + """\
PTBENCH-VM: END 2/5 exit=1 ms=2260 conf-fault lean
PTBENCH-VM: BEGIN 3/5 ptbench-probe
{"arch": "aarch64"}
PTBENCH-VM: END 3/5 exit=0 ms=400 ptbench-probe
PTBENCH-VM: BEGIN 4/5 env PTBENCH_YAMA_RAISE=1 rel-faults lean
1..1
ok 1 - faults/yama_scope3_open
PTBENCH-VM: END 4/5 exit=0 ms=900 env PTBENCH_YAMA_RAISE=1 rel-faults lean
PTBENCH-VM: BEGIN 5/5 conf-lifecycle faithful
1..9
ok 1 - lifecycle/open_close
PTBENCH-VM: TIMEOUT 5/5 after 600s: killing conf-lifecycle faithful
"""


class Tmp(test_ptfmt.Tmp):
    def run_junit(self, *args):
        return subprocess.run(JUNIT + list(args), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)


def cases_of(path):
    root = ET.parse(path).getroot()
    return {tc.get("name"): tc for tc in root.iter("testcase")}


class Meson(Tmp):
    def test_reasons_diagnostics_and_times_are_filled_in(self):
        junit = self.write("testlog.junit.xml", MESON_JUNIT)
        testlog = self.write("testlog.json", json.dumps(
            {"name": TEST_NAME, "result": "FAIL", "duration": 0.02, "stdout": FAULT_TAP}) + "\n")
        out = os.path.join(self.dir, "junit.xml")
        r = self.run_junit("meson", "--junit", junit, "--testlog", testlog, "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        cases = cases_of(out)
        self.assertEqual(cases["1 - fault/read_unmapped"].get("time"), "0.004250")
        skipped = cases["2 - fault/table_written"].find("skipped")
        self.assertEqual(skipped.get("message"), "PTBENCH_FAULT_TABLE is not set")
        self.assertEqual(cases["2 - fault/table_written"].get("time"), "0.000500")
        failure = cases["3 - fault/write_dance"].findall("failure")
        self.assertEqual(len(failure), 1, "meson's empty <failure/> is replaced, not kept beside")
        self.assertEqual(failure[0].get("message"), "fault.c:12: error: 1 != 2")
        self.assertIn("killed by signal 6", failure[0].text)
        # the suite of programs without TAP is as meson wrote it
        self.assertEqual(cases["ptbench:compare / compare-cli"].get("time"), "0.5")

    def test_bad_input_is_one_line_and_exit_2(self):
        good_log = self.write("testlog.json", json.dumps({"name": "a", "result": "OK"}) + "\n")
        notxml = self.write("not.xml", "this is not XML\n")
        wrong = self.write("wrong.xml", "<html/>\n")
        out = os.path.join(self.dir, "out.xml")
        for junit, testlog, what in ((os.path.join(self.dir, "missing.xml"), good_log, "missing.xml"),
                                     (notxml, good_log, "not.xml"),
                                     (wrong, good_log, "wrong.xml"),
                                     (self.write("j.xml", MESON_JUNIT), notxml, "not.xml")):
            r = self.run_junit("meson", "--junit", junit, "--testlog", testlog, "--out", out)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn(what, r.stderr)
            self.assertFalse(os.path.exists(out))


class Vm(Tmp):
    def test_one_suite_per_command_with_reasons_and_times(self):
        log = self.write("suite.log", VM_LOG)
        out = os.path.join(self.dir, "vm.xml")
        r = self.run_junit("vm", log, "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        root = ET.parse(out).getroot()
        self.assertEqual(len(root.findall("testsuite")), 5)
        cases = cases_of(out)
        whole = cases["conformance.cpuid.faithful"].find("skipped")
        self.assertEqual(whole.get("message"), "no cpuid instruction on this arch")
        self.assertEqual(cases["conformance.fault.lean.read_unmapped"].get("time"), "0.004250")
        self.assertEqual(cases["conformance.fault.lean.table_written"].find("skipped").get("message"),
                         "PTBENCH_FAULT_TABLE is not set")
        self.assertIn("killed by signal 6",
                      cases["conformance.fault.lean.write_dance"].find("failure").text)
        self.assertIsNone(cases["vm.ptbench-probe"].find("failure"))
        self.assertIsNone(cases["reliability.faults.lean.yama_scope3_open"].find("failure"))
        # the command that never ended fails, beside its one passed case
        self.assertIn("never ended", cases["conformance.lifecycle.faithful"].find("failure").text)
        self.assertEqual((root.get("failures"), root.get("skipped"), root.get("tests")), ("2", "2", "8"))

    def test_a_log_without_commands_is_bad_input(self):
        for name, text in (("boot.log", "[    0.0] Booting Linux\nKernel panic\n"), ("missing.log", None)):
            log = self.write(name, text) if text is not None else os.path.join(self.dir, name)
            r = self.run_junit("vm", log, "--out", os.path.join(self.dir, "vm.xml"))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn(name, r.stderr)


class HarnessTimes(Tmp):
    def test_every_case_of_a_conformance_program_has_its_time(self):
        sys.path.insert(0, os.path.dirname(HERE))
        import ptfmt
        exe = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "test",
                           "conformance", "conf-platform")
        if not os.access(exe, os.X_OK):
            self.skipTest("build/test/conformance/conf-platform is not built")
        r = subprocess.run([exe, "lean"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=120)
        tap = ptfmt.parse_tap(r.stdout)
        self.assertTrue(tap.cases, r.stdout)
        for c in tap.cases:
            self.assertIsNotNone(c.duration, f"{c.desc}: no '# duration_ms:' line after it")
            self.assertGreaterEqual(c.duration, 0)


if __name__ == "__main__":
    unittest.main()
