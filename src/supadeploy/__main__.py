"""`python -m supadeploy` (and the `supadeploy` console script): a Ctrl-C while the program is still loading
ends like any other interruption, never in a traceback."""

import sys


def main() -> None:
    try:
        from .cli import entry  # noqa: PLC0415 - inside the guard: the import itself can be interrupted
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    entry()


if __name__ == "__main__":
    main()
