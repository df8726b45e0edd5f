"""The GitHub Action's inputs and outputs: one table, from which action.yml and the README's tables are
generated (scripts/gen_action.py) and entrypoint.py builds the CLI arguments. It imports nothing heavy.

The runner passes each input as `INPUT_<NAME>` with hyphens kept (`project-ref` →
`INPUT_PROJECT-REF`), unset ones as "" or their default, and never enforces
`required`; these checks do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

COMMANDS = ("plan", "deploy", "verify", "status", "lint")
DEPLOYING = ("plan", "deploy")
CHECKING = ("plan", "deploy", "verify")
BOOLEANS = {"true": True, "false": False, "": None, "auto": None}


@dataclass(frozen=True)
class Input:
    name: str
    description: str
    default: str = ""
    kind: str = "value"  # value | switch (true/false) | tristate (true/false/empty) | special
    commands: tuple[str, ...] = COMMANDS  # the commands whose CLI takes it

    @property
    def flag(self) -> str:
        return f"--{self.name}"


INPUTS: tuple[Input, ...] = (
    Input("command", "What to do: plan | deploy | verify | status | lint.", "deploy", "special"),
    Input("project-ref", "Supabase project ref (20 lowercase letters). With access-token: the Management API target."),
    Input("access-token", "Supabase access token; store it as a secret. Masked in all output."),
    Input("db-url", "Direct database URL instead of the Management API (from a runner: the pooler's, the direct "
                    "host is IPv6-only). Its password is masked."),
    Input("api-url", "Management API base URL (default https://api.supabase.com)."),
    Input("api-timeout", "Read timeout per Management API request, e.g. 75s (default 75s)."),
    Input("pg-major", "PostgreSQL major of the local replay: 15, 17 or 18 (default: [db] major_version in "
                      "supabase/config.toml, else 17)."),
    Input("migrations-dir", "Folder of <version>_<name>.sql files, relative to the repository root (default: "
                            "migrations/, else supabase/migrations/)."),
    Input("assertions", "Assertion YAML files or folders, relative to the repository root, one per line (default: "
                        "supabase/assertions/ or assertions/ when present); none to skip.", kind="special",
          commands=CHECKING),
    Input("tx-mode", "file (one transaction per migration) or all (one for all pending; the assertions gate the "
                     "COMMIT).", "file", commands=DEPLOYING),
    Input("gate", "true: the assertions run before COMMIT and any failure rolls back (needs tx-mode all); false: "
                  "after. Empty: true with tx-mode all.", kind="tristate", commands=DEPLOYING),
    Input("dry-run", "true: apply and verify in one transaction that is always rolled back. Empty: false, except "
                     "plan with credentials, which dry-runs.", kind="tristate", commands=DEPLOYING),
    Input("target-version", "Deploy up to and including this version.", commands=DEPLOYING),
    Input("include-all", "Also apply unapplied files older than the newest applied one (true/false).", "false",
          "switch", DEPLOYING),
    Input("allow-drift", "Deploy although applied files were edited, reporting them as warnings (true/false).",
          "false", "switch", DEPLOYING),
    Input("lock-timeout", "lock_timeout per transaction (default 10s; 2s in a dry run).", commands=DEPLOYING),
    Input("statement-timeout", "statement_timeout per transaction (default 5min).", commands=DEPLOYING),
    Input("lock-wait", "How long to queue behind another deploy (default 30s; 5s in a dry run).",
          commands=DEPLOYING),
    Input("max-lock-risk", "Lock-safety findings at or above this fail the step: note | warning | error | none "
                           "(default error: blocking a table of 1 GiB or more).", "error",
          commands=("plan", "deploy", "lint")),
    Input("fail-on-warnings", "Fail the step on warnings such as drift or skipped files (true/false).", "false",
          "switch"),
    Input("report", "Also write the JSON report to this path (relative to the workspace); its path is the "
                    "report-path output."),
    Input("junit", "Also write JUnit XML to this path (relative to the workspace); its path is the junit-path "
                   "output."),
    Input("pr-comment", "Also write a pull-request comment (Markdown: pending migrations, dry-run result, failed "
                        "assertions, lock-safety findings) to this path (relative to the workspace); post it with "
                        "the workflow_run pattern in the README."),
)

OUTPUTS: dict[str, str] = {
    "status": "success | failed | refused | lock-risk | error | interrupted | unknown | unsupported | cancelled",
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
}


class InputError(Exception):
    """One wrong or missing input: reported as a single ::error, exit 2."""


def read_input(env: Mapping[str, str], name: str) -> str:
    return env.get(f"INPUT_{name.upper().replace(' ', '_')}", "").strip()


def boolean(env: Mapping[str, str], name: str) -> bool | None:
    from .masking import shown

    value = read_input(env, name).lower()
    if value not in BOOLEANS:
        raise InputError(f"input '{name}' must be true or false, not {shown(value)}")
    return BOOLEANS[value]


def cli_arguments(env: Mapping[str, str]) -> list[str]:
    """The CLI argument list for these inputs, or InputError."""
    from .masking import shown

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
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    argv = [command]
    for spec in INPUTS:
        if spec.kind == "special":
            continue
        if command not in spec.commands:  # given (other than its default) to a command that ignores it
            value = read_input(env, spec.name)
            if value and value != spec.default:
                raise InputError(f"input '{spec.name}' applies to {', '.join(spec.commands)}, not to {command}")
            continue
        if spec.kind == "switch":
            if boolean(env, spec.name):
                argv.append(spec.flag)
        elif spec.kind == "tristate":
            value = boolean(env, spec.name)
            if value is not None:
                argv.append(spec.flag if value else f"--no-{spec.name}")
        elif (value := read_input(env, spec.name)):
            argv += [spec.flag, str(workspace / value) if spec.name in ("migrations-dir", "report", "junit", "pr-comment")
                     else value]
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
