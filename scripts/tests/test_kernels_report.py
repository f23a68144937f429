#!/usr/bin/python3
"""Tests of scripts/kernels_report.py (the kernel matrix and the icount
A/B judgement) and the argument checks of scripts/kernels.sh and
scripts/ab.sh --icount, on made-up console logs: no VM is booted.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
sys.path.insert(0, SCRIPTS)

import kernels_report as kr  # noqa: E402

PY = sys.executable


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()

PROBE = {"sysemu": True, "ptrace_set_syscall_info": False, "cpuid_faulting": False,
         "seccomp_filter_flags": {"tsync": True}, "clocksource": "tsc"}


def bench_json(figures, errors=(), idle=None):
    """A Google Benchmark JSON: name -> ns per iteration; errors: names;
    idle: name -> (idle_ns, timer_ticks) per iteration (--ptbench_idle=1)."""
    rows = [{"name": n + "/real_time", "run_name": n + "/real_time", "run_type": "iteration",
             "iterations": 100, "real_time": v, "cpu_time": v, "time_unit": "ns"}
            for n, v in figures.items()]
    for r in rows:
        c = (idle or {}).get(r["name"][:-len("/real_time")])
        if c:
            r.update(idle_ns=c[0], idle_sleeps=c[1], timer_ticks=c[1])
    rows += [{"name": n + "/real_time", "run_name": n + "/real_time", "run_type": "iteration",
              "error_occurred": True, "error_message": "only one CPU allowed"} for n in errors]
    return {"context": {}, "benchmarks": rows}


def console(probe, cpuid_plan="1..0 # SKIP CPUID faulting unavailable here"):
    lines = ["noise from the firmware",
             "PTBENCH-VM: INFO kernel=6.1.0-56-amd64",
             "PTBENCH-VM: INFO machine=x86_64",
             "PTBENCH-VM: INFO cpu_features=fpu sse2",
             "PTBENCH-VM: INFO clocksource=tsc",
             "PTBENCH-VM: INFO vuln_meltdown=Not affected",
             "PTBENCH-VM: BEGIN 1/3 conf-cpuid faithful", cpuid_plan,
             "PTBENCH-VM: END 1/3 exit=0 ms=10 conf-cpuid faithful",
             "PTBENCH-VM: BEGIN 2/3 conf-syscall faithful", "1..2", "ok 1 - a",
             "ok 2 - b # SKIP no [vsyscall] page",
             "PTBENCH-VM: END 2/3 exit=0 ms=10 conf-syscall faithful",
             "PTBENCH-VM: BEGIN 3/3 ptbench-probe"]
    lines += json.dumps(probe, indent=2).splitlines()
    lines += ["PTBENCH-VM: END 3/3 exit=0 ms=10 ptbench-probe",
              "PTBENCH-VM: RESULT verdict=PASS runs=3 failed=0"]
    return "\n".join(lines) + "\n"


RUNS_TSV = ("1\tPASS\t0\t0\t0\t0\t0\t10\tconf-cpuid faithful\n"
            "2\tPASS\t0\t2\t0\t1\t2\t10\tconf-syscall faithful\n"
            "3\tPASS\t0\t0\t0\t0\t-1\t10\tptbench-probe\n")


class Tmp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="kernels-test.")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, rel, text):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text if isinstance(text, str) else json.dumps(text))
        return path


class FigureTest(unittest.TestCase):
    def test_spread_is_range_over_median(self):
        self.assertAlmostEqual(kr.spread([100.0, 110.0]), 10 / 105)
        self.assertIsNone(kr.spread([100.0]))

    def test_key_figure_above_one_percent_is_unstable(self):
        self.assertEqual(kr.figure_summary("switch/lean", [100.0, 102.0])["flag"], "UNSTABLE")
        self.assertEqual(kr.figure_summary("mem/peek", [100.0, 102.0])["flag"], "spread > 1%")
        self.assertEqual(kr.figure_summary("switch/lean", [100.0, 100.5])["flag"], "")
        self.assertEqual(kr.figure_summary("map/inject", [100.0])["flag"],
                         "one run: spread unknown")

    def test_errors_are_skips_not_figures(self):
        d = kr.figure_summary("floor/futex_cross_cpu", ["one CPU", "one CPU"])
        self.assertIsNone(d["median"])
        self.assertEqual(d["flag"], "skipped")
        self.assertEqual(kr.figure_summary("x", [1.0, "boom"])["flag"], "ERROR in some runs")

    def test_probe_json_is_cut_out_of_the_console(self):
        self.assertEqual(kr.parse_probe(["stderr noise", "{", ' "a": true', "}"]), {"a": True})
        self.assertIsNone(kr.parse_probe(["{", "not json", "}"]))
        self.assertIsNone(kr.parse_probe([]))

    def test_bench_names_lose_the_time_suffix_only(self):
        d = tempfile.mkdtemp(prefix="kernels-test.")
        self.addCleanup(shutil.rmtree, d)
        path = os.path.join(d, "b.json")
        with open(path, "w") as f:
            json.dump({"benchmarks": [
                {"name": "pool/private/real_time/threads:2", "run_name": "pool/private/real_time/threads:2",
                 "run_type": "iteration", "real_time": 2.0, "time_unit": "us"},
                {"name": "interrupt/latency/manual_time", "run_name": "interrupt/latency/manual_time",
                 "run_type": "iteration", "real_time": 5.0, "time_unit": "ns"}]}, f)
        self.assertEqual(kr.bench_figures(path),
                         {"pool/private/threads:2": 2000.0, "interrupt/latency": 5.0})


class RenderTest(Tmp):
    def make_kernel(self, label, runs, figures, status="ok"):
        for i in range(1, runs + 1):
            self.write(f"raw/{label}/run{i}.log", console(PROBE))
            self.write(f"raw/{label}/run{i}.log.runs.tsv", RUNS_TSV)
            self.write(f"raw/{label}/run{i}.log.bench.json",
                       bench_json({n: v[i - 1] for n, v in figures.items()},
                                  errors=["floor/futex_cross_cpu"]))

    def test_render_writes_matrices_ratios_and_flags(self):
        self.make_kernel("x86_64-a", 2, {"switch/lean": [1000.0, 1000.0],
                                         "mechanism/sysemu": [500.0, 520.0]})
        self.make_kernel("x86_64-b", 2, {"switch/lean": [2000.0, 2000.0],
                                         "mechanism/sysemu": [500.0, 500.0]})
        self.write("manifest.tsv",
                   "arch\tpackage\tversion\tspec\tsha256\tstatus\tlabel\truns\taccel\tnote\n"
                   "x86_64\tlinux-image-a\t1\ta\t00\tok\tx86_64-a\t2\ticount\t\n"
                   "x86_64\tlinux-image-b\t2\tb\t00\tok\tx86_64-b\t2\ticount\t\n"
                   "x86_64\tlinux-image-c\t3\tc\t\tno-boot\tx86_64-c\t1\tkvm\tqemu aborted\n")
        self.write("run.info", "accel=icount\ntotal_ms=61000\n")
        with open(os.devnull, "w") as null:
            old, sys.stdout = sys.stdout, null
            try:
                rc = kr.main(["render", self.dir])
            finally:
                sys.stdout = old
        self.assertEqual(rc, 0)
        doc = json.loads(read(os.path.join(self.dir, "kernels.json")))
        a, b, c = doc["kernels"]
        self.assertEqual(b["figures"]["switch/lean"]["ratio"], 2.0)
        self.assertEqual(a["figures"]["mechanism/sysemu"]["flag"], "UNSTABLE")
        self.assertEqual(b["figures"]["mechanism/sysemu"]["flag"], "")
        self.assertEqual(a["figures"]["floor/futex_cross_cpu"]["flag"], "skipped")
        self.assertEqual(c["status"], "no-boot")
        report = read(os.path.join(self.dir, "report.md"))
        self.assertIn("instructions (emulated)", report)
        self.assertIn("no-boot", report)
        self.assertIn("1..0 # SKIP CPUID faulting unavailable here", report)
        self.assertIn("group skipped (1..0)", read(os.path.join(self.dir, "conformance.tsv")))
        feats = read(os.path.join(self.dir, "features.tsv"))
        self.assertIn("PTRACE_SET_SYSCALL_INFO\tx86_64 not seen\t6.16\tno\tno", feats)
        self.assertIn("filter flag TSYNC\tx86_64 <= 6.1.0\t3.17\tyes\tyes", feats)

    def test_bench_only_boots_are_not_missing_conformance_runs(self):
        self.make_kernel("x86_64-a", 3, {"switch/lean": [1000.0, 1000.0, 1000.0]})
        self.make_kernel("x86_64-b", 1, {"switch/lean": [1000.0]})
        # Boots 2 and 3 of a, and b's only boot, ran the probe alone.
        probe_only = "3\tPASS\t0\t0\t0\t0\t-1\t10\tptbench-probe\n"
        for rel in ("x86_64-a/run2", "x86_64-a/run3", "x86_64-b/run1"):
            self.write(f"raw/{rel}.log.runs.tsv", probe_only)
            self.write(f"raw/{rel}.log.info", "boot_kind=bench\n")
        self.write("raw/x86_64-a/run1.log.info", "boot_kind=full\n")
        self.write("manifest.tsv",
                   "arch\tpackage\tversion\tspec\tsha256\tstatus\tlabel\truns\taccel\tnote\n"
                   "x86_64\tlinux-image-a\t1\ta\t00\tok\tx86_64-a\t3\ticount\t\n"
                   "x86_64\tlinux-image-b\t2\tb\t00\tok\tx86_64-b\t1\ticount\t\n")
        self.write("run.info", "accel=icount\ntotal_ms=61000\n")
        self.assertEqual(self.render_quietly(), 0)
        conf = read(os.path.join(self.dir, "conformance.tsv"))
        self.assertNotIn("missing", conf)
        row = [l for l in conf.splitlines() if l.startswith("conf-syscall faithful")][0]
        self.assertEqual(row.split("\t")[1:], ["PASS 1/2 (1 skip)", "- (bench-only boots)"])

    def test_first_seen_is_the_oldest_kernel_from_which_on_it_is_there(self):
        class K:
            def __init__(self, arch, version, sud):
                self.arch, self.row = arch, {"version": version}
                self._probe = {"syscall_user_dispatch": sud}

            def probe(self):
                return self._probe, [self._probe]

            def info(self):
                return {"machine": self.arch}

        ks = [K("x86_64", "6.1.192-3", True), K("x86_64", "5.10.262-1", False),
              K("x86_64", "7.2.13-1", True), K("aarch64", "6.1.192-3", False)]
        self.assertEqual(kr.first_seen(ks, "syscall_user_dispatch"),
                         "x86_64 6.1.192 (not in 5.10.262); aarch64 not seen")
        ks[2]._probe = {"syscall_user_dispatch": False}
        self.assertEqual(kr.first_seen(ks[:3], "syscall_user_dispatch"),
                         "x86_64 6.1.192, not in every later one")

    def render_quietly(self):
        with open(os.devnull, "w") as null:
            old, sys.stdout = sys.stdout, null
            try:
                return kr.main(["render", self.dir])
            finally:
                sys.stdout = old

    def test_idle_time_is_taken_out_before_the_bar(self):
        # Two runs that waited a different number of 4 ms ticks: as measured
        # the figure is far from 1%, without the idle it holds.
        for i, (fig, idle) in enumerate(((4_014_000.0, 4_000_000.0), (8_014_100.0, 8_000_000.0)), 1):
            self.write(f"raw/x86_64-rt/run{i}.log", console(PROBE))
            self.write(f"raw/x86_64-rt/run{i}.log.runs.tsv", RUNS_TSV)
            self.write(f"raw/x86_64-rt/run{i}.log.bench.json", bench_json(
                {"mechanism/sysemu": fig, "pool/private/threads:1": 900.0 + i * 50,
                 "pool/private/threads:2": 900.0 + i * 50},
                idle={"mechanism/sysemu": (idle, idle / 4e6)}))
        self.write("manifest.tsv",
                   "arch\tpackage\tversion\tspec\tsha256\tstatus\tlabel\truns\taccel\tnote\n"
                   "x86_64\tlinux-image-rt\t1\trt\t00\tok\tx86_64-rt\t2\ticount\t\n")
        self.write("run.info", "accel=icount\ntotal_ms=61000\nappend=nokaslr\n")
        self.assertEqual(self.render_quietly(), 0)
        doc = json.loads(read(os.path.join(self.dir, "kernels.json")))
        k = doc["kernels"][0]
        self.assertEqual(k["figures"]["mechanism/sysemu"]["flag"], "UNSTABLE")
        c = k["corrected"]["mechanism/sysemu"]
        self.assertEqual(c["flag"], "")
        self.assertAlmostEqual(c["median"], 14_050.0)
        self.assertAlmostEqual(c["ticks"], 1.5)
        # pool/*/threads:1 is a key figure, threads:2 is not.
        self.assertEqual(k["figures"]["pool/private/threads:1"]["flag"], "UNSTABLE")
        self.assertEqual(k["figures"]["pool/private/threads:2"]["flag"], "spread > 1%")
        report = read(os.path.join(self.dir, "report.md"))
        self.assertIn("## Idle time inside the measured loops", report)
        # 6,000,000 ns of idle: 1.5 ticks of 4 ms waited, 1.5 interrupts.
        self.assertIn("| x86_64 rt | mechanism/sysemu | 6,014,050 | 66.51% | 6,000,000 | 1.50 | 1.500 |",
                      report)
        self.assertIn("| mechanism/sysemu | 6,014,050 (without idle 14,050) | 66.51% |", report)
        self.assertIn("kernel command line added `nokaslr`", report)
        # The repeatability table judges sysemu without idle: 1 of 2 within;
        # the pool figure has no measured cause, so the bar fails.
        row = next(l for l in report.splitlines() if l.startswith("| x86_64 rt | 2 | 2 |"))
        self.assertIn("| 1 | 1 | 0 |", row)
        self.assertIn("FAILS", row)
        self.assertIn("pool/private/threads:1 (5.13%; cause: unmeasured)", report)
        # With a measured cause on file the same figure is flagged, the bar holds.
        causes = self.write("causes.tsv", "figure\tkernel\tcause\tevidence\n"
                            "pool/private/threads:1\trt$\tthe planted cause\tab/planted\n")
        old, kr.CAUSES_TSV = kr.CAUSES_TSV, causes
        try:
            self.assertEqual(self.render_quietly(), 0)
        finally:
            kr.CAUSES_TSV = old
        report = read(os.path.join(self.dir, "report.md"))
        row = next(l for l in report.splitlines() if l.startswith("| x86_64 rt | 2 | 2 |"))
        self.assertIn("| 1 | 1 | 1 |", row)
        self.assertIn("holds (flagged with causes)", row)
        self.assertIn("cause: the planted cause (ab/planted)", report)

    def test_spread_ab_tables_each_key_figure_off_and_on(self):
        for side, vals in (("off", [1000.0, 1100.0, 1050.0]), ("on", [1000.0, 1001.0, 1000.0])):
            for i, v in enumerate(vals, 1):
                self.write(f"{side}/raw/x86_64-a/run{i}.log", console(PROBE))
                self.write(f"{side}/raw/x86_64-a/run{i}.log.bench.json",
                           bench_json({"map/native/pages:256": v, "mem/peek/bytes:8": v}))
            self.write(f"{side}/manifest.tsv",
                       "arch\tpackage\tversion\tspec\tsha256\tstatus\tlabel\truns\taccel\tnote\n"
                       "x86_64\tlinux-image-a\t1\ta\t00\tok\tx86_64-a\t3\ticount\t\n")
            self.write(f"{side}/run.info", f"accel=icount\nappend={'nokaslr' if side == 'on' else ''}\n")
        out = os.path.join(self.dir, "ab", "table.md")
        os.makedirs(os.path.dirname(out))
        with open(os.devnull, "w") as null:
            old, sys.stdout = sys.stdout, null
            try:
                rc = kr.main(["spread-ab", "--off", os.path.join(self.dir, "off"), "--on",
                              os.path.join(self.dir, "on"), "--title", "kaslr", "--out", out])
            finally:
                sys.stdout = old
        self.assertEqual(rc, 0)
        rows = [l.split("\t") for l in read(out[:-3] + ".tsv").splitlines()]
        # mem/ is not a key figure: one row.
        self.assertEqual(rows[1:], [["x86_64 a", "map/native/pages:256", "3", "9.52%", "3",
                                     "0.10%", "1,050", "1,000"]])
        self.assertIn("Above 1%: 1 off, 0 on, of 1", read(out))
        self.assertIn("append `nokaslr`", read(out))

    def test_previous_run_is_judged_per_figure(self):
        self.make_kernel("x86_64-a", 2, {"switch/lean": [1100.0, 1100.0],
                                         "mechanism/sysemu": [500.0, 501.0],
                                         "map/as_create": [700.0, 700.0]})
        self.write("manifest.tsv",
                   "arch\tpackage\tversion\tspec\tsha256\tstatus\tlabel\truns\taccel\tnote\n"
                   "x86_64\tlinux-image-a\t1\ta\t00\tok\tx86_64-a\t2\ticount\t\n")
        self.write("run.info", "accel=icount\ntotal_ms=61000\n")
        self.assertEqual(self.render_quietly(), 0)
        self.assertNotIn("earlier run", read(os.path.join(self.dir, "report.md")))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "previous.tsv")))
        doc = json.loads(read(os.path.join(self.dir, "kernels.json")))
        doc["kernels"][0]["figures"]["switch/lean"]["values"] = [1000.0, 1000.0]
        doc["kernels"][0]["figures"]["switch/lean"]["median"] = 1000.0
        self.write("previous/kernels.json", doc)
        self.write("previous/run.info", "commit=abc1234\nstarted=20260101-000000\n")
        self.assertEqual(self.render_quietly(), 0)
        rows = [l.split("\t") for l in read(os.path.join(self.dir, "previous.tsv")).splitlines()]
        got = {r[1]: (r[4], r[6]) for r in rows[1:]}
        self.assertEqual(got, {"switch/lean": ("100.0", "REGRESSION"),
                               "mechanism/sysemu": ("0.0", "PASS")})
        self.assertIn("at commit abc1234", read(os.path.join(self.dir, "report.md")))

    def test_abi_cases_are_shown_per_kernel_with_skip_reasons(self):
        class Boot:
            def __init__(self, lines):
                self.tap = {"conf-syscall faithful": lines, "conf-syscall lean": lines}

        class K:
            def __init__(self, short, boots):
                self.short, self.runs = short, boots

        intel = ["ok 1 - syscall/int80_is_ia32", "ok 2 - syscall/sysenter_is_ia32"]
        amd = ["ok 1 - syscall/int80_is_ia32",
               "ok 2 - syscall/sysenter_is_ia32 # SKIP no sysenter in long mode"]
        broken = ["not ok 1 - syscall/int80_is_ia32", "ok 2 - syscall/sysenter_is_ia32"]
        md = "\n".join(kr.abi_section([K("a", [Boot(intel)]), K("b", [Boot(amd), Boot(amd)]),
                                       K("c", [Boot(broken)])]))
        self.assertIn("| int80_is_ia32 | ok (x2) | ok (x4) | not ok (x2) |", md)
        self.assertIn("| sysenter_is_ia32 | ok (x2) | SKIP: no sysenter in long mode (x4) | ok (x2) |", md)
        self.assertNotIn("x32_bit_is_reported", md)
        self.assertEqual(kr.abi_section([K("d", [Boot(["ok 1 - syscall/other"])])]), [])

    def test_bad_manifest_is_exit_2(self):
        self.write("manifest.tsv", "what\never\n")
        p = subprocess.run([PY, os.path.join(SCRIPTS, "kernels_report.py"), "render", self.dir],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("not a kernels manifest", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)


class IcountCompareTest(Tmp):
    def judge(self, a_runs, b_runs, *opts):
        a = [self.write(f"a{i}.json", bench_json(r)) for i, r in enumerate(a_runs)]
        b = [self.write(f"b{i}.json", bench_json(r)) for i, r in enumerate(b_runs)]
        p = subprocess.run([PY, os.path.join(SCRIPTS, "kernels_report.py"), "icount-compare",
                            "--a", *a, "--b", *b, "--out-json", os.path.join(self.dir, "c.json"),
                            *opts], capture_output=True, text=True)
        doc = json.loads(read(os.path.join(self.dir, "c.json"))) if p.returncode != 2 else None
        return p.returncode, doc

    def test_identical_paths_pass(self):
        rc, doc = self.judge([{"switch/lean": 1000.0}] * 2, [{"switch/lean": 1000.0}] * 2)
        self.assertEqual(rc, 0)
        self.assertEqual(doc["rows"][0]["verdict"], "PASS")

    def test_a_longer_path_above_the_threshold_is_a_regression(self):
        rc, doc = self.judge([{"switch/lean": 1000.0}, {"switch/lean": 1001.0}],
                             [{"switch/lean": 1050.0}, {"switch/lean": 1051.0}])
        self.assertEqual(rc, 1)
        self.assertEqual(doc["rows"][0]["verdict"], "REGRESSION")

    def test_the_threshold_grows_with_the_spread(self):
        # 5% longer, but the runs of A differ by ~4%: 3 x 4% > 5%.
        rc, doc = self.judge([{"m": 1000.0}, {"m": 1040.0}], [{"m": 1070.0}, {"m": 1071.0}])
        self.assertEqual(rc, 0)
        self.assertGreater(doc["rows"][0]["threshold"], 0.1)
        rc, _ = self.judge([{"m": 1000.0}, {"m": 1040.0}], [{"m": 1070.0}, {"m": 1071.0}],
                           "--k", "1")
        self.assertEqual(rc, 1)

    def test_one_run_or_an_error_is_inconclusive(self):
        rc, doc = self.judge([{"m": 1000.0}], [{"m": 1000.0}, {"m": 1000.0}])
        self.assertEqual(rc, 3)
        self.assertIn("fewer than two runs", doc["rows"][0]["why"])
        a = [self.write(f"e{i}.json", bench_json({}, errors=["m"])) for i in range(2)]
        b = [self.write(f"f{i}.json", bench_json({"m": 1.0})) for i in range(2)]
        p = subprocess.run([PY, os.path.join(SCRIPTS, "kernels_report.py"), "icount-compare",
                            "--a", *a, "--b", *b], capture_output=True, text=True)
        self.assertEqual(p.returncode, 3)

    def test_bad_input_is_exit_2(self):
        bad = self.write("bad.json", "{not json")
        p = subprocess.run([PY, os.path.join(SCRIPTS, "kernels_report.py"), "icount-compare",
                            "--a", bad, "--b", bad], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)


class ScriptArgsTest(unittest.TestCase):
    def run_script(self, *args):
        return subprocess.run(["bash", os.path.join(SCRIPTS, *args[0:1]), *args[1:]],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)

    def test_kernels_usage_errors_are_exit_2(self):
        for args in (["--accel", "warp", "x"], ["--runs", "0", "x"], ["--arch", "sparc", "x"],
                     ["--manifest", "/nonexistent/manifest.tsv"], ["--bogus"],
                     ["--jobs", "0", "x"], ["--jobs", "two", "x"], ["--jobs"]):
            p = self.run_script("kernels.sh", *args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_kernels_boot_option_errors_are_exit_2(self):
        for args in (["--qemu-opt", "seed 1", "x"], ["--qemu-opt", "-seed 'a'", "x"],
                     ["--append", "a'b", "x"], ["--append", "a\nb", "x"], ["--append"]):
            p = self.run_script("kernels.sh", *args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def dry_run(self, *args):
        with tempfile.TemporaryDirectory(prefix="kernels-test.") as d:
            image, initrd = os.path.join(d, "vmlinuz"), os.path.join(d, "initrd")
            for f in (image, initrd):
                open(f, "w").close()
            p = self.run_script("vm/run.sh", "--arch", "x86_64", "--kernel", image,
                                *args, "--dry-run", initrd)
            return p, p.stdout.splitlines()

    def test_run_appends_kernel_arguments_and_qemu_words(self):
        p, argv = self.dry_run("--accel", "icount", "--append", "nokaslr", "--append",
                               "norandmaps sysctl.kernel.randomize_va_space=0",
                               "--qemu-opt", "-seed 1", "--qemu-opt",
                               "-rtc base=2026-01-01T00:00:00,clock=vm")
        self.assertEqual(p.returncode, 0, p.stderr)
        cmdline = argv[argv.index("-append") + 1]
        self.assertTrue(cmdline.endswith(" quiet nokaslr norandmaps sysctl.kernel.randomize_va_space=0"),
                        cmdline)
        self.assertEqual(argv[-4:], ["-seed", "1", "-rtc", "base=2026-01-01T00:00:00,clock=vm"])
        # The extra words come after the accelerator's own (icount stays).
        self.assertLess(argv.index("-icount"), argv.index("-seed"))

    def test_run_without_extras_is_unchanged(self):
        p, argv = self.dry_run("--accel", "icount")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(argv[argv.index("-append") + 1].endswith(" quiet"))
        self.assertNotIn("-seed", argv)

    def test_run_rejects_a_qemu_value_without_option(self):
        p, _ = self.dry_run("--qemu-opt", "seed 1")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--qemu-opt", p.stderr)

    def test_ab_icount_usage_errors_are_exit_2(self):
        for args in (["--icount", "--rounds", "1", "HEAD", "HEAD"], ["--icount", "HEAD"],
                     ["--icount", "--reps", "3", "HEAD", "HEAD"],
                     ["--icount", "--a-exe", "/nonexistent", "--b-exe", "/nonexistent"]):
            p = self.run_script("ab.sh", *args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))


if __name__ == "__main__":
    unittest.main()
