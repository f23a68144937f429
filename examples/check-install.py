#!/usr/bin/env python3
"""The install test: libptplat as a user gets it.

Usage: check-install.py --build-dir DIR --prefix P --libdir L --cc CC
                        --nm NM --exports EXPORTS_PY --example API_C
                        --version V [--cflags FLAG]...

Installs the build into a fresh DESTDIR (meson install --destdir), checks
the installed files and the shared library's soname, builds the example
with `pkg-config --cflags --libs ptplat` against the installed files only
(PKG_CONFIG_PATH and PKG_CONFIG_SYSROOT_DIR point into the DESTDIR), and
again statically from the installed libptplat.a (`pkg-config --static`),
runs both, and checks the installed .so's exports (nm -D) against the
installed header's API (core/exports.py check-shared). Exit 0 when all
holds, 1 when something does not, 77 (skip, with the reason) when the
library is for another machine than this one (a cross build cannot run
the example here).
"""
import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile

SKIP = 77
# ELF e_machine values of the arches the core supports, by uname -m.
ELF_MACHINE = {"x86_64": 62, "aarch64": 183}


def elf_machine(path):
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        raise ValueError(path + " is not an ELF file")
    return int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")


def run(cmd, env=None, what=None):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s\n%s%s" % (
            what or cmd[0], r.returncode, " ".join(map(shlex.quote, cmd)),
            r.stdout, r.stderr))
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    for opt in ("build-dir", "prefix", "libdir", "cc", "nm", "exports",
                "example", "version"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--cflags", action="append", default=[],
                    help="extra compiler flags (the build's sanitizers)")
    a = ap.parse_args()
    major = a.version.split(".")[0]

    with tempfile.TemporaryDirectory(prefix="ptplat-install-") as dest:
        run(["meson", "install", "-C", a.build_dir, "--no-rebuild", "--quiet",
             "--destdir", dest], what="meson install")
        libdir = a.libdir if os.path.isabs(a.libdir) else os.path.join(a.prefix, a.libdir)
        lib = dest + libdir
        inc = dest + os.path.join(a.prefix, "include")
        so = os.path.join(lib, "libptplat.so")
        want = [os.path.join(inc, "ptplat.h"), os.path.join(lib, "libptplat.a"), so,
                "%s.%s" % (so, major), "%s.%s" % (so, a.version),
                os.path.join(lib, "pkgconfig", "ptplat.pc")]
        missing = [w for w in want if not os.path.exists(w)]
        if missing:
            print("not installed: " + " ".join(missing), file=sys.stderr)
            return 1
        print("ok: installed " + " ".join(os.path.relpath(w, dest) for w in want))

        host = ELF_MACHINE.get(platform.machine())
        if elf_machine(so) != host:
            print("SKIP: the installed library is for ELF machine %d, this "
                  "machine (%s) runs %s: a cross build cannot run the example "
                  "here" % (elf_machine(so), platform.machine(), host))
            return SKIP

        soname = run(["readelf", "-d", so], what="readelf")
        if "Library soname: [libptplat.so.%s]" % major not in soname:
            print("%s: no soname libptplat.so.%s:\n%s" % (so, major, soname),
                  file=sys.stderr)
            return 1
        print("ok: soname libptplat.so.%s" % major)

        env = dict(os.environ,
                   PKG_CONFIG_PATH=os.path.join(lib, "pkgconfig"),
                   PKG_CONFIG_SYSROOT_DIR=dest)
        cflags = shlex.split(run(["pkg-config", "--cflags", "ptplat"], env, "pkg-config"))
        libs = shlex.split(run(["pkg-config", "--libs", "ptplat"], env, "pkg-config"))
        static_libs = shlex.split(run(["pkg-config", "--static", "--libs", "ptplat"],
                                      env, "pkg-config"))
        if "-I" + inc not in cflags or "-L" + lib not in libs:
            print("pkg-config points outside the DESTDIR: %s %s" % (cflags, libs),
                  file=sys.stderr)
            return 1
        # The archive by its name, so the static build cannot pick the .so.
        static_libs = ["-l:libptplat.a" if f == "-lptplat" else f for f in static_libs]
        warn = ["-Wall", "-Wextra", "-Werror"]
        builds = {
            "shared": cflags + libs,
            "static": cflags + static_libs,
        }
        for kind, flags in builds.items():
            exe = os.path.join(dest, "api-" + kind)
            run(shlex.split(a.cc) + warn + a.cflags + [a.example, "-o", exe] + flags,
                what="cc (%s)" % kind)
            needed = run(["readelf", "-d", exe], what="readelf")
            linked = "Shared library: [libptplat.so.%s]" % major in needed
            if linked != (kind == "shared"):
                print("api-%s: libptplat.so.%s %s in its NEEDED" % (
                    kind, major, "is" if linked else "is not"), file=sys.stderr)
                return 1
            out = run([exe], dict(os.environ, LD_LIBRARY_PATH=lib), "api-" + kind)
            sys.stdout.write(out)
            if "libptplat %s," % a.version not in out or "api: ok" not in out:
                print("api-%s did not report version %s and ok" % (kind, a.version),
                      file=sys.stderr)
                return 1
            print("ok: the example, built %s with pkg-config, runs" % kind)

        return subprocess.run([sys.executable, a.exports, "check-shared", "--nm", a.nm,
                               "--header", os.path.join(inc, "ptplat.h"),
                               os.path.realpath(so)]).returncode


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ValueError) as e:
        print("check-install: %s" % e, file=sys.stderr)
        sys.exit(1)
