"""The GitHub Action's inputs and outputs: one table, from which action.yml and the README's tables are
generated (scripts/gen_action.py) and entrypoint.py builds the CLI arguments. It imports nothing heavy.

The runner passes each input as `INPUT_<NAME>` with hyphens kept (`project-ref` →
`INPUT_PROJECT-REF`), unset ones as "" or their default, and never enforces
`required`; these checks do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .masking import shown
from .model import RunStatus
from .options import CHECKING, COMMAND_NAMES, OPTIONS, Option

BOOLEANS = {"true": True, "false": False, "": None, "auto": None}


@dataclass(frozen=True)
class Input:
    """An action input, as action.yml declares it: an option of the table (or `command`)."""

    name: str
    description: str
    default: str = ""
    kind: str = "value"  # value | switch (true/false) | tristate (true/false/empty) | special
    commands: tuple[str, ...] = COMMAND_NAMES  # the commands whose CLI takes it
    workspace_path: bool = False

    @property
    def flag(self) -> str:
        return f"--{self.name}"


def _input(option: Option) -> Input:
    description = option.help + (" (true/false)" if option.kind == "switch" else "")
    default = "false" if option.kind == "switch" else str(option.default) if option.choices and option.default else ""
    kind = "special" if option.kind == "repeat" else option.kind
    return Input(option.name, description, default, kind, option.commands, option.workspace_path)


INPUTS: tuple[Input, ...] = (
    Input("command", f"What to do: {' | '.join(COMMAND_NAMES)}.", "deploy", "special"),
    *(_input(option) for option in OPTIONS if not option.cli_only),
)
OUTPUTS: dict[str, str] = {
    "status": " | ".join(RunStatus),
    "applied-count": "How many migrations were applied (in a dry run: would be applied).",
    "pending-count": "How many local migrations are still not applied afterwards.",
    "applied-versions": "JSON array of the versions applied (in a dry run: that would be applied).",
    "schema-version": "The newest migration version applied on the target after this step (empty: none); gate an "
                      "app deploy on it.",
    "failed-assertions": "JSON array of the names of failed assertions.",
    "report": "The whole run as JSON (trimmed to failures when very large).",
    "report-path": "Where the JSON report was written, when the report input was given.",
    "junit-path": "Where the JUnit XML was written, when the junit input was given.",
    "pr-comment-path": "Where the pull-request comment was written, when the pr-comment input was given.",
    "matrix": "rollout with github-matrix WAVE: that wave's matrix (JSON: shards, max_parallel, digest, matrix).",
    "waves": "rollout with github-matrix '*': how many waves the fleet file has.",
    **{f"wave{n}": f"rollout with github-matrix '*': the matrix of the fleet's wave {n} (JSON; shards 0 when there "
                   "is no such wave or it comes before from-wave)." for n in range(1, 7)},  # MATRIX_SLOTS
}


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
    if command not in COMMAND_NAMES:
        raise InputError(f"input 'command' must be one of {', '.join(COMMAND_NAMES)}, not {shown(command)}")
    has = {name: bool(read_input(env, name)) for name in ("project-ref", "access-token", "db-url", "api-url")}
    if command == "rollout" or read_input(env, "fleet"):
        _check_fleet_inputs(command, has)
    elif has["db-url"] and (has["project-ref"] or has["access-token"]):
        raise InputError("give either 'db-url' or 'project-ref' with 'access-token', not both")
    elif has["project-ref"] != has["access-token"]:
        given, missing = ("project-ref", "access-token") if has["project-ref"] else ("access-token", "project-ref")
        raise InputError(f"input '{given}' is set but '{missing}' is empty: the Management API needs both "
                         "(an empty secret usually means it is not available to this workflow, e.g. on a fork)")
    elif has["api-url"] and not has["project-ref"]:
        raise InputError("input 'api-url' needs 'project-ref' and 'access-token'")
    tx_mode = read_input(env, "tx-mode")
    if tx_mode and tx_mode not in ("file", "all"):
        raise InputError(f"input 'tx-mode' must be file or all, not {shown(tx_mode)}")
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    argv = [command]
    for spec in INPUTS:
        if spec.kind == "special":
            continue
        if command not in spec.commands:  # given (other than its default) to a command that ignores it
            given = read_input(env, spec.name)
            if given and given != spec.default:
                raise InputError(f"input '{spec.name}' applies to {', '.join(spec.commands)}, not to {command}")
            continue
        if spec.kind == "switch":
            if boolean(env, spec.name):
                argv.append(spec.flag)
        elif spec.kind == "tristate":
            choice = boolean(env, spec.name)
            if choice is not None:
                argv.append(spec.flag if choice else f"--no-{spec.name}")
        elif (text := read_input(env, spec.name)):
            argv += [spec.flag, str(workspace / text) if spec.workspace_path else text]
    migrations = read_input(env, "migrations-dir")
    if migrations and not (workspace / migrations).is_dir():
        raise InputError(f"migrations-dir '{migrations}' is not a folder in the repository: did the job run "
                         "actions/checkout first?")
    if not migrations and not any((workspace / d).is_dir() for d in ("migrations", "supabase/migrations")):
        raise InputError("no migrations/ or supabase/migrations/ folder in the repository: did the job run "
                         "actions/checkout first? (or set migrations-dir)")
    if command in CHECKING:
        argv += _assertion_arguments(env, workspace)
    return argv


def _check_fleet_inputs(command: str, has: dict[str, bool]) -> None:
    """A fleet's projects come from its file (rollout, status with fleet): one access token, no project-ref or
    db-url."""
    if not has["access-token"]:
        raise InputError(f"command {command} with a fleet needs 'access-token' (one token that sees every project "
                         "of the fleet; an empty secret usually means it is not available to this workflow or "
                         "environment)")
    if has["project-ref"] or has["db-url"]:
        raise InputError(f"command {command} with a fleet works on the projects of its fleet file: leave "
                         "'project-ref' and 'db-url' empty")


def _assertion_arguments(env: Mapping[str, str], workspace: Path) -> list[str]:
    value = read_input(env, "assertions")
    if value.lower() == "none":
        return ["--no-assertions"]
    argv: list[str] = []
    for item in (part.strip() for line in value.splitlines() for part in line.split(",")):
        if not item:
            continue
        if not (workspace / item).exists():
            raise InputError(f"assertions '{item}' was not found in the repository")
        argv += ["--assertions", str(workspace / item)]
    return argv
