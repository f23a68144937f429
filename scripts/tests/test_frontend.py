#!/usr/bin/python3
"""The front end follows Google Benchmark's and meson's conventions (issue
14, section 3): every command has its own --help, printed without building;
--version; bench takes every --benchmark_* flag directly, --json writes only
the JSON to stdout, --benchmark_list_tests lists and writes no folder;
ad-hoc runs go to the ignored results/tmp/; test passes meson test's
options through; the conformance programs list their cases and run one;
compare warns when the runs' contexts differ; the README's names table
gives the real run_names.

Rows that need build/test or build/bench skip, with the reason, when the
build is not there (ptbench test builds build/test first). The benchmark
rows run one benchmark for 0.01 s.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from test_gate import full_doc

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
ROOT = os.path.dirname(SCRIPTS)
PY = sys.executable
sys.path.insert(0, SCRIPTS)

import ptfmt  # noqa: E402

PTBENCH = ["bash", os.path.join(SCRIPTS, "ptbench")]
BENCH_EXE = os.path.join(ROOT, "build", "bench", "bench", "ptbench-bench")
COMPARE_EXE = os.path.join(ROOT, "build", "test", "bench", "compare", "ptbench-compare")
CONF_PLATFORM = os.path.join(ROOT, "build", "test", "conformance", "conf-platform")
RESULTS_TMP = os.path.join(ROOT, "results", "tmp")



def ptbench_commands():
    """The commands main() in scripts/ptbench dispatches: a new command
    without a help of its own fails the help test."""
    with open(os.path.join(SCRIPTS, "ptbench"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("\nmain() {"):]
    return sorted(set(re.findall(r"(?m)^\t([a-z][\w-]*)(?: \| [\w-]+)*\)", body)))


COMMANDS = ptbench_commands()
# The commands whose help is their script's own.
OWN_SCRIPT_HELP = {"ab": "ab.sh:", "vm-test": "suite.sh", "kernels": "kernels.sh:"}

# One benchmark, as short as Google Benchmark allows.
ONE_BENCH = ["--quick", "--benchmark_filter=^native/getpid/", "--benchmark_min_time=0.01",
             "--benchmark_repetitions=1"]


def run(argv, env=None, timeout=120):
    e = dict(os.environ, PTBENCH_SKIP_SETUP="1")
    e.update(env or {})
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=e, timeout=timeout, cwd=ROOT)


def tool_trap(d, names):
    """A PATH folder whose NAMEs record their call in d/called and fail:
    whoever calls them built something (or asked git)."""
    bindir = tempfile.mkdtemp(prefix="bin.", dir=d)
    for n in names:
        p = os.path.join(bindir, n)
        with open(p, "w", encoding="utf-8") as f:
            f.write(f'#!/bin/sh\necho "{n} $*" >>"{d}/called"\nexit 1\n')
        os.chmod(p, 0o755)
    return {"PATH": bindir + os.pathsep + os.environ.get("PATH", "")}


def results_folders():
    """The run folders under results/ and results/tmp/ (names only; tmp
    itself is not a run)."""
    out = set(os.listdir(os.path.join(ROOT, "results"))) - {"tmp"}
    if os.path.isdir(RESULTS_TMP):
        out |= {"tmp/" + n for n in os.listdir(RESULTS_TMP)}
    return out


class Help(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="test_frontend.")
        self.addCleanup(shutil.rmtree, self.d, True)
        self.env = tool_trap(self.d, ("meson", "ninja", "cc", "gcc", "clang"))

    def test_every_command_has_its_own_help_without_building(self):
        self.assertIn("bench", COMMANDS, f"commands read from main(): {COMMANDS}")
        whole = run(PTBENCH + ["help"], self.env)
        self.assertEqual(whole.returncode, 0, whole.stderr)
        seen = {}
        for cmd in COMMANDS:
            for flag in ("--help", "-h"):
                r = run(PTBENCH + [cmd, flag], self.env)
                what = f"ptbench {cmd} {flag}: exit {r.returncode}\n{r.stdout}{r.stderr}"
                self.assertEqual(r.returncode, 0, what)
                self.assertNotEqual(r.stdout, whole.stdout, f"the global text: {what}")
                if cmd in OWN_SCRIPT_HELP:
                    self.assertIn(OWN_SCRIPT_HELP[cmd], r.stdout, what)
                else:
                    self.assertTrue(r.stdout.startswith(f"usage: ptbench {cmd}"), what)
                    # The same block is part of the global text.
                    self.assertIn(r.stdout.splitlines()[-1], whole.stdout.splitlines(), what)
            self.assertEqual(run(PTBENCH + ["help", cmd], self.env).stdout, r.stdout, cmd)
            self.assertNotIn(r.stdout, seen.values(), f"{cmd} has the help of another command")
            seen[cmd] = r.stdout
        called = os.path.join(self.d, "called")
        if os.path.exists(called):
            with open(called, encoding="utf-8") as f:
                self.fail(f"a --help built something: {f.read()}")

    def test_help_before_the_program_of_exec_only(self):
        # After "--" the words are the program's: exec --help is ptbench's,
        # exec -- prog --help is not (it would build and run the program).
        r = run(PTBENCH + ["exec", "--", "/bin/true", "--help"], self.env)
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(os.path.exists(os.path.join(self.d, "called")), r.stderr)

    def test_version(self):
        r = run(PTBENCH + ["--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(ROOT, "meson.build"), encoding="utf-8") as f:
            version = re.search(r"version: '([^']+)'", f.read()).group(1)
        g = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty", "--tags"],
                           capture_output=True, text=True)
        if g.returncode == 0:
            self.assertEqual(r.stdout, f"ptbench {version} ({g.stdout.strip()})\n")
        # Without git: the project's version alone.
        r = run(PTBENCH + ["--version"], tool_trap(self.d, ("git",)))
        self.assertEqual((r.returncode, r.stdout), (0, f"ptbench {version}\n"), r.stderr)


def need(path, why):
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"{os.path.relpath(path, ROOT)} is not built ({why})")


class Bench(unittest.TestCase):
    def setUp(self):
        need(BENCH_EXE, "ptbench bench builds it")
        self.before = results_folders()

    def new_folders(self):
        return results_folders() - self.before

    def drop_new_folders(self):
        new = self.new_folders()
        for n in new:
            shutil.rmtree(os.path.join(ROOT, "results", n))
        self.assertEqual([n for n in new if not n.startswith("tmp/")], [],
                         "an ad-hoc run wrote into results/ itself")

    def test_own_help_lists_the_project_flags(self):
        r = run([BENCH_EXE, "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for flag in ("--benchmark_filter", "--ptbench_mode", "--ptbench_pin", "--ptbench_backend"):
            self.assertIn(flag, r.stdout)

    def test_idle_counters_describe_each_loop(self):
        # --ptbench_idle=1: idle_ns, idle_sleeps and timer_ticks per
        # iteration of every loop; without it, none of them.
        if not os.access("/proc/timer_list", os.R_OK):
            self.skipTest("/proc/timer_list is not readable here (it is root's): no idle time")
        base = [BENCH_EXE, "--benchmark_filter=^native/getpid/", "--benchmark_min_time=0.01",
                "--benchmark_format=json"]
        docs = {}
        for flag in ("--ptbench_idle=1", "--ptbench_idle=0"):
            r = run(base + [flag])
            self.assertEqual(r.returncode, 0, r.stderr)
            docs[flag] = json.loads(r.stdout)
        on = docs["--ptbench_idle=1"]
        b = on["benchmarks"][0]
        self.assertEqual(on["context"]["idle_counters"], "on")
        for c in ("idle_ns", "idle_sleeps", "timer_ticks"):
            self.assertIn(c, b)
            self.assertGreaterEqual(b[c], 0)
        # getpid never sleeps: its loop is never idle, and it sees far
        # fewer than one timer interrupt per call.
        self.assertEqual(b["idle_ns"], 0)
        self.assertLess(b["timer_ticks"], 0.01)
        off = docs["--ptbench_idle=0"]["benchmarks"][0]
        self.assertNotIn("idle_ns", off)
        r = run(base + ["--ptbench_idle=2"])
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_list_tests_lists_and_writes_nothing(self):
        want = run([BENCH_EXE, "--benchmark_list_tests=true", "--benchmark_filter=^switch/"]).stdout
        self.assertIn("switch/faithful/real_time\n", want)
        for argv in (["bench", "--benchmark_list_tests=true", "--benchmark_filter=^switch/"],
                     ["bench", "--", "--benchmark_list_tests=true", "--benchmark_filter=^switch/"]):
            r = run(PTBENCH + argv)
            self.assertEqual((r.returncode, r.stdout), (0, want), r.stderr)
            self.assertEqual(self.new_folders(), set(), "a listing wrote a results folder")

    def test_json_on_stdout_alone_and_folder_ignored(self):
        self.addCleanup(self.drop_new_folders)
        for argv in (["bench", "--json"] + ONE_BENCH,
                     ["bench"] + ONE_BENCH + ["--", "--benchmark_format=json"]):
            r = run(PTBENCH + argv)
            self.assertEqual(r.returncode, 0, r.stderr)
            try:
                d = json.loads(r.stdout)
            except ValueError as e:
                self.fail(f"stdout is not JSON alone ({e}): {r.stdout[:300]!r}")
            self.assertEqual([b["run_name"] for b in d["benchmarks"]], ["native/getpid/real_time"])
            folder = r.stderr.strip().splitlines()[-1]
            self.assertTrue(folder.startswith(RESULTS_TMP + os.sep), r.stderr)
            self.assertTrue(os.path.isfile(os.path.join(folder, "summary.md")), folder)
            ig = subprocess.run(["git", "-C", ROOT, "check-ignore", "-q", folder])
            self.assertEqual(ig.returncode, 0, f"{folder} is not ignored by git")

    def test_benchmark_out_is_google_benchmarks(self):
        self.addCleanup(self.drop_new_folders)
        d = tempfile.mkdtemp(prefix="test_frontend.")
        self.addCleanup(shutil.rmtree, d, True)
        for fmt, check in (("json", lambda t: json.loads(t)["benchmarks"]),
                           ("csv", lambda t: re.search(r'^"native/getpid/real_time",', t, re.M))):
            out = os.path.join(d, "out." + fmt)
            r = run(PTBENCH + ["bench"] + ONE_BENCH + [f"--benchmark_out={out}",
                                                       f"--benchmark_out_format={fmt}"])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, encoding="utf-8") as f:
                self.assertTrue(check(f.read()), f"{out} lacks the benchmark")
            folder = r.stdout.strip().splitlines()[-1]
            with open(os.path.join(folder, "bench.json"), encoding="utf-8") as f:
                self.assertEqual(len(json.load(f)["benchmarks"]), 1, "the folder's bench.json")


class ReadmeNames(unittest.TestCase):
    """The names table of the README's Benchmarks section against what
    ptbench-bench registers."""

    def table(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            text = f.read()
        head = "| `run_name` | what one iteration is |"
        self.assertIn(head, text, "no names table in the README")
        rows = []
        for l in text[text.index(head):].splitlines()[2:]:
            if not l.startswith("|"):
                break
            rows.append(l)
        out = []
        for l in rows:
            first, rest = l[1:].split("|", 1)
            for pat in re.findall(r"`([^`]+)`", first):
                out.append((pat, set(re.findall(r"`([^`]+)`", rest))))
        return out

    def test_table_gives_every_run_name(self):
        need(BENCH_EXE, "ptbench bench builds it")
        r = run([BENCH_EXE, "--benchmark_list_tests=true"])
        names = r.stdout.split()
        self.assertTrue(names, r.stderr)
        pats = []
        for pat, words in self.table():
            # NAME may hold capitals (app/ls_lR); N is a number
            rx = re.escape(pat).replace("NAME", "(?P<name>[A-Za-z0-9_]+)").replace("N", "[0-9]+")
            pats.append((pat, re.compile(rx + "$"), words))
        used = set()
        for n in names:
            hit = [(p, m, w) for p, rx, w in pats for m in [rx.match(n)] if m]
            self.assertTrue(hit, f"{n} is in no row of the README's names table")
            for p, m, w in hit:
                used.add(p)
                if "name" in m.groupdict():
                    self.assertIn(m.group("name"), w, f"{n}: its NAME is not listed in the row of {p}")
        self.assertEqual({p for p, _, _ in pats} - used, set(), "rows that match no benchmark")


class MesonPassThrough(unittest.TestCase):
    def test_test_list_and_suite_go_to_meson(self):
        need(COMPARE_EXE, "ptbench test builds build/test")
        r = run(PTBENCH + ["test", "--list", "--suite", "layering"])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines, r.stderr)
        # meson lists "project:suite[+suite...] / name"; a test may be in
        # more suites than the one asked for, never in none of it
        for l in lines:
            self.assertRegex(l, r"^ptbench:([a-z0-9-]+\+)*layering(\+[a-z0-9-]+)* / ",
                             "not meson's list of one suite")
        self.assertTrue(any(" / layering" in l for l in lines), lines)

    def test_conformance_program_lists_and_runs_one_case(self):
        need(CONF_PLATFORM, "ptbench test builds build/test")
        r = run([CONF_PLATFORM, "--list"])
        self.assertEqual(r.returncode, 0, r.stderr)
        cases = r.stdout.split()
        self.assertGreater(len(cases), 1, r.stdout)
        one = run([CONF_PLATFORM, "faithful", cases[-1]])
        self.assertEqual(one.stdout.splitlines()[0], "1..1", one.stdout)
        self.assertRegex(one.stdout, rf"(?m)^(not )?ok 1 - platform/{cases[-1]}\b")
        self.assertEqual(len(re.findall(r"(?m)^(?:not )?ok ", one.stdout)), 1, one.stdout)


class CompareContext(unittest.TestCase):
    def test_context_diff(self):
        base = {"host": "a", "kernel": "6.1", "pinning": "on", "switch_mode": "faithful"}
        self.assertEqual(ptfmt.context_diff(base, dict(base)), [])
        new = dict(base, kernel="6.18", switch_mode="lean", backend="ptrace")
        # backend: only one side records it, so unknown, not different
        self.assertEqual(ptfmt.context_diff(base, new),
                         [("kernel", "6.1", "6.18"), ("switch_mode", "faithful", "lean")])

    def test_compare_warns(self):
        need(COMPARE_EXE, "ptbench compare builds build/test")
        d = tempfile.mkdtemp(prefix="test_frontend.")
        self.addCleanup(shutil.rmtree, d, True)
        paths = {}
        for name, ctx in (("a", {}), ("b", {}), ("c", {"pinning": "off", "backend": "systrap"})):
            doc_ = full_doc()
            doc_["context"].update({"pinning": "on", "backend": "ptrace"}, **ctx)
            paths[name] = os.path.join(d, name + ".json")
            with open(paths[name], "w", encoding="utf-8") as f:
                json.dump(doc_, f)
        same = run(PTBENCH + ["compare", paths["a"], paths["b"]])
        self.assertNotIn("warning", same.stderr)
        other = run(PTBENCH + ["compare", paths["a"], paths["c"]])
        self.assertEqual(other.returncode, same.returncode, other.stderr)
        for k in ("pinning", "backend"):
            self.assertRegex(other.stderr, rf"ptbench compare: warning: {k} differs")


# Google Benchmark's compare.py as Debian ships it (libbenchmark-tools), and
# Debian's python3, which has scipy (python3-scipy) when it is installed.
COMPARE_PY = "/usr/share/benchmark/compare.py"
DEBIAN_PY = "/usr/bin/python3"


class GoogleCompare(unittest.TestCase):
    def test_compare_py_reads_our_json(self):
        """The README's compare.py line, on JSON as ptbench writes it."""
        if not os.path.isfile(COMPARE_PY):
            self.skipTest(f"no {COMPARE_PY} (apt-get install libbenchmark-tools)")
        if subprocess.run([DEBIAN_PY, "-c", "import scipy"], capture_output=True).returncode:
            self.skipTest(f"{DEBIAN_PY} has no scipy (apt-get install python3-scipy)")
        d = tempfile.mkdtemp(prefix="test_frontend.")
        self.addCleanup(shutil.rmtree, d, True)
        files = []
        for name, slow in (("base", 1.0), ("new", 1.2)):
            files.append(os.path.join(d, name + ".json"))
            with open(files[-1], "w", encoding="utf-8") as f:
                json.dump(full_doc(faithful=11000.0 * slow), f)
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            line = re.search(r"^ *(/usr/bin/python3 \S*compare\.py benchmarks) BASE\.json NEW\.json$",
                             f.read(), re.M)
        self.assertIsNotNone(line, "the README gives no compare.py command")
        r = subprocess.run(line.group(1).split()[:2] + ["--no-color", "benchmarks"] + files,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^switch/faithful/real_time_pvalue +0\.0079 ")


if __name__ == "__main__":
    unittest.main()
