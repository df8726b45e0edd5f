"""File mode packs consecutive files into one request, each file still its own transaction (issue 20, item 5),
and a first deploy that commits nothing leaves no bookkeeping behind (issue 22, item 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import ALL, DRIFT_READS, MIGRATIONS, api_args

FIVE = {f"00000{i}_t{i}.sql": f"create table public.t{i} (id int primary key);\n"
                              f"alter table public.t{i} enable row level security;\n" for i in range(1, 6)}
# Everything a deploy could leave behind: schemas, relations (tables, sequences, indexes), functions.
CATALOG = """
select n.nspname, coalesce(c.relname, ''), coalesce(c.relkind::text, '')
  from pg_namespace n left join pg_class c on c.relnamespace = n.oid
 where n.nspname not like 'pg\\_temp%' and n.nspname not like 'pg\\_toast%'
union all
select 'function', p.oid::regprocedure::text, '' from pg_proc p where p.pronamespace <> 'pg_catalog'::regnamespace
order by 1, 2, 3
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def versions(db: Any) -> list[tuple[str, int]]:
    """Each version in history with how many rows it has (exactly once: 1)."""
    if db.value("select to_regclass('supabase_migrations.schema_migrations')") is None:
        return []
    return [(v, n) for v, n in db.query(
        "select version, count(*) from supabase_migrations.schema_migrations group by 1 order by 1")]


def test_a_fresh_project_takes_one_request_for_all_its_files_through_the_api(db, twin, run_cli, tmp_path):
    result = run_cli("deploy", *api_args(twin, 30), "--migrations-dir", write(tmp_path / "m", FIVE),
                     "--no-assertions", "--max-advisor-level", "none", "--format", "json")
    assert result.code == 0, result.err
    assert result.json["applied_versions"] == [f"00000{i}" for i in range(1, 6)]
    assert [m["status"] for m in result.json["migrations"]] == ["applied"] * 5
    assert versions(db) == [(f"00000{i}", 1) for i in range(1, 6)]
    # Query endpoint: history, the history tables, ONE request for the five files, which new objects anon may
    # use; the drift check's reads; the Data API's config and its OpenAPI read after the reload.
    assert twin.stats()["by_endpoint"]["query"] == 4
    assert result.json["round_trips"] == twin.stats()["requests"] == DRIFT_READS + 6


@pytest.mark.parametrize("through", ["api", "url"])
def test_a_failing_third_file_commits_two_reports_the_third_and_runs_nothing_after(db, twin, run_cli, tmp_path,
                                                                                 through):
    files = dict(FIVE)
    files["000003_t3.sql"] = "create table public.t3 (id int primary key);\n\nselect * from public.nope;\n"
    folder = write(tmp_path / "m", files)
    target = api_args(twin, 30) if through == "api" else ["--db-url", db.dsn]
    failed = run_cli("deploy", *target, "--migrations-dir", folder, "--no-assertions", "--max-advisor-level",
                     "none", "--format", "json")
    assert failed.code == 1
    statuses = {m["version"]: m["status"] for m in failed.json["migrations"]}
    assert statuses == {"000001": "applied", "000002": "applied", "000003": "failed"}  # 4 and 5 never ran
    error = next(p for p in failed.json["problems"] if p["level"] == "error")
    assert (error["file"], error["line"], error["column"]) == ("m/000003_t3.sql", 3, 15), error
    assert versions(db) == [("000001", 1), ("000002", 1)]
    assert db.value("select to_regclass('public.t3')") is None and db.value("select to_regclass('public.t4')") is None
    (folder / "000003_t3.sql").write_text(FIVE["000003_t3.sql"])  # the fix
    again = run_cli("deploy", *target, "--migrations-dir", folder, "--no-assertions", "--max-advisor-level", "none",
                    "--format", "json")
    assert again.code == 0, again.err
    assert again.json["applied_versions"] == ["000003", "000004", "000005"]
    assert versions(db) == [(f"00000{i}", 1) for i in range(1, 6)]


def test_an_error_without_a_position_inside_a_pack_is_placed_at_its_statement(db, run_cli, tmp_path):
    files = dict(FIVE)
    files["000004_t4.sql"] = ("create table public.t4 (id int primary key, name text not null);\n"
                              "alter table public.t4 enable row level security;\n\n"
                              "insert into public.t4 (id) values (1);\n")  # 23502: a NOT NULL violation has no position
    failed = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions", "--max-advisor-level", "none", "--format", "json")
    assert failed.code == 1
    error = next(p for p in failed.json["problems"] if p["level"] == "error")
    assert (error["file"], error["line"], error["sqlstate"]) == ("m/000004_t4.sql", 4, "23502"), error
    assert versions(db) == [("000001", 1), ("000002", 1), ("000003", 1)]


def test_a_lost_answer_for_a_pack_is_settled_from_history_and_nothing_runs_twice(pg18, twin18, run_cli):
    twin18.add_faults("pass", "pass", "drop-after")  # history, history tables, the pack: committed, answer lost
    result = run_cli("deploy", *api_args(twin18, 30), "--migrations-dir", MIGRATIONS, "--no-assertions",
                     "--format", "json")
    assert result.code == 0, result.err
    assert result.json["applied_versions"] == ALL
    assert versions(pg18) == [(v, 1) for v in ALL]
    assert "history shows it committed" in result.out + result.err


@pytest.mark.parametrize("through", ["api", "url"])
def test_a_first_deploy_that_commits_nothing_leaves_the_database_as_it_was(db, twin, run_cli, tmp_path, through):
    before = db.query(CATALOG, superuser=True)
    target = api_args(twin, 30) if through == "api" else ["--db-url", db.dsn]
    broken = write(tmp_path / "broken", {"000001_a.sql": "create table public.a (id int primary key);\n"
                                                         "select * from public.nope;\n"})
    failed = run_cli("deploy", *target, "--migrations-dir", broken, "--no-assertions", "--max-advisor-level", "none")
    assert failed.code == 1
    assert db.query(CATALOG, superuser=True) == before  # no supabase_migrations, no side tables
    gated = write(tmp_path / "gated", {"000001_a.sql": "create table public.a (id int primary key);\n"
                                                       "alter table public.a enable row level security;\n"})
    checks = tmp_path / "checks.yml"
    checks.write_text("version: 1\nassertions:\n  - name: a table that is not there\n"
                      "    table_count: {schema: public, pattern: 'missing', equals: 1}\n")
    gate = run_cli("deploy", *target, "--migrations-dir", gated, "--assertions", checks, "--tx-mode", "all",
                   "--max-advisor-level", "none")
    assert gate.code == 1, gate.out + gate.err
    assert db.query(CATALOG, superuser=True) == before


def test_history_another_tool_created_keeps_its_own_columns_when_nothing_commits(db, run_cli, tmp_path):
    db.query("create schema supabase_migrations; create table supabase_migrations.schema_migrations "
             "(version text primary key)", superuser=True)
    db.query("grant all on schema supabase_migrations to postgres; "
             "grant all on supabase_migrations.schema_migrations to postgres", superuser=True)
    before = db.query(CATALOG, superuser=True)
    columns = db.query("select attname from pg_attribute where attrelid = "
                       "'supabase_migrations.schema_migrations'::regclass and attnum > 0 and not attisdropped")
    broken = write(tmp_path / "broken", {"000001_a.sql": "select * from public.nope;\n"})
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", broken, "--no-assertions",
                   "--allow-drift").code == 1
    assert db.query(CATALOG, superuser=True) == before
    assert db.query("select attname from pg_attribute where attrelid = 'supabase_migrations.schema_migrations'"
                    "::regclass and attnum > 0 and not attisdropped") == columns
