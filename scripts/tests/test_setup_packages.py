"""scripts/ptbench setup installs what Google Benchmark's compare.py needs.

The README tells users to run Debian's compare.py (libbenchmark-tools) on
our bench.json with Debian's python3. Its modules that are not in Python's
standard library come from Debian packages: every one of them, and
libbenchmark-tools itself, must be in lib.sh's PTBENCH_PACKAGES (the list
setup installs), and after setup Debian's python3 must import them. The
modules are read from compare.py's own imports, so a new dependency in a
later libbenchmark-tools fails here rather than at the user's first run.
"""
import ast
import os
import subprocess
import sys
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(os.path.dirname(HERE), "lib.sh")
BENCHMARK_TOOLS = "/usr/share/benchmark"
COMPARE_PY = os.path.join(BENCHMARK_TOOLS, "compare.py")
DEBIAN_PY = "/usr/bin/python3"
TOOLS_PACKAGE = "libbenchmark-tools"


def setup_packages():
    """PTBENCH_PACKAGES as lib.sh defines it."""
    out = subprocess.run(["bash", "-c", 'source "$1" && printf "%s\\n" "${PTBENCH_PACKAGES[@]}"',
                          "bash", LIB], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def third_party_imports(root):
    """Top-level modules imported by the .py files under root that are
    neither the standard library nor root's own."""
    files, local = [], set()
    for d, dirs, names in os.walk(root):
        for n in names:
            if n.endswith(".py"):
                files.append(os.path.join(d, n))
                local.add(n[:-3])
        local.update(dirs)
    mods = set()
    for path in files:
        with open(path, encoding="utf-8") as f, warnings.catch_warnings():
            # Their regexes' escapes are not ours to warn about.
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods.add(node.module.split(".")[0])
    return sorted(m for m in mods if m not in sys.stdlib_module_names and m not in local)


def owning_package(path):
    """The Debian package that installed path (dpkg -S), or None."""
    r = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
    if r.returncode:
        return None
    return r.stdout.split(":", 1)[0].strip()


@unittest.skipIf(os.environ.get("PTBENCH_SKIP_SETUP") == "1",
                 "PTBENCH_SKIP_SETUP=1: the packages were installed by hand")
class CompareDependencies(unittest.TestCase):
    def setUp(self):
        if not os.path.isfile("/usr/bin/dpkg-query"):
            self.skipTest("not a Debian system (no dpkg-query): setup cannot install packages")
        self.packages = setup_packages()

    def test_setup_installs_the_tools(self):
        self.assertIn(TOOLS_PACKAGE, self.packages, "compare.py's package is not in PTBENCH_PACKAGES")
        self.assertTrue(os.path.isfile(COMPARE_PY),
                        f"no {COMPARE_PY}: run scripts/ptbench setup")

    def test_setup_installs_every_module_compare_py_imports(self):
        if not os.path.isfile(COMPARE_PY):
            self.skipTest(f"no {COMPARE_PY} (test_setup_installs_the_tools says why)")
        mods = third_party_imports(BENCHMARK_TOOLS)
        self.assertIn("scipy", mods, "compare.py's imports were not read")
        for mod in mods:
            with self.subTest(module=mod):
                r = subprocess.run([DEBIAN_PY, "-c", f"import {mod}; print({mod}.__file__)"],
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0,
                                 f"{DEBIAN_PY} cannot import {mod}, which compare.py needs: "
                                 f"run scripts/ptbench setup ({r.stderr.strip().splitlines()[-1:]})")
                pkg = owning_package(os.path.dirname(r.stdout.strip()))
                self.assertIsNotNone(pkg, f"{mod} is not from a Debian package")
                self.assertIn(pkg, self.packages,
                              f"compare.py imports {mod} from {pkg}, which PTBENCH_PACKAGES lacks")


if __name__ == "__main__":
    unittest.main()
