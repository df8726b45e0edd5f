"""History another tool keeps (issue 22, item 11): `supabase_migrations` belongs to another role.

supadeploy works with the Supabase CLI's table as it is (the columns it has, no ALTER, no CREATE in a
schema it may not create in), goes without its own side tables and says which grant would give them, and
names the exact grant when something it cannot do without is missing, before anything is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import api_args

OWNER = "other_tool"
GRANT_CREATE = 'GRANT CREATE ON SCHEMA supabase_migrations TO postgres;'


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def other_tools_history(database: Any, columns: str = "version text PRIMARY KEY, statements text[], name text",
                        grants: str = "SELECT, INSERT", usage: bool = True, table: bool = True,
                        to: str = "postgres") -> None:
    """As the superuser: a schema and a CLI history table owned by another role, `to` granted `grants`."""
    database.query(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER}') THEN CREATE ROLE {OWNER}; END IF;
        END $$;
        CREATE SCHEMA supabase_migrations AUTHORIZATION {OWNER};
        {f'GRANT USAGE ON SCHEMA supabase_migrations TO {to};' if usage else ''}
    """, superuser=True)
    if table:
        database.query(f"""
            CREATE TABLE supabase_migrations.schema_migrations ({columns});
            ALTER TABLE supabase_migrations.schema_migrations OWNER TO {OWNER};
            {f'GRANT {grants} ON supabase_migrations.schema_migrations TO {to};' if grants else ''}
        """, superuser=True)


def catalog(database: Any) -> list[tuple]:
    """What exists in supabase_migrations, and public's tables: the proof that nothing else was touched."""
    return database.query(
        "select n.nspname, c.relname, c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('supabase_migrations', 'public') and c.relkind in ('r', 'S') order by 1, 2",
        superuser=True)


def rows(database: Any) -> list[tuple]:
    return database.query("select * from supabase_migrations.schema_migrations order by version", superuser=True)


FILES = {"000001_a.sql": "create table public.a (id int);\n",
         "000002_b.sql": "create table public.b (id int);\ninsert into public.b values (1);\n"}


@pytest.mark.parametrize("via", ["url", "api"])
def test_the_clis_table_of_another_role_is_deployed_to_as_it_is(pg18, twin18, run_cli, tmp_path, via):
    other_tools_history(pg18)
    migrations = write(tmp_path / "m", FILES)
    target = api_args(twin18, 30) if via == "api" else ["--db-url", pg18.dsn]
    result = run_cli("deploy", *target, "--migrations-dir", migrations, "--no-assertions", "--format", "json",
                     "--allow-drift")
    assert result.code == 0, result.out + result.err
    report = result.json
    assert report["applied_versions"] == ["000001", "000002"]
    warnings = [p["message"] for p in report["problems"] if p["level"] == "warning"]
    note = next(m for m in warnings if "bookkeeping" in m)
    assert "supabase_migrations belongs to other_tool" in note and GRANT_CREATE in note, note
    assert [r[:1] for r in rows(pg18)] == [("000001",), ("000002",)]
    assert rows(pg18)[1][2] == "b" and rows(pg18)[1][1] == ["create table public.b (id int)",
                                                            "insert into public.b values (1)"]
    assert [r[1] for r in catalog(pg18) if r[0] == "supabase_migrations"] == ["schema_migrations"]
    status = run_cli("status", *target, "--migrations-dir", migrations, "--format", "json")
    assert status.code == 0 and status.json["pending"] == [], status.out
    again = run_cli("deploy", *target, "--migrations-dir", migrations, "--no-assertions", "--format", "json",
                    "--allow-drift")
    assert again.code == 0 and again.json["applied_versions"] == []


def test_a_table_with_only_the_version_column_is_not_altered(pg18, run_cli, tmp_path):
    other_tools_history(pg18, columns="version text PRIMARY KEY")
    migrations = write(tmp_path / "m", FILES)
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--no-assertions",
                     "--allow-drift")
    assert result.code == 0, result.out + result.err
    assert rows(pg18) == [("000001",), ("000002",)]  # the columns it has, and only those


def test_a_failure_in_the_clis_table_alone_is_located_and_commits_nothing_of_its_file(pg18, run_cli, tmp_path):
    other_tools_history(pg18)
    migrations = write(tmp_path / "m", {**FILES, "000003_c.sql": "create table public.c (id int);\n"
                                                                 "insert into public.nope values (1);\n"})
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--no-assertions",
                     "--allow-drift", "--format", "json")
    assert result.code == 1, result.out
    failed = [p for p in result.json["problems"] if p["level"] == "error"]
    assert failed[0]["file"].endswith("000003_c.sql") and failed[0]["line"] == 2, failed
    assert [r[0] for r in rows(pg18)] == ["000001", "000002"]
    assert pg18.value("select to_regclass('public.c')") is None


def test_a_file_outside_a_transaction_is_refused_naming_the_grant(pg18, run_cli, tmp_path):
    other_tools_history(pg18)
    migrations = write(tmp_path / "m", {**FILES, "000003_i.sql": "-- supadeploy: transaction=false\n"
                                                                 "create index concurrently a_id on public.a (id);\n"})
    before = catalog(pg18)
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", migrations, "--no-assertions",
                     "--allow-drift", "--format", "json")
    assert result.code == 1, result.out
    problem = result.json["problems"][0]
    assert problem["file"].endswith("000003_i.sql") and GRANT_CREATE in problem["message"], problem
    assert catalog(pg18) == before and rows(pg18) == []


@pytest.mark.parametrize("case, grant", [
    ("no insert", "GRANT INSERT ON TABLE supabase_migrations.schema_migrations TO {role};"),
    ("no usage", "GRANT USAGE ON SCHEMA supabase_migrations TO {role};"),
    ("no select", "GRANT SELECT ON supabase_migrations.schema_migrations TO {role};"),
    ("no table", "GRANT CREATE ON SCHEMA supabase_migrations TO {role};"),
])
def test_a_missing_grant_is_named_and_nothing_is_sent(pg18, run_cli, tmp_path, case, grant):
    # A deploying role without pg_read_all_data (Supabase's postgres has it: USAGE and SELECT are never
    # missing for it), so every grant can be missing.
    role = f"deployer_{pg18.name}"
    pg18.query(f"CREATE ROLE {role} LOGIN; GRANT CREATE ON DATABASE {pg18.name} TO {role}; "
               f"GRANT USAGE, CREATE ON SCHEMA public TO {role};", superuser=True)
    other_tools_history(pg18, grants={"no insert": "SELECT", "no select": "INSERT"}.get(case, "SELECT, INSERT"),
                        usage=case != "no usage", table=case != "no table", to=role)
    migrations = write(tmp_path / "m", FILES)
    before = catalog(pg18)
    result = run_cli("deploy", "--db-url", pg18.cluster.dsn(pg18.name, role), "--migrations-dir", migrations,
                     "--no-assertions", "--allow-drift")
    assert result.code != 0
    assert grant.format(role=role) in result.out + result.err, result.out + result.err
    assert "Traceback" not in result.err
    assert catalog(pg18) == before
