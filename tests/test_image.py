"""The action's image, run the way the GitHub runner runs it (issue 13).

`scripts/build-image.sh` builds it with podman, and `.ci/run` passes its tag in
SUPADEPLOY_IMAGE; without that variable (no container engine) these tests are
skipped, saying why. Each run is `podman run --rm --workdir /github/workspace`
with the workspace, /github/file_commands, /github/home and
/github/runner_temp mounted, the GITHUB_* variables, and every input of
action.yml as a hyphenated INPUT_* variable (empty when unset), like the runner.
The database URL runs use the host's network, to reach a test cluster on
loopback. SUPADEPLOY_ENGINE=docker runs them with Docker instead of podman.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import ALL, NEWEST, REPO, parse_outputs

IMAGE = os.environ.get("SUPADEPLOY_IMAGE")
ENGINE = os.environ.get("SUPADEPLOY_ENGINE", "podman")  # docker works too (the GitHub CI job uses it)
pytestmark = pytest.mark.skipif(not IMAGE, reason="SUPADEPLOY_IMAGE is not set: .ci/run builds the image "
                                                  "(scripts/build-image.sh) and sets it")
ACTION = yaml.safe_load((REPO / "action.yml").read_text())


@dataclass
class Ran:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str

    @property
    def report(self) -> dict:
        return json.loads(self.outputs["report"])


@pytest.fixture
def runner(tmp_path: Path):
    """A workspace with the WellTrack repository's files, and a function that runs the image on it."""
    workspace = tmp_path / "workspace"
    shutil.copytree(REPO / "migrations", workspace / "migrations")
    shutil.copytree(REPO / "assertions", workspace / "assertions")
    count = [0]

    def run(user: str | None = None, read_only: bool = False, network_host: bool = False,
            mounts: tuple[str, ...] = ("home", "runner_temp"), workspace_mode: str = "rw", **inputs: str) -> Ran:
        count[0] += 1
        files = tmp_path / f"file_commands_{count[0]}"
        files.mkdir()
        args = [ENGINE, "run", "--rm", "--workdir", "/github/workspace",
                "-v", f"{workspace}:/github/workspace:{workspace_mode}", "-v", f"{files}:/github/file_commands:rw"]
        for name in mounts:
            folder = tmp_path / f"{name}_{count[0]}"
            folder.mkdir()
            os.chmod(folder, 0o777)
            args += ["-v", f"{folder}:/github/{name}:rw"]
        if user:
            args += ["--user", user]
            os.chmod(files, 0o777)
        if read_only:
            args += ["--read-only"] + (["--read-only-tmpfs=false"] if ENGINE == "podman" else [])  # no tmpfs
        if network_host:
            args += ["--network", "host"]
        env = {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": "/github/workspace",
               "GITHUB_OUTPUT": "/github/file_commands/output", "GITHUB_STEP_SUMMARY": "/github/file_commands/summary",
               "GITHUB_EVENT_NAME": "push", "GITHUB_REPOSITORY": "welltrack/welltrack", "GITHUB_REF": "refs/heads/main"}
        if "home" in mounts:
            env["HOME"] = "/github/home"
        if "runner_temp" in mounts:
            env["RUNNER_TEMP"] = "/github/runner_temp"
        for name, spec in ACTION["inputs"].items():
            env[f"INPUT_{name.upper()}"] = str(inputs.get(name.replace("-", "_"), spec.get("default", "")))
        for name, value in env.items():
            args += ["-e", f"{name}={value}"]
        done = subprocess.run([*args, IMAGE], capture_output=True, text=True, timeout=300)
        output, summary = files / "output", files / "summary"
        return Ran(done.returncode, done.stdout + done.stderr,
                   parse_outputs(output.read_text()) if output.exists() else {},
                   summary.read_text() if summary.exists() else "")

    return run


def test_deploy_replays_and_verifies_in_the_image(runner):
    ran = runner(command="deploy")
    assert ran.code == 0, ran.log
    assert ran.outputs["status"] == "success" and ran.outputs["applied-count"] == str(len(ALL))
    assert ran.outputs["schema-version"] == NEWEST and json.loads(ran.outputs["failed-assertions"]) == []
    assert "assertions 36/36 passed" in ran.log and "::group::Deploy (tx-mode file" in ran.log
    assert "### Assertions: 36/36 passed" in ran.summary


def test_plan_and_verify_through_a_database_url_from_the_image(runner, pg18):
    db = pg18
    plan = runner(command="plan", db_url=db.dsn, network_host=True)
    assert plan.code == 0, plan.log
    assert plan.report["dry_run"] is True and json.loads(plan.outputs["applied-versions"]) == ALL
    assert db.history() == []  # rolled back
    deploy = runner(command="deploy", db_url=db.dsn, network_host=True)
    assert deploy.code == 0 and db.history() == ALL, deploy.log
    verify = runner(command="verify", db_url=db.dsn, network_host=True)
    assert verify.code == 0 and verify.report["round_trips"] == 1, verify.log


def test_a_bad_input_is_one_error_and_exit_2(runner):
    ran = runner(command="destroy")
    assert ran.code == 2
    errors = [line for line in ran.log.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "input 'command' must be one of" in errors[0]


def test_lint_in_the_image(runner):
    ran = runner(command="lint", max_lock_risk="note")
    assert ran.code == 0, ran.log
    assert ran.report["findings"] == []


def test_a_user_without_a_passwd_entry_can_deploy(runner):
    """`docker run --user 1001`: initdb needs a passwd entry; libnss_wrapper in the image gives it one."""
    ran = runner(command="deploy", user="1001:1001")
    assert ran.code == 0, ran.log
    assert "assertions 36/36 passed" in ran.log


def test_a_read_only_root_uses_the_runner_temp(runner):
    ran = runner(command="deploy", read_only=True)
    assert ran.code == 0, ran.log
    assert "assertions 36/36 passed" in ran.log


def test_a_read_only_root_without_a_writable_folder_is_one_clear_error(runner):
    ran = runner(command="deploy", read_only=True, mounts=(), workspace_mode="ro")
    assert ran.code == 2, ran.log
    assert "no writable temporary directory for the local database" in ran.log
    assert "internal error" not in ran.log and "Traceback" not in ran.log


def test_the_image_holds_no_build_leftovers_or_build_secret():
    done = subprocess.run(
        [ENGINE, "run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
         "ls -d /opt/supadeploy/build /opt/supadeploy/*.egg-info /opt/supadeploy/src/*.egg-info /root/.cache "
         "/run/secrets/ca /tmp/requirements.lock /tmp/install-pgvector.sh /var/lib/apt/lists/*.lz4 "
         "/var/lib/apt/lists/*_Packages 2>/dev/null; command -v gcc pip pip3; "
         "/opt/venv/bin/python -c 'import supadeploy, httpx, psycopg, pglast, yaml; print(\"imports ok\")'; "
         "ls /opt/supadeploy/cache/postgres /opt/supadeploy/cache/extensions; /opt/venv/bin/squawk --version"],
        capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert lines[0] == "imports ok", done.stdout + done.stderr
    assert any(line.startswith("15.") for line in lines) and any(line.startswith("17.") for line in lines)
    assert "squawk" in lines[-1]
    inspect = subprocess.run([ENGINE, "image", "inspect", IMAGE], capture_output=True, text=True, check=True)
    config = json.loads(inspect.stdout)[0]["Config"]
    assert config["Entrypoint"] == ["/opt/venv/bin/python", "/opt/supadeploy/entrypoint.py"]
    assert not config.get("User") and not config.get("WorkingDir", "").strip("/")
    history = subprocess.run([ENGINE, "history", "--no-trunc", "--format", "{{.CreatedBy}}", IMAGE],
                             capture_output=True, text=True, check=True).stdout
    assert "BEGIN CERTIFICATE" not in history
