#!/usr/bin/python3
"""Tests of lava/ptbench.yaml and scripts/lava_report.py: the definition
passes lava-common's schema (lava_common.schemas.test.testdef, Debian's
lava-common), and its steps, run with LAVA's own lava-test-case helper on
a saved results folder (the dry-run path: PTBENCH_RESULTS), report every
case and key figure under a unique name. The helper comes from Debian's
lava-dispatcher package, downloaded once into .cache/lava/ and unpacked,
never installed. Each test skips, with the reason, when lava-common is
missing or the package cannot be fetched.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

import test_kcidb
import test_ptfmt

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
ROOT = os.path.dirname(SCRIPTS)
sys.path.insert(0, SCRIPTS)
import history  # noqa: E402
import ptcases  # noqa: E402
import ptfmt  # noqa: E402

TESTDEF = os.path.join(ROOT, "lava", "ptbench.yaml")
CACHE = os.path.join(ROOT, ".cache", "lava")
SHELL_DIR = "usr/lib/python3/dist-packages/lava_dispatcher/lava_test_shell"
SIGNAL = re.compile(r"^<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=(\S+) RESULT=(\S+)"
                    r"(?: UNITS=(\S+))?(?: MEASUREMENT=(\S+))?>$")


def load_testdef(test):
    try:
        import yaml
        from lava_common.schemas.test import testdef
    except ImportError as e:
        test.skipTest(f"lava-common is not installed ({e}; scripts/ptbench setup installs it)")
    with open(TESTDEF, encoding="utf-8") as f:
        return yaml.safe_load(f), testdef


def lava_helpers(test):
    """A folder with LAVA's lava-test-case and the functions it sources,
    from Debian's lava-dispatcher (downloaded into .cache/lava once)."""
    bindir = os.path.join(CACHE, "bin")
    if os.access(os.path.join(bindir, "lava-test-case"), os.X_OK):
        return bindir
    os.makedirs(CACHE, exist_ok=True)
    debs = glob.glob(os.path.join(CACHE, "lava-dispatcher_*.deb"))
    if not debs:
        r = subprocess.run(["apt-get", "download", "lava-dispatcher"], cwd=CACHE,
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
        debs = glob.glob(os.path.join(CACHE, "lava-dispatcher_*.deb"))
        if r.returncode != 0 or not debs:
            why = (r.stderr.strip().splitlines() or ["no message"])[-1]
            test.skipTest(f"cannot fetch Debian's lava-dispatcher for its lava-test-case ({why})")
    unpacked = os.path.join(CACHE, "unpacked")
    shutil.rmtree(unpacked, ignore_errors=True)
    r = subprocess.run(["dpkg-deb", "-x", debs[0], unpacked], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    if r.returncode != 0:
        test.skipTest(f"cannot unpack {debs[0]}: {r.stderr.strip()}")
    tmp = bindir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name in ("lava-test-case", "lava-common-functions"):
        with open(os.path.join(unpacked, SHELL_DIR, name), encoding="utf-8") as f:
            text = f.read()
        # LAVA writes the interpreter line when it deploys the helpers.
        with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\n" + text)
        os.chmod(os.path.join(tmp, name), 0o755)
    shutil.rmtree(bindir, ignore_errors=True)
    os.rename(tmp, bindir)
    shutil.rmtree(unpacked, ignore_errors=True)
    return bindir


def quote(value):
    return "'" + str(value).replace("'", "'\\''") + "'"


def run_steps(doc, params, bindir, result_dir):
    """The steps as LAVA's run.sh runs them: the definition's params, then
    the job's, then every step in one POSIX shell that stops at the first
    failure, from the tree's root, with the helpers on PATH."""
    lines = ["set -e"]
    lines += [f"{k}={quote(v)}" for k, v in doc.get("params", {}).items()]
    lines += [f"{k}={quote(v)}" for k, v in params.items()]
    lines += doc["run"]["steps"]
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
               LAVA_RESULT_DIR=result_dir)
    env.pop("KMSG", None)
    return subprocess.run(["sh", "-c", "\n".join(lines)], cwd=ROOT, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120)


class Definition(test_ptfmt.Tmp):
    def test_it_passes_lava_commons_schema(self):
        doc, testdef = load_testdef(self)
        testdef.validate(doc)
        self.assertEqual(doc["metadata"]["format"], "Lava-Test Test Definition 1.0")
        # and the schema is a real check: a wrong format fails it
        broken = dict(doc, metadata=dict(doc["metadata"], format="Lava-Test Test Definition 2.0"))
        with self.assertRaises(Exception):
            testdef.validate(broken)

    def test_the_steps_report_every_case_and_key_figure(self):
        doc, _ = load_testdef(self)
        bindir = lava_helpers(self)
        res = os.path.join(self.dir, "results")
        os.mkdir(res)
        test_kcidb.write_results(res)
        result_dir = os.path.join(self.dir, "lava-results")
        r = run_steps(doc, {"PTBENCH_RESULTS": res}, bindir, result_dir)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        signals = [SIGNAL.match(line) for line in r.stdout.splitlines()
                   if line.startswith("<LAVA_SIGNAL_TESTCASE ")]
        self.assertTrue(signals and all(signals), r.stdout)
        got = {m.group(1): m.groups()[1:] for m in signals}
        self.assertEqual(len(got), len(signals), "every name is unique")
        for name in got:
            self.assertRegex(name, r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$")
        cases = ptcases.cases_of_testlog(os.path.join(res, "testlog.json"))
        for c in cases:
            self.assertEqual(got.get(c.name), (c.status, None, None), c.name)
        self.assertEqual(got["conformance.fault.lean.table_written"][0], "skip")
        self.assertEqual(got["conformance.fault.lean.write_dance"][0], "fail")
        self.assertEqual(got["bench.switch.faithful"], ("pass", "ns", "11000.000"))
        self.assertEqual(got["bench.pool.private.threads_2"], ("pass", "ns", "6000.000"))
        self.assertEqual(got["bench.mechanism.unotify"], ("skip", None, None))
        figures = sorted(n for n in got if n.startswith("bench."))
        keys = ptfmt.Results.load(os.path.join(res, "bench.json")).benches
        self.assertEqual(figures, sorted(ptcases.bench_path(k) for k in keys
                                         if history.family_of(k)), "the key figures, no other")
        self.assertNotIn("ptbench.run", got, "the dry run runs nothing")
        self.assertEqual(len(got), len(cases) + len(figures))
        # the helper's own record of each case
        with open(os.path.join(result_dir, "results", "bench.switch.faithful", "measurement"),
                  encoding="utf-8") as f:
            self.assertEqual(f.read().strip(), "11000.000")

    def test_a_missing_folder_stops_the_steps(self):
        doc, _ = load_testdef(self)
        bindir = lava_helpers(self)
        r = run_steps(doc, {"PTBENCH_RESULTS": os.path.join(self.dir, "missing")}, bindir,
                      os.path.join(self.dir, "lava-results"))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("missing", r.stderr)
        self.assertNotIn("<LAVA_SIGNAL_TESTCASE", r.stdout)


if __name__ == "__main__":
    unittest.main()
