"""`python -m supadeploy.platform prepare [MAJOR...]`: download, verify and prepare the local replay's
PostgreSQL ahead of time (the Docker image and CI do, so a run downloads nothing)."""

from __future__ import annotations

import sys

from .binaries import SUPPORTED_MAJORS, ensure, from_system


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "prepare":
        sys.stderr.write("usage: python -m supadeploy.platform prepare [MAJOR...] [--system MAJOR...]\n")
        return 2
    args = argv[1:]
    system = args[args.index("--system") + 1:] if "--system" in args else []
    majors = [int(a) for a in (args[:args.index("--system")] if "--system" in args else args)] or list(SUPPORTED_MAJORS)
    for major in majors:
        found = ensure(major, _progress)
        sys.stdout.write(f"PostgreSQL {major}: {found.root} (pgvector: {'yes' if found.has_extension('vector') else 'no'})\n")
    for major in map(int, system):
        found = from_system(major)
        sys.stdout.write(f"PostgreSQL {major} (installed): {found.root} "
                         f"(pgvector: {'yes' if found.has_extension('vector') else 'no'})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
