"""Assertions: WellTrack's file passes, each sabotage fails exactly its assertion, the gate rolls back."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DRIFT_READS, MIGRATIONS, NEWEST, REPO

WELLTRACK = REPO / "assertions" / "welltrack.yml"


def deploy(run_cli, db, *extra):
    return run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--assertions", WELLTRACK,
                   "--format", "json", *extra)


def test_deploy_then_every_welltrack_assertion_passes_and_leaves_nothing(db, run_cli):
    result = deploy(run_cli, db)
    assert result.code == 0, [a for a in result.json["assertions"] if not a["passed"]]
    assert len(result.json["assertions"]) == 36 and result.json["failed_assertions"] == []
    # the drift check, history, history tables (first deploy), one request packing every file, verify
    assert result.json["round_trips"] == DRIFT_READS + 2 + 1 + 1
    assert db.value("select count(*) from auth.users") == 0
    assert db.value("select count(*) from public.wt_profiles") == 0
    verify = run_cli("verify", "--db-url", db.dsn, "--assertions", WELLTRACK, "--migrations-dir", MIGRATIONS,
                     "--format", "json")
    assert verify.code == 0 and verify.json["round_trips"] == 1


def test_gated_deploy_runs_assertions_before_commit(db, run_cli):
    result = deploy(run_cli, db, "--tx-mode", "all")
    # the drift check, history, history tables, one transaction
    assert result.code == 0 and result.json["round_trips"] == DRIFT_READS + 3
    assert len(result.json["assertions"]) == 36 and db.history()[-1] == NEWEST


def test_failed_gate_leaves_the_database_exactly_as_before(db, run_cli, migrations_copy):
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy,
                   "--target-version", "000008", "--no-assertions").code == 0
    before = db.query("select table_name from information_schema.tables where table_schema = 'public' order by 1")
    path = migrations_copy / "000009_performance_engine.sql"
    path.write_text(path.read_text() + "\nalter table public.wt_recovery_scores drop constraint wt_recovery_scores_recovery_score_range;\n")
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy, "--assertions", WELLTRACK,
                     "--tx-mode", "all", "--format", "json")
    assert result.code == 1
    assert result.json["failed_assertions"] == ["recovery_score 101 is rejected", "recovery_score -1 is rejected"]
    assert {m["status"] for m in result.json["migrations"]} == {"rolled-back"}
    assert db.history() == [f"00000{i}" for i in range(1, 9)]
    assert db.query("select table_name from information_schema.tables where table_schema = 'public' order by 1") == before


SABOTAGE = [
    ("alter table public.wt_sleep_stages disable row level security",
     ["RLS enabled on every wt_ table", "profile isolation on every owner and owner-read table"],
     "RLS disabled on: wt_sleep_stages"),
    ("alter table public.wt_recovery_scores drop constraint wt_recovery_scores_recovery_score_range",
     ["recovery_score 101 is rejected", "recovery_score -1 is rejected"], "accepted, expected rejection with SQLSTATE 23514"),
    ("grant insert on public.wt_webhook_events to authenticated",
     ["authenticated only reads owner-read and catalog tables"],  # RLS still blocks the write itself
     "wt_webhook_events: has {INSERT,SELECT}"),
    ("drop policy wt_goals_select_own on public.wt_goals", ["profile isolation on every owner and owner-read table"],
     "wt_goals: user A cannot see their own row"),
    ("create policy wt_goals_leak on public.wt_goals for select to authenticated using (true)",
     ["profile isolation on every owner and owner-read table"], "wt_goals: user A sees 1 row(s) of other users"),
    ("alter table public.wt_training_loads drop column training_load;"
     "alter table public.wt_training_loads add column training_load numeric generated always as (duration_minutes + intensity_factor) stored",
     ["training_load computes 60 x 0.75 = 45"], "got 60.750, expected 45"),
    ("alter table public.wt_baselines drop constraint wt_baselines_profile_metric_key",
     ["a second baseline for the same profile and metric is rejected", "every wt_ foreign key has a covering index"],
     "accepted, expected rejection with SQLSTATE 23505"),
    ("alter table public.wt_health_metrics alter column is_primary set default false",
     ["wt_health_metrics.is_primary", "a health metric written without the new columns reads their defaults"],
     "default is false, expected true"),
    ("grant select on public.wt_daily_summaries to anon", ["anon has no privilege on any wt_ table"],
     "wt_daily_summaries: has {SELECT}"),
    ("alter table public.wt_webhook_events drop constraint wt_webhook_events_source_check",
     ["an unknown webhook source is rejected"], "accepted"),
    ("alter type public.wt_load_type add value 'cycling'", ["enum wt_load_type"], "expected (session_rpe,trimp,tss,hr_zones,manual)"),
    ("drop index public.wt_baselines_metric_type_idx", ["every wt_ foreign key has a covering index"],
     "wt_baselines.wt_baselines_metric_type_fkey"),
]


@pytest.mark.parametrize("sabotage, failing, words", SABOTAGE, ids=[s[1][0][:40] for s in SABOTAGE])
def test_each_sabotage_fails_exactly_its_assertions(pg18, run_cli, sabotage, failing, words):
    assert run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--no-assertions").code == 0
    pg18.query(sabotage, superuser=True)
    result = run_cli("verify", "--db-url", pg18.dsn, "--assertions", WELLTRACK, "--migrations-dir", MIGRATIONS,
                     "--format", "json")
    assert result.code == 1
    assert sorted(result.json["failed_assertions"]) == sorted(failing)
    messages = " | ".join(a["message"] for a in result.json["assertions"] if not a["passed"])
    assert words in messages


def test_a_failure_points_at_the_assertion_and_says_where_the_object_is_created(pg18, run_cli):
    assert run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS, "--no-assertions").code == 0
    pg18.query("alter table public.wt_sleep_stages disable row level security", superuser=True)
    result = run_cli("verify", "--db-url", pg18.dsn, "--assertions", WELLTRACK, "--migrations-dir", MIGRATIONS)
    line = next(n for n, text in enumerate((MIGRATIONS / "000004_sleep.sql").read_text().splitlines(), 1)
                if text.startswith("create table public.wt_sleep_stages"))
    expected = next(n for n, text in enumerate(WELLTRACK.read_text().splitlines(), 1)
                    if text.strip() == "- name: RLS enabled on every wt_ table")
    assert f"welltrack.yml:{expected}: assertion failed: RLS enabled on every wt_ table" in result.out, result.out
    assert f"is created at {MIGRATIONS / '000004_sleep.sql'}:{line})" in result.out


@pytest.mark.parametrize("content, words, line", [
    ("assertions: [\n  - name: x\n    table_count: {equals: 1\n", "invalid YAML", 2),
    ("assertions:\n  - name: x\n    tables_count: {equals: 1}\n", "unknown check 'tables_count'", 2),
    ("assertions:\n  - name: x\n    table_count: {pattern: 'a%'}\n", "missing equals", 3),
    ("assertions:\n  - table_count: {equals: 1}\n", "every assertion needs a 'name'", 2),
    ("nothing: here\n", "expected a mapping with an 'assertions' list", 1),
])
def test_bad_assertion_files_exit_2_with_file_and_line(tmp_path: Path, run_cli, content, words, line):
    path = tmp_path / "bad.yml"
    path.write_text(content)
    result = run_cli("verify", "--db-url", "postgresql://postgres@127.0.0.1:9/none", "--assertions", path,
                     "--migrations-dir", MIGRATIONS)
    assert result.code == 2
    assert f"bad.yml:{line}: " in result.out and words in result.out


SEQUENCES = "select schemaname || '.' || sequencename, last_value from pg_sequences order by 1"


def test_a_verify_leaves_no_sequence_value_behind_on_welltrack(db, run_cli):
    assert deploy(run_cli, db).code == 0
    before = db.query(SEQUENCES)
    verify = run_cli("verify", "--db-url", db.dsn, "--assertions", WELLTRACK, "--migrations-dir", MIGRATIONS)
    assert verify.code == 0 and db.query(SEQUENCES) == before


def test_an_insert_into_an_identity_table_leaves_its_sequence_exactly_as_it_was(db, run_cli, tmp_path):
    """nextval is not rolled back: the verify notes every sequence first and puts back what the assertions drew
    (more in test_assertion_sequences.py: the Management API, gated deploys, concurrent draws)."""
    db.query("create table public.counted (id bigint generated always as identity primary key, v int)")
    checks = tmp_path / "checks.yml"
    checks.write_text("assertions:\n  - name: insert works\n    accepts: {sql: 'insert into public.counted (v) "
                      "values (1)'}\n")
    state = "select last_value, is_called from public.counted_id_seq"
    assert db.query(state) == [(1, False)]
    before = db.query(SEQUENCES)
    result = run_cli("verify", "--db-url", db.dsn, "--assertions", checks, "--migrations-dir", tmp_path)
    assert result.code == 0, result.out
    assert db.value("select count(*) from public.counted") == 0
    assert db.query(state) == [(1, False)] and db.query(SEQUENCES) == before  # was (1, true): one step drawn
    assert db.value("insert into public.counted (v) values (1) returning id") == 1
