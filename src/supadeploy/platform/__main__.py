"""`python -m supadeploy.platform prepare [MAJOR...] [--system MAJOR...]`: the implementation of
`supadeploy platform prepare` (platform/prepare.py); the image and CI run it at build time."""

from __future__ import annotations

import sys

from ..errors import SupadeployError, outcome
from .prepare import prepare


def _say(message: str) -> None:
    sys.stderr.write(f"  … {message}\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "prepare" or not all(a == "--system" or a.isdigit() for a in argv[1:]):
        sys.stderr.write("usage: python -m supadeploy.platform prepare [MAJOR...] [--system MAJOR...]\n")
        return 2
    args = argv[1:]
    cut = args.index("--system") if "--system" in args else len(args)
    try:
        done = prepare([int(a) for a in args[:cut]] or None, _say, [int(a) for a in args[cut + 1:]])
    except SupadeployError as exc:
        sys.stderr.write(f"supadeploy platform prepare: {exc}\n")
        return outcome(exc).exit_code
    for item in done:
        sys.stdout.write(item.summary() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
