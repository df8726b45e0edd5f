"""Migration files in the shapes real Supabase projects commit (issue: real-world migration files).

Each shape deploys through a database URL, the API twin and (where it can be
observed) the local target, on PostgreSQL 15 and 18; where the Supabase CLI
deploys the same files, the catalog and the history rows must equal the CLI's.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import DEBIAN_PG15, MIGRATIONS, api_args
from support import supabase_cli
from support.catalog import catalog, differences, history_rows

LEAK_SETTERS = {
    "search_path": "set search_path = private;",
    "set_config": "select pg_catalog.set_config('search_path', '', false);",
    "role": "set role service_role;",
    "session_authorization": "set session authorization default;",  # harmless, but must not break anything
    "check_function_bodies": "set check_function_bodies = false;",
    "row_security": "set row_security = off;",
    "client_min_messages": "set client_min_messages = error;",
    "reset_all": "reset all;",
}
SECOND_FILE = """\
create table settings (id int primary key, value text);
create function settings_count() returns bigint language sql as $$ select count(*) from settings $$;
"""


def leak_files(setter: str) -> dict[str, str]:
    return {
        "20240101000000_private.sql": "create schema private;\ncreate table private.hidden (id int);\n"
                                      + LEAK_SETTERS[setter] + "\n",
        "20240101000001_settings.sql": SECOND_FILE,
    }


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_bytes(text.encode())
    return directory


def owner_and_schema(db, name: str) -> list[tuple]:
    return db.query("SELECT n.nspname, pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                    f"ON n.oid = c.relnamespace WHERE c.relname = '{name}' AND c.relkind = 'r'", superuser=True)


@pytest.mark.parametrize("setter", sorted(LEAK_SETTERS))
@pytest.mark.parametrize("how", ["file", "all", "api"])
def test_nothing_a_file_sets_reaches_the_next_file(db, twin, run_cli, tmp_path, setter, how):
    migrations = write(tmp_path / "m", leak_files(setter))
    target = api_args(twin, 30) if how == "api" else ["--db-url", db.dsn]
    mode = ["--tx-mode", "all"] if how == "all" else []
    result = run_cli("deploy", *target, "--migrations-dir", migrations, *mode, "--no-assertions")
    assert result.code == 0, result.out + result.err
    assert owner_and_schema(db, "settings") == [("public", "postgres")]
    assert owner_and_schema(db, "hidden") == [("private", "postgres")]
    assert db.history() == ["20240101000000", "20240101000001"]
    # supadeploy's own bookkeeping survived whatever the file did
    assert db.value("select count(*) from supabase_migrations.supadeploy_log where duration_ms is not null") == 2


def test_a_leaked_check_function_bodies_would_have_hidden_a_broken_function(db, run_cli, tmp_path):
    files = {"20240101000000_a.sql": "set check_function_bodies = false;\n",
             "20240101000001_b.sql": "create function f() returns int language sql as $$ select nosuch $$;\n"}
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions")
    assert result.code == 1 and "42703" in result.out  # checked, as in a fresh session
    assert db.history() == ["20240101000000"]


def test_the_local_target_starts_every_file_clean_too(run_cli, tmp_path):
    migrations = write(tmp_path / "m", leak_files("role") | {
        "20240101000002_more.sql": "set search_path = private;\n"})
    checks = tmp_path / "checks.yml"
    checks.write_text("""\
assertions:
  - name: settings is in public, owned by postgres
    sql:
      query: select n.nspname || '/' || pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = 'settings'
      expect: public/postgres
""")
    result = run_cli("deploy", "--migrations-dir", migrations, "--assertions", checks, "--max-advisor-level", "none")
    assert result.code == 0, result.out + result.err
    assert "assertions 1/1 passed" in result.out


# --- supabase db pull dumps ------------------------------------------------------

# What `supabase db pull` leaves out: the schemas the platform manages.
PLATFORM_SCHEMAS = ("auth", "storage", "realtime", "extensions", "graphql", "graphql_public", "supabase_functions",
                    "vault", "pgbouncer", "supabase_migrations", "net", "cron", "pgsodium", "pgmq")


@pytest.fixture(scope="session")
def pulled_dump(clusters, tmp_path_factory) -> str:
    """A real pg_dump --schema-only of a Supabase-like database, ending like the CLI's pull: RESET ALL."""
    from conftest import _new_database

    source = _new_database(clusters, "pg15")
    from supadeploy.cli import main

    assert main(["deploy", "--db-url", source.dsn, "--migrations-dir", str(MIGRATIONS), "--no-assertions",
                 "--format", "json"]) == 0
    source.query("create schema private; create table private.notes (id int primary key, body text);"
                 "create view public.note_count as select count(*) from private.notes;")
    # As the CLI's dump script: platform schemas excluded (and the replay's own), and `--extension '*'`, which
    # keeps event triggers out of the dump.
    dump = subprocess.run([str(DEBIAN_PG15 / "pg_dump"), "--schema-only", "--quote-all-identifiers",
                           *[f"--exclude-schema={s}" for s in (*PLATFORM_SCHEMAS, "_supadeploy_*")],
                           "--extension=*", "--dbname", source.dsn], capture_output=True, text=True, check=True)
    assert "CREATE EVENT TRIGGER" not in dump.stdout
    assert "SELECT pg_catalog.set_config('search_path', '', false);" in dump.stdout
    text = dump.stdout
    # What `supabase db pull` does to pg_dump's output (its dump script's documented rewrites).
    for pattern, replacement in ((r"(?m)^\\(un)?restrict .*$", r"-- \g<0>"),
                                 (r'(?m)^CREATE SCHEMA "', 'CREATE SCHEMA IF NOT EXISTS "'),
                                 (r'(?m)^CREATE TABLE "', 'CREATE TABLE IF NOT EXISTS "'),
                                 (r"(?m)^COMMENT ON EXTENSION (.+)", r"-- \g<0>"),
                                 (r'(?m)^ALTER DEFAULT PRIVILEGES FOR ROLE "supabase_admin"', r"-- \g<0>"),
                                 (r'(?m)^CREATE PUBLICATION "supabase_realtime', r"-- \g<0>"),
                                 (rf'(?m)^(GRANT|REVOKE) (.+) ON (.+) "({"|".join(PLATFORM_SCHEMAS)})"', r"-- \g<0>")):
        text = re.sub(pattern, replacement, text)
    return text + "\nRESET ALL;\n"


@pytest.mark.parametrize("how", ["file", "all", "api"])
def test_a_pulled_dump_then_unqualified_names(db, twin, run_cli, tmp_path, pulled_dump, how):
    files = {"20240101000000_remote_schema.sql": pulled_dump, "20240101000001_settings.sql": SECOND_FILE}
    target = api_args(twin, 30) if how == "api" else ["--db-url", db.dsn]
    mode = ["--tx-mode", "all"] if how == "all" else []
    result = run_cli("deploy", *target, "--migrations-dir", write(tmp_path / "m", files), *mode, "--no-assertions")
    assert result.code == 0, result.out + result.err
    assert db.tables() == 34
    assert owner_and_schema(db, "settings") == [("public", "postgres")]
    assert db.value("select to_regclass('private.notes') is not null")


def test_pg_dump_restrict_lines_are_not_sql_but_are_tolerated(db, run_cli, tmp_path):
    dump = ("--\n-- PostgreSQL database dump\n--\n\n\\restrict AbC123\n\nSET statement_timeout = 0;\n"
            "SELECT pg_catalog.set_config('search_path', '', false);\n"
            "CREATE TABLE public.dumped (id integer);\n\n\\unrestrict AbC123\n")
    files = {"000001_dump.sql": dump, "000002_more.sql": "create table more (id int);\n"}
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", files), "--no-assertions")
    assert result.code == 0, result.out
    assert owner_and_schema(db, "more") == [("public", "postgres")]
    other = write(tmp_path / "n", {"000001_psql.sql": "select 1;\n\\connect other\nselect 2;\n"})
    refused = run_cli("plan", "--db-url", db.dsn, "--migrations-dir", other)
    assert refused.code == 2 and "000001_psql.sql:2: \\connect is a psql meta-command, not SQL" in refused.out


# --- BEGIN … COMMIT, comments only, non-transactional files --------------------------

REALTIME = """\
begin;
  -- remove the supabase_realtime publication
  drop publication if exists supabase_realtime;

  -- re-create the supabase_realtime publication with no tables
  create publication supabase_realtime;
commit;

-- add a table called 'messages' to the publication
alter publication supabase_realtime add table messages;
"""
WEBHOOK_COMMENTED_OUT = """\
-- Database webhook, disabled for now:
-- create trigger "on_signup" after insert on public.profiles
--   for each row execute function supabase_functions.http_request('https://example.com', 'POST', '{}', '{}', '1000');
"""
SHAPES = {
    "20240101000000_messages.sql": "create table public.messages (id bigint primary key, body text);\n",
    "20240101000001_realtime.sql": REALTIME,
    "20240101000002_webhook.sql": WEBHOOK_COMMENTED_OUT,
    "20240101000003_wrapped.sql": "BEGIN;\ncreate table public.wrapped (id int);\nCOMMIT;\n",
    "20240101000004_index.sql": "-- pg-delta: transaction=false\n"
                                "create index concurrently messages_body_idx on public.messages (body);\n",
}


def _big_seed() -> str:
    """A seed past engine.requests.HISTORY_INLINE: CRLF line endings, non-ASCII text, comments between
    statements, a function body with `;` inside. Its history row is built on the server from slices."""
    head = ("-- a seed as teams write it\r\ncreate table public.seed (id int primary key, name text);\r\n"
            "create function public.seed_count() returns bigint language plpgsql as $$\r\nbegin\r\n"
            "  return (select count(*) from public.seed);\r\nend\r\n$$;\r\n")
    rows = "".join(f"-- row {i}\r\ninsert into public.seed values ({i}, 'Zoë {i}; ünïcode ✓');\r\n"
                   for i in range(16_000))
    return head + rows + "select public.seed_count();\r\n"


def test_a_big_seed_is_recorded_as_the_supabase_cli_records_it(db, second_db, run_cli, tmp_path):
    files = {"20240101000000_seed.sql": _big_seed()}
    assert len(files["20240101000000_seed.sql"]) > 1 << 20
    cli = supabase_cli.push(second_db.dsn, files, tmp_path)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions", "--format", "json")
    assert result.code == 0, result.out + result.err
    assert history_rows(db) == history_rows(second_db)  # the row built from slices is the CLI's, byte for byte
    again = run_cli("deploy", "--db-url", second_db.dsn, "--migrations-dir", tmp_path / "m", "--format", "json")
    assert again.code == 0 and again.json["applied_versions"] == [], again.out  # same fingerprint both ways
    assert not [p for p in again.json["problems"] if p["level"] == "error"]


@pytest.mark.parametrize("mode", ["file", "all"])
def test_real_shapes_match_the_supabase_cli(db, second_db, run_cli, tmp_path, mode):
    cli = supabase_cli.push(second_db.dsn, SHAPES, tmp_path)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", SHAPES),
                     "--tx-mode", mode, "--no-assertions", "--format", "json")
    assert result.code == 0, result.out + result.err
    assert not differences(catalog(db), catalog(second_db))
    assert history_rows(db) == history_rows(second_db)  # byte for byte the rows the CLI writes
    warnings = [p["message"] for p in result.json["problems"] if p["level"] == "warning"]
    assert any("20240101000002_webhook.sql contains no SQL statement" in w for w in warnings)
    # and each tool reads the other's history as complete
    again = run_cli("deploy", "--db-url", second_db.dsn, "--migrations-dir", tmp_path / "m", "--format", "json")
    assert again.code == 0 and again.json["applied_versions"] == [], again.out
    assert not [p for p in again.json["problems"] if p["level"] == "error"]
    listed = supabase_cli.migration_list(db.dsn, SHAPES, tmp_path)
    assert listed.returncode == 0 and listed.stdout.count("20240101000004") == 2, listed.stdout + listed.stderr


def test_real_shapes_through_the_api(db, twin, run_cli, tmp_path):
    result = run_cli("deploy", *api_args(twin, 30), "--migrations-dir", write(tmp_path / "m", SHAPES),
                     "--no-assertions")
    assert result.code == 0, result.out + result.err
    assert db.history() == [name[:14] for name in sorted(SHAPES)]
    assert db.value("select indisvalid from pg_index where indexrelid = 'public.messages_body_idx'::regclass")
    assert db.value("select count(*) from pg_publication_tables where pubname = 'supabase_realtime'") == 1


@pytest.mark.parametrize("body, line, word", [
    ("create table a (id int);\ncommit;\nbegin;\ncreate table b (id int);\n", 2, "COMMIT"),
    ("begin;\ncreate table a (id int);\nrollback;\n", 3, "ROLLBACK"),
    ("create table a (id int);\nsavepoint s1;\n", 2, "SAVEPOINT"),
    ("begin;\ncreate table a (id int);\ncommit and chain;\n", 3, "COMMIT"),
    ("prepare transaction 'x';\n", 1, "PREPARE TRANSACTION"),
])
def test_other_transaction_control_is_refused_with_line_and_way_out(run_cli, tmp_path, body, line, word):
    migrations = write(tmp_path / "m", {"000001_tx.sql": body})
    result = run_cli("plan", "--db-url", "postgresql://postgres@127.0.0.1:9/none", "--migrations-dir", migrations)
    assert result.code == 2
    assert f"000001_tx.sql:{line}: transaction control ({word})" in result.out
    assert "one BEGIN … COMMIT block" in result.out and "split the file" in result.out


def test_transaction_control_inside_a_function_body_is_not_top_level(db, run_cli, tmp_path):
    files = {"000001_proc.sql": "create procedure p() language plpgsql as $$ begin commit; end $$;\n"}
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions")
    assert result.code == 0, result.out


def test_plan_and_status_work_on_a_database_the_cli_deployed(db, run_cli, tmp_path):
    assert supabase_cli.push(db.dsn, SHAPES, tmp_path).returncode == 0
    status = run_cli("status", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", SHAPES),
                     "--format", "json")
    assert status.code == 0 and status.json["pending"] == [], status.out
    plan = run_cli("plan", "--db-url", db.dsn, "--migrations-dir", tmp_path / "m", "--format", "json")
    assert plan.code == 0 and not [p for p in plan.json["problems"] if p["level"] == "error"], plan.out


DIRECTIVES = ["-- supadeploy: transaction=false", "-- pg-delta: transaction=false", "-- atlas:txmode none"]
EVENTS = "create table public.events (id bigint generated always as identity primary key, code text not null);\n" \
         "insert into public.events (code) values ('a'), ('b'), ('a');\n"


@pytest.mark.parametrize("directive", DIRECTIVES)
@pytest.mark.parametrize("how", ["file", "all", "api"])
def test_concurrent_index_with_a_directive_survives_a_failed_build(db, twin, run_cli, tmp_path, directive, how):
    files = {"000001_events.sql": EVENTS,
             "000002_unique_code.sql": f"{directive}\n\n-- duplicates make the first build fail\n"
                                       "create unique index concurrently events_code_key on public.events (code);\n"
                                       "vacuum analyze public.events;\n",
             "000003_after.sql": "create table public.after_index (id int);\n"}
    migrations = write(tmp_path / "m", files)
    target = api_args(twin, 30) if how == "api" else ["--db-url", db.dsn]
    mode = ["--tx-mode", "all"] if how == "all" else []
    failed = run_cli("deploy", *target, "--migrations-dir", migrations, *mode, "--no-assertions")
    assert failed.code == 1
    assert "000002_unique_code.sql:4: 23505" in failed.out
    assert "Statement 1 failed; statements 2–2 were not run" in failed.out
    assert "left INVALID index(es) public.events_code_key" in failed.out
    assert db.history() == ["000001"]
    assert db.value("select indisvalid from pg_index where indexrelid = 'public.events_code_key'::regclass") is False
    db.query("delete from public.events where id = 3")
    fixed = run_cli("deploy", *target, "--migrations-dir", migrations, *mode, "--no-assertions")
    assert fixed.code == 0, fixed.out + fixed.err
    assert "index events_code_key was left INVALID by an earlier failed build; dropping it" in fixed.out
    assert db.history() == ["000001", "000002", "000003"]
    assert db.value("select indisvalid from pg_index where indexrelid = 'public.events_code_key'::regclass") is True
    assert db.value("select count(*) from supabase_migrations.supadeploy_progress") == 0


def test_a_non_transactional_file_resumes_where_it_stopped(db, run_cli, tmp_path):
    files = {"000001_events.sql": EVENTS,
             "000002_two.sql": "-- supadeploy: transaction=false\n"
                               "create index concurrently events_id_code on public.events (id, code);\n"
                               "create unique index concurrently events_code_key on public.events (code);\n"
                               "alter type pg_catalog.nosuch add value 'x';\n"}
    migrations = write(tmp_path / "m", files)
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations, "--no-assertions").code == 1
    assert db.value("select done from supabase_migrations.supadeploy_progress where version = '000002'") == 1
    db.query("delete from public.events where id = 3")
    (migrations / "000002_two.sql").write_text((migrations / "000002_two.sql").read_text().replace(
        "alter type pg_catalog.nosuch add value 'x';", "create type public.mood as enum ('ok');"))
    changed = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations, "--no-assertions")
    assert changed.code == 1 and "was partly applied (1 statement(s) ran" in changed.out
    db.query("delete from supabase_migrations.supadeploy_progress", superuser=True)
    db.query("drop index public.events_code_key")
    resumed = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations, "--no-assertions")
    assert resumed.code == 0, resumed.out
    assert "index events_id_code already exists and is valid" in resumed.out


def test_alter_type_add_value_used_later_needs_the_directive(db, run_cli, tmp_path):
    first = {"000001_mood.sql": "create type public.mood as enum ('happy');\n"}
    body = "alter type public.mood add value 'sad';\ncreate table public.moods (m public.mood default 'sad');\n"
    failed = run_cli("deploy", "--db-url", db.dsn, "--no-assertions", "--migrations-dir",
                     write(tmp_path / "a", first | {"000002_m.sql": body}))
    assert failed.code == 1 and "55P04" in failed.out and "-- supadeploy: transaction=false" in failed.out
    ok = run_cli("deploy", "--db-url", db.dsn, "--no-assertions", "--migrations-dir",
                 write(tmp_path / "b", first | {"000002_m.sql": "-- supadeploy: transaction=false\n" + body}))
    assert ok.code == 0, ok.out
