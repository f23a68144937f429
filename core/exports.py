#!/usr/bin/env python3
"""The core's exported symbols, from its public header.

Usage: exports.py version-script HEADER OUT   write the linker version script
       exports.py list HEADER                 print the API's names, one a line
       exports.py check-archive --nm NM ARCHIVE
       exports.py check-shared --nm NM --header HEADER LIB.so
       exports.py --self-test

The header (core/include/ptplat.h) is the only list of the API: meson runs
"version-script" at build time, so libptplat.so exports exactly the functions
(and objects) the header declares, and nothing of the core's internals or the
stub's symbols. "check-archive" fails (exit 1) when the static archive defines
a global symbol without the ptp_ prefix (it would collide in an application
that links the archive); "check-shared" fails when the shared library's
dynamic symbol table (nm -D) differs from the header's list, either way.

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
    names = []
    text = ATTRIBUTE.sub(" ", strip_comments_and_directives(text))
    for stmt in drop_bodies(text).split(";"):
        stmt = " ".join(stmt.split())
        # Types, and inline functions, which the library does not export.
        if not stmt or stmt.startswith(("typedef", "static")):
            continue
        m = FUNCTION.match(stmt) or OBJECT.match(stmt)
        if m:
            names.append(m.group(1))
        elif "(" in stmt or stmt.startswith("extern"):
            raise HeaderError("cannot read this declaration: " + stmt)
        elif re.search(r"\b" + PREFIX, stmt) is None and not stmt.startswith(
                ("struct", "enum", "union", "typedef")):
            raise HeaderError("unexpected statement: " + stmt)
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        raise HeaderError("declared twice: " + ", ".join(sorted(dups)))
    return names


def read_api(header):
    with open(header, encoding="utf-8") as f:
        return api_names(f.read())


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
                     "ptp_object", "ptp_attr"], "sample header read as %s" % names)
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
    ls.add_argument("header")
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
            print("\n".join(read_api(a.header)))
            return 0
        if a.cmd == "check-archive":
            return check_archive(a.nm, a.archive)
        return check_shared(a.nm, a.header, a.lib)
    except (HeaderError, OSError, subprocess.CalledProcessError) as e:
        print("exports.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
