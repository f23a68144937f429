#!/usr/bin/env python3
"""The core's exported symbols, from its public header.

Usage: exports.py version-script HEADER OUT   write the linker version script
       exports.py list [--behaviour|--introspection] HEADER
                                              print the API's names, one a line
       exports.py check-archive --nm NM ARCHIVE
       exports.py check-shared --nm NM --header HEADER LIB.so
       exports.py check-behaviour --nm NM --header HEADER OBJECT...
       exports.py check-platform --nm NM --header HEADER LIB.so
       exports.py --self-test

The header (core/include/ptplat.h) is the only list of the API: meson runs
"version-script" at build time, so libptplat.so exports exactly the functions
(and objects) the header declares, and nothing of the core's internals or the
stub's symbols. "check-archive" fails (exit 1) when the static archive defines
a global symbol without the ptp_ prefix (it would collide in an application
that links the archive); "check-shared" fails when the shared library's
dynamic symbol table (nm -D) differs from the header's list, either way.

The header marks the functions that introspect this design (or steer it
for a test) with PTP_INTROSPECTION; the rest is the behaviour API.
"check-behaviour" fails (exit 1) when an object file or archive (a
behaviour conformance group's code, the harness) refers to a marked
function. "check-platform" checks that LIB.so is a shared object that
defines the whole behaviour API (for "ptbench test --platform"): one line
and exit 2 otherwise.

The parser knows the header's own C: comments, preprocessor lines, the
extern "C" braces, struct/enum bodies and declarations ending in ';'. A
statement with a parenthesis that is not a plain function declaration is an
error, so that no declaration is missed silently.
"""
import argparse
import re
import subprocess
import sys

PREFIX = "ptp_"
# The header's mark for a function that is not part of the behaviour
# contract (it expands to nothing).
INTROSPECTION_MARK = "PTP_INTROSPECTION"

FUNCTION = re.compile(r"^(?:[A-Za-z_]\w*[\s*]+)+(" + PREFIX + r"\w+)\s*\([^()]*\)$")
OBJECT = re.compile(r"^extern\s+(?:[A-Za-z_]\w*[\s*]+)+(" + PREFIX + r"\w+)(?:\[[^]]*\])?$")


class HeaderError(Exception):
    pass


def strip_comments_and_directives(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    lines = []
    continued = False
    for line in text.splitlines():
        directive = continued or line.lstrip().startswith("#")
        continued = directive and line.rstrip().endswith("\\")
        if not directive:
            lines.append(line)
    text = "\n".join(lines)
    return re.sub(r'extern\s+"C"\s*\{', " ", text)


ATTRIBUTE = re.compile(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)")


def drop_bodies(text):
    """Removes every {...} (struct and enum bodies, the bodies of static
    inline functions, which end their statement) and the stray '}' that
    closed extern "C"."""
    out, depth, ends_function = [], 0, False
    for ch in text:
        if ch == "{":
            if depth == 0:
                ends_function = "".join(out).rstrip().endswith(")")
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
            if depth == 0 and ends_function:
                out.append(";")
                ends_function = False
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def api_names(text):
    """The functions and objects a header declares, in order."""
    return [name for name, _ in api_declarations(text)]


def api_declarations(text):
    """(name, marked PTP_INTROSPECTION) for every function and object a
    header declares, in order."""
    names = []
    marked = []
    text = ATTRIBUTE.sub(" ", strip_comments_and_directives(text))
    for stmt in drop_bodies(text).split(";"):
        stmt = " ".join(stmt.split())
        # Types, and inline functions, which the library does not export.
        if not stmt or stmt.startswith(("typedef", "static")):
            continue
        m = FUNCTION.match(stmt) or OBJECT.match(stmt)
        if m:
            names.append(m.group(1))
            marked.append(stmt.split()[0] == INTROSPECTION_MARK)
        elif "(" in stmt or stmt.startswith("extern"):
            raise HeaderError("cannot read this declaration: " + stmt)
        elif re.search(r"\b" + PREFIX, stmt) is None and not stmt.startswith(
                ("struct", "enum", "union", "typedef")):
            raise HeaderError("unexpected statement: " + stmt)
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        raise HeaderError("declared twice: " + ", ".join(sorted(dups)))
    return list(zip(names, marked))


def read_api(header):
    with open(header, encoding="utf-8") as f:
        return api_names(f.read())


def read_api_kinds(header):
    """(behaviour names, introspection names) of a header."""
    with open(header, encoding="utf-8") as f:
        decls = api_declarations(f.read())
    return ([n for n, m in decls if not m], [n for n, m in decls if m])


def version_script(names):
    body = "".join("\t\t%s;\n" % n for n in names)
    return ("/* Generated from ptplat.h by core/exports.py: do not edit. */\n"
            "{\n\tglobal:\n%s\tlocal:\n\t\t*;\n};\n" % body)


def nm_defined_globals(nm, path, dynamic):
    args = [nm, "-P", "--defined-only", "-g"]
    if dynamic:
        args.append("-D")
    out = subprocess.run(args + [path], check=True, capture_output=True,
                         text=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        # Archive member headers ("lib.a[x.o]:") have no type field.
        if len(fields) >= 2 and not fields[0].endswith(":"):
            names.add(fields[0])
    return names


# ASan's compiler emits an ODR indicator for every global variable,
# "__odr_asan.NAME": it is NAME's (and the '.' keeps it out of C's names).
SANITIZER_PREFIXES = ("__odr_asan.",)


def unprefixed(names):
    def own_name(n):
        for p in SANITIZER_PREFIXES:
            if n.startswith(p):
                return n[len(p):]
        return n
    return sorted(n for n in names if not own_name(n).startswith(PREFIX))


def check_archive(nm, archive):
    bad = unprefixed(nm_defined_globals(nm, archive, dynamic=False))
    if bad:
        print("%s defines %d global symbol(s) without the %s prefix: %s"
              % (archive, len(bad), PREFIX, " ".join(bad)), file=sys.stderr)
        return 1
    print("ok: every global symbol of %s starts with %s" % (archive, PREFIX))
    return 0


def check_shared(nm, header, lib):
    want = set(read_api(header))
    have = nm_defined_globals(nm, lib, dynamic=True)
    missing, extra = sorted(want - have), sorted(have - want)
    for what, names in (("missing", missing), ("not in the header", extra)):
        if names:
            print("%s exports, %s: %s" % (lib, what, " ".join(names)),
                  file=sys.stderr)
    if missing or extra:
        return 1
    print("ok: %s exports exactly the %d functions of %s" % (lib, len(want), header))
    return 0


def nm_undefined(nm, path):
    """{object file: names it refers to but does not define}; an archive's
    members by their names."""
    out = subprocess.run([nm, "-P", "-u", "-A", path], check=True,
                         capture_output=True, text=True).stdout
    refs = {}
    for line in out.splitlines():
        # "lib.a[x.o]: name U" (or "x.o: name U")
        where, _, rest = line.rpartition(": ")
        fields = rest.split()
        if where and fields:
            refs.setdefault(where, set()).add(fields[0])
    return refs


def introspection_calls(refs, introspection):
    return sorted((obj, sorted(names & introspection))
                  for obj, names in refs.items() if names & introspection)


def check_behaviour(nm, header, objects):
    _, introspection = read_api_kinds(header)
    bad = []
    for path in objects:
        bad += introspection_calls(nm_undefined(nm, path), set(introspection))
    for obj, names in bad:
        print("%s calls %s (marked %s in %s): move the case into the "
              "internals set (conformance/meson.build's internals_groups)"
              % (obj, " ".join(names), INTROSPECTION_MARK, header), file=sys.stderr)
    if bad:
        return 1
    print("ok: %d behaviour object(s) call none of the %d introspection functions"
          % (len(objects), len(introspection)))
    return 0


ELF_MAGIC = b"\x7fELF"
ET_DYN = 3


def elf_type(path):
    """The ELF e_type of path, or None when it is not an ELF file."""
    with open(path, "rb") as f:
        head = f.read(18)
    if len(head) < 18 or head[:4] != ELF_MAGIC:
        return None
    order = "little" if head[5] == 1 else "big"
    return int.from_bytes(head[16:18], order)


# The missing names one error line lists.
MISSING_SHOWN = 6


def is_pie_executable(path):
    """A PIE executable is ET_DYN too: its dynamic section's FLAGS_1 says
    PIE (readelf -d; False when readelf cannot tell)."""
    try:
        out = subprocess.run(["readelf", "-d", path], capture_output=True,
                             text=True).stdout
    except OSError:
        return False
    return any("FLAGS_1" in line and "PIE" in line.split() for line in out.splitlines())


def check_platform(nm, header, lib):
    """One line and 2 when lib cannot stand in for the core; 0 otherwise."""
    behaviour, _ = read_api_kinds(header)
    try:
        kind = elf_type(lib)
    except OSError as e:
        print("%s: cannot read it: %s" % (lib, e.strerror), file=sys.stderr)
        return 2
    if kind != ET_DYN:
        print("%s: not a shared object (%s)" % (
            lib, "not ELF" if kind is None else "ELF type %d" % kind), file=sys.stderr)
        return 2
    if is_pie_executable(lib):
        print("%s: a (PIE) executable, not a shared object" % lib, file=sys.stderr)
        return 2
    try:
        have = nm_defined_globals(nm, lib, dynamic=True)
    except subprocess.CalledProcessError:
        print("%s: nm -D cannot read its dynamic symbols" % lib, file=sys.stderr)
        return 2
    missing = [n for n in behaviour if n not in have]
    if missing:
        shown = " ".join(missing[:MISSING_SHOWN])
        if len(missing) > MISSING_SHOWN:
            shown += " and %d more" % (len(missing) - MISSING_SHOWN)
        print("%s: does not define %d function(s) of the behaviour API: %s"
              % (lib, len(missing), shown), file=sys.stderr)
        return 2
    print("ok: %s defines the %d functions of the behaviour API" % (lib, len(behaviour)))
    return 0


SAMPLE = r'''
#ifndef X_H
#define X_H
#define PTP_MACRO(a, \
		  b) ((a) + (b))
#ifdef __cplusplus
extern "C" {
#endif
struct ptp_thing;
/* int ptp_commented_out(void); */
enum ptp_kind { PTP_A = 1, PTP_B, };
struct ptp_opts {
	bool pin; /* not a function(void); */
	unsigned int n;
};
void ptp_plain(struct ptp_opts *o);
const struct ptp_opts *ptp_pointer(const struct ptp_thing *t);
int ptp_array(struct ptp_thing *t, const uint64_t args[6],
	      long *result);
unsigned int ptp_noargs(void); // trailing comment
PTP_INTROSPECTION unsigned int ptp_peek(const struct ptp_thing *t);
extern const char *ptp_object;
typedef void (*ptp_callback)(struct ptp_thing *t);
static inline int ptp_inline(int x) { if (x) { return 1; } return 0; }
__attribute__((warn_unused_result)) int ptp_attr(void) __attribute__((nonnull(1)));
#ifdef __cplusplus
}
#endif
#endif
'''


def self_test():
    failures = 0

    def expect(cond, what):
        nonlocal failures
        if not cond:
            failures += 1
            print("FAIL: " + what, file=sys.stderr)

    names = api_names(SAMPLE)
    expect(names == ["ptp_plain", "ptp_pointer", "ptp_array", "ptp_noargs",
                     "ptp_peek", "ptp_object", "ptp_attr"],
           "sample header read as %s" % names)
    marked = [n for n, m in api_declarations(SAMPLE) if m]
    expect(marked == ["ptp_peek"], "introspection read as %s" % marked)
    refs = {"g.a[a.o]": {"ptp_plain", "memcpy"}, "g.a[b.o]": {"ptp_peek"}}
    expect(introspection_calls(refs, {"ptp_peek"}) == [("g.a[b.o]", ["ptp_peek"])],
           "introspection calls")
    for bad in ("int (*ptp_fnptr)(void);", "int ptp_a(void); int ptp_a(void);",
                "extern int weird;", "int x, (y);"):
        try:
            api_names(bad)
            expect(False, "accepted: " + bad)
        except HeaderError:
            pass
    script = version_script(["ptp_a", "ptp_b"])
    expect("\t\tptp_a;\n\t\tptp_b;\n\tlocal:\n\t\t*;" in script,
           "version script:\n" + script)
    expect(unprefixed({"ptp_ok", "arch_x", "main", "__odr_asan.ptp_lock",
                       "__odr_asan.lock"}) == ["__odr_asan.lock", "arch_x", "main"],
           "prefix filter")
    print("exports self-test: %s" % ("FAIL" if failures else "ok"))
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    vs = sub.add_parser("version-script")
    vs.add_argument("header")
    vs.add_argument("out")
    ls = sub.add_parser("list")
    kind = ls.add_mutually_exclusive_group()
    kind.add_argument("--behaviour", action="store_true")
    kind.add_argument("--introspection", action="store_true")
    ls.add_argument("header")
    cb = sub.add_parser("check-behaviour")
    cb.add_argument("--nm", required=True)
    cb.add_argument("--header", required=True)
    cb.add_argument("objects", nargs="+")
    cp = sub.add_parser("check-platform")
    cp.add_argument("--nm", required=True)
    cp.add_argument("--header", required=True)
    cp.add_argument("lib")
    ca = sub.add_parser("check-archive")
    ca.add_argument("--nm", required=True)
    ca.add_argument("archive")
    cs = sub.add_parser("check-shared")
    cs.add_argument("--nm", required=True)
    cs.add_argument("--header", required=True)
    cs.add_argument("lib")
    a = ap.parse_args()
    try:
        if a.cmd == "version-script":
            text = version_script(read_api(a.header))
            with open(a.out, "w", encoding="utf-8") as f:
                f.write(text)
            return 0
        if a.cmd == "list":
            behaviour, introspection = read_api_kinds(a.header)
            names = (behaviour if a.behaviour else introspection if a.introspection
                     else read_api(a.header))
            print("\n".join(names))
            return 0
        if a.cmd == "check-behaviour":
            return check_behaviour(a.nm, a.header, a.objects)
        if a.cmd == "check-platform":
            return check_platform(a.nm, a.header, a.lib)
        if a.cmd == "check-archive":
            return check_archive(a.nm, a.archive)
        return check_shared(a.nm, a.header, a.lib)
    except (HeaderError, OSError, subprocess.CalledProcessError) as e:
        print("exports.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
