#!/usr/bin/env python3
"""GitHub Action entrypoint: the action's inputs become supadeploy CLI arguments.

The runner passes each input as `INPUT_<NAME>` with hyphens kept
(`project-ref` → `INPUT_PROJECT-REF`), unset ones as "" or their default, and
never enforces `required`. This file checks what the chosen command needs,
resolves paths against GITHUB_WORKSPACE, and hands over to `supadeploy.cli.main`:
one code path for the action and the terminal. It imports nothing heavy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # a checkout without an install

from supadeploy.errors import EXIT_BAD_INPUT  # noqa: E402
from supadeploy.masking import shown  # noqa: E402
from supadeploy.reporting import input_error, mask  # noqa: E402

COMMANDS = ("plan", "deploy", "verify", "status")
BOOLEANS = {"true": True, "false": False, "": None, "auto": None}
VALUE_FLAGS = {"project-ref": "--project-ref", "access-token": "--access-token", "db-url": "--db-url",
               "api-url": "--api-url", "tx-mode": "--tx-mode", "target-version": "--target-version",
               "lock-timeout": "--lock-timeout", "statement-timeout": "--statement-timeout"}
SWITCHES = {"include-all": "--include-all", "fail-on-warnings": "--fail-on-warnings"}


class InputError(Exception):
    """One wrong or missing input: reported as a single ::error, exit 2."""


def read_input(env: Mapping[str, str], name: str) -> str:
    return env.get(f"INPUT_{name.upper().replace(' ', '_')}", "").strip()


def boolean(env: Mapping[str, str], name: str) -> bool | None:
    value = read_input(env, name).lower()
    if value not in BOOLEANS:
        raise InputError(f"input '{name}' must be true or false, not {shown(value)}")
    return BOOLEANS[value]


def cli_arguments(env: Mapping[str, str]) -> list[str]:
    """The CLI argument list for these inputs, or InputError."""
    command = read_input(env, "command") or "deploy"
    if command not in COMMANDS:
        raise InputError(f"input 'command' must be one of {', '.join(COMMANDS)}, not {shown(command)}")
    has = {name: bool(read_input(env, name)) for name in ("project-ref", "access-token", "db-url", "api-url")}
    if has["db-url"] and (has["project-ref"] or has["access-token"]):
        raise InputError("give either 'db-url' or 'project-ref' with 'access-token', not both")
    if has["project-ref"] != has["access-token"]:
        given, missing = ("project-ref", "access-token") if has["project-ref"] else ("access-token", "project-ref")
        raise InputError(f"input '{given}' is set but '{missing}' is empty: the Management API needs both "
                         "(an empty secret usually means it is not available to this workflow, e.g. on a fork)")
    if has["api-url"] and not has["project-ref"]:
        raise InputError("input 'api-url' needs 'project-ref' and 'access-token'")
    tx_mode = read_input(env, "tx-mode")
    if tx_mode and tx_mode not in ("file", "all"):
        raise InputError(f"input 'tx-mode' must be file or all, not {shown(tx_mode)}")
    dry_run = boolean(env, "dry-run")
    if dry_run and command not in ("plan", "deploy"):
        raise InputError(f"input 'dry-run' applies to plan and deploy, not to {command}")
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    argv = [command]
    migrations = workspace / (read_input(env, "migrations-dir") or "migrations")
    if not migrations.is_dir():
        raise InputError(f"migrations-dir '{read_input(env, 'migrations-dir') or 'migrations'}' is not a folder "
                         "in the repository: did the job run actions/checkout first?")
    argv += ["--migrations-dir", str(migrations)]
    assertions = read_input(env, "assertions")
    if assertions.lower() == "none":
        argv.append("--no-assertions")
    elif assertions:
        path = workspace / assertions
        if not path.is_file():
            raise InputError(f"assertions file '{assertions}' was not found in the repository")
        argv += ["--assertions", str(path)]
    for name, flag in VALUE_FLAGS.items():
        value = read_input(env, name)
        if value:
            argv += [flag, value]
    for name, flag in SWITCHES.items():
        if boolean(env, name):
            argv.append(flag)
    if dry_run is not None:
        argv.append("--dry-run" if dry_run else "--no-dry-run")
    return argv


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    if len(sys.argv) > 1:  # `entrypoint.py --help` and friends: straight to the CLI
        from supadeploy.cli import main as cli_main

        return cli_main(sys.argv[1:])
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
    from supadeploy.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
