#!/usr/bin/env python3
"""The core's layering test: every reference between core objects points down.

Usage: check-layers.py --nm NM --archive LIBPTPLAT.a --core-dir DIR
       check-layers.py --self-test

Reads `nm -A -P` of the archive (each object's defined and undefined
symbols), resolves every undefined symbol to the object defining it, and
fails (exit 1) when a reference runs to the same or a higher layer than its
own, when references run in a circle, or when an object has no layer. A
reference is a reference to nm: taking a function's address shows as the
same undefined symbol as calling it, so a lower layer cannot hand a higher
layer's function around either. What nm cannot see are calls through
function pointers; upward calls go only through core/backend.h's ops and
the executor's requests (service.c), and the README lists each one.
"""
import argparse
import fnmatch
import os
import subprocess
import sys

# Bottom first; paths relative to core/. A file may reference only files of
# layers below its own.
LAYERS = [
    ("arch", ["arch/*/*.c", "../stub/arch/*/*.S"]),
    ("transport", ["ptrace.c", "abi.c", "filter.c", "backend/systrap/bpf.c"]),
    ("executor", ["service.c"]),
    ("registry", ["tracer.c"]),
    ("backends and the fault record", ["backend/*/*.c", "fault.c"]),
    ("address spaces", ["as.c"]),
    ("contexts", ["context.c"]),
    ("platform", ["platform.c"]),
]


def layer_of(path):
    for level, (name, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatch(path, p) for p in patterns):
            return level, name
    return None


def read_nm(nm, archive):
    """{object: (defined set, undefined set)} from nm -A -P."""
    out = subprocess.run([nm, "-A", "-P", archive], check=True,
                         capture_output=True, text=True).stdout
    objs = {}
    for line in out.splitlines():
        head, _, rest = line.partition("]: ")
        if not rest or "[" not in head:
            continue
        obj = os.path.basename(head.split("[", 1)[1])
        fields = rest.split()
        name, kind = fields[0], fields[1]
        defined, undefined = objs.setdefault(obj, (set(), set()))
        if kind == "U":
            undefined.add(name)
        elif kind.isupper():
            defined.add(name)
    return objs


def source_of(obj, core_dir):
    """The source (relative to core/) meson compiled obj from: meson names
    an object after its path from the target's folder, '/' made '_'."""
    stem = obj[:-2] if obj.endswith(".o") else obj
    for top in (core_dir, os.path.join(core_dir, "..", "stub")):
        for d, _, names in os.walk(top):
            for n in names:
                rel = os.path.relpath(os.path.join(d, n), core_dir)
                if rel.replace(os.sep, "_") == stem:
                    return rel
    return None


def circles(edges):
    """Strongly connected sets of more than one node (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def check(objs):
    """Problems (strings) in {source: (defined, undefined)}."""
    problems, owner, edges = [], {}, {}
    for src, (defined, _) in objs.items():
        for sym in defined:
            owner[sym] = src
    for src in sorted(objs):
        if layer_of(src) is None:
            problems.append(f"{src}: in no layer (declare it in core/check-layers.py)")
    for src in sorted(objs):
        for sym in sorted(objs[src][1]):
            dst = owner.get(sym)
            if dst is None or dst == src:
                continue
            edges.setdefault(src, set()).add(dst)
            a, b = layer_of(src), layer_of(dst)
            if a is not None and b is not None and b[0] >= a[0]:
                problems.append(f"{src} ({a[1]}) -> {dst} ({b[1]}): {sym} "
                                f"points {'up' if b[0] > a[0] else 'sideways'}")
    for comp in circles(edges):
        problems.append("circle: " + " ".join(comp))
    return problems


def self_test():
    """The checker itself can fail: an upward reference, a sideways one, a
    circle and an unknown file are each caught; a clean stack passes."""
    clean = {"ptrace.c": ({"ptp_wait"}, set()),
             "tracer.c": ({"ptp_tracer_thread"}, {"ptp_wait"}),
             "platform.c": ({"ptp_open"}, {"ptp_tracer_thread", "ptp_wait"})}
    cases = [
        ("clean", clean, 0),
        ("up", {**clean, "ptrace.c": ({"ptp_wait"}, {"ptp_open"})}, 1),
        ("sideways", {**clean, "fault.c": ({"ptp_fault"}, set()),
                      "backend/ptrace/backend.c": (set(), {"ptp_fault"})}, 1),
        ("unknown", {**clean, "new.c": (set(), set())}, 1),
    ]
    bad = 0
    for name, objs, want_min in cases:
        got = check(objs)
        ok = (len(got) >= want_min) if want_min else not got
        print(f"{'ok' if ok else 'not ok'} - self-test {name}: {got or 'clean'}")
        bad += not ok
    loop = circles({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    print(f"{'ok' if loop == [['a', 'b', 'c']] else 'not ok'} - self-test circle: {loop}")
    bad += loop != [["a", "b", "c"]]
    return 1 if bad else 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nm")
    ap.add_argument("--archive")
    ap.add_argument("--core-dir")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not (a.nm and a.archive and a.core_dir):
        ap.error("--nm, --archive and --core-dir are needed")
    try:
        raw = read_nm(a.nm, a.archive)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"check-layers: cannot read {a.archive} with {a.nm}: {e}", file=sys.stderr)
        return 1
    objs = {}
    for obj, syms in raw.items():
        src = source_of(obj, a.core_dir)
        if src is None:
            print(f"check-layers: {obj} in {a.archive}: no source under {a.core_dir}",
                  file=sys.stderr)
            return 1
        objs[src] = syms
    problems = check(objs)
    for p in problems:
        print(f"check-layers: {p}")
    if not problems:
        print(f"check-layers: {len(objs)} objects in {len(LAYERS)} layers, "
              "every reference points down")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
