#!/usr/bin/python3
"""Bad input everywhere: every ptbench subcommand, Python tool, shell script
and C tool gets malformed arguments, missing, empty, truncated or non-JSON
files and output paths that cannot be created. Each must print exactly one
line on stderr that names the offending file (where a file is the problem)
and exit 2, and must leave output files that were there before untouched,
with no temporary files behind.

Adding a subcommand or tool: add one line to CASES.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests -v
"""

import glob
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

PTBENCH = ["bash", os.path.join(SCRIPTS, "ptbench")]


def py(tool):
    return [PY, os.path.join(SCRIPTS, tool)]


def sh(script):
    return ["bash", os.path.join(SCRIPTS, script)]


def exe(rel):
    """A program of build/test (the row is skipped if it is not built)."""
    return [os.path.join(ROOT, "build", "test", rel)]


COMPARE = exe("bench/compare/ptbench-compare")
FUZZ_REPORT = [PY, os.path.join(ROOT, "fuzz", "fuzz_report.py")]

# Placeholders in argv (each case gets fresh copies in its own folder):
#   {d}        the case's folder           {good}     a valid benchmark JSON
#   {out}      an output file that exists  {outdir}   a folder holding it
#   {probe}    a valid probe.json          {testlog}  a valid meson testlog
#   {resdir}   a results folder with a valid bench.json
#   {rundir}   one of "ptbench run": testlog.json, bench.json, run.json
#   {history}  a valid history.jsonl    {manifest} a kernels manifest.tsv
#   {fuzzstats} a fuzz run's stats.json  {junit} meson's testlog.junit.xml
# Bad ones (the error line must name them):
#   {missing}  no such file                {empty}    an empty file
#   {trunc}    JSON cut off half way       {garbage}  not JSON at all
#   {notdir}   a path below a regular file (a folder that cannot be made,
#              even by root)
#   {cutmanifest} a manifest.tsv whose line lacks the package
#   {soakrun}  a soak run folder with a truncated soak-lean.json
#   {kernrun}  a kernels run folder whose manifest.tsv is not one
#   {soakdone} a soak run folder that holds a finished run (summary.md)
BAD = ("missing", "empty", "trunc", "garbage", "notdir", "cutmanifest", "soakrun", "kernrun", "soakdone")

# One row per bad command line: (label, argv). Every row must exit 2 with
# one line on stderr. Rows whose program is under build/ are skipped when it
# is not built; "ptbench compare" and "ptbench ab" build build/test first.
CASES = [
    # scripts/ptbench and its subcommands
    ("ptbench: no command", PTBENCH),
    ("ptbench: unknown command", PTBENCH + ["frobnicate"]),
    ("ptbench setup: unknown option", PTBENCH + ["setup", "--bogus"]),
    ("ptbench test: unknown option", PTBENCH + ["test", "--bogus"]),
    ("ptbench bench: unknown option", PTBENCH + ["bench", "--bogus"]),
    ("ptbench bench: --out without value", PTBENCH + ["bench", "--out"]),
    ("ptbench bench: --out below a file", PTBENCH + ["bench", "--out", "{notdir}"]),
    ("ptbench bench: --out a folder", PTBENCH + ["bench", "--out", "{d}"]),
    ("ptbench bench: unknown bench flag", PTBENCH + ["bench", "--", "--bogus"]),
    ("ptbench bench: --benchmark_out a folder", PTBENCH + ["bench", "--benchmark_out={d}"]),
    ("ptbench bench: --benchmark_out below a file", PTBENCH + ["bench", "--", "--benchmark_out={notdir}/x"]),
    ("ptbench bench: unknown --benchmark_out_format", PTBENCH + ["bench", "--benchmark_out_format=xml"]),
    ("ptbench bench: --benchmark_filter without value", PTBENCH + ["bench", "--benchmark_filter"]),
    ("ptbench run: --benchmark_out", PTBENCH + ["run", "--", "--benchmark_out={d}/x"]),
    ("ptbench run: --benchmark_list_tests", PTBENCH + ["run", "--", "--benchmark_list_tests"]),
    ("ptbench run: --save and --out", PTBENCH + ["run", "--save", "--out", "{outdir}"]),
    ("ptbench test: --suite without value", PTBENCH + ["test", "--suite"]),
    ("ptbench test: --fast with a test name", PTBENCH + ["test", "--fast", "platform/lean"]),
    ("ptbench test: --platform without value", PTBENCH + ["test", "--platform"]),
    ("ptbench test: --platform missing", PTBENCH + ["test", "--platform", "{missing}"]),
    ("ptbench test: --platform empty", PTBENCH + ["test", "--platform", "{empty}"]),
    ("ptbench test: --platform not ELF", PTBENCH + ["test", "--platform", "{garbage}"]),
    ("ptbench test: --platform unknown mode", PTBENCH + ["test", "--platform", "{good}", "--mode", "fast"]),
    ("ptbench test: --platform unknown backend", PTBENCH + ["test", "--platform", "{good}", "--backend", "kvm"]),
    ("ptbench test: --platform with --fast", PTBENCH + ["test", "--platform", "{good}", "--fast"]),
    ("platform_expect.py: missing testlog", py("platform_expect.py") + ["--testlog", "{missing}", "--expect", os.path.join(ROOT, "conformance", "broken-for-test.expect")]),
    ("platform_expect.py: garbage testlog", py("platform_expect.py") + ["--testlog", "{garbage}", "--expect", os.path.join(ROOT, "conformance", "broken-for-test.expect")]),
    ("platform_expect.py: empty expect", py("platform_expect.py") + ["--testlog", "{testlog}", "--expect", "{empty}"]),
    ("platform_expect.py: garbage expect", py("platform_expect.py") + ["--testlog", "{testlog}", "--expect", "{garbage}"]),
    ("platform_expect.py: missing expect", py("platform_expect.py") + ["--testlog", "{testlog}", "--expect", "{missing}"]),
    ("ptbench help: unknown command", PTBENCH + ["help", "frobnicate"]),
    ("ptbench run: unknown option", PTBENCH + ["run", "--bogus"]),
    ("ptbench run: --out without value", PTBENCH + ["run", "--out"]),
    ("ptbench run: --out below a file", PTBENCH + ["run", "--out", "{notdir}"]),
    ("ptbench run: flags with --no-bench", PTBENCH + ["run", "--no-bench", "--", "--benchmark_filter=x"]),
    ("ptbench exec: unknown option", PTBENCH + ["exec", "--bogus"]),
    ("ptbench exec: no program", PTBENCH + ["exec", "--"]),
    ("ptbench exec: unknown mode", PTBENCH + ["exec", "--mode", "fast", "--", "true"]),
    ("ptbench exec: --log below a file", PTBENCH + ["exec", "--log", "{notdir}/log", "--", "true"]),
    ("ptbench compare: no files", PTBENCH + ["compare"]),
    ("ptbench compare: missing base", PTBENCH + ["compare", "{missing}", "{good}"]),
    ("ptbench compare: truncated base", PTBENCH + ["compare", "{trunc}", "{good}"]),
    ("ptbench compare: empty new", PTBENCH + ["compare", "{good}", "{empty}"]),
    ("ptbench compare: garbage, --out kept", PTBENCH + ["compare", "{garbage}", "{good}", "--out", "{out}"]),
    ("ptbench compare: --out below a file", PTBENCH + ["compare", "{good}", "{good}", "--out", "{notdir}"]),
    ("ptbench ab: no revisions", PTBENCH + ["ab"]),
    ("ptbench ab: unknown option", PTBENCH + ["ab", "--bogus"]),
    ("ptbench vm-test: unknown arch", PTBENCH + ["vm-test", "--arch", "sparc"]),
    ("ptbench vm-test: unknown option", PTBENCH + ["vm-test", "--bogus"]),
    ("ptbench vm-test: bad timeout", PTBENCH + ["vm-test", "--timeout", "x"]),
    ("vm/suite.sh: bad timeout", sh("vm/suite.sh") + ["--timeout", "x"]),
    # report.py
    ("report.py: no subcommand", py("report.py")),
    ("report.py: unknown subcommand", py("report.py") + ["frob"]),
    ("report.py render: no arguments", py("report.py") + ["render"]),
    ("report.py render: missing probe", py("report.py") + ["render", "--probe", "{missing}", "--testlog", "{testlog}", "--out", "{out}"]),
    ("report.py render: truncated probe", py("report.py") + ["render", "--probe", "{trunc}", "--testlog", "{testlog}", "--out", "{out}"]),
    ("report.py render: empty testlog", py("report.py") + ["render", "--probe", "{probe}", "--testlog", "{empty}", "--out", "{out}"]),
    ("report.py render: garbage testlog", py("report.py") + ["render", "--probe", "{probe}", "--testlog", "{garbage}", "--out", "{out}"]),
    ("report.py render: --out below a file", py("report.py") + ["render", "--probe", "{probe}", "--testlog", "{testlog}", "--out", "{notdir}"]),
    ("report.py count: missing", py("report.py") + ["count", "{missing}"]),
    ("report.py count: truncated", py("report.py") + ["count", "{trunc}"]),
    # (count takes an empty testlog: meson writes one when no test ran)
    ("report.py sanitize: truncated", py("report.py") + ["sanitize", "{trunc}", "{out}"]),
    ("report.py sanitize: out below a file", py("report.py") + ["sanitize", "{testlog}", "{notdir}"]),
    # junit.py, kcidb.py, lava_report.py and ptbench report (results for
    # CI systems and fleets)
    ("junit.py: no subcommand", py("junit.py")),
    ("junit.py meson: missing JUnit", py("junit.py") + ["meson", "--junit", "{missing}", "--testlog", "{testlog}", "--out", "{out}"]),
    ("junit.py meson: garbage JUnit, --out kept", py("junit.py") + ["meson", "--junit", "{garbage}", "--testlog", "{testlog}", "--out", "{out}"]),
    ("junit.py meson: truncated testlog", py("junit.py") + ["meson", "--junit", "{junit}", "--testlog", "{trunc}", "--out", "{out}"]),
    ("junit.py meson: --out below a file", py("junit.py") + ["meson", "--junit", "{junit}", "--testlog", "{testlog}", "--out", "{notdir}"]),
    ("junit.py vm: missing log", py("junit.py") + ["vm", "{missing}", "--out", "{out}"]),
    ("junit.py vm: not a VM log", py("junit.py") + ["vm", "{garbage}", "--out", "{out}"]),
    ("kcidb.py: no subcommand", py("kcidb.py")),
    ("kcidb.py report: missing folder", py("kcidb.py") + ["report", "{missing}"]),
    ("kcidb.py report: garbage --info", py("kcidb.py") + ["report", "{rundir}", "--info", "{garbage}"]),
    ("kcidb.py report: --out below a file", py("kcidb.py") + ["report", "{rundir}", "--out", "{notdir}"]),
    ("kcidb.py validate: missing", py("kcidb.py") + ["validate", "{missing}"]),
    ("kcidb.py validate: truncated", py("kcidb.py") + ["validate", "{trunc}"]),
    ("kcidb.py info: bad --build", py("kcidb.py") + ["info", "--out", "{out}", "--date", "2026-01-01T00:00:00Z", "--build", "test"]),
    ("kcidb.py info: --out below a file", py("kcidb.py") + ["info", "--out", "{notdir}", "--date", "2026-01-01T00:00:00Z"]),
    ("lava_report.py: no folder", py("lava_report.py")),
    ("lava_report.py: missing folder", py("lava_report.py") + ["{missing}", "--print"]),
    ("lava_report.py: folder without testlog", py("lava_report.py") + ["{resdir}", "--print"]),
    ("ptbench report: no --kcidb", PTBENCH + ["report"]),
    ("ptbench report: unknown option", PTBENCH + ["report", "--bogus"]),
    ("ptbench report: missing folder", PTBENCH + ["report", "--kcidb", "{missing}"]),
    ("ptbench report: folder without testlog", PTBENCH + ["report", "--kcidb", "{resdir}"]),
    ("ptbench report: --out below a file", PTBENCH + ["report", "--kcidb", "{rundir}", "--out", "{notdir}"]),
    # bench_report.py
    ("bench_report.py: no subcommand", py("bench_report.py")),
    ("bench_report.py render: no --outdir", py("bench_report.py") + ["render"]),
    ("bench_report.py render: missing json", py("bench_report.py") + ["render", "--outdir", "{outdir}", "--json", "{missing}"]),
    # (a truncated --json is salvaged by design: it is how a benchmark that
    # crashed half way leaves its JSON)
    ("bench_report.py render: empty json", py("bench_report.py") + ["render", "--outdir", "{outdir}", "--json", "{empty}"]),
    ("bench_report.py render: garbage json", py("bench_report.py") + ["render", "--outdir", "{outdir}", "--json", "{garbage}"]),
    ("bench_report.py render: outdir below a file", py("bench_report.py") + ["render", "--outdir", "{notdir}", "--json", "{good}", "--no-plots"]),
    ("bench_report.py render: missing samples", py("bench_report.py") + ["render", "--outdir", "{outdir}", "--json", "{good}", "--samples", "{missing}", "--no-plots"]),
    # gate.py
    ("gate.py: no subcommand", py("gate.py")),
    ("gate.py merge: no inputs", py("gate.py") + ["merge", "{out}"]),
    ("gate.py merge: truncated input", py("gate.py") + ["merge", "{out}", "{trunc}"]),
    ("gate.py merge: missing input", py("gate.py") + ["merge", "{out}", "{good}", "{missing}"]),
    ("gate.py merge: empty input", py("gate.py") + ["merge", "{out}", "{empty}"]),
    ("gate.py merge: out below a file", py("gate.py") + ["merge", "{notdir}", "{good}"]),
    ("gate.py median: truncated", py("gate.py") + ["median", "{trunc}", "switch/faithful"]),
    ("gate.py ratios: garbage", py("gate.py") + ["ratios", "{garbage}"]),
    ("gate.py write-baseline: truncated", py("gate.py") + ["write-baseline", "{trunc}", "{out}"]),
    ("gate.py write-baseline: out below a file", py("gate.py") + ["write-baseline", "{good}", "{notdir}"]),
    ("gate.py ci-check: truncated baseline", py("gate.py") + ["ci-check", "--baseline", "{trunc}", "{good}"]),
    ("gate.py ci-check: bad threshold", py("gate.py") + ["ci-check", "--baseline", "{good}", "--threshold", "x", "{good}"]),
    ("gate.py compare-fields: empty", py("gate.py") + ["compare-fields", "{empty}", "switch/faithful"]),
    ("gate.py selftest-summary: missing trials", py("gate.py") + ["selftest-summary", "{missing}", "{outdir}"]),
    # history.py
    ("history.py: no subcommand", py("history.py")),
    ("history.py append: missing folder", py("history.py") + ["append", "{missing}", "--history", "{out}"]),
    ("history.py append: history below a file", py("history.py") + ["append", "{resdir}", "--history", "{notdir}"]),
    ("history.py plot: missing history", py("history.py") + ["plot", "--history", "{missing}", "--outdir", "{outdir}"]),
    ("history.py plot: truncated history", py("history.py") + ["plot", "--history", "{trunc}", "--outdir", "{outdir}"]),
    ("history.py plot: outdir below a file", py("history.py") + ["plot", "--history", "{history}", "--outdir", "{notdir}"]),
    # shell scripts
    ("ab.sh: no revisions", sh("ab.sh")),
    ("ab.sh: unknown option", sh("ab.sh") + ["--bogus"]),
    ("ab.sh: --rounds without value", sh("ab.sh") + ["--rounds"]),
    ("ab.sh: bad --reps", sh("ab.sh") + ["--reps", "x", "HEAD", "HEAD"]),
    ("ab.sh: --out below a file", sh("ab.sh") + ["--out", "{notdir}", "HEAD", "HEAD"]),
    ("ab.sh: missing baseline", sh("ab.sh") + ["--baseline", "{missing}"]),
    ("ab.sh: empty baseline", sh("ab.sh") + ["--baseline", "{empty}"]),
    ("ab.sh: truncated baseline", sh("ab.sh") + ["--baseline", "{trunc}"]),
    ("gate_ci.sh: unknown option", sh("gate_ci.sh") + ["--bogus"]),
    ("gate_ci.sh: missing baseline", sh("gate_ci.sh") + ["--baseline", "{missing}"]),
    ("gate_ci.sh: truncated baseline", sh("gate_ci.sh") + ["--baseline", "{trunc}"]),
    ("gate_ci.sh: bad --reps", sh("gate_ci.sh") + ["--reps", "x"]),
    ("gate_selftest.sh: unknown option", sh("gate_selftest.sh") + ["--bogus"]),
    ("gate_selftest.sh: --trials without value", sh("gate_selftest.sh") + ["--trials"]),
    ("gate_selftest.sh: zero trials", sh("gate_selftest.sh") + ["--trials", "0"]),
    ("gate_selftest.sh: bad --min-time", sh("gate_selftest.sh") + ["--min-time", "x"]),
    ("gate_selftest.sh: --out below a file", sh("gate_selftest.sh") + ["--out", "{notdir}", "--trials", "1", "--rounds", "1", "--reps", "3", "--slowdown-pct", "1"]),
    ("vm/suite.sh: unknown option", sh("vm/suite.sh") + ["--bogus"]),
    ("vm/suite.sh: unknown arch", sh("vm/suite.sh") + ["--arch", "sparc"]),
    ("vm/run.sh: unknown option", sh("vm/run.sh") + ["--bogus"]),
    ("vm/run.sh: --append without value", sh("vm/run.sh") + ["--append"]),
    ("vm/run.sh: --qemu-opt not an option", sh("vm/run.sh") + ["--qemu-opt", "seed 1", "{good}"]),
    ("vm/suite.sh: --qemu-opt without value", sh("vm/suite.sh") + ["--qemu-opt"]),
    ("vm/run.sh: bad --cpu", sh("vm/run.sh") + ["--arch", "x86_64", "--cpu", "max vendor", "{good}"]),
    ("vm/trace.sh: unknown option", sh("vm/trace.sh") + ["--bogus"]),
    ("vm/trace.sh: no --filter", sh("vm/trace.sh") + ["--arch", "x86_64", "--kernel", "{good}", "--bench", "/bin/true"]),
    ("vm/trace.sh: bad --events", sh("vm/trace.sh") + ["--arch", "x86_64", "--kernel", "{good}", "--bench", "/bin/true", "--filter", "x", "--events", "a;b"]),
    ("vm/fetch.sh: unknown option", sh("vm/fetch.sh") + ["--bogus"]),
    ("vm/initramfs.sh: unknown option", sh("vm/initramfs.sh") + ["--bogus"]),
    # C tools
    ("compare tool: no files", COMPARE),
    ("compare tool: unknown option", COMPARE + ["--bogus"]),
    ("compare tool: missing base", COMPARE + ["{missing}", "{good}"]),
    ("compare tool: truncated new", COMPARE + ["{good}", "{trunc}"]),
    ("compare tool: empty base", COMPARE + ["{empty}", "{good}"]),
    ("compare tool: garbage, --out kept", COMPARE + ["{garbage}", "{good}", "--out", "{out}"]),
    ("compare tool: --out below a file", COMPARE + ["{good}", "{good}", "--out", "{notdir}"]),
    ("compare tool: bad --min-effect", COMPARE + ["--min-effect", "x", "{good}", "{good}"]),
    ("ptbench-probe: an argument", exe("conformance/ptbench-probe") + ["--bogus"]),
    ("conf-interrupt: no mode", exe("conformance/conf-interrupt")),
    ("conf-interrupt: unknown mode", exe("conformance/conf-interrupt") + ["fast"]),
    ("conf-interrupt: unknown case", exe("conformance/conf-interrupt") + ["lean", "no_such_case"]),
    ("test-systrap-bpf: an argument", exe("unit/test-systrap-bpf") + ["--bogus"]),
    # ptbench kernels (scripts/kernels.sh): every row fails before a fetch
    # or a boot; --out {d}/k keeps the rows that get past the options out
    # of results/
    ("ptbench kernels: unknown option", PTBENCH + ["kernels", "--bogus"]),
    ("ptbench kernels: --runs without value", PTBENCH + ["kernels", "--runs"]),
    ("ptbench kernels: bad --runs", PTBENCH + ["kernels", "--runs", "0", "{good}"]),
    ("ptbench kernels: bad --timeout", PTBENCH + ["kernels", "--timeout", "x", "{good}"]),
    ("ptbench kernels: unknown --accel", PTBENCH + ["kernels", "--accel", "hvf", "{good}"]),
    ("ptbench kernels: unknown --arch", PTBENCH + ["kernels", "--arch", "sparc", "{good}"]),
    ("ptbench kernels: unknown arch prefix", PTBENCH + ["kernels", "--out", "{d}/k", "sparc:6.1.0-56-cloud-amd64"]),
    ("ptbench kernels: KERNEL and --manifest", PTBENCH + ["kernels", "{good}", "--manifest", "{manifest}"]),
    ("ptbench kernels: missing manifest", PTBENCH + ["kernels", "--out", "{d}/k", "--manifest", "{missing}"]),
    ("ptbench kernels: empty manifest", PTBENCH + ["kernels", "--out", "{d}/k", "--manifest", "{empty}"]),
    ("ptbench kernels: garbage manifest", PTBENCH + ["kernels", "--out", "{d}/k", "--manifest", "{garbage}"]),
    ("ptbench kernels: manifest line cut short", PTBENCH + ["kernels", "--out", "{d}/k", "--manifest", "{cutmanifest}"]),
    ("ptbench kernels: missing kernel image", PTBENCH + ["kernels", "--out", "{d}/k", "{missing}"]),
    ("ptbench kernels: unknown kernel package", PTBENCH + ["kernels", "--out", "{d}/k", "linux-image-no-such-kernel-amd64"]),
    ("ptbench kernels: quote in --bench-filter", PTBENCH + ["kernels", "--bench-filter", "a'b", "{good}"]),
    ("ptbench kernels: --out below a file", PTBENCH + ["kernels", "--out", "{notdir}", "{good}"]),
    ("ptbench kernels: --qemu-opt not an option", PTBENCH + ["kernels", "--qemu-opt", "seed 1", "{good}"]),
    ("ptbench kernels: quote in --append", PTBENCH + ["kernels", "--append", "a'b", "{good}"]),
    ("kernels.sh: unknown option", sh("kernels.sh") + ["--bogus"]),
    # kernels_report.py
    ("kernels_report.py: no subcommand", py("kernels_report.py")),
    ("kernels_report.py: unknown subcommand", py("kernels_report.py") + ["frob"]),
    ("kernels_report.py render: missing folder", py("kernels_report.py") + ["render", "{missing}"]),
    ("kernels_report.py render: garbage manifest", py("kernels_report.py") + ["render", "{kernrun}"]),
    ("kernels_report.py index: missing root", py("kernels_report.py") + ["index", "{missing}"]),
    ("kernels_report.py index: root below a file", py("kernels_report.py") + ["index", "{notdir}"]),
    ("kernels_report.py icount-compare: no --b", py("kernels_report.py") + ["icount-compare", "--a", "{good}"]),
    ("kernels_report.py icount-compare: missing a", py("kernels_report.py") + ["icount-compare", "--a", "{missing}", "--b", "{good}"]),
    ("kernels_report.py icount-compare: truncated b", py("kernels_report.py") + ["icount-compare", "--a", "{good}", "--b", "{trunc}"]),
    ("kernels_report.py icount-compare: empty a", py("kernels_report.py") + ["icount-compare", "--a", "{empty}", "--b", "{good}"]),
    ("kernels_report.py icount-compare: garbage, --out-json kept", py("kernels_report.py") + ["icount-compare", "--a", "{garbage}", "--b", "{good}", "--out-json", "{out}"]),
    ("kernels_report.py icount-compare: bad --min-effect", py("kernels_report.py") + ["icount-compare", "--a", "{good}", "--b", "{good}", "--min-effect", "x"]),
    ("kernels_report.py icount-compare: negative --k", py("kernels_report.py") + ["icount-compare", "--a", "{good}", "--b", "{good}", "--k", "-1"]),
    ("kernels_report.py icount-compare: bad --filter", py("kernels_report.py") + ["icount-compare", "--a", "{good}", "--b", "{good}", "--filter", "("]),
    ("kernels_report.py icount-compare: --out-md below a file", py("kernels_report.py") + ["icount-compare", "--a", "{good}", "--b", "{good}", "--out-md", "{notdir}"]),
    # ab.sh --icount: every row fails before a build, a fetch or a boot
    ("ab.sh --icount: unknown option", sh("ab.sh") + ["--icount", "--bogus"]),
    ("ab.sh --icount: one revision", sh("ab.sh") + ["--icount", "HEAD"]),
    ("ab.sh --icount: one round", sh("ab.sh") + ["--icount", "--rounds", "1", "HEAD", "HEAD"]),
    ("ab.sh --icount: --reps", sh("ab.sh") + ["--icount", "--reps", "3", "HEAD", "HEAD"]),
    ("ab.sh --icount: --kernel without value", sh("ab.sh") + ["--icount", "HEAD", "HEAD", "--kernel"]),
    ("ab.sh --icount: unknown revision", sh("ab.sh") + ["--icount", "HEAD", "no-such-revision-xyz"]),
    ("ab.sh --icount: missing --a-exe", sh("ab.sh") + ["--icount", "--a-exe", "{missing}", "--b-exe", "{good}"]),
    ("ab.sh --icount: missing kernel image", sh("ab.sh") + ["--icount", "--kernel", "{missing}", "HEAD", "HEAD"]),
    ("ab.sh --icount: unknown kernel package", sh("ab.sh") + ["--icount", "--kernel", "linux-image-no-such-kernel-amd64", "HEAD", "HEAD"]),
    ("ab.sh --icount: --out below a file", sh("ab.sh") + ["--icount", "--out", "{notdir}", "HEAD", "HEAD"]),
    ("ab.sh --icount: unknown compare option", sh("ab.sh") + ["--icount", "HEAD", "HEAD", "--", "--bogus"]),
    ("ab.sh --icount: bad --min-effect", sh("ab.sh") + ["--icount", "HEAD", "HEAD", "--", "--min-effect", "x"]),
    # ptbench soak, soak_report.py and the reliability programs
    ("ptbench soak: unknown option", PTBENCH + ["soak", "--bogus"]),
    ("ptbench soak: unknown --backend", PTBENCH + ["soak", "--backend", "kvm"]),
    ("ptbench soak: bad --repeat", PTBENCH + ["soak", "--repeat", "x"]),
    ("ptbench soak: zero --repeat", PTBENCH + ["soak", "--repeat", "0"]),
    ("ptbench soak: --out without value", PTBENCH + ["soak", "--out"]),
    ("ptbench soak: --out below a file", PTBENCH + ["soak", "--out", "{notdir}"]),
    ("ptbench soak: --out holds a finished run", PTBENCH + ["soak", "--out", "{soakdone}"]),
    ("soak_report.py: no subcommand", py("soak_report.py")),
    ("soak_report.py render: no --outdir", py("soak_report.py") + ["render"]),
    ("soak_report.py render: missing folder", py("soak_report.py") + ["render", "--outdir", "{missing}"]),
    ("soak_report.py render: truncated soak JSON", py("soak_report.py") + ["render", "--outdir", "{soakrun}"]),
    ("soak_report.py render: folder below a file", py("soak_report.py") + ["render", "--outdir", "{notdir}"]),
    ("rel-soak: unknown option", exe("reliability/rel-soak") + ["--bogus", "1"]),
    ("rel-soak: --cycles without value", exe("reliability/rel-soak") + ["--cycles"]),
    ("rel-soak: bad --cycles", exe("reliability/rel-soak") + ["--cycles", "x"]),
    ("rel-soak: too few --cycles", exe("reliability/rel-soak") + ["--cycles", "5"]),
    ("rel-soak: bad --switches", exe("reliability/rel-soak") + ["--switches", "-1"]),
    ("rel-soak: zero --threads", exe("reliability/rel-soak") + ["--threads", "0"]),
    ("rel-soak: one --rounds", exe("reliability/rel-soak") + ["--rounds", "1"]),
    ("rel-soak: zero --hold", exe("reliability/rel-soak") + ["--hold", "0"]),
    ("rel-soak: unknown --mode", exe("reliability/rel-soak") + ["--mode", "fast"]),
    ("rel-soak: unknown --backend", exe("reliability/rel-soak") + ["--backend", "kvm"]),
    ("rel-soak: unknown --plant", exe("reliability/rel-soak") + ["--plant", "socket"]),
    ("rel-soak: zero --plant-every", exe("reliability/rel-soak") + ["--plant", "fd", "--plant-every", "0"]),
    ("rel-soak: unknown --expect", exe("reliability/rel-soak") + ["--expect", "maybe"]),
    ("rel-soak: --json below a file", exe("reliability/rel-soak") + ["--json", "{notdir}"]),
    ("rel-tracer-death: unknown option", exe("reliability/rel-tracer-death") + ["--bogus", "1"]),
    ("rel-tracer-death: --kills without value", exe("reliability/rel-tracer-death") + ["--kills"]),
    ("rel-tracer-death: zero --kills", exe("reliability/rel-tracer-death") + ["--kills", "0"]),
    ("rel-tracer-death: bad --seed", exe("reliability/rel-tracer-death") + ["--seed", "x"]),
    ("rel-tracer-death: bad --max-delay-ms", exe("reliability/rel-tracer-death") + ["--max-delay-ms", "99999"]),
    ("rel-tracer-death: bad --grace-ms", exe("reliability/rel-tracer-death") + ["--grace-ms", "1.5"]),
    ("rel-tracer-death: unknown --mode", exe("reliability/rel-tracer-death") + ["--mode", "fast"]),
    ("rel-tracer-death: unknown --backend", exe("reliability/rel-tracer-death") + ["--backend", "kvm"]),
    ("rel-tracer-death: unknown --expect", exe("reliability/rel-tracer-death") + ["--expect", "maybe"]),
    ("rel-tracer-death: --json below a file", exe("reliability/rel-tracer-death") + ["--json", "{notdir}"]),
    ("rel-faults: no mode", exe("reliability/rel-faults")),
    ("rel-faults: unknown mode", exe("reliability/rel-faults") + ["fast"]),
    ("rel-faults: unknown case", exe("reliability/rel-faults") + ["lean", "no_such_case"]),
    # ptbench fuzz, fuzz_report.py and the fuzz programs (ptbench-fuzz and
    # ptbench-fuzz-unsafe are libFuzzer's: their options are libFuzzer's)
    ("ptbench fuzz: unknown option", PTBENCH + ["fuzz", "--bogus"]),
    ("ptbench fuzz: --runs without value", PTBENCH + ["fuzz", "--runs"]),
    ("ptbench fuzz: bad --runs", PTBENCH + ["fuzz", "--runs", "x"]),
    ("ptbench fuzz: bad --time", PTBENCH + ["fuzz", "--time", "-1"]),
    ("ptbench fuzz: unknown --mode", PTBENCH + ["fuzz", "--mode", "fast"]),
    ("ptbench fuzz: unknown --backend", PTBENCH + ["fuzz", "--backend", "kvm"]),
    ("ptbench fuzz: lean on systrap", PTBENCH + ["fuzz", "--backend", "systrap", "--mode", "lean"]),
    ("ptbench fuzz: --unsafe-cont on systrap", PTBENCH + ["fuzz", "--backend", "systrap", "--unsafe-cont"]),
    ("ptbench fuzz: --out exists", PTBENCH + ["fuzz", "--out", "{outdir}"]),
    ("ptbench fuzz: --out below a file", PTBENCH + ["fuzz", "--out", "{notdir}"]),
    ("fuzz_report.py: no arguments", FUZZ_REPORT),
    ("fuzz_report.py: missing stats", FUZZ_REPORT + ["--stats", "{missing}", "--log", "{garbage}", "--outdir", "{outdir}", "--exit-status", "0"]),
    ("fuzz_report.py: truncated stats", FUZZ_REPORT + ["--stats", "{trunc}", "--log", "{garbage}", "--outdir", "{outdir}", "--exit-status", "0"]),
    ("fuzz_report.py: empty stats", FUZZ_REPORT + ["--stats", "{empty}", "--log", "{garbage}", "--outdir", "{outdir}", "--exit-status", "0"]),
    ("fuzz_report.py: stats of another kind", FUZZ_REPORT + ["--stats", "{good}", "--log", "{testlog}", "--outdir", "{outdir}", "--exit-status", "0"]),
    ("fuzz_report.py: missing log", FUZZ_REPORT + ["--stats", "{fuzzstats}", "--log", "{missing}", "--outdir", "{outdir}", "--exit-status", "0"]),
    ("fuzz_report.py: outdir below a file", FUZZ_REPORT + ["--stats", "{fuzzstats}", "--log", "{testlog}", "--outdir", "{notdir}", "--exit-status", "0"]),
    ("fuzz_report.py: bad --exit-status", FUZZ_REPORT + ["--stats", "{fuzzstats}", "--log", "{testlog}", "--outdir", "{outdir}", "--exit-status", "x"]),
    ("ptbench-fuzz-replay: unknown option", exe("fuzz/ptbench-fuzz-replay") + ["--bogus"]),
    ("ptbench-fuzz-replay: unknown --backend", exe("fuzz/ptbench-fuzz-replay") + ["--backend", "kvm"]),
    ("ptbench-fuzz-replay: lean on systrap", exe("fuzz/ptbench-fuzz-replay") + ["--backend", "systrap", "--mode", "lean"]),
    ("ptbench-fuzz-replay: --ip-only-control on ptrace", exe("fuzz/ptbench-fuzz-replay") + ["--ip-only-control"]),
    ("ptbench-fuzz-replay: --random without value", exe("fuzz/ptbench-fuzz-replay") + ["--random"]),
    ("ptbench-fuzz-replay: an argument", exe("fuzz/ptbench-fuzz-replay") + ["extra"]),
    ("ptbench-fuzz-replay: unknown --mode", exe("fuzz/ptbench-fuzz-replay") + ["--mode", "fast"]),
    ("ptbench-fuzz-replay: bad --random", exe("fuzz/ptbench-fuzz-replay") + ["--random", "x"]),
    ("ptbench-fuzz-replay: bad --seed", exe("fuzz/ptbench-fuzz-replay") + ["--seed", "-3"]),
    ("ptbench-fuzz-replay: zero --full-every", exe("fuzz/ptbench-fuzz-replay") + ["--full-every", "0"]),
    ("ptbench-fuzz-replay: bad --repeat", exe("fuzz/ptbench-fuzz-replay") + ["--input", "{good}", "--repeat", "x"]),
    ("ptbench-fuzz-replay: two modes", exe("fuzz/ptbench-fuzz-replay") + ["--selftest", "--unsafe-cont"]),
    ("ptbench-fuzz-replay: missing --input", exe("fuzz/ptbench-fuzz-replay") + ["--input", "{missing}"]),
    ("ptbench-fuzz-replay: --json below a file", exe("fuzz/ptbench-fuzz-replay") + ["--json", "{notdir}"]),
    ("ptbench-fuzz-control: unknown option", exe("fuzz/ptbench-fuzz-control") + ["--bogus"]),
    ("ptbench-fuzz-control: --json below a file", exe("fuzz/ptbench-fuzz-control") + ["--json", "{notdir}"]),
]

# Rows whose tool is a known defect outside this test's owner (label ->
# why); they are skipped with the reason, not passed.
KNOWN_BROKEN = {
    label: "scripts/vm checks --timeout in initramfs.sh, after fetching the "
           "kernel and building the cross tree (5 s and ~100 lines here)"
    for label in ("ptbench vm-test: bad timeout", "vm/suite.sh: bad timeout")
}

# Rows that reject an unknown kernel package by apt's lists (lib.sh
# check_kernel). Without lists for amd64 the scripts go on to fetch.sh,
# which updates them (as root: a download), so the row is skipped.
NEEDS_APT_LISTS = {"ptbench kernels: unknown kernel package", "ab.sh --icount: unknown kernel package"}

# Not rows, and why:
# - "ptbench kernels" with no KERNEL and no committed run in results/kernels/:
#   that folder is the repository's, not the test's to empty.
# - ptbench-fuzz and ptbench-fuzz-unsafe (build/fuzz, clang): their options
#   are libFuzzer's own.

# The longest a row may take: "ptbench compare" and "ab" build build/test
# (nothing to do when it is built); everything else fails at once.
TIMEOUT_S = 180


def make_fixtures(d, used):
    good = json.dumps(full_doc(), indent=1)
    files = {
        "good": ("good.json", good),
        "trunc": ("trunc.json", good[: len(good) // 2]),
        "garbage": ("garbage.json", "this is not JSON\n"),
        "empty": ("empty.json", ""),
        "probe": ("probe.json", json.dumps({"arch": "x86_64", "ok": True})),
        "testlog": ("testlog.json", json.dumps({"name": "a/b", "result": "OK"}) + "\n"),
        "history": ("history.jsonl", ""),
        "junit": ("testlog.junit.xml", '<testsuites tests="0"></testsuites>\n'),
        "manifest": ("manifest.tsv", "arch\tpackage\tversion\nx86_64\tlinux-image-cloud-amd64\t\n"),
        "cutmanifest": ("cut-manifest.tsv", "arch\tpackage\tversion\nx86_64\n"),
        "fuzzstats": ("stats.json", json.dumps({
            "executions": 10, "escapes": 0, "hangs": 0, "oracle_violations": 0,
            "distinct_outcomes": 1, "emulated_syscalls": 3, "distinct_first_syscalls": 1,
            "outcomes": {"syscalls": 10}, "seconds": 1, "mode": "lean"})),
    }
    paths = {"d": d}
    for key, (name, text) in files.items():
        paths[key] = os.path.join(d, name)
        with open(paths[key], "w", encoding="utf-8") as f:
            f.write(text)
    paths["missing"] = os.path.join(d, "missing.json")
    afile = os.path.join(d, "afile")
    with open(afile, "w", encoding="utf-8") as f:
        f.write("a regular file\n")
    paths["notdir"] = os.path.join(afile, "sub")
    paths["outdir"] = os.path.join(d, "out")
    os.mkdir(paths["outdir"])
    paths["out"] = os.path.join(paths["outdir"], "precious")
    with open(paths["out"], "w", encoding="utf-8") as f:
        f.write("results written before\n")
    # Run folders of "ptbench soak" and "ptbench kernels" with one bad file
    for key, name, text in (("soakrun", "soak-lean.json", good[: len(good) // 2]),
                            ("kernrun", "manifest.tsv", "this is not a manifest\n"),
                            ("soakdone", "summary.md", "# a finished soak run\n")):
        paths[key] = os.path.join(d, key)
        os.mkdir(paths[key])
        with open(os.path.join(paths[key], name), "w", encoding="utf-8") as f:
            f.write(text)
    paths["resdir"] = os.path.join(d, "res")
    os.mkdir(paths["resdir"])
    shutil.copy(paths["good"], os.path.join(paths["resdir"], "bench.json"))
    # A folder of "ptbench run": testlog.json, bench.json, run.json.
    paths["rundir"] = os.path.join(d, "run")
    os.mkdir(paths["rundir"])
    shutil.copy(paths["good"], os.path.join(paths["rundir"], "bench.json"))
    shutil.copy(paths["testlog"], os.path.join(paths["rundir"], "testlog.json"))
    with open(os.path.join(paths["rundir"], "run.json"), "w", encoding="utf-8") as f:
        json.dump({"date": "2026-01-01T00:00:00Z", "checkout": {}, "builds": [], "machine": {}}, f)
    if "history" in used:
        subprocess.run(py("history.py") + ["append", paths["resdir"], "--history", paths["history"]],
                       check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return paths


def snapshot(folder):
    """name -> (size, mtime_ns, bytes) of every file under folder."""
    snap = {}
    for base, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(base, n)
            st = os.stat(p)
            with open(p, "rb") as f:
                snap[os.path.relpath(p, folder)] = (st.st_size, st.st_mtime_ns, f.read())
    return snap


def names_the_file(line, paths, used):
    """True if the error line names one of the bad files the row used."""
    for key in used:
        p = paths[key]
        candidates = [p, os.path.basename(p)] if key != "notdir" else [p, os.path.dirname(p)]
        if any(c in line for c in candidates):
            return True
    return False


class BadInput(unittest.TestCase):
    """One test per row of CASES (added below)."""

    def check_row(self, label, argv):
        if label in KNOWN_BROKEN:
            self.skipTest(f"known defect: {KNOWN_BROKEN[label]}")
        if label in NEEDS_APT_LISTS and not glob.glob("/var/lib/apt/lists/*binary-amd64_Packages*"):
            self.skipTest("apt has no amd64 package lists here: the script would update them")
        if argv[0].startswith(os.path.join(ROOT, "build")) and not os.access(argv[0], os.X_OK):
            self.skipTest(f"{os.path.relpath(argv[0], ROOT)} is not built")
        if argv[:2] == PTBENCH and len(argv) > 2 and argv[2] in ("compare", "ab") and \
                not os.access(COMPARE[0], os.X_OK):
            self.skipTest("build/test is not built (ptbench would build it)")
        d = tempfile.mkdtemp(prefix="test_badinput.")
        self.addCleanup(shutil.rmtree, d, True)
        used = sorted({k for a in argv for k in re.findall(r"\{(\w+)\}", a)})
        paths = make_fixtures(d, used)
        args = [a.format(**paths) for a in argv]
        before = snapshot(d)
        env = dict(os.environ, PTBENCH_SKIP_SETUP="1")
        try:
            r = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                               env=env, timeout=TIMEOUT_S, cwd=d)
        except subprocess.TimeoutExpired:
            self.fail(f"{label}: still running after {TIMEOUT_S} s (bad input must fail at once)")
        what = f"{label}: {' '.join(args)}\nexit {r.returncode}, stderr:\n{r.stderr}"
        self.assertEqual(r.returncode, 2, what)
        lines = r.stderr.strip("\n").splitlines()
        self.assertEqual(len(lines), 1, what)
        self.assertTrue(lines[0].strip(), what)
        bad = [k for k in used if k in BAD]
        if bad:
            self.assertTrue(names_the_file(lines[0], paths, bad),
                            f"the error line names none of {bad}: {what}")
        after = snapshot(d)
        changed = sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
        self.assertFalse(changed, f"files changed, added or removed: {changed}: {what}")


def _add_rows():
    seen = set()
    for label, argv in CASES:
        name = "test_" + re.sub(r"\W+", "_", label).strip("_").lower()
        assert name not in seen, f"two rows named {name}"
        seen.add(name)

        def test(self, label=label, argv=argv):
            self.check_row(label, argv)
        test.__doc__ = label
        setattr(BadInput, name, test)


_add_rows()

if __name__ == "__main__":
    unittest.main()
