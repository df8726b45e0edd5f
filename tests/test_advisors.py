"""Supabase's advisors computed by supadeploy: every lint fires and stays quiet on its fixtures (PostgreSQL 15
and 18), findings are blamed on the right file and line of real-shaped migrations, production's findings are
a baseline, acknowledgements and the level threshold decide what fails, and the Data API part."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import MIGRATIONS, REF, TOKEN, Database
from supadeploy.checks.advisors import Ledger, Status, advise, all_lints, assess, attribute, run
from supadeploy.checks.advisors.attribution import unquote
from supadeploy.checks.advisors.baseline import THRESHOLDS, acknowledged, at_least
from supadeploy.checks.advisors.data_api import (
    RELOAD_CONFIG,
    RELOAD_SCHEMA,
    ApiObject,
    await_exposure,
    expected_objects,
    missing_from_openapi,
    reload_sql,
)
from supadeploy.checks.advisors.ledger import object_name, type_name
from supadeploy.checks.advisors.model import Attribution, Category, Change, Finding, Level
from supadeploy.checks.advisors.query import (
    AdvisorError,
    advisors_sql,
    exposed_schemas_from_config,
    exposed_schemas_from_setting,
    findings_from,
)
from supadeploy.engine.migrations import Migration, load_migrations, parse_migration
from supadeploy.errors import ConfigError, TargetError
from supadeploy.platform.cluster import BOOTSTRAP_SUPERUSER
from supadeploy.targets.api import ApiTarget
from supadeploy.targets.postgres import PostgresTarget

FIXTURES = Path(__file__).parent / "fixtures" / "advisors"
SHAPED = FIXTURES / "migrations"
SHAPED_EXPOSED = ("public", "graphql_public", "api")
LINTS = all_lints()
# Supabase's lints (supabase/splinter lints/) that no catalog query can compute.
LEFT_OUT = {"unused_index", "table_bloat", "auth_allow_anonymous_sign_ins"}


# --- helpers ---------------------------------------------------------------------------------------------


def _advise_in(conn: psycopg.Connection[Any], exposed: tuple[str, ...]) -> list[Finding]:
    """The advisors' one text, on this connection, inside its current transaction."""
    cursor = conn.execute(advisors_sql(exposed=exposed).encode())
    rows: list[Any] = []
    while True:
        if cursor.description is not None:
            rows = cursor.fetchall() or rows
        if not cursor.nextset():
            break
    return findings_from(rows[0][0])


def _replay(database: Database, migrations: list[Migration]) -> None:
    """Apply each file in its own transaction on a fresh session, as postgres (as the engine does)."""
    for migration in migrations:
        with psycopg.connect(database.dsn, autocommit=True) as conn, conn.transaction():
            for statement in migration.statements:
                conn.execute(statement.text.encode())


def _shaped() -> list[Migration]:
    return list(load_migrations(SHAPED, FIXTURES).migrations)


def _expectations(migrations: list[Migration]) -> dict[tuple[str, str], tuple[str, int]]:
    """`-- expect: <lint> <ref>` comments: the finding is blamed on the next statement line."""
    expected: dict[tuple[str, str], tuple[str, int]] = {}
    for migration in migrations:
        waiting: list[tuple[str, str]] = []
        for number, line in enumerate(migration.text.splitlines(), 1):
            marker = re.match(r"--\s*expect:\s*(\S+)\s+(.+?)\s*$", line)
            if marker:
                waiting.append((marker.group(1), marker.group(2)))
            elif line.strip() and not line.strip().startswith("--"):
                expected.update({item: (migration.display_path, number) for item in waiting})
                waiting = []
    return expected


def _migration(text: str, name: str = "000001_x.sql") -> Migration:
    version, rest = name.split("_", 1)
    return parse_migration(text.encode(), version, rest[:-4], Path(name), f"supabase/migrations/{name}")


def _finding(lint: str, level: Level = Level.ERROR, file: str | None = "m.sql", line: int = 1,
             schema: str = "public", obj: str = "t") -> Finding:
    return Finding.of(lint, level, (Category.SECURITY,), schema, obj, "table", "", "",
                      where=Attribution(file, line, Change.CREATE) if file else None)


# --- the lint units ----------------------------------------------------------------------------------------


def test_every_computable_lint_of_supabase_is_a_unit_with_its_facts() -> None:
    assert len(LINTS) == 26 and not LEFT_OUT & set(LINTS)
    for lint_id, lint in LINTS.items():
        assert lint.ID == lint_id and re.fullmatch(r"[a-z0-9_]+", lint_id)
        assert isinstance(lint.LEVEL, Level) and lint.CATEGORIES and lint.TITLE and lint.DESCRIPTION
        assert lint.REMEDIATION.startswith("https://supabase.com/docs/guides/database/database-linter?lint=")
        assert "\n" not in lint.DESCRIPTION and lint.BLAME and lint.SQL.strip()
        assert any(f.expect for f in lint.FIXTURES) and any(not f.expect for f in lint.FIXTURES), lint_id


def test_levels_are_supabases() -> None:
    levels = {lint.ID: lint.LEVEL for lint in LINTS.values()}
    assert levels["rls_disabled_in_public"] is Level.ERROR and levels["security_definer_view"] is Level.ERROR
    assert levels["auth_rls_initplan"] is Level.WARN and levels["function_search_path_mutable"] is Level.WARN
    assert levels["unindexed_foreign_keys"] is Level.INFO and levels["rls_enabled_no_policy"] is Level.INFO
    assert {c for lint in LINTS.values() for c in lint.CATEGORIES} == {Category.SECURITY, Category.PERFORMANCE}


@pytest.mark.parametrize("lint_id", sorted(LINTS))
def test_lint_fires_and_stays_quiet_on_its_fixtures(db: Database, lint_id: str) -> None:
    """Each fixture, in a transaction rolled back after: the lint reports exactly the fixture's objects."""
    for fixture in LINTS[lint_id].FIXTURES:
        exposed = fixture.exposed or ("public", "graphql_public")
        user = BOOTSTRAP_SUPERUSER if fixture.superuser else "postgres"
        with psycopg.connect(db.cluster.dsn(db.name, user)) as conn, conn.transaction(force_rollback=True):
            before = {f.ref for f in _advise_in(conn, exposed) if f.lint == lint_id}
            conn.execute(fixture.sql.encode())
            after = [f.ref for f in _advise_in(conn, exposed) if f.lint == lint_id]
        assert before <= set(after), fixture.name
        assert sorted(r for r in after if r not in before) == sorted(fixture.expect), f"{lint_id}: {fixture.name}"


def test_one_request_through_the_management_api_answers_what_a_direct_connection_does(twin: Any,
                                                                                        db: Database) -> None:
    _replay(db, _shaped())
    direct = run(PostgresTarget(db.dsn), SHAPED_EXPOSED)
    api = ApiTarget(REF, TOKEN, twin.url)
    try:
        through_api = run(api, SHAPED_EXPOSED)
    finally:
        api.close()
    assert api.round_trips == 1 and twin.stats()["requests"] == 1
    assert [f.to_dict() for f in through_api] == [f.to_dict() for f in direct] and len(direct) > 30


def test_read_only_user_sees_the_same_findings_and_a_role_without_storage_no_error(db: Database) -> None:
    _replay(db, _shaped())
    as_postgres = run(PostgresTarget(db.dsn), SHAPED_EXPOSED)
    read_only = db.cluster.dsn(db.name, "supabase_read_only_user") + "?options=-c%20default_transaction_read_only%3Don"
    assert [f.key for f in run(PostgresTarget(read_only), SHAPED_EXPOSED)] == [f.key for f in as_postgres]
    # a role that may not read storage.buckets (authenticator does not inherit anon's grants): no error, no bucket
    other = run(PostgresTarget(db.cluster.dsn(db.name, "authenticator")), SHAPED_EXPOSED)
    assert {f.key for f in as_postgres} - {f.key for f in other} == {"public_bucket_allows_listing:storage.avatars/avatars"}


def test_query_runs_where_storage_and_pg_graphql_are_not_installed(db: Database) -> None:
    db.query("drop schema storage cascade; drop extension pg_graphql cascade", superuser=True)
    db.query("create table public.t (id int)")
    assert {f.lint for f in run(PostgresTarget(db.dsn))} == {"rls_disabled_in_public", "no_primary_key"}


def test_an_answer_that_is_not_findings_is_an_error() -> None:
    with pytest.raises(AdvisorError):
        findings_from({"not": "a list"})
    with pytest.raises(AdvisorError, match="unknown row"):
        findings_from([{"lint": "no_such_lint", "object": "t"}])


# --- attribution -------------------------------------------------------------------------------------------


def test_real_shaped_migrations_every_finding_at_its_file_and_line(db: Database) -> None:
    migrations = _shaped()
    _replay(db, migrations)
    found = advise(PostgresTarget(db.dsn), migrations, SHAPED_EXPOSED)
    got = {(f.lint, f.ref): (f.file, f.line) for f in found}
    expected = _expectations(migrations)
    assert got == expected
    assert {f.lint for f in found} >= {"public_bucket_allows_listing", "auth_users_exposed", "sensitive_columns_exposed",
                                       "rls_references_user_metadata", "unsupported_reg_types", "duplicate_index"}


def test_welltrack_findings_and_where_they_come_from(db: Database) -> None:
    migrations = list(load_migrations(MIGRATIONS, MIGRATIONS.parent).migrations)
    _replay(db, migrations)
    found = advise(PostgresTarget(db.dsn), migrations)
    by_lint: dict[str, list[Finding]] = {}
    for finding in found:
        by_lint.setdefault(finding.lint, []).append(finding)
    assert set(by_lint) == {"pg_graphql_authenticated_table_exposed", "rls_enabled_no_policy"}
    assert len(by_lint["pg_graphql_authenticated_table_exposed"]) == db.tables() - 1  # tokens: service only
    [tokens] = by_lint["rls_enabled_no_policy"]
    assert (tokens.schema, tokens.object, tokens.file) == ("public", "wt_integration_tokens",
                                                          "migrations/000002_integrations.sql")
    text = {m.display_path: m.text.splitlines() for m in migrations}
    assert "enable row level security" in text[tokens.file][tokens.line - 1].lower()
    for finding in by_lint["pg_graphql_authenticated_table_exposed"]:  # WellTrack revokes, then grants: the grant
        statement = text[finding.file or ""][(finding.line or 0) - 1].lower()
        assert re.match(rf"grant select\b.* on (table )?(public\.)?{finding.object} to authenticated", statement), finding


def test_default_constraint_and_index_names_are_postgresqls(db: Database) -> None:
    long = "t" * 40 + "_activity_records"
    db.query(f"create table public.{long} (id int primary key, owner_reference_column_with_long_name int"
             f" references public.{long} (id), code text unique);"
             f"create index on public.{long} (owner_reference_column_with_long_name, code)")
    names = {r[0] for r in db.query("select conname from pg_constraint where conrelid = %s::regclass and contype <> 'n' union "
                                    "select relname from pg_class c join pg_index i on i.indexrelid = c.oid "
                                    "where i.indrelid = %s::regclass", (f"public.{long}", f"public.{long}"))}
    assert names == {object_name(long, None, "pkey"), object_name(long, "code", "key"),
                     object_name(long, "owner_reference_column_with_long_name", "fkey"),
                     object_name(long, "owner_reference_column_with_long_name_code", "idx")}
    assert all(len(n.encode()) <= 63 for n in names)


def test_ledger_follows_renames_schema_moves_drops_and_search_path() -> None:
    ledger = Ledger.of([
        _migration("create table staging (id int);\nalter table staging rename to items;\n"
                   "create schema app;\nalter table items set schema app;\n"
                   "create table gone (id int);\ndrop table gone;\n", "000001_a.sql"),
        _migration("select pg_catalog.set_config('search_path', 'app', false);\n"
                   "alter table items enable row level security;\n"
                   "create index on items (id);\n"
                   "create table gone (id int);\n"
                   "reset all;\ncreate table after_reset (id int);\n", "000002_b.sql"),
    ])
    items = ledger.history(("relation", "app", "items"))
    assert [(e.change.value, e.file, e.line) for e in items] == [
        ("create", "supabase/migrations/000001_a.sql", 1), ("alter", "supabase/migrations/000001_a.sql", 4),
        ("rls", "supabase/migrations/000002_b.sql", 2)]
    assert ledger.history(("index", "app", "items_id_idx"))[0].line == 3
    assert [(e.file, e.line) for e in ledger.history(("relation", "app", "gone"))] == [
        ("supabase/migrations/000002_b.sql", 4)]  # created in app (the path), the dropped one forgotten
    assert ("relation", "public", "gone") not in ledger.events and ledger.touched >= {"public", "app"}
    assert ("relation", "public", "after_reset") in ledger.events


def test_functions_match_across_type_spellings_and_overloads() -> None:
    ledger = Ledger.of([_migration(
        "create function f(a int, b timestamptz, out c text) returns text language sql as 'select 1';\n"
        "create function f(a varchar) returns text language sql as 'select 1';\n"
        "alter function f(integer, timestamp with time zone) security definer;\n"
        "grant execute on function public.f(character varying) to anon;\n")])
    by_types = ledger.function_keys("public", "f", ("integer", "timestamp with time zone"))
    assert by_types == [("function", "public", "f", "integer,timestamp with time zone")]
    assert [e.line for e in ledger.history(by_types[0])] == [1, 3]
    assert [e.line for e in ledger.history(ledger.function_keys("public", "f", ("character varying",))[0])] == [2, 4]
    assert type_name({"names": [{"String": {"sval": "pg_catalog"}}, {"String": {"sval": "int8"}}],
                      "arrayBounds": [{"Integer": {"ival": -1}}]}) == "bigint[]"


def test_a_finding_on_an_object_only_a_do_block_creates_is_pointed_at_it_approximately() -> None:
    migration = _migration("create table a (id int);\n"
                           "do $$ begin execute 'create table public.made_by_loop (id int)'; end $$;\n")
    [finding] = attribute([_finding("no_primary_key", file=None, obj="made_by_loop")], Ledger.of([migration]), LINTS)
    assert finding.where == Attribution("supabase/migrations/000001_x.sql", 2, finding.where.change, exact=False)
    [untouched] = attribute([_finding("no_primary_key", file=None, obj="nowhere")], Ledger.of([migration]), LINTS)
    assert untouched.where is None


def test_queues_and_buckets_are_objects_too() -> None:
    ledger = Ledger.of([_migration(
        "select pgmq.create('jobs');\n"
        "insert into storage.buckets (name, id, public) values ('Avatars', 'avatars', true), ('docs', 'docs', false);\n"
        "update storage.buckets set public = false where id = 'avatars';\n"
        "create schema s create table inner_t (id int);\n")])
    assert [e.line for e in ledger.history(("relation", "pgmq", "q_jobs"))] == [1]
    assert [e.line for e in ledger.history(("bucket", "avatars"))] == [2, 3]
    assert [e.line for e in ledger.history(("bucket", "docs"))] == [2]
    assert ("relation", "s", "inner_t") in ledger.events and unquote('"My ""S"""') == 'My "S"'


# --- baseline, acknowledgements, threshold --------------------------------------------------------------------


def test_production_baseline_only_new_findings_count(db: Database, second_db: Database) -> None:
    migrations = _shaped()
    production, replay = second_db, db
    _replay(production, migrations[:2])
    _replay(replay, migrations)
    before = run(PostgresTarget(production.dsn), SHAPED_EXPOSED)
    after = advise(PostgresTarget(replay.dsn), migrations, SHAPED_EXPOSED)
    sources = {m.display_path: m.text for m in migrations}
    verdict = assess(after, sources, "error", production=before)
    in_production = {f.key for f in verdict.having(Status.IN_PRODUCTION)}
    assert in_production == {f.key for f in before} - {f.key for f in verdict.fixed}
    assert "auth_rls_initplan:public.profiles/Users can update own profile." in in_production
    assert {f.file for f in verdict.having(Status.NEW)} <= {m.display_path for m in migrations[2:]}
    assert {f.lint for f in verdict.failing} == {"auth_users_exposed", "security_definer_view", "rls_disabled_in_public",
                                                 "rls_references_user_metadata", "sensitive_columns_exposed"}
    assert [f.lint for f in verdict.having(Status.ACKNOWLEDGED)] == ["materialized_view_in_api"]
    warning = assess(after, sources, "warning", production=before)
    assert {f.lint for f in warning.failing} > {f.lint for f in verdict.failing}
    assert "materialized_view_in_api" not in {f.lint for f in warning.failing}
    assert assess(after, sources, "none", production=before).ok and not verdict.ok


def test_a_fixed_finding_is_reported_as_fixed(db: Database, second_db: Database) -> None:
    first = _migration("create table public.notes (id int primary key);\n", "000001_notes.sql")
    second = _migration("alter table public.notes enable row level security;\n"
                        "create policy own on public.notes for select to authenticated using (true);\n",
                        "000002_rls.sql")
    _replay(second_db, [first])
    second_db.query("create table public.made_by_hand (id int primary key)")  # production only
    _replay(db, [first, second])
    verdict = assess(advise(PostgresTarget(db.dsn), [first, second]), {}, production=run(PostgresTarget(second_db.dsn)),
                     pending=Ledger.of([second]))
    assert [f.key for f in verdict.fixed] == ["rls_disabled_in_public:public.notes"] and verdict.ok
    assert {f.key for f in verdict.unseen} == {"rls_disabled_in_public:public.made_by_hand",
                                               "pg_graphql_anon_table_exposed:public.made_by_hand",
                                               "pg_graphql_authenticated_table_exposed:public.made_by_hand"}


def test_without_credentials_only_the_pending_files_findings_count(db: Database) -> None:
    migrations = _shaped()
    _replay(db, migrations)
    found = advise(PostgresTarget(db.dsn), migrations, SHAPED_EXPOSED)
    pending = {m.display_path for m in migrations[3:]}
    verdict = assess(found, {m.display_path: m.text for m in migrations}, "error", pending_files=pending)
    assert {f.file for f in verdict.having(Status.NEW)} == pending
    assert {f.lint for f in verdict.failing} == {"sensitive_columns_exposed", "rls_disabled_in_public"}
    assert {f.file for f in verdict.having(Status.EARLIER)} == {m.display_path for m in migrations[:3]}


def test_acknowledgements_use_the_lock_findings_syntax() -> None:
    text = ("create table a (id int);\n"
            "-- supadeploy: allow rls_disabled_in_public — a public catalogue\n"
            "create table b (id int);\n"
            "create table c (id int); -- supadeploy: allow no_primary_key, rls_disabled_in_public\n"
            "-- supadeploy: allow rls_enabled_no_policy because nobody should read it\n"
            "\n"
            "create table d (id int);\n")
    sources = {"m.sql": text}
    assert not acknowledged(_finding("rls_disabled_in_public", line=1), sources)
    assert acknowledged(_finding("rls_disabled_in_public", line=3), sources)
    assert acknowledged(_finding("no_primary_key", line=4), sources)
    assert not acknowledged(_finding("rls_enabled_no_policy", line=7), sources)  # not on or above the statement
    assert not acknowledged(_finding("rls_disabled_in_public", file=None), sources)
    whole = {"m.sql": "-- supadeploy: allow-file all\ncreate table a (id int);\n"}
    assert acknowledged(_finding("auth_users_exposed", line=2), whole)


@pytest.mark.parametrize("threshold, failing", [("info", {"INFO", "WARN", "ERROR"}), ("warning", {"WARN", "ERROR"}),
                                                 ("error", {"ERROR"}), ("none", set())])
def test_max_advisor_level(threshold: str, failing: set[str]) -> None:
    assert {level.value for level in Level if at_least(level, threshold)} == failing
    verdict = assess([_finding("x", level) for level in Level], {}, threshold)
    assert {f.severity.value for f in verdict.failing} == failing and THRESHOLDS == ("info", "warning", "error", "none")


def test_an_unknown_threshold_is_bad_input() -> None:
    with pytest.raises(ConfigError, match="--max-advisor-level"):
        assess([], {}, "warn")


# --- exposed schemas ------------------------------------------------------------------------------------------


def test_exposed_schemas_from_the_cli_config_and_postgrest_setting() -> None:
    assert exposed_schemas_from_config('[api]\nschemas = ["public", "graphql_public", "api"]\n') == (
        "public", "graphql_public", "api")
    assert exposed_schemas_from_config("[db]\nmajor_version = 15\n") is None
    with pytest.raises(ConfigError, match="schemas must be a list"):
        exposed_schemas_from_config('[api]\nschemas = "public"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        exposed_schemas_from_config("[api\n")
    assert exposed_schemas_from_setting(" public, graphql_public ,api,") == ("public", "graphql_public", "api")


# --- the Data API ---------------------------------------------------------------------------------------------


def test_reload_only_when_an_exposed_schema_changed() -> None:
    public = Ledger.of([_migration("create table public.t (id int);\n")])
    private = Ledger.of([_migration("create schema private;\ncreate table private.t (id int);\n")])
    config = Ledger.of([_migration("alter role authenticator set pgrst.db_schemas = 'public, api';\n")])
    assert reload_sql(public, ["public"]) == RELOAD_SCHEMA
    assert reload_sql(private, ["public"]) is None
    assert reload_sql(config, ["public"]) == f"{RELOAD_CONFIG};\n{RELOAD_SCHEMA}"


def test_the_reload_notification_reaches_a_listener_when_the_deploy_commits(db: Database) -> None:
    with psycopg.connect(db.dsn, autocommit=True) as listener:
        listener.execute("listen pgrst")
        with psycopg.connect(db.dsn, autocommit=True) as deploy, deploy.transaction():
            deploy.execute("create table public.t (id int)")
            deploy.execute(RELOAD_SCHEMA.encode())
        received = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert received == ["reload schema"]


def test_expected_objects_and_what_the_openapi_document_lacks() -> None:
    ledger = Ledger.of([_migration(
        "create table public.todos (id bigint primary key, task text);\n"
        "create table public.todos_2024 partition of public.todos_by_year for values from (1) to (2);\n"
        "create view public.open_todos as select id from public.todos;\n"
        "alter table public.profiles add column bio text;\n"
        "create function public.complete(todo bigint) returns void language sql as 'select';\n"
        "create function public.on_change() returns trigger language plpgsql as 'begin return new; end';\n"
        "create procedure public.cleanup() language sql as 'select';\n"
        "create table private.jobs (id int);\n")])
    expected = expected_objects(ledger, ["public", "api"])
    assert [o.label for o in expected] == [
        "function public.complete (/rpc/complete)", "view public.open_todos", "column public.profiles.bio",
        "table public.todos", "column public.todos.id", "column public.todos.task"]
    document = json.loads((FIXTURES / "openapi.json").read_text())
    assert [o.label for o in missing_from_openapi(document, expected, "public")] == [
        "view public.open_todos", "column public.todos.task"]
    assert missing_from_openapi(document, expected, "api") == []
    with pytest.raises(TargetError, match="not a PostgREST OpenAPI document"):
        missing_from_openapi({"message": "Failed to fetch PostgREST OpenAPI spec"}, expected, "public")


def test_await_exposure_asks_again_until_listed_and_is_bounded() -> None:
    document = json.loads((FIXTURES / "openapi.json").read_text())
    complete = {**document, "paths": {**document["paths"], "/open_todos": {}},
                "definitions": {**document["definitions"], "todos": {"properties": {"id": {}, "task": {}}}}}
    expected = [ApiObject("public", "todos", "column", "task"), ApiObject("public", "open_todos", "view")]
    answers = [document, document, complete]
    asked: list[str] = []
    said: list[str] = []
    pauses: list[int] = []

    def fetch(schema: str) -> Any:
        asked.append(schema)
        return answers.pop(0)

    assert await_exposure(expected, fetch, pauses.append, said.append, attempts=5) == []
    assert asked == ["public"] * 3 and pauses == [1, 2] and len(said) == 2
    assert "2 object(s)" in said[0] and "view public.open_todos" in said[0] and "check 1 of 5" in said[0]
    stale: list[Any] = [document] * 3
    left = await_exposure(expected, lambda schema: stale.pop(), pauses.append, said.append, attempts=3)
    assert [o.label for o in left] == ["column public.todos.task", "view public.open_todos"] and not stale


# --- the finding's JSON shape --------------------------------------------------------------------------------


def test_finding_json_has_supabases_names_and_the_file_and_line() -> None:
    finding = _finding("rls_disabled_in_public", file="supabase/migrations/1_a.sql", line=7)
    data = finding.to_dict()
    assert {k: data[k] for k in ("lint", "level", "category", "schema", "object", "file", "line")} == {
        "lint": "rls_disabled_in_public", "level": "ERROR", "category": "SECURITY", "schema": "public",
        "object": "t", "file": "supabase/migrations/1_a.sql", "line": 7}
    assert data["key"] == "rls_disabled_in_public:public.t" and "remediation" in data
