"""Adopting supadeploy in any Supabase repository (issue: layout, visible target, live progress, honest plan).

Each point of the issue, as a new user meets it: a repository laid out by the
Supabase CLI, the database named in every channel, a question before a remote
deploy, progress as it happens, a plan that tells the truth, errors with a
caret, a terminal that never crashes.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from conftest import ALL, MIGRATIONS, NEWEST, REPO
from support.signals import interruptible

SUPADEPLOY = [sys.executable, "-m", "supadeploy"]


def cli_repo(root: Path, migrations: dict[str, str], major: int | None = None) -> Path:
    """A repository as `supabase init` lays it out."""
    folder = root / "supabase" / "migrations"
    folder.mkdir(parents=True)
    for name, text in migrations.items():
        (folder / name).write_text(text)
    config = 'project_id = "demo"\n\n[api]\nport = 54321\n\n[db]\nport = 54322\n'
    if major:
        config += f"major_version = {major}\n"
    (root / "supabase" / "config.toml").write_text(config)
    return root


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SUPABASE_"))}
    base.pop("CI", None)
    return subprocess.run(SUPADEPLOY + args, cwd=cwd, env={**base, **(env or {}), "PYTHONPATH": str(REPO / "src")},
                          capture_output=True, text=True, timeout=timeout)


def test_a_supabase_cli_repository_deploys_with_no_flags(tmp_path):
    repo = cli_repo(tmp_path, {"20240101000000_init.sql": "create table public.notes (id int primary key);\n"
                                                          "alter table public.notes enable row level security;\n"},
                    major=15)
    done = run(["deploy"], repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == "supadeploy deploy → local PostgreSQL 15 (supabase/config.toml)"
    assert ("migrations: supabase/migrations/ (found supabase/migrations/ of the Supabase CLI project "
            "(supabase/config.toml), 1 file(s))") in done.stdout
    assert "nothing was verified (no assertions)" in done.stdout


def test_assertions_compose_from_files_and_folders(pg18, run_cli, tmp_path):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "a.yml").write_text("assertions:\n  - name: one table\n    sql: {query: \"select 1\", expect: 1}\n")
    (tmp_path / "checks" / "b.yaml").write_text("assertions:\n  - name: two\n    sql: {query: \"select 2\", expect: 2}\n")
    (tmp_path / "extra.yml").write_text("assertions:\n  - name: three\n    sql: {query: \"select 3\", expect: 3}\n")
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--assertions",
                     tmp_path / "checks", "--assertions", tmp_path / "extra.yml", "--format", "json")
    assert result.code == 0, result.err
    assert [a["name"] for a in result.json["assertions"]] == ["one table", "two", "three"]
    (tmp_path / "dup.yml").write_text("assertions:\n  - name: two\n    sql: {query: \"select 2\", expect: 2}\n")
    clash = run_cli("verify", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--assertions",
                    tmp_path / "checks", "--assertions", tmp_path / "dup.yml")
    assert clash.code == 2 and "assertion name 'two' is used twice" in clash.out


def test_the_database_is_named_in_every_channel(pg18, run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    result = run_cli("status", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--report", tmp_path / "r.json")
    where = f"postgres@127.0.0.1:{pg18.cluster.port}/{pg18.name}"
    assert result.out.splitlines()[0] == f"supadeploy status → {where}"
    assert f"status on {where}: success" in result.out
    assert f"**Database:** {where}" in (tmp_path / "summary").read_text()
    assert json.loads((tmp_path / "r.json").read_text())["database"] == where


def _pty_run(args: list[str], answer: bytes | None, env: dict[str, str] | None = None,
             no_color: bool = True) -> tuple[int, str]:
    """Run as from a terminal; answer the question if one is asked."""
    leader, follower = pty.openpty()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SUPABASE_")) and k != "NO_COLOR"}
    base.pop("CI", None)
    proc = subprocess.Popen(SUPADEPLOY + args, stdin=follower, stdout=follower, stderr=follower, cwd=REPO,
                            env={**base, **(env or {}), **({"NO_COLOR": "1"} if no_color else {})})
    os.close(follower)
    output = b""
    answered = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if answer is not None and not answered and b"[y/N]" in output:
                os.write(leader, answer)
                answered = True
        elif proc.poll() is not None:
            break
    proc.wait(30)
    os.close(leader)
    return proc.returncode, output.decode(errors="replace")


def test_a_remote_deploy_from_a_terminal_asks_first(pg18):
    args = ["deploy", "--db-url", pg18.dsn, "--migrations-dir", str(MIGRATIONS), "--no-assertions"]
    code, out = _pty_run(args, b"n\n")
    assert code == 1 and f"About to apply {len(ALL)} migration(s) to postgres@" in out and "Apply them now? [y/N]" in out
    assert "cancelled at the prompt: nothing was applied" in out and pg18.history() == []
    code, out = _pty_run(args + ["--target-version", "000001"], b"y\n")
    assert code == 0 and pg18.history() == ["000001"]
    code, out = _pty_run(args + ["--target-version", "000002", "--yes"], None)
    assert code == 0 and "[y/N]" not in out
    code, out = _pty_run(args, None, {"CI": "true"})
    assert code == 0 and "[y/N]" not in out and pg18.history()[-1] == NEWEST


def test_progress_says_what_it_waits_for_as_it_happens(pg18, tmp_path):
    migrations = tmp_path / "m"
    migrations.mkdir()
    (migrations / "000001_t.sql").write_text("create table public.busy (id int);\n")
    (migrations / "000002_alter.sql").write_text("alter table public.busy add column n int;\n")
    assert run(["deploy", "--db-url", pg18.dsn, "--migrations-dir", str(migrations), "--target-version", "000001",
                "--no-assertions"], tmp_path).returncode == 0
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(pg18.dsn, application_name="nightly report") as conn:
            conn.execute("lock table public.busy in access share mode")
            holding.set()
            release.wait(30)

    threading.Thread(target=hold, daemon=True).start()
    holding.wait(10)
    threading.Timer(3.5, release.set).start()
    done = run(["deploy", "--db-url", pg18.dsn, "--migrations-dir", str(migrations), "--lock-timeout", "20s",
                "--no-assertions"], tmp_path, {"SUPADEPLOY_HEARTBEAT": "1"})
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  → 000002"))
    waits = [line for line in lines[start:] if "still applying 000002" in line]
    assert waits and "waiting for a lock held by pid" in waits[0] and "nightly report" in waits[0]


def test_warnings_are_printed_once(pg18, run_cli, tmp_path):
    migrations = tmp_path / "m"
    migrations.mkdir()
    (migrations / "1_a.sql").write_text("select 1;\n")
    (migrations / "10_b.sql").write_text("select 1;\n")
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--no-assertions")
    assert result.code == 0 and result.out.count("migration versions have different lengths") == 1


def test_plan_tells_what_a_file_mode_deploy_would_really_do(pg18, run_cli, tmp_path):
    checks = tmp_path / "checks.yml"
    checks.write_text("assertions:\n  - name: impossible\n    table_count: {equals: 999}\n")
    result = run_cli("plan", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--assertions", checks)
    assert result.code == 1
    summary = result.out.splitlines()[-1]
    assert (f"a deploy would apply {len(ALL)} migration(s), one transaction each (tx-mode file); 1 assertion(s) would fail "
            "AFTER the files committed") in summary
    assert "would apply 0" not in result.out and pg18.history() == []
    listing = run_cli("plan", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--no-dry-run")
    assert listing.code == 0 and f"a deploy would apply {len(ALL)} migration(s), one transaction each" in listing.out


def test_an_error_shows_its_line_and_a_caret(pg18, run_cli, tmp_path):
    migrations = tmp_path / "m"
    migrations.mkdir()
    (migrations / "000001_typo.sql").write_text("create table public.t (id int);\n\nselect idd from public.t;\n")
    text = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--no-assertions")
    assert "    LINE 3: select idd from public.t;\n" in text.out
    assert "\n                   ^\n" in text.out  # under the i of idd
    data = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--no-assertions", "--format", "json")
    error = next(p for p in data.json["problems"] if p["level"] == "error")
    assert (error["sqlstate"], error["line"], error["column"]) == ("42703", 3, 8)
    assert error["hint"].startswith("Perhaps you meant") and "position" in error and "detail" in error


def test_status_marks_what_would_stop_a_deploy_in_aligned_columns(pg18, run_cli, tmp_path):
    migrations = tmp_path / "m"
    migrations.mkdir()
    for name in ("000001_a", "000002_b", "000003_c"):
        (migrations / f"{name}.sql").write_text(f"create table public.{name[-1]} (id int);\n")
    assert run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--no-assertions").code == 0
    (migrations / "000001_a.sql").write_text("create table public.a (id bigint);\n")  # drift
    (migrations / "000003_c.sql").unlink()  # remote only
    (migrations / "000002_b.sql").rename(migrations / "000002_b.sql")
    (migrations / "0000025_late.sql").write_text("select 1;\n")  # older than the newest applied
    result = run_cli("status", "--db-url", pg18.dsn, "--migrations-dir", migrations)
    lines = result.out.splitlines()
    header = next(i for i, line in enumerate(lines) if "Local" in line and "Remote" in line)
    rows = [line for line in lines[header + 2:] if " | " in line]
    assert len({line.index("|") for line in rows}) == 1  # aligned
    text = "\n".join(rows)
    assert "drift: edited after it was applied" in text and "remote only: not in the local folder" in text
    assert "out of order: older than the newest applied" in text


def test_a_console_that_cannot_print_every_character_never_crashes(pg18, tmp_path):
    done = run(["status", "--db-url", pg18.dsn, "--migrations-dir", str(MIGRATIONS)], tmp_path,
               {"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "supadeploy status \\u2192 postgres@" in done.stdout


def test_an_early_ctrl_c_ends_without_a_traceback(tmp_path):
    proc = subprocess.Popen(SUPADEPLOY + ["deploy", "--migrations-dir", str(MIGRATIONS)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")}, preexec_fn=interruptible)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err + out


def test_colour_on_a_terminal_unless_no_color(pg18):
    args = ["status", "--db-url", pg18.dsn, "--migrations-dir", str(MIGRATIONS)]
    _, coloured = _pty_run(args, None, no_color=False)
    assert "\x1b[" in coloured
    _, plain = _pty_run(args, None, {"NO_COLOR": "1"})
    assert "\x1b[" not in plain


@pytest.mark.parametrize("command, present, absent", [
    ("status", ["--db-url", "--migrations-dir"], ["--tx-mode", "--assertions", "--yes"]),
    ("verify", ["--assertions"], ["--tx-mode", "--yes"]),
    ("deploy", ["--tx-mode", "--yes", "--assertions"], []),
    ("plan", ["--tx-mode", "--dry-run"], ["--yes"]),
])
def test_each_command_helps_with_its_own_flags_and_an_example(command, present, absent, tmp_path):
    done = run([command, "--help"], tmp_path)
    assert done.returncode == 0 and f"example:\n  supadeploy {command}" in done.stdout
    for flag in present:
        assert flag in done.stdout
    for flag in absent:
        assert flag not in done.stdout
