"""A hostile pull request and a careless user (issue: reliability under attack).

Workflow-command injection through every field a fork controls, secrets in
every form through every channel, and inputs that must be refused before any
database is touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import MIGRATIONS, REF, TOKEN, api_args
from support.runner_log import commands, forged

PAYLOAD = "::warning title=FORGED::FORGED"
LEGACY = "##[error]FORGED"


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_bytes(text.encode())
    return directory


@pytest.mark.parametrize("separator", ["\r", "\n", "\r\n", "\u2028", "\x85", "\x0b"])
def test_file_names_cannot_plant_workflow_commands(pg18, run_cli, github, tmp_path, separator):
    migrations = write(tmp_path / "m", {
        f"000001_a{separator}{PAYLOAD}.sql": "create table a (id int);\n",
        f"000002_b{separator}::stop-commands::pwned.sql": "select 1/0;\n",
        f"notes{separator}{PAYLOAD}.sql": "select 1;\n",  # skipped with a warning that names it
        f"000003_{LEGACY}.sql": "select 1;\n",
    })
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--no-assertions")
    assert result.code in (0, 1)  # a name with LF does not match the CLI's file name rule: skipped, named
    assert forged(result.out) == [] and "stop-commands" not in [c.name for c in commands(result.out)]
    assert any(c.name in ("error", "warning") for c in commands(result.out))  # real findings still annotated


def test_database_messages_cannot_plant_workflow_commands(pg18, run_cli, github, tmp_path):
    body = ("do $$ begin raise exception using message = E'boom\\n::warning title=FORGED::FORGED\\r"
            "##[error]FORGED', detail = E'x\\n::stop-commands::pwned', hint = E'\\u2028::error title=FORGED::FORGED'; "
            "end $$;\n")
    result = run_cli("deploy", "--db-url", pg18.dsn, "--no-assertions",
                     "--migrations-dir", write(tmp_path / "m", {"000001_boom.sql": body}))
    assert result.code == 1 and "boom" in result.out
    assert forged(result.out) == []


def test_assertion_names_and_errors_cannot_plant_workflow_commands(pg18, run_cli, github, tmp_path):
    checks = tmp_path / "checks.yml"
    names = [f"check{i}\r{PAYLOAD}" for i in range(12)]  # more than the 10 annotations: the overflow lines too
    checks.write_text("assertions:\n" + "".join(
        f"  - name: {json.dumps(name)}\n    sql: {{query: \"select (E'\\\\n{PAYLOAD}')::int\", expect: 1}}\n"
        for name in names))
    migrations = write(tmp_path / "m", {"000001_a.sql": "create table a (id int);\n"})
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--assertions", checks)
    assert result.code == 1 and result.out.count("::error ") == 10
    assert forged(result.out) == []


def test_group_titles_and_log_lines_cannot_plant_commands(pg18, run_cli, github, tmp_path):
    directory = tmp_path / f"dir\n{PAYLOAD}"
    result = run_cli("deploy", "--db-url", pg18.dsn, "--no-assertions",
                     "--migrations-dir", write(directory, {"000001_a.sql": "select 1;\n"}))
    assert result.code == 0, result.out
    assert forged(result.out) == []


# --- secrets ------------------------------------------------------------------------

SECRET = 'S3cr3t"&<\\p@ss'  # every character a channel escapes: JSON, HTML, XML, URL


def leaks(run, directory: Path, secret: str) -> list[str]:
    from supadeploy.masking import forms

    found = []
    channels = {"stdout": run.out, "stderr": run.err}
    channels |= {p.name: p.read_text() for p in directory.glob("gh_*")}
    for channel, text in channels.items():
        visible = "\n".join(line for line in text.splitlines() if not line.startswith("::add-mask::"))
        found += [f"{channel}: {form!r}" for form in forms(secret) if form in visible]
    return found


def _urls(db, secret: str) -> dict[str, str]:
    from urllib.parse import quote

    port, name = db.cluster.port, db.name
    quoted = secret.replace("\\", "\\\\").replace("'", "\\'")
    return {
        "url": f"postgresql://postgres:{quote(secret, safe='')}@127.0.0.1:{port}/{name}",
        "query": f"postgresql://postgres@127.0.0.1:{port}/{name}?password={quote(secret, safe='')}",
        "keyvalue": f"host=127.0.0.1 port={port} dbname={name} user=postgres password='{quoted}'",
    }


@pytest.mark.parametrize("form", ["url", "query", "keyvalue"])
def test_database_password_in_any_form_never_reaches_any_channel(pg18, run_cli, github, tmp_path, form):
    # The test clusters trust loopback: any password connects, so the secret can be the real one.
    dsn = _urls(pg18, SECRET)[form]
    failing = f"do $$ begin raise exception 'broken: %', $s${SECRET}$s$; end $$;\n"
    migrations = write(tmp_path / "m", {"000001_a.sql": "select 1;\n", "000002_b.sql": failing})
    files = ["--report", github / "gh_report.json", "--junit", github / "gh_junit.xml"]
    result = run_cli("deploy", "--db-url", dsn, "--migrations-dir", migrations, "--no-assertions", *files)
    assert result.code == 1 and "broken: ***" in result.out
    assert "::add-mask::" in result.out.splitlines()[0]
    assert leaks(result, github, SECRET) == []


def test_password_in_pgpassword_and_supabase_db_url(pg18, run_cli, github, tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", SECRET)
    monkeypatch.setenv("SUPABASE_DB_URL", _urls(pg18, SECRET + "2")["url"])
    failing = f"select 1/0 -- {SECRET} {SECRET}2\n;\n"
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "m", {"000001_a.sql": failing}),
                     "--no-assertions", "--report", github / "gh_report.json")
    assert result.code == 1
    assert leaks(result, github, SECRET) == [] and leaks(result, github, SECRET + "2") == []


def test_swapped_ref_and_token_never_echo_the_token(run_cli, github):
    result = run_cli("deploy", "--project-ref", TOKEN, "--access-token", REF, "--migrations-dir", MIGRATIONS,
                     "--report", github / "gh_report.json", "--junit", github / "gh_junit.xml")
    assert result.code == 2
    assert "were --project-ref and --access-token (SUPABASE_PROJECT_REF and SUPABASE_ACCESS_TOKEN) swapped?" \
        in result.out
    assert leaks(result, github, TOKEN) == []


def test_a_token_in_a_field_that_should_not_hold_one_is_never_echoed(run_cli, tmp_path):
    result = run_cli("deploy", "--db-url", "postgresql://postgres@127.0.0.1:9/x", "--migrations-dir", MIGRATIONS,
                     "--lock-timeout", TOKEN)
    assert result.code == 2 and TOKEN not in result.out + result.err
    assert "argument --lock-timeout: expected a duration such as 10s or 500ms, not a value that looks like a " \
           "secret (not shown)" in result.err


def test_the_supabase_local_default_password_does_not_destroy_output(pg18, run_cli, github, tmp_path):
    dsn = f"postgresql://postgres:postgres@127.0.0.1:{pg18.cluster.port}/{pg18.name}"
    result = run_cli("status", "--db-url", dsn, "--migrations-dir", MIGRATIONS)
    assert result.code == 0
    assert "***" not in result.out and f"postgres@127.0.0.1:{pg18.cluster.port}/{pg18.name}" in result.out


def test_api_target_through_the_twin_with_secrets_in_errors(pg18, twin18, run_cli, github, tmp_path):
    failing = f"do $$ begin raise exception 'token %', '{TOKEN}'; end $$;\n"
    result = run_cli("deploy", *api_args(twin18, 30), "--no-assertions", "--report", github / "gh_report.json",
                     "--migrations-dir", write(tmp_path / "m", {"000001_a.sql": failing}))
    assert result.code == 1 and "token ***" in result.out
    assert leaks(result, github, TOKEN) == []
