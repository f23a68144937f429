#!/usr/bin/env python3
"""The ABI check: libptplat.so against the committed baseline.

Usage: check-abi.py --baseline FILE --headers DIR --readelf READELF LIB.so
       check-abi.py --update --baseline FILE --headers DIR --readelf READELF LIB.so

The baseline (core/abi/libptplat-ARCH.abi) is abidw's XML (Debian's
abigail-tools) of the library's functions and of the types the public
header defines. The check runs abidiff with the header folder as the public
headers (--hd1/--hd2: the layout of the core's internal structures is not
ABI) and --no-added-syms: added functions and variables are compatible and
pass (they are listed); a removed function, a changed signature, or a
changed layout of a type a program sees (struct ptp_options, ptp_event, ...)
fails, with abidiff's report. An issue that changes the ABI on purpose bumps
PTP_VERSION_MAJOR (the soname) and rewrites the baseline with --update
(`ninja -C build/test abi-baseline`), in the same commit.

Exit 0 compatible, 1 incompatible or an error, 77 (skip, with the reason)
when abidiff is not installed or the library has no debug information
(abidiff needs DWARF for types).
"""
import argparse
import os
import shutil
import subprocess
import sys

SKIP = 77
ABIDW_FLAGS = ["--no-comp-dir-path", "--no-corpus-path"]


def has_debug_info(readelf, lib):
    out = subprocess.run([readelf, "-S", "-W", lib], check=True,
                         capture_output=True, text=True).stdout
    return ".debug_info" in out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--headers", required=True)
    ap.add_argument("--readelf", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("lib")
    a = ap.parse_args()

    tools = {t: shutil.which(t) for t in ("abidw", "abidiff")}
    if not all(tools.values()):
        print("SKIP: %s not installed (Debian's abigail-tools; scripts/ptbench "
              "setup installs it)" % " and ".join(t for t, p in tools.items() if not p))
        return SKIP
    if not has_debug_info(a.readelf, a.lib):
        print("SKIP: %s has no DWARF (.debug_info): abidiff cannot compare "
              "types without it; a debug build has it" % a.lib)
        return SKIP

    if a.update:
        xml = subprocess.run([tools["abidw"]] + ABIDW_FLAGS + [
            "--headers-dir", a.headers, a.lib], check=True, capture_output=True,
            text=True).stdout
        with open(a.baseline, "w", encoding="utf-8") as f:
            f.write(xml)
        print("wrote %s from %s" % (a.baseline, a.lib))
        return 0

    if not os.path.exists(a.baseline):
        print("no ABI baseline %s: write it with --update (ninja abi-baseline)"
              % a.baseline, file=sys.stderr)
        return 1
    diff = [tools["abidiff"], "--hd1", a.headers, "--hd2", a.headers]
    strict = subprocess.run(diff + ["--no-added-syms", a.baseline, a.lib],
                            capture_output=True, text=True)
    if strict.returncode != 0:
        sys.stdout.write(strict.stdout)
        sys.stderr.write(strict.stderr)
        print("FAIL: %s is not compatible with %s (abidiff exit %d). If the "
              "change is meant, bump PTP_VERSION_MAJOR and the project version, "
              "then rewrite the baseline: ninja -C BUILD abi-baseline"
              % (a.lib, a.baseline, strict.returncode), file=sys.stderr)
        return 1
    full = subprocess.run(diff + [a.baseline, a.lib], capture_output=True, text=True)
    sys.stdout.write(full.stdout)
    print("ok: %s is compatible with %s%s" % (
        a.lib, a.baseline, " (additions only)" if full.returncode else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, subprocess.CalledProcessError) as e:
        print("check-abi: %s" % e, file=sys.stderr)
        sys.exit(1)
