#!/usr/bin/python3
"""The kernel-version matrix of scripts/kernels.sh: matrices, tables, plots;
and the instruction-path A/B judgement of scripts/ab.sh --icount.

Usage:
  kernels_report.py render DIR       DIR/manifest.tsv + DIR/raw/ -> report
  kernels_report.py index ROOT       ROOT/README.md: the newest report
  kernels_report.py spread-ab --off DIR --on DIR --title T --out FILE.md
  kernels_report.py icount-compare --a A.json... --b B.json...
                    [--filter REGEX] [--min-effect PCT] [--k K]
                    [--out-md FILE] [--out-json FILE]

render reads what scripts/kernels.sh left in DIR: manifest.tsv (one line
per kernel: arch, package, version, status, label, runs), run.info, and for
each kernel raw/LABEL/runN.log (the serial console: INFO lines, the probe's
JSON, every conformance run's TAP) with run.sh's runN.log.runs.tsv and
runN.log.bench.json beside it. It writes (each file via a tmp.* name, then
renamed; report.md last):
  features.tsv     kernel x feature (the probe, plus CPU flags)
  mitigations.tsv  kernel x /sys/devices/system/cpu/vulnerabilities entry
  conformance.tsv  kernel x conformance run (group and mode)
  bench.tsv        every benchmark x kernel: median over the runs, the
                   run-to-run spread, the ratio to the first kernel of the
                   same arch, and the flag
  kernels.json     all of it for machines (ab.sh --icount reads figures
                   the same way)
  plots/           gnuplot data and PNG images (scripts/plot/kernels.gp)
  previous.tsv     with DIR/previous/ (kernels.json and run.info of an
                   earlier run of the same kernels): its switch/ and
                   mechanism/ figures against these, judged as
                   icount-compare does
  report.md        the above as Markdown

Figures: with --accel icount the guest clock advances one nanosecond per
guest instruction, so a benchmark's "ns" are instructions; they are shown
as "instructions (emulated)", never as time. A figure's spread is
(max - min) / median over the runs of one kernel; a key figure (switch/,
mechanism/, map/, interrupt/, pool/*/threads:1) whose spread exceeds STABLE_SPREAD (1%) is flagged UNSTABLE,
and so is any figure seen in one run only (no spread measured).

icount-compare judges B against A from such figures: per benchmark the
median of each side, the spread = the larger of the two sides' spreads, the
threshold = max(min-effect, k x spread); REGRESSION when B exceeds A by more
than the threshold, IMPROVEMENT when it is lower by more than it, else
PASS; INCONCLUSIVE when a side lacks two runs, a figure errored on a side,
or the threshold exceeds MAX_THRESHOLD (30%: too noisy to judge). Exit 0
pass, 1 a regression, 2 bad input, 3 inconclusive (and no regression).

Python 3 standard library only; gnuplot for the plots (skipped with a note
when missing).
"""

import csv
import json
import os
import re
import statistics
import sys

import bench_report
import ptcli
import ptfmt

PROG = "kernels_report.py"

STABLE_SPREAD = 0.01          # the 1% between two icount runs
# The key figures (issue 15's bar): every switch/, mechanism/, map/ and
# interrupt/ figure, and the pools with one thread.
KEY_FAMILIES = ("switch/", "mechanism/", "map/", "interrupt/")
KEY_POOL = re.compile(r"pool/[^/]+/threads:1$")
KEY_TEXT = "switch/, mechanism/, map/, interrupt/ and pool/*/threads:1"
MAX_THRESHOLD = 0.30
# Benchmarks shown in the plots (the ones a sandbox's cost is made of).
PLOT_FIGURES = (
    "native/getpid", "mechanism/sysemu", "mechanism/sysemu_regs",
    "mechanism/ptrace_syscall", "mechanism/seccomp_trap", "mechanism/seccomp_unotify",
    "mechanism/sud", "switch/faithful", "switch/lean", "map/inject/pages:1",
)

# The probe's keys, in the order of the feature matrix, with a title.
FEATURES = (
    ("sysemu", "PTRACE_SYSEMU"),
    ("ptrace_get_syscall_info", "PTRACE_GET_SYSCALL_INFO"),
    ("ptrace_set_syscall_info", "PTRACE_SET_SYSCALL_INFO"),
    ("ptrace_seize", "PTRACE_SEIZE"),
    ("ptrace_interrupt", "PTRACE_INTERRUPT"),
    ("ptrace_o_exitkill", "PTRACE_O_EXITKILL"),
    ("seccomp_after_ptrace", "seccomp runs after ptrace (>= 4.8)"),
    ("seccomp_user_notif", "seccomp user notification"),
    ("seccomp_user_notif_sync_wakeup", "user notif. SYNC_WAKE_UP flag"),
    ("seccomp_filter_flags.tsync", "filter flag TSYNC"),
    ("seccomp_filter_flags.log", "filter flag LOG"),
    ("seccomp_filter_flags.spec_allow", "filter flag SPEC_ALLOW"),
    ("seccomp_filter_flags.new_listener", "filter flag NEW_LISTENER"),
    ("seccomp_filter_flags.tsync_esrch", "filter flag TSYNC_ESRCH"),
    ("seccomp_filter_flags.wait_killable_recv", "filter flag WAIT_KILLABLE_RECV"),
    ("seccomp_actions", "seccomp actions"),
    ("syscall_user_dispatch", "Syscall User Dispatch"),
    ("cpuid_faulting", "CPUID faulting (ARCH_SET_CPUID)"),
    ("cpu_flag_cpuid_fault", "CPU flag cpuid_fault"),
    ("arch_get_cpuid", "ARCH_GET_CPUID"),
    ("ia32_int80", "IA32 emulation (int 0x80)"),
    ("x32_syscall_bit", "x32 syscall bit"),
    ("vsyscall", "[vsyscall] mapped"),
    ("vdso_unmap", "munmap([vdso])"),
    ("pidfd_open", "pidfd_open"),
    ("yama_ptrace_scope", "Yama ptrace_scope"),
    ("fpstate_size", "FP state bytes per switch"),
    ("preempt_rt", "PREEMPT_RT"),
    ("clocksource", "clocksource"),
    ("online_cpus", "online CPUs"),
)


class Run:
    """One boot of one kernel: what its console log and run.sh's files say."""

    def __init__(self, log):
        self.log = log
        self.info = {}        # INFO lines of the guest
        self.probe = None     # the probe's JSON object
        self.runs = []        # conformance runs (dicts), from runs.tsv
        self.tap = {}         # command -> its TAP lines
        self.bench = {}       # benchmark -> ns (float) or error text (str)
        self.idle = {}        # benchmark -> {idle_ns, idle_sleeps, timer_ticks} per iteration
        self.bench_note = ""  # why there are no figures, if there are none
        self.result = None    # RESULT line, or None (no verdict)
        self.runinfo = read_kv(log + ".info")
        self._read_log()
        self._read_runs()
        self._read_bench()

    def bench_only(self):
        """Whether this boot ran the probe and the benchmarks only
        (kernels.sh writes boot_kind to run.sh's LOG.info)."""
        return self.runinfo.get("boot_kind") == "bench"

    def _read_log(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return
        cmd, body = None, []
        for line in lines:
            if line.startswith("PTBENCH-VM: INFO "):
                k, _, v = line[len("PTBENCH-VM: INFO "):].partition("=")
                self.info.setdefault(k, v)
                # cpu_implementer=... cpu_part=... share a line
                if k == "cpu_implementer" and " cpu_part=" in v:
                    self.info[k], _, self.info["cpu_part"] = v.partition(" cpu_part=")
            elif line.startswith("PTBENCH-VM: BEGIN "):
                cmd = line.split(" ", 3)[3] if line.count(" ") >= 3 else "?"
                body = []
            elif line.startswith("PTBENCH-VM: END ") and cmd is not None:
                self.tap[cmd] = body
                if cmd.split()[0] == "ptbench-probe":
                    self.probe = parse_probe(body)
                cmd = None
            elif line.startswith("PTBENCH-VM: RESULT "):
                self.result = line[len("PTBENCH-VM: RESULT "):]
            elif cmd is not None:
                body.append(line)

    def _read_runs(self):
        try:
            with open(self.log + ".runs.tsv", encoding="utf-8") as f:
                for row in csv.reader(f, delimiter="\t"):
                    if len(row) >= 9:
                        self.runs.append({
                            "verdict": row[1], "exit": row[2], "ok": int(row[3]),
                            "not_ok": int(row[4]), "skipped": int(row[5]),
                            "planned": int(row[6]), "command": row[8]})
        except (OSError, ValueError):
            pass

    def _read_bench(self):
        path = self.log + ".bench.json"
        if not os.path.exists(path):
            self.bench_note = "no benchmark JSON in this run"
            return
        try:
            self.bench = bench_figures(path)
            self.idle = idle_counters(path)
        except ptcli.InputError as e:
            self.bench_note = str(e)


def read_kv(path):
    """key=value lines of a file; {} if it is missing."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                k, sep, v = line.rstrip("\n").partition("=")
                if sep:
                    out.setdefault(k, v)
    except OSError:
        pass
    return out


def parse_probe(lines):
    """The probe's JSON object from its console lines (None if there is
    none): from the first '{' line to the last '}' line."""
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("{"))
        end = max(i for i, l in enumerate(lines) if l.startswith("}"))
        obj = json.loads("\n".join(lines[start:end + 1]))
    except (StopIteration, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def bench_figures(path):
    """name -> real time per iteration in ns (float), or the error text
    (str) of a benchmark that errored or skipped. Repetitions: the median.
    Names as ptfmt.Results keys them (threads:N stays: it tells runs
    apart)."""
    res = ptfmt.Results.load(path, salvage=False)
    out = {}
    for key, b in res.benches.items():
        med = b.median()
        if b.reps and med is not None:
            out[key] = med
        elif b.errors:
            out[key] = b.errors[0]
        else:
            out[key] = "no real_time"
    return out


IDLE_COUNTERS = ("idle_ns", "idle_sleeps", "timer_ticks")


def idle_counters(path):
    """name -> the per-iteration counters of ptbench-bench --ptbench_idle=1
    (the median over repetitions), for the benchmarks that have idle_ns."""
    res = ptfmt.Results.load(path, salvage=False)
    out = {}
    for key, b in res.benches.items():
        if b.reps and "idle_ns" in b.counters():
            out[key] = {c: b.median(c) for c in IDLE_COUNTERS if c in b.counters()}
    return out


def corrected_values(kernel, name):
    """Per run, the figure without the guest's idle time (figure - idle_ns),
    for runs that have both; the idle and tick medians beside."""
    vals, idle, ticks = [], [], []
    for r in kernel.runs:
        v, c = r.bench.get(name), r.idle.get(name)
        if isinstance(v, float) and c and c.get("idle_ns") is not None:
            vals.append(v - c["idle_ns"])
            idle.append(c["idle_ns"])
            if c.get("timer_ticks") is not None:
                ticks.append(c["timer_ticks"])
    return vals, idle, ticks


def spread(values):
    """(max - min) / median, or None with fewer than two values."""
    if len(values) < 2:
        return None
    med = statistics.median(values)
    return (max(values) - min(values)) / med if med else None


def is_key(name):
    return name.startswith(KEY_FAMILIES) or bool(KEY_POOL.match(name))


def figure_summary(name, per_run):
    """One kernel's figure over its runs: per_run holds a float or an error
    text per run. Returns dict(median, spread, n, flag, error)."""
    nums = [v for v in per_run if isinstance(v, float)]
    errs = [v for v in per_run if isinstance(v, str)]
    d = {"median": statistics.median(nums) if nums else None,
         "spread": spread(nums), "n": len(nums), "error": errs[0] if errs else None,
         "values": nums, "flag": ""}
    if errs and nums:
        d["flag"] = "ERROR in some runs"
    elif errs:
        d["flag"] = "skipped"
    elif d["spread"] is None:
        d["flag"] = "one run: spread unknown"
    elif d["spread"] > STABLE_SPREAD:
        d["flag"] = "UNSTABLE" if is_key(name) else "spread > 1%"
    return d


def fmt_num(x):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def fmt_pct(x):
    return "-" if x is None else f"{100 * x:.2f}%"


# The upstream release that brought each feature, for what the matrix's
# kernels cannot tell (every one has it, or none): from the kernel's own
# history (the merge that added the flag, request or action).
UPSTREAM_SINCE = {
    "sysemu": "2.6.14 (x86), 5.3 (arm64)",
    "ptrace_get_syscall_info": "5.3",
    "ptrace_set_syscall_info": "6.16",
    "ptrace_seize": "3.4",
    "ptrace_interrupt": "3.4",
    "ptrace_o_exitkill": "3.8",
    "seccomp_after_ptrace": "4.8",
    "seccomp_user_notif": "5.0",
    "seccomp_user_notif_sync_wakeup": "6.6",
    "seccomp_filter_flags.tsync": "3.17",
    "seccomp_filter_flags.log": "4.14",
    "seccomp_filter_flags.spec_allow": "4.17",
    "seccomp_filter_flags.new_listener": "5.0",
    "seccomp_filter_flags.tsync_esrch": "5.7",
    "seccomp_filter_flags.wait_killable_recv": "5.19",
    "syscall_user_dispatch": "5.11 (x86; generic-entry arches later)",
    "cpuid_faulting": "4.12 (x86, with CPU support)",
    "arch_get_cpuid": "4.12 (x86)",
    "pidfd_open": "5.3",
}


def kernel_version(k):
    """The upstream version of a booted kernel (6.1.192), from its
    package version, else the guest's release; None if neither."""
    v = k.row.get("version") or ""
    m = re.match(r"^(?:\d+:)?(\d+\.\d+(?:\.\d+)?)", v)
    if not m:
        m = re.match(r"^(\d+\.\d+(?:\.\d+)?)", k.info().get("kernel", ""))
    return m.group(1) if m else None


def version_key(v):
    return tuple(int(x) for x in v.split("."))


def first_seen(booted, key):
    """Per arch, the oldest kernel of the matrix from which on the probe
    says yes (every older one no): "x86_64 5.11.0", "x86_64 <= 5.10.262"
    when the oldest has it already, "x86_64 not seen"; "" for a feature
    that is not yes/no. Arches joined with "; "."""
    per = {}
    for k in booted:
        v, ver = feature_value(k.probe()[0], k.info(), key), kernel_version(k)
        if ver is None or not isinstance(v, bool):
            continue
        per.setdefault(k.arch, []).append((version_key(ver), ver, v))
    out = []
    for arch, vals in per.items():
        vals.sort()
        yes = [i for i, (_, _, v) in enumerate(vals) if v]
        if not yes:
            out.append(f"{arch} not seen")
        elif yes[0] == 0:
            out.append(f"{arch} <= {vals[0][1]}")
        elif all(v for _, _, v in vals[yes[0]:]):
            out.append(f"{arch} {vals[yes[0]][1]} (not in {vals[yes[0] - 1][1]})")
        else:
            out.append(f"{arch} {vals[yes[0]][1]}, not in every later one")
    return "; ".join(out)


def feature_value(probe, info, key):
    """A feature's value from the probe (dotted keys go into objects) or
    the guest's CPU flags."""
    if key == "cpu_flag_cpuid_fault":
        flags = info.get("cpu_features", "").split()
        if info.get("machine") and info.get("machine") != "x86_64":
            return None
        return "cpuid_fault" in flags
    if probe is None:
        return None
    cur = probe
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def show(v):
    if v is None:
        return "n/a"
    if v is True:
        return "yes"
    if v is False:
        return "no"
    return str(v)


def md_table(header, rows):
    return "\n".join(ptfmt.table(header, rows))


def tsv(header, rows):
    return "\n".join("\t".join(str(c) for c in r) for r in [header] + rows) + "\n"


class Kernel:
    def __init__(self, row, outdir):
        self.row = row
        self.arch = row["arch"]
        self.label = row["label"]
        self.status = row["status"]
        self.short = short_label(row)
        self.runs = []
        rawdir = os.path.join(outdir, "raw", self.label)
        n = int(row.get("runs") or 0)
        for i in range(1, n + 1):
            log = os.path.join(rawdir, f"run{i}.log")
            if os.path.exists(log):
                self.runs.append(Run(log))

    def probe(self):
        """The first run's probe, and the keys on which runs disagree."""
        probes = [r.probe for r in self.runs if r.probe is not None]
        return (probes[0] if probes else None), probes

    def info(self):
        return self.runs[0].info if self.runs else {}


def short_label(row):
    pkg = row["package"]
    name = pkg[len("linux-image-"):] if pkg.startswith("linux-image-") else os.path.basename(row.get("version") or pkg)
    return f"{row['arch']} {name}"


def read_manifest(path):
    try:
        with open(path, encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as e:
        raise ptcli.InputError(f"cannot read {path}: {e.strerror}")
    need = {"arch", "package", "version", "status", "label", "runs"}
    if not rows or not need <= set(rows[0]):
        raise ptcli.InputError(f"{path}: not a kernels manifest (wants columns {sorted(need)})")
    return rows


def unit_label(accel):
    return {"icount": "instructions (emulated)",
            "kvm": "ns (virtualized, real time)",
            "tcg": "TCG emulation ns (function only, not a figure)"}.get(accel, "ns")


def build_matrices(kernels):
    """The feature, mitigation and conformance matrices as (header, rows)."""
    booted = [k for k in kernels if k.runs and k.runs[0].info]
    head = ["feature", "first seen in", "upstream since"] + [k.short for k in booted]
    frows = []
    for key, title in FEATURES:
        row = [title, first_seen(booted, key) or "-", UPSTREAM_SINCE.get(key, "-")]
        for k in booted:
            first, probes = k.probe()
            vals = {json.dumps(feature_value(p, k.info(), key)) for p in probes} or {"null"}
            v = show(feature_value(first, k.info(), key))
            row.append(v if len(vals) <= 1 else f"{v} (runs differ)")
        frows.append(row)
    vulns = sorted({key[5:] for k in booted for key in k.info() if key.startswith("vuln_")})
    mrows = [[v] + [k.info().get("vuln_" + v, "n/a") for k in booted] for v in vulns]
    mrows.insert(0, ["clocksource"] + [k.info().get("clocksource", "n/a") for k in booted])
    mrows.insert(1, ["cmdline"] + [k.info().get("cmdline", "n/a") for k in booted])
    commands = []
    for k in booted:
        for r in k.runs:
            for c in r.runs:
                if c["command"] not in commands:
                    commands.append(c["command"])
    crows = []
    for c in commands:
        row = [c]
        for k in booted:
            cells = []
            for r in k.runs:
                m = [x for x in r.runs if x["command"] == c]
                if not m and r.bench_only():
                    # kernels.sh's later boots run no conformance group.
                    continue
                if not m:
                    cells.append("missing")
                    continue
                x = m[0]
                total = x["planned"] if x["planned"] >= 0 else x["ok"] + x["not_ok"]
                cell = f"{x['verdict']} {x['ok'] - x['skipped']}/{total}"
                if x["skipped"]:
                    cell += f" ({x['skipped']} skip)"
                if x["planned"] == 0:
                    cell = f"{x['verdict']}: group skipped (1..0)"
                elif total == 0:
                    cell = f"{x['verdict']} (exit {x['exit']})"
                cells.append(cell)
            if not cells:
                row.append("- (bench-only boots)")
                continue
            row.append(cells[0] if len(set(cells)) == 1 else " / ".join(cells))
        crows.append(row)
    return (head, frows), (["entry"] + [k.short for k in booted], mrows), \
        (["run"] + [k.short for k in booted], crows)


def build_bench(kernels):
    """Per arch: the benchmarks in first-seen order and per kernel the
    figure summaries; ratios to the first kernel of the arch with figures."""
    arches = {}
    for k in kernels:
        if not k.runs:
            continue
        names = []
        for r in k.runs:
            for n in r.bench:
                if n not in names:
                    names.append(n)
        if not names:
            continue
        a = arches.setdefault(k.arch, {"kernels": [], "names": []})
        a["kernels"].append(k)
        for n in names:
            if n not in a["names"]:
                a["names"].append(n)
        k.figures = {n: figure_summary(n, [r.bench[n] for r in k.runs if n in r.bench])
                     for n in names}
        # The same figures without the guest's idle time, where the runs
        # measured it (--ptbench_idle=1): the instructions alone.
        k.corrected = {}
        for n in names:
            vals, idle, ticks = corrected_values(k, n)
            if vals:
                d = figure_summary(n, vals)
                d["idle_ns"] = statistics.median(idle)
                d["ticks"] = statistics.median(ticks) if ticks else None
                k.corrected[n] = d
    for a in arches.values():
        base = a["kernels"][0]
        for k in a["kernels"]:
            for n, d in k.figures.items():
                b = base.figures.get(n, {}).get("median")
                d["ratio"] = d["median"] / b if d["median"] is not None and b else None
    return arches


def skipped_lines(kernel):
    """The skipped cases of the conformance runs, with their reasons, once each."""
    seen = []
    for r in kernel.runs:
        for cmd, lines in r.tap.items():
            for desc, reason in ptfmt.parse_tap("\n".join(lines)).skips:
                s = f"{cmd}: {desc}: {reason or '(no reason given)'}"
                if s not in seen:
                    seen.append(s)
    return seen


def cpuid_lines(kernel):
    out = []
    for cmd, lines in (kernel.runs[0].tap.items() if kernel.runs else []):
        if cmd.startswith("conf-cpuid"):
            out.append(f"{cmd}: " + "; ".join(l for l in lines if re.match(r"^((not )?ok\b|1\.\.)", l)))
    return out


def plot(outdir, arch, a, accel, notes):
    """Two plots per arch (PNG and SVG, log y): the key figures per kernel
    and their ratio to the first kernel."""
    pdir = os.path.join(outdir, "plots")
    os.makedirs(pdir, exist_ok=True)
    names = [n for n in PLOT_FIGURES if any(
        k.figures.get(n, {}).get("median") is not None for k in a["kernels"])]
    made = []
    for what, col in (("figures", "median"), ("ratio", "ratio")):
        if not names:
            break
        dat = os.path.join(pdir, f"kernels-{arch}-{what}.dat")
        lines = ["figure " + " ".join(f'"{k.short}"' for k in a["kernels"])]
        for n in names:
            vals = [k.figures.get(n, {}).get(col) for k in a["kernels"]]
            lines.append(f'"{n}" ' + " ".join("?" if v is None else f"{v:.6g}" for v in vals))
        ptcli.write_atomic(dat, "\n".join(lines) + "\n")
        base = os.path.join(pdir, f"kernels-{arch}-{what}")
        err = bench_report.gnuplot("kernels.gp", base, {
            "dat": dat, "ncols": len(a["kernels"]), "ratio": int(what == "ratio"),
            "ylab": unit_label(accel) if what == "figures" else f"ratio to {a['kernels'][0].short}",
            "ttl": (f"{arch}: key figures per kernel, {unit_label(accel)}" if what == "figures"
                    else f"{arch}: ratio to the first kernel (1 = same path length)")})
        if err:
            notes.append(f"{os.path.basename(base)}: {err}")
            continue
        made.append(os.path.relpath(base + ".png", outdir))
    return made


def judged(k):
    """The figures the 1% bar judges: idle-corrected where the runs
    measured idle time (instructions alone), else as measured."""
    return {n: k.corrected.get(n, d) for n, d in k.figures.items()}


IDLE_SHOWN = 0.001  # a figure whose idle time is above 0.1% of it is listed
# Debian's kernels tick at HZ=250 (amd64 and arm64): the idle time of a
# wait for the next tick is about one of these.
TICK_NS = 4_000_000


def idle_section(arches):
    """Per kernel, the figures whose loop left the CPU idle: as measured,
    the idle time and timer ticks per iteration, and without the idle."""
    md, any_idle = [], False
    rows = []
    for a in arches.values():
        for k in a["kernels"]:
            for n in a["names"]:
                c, d = k.corrected.get(n), k.figures.get(n)
                if not c or not d or d["median"] is None or c["median"] is None:
                    continue
                any_idle = True
                if c["idle_ns"] <= IDLE_SHOWN * d["median"]:
                    continue
                rows.append([k.short, n, fmt_num(d["median"]), fmt_pct(d["spread"]),
                             fmt_num(c["idle_ns"]), f"{c['idle_ns'] / TICK_NS:.2f}",
                             "-" if c["ticks"] is None else f"{c['ticks']:.3f}",
                             fmt_num(c["median"]), fmt_pct(c["spread"]),
                             c["flag"] or "ok"])
    if not any_idle:
        return md
    md += ["## Idle time inside the measured loops", "",
           "With `-icount sleep=off` an idle guest's clock jumps to its next timer, so a loop "
           "that waits counts the wait. ptbench-bench `--ptbench_idle=1` reads the guest's idle "
           "time (tick_sched idle_sleeptime in /proc/timer_list, ns) and the local timer "
           "interrupts (/proc/interrupts) before and after each loop, outside its timing. "
           "Listed: figures whose idle time per iteration exceeds "
           f"{IDLE_SHOWN:.1%} of them; the 1% bar judges the figure without idle.", ""]
    if rows:
        md.append(md_table(["kernel", "benchmark", "measured", "spread", "idle per iter",
                            "ticks waited (idle / 4 ms)", "timer interrupts per iter",
                            "without idle", "spread", "flag"], rows))
    else:
        md.append("No figure waited: every loop's idle time is below that share.")
    md.append("")
    return md


# The measured causes of figures that stay UNSTABLE: each line names a
# figure (regex), the kernels (regex on the report's short label), the
# cause and the committed A/B that measured it.
CAUSES_TSV = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "results", "kernels", "determinism", "causes.tsv")
MAX_UNSTABLE = 2  # per kernel, each with a measured cause (issue 15's bar)


def read_causes(path=None):
    """[(figure regex, kernel regex, cause, evidence)]; [] without the file."""
    path = path or CAUSES_TSV
    try:
        with open(path, encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError:
        return []
    out = []
    for r in rows:
        try:
            out.append((re.compile(r["figure"]), re.compile(r["kernel"]), r["cause"],
                        r.get("evidence", "")))
        except (KeyError, TypeError, re.error) as e:
            raise ptcli.InputError(f"{path}: bad line {r}: {e}")
    return out


def cause_of(causes, kernel_short, name):
    """The measured cause of an UNSTABLE figure, or None."""
    for fig, ker, cause, evidence in causes:
        if fig.fullmatch(name) and ker.search(kernel_short):
            return f"{cause} ({evidence})" if evidence else cause
    return None


def stability_section(arches, causes):
    """How repeatable the key figures were, per kernel (idle-corrected
    where measured): each figure's spread over the boots, whether it holds
    to 1%, and for each that does not its measured cause."""
    rows, fig_rows = [], []
    for a in arches.values():
        for k in a["kernels"]:
            keys = [(n, d) for n, d in judged(k).items() if is_key(n) and d["median"] is not None]
            spreads = [d["spread"] for _, d in keys if d["spread"] is not None]
            stable = sum(1 for x in spreads if x <= STABLE_SPREAD)
            bad = [(n, d) for n, d in keys if d["spread"] is not None and d["spread"] > STABLE_SPREAD]
            explained = [n for n, _ in bad if cause_of(causes, k.short, n)]
            bar = ("holds" if not bad else
                   "holds (flagged with causes)" if len(bad) <= MAX_UNSTABLE and len(explained) == len(bad)
                   else "FAILS")
            if len(spreads) < len(keys):
                bar += "; some figures from one run only"
            rows.append([k.short, sum(1 for r in k.runs if r.bench), len(keys), stable, len(bad),
                         len(explained),
                         fmt_pct(max(spreads)) if spreads else "-",
                         fmt_pct(statistics.median(spreads)) if spreads else "-", bar])
            for n, d in keys:
                holds = d["spread"] is not None and d["spread"] <= STABLE_SPREAD
                fig_rows.append([k.short, n, d["n"], fmt_num(d["median"]), fmt_pct(d["spread"]),
                                 "yes" if holds else "no" if d["spread"] is not None else "unknown",
                                 "" if holds else (cause_of(causes, k.short, n) or "unmeasured")])
    if not rows:
        return []
    return [f"## Run-to-run repeatability of the key figures ({KEY_TEXT})", "",
            f"Judged without the guest's idle time where it was measured. The bar: every key "
            f"figure within {STABLE_SPREAD:.0%} over the boots, at most {MAX_UNSTABLE} per kernel "
            f"flagged UNSTABLE and only with a measured cause "
            f"(results/kernels/determinism/causes.tsv, each line naming its committed A/B).", "",
            md_table(["kernel", "boots with figures", "key figures", f"within {STABLE_SPREAD:.0%}",
                      "UNSTABLE", "with a measured cause", "max spread", "median spread", "bar"],
                     rows), "",
            "<details><summary>Every key figure</summary>", "",
            md_table(["kernel", "benchmark", "runs", "median", "spread",
                      f"within {STABLE_SPREAD:.0%}", "cause"], fig_rows), "", "</details>", ""]


def kvm_section(outdir):
    """The --accel kvm attempt kept in DIR/kvm/ (a run of its own)."""
    path = os.path.join(outdir, "kvm", "manifest.tsv")
    if not os.path.isfile(path):
        return []
    rows = read_manifest(path)
    info = read_kv(os.path.join(outdir, "kvm", "run.info"))
    return ["## The --accel kvm attempt", "",
            f"A run of its own ([kvm/report.md](kvm/report.md), `{info.get('command', '?')}`, "
            f"{int(info.get('total_ms', '0') or 0) // 1000} s): /dev/kvm on this host is a "
            "software hypervisor; a kernel that does not boot under it is reported and the "
            "others still run.", "",
            md_table(["kernel", "version", "accel", "status", "note"],
                     [[short_label(r), r["version"], r.get("accel", "?"), r["status"],
                       r.get("note", "")] for r in rows]), ""]


# The families compared with an earlier run kept in DIR/previous/.
PREVIOUS_FAMILIES = ("switch/", "mechanism/")


def previous_section(outdir, kernels):
    """The switch/ and mechanism/ figures against an earlier run of the
    same kernels whose kernels.json and run.info are kept in DIR/previous/
    (what changed between the two commits: DIR/previous/README.md).
    Judged like ab.sh --icount: threshold max(1%, 3 x spread)."""
    path = os.path.join(outdir, "previous", "kernels.json")
    if not os.path.isfile(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            before = {k["label"]: k.get("figures", {}) for k in json.load(f)["kernels"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ptcli.InputError(f"{path}: not a kernels.json ({e})")
    info = read_kv(os.path.join(outdir, "previous", "run.info"))
    rows, trows = [], []
    for k in kernels:
        old = before.get(k.label, {})
        for n, d in sorted(getattr(k, "figures", {}).items(),
                           key=lambda x: (not x[0].startswith("switch/"), x[0])):
            o = old.get(n)
            if not n.startswith(PREVIOUS_FAMILIES) or not o or d["median"] is None \
                    or o.get("median") is None:
                continue
            (r,), _ = icount_judge({n: [float(v) for v in o.get("values") or []]},
                                   {n: d["values"]}, STABLE_SPREAD, 3.0)
            delta = d["median"] - o["median"]
            verdict = r["verdict"] + (f" ({r['why']})" if r["why"] else "")
            rows.append([k.short, n, fmt_num(o["median"]), fmt_num(d["median"]),
                         f"{delta:+,.0f}", f"{100 * (d['median'] / o['median'] - 1):+.2f}%",
                         fmt_pct(r["threshold"]), verdict])
            trows.append([k.label, n, f"{o['median']:.1f}", f"{d['median']:.1f}",
                          f"{delta:.1f}", fmt_pct(r["threshold"]), r["verdict"]])
    if not rows:
        return []
    ptcli.write_atomic(os.path.join(outdir, "previous.tsv"), tsv(
        ["label", "benchmark", "before", "now", "now - before", "threshold", "verdict"], trows))
    return ["## Against the earlier run (previous/)", "",
            f"The same kernels at commit {info.get('commit', '?')} (started "
            f"{info.get('started', '?')}; its kernels.json and run.info are kept in previous/, "
            "what changed in between: [previous/README.md](previous/README.md)). Median "
            "before and now; the verdict as `ab.sh --icount` gives it: threshold = "
            f"max({STABLE_SPREAD:.0%}, 3 x the larger run-to-run spread), INCONCLUSIVE above "
            f"{MAX_THRESHOLD:.0%}. Also in previous.tsv.", "",
            md_table(["kernel", "benchmark", "before", "now", "now - before", "change",
                      "threshold", "verdict"], rows), ""]


# conf-syscall's cases of the syscall ABI (the event's abi field).
ABI_CASES = ("native_syscall_is_native", "x32_bit_is_reported", "int80_is_ia32",
             "sysenter_is_ia32", "compat_mode_int80_is_ia32")


def abi_section(kernels):
    """What each ABI case of conf-syscall did per kernel, over every run
    and both modes: ok, SKIP with its reason, or not ok."""
    booted = [k for k in kernels if k.runs]
    rows = []
    for case in ABI_CASES:
        row, seen = [case], False
        for k in booted:
            results = []
            for r in k.runs:
                for cmd, lines in r.tap.items():
                    if not cmd.startswith("conf-syscall"):
                        continue
                    for l in lines:
                        m = re.match(r"^((?:not )?ok)\s+\d+\s+-\s+\S*/" + case + r"\b(.*)$", l)
                        if m:
                            skip = re.search(r"#\s*skip\s*(.*)", m.group(2), re.I)
                            results.append(f"SKIP: {skip.group(1)}" if skip else m.group(1))
            seen = seen or bool(results)
            cell = " / ".join(dict.fromkeys(results)) or "not run"
            row.append(cell + (f" (x{len(results)})" if results else ""))
        if seen:
            rows.append(row)
    if not rows:
        return []
    return ["### The syscall ABI cases (conf-syscall)", "",
            "Each case over every boot and both switch modes (xN: the number of results "
            "seen, boots x modes): ok, SKIP with its reason, or not ok; several outcomes "
            "are separated by /.", "",
            md_table(["case"] + [k.short for k in booted], rows), ""]


def boot_options_line(runinfo, kernels):
    """What every boot added to run.sh's fixed kernel command line and qemu
    arguments (kernels.sh --append, --qemu-opt), with the guest's own
    /proc/cmdline of the first boot: a report says what ran."""
    append = runinfo.get("append", "")
    qemu = runinfo.get("qemu_opts", "")
    cmdline = next((k.info().get("guest_cmdline") for k in kernels
                    if k.info().get("guest_cmdline")), None)
    text = (f"Boot options: kernel command line added `{append}`" if append
            else "Boot options: no kernel arguments added")
    text += f", qemu options added `{qemu}`" if qemu else ", no qemu options added"
    if cmdline:
        text += f"; the guest saw `{cmdline}`"
    return text + "."


def render(args):
    outdir = args.dir
    rows = read_manifest(os.path.join(outdir, "manifest.tsv"))
    runinfo = read_kv(os.path.join(outdir, "run.info"))
    accel = runinfo.get("accel", "icount")
    unit = unit_label(accel)
    kernels = [Kernel(r, outdir) for r in rows]
    (fh, fr), (mh, mr), (ch, cr) = build_matrices(kernels)
    arches = build_bench(kernels)
    notes = []
    causes = read_causes()

    ptcli.write_atomic(os.path.join(outdir, "features.tsv"), tsv(fh, fr))
    ptcli.write_atomic(os.path.join(outdir, "mitigations.tsv"), tsv(mh, mr))
    ptcli.write_atomic(os.path.join(outdir, "conformance.tsv"), tsv(ch, cr))
    brows, doc = [], {"accel": accel, "unit": unit, "run": runinfo, "kernels": []}
    for k in kernels:
        doc["kernels"].append({
            "arch": k.arch, "label": k.label, "package": k.row["package"],
            "version": k.row["version"], "status": k.status, "note": k.row.get("note", ""),
            "runs": len(k.runs), "probe": k.probe()[0],
            "info": k.info(),
            "figures": {n: {x: d[x] for x in ("median", "spread", "n", "flag", "error",
                                               "ratio", "values")}
                        for n, d in getattr(k, "figures", {}).items()},
            # The figures without the guest's idle time (--ptbench_idle=1).
            "corrected": {n: {x: d[x] for x in ("median", "spread", "n", "flag", "values",
                                                 "idle_ns", "ticks")}
                          for n, d in getattr(k, "corrected", {}).items()}})
    for arch, a in arches.items():
        for n in a["names"]:
            for k in a["kernels"]:
                d = k.figures.get(n)
                if d is None:
                    continue
                brows.append([arch, n, k.short, fmt_num(d["median"]), fmt_pct(d["spread"]),
                              "-" if d.get("ratio") is None else f"{d['ratio']:.3f}",
                              d["flag"], d["error"] or ""])
    ptcli.write_atomic(os.path.join(outdir, "bench.tsv"), tsv(
        ["arch", "benchmark", "kernel", "median " + unit, "spread", "ratio", "flag", "error"],
        brows))
    ptcli.write_atomic(os.path.join(outdir, "kernels.json"),
                       json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n")

    md = [f"# Kernel matrix: {len(kernels)} kernel(s), accel {accel}", ""]
    total = int(runinfo.get("total_ms", "0") or 0)
    md.append(f"Host {runinfo.get('host', '?')} ({runinfo.get('host_kernel', '?')}), "
              f"commit {runinfo.get('commit', '?')}, started {runinfo.get('started', '?')} UTC; "
              f"{runinfo.get('boots', '?')} boots, {runinfo.get('runs', '?')} per kernel, "
              f"took {total // 60000} min {total // 1000 % 60} s "
              f"(fetch, build and boots; the report after).")
    md.append(f"qemu: {runinfo.get('qemu_x86_64', '?')}; {runinfo.get('qemu_aarch64', '?')}.")
    md.append(boot_options_line(runinfo, kernels))
    if runinfo.get("note"):
        md.append(f"Note: {runinfo['note']}")
    md.append("")
    md.append("Reproduce: `" + runinfo.get("command", "scripts/ptbench kernels --manifest manifest.tsv")
              + "` (exact package versions from [manifest.tsv](manifest.tsv); a version the "
              "archive no longer has and the cache lacks is reported GONE).")
    md.append("")
    if accel == "icount":
        md.append("Every figure is an **instruction path length**: qemu TCG with "
                  "`-icount shift=0,sleep=off` advances the guest clock one nanosecond per guest "
                  "instruction, so Google Benchmark's ns are guest instructions (emulated CPU "
                  "`-cpu max`), not time. Mitigations and clocksource change path lengths: "
                  "they are listed per kernel below. One exception: guest idle time counts. "
                  "With `sleep=off` an idle guest's clock jumps to its next timer event, so a "
                  "figure that waits for a timer includes the wait (Debian's kernels tick "
                  "every 4 ms, CONFIG_HZ=250: a figure near a multiple of 4,000,000 is "
                  "most likely such a wait, not instructions).")
    elif accel == "tcg":
        md.append("accel tcg: function only. The numbers are emulation time and mean nothing.")
    else:
        md.append("accel kvm: real time in a virtual machine.")
    md.append("")
    md.append("## Kernels")
    md.append("")
    md.append(md_table(
        ["kernel", "package", "version", "status", "runs", "guest kernel", "sha256 (.deb)", "note"],
        [[k.short, k.row["package"], k.row["version"], k.status, len(k.runs),
          k.info().get("kernel", "-"), (k.row.get("sha256") or "-")[:16],
          k.row.get("note", "")] for k in kernels]))
    md.append("")
    bad = [k for k in kernels if k.status != "ok"]
    if bad:
        md.append("Not ok: " + "; ".join(
            f"**{k.short}**: {k.status}" + (f" ({k.row.get('note')})" if k.row.get("note") else "")
            + (f", console log `raw/{k.label}/run1.log`" if k.runs else "") for k in bad)
                  + (". The other kernels ran to the end." if len(bad) < len(kernels) else "."))
        md.append("")
    md.append("## Features (ptbench-probe in the guest)")
    md.append("")
    md.append(md_table(fh, fr))
    md.append("")
    md.append("## Conformance (passed/planned, both switch modes)")
    md.append("")
    md.append(md_table(ch, cr))
    md.append("")
    md.append("### The cpuid group")
    md.append("")
    md.append("It cannot run on this host (no CPUID faulting: `ARCH_SET_CPUID` fails with "
              "ENODEV). In the guest it runs only where the probe finds faulting; what it "
              "did per kernel:")
    md.append("")
    for k in kernels:
        if not k.runs:
            continue
        first = k.probe()[0] or {}
        md.append(f"- {k.short}: probe cpuid_faulting={show(first.get('cpuid_faulting'))}, "
                  f"CPU flag cpuid_fault={show(feature_value(first, k.info(), 'cpu_flag_cpuid_fault'))}; "
                  + (" ".join(f"`{l}`" for l in cpuid_lines(k)) or "no cpuid run"))
    md.append("")
    md += abi_section(kernels)
    md.append("### Skipped conformance cases and why")
    md.append("")
    for k in kernels:
        lines = skipped_lines(k)
        if lines:
            md.append(f"- {k.short}: " + "; ".join(f"`{l}`" for l in lines))
    md.append("")
    md.append("## Benchmarks")
    md.append("")
    md.append(f"Median over the runs of each kernel in {unit}; spread = (max - min) / median "
              f"over the runs; ratio to the first kernel of the same arch (instruction counts "
              f"of two ISAs do not compare). Flag UNSTABLE: a {KEY_TEXT} "
              f"figure whose spread exceeds {STABLE_SPREAD:.0%}; the other families say "
              f"'spread > 1%'. With one vCPU the cross-CPU floors and pool threads:N > 1 skip "
              f"(the reason is in the table).")
    md.append("")
    for arch, a in arches.items():
        ks = a["kernels"]
        md.append(f"### {arch}")
        md.append("")
        head = ["benchmark"]
        for i, k in enumerate(ks):
            head += [k.short, "spread"] + (["ratio"] if i else [])
        rows2, unstable = [], []
        for n in a["names"]:
            row = [n]
            for i, k in enumerate(ks):
                d = k.figures.get(n)
                if d is None:
                    row += ["-", "-"] + (["-"] if i else [])
                    continue
                # The flag is the bar's: without the idle time where the
                # runs measured it and it mattered (the idle section).
                c = k.corrected.get(n)
                waited = c and c["median"] is not None and d["median"] is not None and \
                    c["idle_ns"] > IDLE_SHOWN * d["median"]
                flag = c["flag"] if c else d["flag"]
                if d["median"] is None:
                    cell = f"skip: {d['error']}"
                else:
                    cell = fmt_num(d["median"])
                    if waited:
                        cell += f" (without idle {fmt_num(c['median'])})"
                    if flag and flag != "skipped":
                        cell += f" **{flag}**" if flag == "UNSTABLE" else f" ({flag})"
                    if flag == "UNSTABLE":
                        why = cause_of(causes, k.short, n)
                        unstable.append(f"{k.short} {n} ({fmt_pct((c or d)['spread'])}; cause: "
                                        f"{why or 'unmeasured'})")
                row += [cell, fmt_pct(d["spread"])]
                if i:
                    row.append("-" if d.get("ratio") is None else f"{d['ratio']:.3f}")
            rows2.append(row)
        md.append(md_table(head, rows2))
        md.append("")
        md.append(f"{len(unstable)} key figure(s) of {arch} vary by more than "
                  f"{STABLE_SPREAD:.0%} between runs" + (": " + "; ".join(unstable) if unstable else "") + ".")
        md.append("")
        for png in plot(outdir, arch, a, accel, notes):
            md.append(f"![{png}]({png})")
            md.append("")
    md += idle_section(arches)
    md += stability_section(arches, read_causes())
    md += kvm_section(outdir)
    md += previous_section(outdir, kernels)
    md.append("## Mitigations and clocksource (they change path lengths)")
    md.append("")
    md.append(md_table(mh, mr))
    md.append("")
    if notes:
        md.append("Notes: " + "; ".join(notes))
        md.append("")
    md.append("Files: features.tsv, conformance.tsv, bench.tsv, mitigations.tsv, kernels.json, "
              "manifest.tsv, run.info; raw/LABEL/runN.log is each boot's console (with run.sh's "
              ".info, .runs.tsv and .bench.json beside it).")
    ptcli.write_atomic(os.path.join(outdir, "report.md"), "\n".join(md) + "\n")
    print(os.path.join(outdir, "report.md"))
    return 0


def index(args):
    root = args.root
    dirs = sorted(d for d in os.listdir(root)
                  if os.path.isfile(os.path.join(root, d, "report.md")))
    if not dirs:
        raise ptcli.InputError(f"no report.md under {root}")
    newest = dirs[-1]
    with open(os.path.join(root, newest, "report.md"), encoding="utf-8") as f:
        text = f.read()
    # Links of the report are relative to its folder.
    text = re.sub(r"\]\((?!https?:)([^)]+)\)", lambda m: f"]({newest}/{m.group(1)})", text)
    head = [f"# Kernel matrices (scripts/ptbench kernels)", "",
            "Runs: " + ", ".join(f"[{d}]({d}/report.md)" for d in reversed(dirs))
            + f". The newest, {newest}, follows.", "", ""]
    ptcli.write_atomic(os.path.join(root, "README.md"), "\n".join(head) + text)
    return 0


def load_side(paths, filt):
    """name -> list of per-run figures (float) or error texts, over runs."""
    if not paths:
        raise ptcli.InputError("a side has no benchmark JSON")
    side = {}
    for p in paths:
        for n, v in bench_figures(p).items():
            if filt and not filt.search(n):
                continue
            side.setdefault(n, []).append(v)
    if not side:
        raise ptcli.InputError(f"no benchmark matches the filter in {paths[0]}")
    return side


def icount_judge(a, b, min_effect, k):
    """The verdict per benchmark of B against A (dicts of name -> per-run
    figures) and the overall exit status."""
    rows = []
    for n in sorted(set(a) | set(b)):
        ra, rb = a.get(n, []), b.get(n, [])
        na = [v for v in ra if isinstance(v, float)]
        nb = [v for v in rb if isinstance(v, float)]
        row = {"benchmark": n, "a": statistics.median(na) if na else None,
               "b": statistics.median(nb) if nb else None,
               "spread": None, "threshold": None, "change": None, "verdict": "INCONCLUSIVE",
               "why": ""}
        if len(na) != len(ra) or len(nb) != len(rb) or not na or not nb:
            row["why"] = "missing or errored on a side"
            rows.append(row)
            continue
        row["change"] = row["b"] / row["a"] - 1 if row["a"] else None
        if len(na) < 2 or len(nb) < 2:
            row["why"] = "fewer than two runs on a side: no spread"
            rows.append(row)
            continue
        row["spread"] = max(spread(na), spread(nb))
        row["threshold"] = max(min_effect, k * row["spread"])
        if row["change"] is None:
            row["why"] = "A is zero"
        elif row["threshold"] > MAX_THRESHOLD:
            row["why"] = f"threshold {row['threshold']:.1%} > {MAX_THRESHOLD:.0%}: too unstable"
        elif row["change"] > row["threshold"]:
            row["verdict"] = "REGRESSION"
        elif row["change"] < -row["threshold"]:
            row["verdict"] = "IMPROVEMENT"
        else:
            row["verdict"] = "PASS"
        rows.append(row)
    verdicts = {r["verdict"] for r in rows}
    status = 1 if "REGRESSION" in verdicts else 3 if "INCONCLUSIVE" in verdicts else 0
    return rows, status


def icount_compare(args):
    if args.min_effect < 0 or args.k <= 0:
        raise ptcli.InputError("--min-effect wants >= 0 and --k > 0")
    try:
        filt = re.compile(args.filter) if args.filter else None
    except re.error as e:
        raise ptcli.InputError(f"bad --filter: {e}")
    if args.check_options:
        return 0
    a, b = load_side(args.a, filt), load_side(args.b, filt)
    rows, status = icount_judge(a, b, args.min_effect / 100, args.k)
    verdict = {0: "PASS", 1: "REGRESSION", 3: "INCONCLUSIVE"}[status]
    head = ["benchmark", "A instr", "B instr", "change", "spread", "threshold", "verdict"]
    table = [[r["benchmark"], fmt_num(r["a"]), fmt_num(r["b"]),
              "-" if r["change"] is None else f"{100 * r['change']:+.2f}%",
              fmt_pct(r["spread"]), fmt_pct(r["threshold"]),
              r["verdict"] + (f" ({r['why']})" if r["why"] else "")] for r in rows]
    md = [f"# Instruction-path A/B (icount): {verdict}", "",
          f"A: {len(args.a)} run(s), B: {len(args.b)} run(s); figures are guest instructions "
          f"(emulated); threshold = max({args.min_effect}%, {args.k} x spread), spread = the "
          f"larger (max - min) / median of the two sides.", "", md_table(head, table), ""]
    text = "\n".join(md)
    if args.out_md:
        ptcli.write_atomic(args.out_md, text)
    if args.out_json:
        ptcli.write_atomic(args.out_json, json.dumps(
            {"verdict": verdict, "status": status, "min_effect_pct": args.min_effect,
             "k": args.k, "rows": rows}, indent=1) + "\n")
    print(text)
    return status


def load_run_dir(outdir):
    """The kernels of a kernels.sh run folder, with their figures."""
    rows = read_manifest(os.path.join(outdir, "manifest.tsv"))
    kernels = [Kernel(r, outdir) for r in rows]
    build_bench(kernels)
    return kernels, read_kv(os.path.join(outdir, "run.info"))


def spread_ab(args):
    """A boot option's A/B: per kernel and key figure, the run-to-run
    spread with the option off and on (each a kernels.sh run of the same
    kernels), idle-corrected where measured."""
    off, off_info = load_run_dir(args.off)
    on, on_info = load_run_dir(args.on)
    rows, md_rows = [], []
    for ko in off:
        kn = next((k for k in on if k.label == ko.label), None)
        if kn is None or not hasattr(ko, "figures") or not hasattr(kn, "figures"):
            continue
        jo, jn = judged(ko), judged(kn)
        for n in sorted(set(jo) | set(jn)):
            a, b = jo.get(n), jn.get(n)
            if not is_key(n) or not a or not b or a["median"] is None or b["median"] is None:
                continue
            row = [ko.short, n, len(a["values"]), fmt_pct(a["spread"]), len(b["values"]),
                   fmt_pct(b["spread"]), fmt_num(a["median"]), fmt_num(b["median"])]
            rows.append(row)
            bold = [f"**{c}**" if i in (3, 5) and c != "-" and float(c.rstrip("%")) > 100 * STABLE_SPREAD
                    else c for i, c in enumerate(row)]
            md_rows.append(bold)
    head = ["kernel", "benchmark", "runs off", "spread off", "runs on", "spread on",
            "median off", "median on"]
    def over(side):
        return sum(1 for r in rows if r[side] != "-" and float(r[side].rstrip("%")) > 100 * STABLE_SPREAD)
    def maxs(side):
        vals = [float(r[side].rstrip("%")) for r in rows if r[side] != "-"]
        return f"{max(vals):.2f}%" if vals else "-"
    md = [f"# A/B: {args.title}", "",
          f"Off: `{os.path.relpath(args.off, os.path.dirname(args.out))}` "
          f"(append `{off_info.get('append', '')}`, qemu `{off_info.get('qemu_opts', '')}`, "
          f"commit {off_info.get('commit', '?')}); on: "
          f"`{os.path.relpath(args.on, os.path.dirname(args.out))}` (append "
          f"`{on_info.get('append', '')}`, qemu `{on_info.get('qemu_opts', '')}`, "
          f"commit {on_info.get('commit', '?')}).", "",
          f"Key figures ({KEY_TEXT}) of each kernel, spread = (max - min) / median over the "
          f"boots, without the guest's idle time where measured; bold: above "
          f"{STABLE_SPREAD:.0%}. Above {STABLE_SPREAD:.0%}: {over(3)} off, {over(5)} on, "
          f"of {len(rows)}; max spread {maxs(3)} off, {maxs(5)} on.", "",
          md_table(head, md_rows), ""]
    ptcli.write_atomic(args.out, "\n".join(md))
    ptcli.write_atomic(os.path.splitext(args.out)[0] + ".tsv", tsv(head, rows))
    print(args.out)
    return 0


def main(argv):
    ap = ptcli.Parser(prog=PROG, description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("render")
    p.add_argument("dir")
    p.set_defaults(func=render)
    p = sub.add_parser("index")
    p.add_argument("root")
    p.set_defaults(func=index)
    p = sub.add_parser("icount-compare")
    p.add_argument("--a", nargs="+", required=True, help="A's benchmark JSONs, one per run")
    p.add_argument("--b", nargs="+", required=True, help="B's benchmark JSONs, one per run")
    p.add_argument("--filter", default="")
    p.add_argument("--min-effect", type=float, default=1.0, help="percent (default 1)")
    p.add_argument("--k", type=float, default=3.0, help="spread multiplier (default 3)")
    p.add_argument("--out-md")
    p.add_argument("--out-json")
    p.add_argument("--check-options", action="store_true",
                   help="check the options only, read no file (ab.sh --icount, before its builds)")
    p.set_defaults(func=icount_compare)
    p = sub.add_parser("spread-ab")
    p.add_argument("--off", required=True, help="the kernels.sh run folder without the option")
    p.add_argument("--on", required=True, help="the one with it")
    p.add_argument("--title", required=True)
    p.add_argument("--out", required=True, help="the Markdown table (a .tsv beside it)")
    p.set_defaults(func=spread_ab)
    return ptcli.run(PROG, ap, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
