"""Deploy engine on real PostgreSQL 15 and 18: fresh deploy, idempotence, failures, races."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ALL, DRIFT_READS, MIGRATIONS, REPO


def test_fresh_deploy_applies_all_nine_in_cli_format(db, run_cli):
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--format", "json")
    assert result.code == 0, result.err
    report = result.json
    assert report["applied_versions"] == ALL
    assert report["tables"] == 34 and db.tables() == 34
    # the drift check's reads, read history, create the history tables, one request packing every file
    assert report["round_trips"] == DRIFT_READS + 3
    # History reads back with the Supabase CLI's own query (pkg/migration/history.go).
    rows = db.query("SELECT version, coalesce(name, '') as name, statements "
                    "FROM supabase_migrations.schema_migrations ORDER BY version")
    assert [(r[0], r[1]) for r in rows] == [(p.name[:6], p.name[7:-4]) for p in sorted(MIGRATIONS.glob("*.sql"))]
    assert all(r[2] and not any(s.rstrip().endswith(";") for s in r[2]) for r in rows)
    assert not db.value("select bool_or(not rowsecurity) from pg_tables where tablename like 'wt\\_%'")


def test_second_deploy_applies_nothing_in_one_round_trip(db, run_cli):
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS).code == 0
    again = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--format", "json")
    assert again.code == 0
    # History has every file: nothing to apply, so no drift to check (drift's own command looks anyway).
    assert again.json["applied_versions"] == [] and again.json["round_trips"] == 1
    assert db.history() == ALL


def test_tx_mode_all_uses_two_round_trips(db, run_cli):
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--tx-mode", "all",
                     "--format", "json")
    assert result.code == 0, result.err
    # The drift check; read history, create the history tables (first deploy only), one transaction.
    assert result.json["applied_versions"] == ALL and result.json["round_trips"] == DRIFT_READS + 3


def _bad_migration(directory: Path, version: str, fail_sql: str, lines_before: int = 38) -> None:
    body = "".join(f"-- filler line {i}\n" for i in range(lines_before - 1))
    body += f"create table public.wt_probe_{version} (id int);\n"
    body += fail_sql + "\n"
    (directory / f"{version}_broken.sql").write_text(body)


@pytest.mark.parametrize("tx_mode", ["file", "all"])
def test_failing_migration_reports_file_line_sqlstate_and_leaves_nothing(db, run_cli, migrations_copy, tx_mode):
    for path in migrations_copy.glob("00000[5-9]_*.sql"):
        path.unlink()
    # Statement on line 39; the bad column sits on that line: position maps into the file.
    _bad_migration(migrations_copy, "000005", "select\n  nosuchcolumn from public.wt_profiles;")
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy, "--tx-mode", tx_mode)
    assert result.code == 1
    assert "000005_broken.sql:40: 42703: column \"nosuchcolumn\" does not exist" in result.out
    assert "Nothing of this transaction was committed" in result.out
    expected = ALL[:4] if tx_mode == "file" else []
    assert db.history() == expected
    assert db.value("select to_regclass('public.wt_probe_000005')") is None


def test_error_without_position_is_located_by_statement(db, run_cli, migrations_copy):
    for path in migrations_copy.glob("00000[2-9]_*.sql"):
        path.unlink()
    # A CHECK violation has no error position: the replay finds the statement (line 39).
    _bad_migration(migrations_copy, "000002",
                   "insert into auth.users (id) values ('00000000-0000-0000-0000-000000000001');\n"
                   "insert into public.wt_profiles (id, height_cm) values ('00000000-0000-0000-0000-000000000001', 10);")
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy)
    assert result.code == 1
    assert "000002_broken.sql:40: 23514: new row for relation \"wt_profiles\" violates check constraint" in result.out
    assert db.history() == ["000001"]
    assert db.value("select count(*) from auth.users") == 0


def test_four_racing_deploys_apply_each_migration_exactly_once(db):
    command = [sys.executable, "-m", "supadeploy", "deploy", "--db-url", db.dsn, "--migrations-dir",
               str(MIGRATIONS), "--format", "json", "--lock-wait", "60s"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
             for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1] for o in outputs]
    applied = [v for out, _ in outputs for v in json.loads(out)["applied_versions"]]
    assert sorted(applied) == ALL  # every version applied once, by exactly one process
    assert db.history() == ALL and db.tables() == 34


def test_target_version_stops_and_health_metric_rows_read_new_defaults(db, run_cli):
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS,
                   "--target-version", "000008").code == 0
    assert db.history() == ALL[:8]
    uid = "00000000-0000-0000-0000-00000000000a"
    db.query(f"insert into auth.users (id) values ('{uid}');"
             f"insert into public.wt_profiles (id) values ('{uid}');"
             f"insert into public.wt_health_metrics (profile_id, metric_type, value, unit, recorded_at) "
             f"values ('{uid}', 'resting_hr', 52, 'bpm', now()), ('{uid}', 'hrv_rmssd', 71.5, 'ms', now())")
    relfilenode = db.value("select relfilenode from pg_class where oid = 'public.wt_health_metrics'::regclass")
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS).code == 0
    rows = db.query("select validation_status::text, ingestion_source_version, processing_status::text, is_primary "
                    "from public.wt_health_metrics")
    assert rows == [("pending", 1, "pending", True)] * 2
    # No table rewrite: the ALTER kept the same file on disk.
    assert db.value("select relfilenode from pg_class where oid = 'public.wt_health_metrics'::regclass") == relfilenode


def test_migrations_are_right_without_supabase_default_privileges(db_without_default_privileges, run_cli):
    db = db_without_default_privileges
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS).code == 0
    assert db.tables() == 34
    grants = db.query("select table_name, string_agg(privilege_type, ',' order by privilege_type) "
                      "from information_schema.role_table_grants where grantee = 'authenticated' "
                      "and table_name in ('wt_profiles', 'wt_webhook_events') group by 1 order by 1")
    assert grants == [("wt_profiles", "DELETE,INSERT,SELECT,UPDATE"), ("wt_webhook_events", "SELECT")]
    assert db.value("select count(*) from information_schema.role_table_grants "
                    "where grantee = 'anon' and table_name like 'wt\\_%'") == 0


def test_dry_run_applies_and_verifies_then_rolls_back(db, run_cli, tmp_path):
    report = tmp_path / "report.json"
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--tx-mode", "all",
                     "--assertions", REPO / "assertions" / "welltrack.yml", "--dry-run", "--format", "json",
                     "--report", report)
    assert result.code == 0, result.out
    assert [m["status"] for m in result.json["migrations"]] == ["would-apply"] * len(ALL)
    assert len(result.json["assertions"]) == 36 and result.json["failed_assertions"] == []
    assert db.history() == [] and db.tables() == 0
    assert json.loads(report.read_text())["applied_versions"] == ALL


def test_dry_run_gives_up_quickly_on_a_locked_table_and_never_blocks(db, run_cli):
    """`plan` on a remote target is a dry run with lock_timeout 2s: it waits briefly, then reports."""
    import threading

    import psycopg

    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--target-version", "000008",
                   "--no-assertions").code == 0
    holding = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:  # production traffic holding the table 000009 alters
        with psycopg.connect(db.dsn) as conn:
            conn.execute("lock table public.wt_health_metrics in access share mode")
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold_lock)
    thread.start()
    holding.wait(10)
    try:
        result = run_cli("plan", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--no-assertions")
    finally:
        release.set()
        thread.join()
    assert result.code == 1
    assert "55P03" in result.out and "lock_timeout (2s)" in result.out  # a dry run's own short lock timeout
    assert db.history()[-1] == "000008"


# --- a big data migration (a seed): sent in pieces on a direct connection, failures still at their line ----------

BIG_ROWS = 20_000  # with its cursor marks, the transaction passes engine.send.PIECE: it travels in pieces


def _big_migration(directory: Path, failing: str | None = None) -> int:
    """One migration of BIG_ROWS single-row inserts, `failing` in place of a late one; returns that line."""
    directory.mkdir(exist_ok=True)
    lines = ["create table public.big (id bigint primary key, note text);"]
    lines += [f"insert into public.big (id, note) values ({i}, 'row {i}; of many');" for i in range(BIG_ROWS)]
    late = len(lines) - 3
    if failing is not None:
        lines[late] = failing
    (directory / "20240101000000_big_seed.sql").write_text("\n".join(lines) + "\n")
    return late + 1


def test_a_migration_of_thousands_of_statements_deploys_in_one_transaction(db, run_cli, tmp_path):
    _big_migration(tmp_path / "m")
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", tmp_path / "m", "--format", "json")
    assert result.code == 0, result.out
    assert result.json["round_trips"] >= DRIFT_READS + 2 + 3  # history, its tables, then 2+ pieces and COMMIT
    assert db.value("select count(*) from public.big") == BIG_ROWS
    assert db.history() == ["20240101000000"]
    # Its history row is built on the server from slices (engine.requests.HistoryInsert): the same row.
    stored = db.value("select statements from supabase_migrations.schema_migrations")
    lines = (tmp_path / "m" / "20240101000000_big_seed.sql").read_text().splitlines()
    assert stored == [line.removesuffix(";") for line in lines]
    assert db.value("select count(*) from pg_class where relname = 'supadeploy_history'") == 0


def test_after_a_big_migration_the_next_file_of_one_transaction_still_fails_at_its_line(db, run_cli, tmp_path):
    _big_migration(tmp_path / "m")
    (tmp_path / "m" / "20240101000001_next.sql").write_text(
        "-- the next file\ncreate table public.after (id int);\nselect nosuch from public.after;\n")
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", tmp_path / "m", "--tx-mode", "all",
                     "--no-assertions", "--format", "json")
    assert result.code == 1
    problem = result.json["problems"][0]
    assert (problem["file"].endswith("20240101000001_next.sql"), problem["line"]) == (True, 3)
    assert '42703: column "nosuch" does not exist' in problem["message"]
    assert db.history() == [] and db.value("select to_regclass('public.big')") is None


@pytest.mark.parametrize(("failing", "expected"), [
    ("insert into public.big (id, note) values (7, 'a duplicate');",  # no position: the cursor mark finds it
     '23505: duplicate key value violates unique constraint "big_pkey"'),
    ("insert into public.big (id, nosuch) values (-1, 'x');",  # a position, inside a later piece
     '42703: column "nosuch" of relation "big" does not exist'),
])
def test_a_late_failure_in_a_big_migration_is_at_its_line_and_commits_nothing(db, run_cli, tmp_path, failing,
                                                                               expected):
    line = _big_migration(tmp_path / "m", failing)
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", tmp_path / "m", "--format", "json")
    assert result.code == 1
    problem = result.json["problems"][0]
    assert (problem["file"].endswith("20240101000000_big_seed.sql"), problem["line"]) == (True, line)
    assert expected in problem["message"]
    assert db.value("select to_regclass('public.big')") is None
    assert db.history() == []
    again = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", tmp_path / "m")  # the connection is clean
    assert again.code == 1 and f"20240101000000_big_seed.sql:{line}: " in again.out


def test_a_late_failure_in_a_big_migration_is_at_its_line_on_the_local_replay(run_cli, tmp_path):
    line = _big_migration(tmp_path / "m", "insert into public.big (id, note) values (7, 'a duplicate');")
    result = run_cli("deploy", "--migrations-dir", tmp_path / "m", "--no-assertions")
    assert result.code == 1
    assert f"20240101000000_big_seed.sql:{line}: 23505: duplicate key value" in result.out
