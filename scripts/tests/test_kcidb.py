#!/usr/bin/python3
"""Tests of scripts/kcidb.py: the KCIDB v5.3 report of a results folder
validates against scripts/schema/kcidb-v05_03-ptbench.schema.json (Debian's
python3-jsonschema), holds what KernelCI wants, and the schema rejects
broken documents: an id without "ptbench:", a status "OK", an extra
property. Skipped, with the reason, where python3-jsonschema is missing.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import copy
import json
import os
import subprocess
import sys
import unittest

import test_gate
import test_junit
import test_ptfmt

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
ROOT = os.path.dirname(SCRIPTS)
sys.path.insert(0, SCRIPTS)
import kcidb  # noqa: E402

KCIDB = [sys.executable, os.path.join(SCRIPTS, "kcidb.py")]
PTBENCH = ["bash", os.path.join(SCRIPTS, "ptbench")]

COMMIT = "0123456789abcdef0123456789abcdef01234567"
RUN_FACTS = {
    "date": "2026-12-03T06:00:00Z",
    "checkout": {"commit": COMMIT, "describe": "v0-12-g0123456", "branch": "main", "dirty": False},
    "builds": [
        {"name": "test", "compiler": "cc (Debian 12.2.0-14) 12.2.0", "c_flags": "-std=gnu11 -O0 -g",
         "meson_options": {"buildtype": "debug"}, "architecture": "x86_64",
         "command": "meson setup build/test -Dbuildtype=debug && meson compile -C build/test"},
        {"name": "bench", "compiler": "cc (Debian 12.2.0-14) 12.2.0", "c_flags": "-std=gnu11 -O3",
         "meson_options": {"buildtype": "release"}, "architecture": "x86_64",
         "command": "meson setup build/bench -Dbuildtype=release && meson compile -C build/bench"}],
    "machine": {"host": "board1", "kernel": "6.1.0-57-amd64", "kernel_build": "#1 SMP Debian",
                "machine": "x86_64", "cpu_model": "AMD EPYC", "cpus": 2},
}
# A benchmark that skipped with a reason (SkipWithError).
SKIPPED_BENCH = {"name": "mechanism/unotify/real_time", "run_name": "mechanism/unotify/real_time",
                 "run_type": "iteration", "error_occurred": True,
                 "error_message": "no SECCOMP_RET_USER_NOTIF here", "threads": 1}


def write_results(d, run_facts=True):
    """A results folder as "ptbench run" leaves it: testlog.json (a
    conformance program with a pass, a skip and a failure, a program
    without TAP), bench.json, run.json."""
    lines = [
        {"name": test_junit.TEST_NAME, "result": "FAIL", "duration": 0.02,
         "stdout": test_junit.FAULT_TAP},
        {"name": "ptbench:conformance+cpuid / cpuid/lean", "result": "OK", "duration": 0.01,
         "stdout": "1..0 # SKIP no CPUID faulting (arch_prctl(ARCH_SET_CPUID): ENODEV)\n"},
        {"name": "ptbench:compare / compare-cli", "result": "OK", "duration": 0.5, "stdout": ""},
    ]
    with open(os.path.join(d, "testlog.json"), "w", encoding="utf-8") as f:
        f.write("".join(json.dumps(t) + "\n" for t in lines))
    bench = test_gate.full_doc(kernel="6.1.0-57-amd64", arch="x86_64", compiler="gcc 12.2.0",
                               pinning="on", switch_mode="faithful", systrap=False)
    bench["benchmarks"].append(SKIPPED_BENCH)
    test_gate.write(os.path.join(d, "bench.json"), bench)
    if run_facts:
        test_gate.write(os.path.join(d, "run.json"), RUN_FACTS)
    return d


def need_jsonschema(test):
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        test.skipTest("python3-jsonschema is not installed (scripts/ptbench setup installs it)")


class Report(test_ptfmt.Tmp):
    def setUp(self):
        super().setUp()
        need_jsonschema(self)
        self.res = os.path.join(self.dir, "board1-6.1.0-57-amd64-20261203-060000")
        os.mkdir(self.res)
        write_results(self.res)

    def report(self):
        r = subprocess.run(KCIDB + ["report", self.res], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = os.path.join(self.res, "kcidb.json")
        self.assertEqual(r.stdout.strip(), path)
        with open(path, encoding="utf-8") as f:
            return path, json.load(f)

    def test_the_report_validates_and_holds_what_kernelci_wants(self):
        path, doc = self.report()
        r = subprocess.run(KCIDB + ["validate", path], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, f"{path}: valid"), r.stdout + r.stderr)
        self.assertEqual(doc["version"], {"major": 5, "minor": 3})
        (co,) = doc["checkouts"]
        self.assertEqual((co["git_commit_hash"], co["git_commit_name"]), (COMMIT, "v0-12-g0123456"))
        builds = {b["config_name"]: b for b in doc["builds"]}
        self.assertEqual(set(builds), {"test", "bench"})
        self.assertEqual(builds["test"]["compiler"], "cc (Debian 12.2.0-14) 12.2.0")
        self.assertEqual(builds["test"]["architecture"], "x86_64")
        self.assertIn("-Dbuildtype=debug", builds["test"]["command"])
        self.assertEqual(builds["test"]["misc"]["c_flags"], "-std=gnu11 -O0 -g")
        tests = {t["path"]: t for t in doc["tests"]}
        ok = tests["conformance.fault.lean.read_unmapped"]
        self.assertEqual((ok["status"], ok["duration"], ok["build_id"]),
                         ("PASS", 0.00425, builds["test"]["id"]))
        skip = tests["conformance.fault.lean.table_written"]
        self.assertEqual((skip["status"], skip["misc"]["reason"]), ("SKIP", "PTBENCH_FAULT_TABLE is not set"))
        whole = tests["conformance.cpuid.lean"]
        self.assertEqual(whole["status"], "SKIP")
        self.assertIn("ENODEV", whole["misc"]["reason"])
        fail = tests["conformance.fault.lean.write_dance"]
        self.assertEqual(fail["status"], "FAIL")
        self.assertIn("killed by signal 6", fail["misc"]["reason"])
        self.assertEqual(tests["compare.compare-cli"]["status"], "PASS")
        sw = tests["bench.switch.faithful"]
        self.assertEqual((sw["status"], sw["number"], sw["build_id"]),
                         ("DONE", {"value": 11000.0, "unit": "ns"}, builds["bench"]["id"]))
        self.assertEqual(tests["bench.pool.private.threads_2"]["status"], "DONE")
        un = tests["bench.mechanism.unotify"]
        self.assertEqual((un["status"], un["misc"]["reason"]), ("SKIP", "no SECCOMP_RET_USER_NOTIF here"))
        self.assertNotIn("number", un)
        self.assertEqual(ok["environment"]["misc"]["kernel"], "6.1.0-57-amd64")
        self.assertEqual(ok["environment"]["misc"]["cpu_model"], "AMD EPYC")
        ids = [co["id"]] + [b["id"] for b in doc["builds"]] + [t["id"] for t in doc["tests"]]
        self.assertTrue(all(i.startswith("ptbench:") for i in ids), ids)
        self.assertEqual(len(ids), len(set(ids)), "ids are unique")
        self.assertEqual(len(doc["tests"]), 5 + 10 + 1, "every case and every benchmark")

    def test_the_schema_rejects_broken_documents(self):
        path, doc = self.report()
        self.assertEqual(kcidb.schema_errors(doc), [])
        broken = []
        d = copy.deepcopy(doc)
        d["tests"][0]["id"] = "other:" + d["tests"][0]["id"].split(":", 1)[1]
        broken.append(("id without ptbench:", d, "tests/0/id"))
        d = copy.deepcopy(doc)
        d["tests"][0]["status"] = "OK"
        broken.append(("status OK", d, "tests/0/status"))
        d = copy.deepcopy(doc)
        d["builds"][0]["colour"] = "blue"
        broken.append(("an extra property", d, "'colour' was unexpected"))
        d = copy.deepcopy(doc)
        d["version"]["minor"] = 4
        broken.append(("version 5.4", d, "version/minor"))
        d = copy.deepcopy(doc)
        d["tests"][0]["path"] = "conformance/fault lean"
        broken.append(("a path with '/' and a space", d, "tests/0/path"))
        for what, bad, expect in broken:
            with self.subTest(what):
                errors = kcidb.schema_errors(bad)
                self.assertEqual(len(errors), 1, errors)
                self.assertIn(expect, errors[0])
                test_gate.write(path, bad)
                r = subprocess.run(KCIDB + ["validate", path], capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=60)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(expect, r.stdout)

    def test_ptbench_report_writes_it_and_refuses_bad_folders(self):
        out = os.path.join(self.dir, "k.json")
        r = subprocess.run(PTBENCH + ["report", "--kcidb", self.res, "--out", out],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(kcidb.schema_errors(kcidb.read_json(out, "report")), [])
        bad_json = os.path.join(self.dir, "bad")
        os.mkdir(bad_json)
        write_results(bad_json)
        with open(os.path.join(bad_json, "bench.json"), "w", encoding="utf-8") as f:
            f.write('{"benchmarks": [')
        no_log = os.path.join(self.dir, "nolog")
        os.mkdir(no_log)
        for folder, named in ((os.path.join(self.dir, "missing"), "missing"),
                              (bad_json, "bench.json"), (no_log, "testlog.json")):
            with self.subTest(named):
                r = subprocess.run(PTBENCH + ["report", "--kcidb", folder], capture_output=True,
                                   text=True, stdin=subprocess.DEVNULL, timeout=60)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(named, r.stderr)

    def test_a_folder_without_run_facts_says_so_and_still_validates(self):
        os.unlink(os.path.join(self.res, "run.json"))
        r = subprocess.run(PTBENCH + ["report", "--kcidb", self.res], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("has no run.json", r.stderr)
        doc = kcidb.read_json(os.path.join(self.res, "kcidb.json"), "report")
        self.assertEqual(kcidb.schema_errors(doc), [])
        # the benchmarks' build comes from bench.json's context then
        bench = [b for b in doc["builds"] if b["config_name"] == "bench"]
        self.assertEqual(bench[0]["compiler"], "gcc 12.2.0")


class Info(test_ptfmt.Tmp):
    def test_run_facts_of_a_configured_build(self):
        build = os.path.join(ROOT, "build", "test")
        if not os.path.isdir(os.path.join(build, "meson-info")):
            self.skipTest("build/test is not configured (scripts/ptbench test configures it)")
        out = os.path.join(self.dir, "run.json")
        r = subprocess.run(KCIDB + ["info", "--out", out, "--date", "2026-12-03T06:00:00Z",
                                    "--build", f"test={build}=meson setup build/test"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        facts = kcidb.read_json(out, "run facts")
        (b,) = facts["builds"]
        self.assertIn("-std=", b["c_flags"])
        self.assertNotIn("-I", b["c_flags"].split())
        self.assertEqual(b["architecture"], os.uname().machine)
        self.assertEqual(facts["machine"]["kernel"], os.uname().release)
        self.assertRegex(facts["checkout"]["commit"], r"^[0-9a-f]{40}$")


if __name__ == "__main__":
    unittest.main()
