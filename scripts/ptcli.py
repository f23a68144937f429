"""What every ptbench Python tool shares: the bad-input error, atomic writes,
and the main() wrapper that turns errors into one line and exit 2."""

import argparse
import os
import sys
import tempfile


class InputError(Exception):
    """A missing, empty or malformed input: one line, exit 2."""


def write_atomic(path, text):
    """Write via a tmp.* file in the same folder, then rename over path."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="tmp.", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2); its subparsers too."""

    def error(self, message):
        print(f"{self.prog}: {message} (try: {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def run(prog, parser, argv):
    """Parse argv and call the subcommand's func(args); bad input and I/O
    errors become one line on stderr and exit code 2."""
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (InputError, OSError) as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
