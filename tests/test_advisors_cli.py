"""Supabase's advisors and the Data API, end to end through the CLI: on the local replay, in a dry run through
the Management API twin, in lint and advise; each finding at its lint, level, object, file and line; production's
findings a baseline that never fails; PostgREST told to reload, and its OpenAPI document awaited (a miss fails)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import DRIFT_READS, MIGRATIONS, REF, TOKEN, Database, api_args, parse_outputs
from supadeploy.engine.migrations import load_migrations
from test_advisors import _expectations

SHAPED = Path(__file__).parent / "fixtures" / "advisors" / "migrations"
FILES = sorted(p.name for p in SHAPED.glob("*.sql"))
CONFIG = '[api]\nschemas = ["public", "graphql_public", "api"]\n'
EXPOSED = ("public", "graphql_public", "api")
# New ERROR findings of the real-shaped migrations (they fail the run at the default level).
FAILING = {"auth_users_exposed", "rls_disabled_in_public", "rls_references_user_metadata", "security_definer_view",
           "sensitive_columns_exposed"}


def shaped_repo(root: Path, files: list[str] | None = None) -> Path:
    """A Supabase CLI layout: supabase/migrations (the real-shaped files) and config.toml exposing `api`."""
    folder = root / "supabase" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    for name in files or FILES:
        shutil.copy(SHAPED / name, folder / name)
    (root / "supabase" / "config.toml").write_text(CONFIG)
    return folder


def expected(root: Path) -> dict[str, tuple[str, int]]:
    """`-- expect: <lint> <ref>` of the files: a finding's key → the file and line it must be blamed on."""
    found = _expectations(list(load_migrations(root / "supabase" / "migrations", root).migrations))
    return {f"{lint}:{ref}": where for (lint, ref), where in found.items()}


def blamed(report: dict[str, Any], *statuses: str) -> dict[str, tuple[str, int]]:
    return {a["key"]: (a["file"], a["line"]) for a in report["advisors"] if not statuses or a["status"] in statuses}


@pytest.fixture
def twin_api(pg18: Database, postgres_meta: Any) -> Iterator[Any]:
    """The Management API twin over a PostgreSQL 18 database whose Data API exposes public, graphql_public, api."""
    from support.api_twin import ApiTwin

    server = ApiTwin(pg18.dsn, TOKEN, meta=postgres_meta, ref=REF, exposed=EXPOSED).start()
    try:
        yield server
    finally:
        server.stop()


# --- the local replay ---------------------------------------------------------------------------------------


def test_local_replay_reports_each_kind_of_problem_at_its_lint_level_object_file_and_line(run_cli, tmp_path):
    shaped_repo(tmp_path)
    result = run_cli("deploy", "--format", "json")
    assert result.code == 1 and result.json["status"] == "advisor", result.err
    report = result.json
    assert blamed(report) == expected(tmp_path) and len(report["advisors"]) > 30
    by_key = {a["key"]: a for a in report["advisors"]}
    integrations = by_key["rls_disabled_in_public:api.integrations"]
    assert (integrations["level"], integrations["category"], integrations["schema"], integrations["object"]) == (
        "ERROR", "SECURITY", "api", "integrations")
    assert integrations["remediation"].endswith("lint=0013_rls_disabled_in_public") and integrations["over_limit"]
    assert by_key["function_search_path_mutable:api.team_count(team bigint)"]["object"] == "team_count"
    assert {a["lint"] for a in report["advisors"] if a["over_limit"]} == FAILING
    assert [a["lint"] for a in report["advisors"] if a["status"] == "acknowledged"] == ["materialized_view_in_api"]
    assert {a["status"] for a in report["advisors"]} == {"new", "acknowledged"}  # no baseline: every file is new
    assert "new advisor finding(s) at or above --max-advisor-level error" in result.err + result.out
    relaxed = run_cli("deploy", "--max-advisor-level", "none", "--format", "json")
    assert relaxed.code == 0 and blamed(relaxed.json) == blamed(report)
    assert relaxed.json["round_trips"] == report["round_trips"]


def test_every_channel_carries_the_advisors(run_cli, tmp_path, github, monkeypatch):
    shaped_repo(tmp_path)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    result = run_cli("deploy", "--junit", tmp_path / "junit.xml", "--pr-comment", tmp_path / "comment.md")
    assert result.code == 1
    line = expected(tmp_path)["rls_disabled_in_public:api.integrations"][1]
    assert (f"::error file=supabase/migrations/20240104000000_api.sql,line={line},title=Advisors%3A "
            "rls_disabled_in_public::table api.integrations") in result.out
    summary = (tmp_path / "gh_summary").read_text()
    assert "### Advisors" in summary and "| `security_definer_view`" not in summary  # a link, not bare code
    assert "[`security_definer_view`](https://supabase.com/docs/guides/database/database-linter?lint=" in summary
    assert "### Advisors" in (tmp_path / "comment.md").read_text()
    outputs = parse_outputs((tmp_path / "gh_output").read_text())
    assert outputs["status"] == "advisor" and json.loads(outputs["report"])["advisors"]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite[@name='advisors']")
    assert suite is not None and int(suite.get("failures") or 0) == sum(
        1 for a in json.loads(outputs["report"])["advisors"] if a["over_limit"])


KINDS = """\
-- The rest of the issue's kinds of problem, each at the statement that makes it.
create table public.notes (id bigint primary key, owner uuid, body text);
revoke all on public.notes from anon, authenticated;

-- expect: policy_exists_rls_disabled public.notes
create policy "owners read notes" on public.notes for select using (owner = (select auth.uid()));

-- expect: fkey_to_auth_unique public.contacts/contacts_phone_fkey
-- expect: unindexed_foreign_keys public.contacts/contacts_phone_fkey
-- expect: pg_graphql_anon_table_exposed public.contacts
-- expect: pg_graphql_authenticated_table_exposed public.contacts
create table public.contacts (id bigint primary key, phone text references auth.users (phone));
-- expect: rls_enabled_no_policy public.contacts
alter table public.contacts enable row level security;

-- expect: extension_versions_outdated extensions.pg_trgm
create extension pg_trgm with schema extensions version '1.5';

create extension pgmq;
select pgmq.create('jobs');
grant usage on schema pgmq to anon;
-- expect: insecure_queue_exposed_in_api pgmq.q_jobs
grant select on pgmq.q_jobs to anon;
"""


def test_the_other_kinds_locally_and_inside_a_dry_run_through_the_api(pg18, postgres_meta, run_cli, tmp_path):
    from support.api_twin import ApiTwin

    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20240201000000_kinds.sql").write_text(KINDS)
    (tmp_path / "supabase" / "config.toml").write_text('[api]\nschemas = ["public", "graphql_public", "pgmq_public"]\n')
    local = run_cli("advise", "--format", "json")
    assert local.code == 1 and blamed(local.json) == expected(tmp_path), local.err
    assert {a["lint"]: a["level"] for a in local.json["advisors"] if a["over_limit"]} == {
        "policy_exists_rls_disabled": "ERROR", "fkey_to_auth_unique": "ERROR", "insecure_queue_exposed_in_api": "ERROR"}
    with ApiTwin(pg18.dsn, TOKEN, postgres_meta, REF, exposed=("public", "graphql_public", "pgmq_public")) as twin:
        api = run_cli("plan", *api_args(twin, 30), "--format", "json")
    assert api.code == 1 and api.json["status"] == "advisor", api.err
    assert blamed(api.json, "new") == expected(tmp_path)
    assert [(a["key"], a["level"], a["object"]) for a in api.json["advisors"]] == [
        (a["key"], a["level"], a["object"]) for a in local.json["advisors"]]
    assert pg18.value("select count(*) from pg_extension where extname = 'pgmq'") == 0  # rolled back


# --- production's baseline ----------------------------------------------------------------------------------


def test_a_dry_run_through_the_api_fails_only_on_what_the_pending_migrations_introduce(pg18, twin_api, run_cli,
                                                                                       tmp_path):
    shaped_repo(tmp_path)
    assert run_cli("deploy", "--db-url", pg18.dsn, "--target-version", FILES[1][:14]).code == 0
    before = twin_api.stats()["requests"]
    result = run_cli("plan", *api_args(twin_api, 30), "--format", "json")
    assert result.code == 1 and result.json["status"] == "advisor", result.out
    report = result.json
    every = expected(tmp_path)
    assert blamed(report, "new", "acknowledged", "in production") == every
    production = blamed(report, "in production")
    # production's are blamed where their objects were last changed: the applied files, and a pending file's
    # GRANT ON ALL TABLES that re-grants what production already grants (it is not what made them)
    assert {file for file, _ in production.values()} >= {f"supabase/migrations/{f}" for f in FILES[:2]}
    assert "pg_graphql_anon_table_exposed:public.todos" in production
    assert {file for file, _ in blamed(report, "new").values()} == {f"supabase/migrations/{f}" for f in FILES[2:]}
    assert not any(a["over_limit"] for a in report["advisors"] if a["status"] != "new")
    assert {a["lint"] for a in report["advisors"] if a["over_limit"]} == FAILING
    # history, the drift check's reads, the PostgREST config, the dry run (the advisors inside it), production's
    assert report["round_trips"] == twin_api.stats()["requests"] - before == DRIFT_READS + 4
    assert pg18.history() == [f[:14] for f in FILES[:2]]  # a dry run: nothing stays


def test_production_with_findings_fails_only_on_a_new_one_at_the_level(pg18, twin_api, run_cli, tmp_path):
    folder = shaped_repo(tmp_path)
    assert run_cli("deploy", "--db-url", pg18.dsn).code == 0  # a real deploy: the advisors ran at the PR
    (folder / "20240105000000_index.sql").write_text(
        "-- the foreign key gets its index, twice\ncreate index todos_user_a on public.todos (user_id);\n"
        "create index todos_user_b on public.todos (user_id);\n")
    result = run_cli("plan", *api_args(twin_api, 30), "--format", "json")
    assert result.code == 0, result.out
    new = [a for a in result.json["advisors"] if a["status"] == "new"]
    assert [(a["lint"], a["level"], a["file"], a["line"]) for a in new] == [
        ("duplicate_index", "WARN", "supabase/migrations/20240105000000_index.sql", 3)]
    # read inside the dry run on production itself: what production had and the dry run lacks was fixed
    assert [a["key"] for a in result.json["advisors"] if a["status"] == "fixed"] == [
        "unindexed_foreign_keys:public.todos/todos_user_id_fkey"]
    assert {a["lint"] for a in result.json["advisors"] if a["status"] == "in production"} >= FAILING
    assert "advisors: 1 new (0 at or above --max-advisor-level error), 1 fixed," in result.json["plan_summary"]
    stricter = run_cli("plan", *api_args(twin_api, 30), "--max-advisor-level", "warning", "--format", "json")
    assert stricter.code == 1 and stricter.json["status"] == "advisor"
    assert [a["key"] for a in stricter.json["advisors"] if a["over_limit"]] == [new[0]["key"]]


def test_an_acknowledged_new_finding_does_not_fail(pg18, run_cli, tmp_path):
    folder = shaped_repo(tmp_path, FILES[:1])
    assert run_cli("deploy", "--db-url", pg18.dsn).code == 0
    (folder / "20240102000000_open.sql").write_text(
        "create table public.countries (code text primary key, name text);\n"
        "grant select on public.countries to anon;\n"
        "-- supadeploy: allow rls_disabled_in_public — a public list of countries, read by anyone\n"
        "alter table public.countries disable row level security;\n")
    result = run_cli("plan", "--db-url", pg18.dsn, "--format", "json")
    assert result.code == 0, result.out
    [countries] = [a for a in result.json["advisors"] if a["lint"] == "rls_disabled_in_public"]
    assert (countries["status"], countries["line"], countries["over_limit"]) == ("acknowledged", 4, False)


def test_lint_judges_the_replay_against_production(pg18, run_cli, tmp_path):
    shaped_repo(tmp_path)
    assert run_cli("deploy", "--db-url", pg18.dsn, "--target-version", FILES[2][:14]).code == 0
    result = run_cli("lint", "--db-url", pg18.dsn, "--format", "json")
    assert result.code == 1 and result.json["status"] == "advisor", result.out
    assert {file for file, _ in blamed(result.json, "new").values()} == {f"supabase/migrations/{FILES[3]}"}
    assert {a["lint"] for a in result.json["advisors"] if a["over_limit"]} == {"rls_disabled_in_public",
                                                                               "sensitive_columns_exposed"}
    assert "advisors:" in result.json["plan_summary"]
    alone = run_cli("lint", "--format", "json")  # no credentials: every file is new
    assert alone.code == 1 and {a["lint"] for a in alone.json["advisors"] if a["over_limit"]} == FAILING


# --- advise -------------------------------------------------------------------------------------------------


def test_advise_on_a_database_url_counts_every_finding_and_exits_by_the_level(pg18, run_cli, tmp_path):
    shaped_repo(tmp_path)
    assert run_cli("deploy", "--db-url", pg18.dsn).code == 0
    result = run_cli("advise", "--db-url", pg18.dsn, "--format", "json")
    assert result.code == 1 and result.json["status"] == "advisor" and result.json["round_trips"] == 1
    assert blamed(result.json, "new", "acknowledged") == expected(tmp_path)
    assert run_cli("advise", "--db-url", pg18.dsn, "--max-advisor-level", "none").code == 0
    assert run_cli("advise", "--db-url", pg18.dsn, "--max-advisor-level", "sometimes").code == 2


def test_advise_through_the_api_and_on_the_local_replay(pg18, twin_api, run_cli):
    assert run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", MIGRATIONS).code == 0
    api = run_cli("advise", *api_args(twin_api, 30), "--migrations-dir", MIGRATIONS, "--format", "json")
    assert api.code == 0, api.out  # WellTrack has warnings and notes, no error
    assert api.json["round_trips"] == 2  # the PostgREST config, the advisors' one query
    assert {a["lint"] for a in api.json["advisors"]} == {"pg_graphql_authenticated_table_exposed",
                                                         "rls_enabled_no_policy"}
    assert all(a["file"] and a["line"] for a in api.json["advisors"])
    assert run_cli("advise", *api_args(twin_api, 30), "--migrations-dir", MIGRATIONS,
                   "--max-advisor-level", "warning").code == 1
    local = run_cli("advise", "--migrations-dir", MIGRATIONS, "--format", "json")
    assert local.code == 0 and blamed(local.json) == blamed(api.json)


# --- the Data API -----------------------------------------------------------------------------------------------

DATA_API = """\
create table public.todos (id bigint primary key, task text not null, done boolean default false);
alter table public.todos enable row level security;
create policy "anyone reads" on public.todos for select to anon using (true);
grant select on public.todos to anon;
create view public.open_todos with (security_invoker = on) as select id, task from public.todos where not done;
create function public.todo_count() returns bigint language sql stable set search_path = ''
  as $$ select count(*) from public.todos $$;
create table public.staff_notes (id bigint primary key, note text);
alter table public.staff_notes enable row level security;
revoke all on public.staff_notes from anon;
"""


def test_a_deploy_through_the_api_reloads_postgrest_and_waits_for_the_new_objects(twin_api, run_cli, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "000001_todos.sql").write_text(DATA_API)
    result = run_cli("deploy", *api_args(twin_api, 30), "--migrations-dir", tmp_path / "m", "--format", "json")
    assert result.code == 0, result.err
    stats = twin_api.stats()
    assert stats["notifications"][:1] == ["reload schema"] and stats["reloads"] >= 1
    assert "the Data API serves all 6 new object(s) anon may use" in result.err
    assert "staff_notes" not in result.err.split("Data API (PostgREST)")[1]  # revoked from anon: not awaited
    assert twin_api.stats()["by_status"]["200"] >= 2  # the PostgREST config and at least one OpenAPI document
    assert "twin-jwt-secret" not in result.out + result.err


def test_a_stale_schema_cache_fails_the_deploy_naming_what_is_missing(twin_api, run_cli, tmp_path, monkeypatch):
    from supadeploy.commands import advising

    monkeypatch.setattr(advising, "WAIT_S", 1.0)
    twin_api.data_api.stale = True  # PostgREST ignores the reload, as the stale caches of supabase#39446
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "000001_todos.sql").write_text(DATA_API)
    result = run_cli("deploy", *api_args(twin_api, 30), "--migrations-dir", tmp_path / "m", "--format", "json")
    assert result.code == 1 and result.json["status"] == "failed"
    missing = sorted(p["message"] for p in result.json["problems"] if p.get("kind") == "data-api")
    # functions are read live, not from the cache (PostgREST's OpenAPI output does so): only relations go stale
    assert missing == sorted(f"the Data API does not serve {what} after the deploy" for what in (
        "table public.todos", "column public.todos.id", "column public.todos.task", "column public.todos.done",
        "view public.open_todos"))
    assert result.json["applied_versions"] == ["000001"]  # committed: the check failed after
    assert "waiting for the Data API to expose" in result.err


def test_the_reload_rides_the_commit_of_a_change_to_an_exposed_schema_only(db, run_cli, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "000001_private.sql").write_text("create schema private;\ncreate table private.jobs (id int);\n")
    with psycopg.connect(db.dsn, autocommit=True) as listener:
        listener.execute("listen pgrst")
        assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", folder).code == 0
        (folder / "000002_public.sql").write_text("create table public.jobs_view_source (id int primary key);\n"
                                                  "alter table public.jobs_view_source enable row level security;\n")
        assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", folder).code == 0
        received = [n.payload for n in listener.notifies(timeout=10, stop_after=1)]
        received += [n.payload for n in listener.notifies(timeout=0.5)]
    assert received == ["reload schema"]  # the private schema's deploy sent none


# --- the Management API's GETs ---------------------------------------------------------------------------------


def test_the_gets_have_the_query_endpoints_safety(twin_api):
    from supadeploy.errors import ConfigError, TargetError
    from supadeploy.targets.api import ApiLimits, ApiTarget

    limits = ApiLimits(backoff=0.01, max_attempts=3)
    api = ApiTarget(REF, TOKEN, twin_api.url, limits)
    try:
        twin_api.add_get_faults("503", "drop-before", "429")
        assert api.exposed_schemas() == EXPOSED  # a read: retried past a 503, a dropped connection and a 429
        assert api.round_trips == 4 and twin_api.stats()["by_status"] == {"503": 1, "dropped": 1, "429": 1, "200": 1}
        document = api.openapi("public")
        assert document["swagger"] == "2.0" and "/" in document["paths"]
        twin_api.add_get_faults("500", "500", "500")
        with pytest.raises(TargetError, match="gave up after 3 attempts"):
            api.openapi("public")
        assert twin_api.stats()["queries"] == 0  # no SQL reached the database through a GET
    finally:
        api.close()
    wrong = ApiTarget(REF, "sbp_" + "0" * 40, twin_api.url, limits)
    try:
        with pytest.raises(ConfigError, match="401"):
            wrong.exposed_schemas()
    finally:
        wrong.close()
    with pytest.raises(ValueError):
        ApiTarget(REF, TOKEN, twin_api.url).get("../../v1/projects")
