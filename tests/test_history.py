"""History rules and compatibility with the Supabase CLI's table, both directions."""

from __future__ import annotations

from pathlib import Path

from pglast import parser
from pglast.stream import RawStream

from conftest import ALL, MIGRATIONS

# The Supabase CLI's own statements (supabase/cli pkg/migration/history.go), plus the
# columns hosted projects have, which supadeploy must tolerate.
CLI_CREATE = """
SET lock_timeout = '4s';
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS created_by text;
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS idempotency_key text UNIQUE;
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS rollback text[];
"""
CLI_INSERT = "INSERT INTO supabase_migrations.schema_migrations(version, name, statements) VALUES(%s, %s, %s)"


def canonical(sql: str) -> list[str]:
    """Each statement re-rendered from its parse tree: same SQL, whatever the layout."""
    return [RawStream()(raw.stmt) for raw in parser.parse_sql(sql)]


def cli_push(db, paths: list[Path], crlf: bool = False) -> None:
    """What `supabase db push` does per file: run it, then insert (version, name, statements)."""
    db.query(CLI_CREATE)
    for path in paths:
        text = path.read_text()
        db.query(text)
        stored = text.replace("\n", "\r\n") if crlf else text
        statements = [s.strip() for s in parser.split(stored, with_parser=False)]
        version, name = path.name[:-4].split("_", 1)
        db.query(CLI_INSERT, (version, name, statements))


def test_project_pushed_by_the_cli_switches_with_nothing_pending(db, run_cli):
    cli_push(db, sorted(MIGRATIONS.glob("*.sql")), crlf=True)
    status = run_cli("status", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--format", "json")
    assert status.code == 0
    assert status.json["pending"] == []
    assert [r["remote"] for r in status.json["status_rows"]] == ALL
    deploy = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--format", "json")
    assert deploy.code == 0, deploy.out
    assert deploy.json["applied_versions"] == [] and not deploy.json["problems"]


def test_cli_history_then_supadeploy_applies_only_the_rest(db, run_cli):
    cli_push(db, sorted(MIGRATIONS.glob("*.sql"))[:8])
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--format", "json")
    assert result.code == 0, result.out
    assert result.json["applied_versions"] == ALL[8:]
    # Hosted-project columns stay, and the new row is in the CLI's format.
    name, statements, created_by = db.query(
        "select name, statements, created_by from supabase_migrations.schema_migrations where version = '000009'")[0]
    assert name == "performance_engine" and created_by is None
    assert statements[0].startswith("-- WellTrack Phase 1b")
    assert len(statements) == len(parser.split((MIGRATIONS / "000009_performance_engine.sql").read_text()))


def test_supadeploy_history_reads_like_the_cli_list(db, run_cli):
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS).code == 0
    # `supabase migration list` runs LIST_MIGRATION_VERSION; `fetch` joins statements with ";\n".
    assert [r[0] for r in db.query("SELECT version FROM supabase_migrations.schema_migrations ORDER BY version")] == ALL
    for version, statements in db.query("SELECT version, statements FROM supabase_migrations.schema_migrations"):
        original = next(MIGRATIONS.glob(f"{version}_*.sql")).read_text()
        fetched = ";\n".join(statements) + ";\n"
        assert canonical(fetched) == canonical(original)


def test_status_table_like_migration_list(db, run_cli):
    run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--target-version", "000002")
    result = run_cli("status", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS)
    assert result.code == 0
    lines = result.out.splitlines()
    lines = lines[next(i for i, line in enumerate(lines) if "Local" in line):]
    assert "Local" in lines[0] and "Remote" in lines[0] and "Applied at" in lines[0]
    assert any(line.split("|")[1].strip() == "000002" and line.split("|")[2].strip() for line in lines)
    assert any(line.split("|")[0].strip() == "000003" and not line.split("|")[1].strip() for line in lines)


def test_drift_blocks_the_deploy_unless_allowed(db, run_cli, migrations_copy):
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy,
                   "--target-version", "000008").code == 0
    path = migrations_copy / "000003_health_metrics.sql"
    path.write_text(path.read_text().replace("check (weight_kg between 20 and 400)",
                                             "check (weight_kg between 20 and 500)"))
    refused = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy)
    assert refused.code == 1
    assert "000003_health_metrics.sql:1: 000003_health_metrics.sql was changed after it was applied" in refused.out
    assert db.history() == ALL[:8]
    allowed = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy, "--allow-drift")
    assert allowed.code == 0 and "warning:" in allowed.out and db.history() == ALL


def test_whitespace_and_comment_edits_are_not_drift(db, run_cli, migrations_copy):
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy).code == 0
    path = migrations_copy / "000004_sleep.sql"
    path.write_text("-- a new comment\n" + path.read_text().replace("  ", "    ").replace("\n", "\r\n"))
    assert run_cli("plan", "--db-url", db.dsn, "--migrations-dir", migrations_copy).code == 0


def test_drift_is_detected_on_migrations_the_cli_applied(db, run_cli, migrations_copy):
    cli_push(db, sorted(migrations_copy.glob("*.sql"))[:2])
    path = migrations_copy / "000002_integrations.sql"
    path.write_text(path.read_text().replace("'Oura'", "'OURA'"))
    result = run_cli("plan", "--db-url", db.dsn, "--migrations-dir", migrations_copy)
    assert result.code == 1 and "000002_integrations.sql was changed after it was applied" in result.out


def test_remote_versions_missing_locally_are_refused(db, run_cli, migrations_copy):
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy,
                   "--target-version", "000003").code == 0
    (migrations_copy / "000002_integrations.sql").unlink()
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy)
    assert result.code == 1
    assert "Remote migration versions not found in local migrations directory: 000002" in result.out
    assert "supabase migration repair --status reverted 000002" in result.out
    assert db.history() == ALL[:3]


def test_out_of_order_files_need_include_all(db, run_cli, migrations_copy):
    hidden = migrations_copy / "000005_training.sql"
    kept = hidden.read_text()
    hidden.unlink()
    # 000009 needs wt_workouts (000005): deploy up to 000008 without it, then add it back.
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy,
                   "--target-version", "000008").code == 0
    hidden.write_text(kept)
    refused = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy)
    assert refused.code == 1 and "Rerun with --include-all" in refused.out
    assert "000005" not in db.history()
    allowed = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy, "--include-all",
                      "--format", "json")
    assert allowed.code == 0 and allowed.json["applied_versions"] == ["000005", *ALL[8:]]
