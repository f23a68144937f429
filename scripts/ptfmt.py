#!/usr/bin/python3
"""One reader or writer per format, for every ptbench Python tool: Google
Benchmark JSON (load_json, Results), TAP (parse_tap), Markdown tables
(table) and the Wilson score interval (wilson). The C gate
(bench/compare/) has its own JSON reader; nothing else parses these
formats.

From the command line (for the shell scripts):
  ptfmt.py tap FILE...
      One line per FILE: "passed failed skipped todo planned verdict FILE"
      (planned -1: no plan; verdict pass, fail or none: no TAP line at
      all). A file that cannot be read is one line on stderr and exit 2.
  ptfmt.py context-diff BASE.json NEW.json [--prog NAME]
      A warning line on stderr for each CONTEXT_KEYS entry the two runs
      both record with different values; exit 0. Files that cannot be read
      give no warning (the caller's reader reports them).

Python 3 standard library only.
"""

import json
import math
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptcli  # noqa: E402

InputError = ptcli.InputError

# ------------------------------------------------------------------ Google Benchmark JSON

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
TIME_TYPES = {"real_time", "manual_time", "process_time"}
# name components Google Benchmark appends that do not identify a benchmark
DROP_PARAMS = {"min_time", "min_warmup_time", "iterations", "repeats"}
AGGREGATE_SUFFIX = re.compile(r"_(mean|median|stddev|cv)$")
# JSON keys of a run that are not user counters
RUN_KEYS = {
    "name", "family_index", "per_family_instance_index", "run_name",
    "run_type", "repetitions", "repetition_index", "threads", "iterations",
    "real_time", "cpu_time", "time_unit", "aggregate_name", "aggregate_unit",
    "label", "error_occurred", "error_message", "big_o", "rms",
    "complexity", "bytes_per_second", "items_per_second",
}


# The context entries that make two runs' figures incomparable: the machine
# (host, kernel, CPU) and what ptbench-bench was told (pinning, switch
# mode, backend). "host" is ptbench's own entry (Google Benchmark's is
# host_name).
CONTEXT_KEYS = ("host", "kernel", "cpu_model", "num_cpus", "mhz_per_cpu",
                "pinning", "switch_mode", "backend")


def context_diff(base, new):
    """[(key, base value, new value)] for the CONTEXT_KEYS both contexts
    have and that differ; a key one side lacks is unknown, not different."""
    out = []
    for k in CONTEXT_KEYS:
        if k in base and k in new and str(base[k]) != str(new[k]):
            out.append((k, base[k], new[k]))
    return out


def load_json(path, salvage=True):
    """Return (doc, partial). With salvage, a JSON cut short by a crash is
    read up to its last complete benchmark entry (partial=True); without,
    it is an InputError."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e
    if not text.strip():
        raise InputError(f"benchmark JSON is empty: {path}")
    try:
        doc = json.loads(text)
        partial = False
    except json.JSONDecodeError as e:
        doc = _salvage(text) if salvage else None
        if doc is None:
            raise InputError(f"{path} is not JSON: {e}") from e
        partial = True
    if not isinstance(doc, dict):
        raise InputError(f"{path} is not a Google Benchmark JSON object")
    if not isinstance(doc.get("benchmarks", []), list):
        raise InputError(f"{path}: 'benchmarks' is not a list")
    return doc, partial


def _salvage(text):
    # Google Benchmark writes each run as it ends: objects in "benchmarks"
    # close with a line "    }" (4 spaces).
    cut = text.rfind("\n    }")
    if cut >= 0:
        try:
            return json.loads(text[:cut + 6] + "\n  ]\n}\n")
        except json.JSONDecodeError:
            pass
    m = re.search(r'"benchmarks"\s*:\s*\[', text)
    if m:
        try:
            return json.loads(text[:m.end()] + "]}")
        except json.JSONDecodeError:
            pass
    return None


def parse_name(run_name):
    """'pool/private/real_time/threads:2' -> ('pool/private', [('threads','2')]).

    Drops real_time/manual_time and min_time:/iterations:/repeats:; keeps
    named arguments (pages:4) and threads:N; a bare number after the family
    and name is a positional argument.
    """
    base, params = [], []
    for part in run_name.split("/"):
        if part in TIME_TYPES or not part:
            continue
        if ":" in part:
            k, v = part.split(":", 1)
            if k not in DROP_PARAMS:
                params.append((k, v))
        elif params or (len(base) >= 2 and re.fullmatch(r"-?\d+", part)):
            params.append(("", part))
        else:
            base.append(part)
    return "/".join(base), params


def key_of(base, params):
    return "/".join([base] + [f"{k}:{v}" if k else v for k, v in params])


def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


class Bench:
    """One benchmark instance: its repetitions and aggregates."""

    def __init__(self, key, base, params, threads):
        self.key = key
        self.base = base
        self.params = dict(params)
        if "threads" not in self.params:
            self.params["threads"] = str(threads)
        self.unit = "ns"
        self.reps = []          # iteration runs without error
        self.errors = []        # error messages of failed runs
        self.aggregates = {}    # aggregate name -> run
        self.label = ""

    @property
    def skipped(self):
        return not self.reps and bool(self.errors) and "median" not in self.aggregates

    @property
    def error(self):
        seen = []
        for e in self.errors:
            if e not in seen:
                seen.append(e)
        return "; ".join(seen) if seen else ""

    def param(self, name):
        try:
            return int(self.params.get(name))
        except (TypeError, ValueError):
            return None

    @staticmethod
    def _metric(run, metric):
        if metric == "real_time":
            v = num(run.get("real_time"))
            return None if v is None else v * UNIT_NS.get(run.get("time_unit", "ns"), 1.0)
        return num(run.get(metric))

    def values(self, metric="real_time"):
        """The metric of every repetition (real_time in ns)."""
        vals = [self._metric(r, metric) for r in self.reps]
        return [v for v in vals if v is not None and math.isfinite(v)]

    def median(self, metric="real_time"):
        vals = self.values(metric)
        if vals:
            return statistics.median(vals)
        agg = self.aggregates.get("median")
        return self._metric(agg, metric) if agg else None

    def cv(self, metric="real_time"):
        vals = self.values(metric)
        if len(vals) >= 2:
            mean = statistics.fmean(vals)
            return statistics.stdev(vals) / abs(mean) if mean else None
        agg = self.aggregates.get("cv")
        if agg and (len(vals) != 1):
            return num(agg.get(metric))
        return None

    def nreps(self):
        if self.reps:
            return len(self.reps)
        agg = self.aggregates.get("median")
        return num(agg.get("repetitions")) if agg else 0

    def counters(self):
        names = []
        for r in self.reps or [self.aggregates.get("median") or {}]:
            for k, v in r.items():
                if k not in RUN_KEYS and num(v) is not None and k not in names:
                    names.append(k)
        return names


class Results:
    """The benchmarks of one Google Benchmark JSON, by key (parse_name)."""

    def __init__(self, doc, partial=False, no_json=False):
        self.partial = partial
        self.no_json = no_json
        self.context = doc.get("context") if isinstance(doc.get("context"), dict) else {}
        self.benches = {}
        for run in doc.get("benchmarks", []):
            if not isinstance(run, dict) or not isinstance(run.get("name"), str):
                continue
            run_name = run.get("run_name")
            if not isinstance(run_name, str):
                run_name = AGGREGATE_SUFFIX.sub("", run["name"])
            base, params = parse_name(run_name)
            key = key_of(base, params)
            b = self.benches.get(key)
            if b is None:
                b = self.benches[key] = Bench(key, base, params, run.get("threads", 1))
            if run.get("error_occurred"):
                b.errors.append(str(run.get("error_message") or "error (no message)"))
                continue
            if run.get("run_type") == "aggregate":
                b.aggregates[str(run.get("aggregate_name"))] = run
            else:
                b.reps.append(run)
            if isinstance(run.get("time_unit"), str):
                b.unit = run["time_unit"]
            if run.get("label"):
                b.label = str(run["label"])

    @classmethod
    def load(cls, path, salvage=True):
        return cls(*load_json(path, salvage))

    def find(self, base, **params):
        for b in self.benches.values():
            if b.base != base:
                continue
            if all(b.params.get(k) == str(v) for k, v in params.items()):
                return b
        return None

    def family(self, prefix):
        return [b for b in self.benches.values() if b.base.startswith(prefix)]

    def nproc(self):
        n = num(self.context.get("num_cpus"))
        return int(n) if n else (os.cpu_count() or 1)


# ------------------------------------------------------------------ TAP

# "ok 3 - name # SKIP reason", "not ok 2 # SKIP name" (cmocka), "ok 1"
TAP_LINE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
TAP_SKIP = re.compile(r"^skip\S*\s*(.*)$", re.IGNORECASE)
TAP_TODO = re.compile(r"^todo\b\s*(.*)$", re.IGNORECASE)
TAP_BAIL = re.compile(r"^Bail out!\s*(.*)$")
# The conformance harness's comment right after a result line: the case's
# wall time (TAP has no field for it).
TAP_DURATION = re.compile(r"^#\s*duration_ms:\s*(\d+(?:\.\d+)?)\s*$")
TAP_DIAG = re.compile(r"^\s*#\s?(.*)$")


class TapCase:
    """One top-level test line: its number (None if it has none), its
    description, status ("pass", "fail", "skip" or "todo"), the reason of
    a SKIP or TODO directive, the diagnostics ("# ..." lines) after it and
    its duration in seconds (None unless a "# duration_ms: X" comment
    follows it at once)."""

    def __init__(self, number, desc, status, reason):
        self.number = number
        self.desc = desc
        self.status = status
        self.reason = reason
        self.diag = []
        self.duration = None


class Tap:
    """The top-level lines of one TAP stream. A line with a SKIP directive
    is a skip whether it says "ok" or "not ok" (cmocka prints "not ok N #
    SKIP name"); "not ok # TODO" is a todo, not a failure. Indented
    (subtest) lines, comments and other output are ignored."""

    def __init__(self):
        self.plan = None        # the planned count, or None
        self.passed = self.failed = self.skipped = self.todo = 0
        self.skips = []         # (description, reason); "(whole program)" for 1..0 # SKIP
        self.failures = []      # descriptions of the failed lines
        self.bail_out = None    # the reason of a "Bail out!", or None
        self.cases = []         # TapCase per test line, in order

    @property
    def count(self):
        return self.passed + self.failed + self.skipped + self.todo

    @property
    def verdict(self):
        """'none' without any TAP line; 'pass' with a plan met, no failure
        and no bail-out; else 'fail'."""
        if self.plan is None and self.count == 0 and self.bail_out is None:
            return "none"
        if self.bail_out is not None or self.failed or self.plan != self.count:
            return "fail"
        return "pass"


def parse_tap(text):
    """A Tap of text (None or '' gives an empty one)."""
    t = Tap()
    last = None                 # the case whose comments follow
    for line in (text or "").splitlines():
        line = line.rstrip("\r")
        if last is not None:
            m = TAP_DURATION.match(line)
            if m and last.duration is None and not last.diag:
                last.duration = float(m.group(1)) / 1000
                continue
            m = TAP_DIAG.match(line)
            if m:
                last.diag.append(m.group(1))
                continue
        m = TAP_PLAN.match(line)
        if m:
            t.plan = int(m.group(1))
            sm = TAP_SKIP.match(m.group(2) or "")
            if t.plan == 0 and sm:
                t.skips.append(("(whole program)", sm.group(1).strip()))
            continue
        m = TAP_BAIL.match(line)
        if m:
            t.bail_out = m.group(1).strip()
            continue
        m = TAP_LINE.match(line)
        if not m:
            continue
        status, number, desc, directive = m.groups()
        desc = desc.strip()
        sm = TAP_SKIP.match(directive or "")
        tm = TAP_TODO.match(directive or "")
        reason = ""
        if sm:
            t.skipped += 1
            t.skips.append((desc, sm.group(1).strip()))
            kind, reason = "skip", sm.group(1).strip()
        elif status == "ok":
            t.passed += 1
            kind = "pass"
        elif tm:
            t.todo += 1
            kind, reason = "todo", tm.group(1).strip()
        else:
            t.failed += 1
            t.failures.append(desc)
            kind = "fail"
        last = TapCase(int(number) if number else None, desc, kind, reason)
        t.cases.append(last)
    return t


def read_tap(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return parse_tap(f.read())
    except OSError as e:
        raise InputError(f"cannot read TAP file {path}: {e.strerror}") from e


# ------------------------------------------------------------------ Markdown

def cell(value):
    s = str(value).replace("\r", " ").replace("\n", " ").strip()
    return s.replace("|", "\\|") if s else " "


def table(header, rows, align=None):
    """Markdown table lines; align: one of 'l', 'r' per column (default l)."""
    rule = {"l": "---", "r": "--:"}
    out = ["| " + " | ".join(cell(h) for h in header) + " |",
           "|" + "|".join(rule[(align or "l" * len(header))[i]]
                          for i in range(len(header))) + "|"]
    for r in rows:
        r = list(r) + [""] * (len(header) - len(r))
        out.append("| " + " | ".join(cell(c) for c in r) + " |")
    return out


# ------------------------------------------------------------------ rates

Z95 = 1.959963984540054


def wilson(k, n, z=Z95):
    """The Wilson score interval (lo, hi) of k successes in n trials."""
    if n <= 0:
        raise InputError("a rate over zero trials")
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


# ------------------------------------------------------------------ command line

PROG = "ptfmt.py"


def cmd_tap(args):
    lines = []
    for path in args.files:
        t = read_tap(path)
        plan = -1 if t.plan is None else t.plan
        lines.append(f"{t.passed}\t{t.failed}\t{t.skipped}\t{t.todo}\t{plan}\t{t.verdict}\t{path}")
    print("\n".join(lines))
    return 0


def cmd_context_diff(args):
    ctx = []
    for path in (args.base, args.new):
        try:
            doc, _ = load_json(path, salvage=False)
        except InputError:
            return 0
        c = doc.get("context")
        ctx.append(c if isinstance(c, dict) else {})
    for k, a, b in context_diff(*ctx):
        print(f"{args.prog}: warning: {k} differs: {args.base_label} {a!r}, {args.new_label} {b!r}",
              file=sys.stderr)
    return 0


def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tap", help='"passed failed skipped todo planned verdict FILE" per TAP file')
    t.add_argument("files", nargs="+")
    t.set_defaults(func=cmd_tap)
    c = sub.add_parser("context-diff", help="warn when two runs' contexts differ")
    c.add_argument("base")
    c.add_argument("new")
    c.add_argument("--prog", default=PROG, help="name in front of each warning")
    c.add_argument("--base-label", default="base")
    c.add_argument("--new-label", default="new")
    c.set_defaults(func=cmd_context_diff)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
