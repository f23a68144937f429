#!/usr/bin/python3
"""A KernelCI KCIDB v5.3 report of a ptbench results folder.

Usage:
  kcidb.py info --out FILE --date ISO [--build NAME=DIR=COMMAND]...
      Write the facts of this run that the results folder does not hold
      (run.json): the git checkout (full commit, describe, branch, https
      remote), per build its compiler, architecture, compile flags (from
      meson's intro-targets.json) and meson options, and the machine
      (kernel, CPU model, CPUs, host). scripts/ptbench run writes it.
  kcidb.py report DIR [--info FILE] [--out FILE]
      Write DIR/kcidb.json (or FILE) from DIR/testlog.json (required),
      DIR/run.json (or --info), DIR/bench.json (optional): version 5.3;
      one checkout; a build per build in run.json; one test per TAP case
      (PASS, FAIL or SKIP; the reason in misc.reason) or per program
      without TAP, with a dot-separated path (scripts/ptcases.py); one per
      benchmark (DONE with number {value: median real time, unit: ns}, or
      SKIP with the benchmark's error as the reason); kernel and CPU in
      each test's environment.misc; every id "ptbench:...". The document is
      checked against the schema before it is written.
  kcidb.py validate FILE [--schema SCHEMA]
      Check FILE against scripts/schema/kcidb-v05_03-ptbench.schema.json
      (JSON Schema Draft 7, Debian's python3-jsonschema): "valid" and exit
      0, or one line per error and exit 1.

Exit status: 0 done, 1 an invalid document, 2 on a missing or malformed
input (one line on stderr).
"""

import json
import os
import platform
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptcases  # noqa: E402
import ptcli  # noqa: E402
import ptfmt  # noqa: E402

PROG = "kcidb.py"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCHEMA = os.path.join(HERE, "schema", "kcidb-v05_03-ptbench.schema.json")
ORIGIN = "ptbench"
InputError = ptcli.InputError

# kcidb's log_excerpt limit (kcidb_io/schema/v05_03.py, test.log_excerpt).
LOG_EXCERPT_MAX = 16384
KCIDB_STATUS = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}


def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"cannot read {what} {path}: {e.strerror}") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{what} {path} is not JSON: {e}") from e


# ------------------------------------------------------------------ info

def git(*args):
    r = subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    return r.stdout.strip() if r.returncode == 0 else ""


def checkout_facts():
    facts = {"commit": git("rev-parse", "HEAD"),
             "describe": git("describe", "--always", "--dirty"),
             "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
             "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    url = git("remote", "get-url", "origin")
    if url.startswith("https://"):
        facts["url"] = url
    return facts


def compiler_version(cmd):
    try:
        r = subprocess.run([cmd, "--version"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    except OSError:
        return cmd
    return (r.stdout.splitlines() or [cmd])[0].strip()


def build_facts(name, builddir, command):
    """The compiler, flags and options of a configured meson build."""
    info = os.path.join(builddir, "meson-info")
    targets = read_json(os.path.join(info, "intro-targets.json"), "meson introspection")
    options = read_json(os.path.join(info, "intro-buildoptions.json"), "meson introspection")
    flags, compiler = [], "unknown"
    # The core library's flags stand for the build's (every target shares
    # the project's arguments).
    for t in sorted(targets, key=lambda t: t.get("name") != "ptplat"):
        for src in t.get("target_sources", []):
            if src.get("language") == "c" and src.get("compiler"):
                compiler = compiler_version(src["compiler"][0])
                flags = [p for p in src.get("parameters", []) if not p.startswith("-I")]
                break
        if flags:
            break
    wanted = {"buildtype", "optimization", "debug", "b_sanitize", "b_ndebug", "c_std",
              "warning_level", "werror", "c_args"}
    opts = {o["name"]: o["value"] for o in options
            if o.get("name") in wanted or o.get("section") == "user"}
    return {"name": name, "compiler": compiler, "c_flags": " ".join(flags),
            "meson_options": opts, "command": command, "architecture": platform.machine()}


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "CPU part"):
                    return value.strip()
    except OSError:
        pass
    return "unknown"


def machine_facts():
    u = os.uname()
    return {"host": u.nodename, "kernel": u.release, "kernel_build": u.version,
            "machine": u.machine, "cpu_model": cpu_model(), "cpus": os.cpu_count() or 0}


def cmd_info(args):
    builds = []
    for spec in args.build:
        name, sep, rest = spec.partition("=")
        builddir, sep2, command = rest.partition("=")
        if not (sep and sep2 and name and builddir):
            raise InputError(f"--build wants NAME=DIR=COMMAND, not '{spec}'")
        builds.append(build_facts(name, builddir, command))
    doc = {"date": args.date, "checkout": checkout_facts(), "builds": builds,
           "machine": machine_facts()}
    ptcli.write_atomic(args.out, json.dumps(doc, indent=1) + "\n")
    return 0


# ------------------------------------------------------------------ report

def environment(machine):
    return {"comment": str(machine.get("host", "unknown")),
            "misc": {k: machine[k] for k in ("kernel", "kernel_build", "machine", "cpu_model",
                                             "cpus", "host") if k in machine}}


def make_doc(run_id, info, cases, bench):
    """The KCIDB document (a dict) of one run."""
    date = info.get("date") or "1970-01-01T00:00:00Z"
    co = info.get("checkout", {})
    checkout_id = f"{ORIGIN}:{run_id}"
    checkout = {"id": checkout_id, "origin": ORIGIN, "tree_name": "ptbench",
                "start_time": date, "valid": True, "misc": {"dirty": bool(co.get("dirty"))}}
    if re.fullmatch(r"[0-9a-f]{40}", co.get("commit", "")):
        checkout["git_commit_hash"] = co["commit"]
    for key, field in (("describe", "git_commit_name"), ("branch", "git_repository_branch"),
                       ("url", "git_repository_url")):
        if co.get(key):
            checkout[field] = co[key]
    builds, build_ids = [], {}
    for b in info.get("builds", []):
        bid = f"{ORIGIN}:{run_id}:build.{ptcases.segment(b['name'])}"
        build_ids[b["name"]] = bid
        builds.append({
            "id": bid, "origin": ORIGIN, "checkout_id": checkout_id, "start_time": date,
            "comment": f"build/{b['name']}", "config_name": b["name"],
            "architecture": b.get("architecture", "unknown"), "compiler": b.get("compiler", "unknown"),
            "command": b.get("command", ""), "status": "PASS",
            "misc": {"c_flags": b.get("c_flags", ""), "meson_options": b.get("meson_options", {})}})
    if bench is not None and "bench" not in build_ids:
        # An older folder (no run.json facts of build/bench): the
        # benchmark JSON's context says how it was built.
        ctx = bench.context
        bid = build_ids["bench"] = f"{ORIGIN}:{run_id}:build.bench"
        builds.append({
            "id": bid, "origin": ORIGIN, "checkout_id": checkout_id, "start_time": date,
            "comment": "build/bench", "config_name": "bench",
            "architecture": str(ctx.get("arch") or "unknown"),
            "compiler": str(ctx.get("compiler") or "unknown"), "status": "PASS",
            "misc": {"c_flags": str(ctx.get("cflags") or "")}})
    if bench is not None:
        # How the benchmarks ran: the same for every one of them.
        for b in builds:
            if b["id"] == build_ids["bench"]:
                b["misc"]["bench_context"] = {k: bench.context[k] for k in (
                    "pinning", "switch_mode", "num_cpus", "mhz_per_cpu",
                    "native_getpid_ns_at_start", "mitigations") if k in bench.context}
    env = environment(info.get("machine", {}))
    tests = []
    test_build = build_ids.get("test") or next(iter(build_ids.values()), f"{ORIGIN}:{run_id}:build.unknown")
    for c in cases:
        t = {"id": f"{ORIGIN}:{run_id}:{c.name}", "origin": ORIGIN, "build_id": test_build,
             "path": c.name, "status": KCIDB_STATUS[c.status], "start_time": date,
             "environment": env, "comment": c.desc or c.program,
             "misc": {"suite": c.suite, "program": c.program}}
        if c.reason:
            t["misc"]["reason"] = c.reason
        if c.status == "fail" and c.reason:
            t["log_excerpt"] = c.reason[-LOG_EXCERPT_MAX:]
        if c.duration is not None:
            t["duration"] = round(c.duration, 6)
        tests.append(t)
    if bench is not None:
        bench_build = build_ids["bench"]
        for key in sorted(bench.benches):
            b = bench.benches[key]
            path = ptcases.bench_path(key)
            t = {"id": f"{ORIGIN}:{run_id}:{path}", "origin": ORIGIN, "build_id": bench_build,
                 "path": path, "start_time": date, "environment": env, "comment": key,
                 "misc": {"repetitions": b.nreps() or 0}}
            median = b.median()
            if median is None:
                t["status"] = "SKIP"
                t["misc"]["reason"] = b.error or "no repetition ran"
            else:
                t["status"] = "DONE"
                t["number"] = {"value": median, "unit": "ns"}
                cv = b.cv()
                if cv is not None:
                    t["misc"]["cv"] = cv
            if b.label:
                t["misc"]["label"] = b.label
            tests.append(t)
    return {"version": {"major": 5, "minor": 3}, "checkouts": [checkout], "builds": builds,
            "tests": tests}


def schema_errors(doc, schema_path=SCHEMA):
    """The validation errors of doc (strings; none: valid)."""
    try:
        import jsonschema
    except ImportError as e:
        raise InputError("python3-jsonschema is not installed (ptbench setup installs it)") from e
    schema = read_json(schema_path, "schema")
    v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    out = []
    for e in sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(document)"
        out.append(f"{where}: {e.message}")
    return out


def cmd_report(args):
    d = args.dir
    if not os.path.isdir(d):
        raise InputError(f"no results folder {d}")
    cases = ptcases.cases_of_testlog(os.path.join(d, "testlog.json"))
    info = read_json(args.info or os.path.join(d, "run.json"), "run facts")
    if not isinstance(info, dict):
        raise InputError(f"{args.info or os.path.join(d, 'run.json')}: not a JSON object")
    bench_json = os.path.join(d, "bench.json")
    bench = ptfmt.Results.load(bench_json, salvage=False) if os.path.exists(bench_json) else None
    run_id = os.path.basename(os.path.abspath(d))
    doc = make_doc(run_id, info, cases, bench)
    errors = schema_errors(doc)
    if errors:
        print(f"{PROG}: the report breaks the schema (a bug): {errors[0]}", file=sys.stderr)
        return 1
    out = args.out or os.path.join(d, "kcidb.json")
    ptcli.write_atomic(out, json.dumps(doc, indent=1) + "\n")
    print(out)
    return 0


def cmd_validate(args):
    doc = read_json(args.file, "KCIDB document")
    errors = schema_errors(doc, args.schema)
    for e in errors:
        print(f"{args.file}: {e}")
    if not errors:
        print(f"{args.file}: valid")
    return 1 if errors else 0


def main(argv):
    p = ptcli.Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("info", help="write run.json: checkout, builds, machine")
    i.add_argument("--out", required=True)
    i.add_argument("--date", required=True, help="the run's start, ISO 8601 UTC")
    i.add_argument("--build", action="append", default=[], metavar="NAME=DIR=COMMAND")
    i.set_defaults(func=cmd_info)
    r = sub.add_parser("report", help="write DIR/kcidb.json")
    r.add_argument("dir")
    r.add_argument("--info", help="run.json (default DIR/run.json)")
    r.add_argument("--out", help="default DIR/kcidb.json")
    r.set_defaults(func=cmd_report)
    v = sub.add_parser("validate", help="check a document against the schema")
    v.add_argument("file")
    v.add_argument("--schema", default=SCHEMA)
    v.set_defaults(func=cmd_validate)
    return ptcli.run(PROG, p, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
