"""`supadeploy drift` end to end, through the CLI, against a database URL and the Management API twin (which
hands every query to the real postgres-meta, and runs the read-only endpoint's as supabase_read_only_user in
read-only transactions): no drift after a deploy; each dashboard-style edit reported with the object named
(exit 1, JSON, annotations, job summary); --capture, then no drift and a fresh replay equal to the database;
deploy and plan refused over drift unless --allow-drift; never a check for the local target.
PostgreSQL 15 and 18 (the `db` fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import MIGRATIONS, REF, REPO, TOKEN, Database, api_args, parse_outputs
from supadeploy.checks.drift.catalog import read_catalog
from supadeploy.checks.drift.differ import diff
from supadeploy.checks.drift.scope import touched
from supadeploy.engine.migrations import load_migrations
from supadeploy.targets.api import ApiTarget
from supadeploy.targets.base import QueryError
from supadeploy.targets.postgres import PostgresTarget
from test_drift import EDITS as ALL_EDITS
from test_drift import SHAPES, write

MCP_VERSION = "20250601120000"
MCP_STATEMENTS = ["create table public.mcp_made (id int primary key)",
                  "comment on table public.mcp_made is 'from the MCP server'"]

# What a person did in the dashboard or psql (test_drift.EDITS), the shapes the command is tried with.
COMMAND_EDITS = ("a column", "an index", "a dropped policy", "RLS off", "a function body", "a new table",
                 "a grant to anon", "an auth trigger disabled")
EDITS = [edit for edit in ALL_EDITS if edit[0] in COMMAND_EDITS]
assert len(EDITS) == len(COMMAND_EDITS), "an edit named in COMMAND_EDITS is missing from test_drift.EDITS"


def files() -> dict[str, str]:
    found = {p.name: p.read_text() for p in sorted(MIGRATIONS.glob("*.sql"))}
    return found | SHAPES


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


@pytest.fixture
def project(db: Database, run_cli, tmp_path: Path) -> Path:
    """`db` deployed by supadeploy from WellTrack's migrations and the real-shaped fixtures."""
    folder = write(tmp_path / "migrations", files())
    deployed = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", folder, "--no-assertions")
    assert deployed.code == 0, deployed.out + deployed.err
    return folder


def edit(db: Database, mcp: bool = True) -> None:
    """Every edit of EDITS, and (`mcp`) a table made by the MCP server's apply_migration with its history row."""
    for _, sql, superuser, _ in EDITS:
        db.query(sql, superuser=superuser)
    if mcp:
        db.query(";\n".join(MCP_STATEMENTS) + ";")
        db.query("insert into supabase_migrations.schema_migrations (version, name, statements) "
                 "values (%s, 'mcp made', %s)", (MCP_VERSION, MCP_STATEMENTS))


def drift(run_cli, target: list[str], folder: Path, *more: str) -> Any:
    return run_cli("drift", *target, "--migrations-dir", folder, *more)


def url(db: Database) -> list[str]:
    return ["--db-url", db.dsn]


def by_endpoint(twin: Any) -> dict[str, int]:
    return dict(twin.stats()["by_endpoint"])


def test_no_drift_after_a_deploy_through_a_url_and_the_api(db, twin, project, run_cli):
    """Two read-only requests: history and the catalog; through the API both go to the read-only endpoint."""
    result = drift(run_cli, url(db), project, "--format", "json")
    assert result.code == 0, result.out + result.err
    report = result.json
    assert report["status"] == "success" and report["round_trips"] == 2 and not report.get("drift")
    assert report["plan_summary"].startswith(f"no drift: the database compared with a replay of its {len(files())} "
                                             "applied migration(s) on local PostgreSQL")
    before = by_endpoint(twin)
    through_api = drift(run_cli, api_args(twin, 60), project, "--format", "json")
    assert through_api.code == 0, through_api.out + through_api.err
    after = by_endpoint(twin)
    assert after.get("read-only", 0) - before.get("read-only", 0) == 2
    assert after.get("query", 0) == before.get("query", 0)
    assert TOKEN not in through_api.out + through_api.err


def test_each_dashboard_edit_is_reported_with_the_object_named(db, twin, project, run_cli, github, monkeypatch):
    edit(db)
    monkeypatch.delenv("GITHUB_ACTIONS")  # the JSON run first, as a terminal
    result = drift(run_cli, url(db), project, "--format", "json")
    assert result.code == 1, result.err
    report = result.json
    assert report["status"] == "drift" and report["exit_code"] == 1
    found = report["drift"]
    messages = [f["message"].split("\n")[0] for f in found]
    for name, _, _, expected in EDITS:
        assert any(m.startswith(expected) for m in messages), (name, messages)
    assert len([f for f in found if f["rule"] == "object"]) == len(EDITS)  # each edit once, nothing else
    assert {f["level"] for f in found} == {"error"} and all(f["over_limit"] for f in found)
    # the MCP server's row: listed with its statements; the table it made is not reported twice
    [row] = [f for f in found if f["rule"] == "history-row"]
    assert row["object"] == MCP_VERSION and row["statements"] == MCP_STATEMENTS
    assert "create table public.mcp_made (id int primary key);" in row["message"]
    assert not any("mcp_made" in m for m in messages if not m.startswith("history row"))
    # at the statement that made the object
    policy = next(f for f in found if f["message"].startswith('policy "read own" on public.notes'))
    assert policy["file"].endswith("20240101000001_notes.sql")
    assert policy["line"] == line_of(SHAPES["20240101000001_notes.sql"], 'create policy "read own"')
    column = next(f for f in found if f["message"].startswith("column public.wt_profiles.nickname"))
    assert column["file"].endswith("000001_profiles.sql") and column["line"] > 0
    new_table = next(f for f in found if f["message"].startswith("table public.dashboard_made"))
    assert new_table["file"] == "" and new_table["line"] == 0  # no migration made it: no place to point at

    # the same through the Management API, on a runner: annotations, summary, outputs
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    through_api = drift(run_cli, api_args(twin, 60), project)
    assert through_api.code == 1
    lines = through_api.out.splitlines()
    annotation = ("::error file=migrations/20240101000001_notes.sql,line="
                  f"{policy['line']},title=Drift%3A policy::policy \"read own\" on public.notes: in migrations, not "
                  "in production")
    assert annotation in lines, [line for line in lines if line.startswith("::")]
    assert any(line.startswith("::error title=Drift%3A table::table public.dashboard_made") for line in lines)
    outputs = parse_outputs((github / "gh_output").read_text())
    assert outputs["status"] == "drift"
    assert [f["message"] for f in json.loads(outputs["report"])["drift"]] == [f["message"] for f in found]
    summary = (github / "gh_summary").read_text()
    assert "### Drift" in summary and "table public.dashboard_made: in production, not in migrations" in summary


def test_capture_then_no_drift_and_a_fresh_replay_equals_the_database(db, twin, project, run_cli, second_db):
    edit(db)
    history = db.history()
    captured = drift(run_cli, api_args(twin, 60), project, "--capture", "--yes", "--format", "json")
    assert captured.code == 0, captured.out + captured.err
    report = captured.json
    assert report["status"] == "success" and report["plan_summary"].startswith("captured: ")
    assert all(not f["over_limit"] and f["advice"] in ("captured", "fetched as a file") for f in report["drift"])
    written = sorted(p.name for p in project.iterdir())
    [capture_file] = [n for n in written if n.endswith("_drift_capture.sql")]
    assert f"{MCP_VERSION}_mcp_made.sql" in written
    version = capture_file.split("_", 1)[0]
    assert db.history() == sorted(history + [version])  # recorded as applied, as the CLI would have
    text = (project / capture_file).read_text()
    assert "-- NOT CAPTURED" not in text and "ALTER TABLE public.wt_consents DISABLE ROW LEVEL SECURITY" in text

    again = drift(run_cli, url(db), project, "--format", "json")
    assert again.code == 0, again.out + again.err
    assert not again.json.get("drift")
    deploy = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", project, "--no-assertions", "--format", "json")
    assert deploy.code == 0 and deploy.json["applied_versions"] == [], deploy.out + deploy.err

    fresh = run_cli("deploy", "--db-url", second_db.dsn, "--migrations-dir", project, "--no-assertions")
    assert fresh.code == 0, fresh.out + fresh.err
    scope = touched(load_migrations(project).migrations)
    catalogs = []
    for database in (db, second_db):
        target = PostgresTarget(database.dsn)
        catalogs.append(read_catalog(target, scope))
        target.close()
    assert diff(*catalogs) == []


def test_a_deploy_over_drift_is_refused_unless_allowed(db, twin, project, run_cli):
    db.query("alter table public.wt_profiles add column nickname text;")
    (project / "20990101000000_later.sql").write_text("create table public.later (id int primary key);\n")
    history = db.history()
    refused = run_cli("deploy", *url(db), "--migrations-dir", project, "--no-assertions", "--format", "json")
    assert refused.code == 1 and refused.json["status"] == "refused", refused.err
    assert [f["level"] for f in refused.json["problems"] if f.get("kind") == "drift"] == ["error"]
    assert "deploy refused: the database has drifted from its migrations" in refused.err
    assert db.history() == history and db.value("select to_regclass('public.later')") is None
    planned = run_cli("plan", *api_args(twin, 60), "--migrations-dir", project, "--no-assertions")
    assert planned.code == 1 and "Drift check before anything is applied" in planned.out, planned.out
    assert db.history() == history

    allowed = run_cli("deploy", *api_args(twin, 60), "--migrations-dir", project, "--no-assertions",
                      "--allow-drift", "--format", "json")
    assert allowed.code == 0, allowed.out + allowed.err
    assert allowed.json["applied_versions"] == ["20990101000000"]
    drifted = [p for p in allowed.json["problems"] if p.get("kind") == "drift"]
    assert [p["level"] for p in drifted] == ["warning"]
    assert drifted[0]["message"].startswith("column public.wt_profiles.nickname text: in production")


def test_no_drift_means_the_deploy_says_so_and_goes_on(db, project, run_cli):
    (project / "20990101000000_later.sql").write_text("create table public.later (id int primary key);\n")
    result = run_cli("deploy", *url(db), "--migrations-dir", project, "--no-assertions")
    assert result.code == 0, result.out + result.err
    checked, applied = result.out.index("no drift: the database compared with a replay"), \
        result.out.index("20990101000000")
    assert checked < applied  # said before anything was applied


def test_the_local_target_is_never_checked(run_cli, tmp_path):
    # RLS on: the advisors are not the point here (a table without it fails their check).
    folder = write(tmp_path / "migrations", {"000001_a.sql": "create table public.a (id int primary key);\n"
                                                              "alter table public.a enable row level security;\n"})
    local = run_cli("deploy", "--migrations-dir", folder, "--no-assertions", "--pg-major", "17")
    assert local.code == 0 and "Drift" not in local.out, local.out
    refused = run_cli("drift", "--migrations-dir", folder)
    assert refused.code == 2 and "drift compares a remote database" in refused.err + refused.out


def test_reads_go_to_the_read_only_endpoint_which_refuses_writes(db, twin, project):
    target = ApiTarget(REF, TOKEN, twin.url)
    assert target.read("select current_user as who, current_setting('transaction_read_only') as ro") == [
        {"who": "supabase_read_only_user", "ro": "on"}]
    with pytest.raises(QueryError) as refused:
        target.read("create table public.written_by_a_read (id int)")
    assert refused.value.sqlstate == "25006"
    assert target.read_only_refused is None
    # an API without the endpoint: the reads fall back to the query endpoint, still in read-only transactions
    twin.read_only_endpoint = False
    fallback = ApiTarget(REF, TOKEN, twin.url)
    assert fallback.read("select current_user as who") == [{"who": "postgres"}]
    assert "404" in (fallback.read_only_refused or "")
    with pytest.raises(QueryError) as still_refused:
        fallback.read("create table public.written_by_a_read (id int)")
    assert still_refused.value.sqlstate == "25006"
    assert db.value("select to_regclass('public.written_by_a_read')") is None
    target.close()
    fallback.close()


def test_capture_asks_and_a_no_writes_nothing(db, project, run_cli, monkeypatch):
    """At a terminal the capture asks; without a terminal it needs --yes."""
    edit(db, mcp=False)
    history = db.history()
    monkeypatch.delenv("CI", raising=False)
    refused = drift(run_cli, url(db), project, "--capture")
    assert refused.code == 2 and "confirm with --yes" in refused.err + refused.out
    monkeypatch.setattr("supadeploy.report.terminal.Terminal.interactive", property(lambda self: True))
    monkeypatch.setattr("sys.stdin", _Answer("n\n"))
    declined = drift(run_cli, url(db), project, "--capture")
    assert declined.code == 1 and "cancelled at the prompt: nothing was written" in declined.out + declined.err
    assert db.history() == history and not list(project.glob("*_drift_capture.sql"))


class _Answer:
    def __init__(self, text: str) -> None:
        self.text = text

    def readline(self) -> str:
        return self.text

    def isatty(self) -> bool:
        return True


def test_a_deploy_committing_between_the_two_reads_is_not_drift(pg18, run_cli, tmp_path):
    """History is read, then another deploy commits, then the catalog is read: the catalog's request sees that
    history changed and the check starts again from the new history (not a false 'in production' table)."""
    from supadeploy.checks.drift.check import check

    folder = write(tmp_path / "m", {"000001_a.sql": "create table public.a (id int primary key);\n",
                                    "000002_b.sql": "create table public.b (id int primary key);\n"})
    assert run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", folder, "--target-version", "000001",
                   "--no-assertions").code == 0

    class Raced(PostgresTarget):
        def run(self, sql: str, safe_to_resend: bool = False) -> list[dict[str, Any]]:
            if self.round_trips == 1:  # history was read; the other deploy commits 000002 now
                other = subprocess.run([sys.executable, "-m", "supadeploy", "deploy", "--db-url", pg18.dsn,
                                        "--migrations-dir", str(folder), "--no-assertions", "--allow-drift"],
                                       cwd=REPO, capture_output=True, text=True)
                assert other.returncode == 0, other.stdout + other.stderr
            return super().run(sql, safe_to_resend)

    said: list[str] = []
    target = Raced(pg18.dsn)
    try:
        found = check(target, load_migrations(folder), say=said.append)
    finally:
        target.close()
    assert not found.drifted, [d.message for d in found.differences]
    assert [m.version for m in found.replayed] == ["000001", "000002"]
    assert sum("history changed while it was read" in line for line in said) == 1
    assert target.round_trips == 4  # history, catalog (refused: history changed), history, catalog
