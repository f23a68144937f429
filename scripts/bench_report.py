#!/usr/bin/python3
"""Summarize a ptbench-bench JSON (Google Benchmark 1.7.1): summary.md,
checks.json and plots.

Usage:
  bench_report.py render --json bench.json [--samples DIR] --outdir DIR
                         [--note TEXT] [--no-plots] [--host H] [--kernel K]
                         [--commit C]

Writes, in --outdir (each file via a tmp.* name, then renamed):
  summary.md   every benchmark (median real time over the repetitions, cv,
               overhead over native, label or error), the thread-pool
               efficiency table, latency percentiles, the self-checks, plots
  checks.json  the self-checks for machines
  plots/       gnuplot data files (*.dat) and images (*.png, *.svg) drawn by
               scripts/plot/*.gp

The JSON may be missing (the benchmark did not run: --note says why) or cut
short (the benchmark died: the complete entries are used, the summary says
so). Benchmarks that are absent make the figures and checks that need them
"n/a (missing: NAME)".

Self-checks, like the kernel's seccomp_benchmark: expectations between
figures of this one run, each with a tolerance. A check whose inputs vary by
more than NOISE_CV (coefficient of variation over the repetitions) says
"NOISY, rerun", unless its verdict holds with every input moved DECISIVE_K
cv against it (a 5x gap is not made doubtful by 15% noise). A spin figure
(SPIN_FIGURES) whose spin_share is under SPIN_SHARE_MIN makes its checks
NOISY; a check whose figure skipped on this machine (the benchmark says
why: fewer than 2 CPUs) is SKIP.

Exit status: 0 when the files were written (whatever the checks say), 2 on
an unreadable input (one line on stderr). Python 3 standard library only.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys

import ptcli  # noqa: E402  (shared with the other ptbench tools)
import ptfmt  # noqa: E402  (the one reader per format)

PROG = "bench_report.py"
PLOT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot")

NOISE_CV = 0.10     # inputs noisier than this make a check NOISY ...
DECISIVE_K = 2.0    # ... unless it holds with inputs moved K*cv against it
POOL_EFFICIENCY_BAR = 0.85

# The systrap backend (issue 12, section 3). A spin figure is trusted only
# when nearly every hand-off ended within the spin: one that fell back to
# the futex measures the futex (a briefly busy vCPU), not the spin.
SPIN_SHARE_MIN = 0.99
SPIN_FIGURES = ("switch/systrap_spin", "mechanism/systrap_spin", "mechanism/patched_call")
SYSTRAP_MARGIN_NS = 1000.0      # the "+ 1.0 us"
SYSTRAP_SPIN_OVER_FAITHFUL_BAR = 0.30

KNOWN_COUNTERS = ("over_native_x", "over_native_ns")

# The app family (bench/app.c): real programs natively and through
# ptbench-exec. Bars and tolerances of issue 13, section 4.
APP_SYSCALL_TOL = 0.01          # --stats count within 1% of strace -c -f ...
APP_EXACT = ("startup",)        # ... and exact for these workloads
APP_GZIP_LEAN_BAR = 1.05        # app/gzip/ptrace_lean <= 1.05 x native
APP_MODEL_LO, APP_MODEL_HI = 0.80, 1.25   # per-syscall overhead / model
APP_MODEL_WORKLOADS = ("find", "ls_lR")
APP_MIGRATIONS_BAR = 0.01       # migrations per switch
# What bench/app.c leaves out of the compared counts (APP_UNCOMPARED,
# APP_RETRIED there), for the text.
APP_UNCOMPARED_TEXT = ("futex, the time calls the vDSO serves natively, execve, exit, "
                       "exit_group, rseq, and the clone3 calls the sentry refuses (glibc "
                       "retries them as clone)")


InputError = ptcli.InputError


def warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


# ------------------------------------------------------------------ loading

# Google Benchmark JSON: one reader for every tool (scripts/ptfmt.py).
UNIT_NS = ptfmt.UNIT_NS
RUN_KEYS = ptfmt.RUN_KEYS
load_json = ptfmt.load_json
num = ptfmt.num
Results = ptfmt.Results


# ------------------------------------------------------------------ formatting

def fmt_ns(ns):
    if ns is None or not math.isfinite(ns):
        return "n/a"
    a = abs(ns)
    if a < 100:
        return f"{ns:.1f} ns"
    if a < 1e3:
        return f"{ns:.0f} ns"
    if a < 1e6:
        return f"{ns / 1e3:.3g} us"
    if a < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def fmt_num(v, digits=4):
    """1234.5 -> '1,234'; 12.345 -> '12.35' (digits significant below 1000)."""
    if v is None or not math.isfinite(v):
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def fmt_rate(v):
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{v:,.0f}"


def fmt_pct(v):
    return "n/a" if v is None or not math.isfinite(v) else f"{100 * v:.1f}%"


table = ptfmt.table


# ------------------------------------------------------------------ checks

class Fig:
    """One figure of the run: a median over repetitions and its cv."""

    def __init__(self, name, value, cv, reps, kind):
        self.name, self.value, self.cv, self.reps, self.kind = name, value, cv, reps, kind

    def show(self):
        v = fmt_ns(self.value) if self.kind == "ns" else f"{fmt_rate(self.value)}/s"
        return f"{self.name} {v}"

    def as_json(self):
        return {"name": self.name, "value": self.value,
                "unit": "ns" if self.kind == "ns" else "per_s",
                "cv": self.cv, "repetitions": self.reps}


class Missing:
    def __init__(self, text):
        self.text = text


def figure(res, name, base=None, metric="real_time", **params):
    """Fig for benchmark base (+params) and metric, or Missing."""
    b = res.find(base or name, **params)
    return figure_of(b, name, metric)


def figure_of(b, name, metric="real_time"):
    if b is None:
        return Missing(name)
    if b.skipped:
        return Missing(f"{name} (skipped: {b.error})")
    v = b.median(metric)
    if v is None:
        what = "no time" if metric == "real_time" else f"no counter {metric}"
        return Missing(f"{name} ({what})")
    return Fig(name, v, b.cv(metric), b.nreps(), "ns" if metric == "real_time" else "rate")


class Cmp:
    """sum(lhs) <= factor * sum(rhs); each side a list of (coef, Fig)."""

    def __init__(self, lhs, rhs, factor=1.0):
        self.lhs, self.rhs, self.factor = lhs, rhs, factor

    def figs(self):
        return [f for _, f in self.lhs + self.rhs]

    def evaluate(self):
        """Return 'PASS', 'FAIL' or 'NOISY'."""
        def side(terms, sign):
            total = 0.0
            for c, f in terms:
                spread = DECISIVE_K * (f.cv or 0.0) * sign
                total += c * f.value * (1 + spread)
            return total

        lhs = sum(c * f.value for c, f in self.lhs)
        rhs = sum(c * f.value for c, f in self.rhs)
        holds = lhs <= self.factor * rhs
        noisy = [f for f in self.figs() if f.cv is not None and f.cv > NOISE_CV]
        if not noisy:
            return "PASS" if holds else "FAIL"
        if holds and side(self.lhs, +1) <= self.factor * side(self.rhs, -1):
            return "PASS"
        if not holds and side(self.lhs, -1) > self.factor * side(self.rhs, +1):
            return "FAIL"
        return "NOISY"


class Check:
    def __init__(self, cid, kind, title, limit):
        self.id, self.kind, self.title, self.limit = cid, kind, title, limit
        self.cmps = []
        self.missing = []
        self.skips = []             # "NAME skipped: reason" of inputs that skip
        self.noisy_why = []         # reasons for NOISY besides the cv
        self.measured = None        # (text, number)
        self.detail = ""
        self.status = None
        self.inputs = []

    def need(self, *figs):
        ok = True
        for f in figs:
            if isinstance(f, Missing):
                self.missing.append(f.text)
                ok = False
        return ok

    def finish(self):
        if self.status:
            return self
        if self.skips:
            # a benchmark it needs skipped itself, with its reason: not a
            # missing figure but one this machine cannot measure
            self.status = "SKIP"
            self.detail = "; ".join(self.skips)
            return self
        if self.missing:
            self.status = "n/a"
            return self
        if self.kind == "info":
            self.status = "INFO"
        else:
            verdicts = [c.evaluate() for c in self.cmps]
            if self.noisy_why:
                self.status = "NOISY"
            elif "FAIL" in verdicts:
                self.status = "FAIL"
            elif "NOISY" in verdicts:
                self.status = "NOISY"
            else:
                self.status = "PASS"
        seen = []
        for c in self.cmps:
            for f in c.figs():
                if f.name not in [s.name for s in seen]:
                    seen.append(f)
        self.inputs = seen
        notes = list(self.noisy_why)
        noisy = [f for f in seen if f.cv is not None and f.cv > NOISE_CV]
        if noisy:
            notes.append("noisy inputs: " + ", ".join(
                f"{f.name} cv {fmt_pct(f.cv)}" for f in noisy))
            if self.status in ("PASS", "FAIL"):
                notes.append(f"verdict holds with inputs moved {DECISIVE_K:g} cv")
        if self.noisy_why and self.cmps:
            v = [c.evaluate() for c in self.cmps]
            notes.append("the figures alone: " + ("FAIL" if "FAIL" in v else
                                                  "NOISY" if "NOISY" in v else "PASS"))
        if any(f.cv is None for f in seen):
            notes.append("cv unknown (one repetition)")
        if notes:
            self.detail = (self.detail + "; " if self.detail else "") + "; ".join(notes)
        return self

    def status_text(self):
        if self.status == "n/a":
            return "n/a (missing: " + ", ".join(self.missing) + ")"
        if self.status == "NOISY":
            return "NOISY, rerun"
        return self.status

    def as_json(self):
        return {
            "id": self.id, "kind": self.kind, "title": self.title,
            "status": self.status, "limit": self.limit,
            "measured": self.measured[1] if self.measured else None,
            "measured_text": self.measured[0] if self.measured else None,
            "detail": self.detail, "missing": self.missing,
            "inputs": [f.as_json() for f in self.inputs],
        }


def ratio(a, b):
    return a.value / b.value if b.value else float("inf")


def make_checks(res):
    checks = []

    def add(c):
        checks.append(c.finish())

    # --- expectations between figures
    c = Check("native_below_mechanisms", "expectation",
              "native/getpid below every mechanism/*", "native < each")
    native = figure(res, "native/getpid")
    mechs = [b for b in res.family("mechanism/")]
    skipped = [b.key for b in mechs if b.skipped]
    figs = [figure_of(b, b.key) for b in mechs if not b.skipped]
    figs = [f for f in figs if isinstance(f, Fig)]
    if c.need(native) and not figs:
        c.missing.append("mechanism/*")
    if not c.missing:
        c.cmps = [Cmp([(1, native)], [(1, f)]) for f in figs]
        low = min(figs, key=lambda f: f.value)
        c.measured = (f"fastest {low.name} = {ratio(low, native):.1f}x native",
                      ratio(low, native))
        c.detail = f"native {fmt_ns(native.value)}, {len(figs)} mechanisms"
        if skipped:
            c.detail += "; skipped: " + ", ".join(skipped)
    add(c)

    def pair(cid, title, a_name, b_name, factor, limit, kind="expectation"):
        c = Check(cid, kind, title, limit)
        a, b = figure(res, a_name), figure(res, b_name)
        if c.need(a, b):
            c.cmps = [Cmp([(1, a)], [(1, b)], factor)]
            c.measured = (f"{ratio(a, b):.3f}", ratio(a, b))
            c.detail = f"{a.show()}, {b.show()}"
        add(c)

    pair("lean_le_faithful", "switch/lean <= switch/faithful (tol 5%)",
         "switch/lean", "switch/faithful", 1.05, "ratio <= 1.05")

    c = Check("faithful_near_sysemu_regs", "expectation",
              "switch/faithful within 20% of mechanism/sysemu_regs",
              "0.80 <= ratio <= 1.20")
    a, b = figure(res, "switch/faithful"), figure(res, "mechanism/sysemu_regs")
    if c.need(a, b):
        c.cmps = [Cmp([(1, a)], [(1, b)], 1.20), Cmp([(0.80, b)], [(1, a)])]
        c.measured = (f"{ratio(a, b):.3f}", ratio(a, b))
        c.detail = f"{a.show()}, {b.show()}"
    add(c)

    pair("sysemu_le_gpr", "mechanism/sysemu <= mechanism/sysemu_gpr (tol 5%)",
         "mechanism/sysemu", "mechanism/sysemu_gpr", 1.05, "ratio <= 1.05")
    pair("gpr_le_regs", "mechanism/sysemu_gpr <= mechanism/sysemu_regs (tol 5%)",
         "mechanism/sysemu_gpr", "mechanism/sysemu_regs", 1.05, "ratio <= 1.05")
    pair("futex_same_below_cross", "floor/futex_same_cpu below floor/futex_cross_cpu",
         "floor/futex_same_cpu", "floor/futex_cross_cpu", 1.0, "ratio < 1")
    pair("pipe_same_below_cross", "floor/pipe_same_cpu below floor/pipe_cross_cpu",
         "floor/pipe_same_cpu", "floor/pipe_cross_cpu", 1.0, "ratio < 1")
    pair("sysemu_le_ptrace_syscall",
         "mechanism/ptrace_syscall >= mechanism/sysemu (tol 5%)",
         "mechanism/sysemu", "mechanism/ptrace_syscall", 1.05,
         "sysemu/ptrace_syscall <= 1.05")

    # --- performance bars
    pair("bar_faithful", "switch/faithful <= 1.10 x mechanism/sysemu_regs",
         "switch/faithful", "mechanism/sysemu_regs", 1.10, "ratio <= 1.10", "bar")
    pair("bar_lean", "switch/lean <= 1.10 x mechanism/sysemu_gpr",
         "switch/lean", "mechanism/sysemu_gpr", 1.10, "ratio <= 1.10", "bar")
    pair("info_lean_over_faithful", "switch/lean / switch/faithful",
         "switch/lean", "switch/faithful", 1.0, "(information)", "info")
    pair("info_lean_over_sysemu", "switch/lean / mechanism/sysemu",
         "switch/lean", "mechanism/sysemu", 1.0, "(information)", "info")

    c = Check("bar_map_inject", "bar",
              "map/inject/pages:1 <= 1.25 x (2 x mechanism/inject + map/native/pages:1)",
              "ratio <= 1.25")
    mi = figure(res, "map/inject/pages:1", "map/inject", pages=1)
    inj = figure(res, "mechanism/inject")
    mn = figure(res, "map/native/pages:1", "map/native", pages=1)
    if c.need(mi, inj, mn):
        ref = 2 * inj.value + mn.value
        c.cmps = [Cmp([(1, mi)], [(2, inj), (1, mn)], 1.25)]
        c.measured = (f"{mi.value / ref:.3f}", mi.value / ref)
        c.detail = f"{mi.show()}; reference 2 x {fmt_ns(inj.value)} + {fmt_ns(mn.value)} = {fmt_ns(ref)}"
    add(c)

    # A map + unmap pair costs two round trips singly; a batch of 16 shares
    # one round trip among 16 operations.
    c = Check("bar_map_batch", "bar",
              "map/inject_batch/ops:16 (per operation) <= 0.15 x map/inject/pages:1",
              "ratio <= 0.15")
    mb = figure(res, "map/inject_batch/ops:16", "map/inject_batch", ops=16)
    if c.need(mb, mi):
        c.cmps = [Cmp([(1, mb)], [(1, mi)], 0.15)]
        c.measured = (f"{ratio(mb, mi):.3f}", ratio(mb, mi))
        c.detail = f"{mb.show()}, {mi.show()}"
    add(c)

    for c in systrap_checks(res):
        add(c)

    n = res.nproc()
    c = Check("bar_pool_private", "bar",
              f"pool/private efficiency at {n} threads (nproc) >= {POOL_EFFICIENCY_BAR}",
              f"efficiency >= {POOL_EFFICIENCY_BAR}")
    one = figure(res, "pool/private/threads:1 rt_per_s", "pool/private", "rt_per_s", threads=1)
    many = figure(res, f"pool/private/threads:{n} rt_per_s", "pool/private", "rt_per_s", threads=n)
    if c.need(one, many):
        eff = many.value / (n * one.value) if one.value else float("inf")
        if run_backend(res) == "systrap":
            # spinning pairs on as many CPUs as threads: the issue reports
            # it without a bar
            c.kind, c.limit = "info", "(information: no bar on systrap)"
            c.title = f"pool/private efficiency at {n} threads (nproc), systrap backend"
        c.cmps = [Cmp([(POOL_EFFICIENCY_BAR * n, one)], [(1, many)])]
        c.measured = (f"{eff:.3f}", eff)
        c.detail = (f"{fmt_rate(many.value)}/s at {n} threads vs linear "
                    f"{n} x {fmt_rate(one.value)}/s")
    add(c)
    for c in app_checks(res):
        add(c)
    return checks


def run_backend(res):
    """The backend of the core families (pool/*, map/*, interrupt/*) in
    this run: --ptbench_backend, the JSON context's 'backend'."""
    return str(res.context.get("backend") or "ptrace")


def spin_share(res, name):
    """The median spin_share counter of benchmark name, or None."""
    b = res.find(name)
    return None if b is None or b.skipped else b.median("spin_share")


def spin_input(c, res, name, has_share=True):
    """The figure of spin benchmark name for check c: a Fig, or Missing
    (recorded in c). A skip is recorded as the check's skip (the benchmark
    says why: fewer than 2 CPUs, pinning off); with has_share, a spin
    share under SPIN_SHARE_MIN makes the check NOISY (floor/spin_cross_cpu
    only spins: it has no share)."""
    b = res.find(name)
    if b is not None and b.skipped:
        c.skips.append(f"{name} skipped: {b.error}")
        return Missing(name)
    f = figure_of(b, name)
    if isinstance(f, Fig) and has_share:
        share = spin_share(res, name)
        if share is None:
            c.noisy_why.append(f"{name}: no spin_share counter")
        elif share < SPIN_SHARE_MIN:
            c.noisy_why.append(f"{name}: spin share {fmt_pct(share)} < {SPIN_SHARE_MIN:.0%} "
                               "(hand-offs fell back to the futex)")
    return f


def systrap_checks(res):
    """The bars of issue 12 (section 3) and the spin share."""
    out = []
    margin = Fig("1.0 us", SYSTRAP_MARGIN_NS, 0.0, 0, "ns")

    c = Check("systrap_spin_share", "expectation",
              f"spin figures ({', '.join(SPIN_FIGURES)}): spin_share >= {SPIN_SHARE_MIN:.0%}",
              f"each >= {SPIN_SHARE_MIN:.0%}, else NOISY")
    shares, low = [], []
    for name in SPIN_FIGURES:
        b = res.find(name)
        if b is None:
            continue
        if b.skipped:
            c.skips.append(f"{name} skipped: {b.error}")
            continue
        v = spin_share(res, name)
        if v is None:
            c.noisy_why.append(f"{name}: no spin_share counter")
            continue
        shares.append((v, name))
        if v < SPIN_SHARE_MIN:
            low.append(f"{name} {fmt_pct(v)}")
    if shares or c.noisy_why:
        c.skips = []
        if low:
            c.noisy_why.append("under the bound: " + ", ".join(low))
        c.status = "NOISY" if c.noisy_why else "PASS"
        if shares:
            lo = min(shares)
            c.measured = (f"lowest {fmt_pct(lo[0])} ({lo[1]})", lo[0])
        c.detail = "; ".join([", ".join(f"{n} {fmt_pct(v)}" for v, n in shares)]
                             + c.noisy_why)
    elif not c.skips:
        c.missing.append("switch/systrap_spin, mechanism/systrap_spin")
    out.append(c)

    c = Check("bar_systrap_spin_floor", "bar",
              "switch/systrap_spin <= mechanism/seccomp_trap + floor/spin_cross_cpu + 1.0 us",
              "ratio <= 1")
    sw = spin_input(c, res, "switch/systrap_spin")
    trap = figure(res, "mechanism/seccomp_trap")
    fl = spin_input(c, res, "floor/spin_cross_cpu", has_share=False)
    if c.need(sw, trap, fl):
        ref = trap.value + fl.value + SYSTRAP_MARGIN_NS
        c.cmps = [Cmp([(1, sw)], [(1, trap), (1, fl), (1, margin)])]
        c.measured = (f"{sw.value / ref:.3f}", sw.value / ref)
        c.detail = (f"{sw.show()}; reference {fmt_ns(trap.value)} + {fmt_ns(fl.value)} "
                    f"+ 1.0 us = {fmt_ns(ref)}")
    out.append(c)

    c = Check("bar_systrap_spin_faithful", "bar",
              f"switch/systrap_spin <= {SYSTRAP_SPIN_OVER_FAITHFUL_BAR:.2f} x switch/faithful",
              f"ratio <= {SYSTRAP_SPIN_OVER_FAITHFUL_BAR:.2f}")
    sw = spin_input(c, res, "switch/systrap_spin")
    fa = figure(res, "switch/faithful")
    if c.need(sw, fa):
        c.cmps = [Cmp([(1, sw)], [(1, fa)], SYSTRAP_SPIN_OVER_FAITHFUL_BAR)]
        c.measured = (f"{ratio(sw, fa):.3f}", ratio(sw, fa))
        c.detail = f"{sw.show()}, {fa.show()}"
    out.append(c)

    c = Check("systrap_mechanism_near_trap", "expectation",
              "mechanism/systrap_spin <= mechanism/seccomp_trap + 1.0 us",
              "ratio <= 1")
    ms = spin_input(c, res, "mechanism/systrap_spin")
    if c.need(ms, trap):
        ref = trap.value + SYSTRAP_MARGIN_NS
        c.cmps = [Cmp([(1, ms)], [(1, trap), (1, margin)])]
        c.measured = (f"{ms.value / ref:.3f}", ms.value / ref)
        c.detail = f"{ms.show()}; reference {fmt_ns(trap.value)} + 1.0 us = {fmt_ns(ref)}"
    out.append(c)
    return out


# ------------------------------------------------------------------ app family

def app_variants(res):
    """{workload: [variant, ...]} of the app family, in the JSON's order;
    'native' is the reference of each workload, the others are
    BACKEND_MODE."""
    out = {}
    for b in res.family("app/"):
        parts = b.base.split("/")
        if len(parts) == 3:
            out.setdefault(parts[1], [])
            if parts[2] not in out[parts[1]]:
                out[parts[1]].append(parts[2])
    return out


def switch_name(variant, res=None):
    """The switch/* benchmark of the same backend and mode: the ptrace
    backend's are switch/MODE, another's switch/BACKEND_MODE (the README's
    names table). systrap's hand-off is the one its backend chose: the spin
    across CPUs where switch/systrap_spin ran (2 or more CPUs), else the
    futex."""
    backend, _, mode = variant.partition("_")
    if backend == "systrap" and not mode:
        spin = res.find("switch/systrap_spin") if res is not None else None
        return "switch/systrap_spin" if spin is not None and not spin.skipped \
            else "switch/systrap_futex"
    return f"switch/{mode}" if backend == "ptrace" else f"switch/{variant}"


def handoff_switch_ns(spin_ns, futex_ns, spun, slept):
    """systrap's switch cost for a run whose hand-offs ended spun times in
    the spin and slept times in a futex wait (the sentry's --stats): the
    spinning switch, plus the slept share of the step up to the futex
    switch. An app whose sentry works longer between switches than the
    spin bound makes its stub sleep, which switch/systrap_spin never
    does. None without hand-offs."""
    if spun + slept <= 0:
        return None
    return spin_ns + slept / (spun + slept) * (futex_ns - spin_ns)


def per_syscall_model(t_ns, native_ns, syscalls, switch_ns, inject_op_ns, injections,
                      sentry_ns, fixed_ns=0.0, fixed_syscalls=0.0):
    """The per-syscall overhead of a run through the sentry and its model.

    measured = (t - native - fixed) / (syscalls - fixed_syscalls): the
    wall time a run gained over native, per syscall, less the sentry's
    fixed start-up (app/startup's overhead in the same mode, and its
    syscalls), which no per-syscall figure predicts.
    model = switch + injections per syscall x one injection + the
    sentry's own time per syscall (its --stats time in the sentry, less
    the injections' part and less the time blocked in host calls and
    waits, which the native run waits too). The sentry's time still
    includes running the call on the host, which the native run pays too:
    the model leans high by the native cost of a syscall.
    Returns (measured, model, terms) with terms a dict of the model's
    three parts, or None when syscalls do not exceed fixed_syscalls."""
    n = syscalls - fixed_syscalls
    if n <= 0 or syscalls <= 0:
        return None
    measured = (t_ns - native_ns - fixed_ns) / n
    terms = {"switch": switch_ns,
             "injections": injections / syscalls * inject_op_ns,
             "sentry": sentry_ns / syscalls}
    return measured, sum(terms.values()), terms


def app_figures(res, workload, variant):
    """What the app table and checks need for one sentry variant: a dict,
    with 'missing' listing what is absent."""
    d = {"missing": []}
    b = res.find(f"app/{workload}/{variant}")
    nb = res.find(f"app/{workload}/native")
    if b is None or b.skipped:
        d["missing"].append(f"app/{workload}/{variant}" + (f" (skipped: {b.error})" if b else ""))
        return d
    d["t"] = b.median()
    d["cv"] = b.cv()
    for k in ("syscalls", "syscalls_compared", "strace_syscalls_compared", "switches",
              "injections", "migrations", "sentry_ns", "inject_ns", "syscalls_per_s",
              "handoffs_spun", "handoffs_slept"):
        d[k] = b.median(k)
    if nb is None or nb.skipped or nb.median() is None:
        d["missing"].append(f"app/{workload}/native")
    else:
        d["native"] = nb.median()
    sw = figure(res, switch_name(variant, res))
    if isinstance(sw, Missing):
        d["missing"].append(sw.text)
    else:
        d["switch"] = sw
        d["switch_ns"], d["switch_how"] = sw.value, sw.name
        swb = res.find(switch_name(variant, res))
        d["switch_p50"] = swb.median("p50_ns") if swb else None
        fut = figure(res, "switch/systrap_futex")
        if sw.name == "switch/systrap_spin" and not isinstance(fut, Missing):
            blend = handoff_switch_ns(sw.value, fut.value, d.get("handoffs_spun") or 0.0,
                                      d.get("handoffs_slept") or 0.0)
            if blend is not None:
                share = d["handoffs_slept"] / (d["handoffs_spun"] + d["handoffs_slept"])
                d["switch_ns"] = blend
                d["switch_how"] = (f"switch/systrap_spin + {share:.1%} slept hand-offs x "
                                   f"(switch/systrap_futex - switch/systrap_spin)")
                # the median plays no part in a blend
                d["switch_p50"] = None
    inj = figure(res, "map/inject/pages:1", "map/inject", pages=1)
    if isinstance(inj, Missing):
        d["missing"].append(inj.text)
    else:
        # map/inject/pages:1 is a map and an unmap: two injections
        d["inject_op"] = inj.value / 2
    d["fixed"], d["fixed_syscalls"], d["fixed_note"] = 0.0, 0.0, "not subtracted (no app/startup)"
    if workload != "startup":
        st, stn = res.find(f"app/startup/{variant}"), res.find("app/startup/native")
        if st and stn and not st.skipped and not stn.skipped and st.median() and stn.median():
            d["fixed"] = st.median() - stn.median()
            d["fixed_syscalls"] = st.median("syscalls") or 0.0
            d["fixed_note"] = f"app/startup overhead {fmt_ns(d['fixed'])} subtracted"
    if not d["missing"] and d.get("syscalls") and d.get("sentry_ns") is not None:
        r = per_syscall_model(d["t"], d["native"], d["syscalls"], d["switch_ns"],
                              d["inject_op"], d.get("injections") or 0.0, d["sentry_ns"],
                              d["fixed"], d["fixed_syscalls"])
        if r:
            d["measured"], d["model"], d["terms"] = r
    return d


def syscall_diff(d):
    a, b = d.get("syscalls_compared"), d.get("strace_syscalls_compared")
    if a is None or not b:
        return None
    return (a - b) / b


def app_checks(res):
    variants = app_variants(res)
    checks = []
    if not variants:
        for cid, title, limit, kind in (
                ("app_syscall_counts", "app/*: --stats syscall counts against strace -c -f",
                 f"within {APP_SYSCALL_TOL:.0%}", "expectation"),
                ("bar_app_gzip_lean", f"app/gzip/ptrace_lean <= {APP_GZIP_LEAN_BAR} x app/gzip/native",
                 f"ratio <= {APP_GZIP_LEAN_BAR}", "bar")):
            c = Check(cid, kind, title, limit)
            c.missing.append("app/*")
            checks.append(c)
        return checks

    # the syscall counts: every sentry run against strace of the native run
    c = Check("app_syscall_counts", "expectation",
              f"app/*: --stats syscall count within {APP_SYSCALL_TOL:.0%} of strace -c -f of "
              f"the native run (exact for {', '.join(APP_EXACT)}), without {APP_UNCOMPARED_TEXT}",
              f"|diff| <= {APP_SYSCALL_TOL:.0%}")
    bad, seen, worst = [], 0, 0.0
    for w, vs in variants.items():
        for v in vs:
            if v == "native":
                continue
            diff = syscall_diff(app_figures(res, w, v))
            if diff is None:
                continue
            seen += 1
            worst = max(worst, abs(diff))
            if abs(diff) > (0 if w in APP_EXACT else APP_SYSCALL_TOL):
                bad.append(f"app/{w}/{v} {diff:+.2%}")
    if not seen:
        c.missing.append("app/* counters syscalls_compared and strace_syscalls_compared "
                         "(strace absent?)")
    else:
        c.status = "FAIL" if bad else "PASS"
        c.measured = (f"worst {worst:.2%}", worst)
        c.detail = f"{seen} runs compared" + ("; off: " + ", ".join(bad) if bad else "")
    checks.append(c)

    c = Check("bar_app_gzip_lean", "bar",
              f"app/gzip/ptrace_lean <= {APP_GZIP_LEAN_BAR} x app/gzip/native",
              f"ratio <= {APP_GZIP_LEAN_BAR}")
    a, b = figure(res, "app/gzip/ptrace_lean"), figure(res, "app/gzip/native")
    if c.need(a, b):
        c.cmps = [Cmp([(1, a)], [(1, b)], APP_GZIP_LEAN_BAR)]
        c.measured = (f"{ratio(a, b):.3f}", ratio(a, b))
        c.detail = f"{a.show()}, {b.show()}"
        fixed = app_figures(res, "gzip", "ptrace_lean").get("fixed")
        if fixed:
            c.detail += (f"; without app/startup's fixed overhead ({fmt_ns(fixed)}): "
                         f"{(a.value - fixed) / b.value:.3f}")
    checks.append(c)

    for w in APP_MODEL_WORKLOADS:
        for v in variants.get(w, ["ptrace_faithful", "ptrace_lean", "systrap"]):
            if v == "native":
                continue
            c = Check(f"bar_app_model_{w}_{v}", "bar",
                      f"app/{w}/{v}: per-syscall overhead within "
                      f"[{APP_MODEL_LO}, {APP_MODEL_HI}] x the model",
                      f"{APP_MODEL_LO} <= ratio <= {APP_MODEL_HI}")
            d = app_figures(res, w, v)
            c.missing += d["missing"]
            if not c.missing and "model" not in d:
                c.missing.append(f"app/{w}/{v} counters syscalls, sentry_ns")
            if not c.missing:
                meas = Fig(f"app/{w}/{v} per syscall", d["measured"], d["cv"], 0, "ns")
                model = Fig("model", d["model"], d["switch"].cv, 0, "ns")
                c.cmps = [Cmp([(1, meas)], [(1, model)], APP_MODEL_HI),
                          Cmp([(APP_MODEL_LO, model)], [(1, meas)])]
                r = d["measured"] / d["model"] if d["model"] else float("inf")
                t = d["terms"]
                c.measured = (f"{r:.3f}", r)
                c.detail = (f"{fmt_ns(d['measured'])} per syscall vs model {fmt_ns(d['model'])} = "
                            f"{d['switch_how']} {fmt_ns(t['switch'])} + injections "
                            f"{fmt_ns(t['injections'])} + sentry {fmt_ns(t['sentry'])}; "
                            f"{d['fixed_note']}")
                p50 = d.get("switch_p50")
                if p50:
                    # A loaded machine inflates the switch's mean with
                    # preemptions far more than its median: for reading
                    # the verdict, not part of it.
                    alt = d["model"] - t["switch"] + p50
                    c.detail += (f"; with the switch's p50 ({fmt_ns(p50)}) instead of its "
                                 f"mean: {d['measured'] / alt:.3f}")
            checks.append(c)

    c = Check("bar_app_migrations", "bar",
              f"app/*: migrations per switch <= {APP_MIGRATIONS_BAR} (traced threads, --stats)",
              f"each <= {APP_MIGRATIONS_BAR}")
    rates, bad, later = [], [], []
    for w, vs in variants.items():
        for v in vs:
            b = res.find(f"app/{w}/{v}")
            if v == "native" or b is None or b.skipped:
                continue
            m, sw = b.median("migrations"), b.median("switches")
            if m is None or not sw:
                continue
            rates.append((m / sw, f"app/{w}/{v}"))
            # the placement beside the tracer before the app ran, apart
            start = b.median("migrations_at_start")
            if start is not None:
                later.append(((m - start) / sw, f"app/{w}/{v}"))
            if m / sw > APP_MIGRATIONS_BAR:
                bad.append(f"app/{w}/{v} {m / sw:.4f}")
    if not rates:
        c.missing.append("app/* counters migrations, switches")
    else:
        top = max(rates)
        c.status = "FAIL" if bad else "PASS"
        c.measured = (f"worst {top[0]:.4f} ({top[1]})", top[0])
        c.detail = f"{len(rates)} runs" + ("; over: " + ", ".join(bad) if bad else "")
        if later:
            top = max(later)
            c.detail += (f"; after each traced thread's first switch (its placement "
                         f"apart): worst {top[0]:.4f} ({top[1]})")
    checks.append(c)
    return checks


def app_rows(res):
    rows = []
    for w, vs in app_variants(res).items():
        for v in vs:
            b = res.find(f"app/{w}/{v}")
            if b.skipped:
                rows.append([b.key] + [""] * 12 + [b.error])
                continue
            t = b.median()
            if v == "native":
                n = b.median("strace_syscalls")
                rows.append([b.key, fmt_in(t, "ms"), fmt_pct(b.cv()),
                             fmt_num(n) if n is not None else "n/a", "", "",
                             fmt_rate(b.median("syscalls_per_s")), "(the reference)",
                             "", "", "", "", "", b.label])
                continue
            d = app_figures(res, w, v)
            diff = syscall_diff(d)
            x = t / d["native"] if d.get("native") else None
            plus = t - d["native"] if d.get("native") else None
            mig = (d["migrations"] / d["switches"]) if d.get("migrations") is not None \
                and d.get("switches") else None
            if w == "startup":
                # its overhead is the fixed cost the others subtract
                model, r, meas = "(the fixed cost)", "", ""
            elif "model" in d:
                tm = d["terms"]
                model = (f"{fmt_in(d['model'], 'us')} = {fmt_in(tm['switch'], 'us')} + "
                         f"{fmt_in(tm['injections'], 'us')} + {fmt_in(tm['sentry'], 'us')}")
                r = f"{d['measured'] / d['model']:.3f}" if d["model"] else "n/a"
                meas = fmt_in(d["measured"], "us")
            else:
                model, r, meas = "n/a", "n/a", "n/a"
            rows.append([b.key, fmt_in(t, "ms"), fmt_pct(b.cv()), fmt_num(d.get("syscalls")),
                         f"{fmt_num(d.get('syscalls_compared'))} / "
                         f"{fmt_num(d.get('strace_syscalls_compared'))}",
                         f"{diff:+.2%}" if diff is not None else "n/a",
                         fmt_rate(d.get("syscalls_per_s")),
                         f"{x:.2f}x" if x is not None else "n/a",
                         fmt_in(plus, "ms") if plus is not None else "n/a",
                         meas, model, r,
                         f"{mig:.4f}" if mig is not None else "n/a"] + [b.label])
    return rows


# ------------------------------------------------------------------ samples

def read_samples(sdir):
    """{benchmark name: sorted list of ns} from DIR/*.txt."""
    out = {}
    if not sdir or not os.path.isdir(sdir):
        return out
    for fname in sorted(os.listdir(sdir)):
        if not fname.endswith(".txt") or fname.startswith("tmp."):
            continue
        vals = []
        try:
            with open(os.path.join(sdir, fname), encoding="utf-8", errors="replace") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        v = float(line)
                    except ValueError:
                        continue
                    if math.isfinite(v):
                        vals.append(v)
        except OSError as e:
            warn(f"cannot read samples {fname}: {e.strerror}")
            continue
        if vals:
            name = fname[:-4].replace("_", "/", 1)
            out[name] = sorted(vals)
    return out


def quantile(sorted_vals, q):
    """Nearest-rank on sorted values (as bench/common.c computes them)."""
    n = len(sorted_vals)
    i = int(q * (n - 1) + 0.5)
    return sorted_vals[min(max(i, 0), n - 1)]


# ------------------------------------------------------------------ summary

def context_rows(ctx, args):
    load = ctx.get("load_avg")
    rows = [
        ["date", ctx.get("date", "unknown")],
        ["host", args.host or ctx.get("host") or ctx.get("host_name", "unknown")],
        ["kernel", args.kernel or ctx.get("kernel", "unknown")],
        ["arch", ctx.get("arch", "unknown")],
        ["commit", args.commit or ctx.get("commit", "unknown")],
        ["cpu", ctx.get("cpu_model", "unknown")],
        ["cpus (num_cpus)", ctx.get("num_cpus", "unknown")],
        ["MHz per cpu", ctx.get("mhz_per_cpu", "unknown")],
        ["cpu frequency scaling", {True: "on", False: "off"}.get(ctx.get("cpu_scaling_enabled"), "unknown")],
        ["load average (1, 5, 15 min, at start)",
         ", ".join(f"{x:.2f}" for x in load) if isinstance(load, list) else "unknown"],
        ["pinning", ctx.get("pinning", "unknown")],
        ["switch mode (core benchmarks)", ctx.get("switch_mode", "unknown")],
        ["native getpid at start", (ctx["native_getpid_ns_at_start"] + " ns")
         if ctx.get("native_getpid_ns_at_start") else "unknown"],
        ["compiler", ctx.get("compiler", "unknown")],
        ["build", ctx.get("cflags", "unknown")],
        ["Google Benchmark library build", ctx.get("library_build_type", "unknown")],
        ["mitigations", mitigations(ctx.get("mitigations"))],
    ]
    return rows


def mitigations(text):
    """'a=Not affected;b=Mitigation: X' -> 'b=Mitigation: X (1 more: not affected)'."""
    if not text or not isinstance(text, str):
        return "unknown"
    shown, quiet = [], 0
    # entries are joined by ";", which also appears inside some statuses
    for item in re.split(r";(?=[A-Za-z0-9_]+=)", text):
        name, _, status = item.partition("=")
        if not name:
            continue
        if status.strip() == "Not affected":
            quiet += 1
        else:
            shown.append(f"{name}: {status.strip()}")
    out = "; ".join(shown) if shown else "none listed"
    if quiet:
        out += f" ({quiet} more: not affected)"
    return out


def context_warnings(ctx):
    out = []
    load = ctx.get("load_avg")
    ncpu = num(ctx.get("num_cpus"))
    if isinstance(load, list) and load and ncpu and num(load[0]) is not None \
            and load[0] > 0.5 * ncpu:
        out.append(f"load average {load[0]:.2f} on {int(ncpu)} CPUs when the run "
                   "started: other work shared the machine, figures are noisy")
    flags = str(ctx.get("cflags", ""))
    if flags and ("buildtype=release" not in flags or "b_sanitize=none" not in flags):
        out.append(f"not a release build without sanitizers ({flags}): "
                   "the figures do not measure the real code")
    if ctx.get("cpu_scaling_enabled") is True:
        out.append("CPU frequency scaling is on: figures drift with the clock")
    if ctx.get("library_build_type") == "debug":
        out.append("Google Benchmark reports its library as a debug build "
                   "(Debian's libbenchmark is built so): the benchmarks call "
                   "it once per batch of round trips, which spreads its cost "
                   "over the batch")
    return out


def fmt_in(v, unit):
    """v (ns) in unit with 4 significant digits, thousands separated."""
    return fmt_num(None if v is None else v / UNIT_NS[unit])


def bench_rows(res):
    rows = []
    for b in res.benches.values():
        if b.skipped:
            rows.append([b.key, "skipped", "", "", "", "", "", b.error])
            continue
        x = b.median("over_native_x")
        plus = b.median("over_native_ns")
        others = []
        order = {"rt_per_s": 0, "p50_ns": 1, "p99_ns": 2, "p999_ns": 3}
        for name in sorted(b.counters(), key=lambda n: (order.get(n, 9), n)):
            if name in KNOWN_COUNTERS:
                continue
            v = b.median(name)
            # each counter in the unit its name says
            others.append(f"{name}={fmt_rate(v) if name.endswith('_per_s') else fmt_num(v)}")
        note = b.label
        if b.errors:
            note = (note + "; " if note else "") + f"{len(b.errors)} failed runs: {b.error}"
        if b.key == "native/getpid":
            x_text = plus_text = "(the reference)"
        else:
            x_text = (f"{x:,.0f}x" if x >= 1000 else f"{x:.1f}x") if x is not None else "n/a"
            plus_text = (f"{plus:+,.0f}" if abs(plus) >= 100 else f"{plus:+.1f}") \
                if plus is not None else "n/a"
        rows.append([b.key, fmt_in(b.median(), "us"), fmt_pct(b.cv()), b.nreps(),
                     x_text, plus_text, ", ".join(others), note])
    return rows


def pool_rows(res, kind):
    """[(threads, rt, linear, efficiency, cv)] for pool/<kind>."""
    benches = [b for b in res.family(f"pool/{kind}") if b.base == f"pool/{kind}"]
    benches = [b for b in benches if b.param("threads") is not None]
    benches.sort(key=lambda b: b.param("threads"))
    one = next((b for b in benches if b.param("threads") == 1 and not b.skipped), None)
    rt1 = one.median("rt_per_s") if one else None
    rows = []
    for b in benches:
        n = b.param("threads")
        if b.skipped:
            rows.append((n, None, None, None, None, b.error))
            continue
        rt = b.median("rt_per_s")
        lin = n * rt1 if rt1 else None
        eff = rt / lin if rt is not None and lin else None
        rows.append((n, rt, lin, eff, b.cv("rt_per_s"), "" if rt is not None else "no rt_per_s counter"))
    return rows


def render_summary(res, checks, samples, plots, args):
    ctx = res.context
    host = args.host or ctx.get("host") or ctx.get("host_name", "unknown")
    kernel = args.kernel or ctx.get("kernel", "unknown")
    L = [f"# ptbench benchmarks: {host}, Linux {kernel}", ""]
    if args.note:
        L += [f"**{args.note}**", ""]
    if res.no_json:
        L += ["No benchmark results: every figure and check below is n/a.", ""]
    if res.partial:
        L += ["**The benchmark JSON was cut short (ptbench-bench stopped early): "
              "only the benchmarks that finished are shown.**", ""]
    L += table(["field", "value"], context_rows(ctx, args))
    warns = context_warnings(ctx)
    if warns:
        L += ["", "Warnings:", ""] + [f"- {w}" for w in warns]

    counts = {}
    for c in checks:
        counts[c.status] = counts.get(c.status, 0) + 1
    L += ["", "## Self-checks", ""]
    L.append(", ".join(f"{counts.get(s, 0)} {s}" for s in ("PASS", "FAIL", "NOISY", "SKIP", "n/a"))
             + f". Expectations between figures of this run, and the performance "
             f"bars as ratios of this run. An input whose coefficient of variation "
             f"over the repetitions exceeds {NOISE_CV:.0%} makes a check "
             f"\"NOISY, rerun\", unless the verdict holds with every input moved "
             f"{DECISIVE_K:g} cv against it; so does a spin figure whose spin share is "
             f"under {SPIN_SHARE_MIN:.0%}. SKIP: a figure the check needs skipped on this "
             f"machine (fewer than 2 CPUs for the spin figures), its reason under figures.")
    L.append("")
    L += table(["check", "kind", "status", "measured", "limit", "figures"],
               [[c.title, c.kind, c.status_text(),
                 c.measured[0] if c.measured else "", c.limit, c.detail]
                for c in checks])

    L += ["", "## The ladder: both backends, with CPU time", ""]
    rows, skipped = ladder_rows(res)
    if rows or skipped:
        L.append("Median round trip, fastest first, of native/getpid, the floors, the bare "
                 "mechanisms and the core's switch on each backend. CPU per round trip: "
                 "time on CPU of the tracer side and of the stub (app) side, from "
                 "schedstat (tracer_cpu_ns, stub_cpu_ns); their sum above the round trip "
                 "means a second CPU was busy, as a spinning hand-off keeps it. The "
                 "in-process mechanisms run on one thread and report none. Spin share: "
                 "the hand-offs that ended within the spin (spin_share), "
                 f"{SPIN_SHARE_MIN:.0%} or more for a trusted spin figure.")
        L.append("")
        L += table(["benchmark", "backend", "round trip (us)", "tracer CPU (us)",
                    "stub CPU (us)", "CPU total (us)", "spin share"],
                   [[r["key"], r["backend"], fmt_in(r["median"], "us"),
                     fmt_in(r["tracer_cpu"], "us") if r["tracer_cpu"] is not None else "",
                     fmt_in(r["stub_cpu"], "us") if r["stub_cpu"] is not None else "",
                     fmt_in(r["tracer_cpu"] + r["stub_cpu"], "us")
                     if r["tracer_cpu"] is not None and r["stub_cpu"] is not None else "",
                     fmt_pct(r["spin_share"]) if r["spin_share"] is not None else ""]
                    for r in rows], align="llrrrrr")
        if skipped:
            L += [""] + [f"- {k} skipped: {why}" for k, why in skipped]
    else:
        L.append("None in the JSON (native/*, floor/*, mechanism/*, switch/* not run).")
    if run_backend(res) == "systrap":
        L += ["", "The core families (map/*, pool/*, interrupt/*) ran on the systrap "
              "backend (--ptbench_backend=systrap): pool/* is reported without its "
              "efficiency bar."]

    L += ["", "## Benchmarks", ""]
    if res.benches:
        L.append("Median over the repetitions of the real (or manual) time per "
                 "iteration, in us for every benchmark; cv = coefficient of "
                 "variation over the repetitions; x native and +ns from the "
                 "counters over_native_x and over_native_ns (medians) against "
                 "native getpid measured at the start (native/getpid is that "
                 "reference); each counter in the unit its name ends in.")
        L.append("")
        L += table(["benchmark", "median (us)", "cv", "reps", "x native",
                    "+ns over native", "counters", "label / error"], bench_rows(res),
                   align="lrrrrrll")
    else:
        L.append("None in the JSON.")

    L += ["", "## Real programs (app family)", ""]
    rows = app_rows(res)
    if rows:
        L.append("One run of a real program per iteration (busybox-static, the sentry's "
                 "pthread test program), natively and through ptbench-exec; medians over "
                 "the repetitions. syscalls: --stats of the run (native: strace -c -f). "
                 f"compared: the same count without {APP_UNCOMPARED_TEXT}, against strace -c "
                 "-f of the native run. "
                 "per syscall: (run - native - app/startup's overhead) / (syscalls - "
                 "app/startup's); model: switch/* of the same backend and mode + injections "
                 "per syscall x map/inject/pages:1 / 2 + the sentry's own time per syscall "
                 "(--stats, less its injections), all from this run. migrations: of the "
                 "traced threads (se.nr_migrations), per switch; a traced thread's first "
                 "placement beside its tracer counts as one.")
        L.append("")
        L += table(["benchmark", "median (ms)", "cv", "syscalls", "compared / strace",
                    "diff", "syscalls/s", "x native", "+ms", "per syscall (us)",
                    "model (us) = switch + inj + sentry", "per syscall / model",
                    "migrations / switch", "label / error"], rows,
                   align="lrrrrrrrrrlrrl")
    else:
        L.append("None in the JSON (app/* not run).")

    L += ["", "## Thread-pool scaling", ""]
    L.append(f"rt_per_s: round trips per second, all threads together (median); "
             f"linear: N x the 1-thread figure; efficiency = rt_per_s / linear. "
             f"nproc = {res.nproc()}.")
    for kind in ("private", "shared"):
        rows = pool_rows(res, kind)
        L += ["", f"### pool/{kind}", ""]
        if not rows:
            L.append(f"n/a (missing: pool/{kind}/threads:N)")
            continue
        L += table(["threads", "rt_per_s", "linear", "efficiency", "cv", "note"],
                   [[n, fmt_rate(rt), fmt_rate(lin),
                     f"{eff:.3f}" if eff is not None else "n/a", fmt_pct(cv), note]
                    for n, rt, lin, eff, cv, note in rows])

    L += ["", "## Latency distributions", ""]
    if samples:
        L.append("From the samples files (one latency per line, in ns; a file "
                 "holds the last run of its benchmark).")
        L.append("")
        rows = []
        for name, vals in samples.items():
            rows.append([name, f"{len(vals):,}"] + [
                fmt_in(v, "us") for v in (vals[0], quantile(vals, 0.5), quantile(vals, 0.9),
                                          quantile(vals, 0.99), quantile(vals, 0.999), vals[-1])])
        L += table(["samples", "n", "min (us)", "p50 (us)", "p90 (us)", "p99 (us)",
                    "p99.9 (us)", "max (us)"], rows, align="lrrrrrrr")
    else:
        L.append("No samples files (PTBENCH_SAMPLES_DIR unset, or switch/* and "
                 "interrupt/latency did not run).")

    L += ["", "## Plots", ""]
    if not plots:
        L.append("Not drawn (--no-plots).")
    for title, name, status in plots:
        if status == "ok":
            L += [f"### {title}", "", f"![{title}](plots/{name}.png)", "",
                  f"[SVG](plots/{name}.svg), [data](plots/{name}.dat)", ""]
        else:
            L.append(f"- {title}: not drawn ({status})")
    return "\n".join(L).rstrip("\n") + "\n"


# ------------------------------------------------------------------ plots

def gp_str(s):
    """A gnuplot single-quoted string literal."""
    return "'" + str(s).replace("'", "''").replace("\n", " ") + "'"


write_atomic = ptcli.write_atomic


def gnuplot(script, outbase, variables):
    """Draw outbase.png and outbase.svg with scripts/plot/SCRIPT. Returns an
    error text or None."""
    exe = shutil.which("gnuplot")
    if not exe:
        return "gnuplot not found"
    d, name = os.path.split(outbase)
    for fmt in ("png", "svg"):
        final = f"{outbase}.{fmt}"
        tmp = os.path.join(d, f"tmp.{name}.{fmt}")
        v = dict(variables, fmt=fmt, out=tmp, plotdir=PLOT_DIR)
        setv = "; ".join(f"{k}={gp_str(x) if isinstance(x, str) else repr(x)}"
                         for k, x in v.items())
        try:
            p = subprocess.run([exe, "-e", setv, os.path.join(PLOT_DIR, script)],
                               stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            _unlink(tmp)
            return f"gnuplot failed: {e}"
        if p.returncode != 0 or not os.path.exists(tmp) or os.path.getsize(tmp) == 0:
            _unlink(tmp)
            err = (p.stderr or "").strip().splitlines()
            return "gnuplot failed: " + (err[-1] if err else f"status {p.returncode}")
        os.replace(tmp, final)
    return None


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def log_bounds(lo, hi, pad_hi=1.0):
    """Axis bounds on a 1-2-5 grid around [lo, hi*pad_hi]."""
    lo = max(lo, 1e-9) * 0.9
    hi = max(hi * pad_hi, lo * 10) * 1.05
    steps = (1, 2, 5)
    e = math.floor(math.log10(lo))
    lo_b = max(s * 10 ** e for s in steps if s * 10 ** e <= lo)
    e = math.floor(math.log10(hi))
    cand = [s * 10 ** e for s in steps + (10,) if s * 10 ** e >= hi]
    return float(lo_b), float(min(cand))


def log_tics(lo, hi):
    """gnuplot tic list ("label" value, ...) on the 1-2-5 grid within
    [lo, hi], one label per tic in plain numbers."""
    tics = []
    e = math.floor(math.log10(lo))
    while 10 ** e <= hi:
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo <= v * (1 + 1e-9) and v <= hi * (1 + 1e-9):
                tics.append(f'"{v:,.12g}" {v:.12g}')
        e += 1
    return ", ".join(tics)


def linear_tics(hi, target=6):
    """gnuplot tic list from 0 to past hi with thousands separators."""
    if hi <= 0:
        return '"0" 0'
    raw = hi / target
    e = 10 ** math.floor(math.log10(raw))
    step = next(m * e for m in (1, 2, 5, 10) if m * e >= raw)
    n = math.ceil(hi * 1.08 / step)
    return ", ".join(f'"{i * step:,.0f}" {i * step:.12g}' for i in range(n + 1))


# The ladder's groups, in the plot's colours: native, the bare mechanisms,
# the floors, and the core's switch on each backend.
LADDER_GROUPS = ("native", "mechanism", "switch, ptrace", "switch, systrap", "floor")


def ladder_backend(res, b):
    """ptrace or systrap: the backend a switch/* or mechanism/* runs on
    (switch/MODE on --ptbench_backend, switch/systrap_* and the systrap
    mechanisms on systrap); '' for the others."""
    top = b.base.split("/")[0]
    if top == "switch":
        return "systrap" if b.base.startswith("switch/systrap") else run_backend(res)
    if top == "mechanism":
        if b.base in ("mechanism/systrap_spin", "mechanism/systrap_futex",
                      "mechanism/patched_call"):
            return "systrap"
        # the ptrace backend's yardsticks; seccomp_trap, sud and the
        # unotify ones are the kernel's, no backend's
        if b.base.startswith("mechanism/sysemu") or b.base in (
                "mechanism/ptrace_syscall", "mechanism/inject"):
            return "ptrace"
    return ""


def ladder_rows(res):
    """The ladder, fastest first: [{key, group, backend, median, lo, hi,
    tracer_cpu, stub_cpu, spin_share}] of native/getpid, floor/*,
    mechanism/* and switch/*, and the skipped ones [(key, reason)]."""
    rows, skipped = [], []
    for b in res.benches.values():
        top = b.base.split("/")[0]
        if top not in ("native", "mechanism", "switch", "floor"):
            continue
        if b.skipped:
            skipped.append((b.key, b.error))
            continue
        v = b.median()
        if v is None or v <= 0:
            continue
        be = ladder_backend(res, b)
        group = {"native": 0, "mechanism": 1, "floor": 4}.get(top) \
            if top != "switch" else (3 if be == "systrap" else 2)
        vals = b.values() or [v]
        rows.append({"key": b.key, "group": group, "backend": be, "median": v,
                     "lo": min(vals), "hi": max(vals),
                     "tracer_cpu": b.median("tracer_cpu_ns"),
                     "stub_cpu": b.median("stub_cpu_ns"),
                     "spin_share": b.median("spin_share")})
    rows.sort(key=lambda r: r["median"])
    return rows, skipped


def cpu_text(r):
    """'4.5 + 4.6 us' (tracer + stub CPU per round trip), or ''."""
    if r["tracer_cpu"] is None and r["stub_cpu"] is None:
        return ""
    return f"{fmt_num(r['tracer_cpu'] / 1e3) if r['tracer_cpu'] is not None else '?'} + " \
        f"{fmt_num(r['stub_cpu'] / 1e3) if r['stub_cpu'] is not None else '?'} us"


def draw_plots(res, samples, pdir, subtitle):
    """Returns [(title, name, status)]."""
    os.makedirs(pdir, exist_ok=True)
    done = []

    def draw(title, name, script, data, variables):
        if data is None:
            done.append((title, name, "no data"))
            return
        write_atomic(os.path.join(pdir, f"{name}.dat"), data)
        v = dict(variables, data=os.path.join(pdir, f"{name}.dat"), subtitle=subtitle)
        err = gnuplot(script, os.path.join(pdir, name), v)
        if err:
            warn(f"plot {name}: {err}")
        done.append((title, name, err or "ok"))

    # (a) the mechanism ladder: a dot per median, whiskers min to max over
    # the repetitions, all in us; each label carries the CPU time per
    # round trip where the benchmark reports it
    rows, skipped = ladder_rows(res)
    skipped = [k for k, _ in skipped]
    floor = figure(res, "floor/futex_same_cpu")
    data = None
    v = {}
    if rows:
        lines = ["# idx label median_us min_us max_us group(" +
                 ", ".join(f"{i} {g}" for i, g in enumerate(LADDER_GROUPS)) + ")"]
        labels = []
        for i, r in enumerate(rows):
            cpu = cpu_text(r)
            labels.append(f"{r['key']}  {fmt_num(r['median'] / 1e3)} us"
                          + (f" (CPU {cpu})" if cpu else ""))
            lines.append(f"{i}\t\"{labels[-1]}\"\t{r['median'] / 1e3:.6g}\t"
                         f"{r['lo'] / 1e3:.6g}\t{r['hi'] / 1e3:.6g}\t{r['group']}")
        data = "\n".join(lines) + "\n"
        vals = [r["lo"] for r in rows] + [r["hi"] for r in rows] + \
            ([floor.value] if isinstance(floor, Fig) else [])
        xmin, xmax = log_bounds(min(vals) / 1e3, max(vals) / 1e3)
        groups = {r["group"] for r in rows}
        v = {"xmin": xmin, "xmax": xmax, "nrows": len(rows),
             "xtics_list": log_tics(xmin, xmax),
             "lmargin": 4 + max(len(x) for x in labels),
             "has_native": int(0 in groups), "has_mechanism": int(1 in groups),
             "has_switch": int(2 in groups), "has_systrap": int(3 in groups),
             "has_floor": int(4 in groups),
             "floor": floor.value / 1e3 if isinstance(floor, Fig) else -1.0,
             "floorlabel": f"floor: futex ping-pong, same CPU ({fmt_num(floor.value / 1e3)} us)"
             if isinstance(floor, Fig) else "",
             "note": ("skipped: " + ", ".join(skipped)) if skipped else "",
             "w": max(960, 8 * (4 + max(len(x) for x in labels)) + 560),
             "h": 260 + 28 * len(rows)}
    draw("Mechanism ladder", "ladder", "ladder.gp", data, v)

    # (b) map + unmap against pages, without and with MAP_POPULATE
    kinds = ("native", "inject", "native_populate", "inject_populate")
    pts = {}
    for col, kind in enumerate(kinds):
        for b in res.benches.values():
            if b.base == f"map/{kind}" and not b.skipped and b.param("pages"):
                m = b.median()
                if m:
                    vals = b.values() or [m]
                    cell = pts.setdefault(b.param("pages"), ["? ? ?"] * len(kinds))
                    cell[col] = f"{m / 1e3:.6g} {min(vals) / 1e3:.6g} {max(vals) / 1e3:.6g}"
    data = None
    v = {"pmin": 1, "pmax": 2}
    if pts:
        lines = ["# pages, then median_us min_us max_us of map/" + ", map/".join(kinds) +
                 " (? = missing)"]
        lines += [f"{p}\t" + "\t".join(c) for p, c in sorted(pts.items())]
        data = "\n".join(lines) + "\n"
        ys = [float(x) for c in pts.values() for s_ in c for x in s_.split() if x != "?"]
        ylo, yhi = log_bounds(min(ys), max(ys))
        v = {"pmin": min(pts), "pmax": max(pts), "ymin": ylo, "ymax": yhi,
             "ytics_list": log_tics(ylo, yhi)}
        for col, kind in enumerate(kinds):
            v[f"has_{kind}"] = int(any(c[col] != "? ? ?" for c in pts.values()))
    draw("Map + unmap cost against pages", "map", "map.gp", data, v)

    # (c) thread-pool scaling, whiskers min to max over the repetitions
    tab = {}
    for col, kind in enumerate(("private", "shared")):
        rows_ = pool_rows(res, kind)
        for n, rt, lin, _eff, _cv, _note in rows_:
            t = tab.setdefault(n, ["? ? ?", "? ? ?", "?", "?"])
            b = res.find(f"pool/{kind}", threads=n)
            if rt is not None:
                vals = (b.values("rt_per_s") if b else []) or [rt]
                t[col] = f"{rt:.6g} {min(vals):.6g} {max(vals):.6g}"
            if lin is not None:
                t[col + 2] = f"{lin:.6g}"
    data = None
    v = {"nproc": res.nproc(), "maxthreads": max(tab) if tab else 1}
    if any(x != "? ? ?" for t in tab.values() for x in t[:2]):
        lines = ["# threads, private rt_per_s median min max, shared rt_per_s median "
                 "min max, private_linear, shared_linear"]
        lines += [f"{n}\t" + "\t".join(t) for n, t in sorted(tab.items())]
        data = "\n".join(lines) + "\n"
        top = max(float(x) for t in tab.values() for s_ in t for x in s_.split() if x != "?")
        v.update(ytics_list=linear_tics(top), ymax=top * 1.08,
                 has_private=int(any(t[0] != "? ? ?" for t in tab.values())),
                 has_shared=int(any(t[1] != "? ? ?" for t in tab.values())))
    draw("Thread-pool scaling", "pool", "pool.gp", data, v)

    # (d) latency: the fraction of samples at or above each latency
    # (1 - CDF), log-log, so that the tail (p99 to p99.9 and the maximum)
    # is as legible as the body; the x axis reaches the largest sample.
    data = None
    v = {}
    if samples:
        blocks = []
        for i, (name, vals) in enumerate(samples.items(), 1):
            n = len(vals)
            # the body thinned to ~2000 points, the last 2000 samples all
            step = max(1, n // 2000)
            idx = sorted(set(range(0, n, step)) | set(range(max(0, n - 2000), n)))
            blocks.append(f"# {name}: latency_us fraction_of_samples_at_or_above\n" + "\n".join(
                f"{vals[j] / 1e3:.6g}\t{(n - j) / n:.6g}" for j in idx))
            v[f"t{i}"] = (f"{name} (n = {n:,}, p99 {fmt_num(quantile(vals, 0.99) / 1e3)}, "
                          f"p99.9 {fmt_num(quantile(vals, 0.999) / 1e3)}, "
                          f"max {fmt_num(vals[-1] / 1e3)} us)")
        data = "\n\n\n".join(blocks) + "\n"
        lo = min(x[0] for x in samples.values()) / 1e3
        hi = max(x[-1] for x in samples.values()) / 1e3
        xmin, xmax = log_bounds(lo, hi)
        nmax = max(len(x) for x in samples.values())
        v.update(nseries=len(samples), xmin=xmin, xmax=xmax, xtics_list=log_tics(xmin, xmax),
                 ymin=10 ** math.floor(math.log10(1.0 / nmax)))
    draw("Latency distribution (1 - CDF)", "latency", "latency.gp", data, v)

    # (e) the app family: native against each backend and mode, per workload
    variants = app_variants(res)
    order = []
    for vs in variants.values():
        for x in vs:
            if x not in order:
                order.append(x)
    data, v = None, {}
    cells, ys = [], []
    for w, vs in variants.items():
        cell = []
        for x in order:
            b = res.find(f"app/{w}/{x}")
            m = b.median() if b and not b.skipped else None
            if not m:
                cell.append("? ? ?")
                continue
            vals = b.values() or [m]
            cell.append(f"{m / 1e6:.6g} {min(vals) / 1e6:.6g} {max(vals) / 1e6:.6g}")
            ys += [min(vals) / 1e6, max(vals) / 1e6]
        cells.append(f"{w}\t" + "\t".join(cell))
    if ys:
        data = "# workload, then median min max (ms) of " + ", ".join(order) + \
            "\n" + "\n".join(cells) + "\n"
        ylo, yhi = log_bounds(min(ys), max(ys))
        v = {"nvar": len(order), "titles": " ".join(order), "ymin": ylo, "ymax": yhi,
             "ytics_list": log_tics(ylo, yhi)}
    draw("Real programs: native against each backend and mode", "app", "app.gp", data, v)
    return done


# ------------------------------------------------------------------ main

def render(args):
    os.makedirs(args.outdir, exist_ok=True)
    if args.json and os.path.exists(args.json):
        doc, partial = load_json(args.json)
        res = Results(doc, partial)
    elif args.json and not args.note:
        raise InputError(f"no benchmark JSON: {args.json}")
    else:
        res = Results({}, False, no_json=True)
    checks = make_checks(res)
    if args.samples and not os.path.isdir(args.samples):
        raise InputError(f"no samples folder: {args.samples}")
    samples = read_samples(args.samples)

    ctx = res.context
    host = args.host or ctx.get("host") or ctx.get("host_name", "unknown")
    kernel = args.kernel or ctx.get("kernel", "unknown")
    commit = args.commit or ctx.get("commit", "unknown")
    date = str(ctx.get("date", ""))[:16].replace("T", " ")
    subtitle = f"{host}, Linux {kernel}, pinning {ctx.get('pinning', '?')}, commit {commit}"
    if date:
        subtitle += f", {date}"

    plots = [] if args.no_plots else draw_plots(
        res, samples, os.path.join(args.outdir, "plots"), subtitle)

    write_atomic(os.path.join(args.outdir, "checks.json"), json.dumps({
        "schema": 1,
        "host": host, "kernel": kernel, "commit": commit,
        "noise_cv": NOISE_CV, "decisive_k": DECISIVE_K,
        "partial": res.partial,
        "checks": [c.as_json() for c in checks],
    }, indent=2) + "\n")
    write_atomic(os.path.join(args.outdir, "summary.md"),
                 render_summary(res, checks, samples, plots, args))

    counts = {}
    for c in checks:
        counts[c.status] = counts.get(c.status, 0) + 1
    print(f"{PROG}: {len(res.benches)} benchmarks; self-checks: " +
          ", ".join(f"{counts.get(s, 0)} {s}" for s in ("PASS", "FAIL", "NOISY", "SKIP", "n/a")),
          file=sys.stderr)
    for c in checks:
        if c.status in ("FAIL", "NOISY"):
            print(f"{PROG}: {c.status_text()}: {c.title}: "
                  f"{c.measured[0] if c.measured else ''} ({c.limit})", file=sys.stderr)
    return 0


def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render", help="write summary.md, checks.json and plots/")
    r.add_argument("--json", help="the Google Benchmark JSON (may be missing with --note)")
    r.add_argument("--samples", help="the PTBENCH_SAMPLES_DIR of the run")
    r.add_argument("--outdir", required=True)
    r.add_argument("--note", help="a line for the top of summary.md (why no JSON, ...)")
    r.add_argument("--no-plots", action="store_true")
    r.add_argument("--host")
    r.add_argument("--kernel")
    r.add_argument("--commit")
    r.set_defaults(func=render)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
