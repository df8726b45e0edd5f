"""The Management API target against the loopback twin: same result as a database URL,
every fault ends applied-exactly-once or cleanly explained, rate limits, bad credentials."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ALL, DRIFT_READS, MIGRATIONS, REF, REPO, TOKEN, api_args
from supadeploy.errors import ConfigError, OutcomeUnknown
from supadeploy.targets.api import ApiLimits, ApiTarget, RateLimiter, check_api_url, parse_error
from supadeploy.targets.base import QueryError
from supadeploy.targets.postgres import PostgresTarget
from test_faults import wait_until

WELLTRACK = REPO / "assertions" / "welltrack.yml"
SCHEMA = """
select string_agg(format('%s.%s %s %s %s %s', c.table_name, c.column_name, c.data_type,
                         coalesce(c.column_default, ''), c.is_nullable, coalesce(c.generation_expression, '')),
                  E'\\n' order by c.table_name, c.ordinal_position)
       || (select string_agg(format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), E'\\n' order by conrelid::regclass::text, conname)
           from pg_constraint where connamespace = 'public'::regnamespace)
       || (select string_agg(format('%s %s %s %s', tablename, policyname, cmd, qual), E'\\n' order by tablename, policyname)
           from pg_policies where schemaname = 'public')
       || (select string_agg(format('%s %s %s', table_name, grantee, privilege_type), E'\\n' order by table_name, grantee, privilege_type)
           from information_schema.role_table_grants where table_schema = 'public')
from information_schema.columns c where c.table_schema = 'public'
"""
HISTORY = "select version, name, statements from supabase_migrations.schema_migrations order by version"


def applied_once(db) -> bool:
    rows = db.query("select version, count(*) from supabase_migrations.supadeploy_log group by 1 order by 1")
    return [r[0] for r in rows] == ALL and all(r[1] == 1 for r in rows)


def test_deploy_and_verify_through_the_api_match_a_database_url(db, second_db, twin, run_cli):
    api = run_cli("deploy", *api_args(twin, 30), "--migrations-dir", MIGRATIONS, "--assertions", WELLTRACK,
                  "--format", "json")
    assert api.code == 0, api.err
    assert api.json["target"] == "api" and api.json["applied_versions"] == ALL
    assert len(api.json["assertions"]) == 36 and not api.json["failed_assertions"]
    # history, history tables, one request packing every file, the PostgREST config (which schemas the Data API
    # exposes: PostgREST is told to reload when a file changed one), which new objects anon may use (none:
    # WellTrack revokes anon), verify
    assert api.json["round_trips"] == twin.stats()["requests"] == DRIFT_READS + 2 + 1 + 2 + 1
    assert twin.stats()["by_endpoint"]["read-only"] == DRIFT_READS
    direct = run_cli("deploy", "--db-url", second_db.dsn, "--migrations-dir", MIGRATIONS, "--no-assertions")
    assert direct.code == 0
    assert db.query(HISTORY) == second_db.query(HISTORY)
    assert db.value(SCHEMA) == second_db.value(SCHEMA)
    status = run_cli("status", *api_args(twin), "--migrations-dir", MIGRATIONS, "--format", "json")
    assert status.code == 0 and [r["remote"] for r in status.json["status_rows"]] == ALL


def test_tx_mode_all_is_two_requests_whatever_the_migrations(db, twin, run_cli, migrations_copy):
    first = run_cli("deploy", *api_args(twin, 30), "--migrations-dir", migrations_copy, "--target-version", "000001",
                    "--no-assertions", "--format", "json")
    # The first deploy to a database also creates the history tables, in a request of its own; then the Data API's
    # two: the PostgREST config and which new objects anon may use.
    assert first.code == 0 and first.json["round_trips"] == DRIFT_READS + 3 + 2, first.err
    before = twin.stats()["requests"]
    result = run_cli("deploy", *api_args(twin, 30), "--migrations-dir", MIGRATIONS, "--tx-mode", "all",
                     "--assertions", WELLTRACK, "--format", "json")
    assert result.code == 0, result.err
    # history read + one gated transaction, whatever the number of migrations (+ the PostgREST config and which
    # new objects anon may use, for the Data API)
    assert twin.stats()["requests"] - before == result.json["round_trips"] == DRIFT_READS + 2 + 2


def test_sql_error_maps_to_file_and_line_like_a_database_url(db, twin, run_cli, migrations_copy):
    body = "".join(f"-- line {i}\n" for i in range(1, 40)) + "select\n  nosuchcolumn from public.wt_profiles;\n"
    (migrations_copy / "000099_broken.sql").write_text(body)
    result = run_cli("deploy", *api_args(twin, 30), "--migrations-dir", migrations_copy, "--no-assertions")
    assert result.code == 1
    assert "migrations/000099_broken.sql:41: 42703: column \"nosuchcolumn\" does not exist" in result.out
    assert db.history() == ALL


def test_error_text_parses_back_to_the_exact_position(db, twin):
    sql = "select 1;\n\nselect 'é' as x,\n       nosuch + 1 from pg_class;"
    with pytest.raises(QueryError) as direct:
        PostgresTarget(db.dsn).run(sql)
    api = ApiTarget(REF, TOKEN, twin.url)
    with pytest.raises(QueryError) as through_api:
        api.run(sql)
    assert through_api.value.sqlstate == "42703" and through_api.value.position == direct.value.position
    error = parse_error("Failed to run sql query: ERROR:  P0001: boom\nDETAIL:  {\"a\": 1}\nHINT:  retry\n"
                        "CONTEXT:  PL/pgSQL function f() line 3 at RAISE\nSQL statement \"x\"\n", "select f()")
    assert (error.sqlstate, error.message, error.detail, error.hint) == ("P0001", "boom", '{"a": 1}', "retry")
    assert error.context == "PL/pgSQL function f() line 3 at RAISE\nSQL statement \"x\""


FAULTS = ["500", "502", "503", "504", "544", "500-after-commit", "timeout", "drop-before", "drop-after", "429",
          "429-no-retry-after", "econnrefused"]


@pytest.mark.parametrize("tx_mode", ["file", "all"])
@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_ends_with_each_migration_applied_exactly_once(pg18, twin18, run_cli, fault, tx_mode):
    # file mode: request 4 applies 000003; all mode: request 2 is the one transaction.
    twin18.window = 2.0  # X-RateLimit-Reset stays short
    twin18.add_faults(*(["pass"] * (3 if tx_mode == "file" else 1)), fault)
    result = run_cli("deploy", *api_args(twin18), "--migrations-dir", MIGRATIONS, "--tx-mode", tx_mode,
                     "--no-assertions", "--format", "json")
    assert result.code == 0, result.err + result.out
    assert result.json["applied_versions"] == ALL
    assert pg18.history() == ALL and applied_once(pg18)
    wait_until(lambda: twin18.stats()["in_flight"] == 0, "an abandoned request ran to its end")  # changing nothing
    assert pg18.history() == ALL and applied_once(pg18) and pg18.tables() == 34


def test_persistent_failure_on_a_read_is_a_clean_error(pg18, twin18, run_cli):
    twin18.add_faults(*["503"] * 5)
    result = run_cli("deploy", *api_args(twin18), "--migrations-dir", MIGRATIONS, "--no-assertions")
    assert result.code == 1
    assert "the Management API answered 503 (Service Unavailable); gave up after 5 attempts" in result.out
    assert pg18.history() == []


def test_lost_answer_with_nothing_readable_afterwards_stops_without_resending(pg18, twin18, run_cli):
    """The deploy request's answer is lost and history cannot be read: stop, and say so."""
    twin18.add_faults("pass", "pass", "drop-after", *["503"] * 5)  # history, history tables, the pack of all files
    result = run_cli("deploy", *api_args(twin18), "--migrations-dir", MIGRATIONS, "--no-assertions",
                     "--format", "json")
    assert result.code == 4 and result.json["status"] == "unknown"
    assert pg18.history() == ALL and applied_once(pg18)  # committed once, never sent twice
    assert twin18.stats()["requests"] == DRIFT_READS + 4 + 5  # the PostgREST config (a GET) before 000001's transaction
    assert "migration history could not be read afterwards" in result.err
    assert f"Whether the transaction applying {', '.join(ALL)} committed is unknown; nothing was sent again" \
        in result.err
    assert "Run `supadeploy status`" in result.err


def test_four_concurrent_deploys_through_the_api(pg18, twin18):
    command = [sys.executable, "-m", "supadeploy", "deploy", *api_args(twin18, 30), "--migrations-dir",
               str(MIGRATIONS), "--no-assertions", "--format", "json"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], outputs
    applied = sorted(v for out, _ in outputs for v in json.loads(out)["applied_versions"])
    assert applied == ALL  # together, each migration exactly once
    assert pg18.history() == ALL and applied_once(pg18)


@pytest.mark.parametrize("case, expected, requests", [
    ("wrong-token", "the Management API rejected the access token (401 Unauthorized)", 1),
    ("unknown-ref", "project zzzzzzzzzzzzzzzzzzzz was not found at", 1),
    ("bad-ref", "invalid project ref 'WellTrack-prod': expected 20 lowercase letters", 0),
    ("missing-token", "the API target needs an access token", 0),
    ("plain-http", "--api-url must use https (plain http is allowed only for loopback)", 0),
])
def test_bad_credentials_give_one_clear_message_and_no_second_request(pg18, twin18, run_cli, case, expected,
                                                                       requests):
    args = {"wrong-token": ["--project-ref", REF, "--access-token", "sbp_" + "0" * 40, "--api-url", twin18.url],
            "unknown-ref": ["--project-ref", "z" * 20, "--access-token", TOKEN, "--api-url", twin18.url],
            "bad-ref": ["--project-ref", "WellTrack-prod", "--access-token", TOKEN, "--api-url", twin18.url],
            "missing-token": ["--target", "api", "--project-ref", REF, "--api-url", twin18.url],
            "plain-http": ["--project-ref", REF, "--access-token", TOKEN, "--api-url", "http://example.com"]}[case]
    result = run_cli("deploy", *args, "--migrations-dir", MIGRATIONS)
    assert result.code == 2
    errors = [line for line in result.out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], result.out
    assert twin18.stats()["requests"] == requests
    assert pg18.history() == []


def test_rate_limit_429_waits_for_the_window_and_goes_on(pg18, twin18, run_cli):
    twin18.limit, twin18.window = 2, 2.0
    result = run_cli("deploy", *api_args(twin18), "--migrations-dir", MIGRATIONS, "--no-assertions",
                     "--format", "json")
    assert result.code == 0, result.out
    assert pg18.history() == ALL and applied_once(pg18)
    # more requests than 2 per window: it waited for the windows (X-RateLimit-Remaining: 0 makes it wait first)
    assert twin18.stats()["by_status"].get("429", 0) <= 3 and twin18.stats()["requests"] >= DRIFT_READS + 3


def test_client_never_exceeds_120_requests_a_minute():
    now = [0.0]
    limiter = RateLimiter(120, clock=lambda: now[0])
    sent = []
    for _ in range(300):
        now[0] += limiter.delay()
        limiter.record()
        sent.append(now[0])
        now[0] += 0.01
    assert all(b - a >= 60.0 - 1e-9 for a, b in zip(sent, sent[120:]))  # any 121 requests span 60 s


def test_inputs_are_checked_before_any_url_is_built():
    with pytest.raises(ConfigError, match="invalid project ref"):
        ApiTarget("abc/../../v1", TOKEN)
    with pytest.raises(ConfigError, match="must use https"):
        check_api_url("http://api.supabase.com")
    assert check_api_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert check_api_url("http://[::1]:9") == "http://[::1]:9"
    assert ApiTarget(REF, "not-a-pat-token", "https://api.supabase.com").warnings  # warned, not refused


def test_timeout_after_sending_is_outcome_unknown_not_a_resend(pg18, twin18):
    twin18.add_faults("timeout")
    api = ApiTarget(REF, TOKEN, twin18.url, ApiLimits(read_timeout=0.5))
    with pytest.raises(OutcomeUnknown):
        api.run("create table public.once (id int)")
    wait_until(lambda: twin18.stats()["in_flight"] == 0, "the abandoned request ran to its end")
    assert twin18.stats()["requests"] == 1 and pg18.value("select count(*) from pg_tables where tablename = 'once'") == 1
    assert api.run("select 1 as x", safe_to_resend=True) == [{"x": 1}]


def test_a_file_too_big_for_one_api_request_is_refused_before_anything_is_applied(db, twin, run_cli, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "000001_small.sql").write_text("create table public.small (id int);\n")
    rows = "".join(f"insert into public.big (id, note) values ({i}, 'row {i}');\n" for i in range(60_000))
    (folder / "000002_seed.sql").write_text("create table public.big (id bigint primary key, note text);\n" + rows)
    result = run_cli("deploy", *api_args(twin, 30), "--migrations-dir", folder, "--format", "json")
    assert result.code != 0
    problem = result.json["problems"][0]
    assert problem["file"].endswith("000002_seed.sql") and problem["line"] == 1
    assert "above 3.0 MiB" in problem["message"] and "--db-url" in problem["message"]
    assert db.history() == [] and db.value("select to_regclass('public.small')") is None
    assert db.value("select to_regclass('supabase_migrations.supadeploy_log')") is None  # not even bookkeeping
