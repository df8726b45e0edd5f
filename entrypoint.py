#!/usr/bin/env python3
"""GitHub Action entrypoint: the action's inputs become supadeploy CLI arguments (supadeploy/action.py).

One code path for the action and the terminal: this hands over to `supadeploy.cli.main`. It imports
nothing heavy, so a bad input is reported in milliseconds.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # a checkout without an install

from supadeploy.action import InputError, cli_arguments, read_input  # noqa: E402
from supadeploy.errors import EXIT_BAD_INPUT  # noqa: E402
from supadeploy.report.github import input_error, mask  # noqa: E402


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    from supadeploy.cli import entry_code
    from supadeploy.cli import main as cli_main

    if len(sys.argv) > 1:  # `entrypoint.py --help` and friends: straight to the CLI
        return entry_code(lambda: cli_main(sys.argv[1:]))
    try:
        argv = cli_arguments(env)
    except InputError as exc:
        from supadeploy.masking import Secrets, collect, looks_like_secret

        secrets = Secrets(on_add=mask if env.get("GITHUB_ACTIONS") == "true" else None)
        values = [read_input(env, name) for name in ("access-token", "project-ref", "command", "tx-mode")]
        secrets.add_all(collect([v for v in values if looks_like_secret(v)] + [read_input(env, "access-token")],
                                [read_input(env, "db-url")], env))
        input_error(secrets.scrub(str(exc)))
        return EXIT_BAD_INPUT
    return entry_code(lambda: cli_main(argv))


if __name__ == "__main__":
    sys.exit(main())
