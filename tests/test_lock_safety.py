"""Lock safety (issue 11): traced on a replay, squawk where the trace is blind, sized by production.

Each case is a migration against tables that already exist and hold 200,000 rows
(about 14 MiB); it is applied as a dry run, so one populated database serves
every case. The findings must be exactly the expected ones, at the statement's
line, on PostgreSQL 15 and 18.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import ALL, DRIFT_READS, MIGRATIONS, Database, _new_database, api_args, parse_outputs
from test_faults import Holder, write

BASE = """\
create table public.refs (id bigint primary key);
create table public.items (id bigint primary key, name text, amount int, ref_id bigint);
alter table public.items add constraint items_amount_nonneg check (amount >= 0) not valid;
alter table public.refs enable row level security;
alter table public.items enable row level security;
"""  # row level security on, as Supabase's advisors want of a table in public (rls_disabled_in_public)
POPULATE = ("insert into public.refs select generate_series(1, 100);"
            "insert into public.items select i, 'n' || i, i % 100, null from generate_series(1, 200000) i;"
            "analyze public.items, public.refs")
HEADER = "-- the case\n\n"  # the statement starts on line 3

REWRITE, SCAN, INDEX = "rewrite-under-lock", "scan-under-lock", "blocking-index-build"
AEL, SREL, SHARE = "AccessExclusiveLock", "ShareRowExclusiveLock", "ShareLock"

CASES = {  # statement (line 3 onwards) -> [(rule, line, table, lock)]
    "volatile default rewrites": (
        "alter table public.items add column uid uuid default gen_random_uuid();",
        [(REWRITE, 3, "public.items", AEL)]),
    "type change rewrites": (
        "alter table public.items alter column amount type bigint;",
        [(REWRITE, 3, "public.items", AEL)]),
    "set not null scans": (
        "alter table public.items alter column name set not null;",
        [(SCAN, 3, "public.items", AEL)]),
    "inline check on a new column scans": (
        "alter table public.items add column qty int not null default 1 check (qty > 0);",
        [(SCAN, 3, "public.items", AEL)]),
    "check constraint scans": (
        "alter table public.items add constraint items_amount_max check (amount < 1000);",
        [(SCAN, 3, "public.items", AEL)]),
    "foreign key without not valid scans": (
        "select 1;\nalter table public.items\n  add constraint items_ref_fk foreign key (ref_id) references public.refs (id);",
        [(SCAN, 4, "public.items", SREL)]),
    "index without concurrently blocks writes": (
        "create index items_name_idx on public.items (name);",
        [(INDEX, 3, "public.items", SHARE)]),
    "validate constraint is safe": (
        "alter table public.items validate constraint items_amount_nonneg;", []),
    "a new table is exempt": (
        "create table public.fresh (id int primary key, x int);\ncreate index fresh_x on public.fresh (x);\n"
        "alter table public.fresh add column y int not null default 0 check (y >= 0);\n"
        "alter table public.fresh enable row level security;", []),
    "a constant default is free": (
        "alter table public.items add column flag boolean not null default false;", []),
    "not valid then validate later is safe": (
        "alter table public.items add constraint items_amount_max check (amount < 1000) not valid;\n"
        "alter table public.items add constraint items_ref_fk foreign key (ref_id) references public.refs (id) "
        "not valid;", []),
}
CONCURRENTLY = "-- supadeploy: transaction=false\ncreate index concurrently items_amount_idx on public.items (amount);\n"


def case_folder(root: Path, name: str, body: str) -> Path:
    return write(root / name.replace(" ", "_"), {"000001_base.sql": BASE, "000002_case.sql": body})


@pytest.fixture(scope="module", params=["pg15", "pg18"])
def populated(request: pytest.FixtureRequest, clusters, tmp_path_factory) -> Iterator[Database]:
    """BASE applied and 200,000 rows in public.items: what production looks like when 000002 arrives."""
    from supadeploy.cli import main

    database = _new_database(clusters, request.param)
    folder = write(tmp_path_factory.mktemp("base"), {"000001_base.sql": BASE})
    assert main(["deploy", "--db-url", database.dsn, "--migrations-dir", str(folder), "--no-assertions",
                 "--format", "json"]) == 0
    database.query(POPULATE)
    yield database


def found(result) -> list[tuple]:
    return [(f["rule"], f["line"], f["table"], f["lock"]) for f in result.json["findings"]]


@pytest.mark.parametrize("name", list(CASES))
def test_each_statement_gets_exactly_its_findings(populated, run_cli, tmp_path, name):
    body, expected = CASES[name]
    result = run_cli("deploy", "--dry-run", "--db-url", populated.dsn, "--no-assertions", "--format", "json",
                     "--migrations-dir", case_folder(tmp_path, name, HEADER + body + "\n"))
    assert result.code == 0, result.out
    assert found(result) == expected
    for finding in result.json["findings"]:
        assert finding["file"].endswith("000002_case.sql") and finding["effect"] in ("rewrite", "validation scan",
                                                                                     "index build")
        assert finding["rows"] == 200000 and 10 * 2 ** 20 < finding["bytes"] < 2 ** 30
        assert finding["level"] == "warning" and finding["size_source"] == "production"
        assert finding["advice"] and set(finding) >= {"rule", "level", "file", "line", "table", "lock", "effect",
                                                      "rows", "bytes", "advice"}
    assert populated.history() == ["000001"]  # a dry run: nothing stays


def test_create_index_concurrently_in_its_own_file_is_clean(populated, run_cli, tmp_path):
    result = run_cli("deploy", "--dry-run", "--db-url", populated.dsn, "--no-assertions", "--format", "json",
                     "--migrations-dir", case_folder(tmp_path, "cic", CONCURRENTLY))
    assert result.code == 0, result.out
    assert result.json["findings"] == []


def test_squawk_covers_what_the_trace_cannot_see(populated, run_cli, tmp_path):
    """Outside a transaction supadeploy does not trace; squawk's rules still read the statement."""
    body = "-- supadeploy: transaction=false\nselect 1;\nalter table public.items alter column amount type bigint;\n"
    result = run_cli("plan", "--db-url", populated.dsn, "--no-dry-run", "--format", "json",
                     "--migrations-dir", case_folder(tmp_path, "nontx", body))
    assert result.code == 0, result.out
    assert [(f["rule"], f["line"], f["effect"]) for f in result.json["findings"]] == [
        ("squawk/changing-column-type", 3, "static")]


def test_the_threshold_decides_and_an_acknowledgement_is_reviewed_like_code(populated, run_cli, tmp_path):
    body = HEADER + "create index items_name_idx on public.items (name);\n"
    folder = case_folder(tmp_path, "threshold", body)
    strict = run_cli("deploy", "--dry-run", "--db-url", populated.dsn, "--no-assertions", "--format", "json",
                     "--migrations-dir", folder, "--max-lock-risk", "warning")
    assert strict.code == 1 and strict.json["status"] == "lock-risk"
    assert "000002_case.sql:3 blocking-index-build" in strict.json["problems"][-1]["message"]
    assert strict.json["findings"][0]["over_limit"] is True
    acknowledged = "-- the case\n-- supadeploy: allow blocking-index-build — refs is written once a day\n" \
                   "create index items_name_idx on public.items (name);\n"
    folder = case_folder(tmp_path, "acknowledged", acknowledged)
    allowed = run_cli("deploy", "--dry-run", "--db-url", populated.dsn, "--no-assertions", "--format", "json",
                      "--migrations-dir", folder, "--max-lock-risk", "note")
    assert allowed.code == 0, allowed.out
    assert [(f["rule"], f["acknowledged"]) for f in allowed.json["findings"]] == [(INDEX, True)]


def test_a_real_deploy_refuses_on_squawk_before_applying(populated, run_cli, tmp_path):
    body = HEADER + "alter table public.items alter column amount type bigint;\n"
    result = run_cli("deploy", "--db-url", populated.dsn, "--no-assertions", "--format", "json", "--yes",
                     "--migrations-dir", case_folder(tmp_path, "refused", body), "--max-lock-risk", "warning")
    assert result.code == 1 and result.json["status"] == "lock-risk"
    assert "nothing was applied" in result.json["problems"][-1]["message"]
    assert populated.history() == ["000001"]
    assert populated.value("select format_type(atttypid, atttypmod) from pg_attribute "
                           "where attrelid = 'public.items'::regclass and attname = 'amount'") == "integer"


def test_lint_sizes_by_production_in_the_one_request_that_reads_history(populated, run_cli, tmp_path):
    body = HEADER + "alter table public.items add constraint items_amount_max check (amount < 1000);\n"
    result = run_cli("lint", "--db-url", populated.dsn, "--format", "json",
                     "--migrations-dir", case_folder(tmp_path, "lint", body))
    assert result.code == 0, result.out
    # history with the sizes in one request, then production's advisor findings (the baseline)
    assert result.json["round_trips"] == 2 and result.json["pending"] == ["000002"]
    (finding,) = result.json["findings"]  # 000001 is applied in production: not linted
    assert (finding["rule"], finding["line"], finding["rows"], finding["size_source"]) == (SCAN, 3, 200000,
                                                                                          "production")
    assert populated.history() == ["000001"]
    alone = run_cli("lint", "--format", "json", "--migrations-dir", case_folder(tmp_path, "lint", body))
    assert alone.code == 0 and alone.json["findings"] == []  # for a new database, public.items is the deploy's own


def test_reports_carry_findings_in_every_channel(populated, run_cli, tmp_path, monkeypatch):
    body = HEADER + "create index items_name_idx on public.items (name);\n"
    out, summary, junit = tmp_path / "out", tmp_path / "summary", tmp_path / "junit.xml"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    result = run_cli("deploy", "--dry-run", "--db-url", populated.dsn, "--no-assertions", "--junit", junit,
                     "--migrations-dir", case_folder(tmp_path, "channels", body))
    assert result.code == 0, result.out
    assert ("::warning file=channels/000002_case.sql,line=3,title=Lock safety%3A blocking-index-build "
            "[public.items%2C ShareLock]::index build (items_name_idx) of public.items") in result.out
    text = summary.read_text()
    assert "### Lock safety" in text and "| `blocking-index-build` | public.items | ShareLock | index build |" in text
    assert "### Warnings" not in text
    report = json.loads(parse_outputs(out.read_text())["report"])
    assert report["findings"][0]["rule"] == INDEX
    suite = ET.parse(junit).getroot().find("testsuite[@name='lock-safety']")
    assert suite is not None and suite.get("tests") == "1" and suite.get("failures") == "0"


def test_every_target_traces(db, twin, run_cli, tmp_path, monkeypatch):
    """Local replay, database URL and the Management API: the same finding at the same line, on a database
    that has 000001 (locally: a pull request that adds 000002)."""
    body = HEADER + "alter table public.items add constraint items_amount_max check (amount < 1000);\n"
    folder = case_folder(tmp_path, "targets", body)
    git = ["git", "-C", str(folder), "-c", "user.email=dev@example.com", "-c", "user.name=dev"]
    subprocess.run(git + ["init", "-q", "-b", "main"], check=True)
    subprocess.run(git + ["add", "000001_base.sql"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "base"], check=True)
    monkeypatch.setenv("GITHUB_BASE_REF", "main")  # 000002 is the pull request's
    local = run_cli("deploy", "--no-assertions", "--format", "json", "--migrations-dir", folder)
    monkeypatch.delenv("GITHUB_BASE_REF")
    assert local.code == 0, local.out
    assert found(local) == [(SCAN, 3, "public.items", AEL)]
    first = ["--no-assertions", "--format", "json", "--migrations-dir", folder, "--target-version", "000001"]
    assert run_cli("deploy", "--db-url", db.dsn, "--yes", *first).code == 0
    db_url = run_cli("deploy", "--db-url", db.dsn, "--no-assertions", "--format", "json", "--yes",
                     "--migrations-dir", folder)
    assert db_url.code == 0 and found(db_url) == [(SCAN, 3, "public.items", AEL)]
    db.query("drop table public.items, public.refs; truncate supabase_migrations.schema_migrations")
    assert run_cli("deploy", *api_args(twin, 30), *first).code == 0
    api = run_cli("deploy", *api_args(twin, 30), "--no-assertions", "--format", "json", "--migrations-dir", folder)
    assert api.code == 0 and found(api) == [(SCAN, 3, "public.items", AEL)]


def _welltrack_with_health_metrics(run_cli, database: Database) -> None:
    """WellTrack up to 000008, and 50,000 health metrics: what 000009 meets in production."""
    assert run_cli("deploy", "--db-url", database.dsn, "--migrations-dir", MIGRATIONS, "--no-assertions",
                   "--target-version", "000008").code == 0
    uid = "00000000-0000-0000-0000-0000000000aa"
    database.query(
        f"insert into auth.users (id) values ('{uid}'); insert into public.wt_profiles (id) values ('{uid}');"
        "insert into public.wt_health_metrics (profile_id, metric_type, value, unit, recorded_at) "
        f"select '{uid}', 'resting_hr', 50 + i % 30, 'bpm', now() - i * interval '1 minute' "
        "from generate_series(1, 50000) i; analyze public.wt_health_metrics")


def test_welltrack_is_clean_and_000009_never_scans_under_access_exclusive(db, second_db, run_cli):
    """Watched from inside each file's transaction, independently of the trace; then deployed by supadeploy."""
    _welltrack_with_health_metrics(run_cli, second_db)
    for version in ALL[8:]:
        text = next(MIGRATIONS.glob(f"{version}_*.sql")).read_text()
        with psycopg.connect(second_db.dsn) as conn:  # one transaction per file, committed, as deployed
            before = conn.execute("select relfilenode from pg_class where oid = 'public.wt_health_metrics'::regclass"
                                  ).fetchone()[0]
            conn.execute(text)
            scans, filenode = conn.execute(
                "select coalesce(x.seq_scan, 0), c.relfilenode from pg_class c left join pg_stat_xact_user_tables x "
                "on x.relid = c.oid where c.oid = 'public.wt_health_metrics'::regclass").fetchone()
            modes = {r[0] for r in conn.execute(
                "select mode from pg_locks where relation = 'public.wt_health_metrics'::regclass "
                "and pid = pg_backend_pid()")}
        assert filenode == before, f"{version} rewrote wt_health_metrics"
        assert not (scans and "AccessExclusiveLock" in modes), f"{version} scanned it under ACCESS EXCLUSIVE"
        if scans:  # 000010 validates, under SHARE UPDATE EXCLUSIVE only
            assert modes == {"ShareUpdateExclusiveLock"}, modes
    assert scans, "000010 validates the CHECK: it reads the table"
    _welltrack_with_health_metrics(run_cli, db)
    dry = run_cli("plan", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--no-assertions", "--format", "json",
                  "--max-lock-risk", "note")  # one transaction standing in for one per file: judged per file
    assert dry.code == 0 and dry.json["findings"] == [], dry.out
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--no-assertions",
                     "--format", "json", "--max-lock-risk", "note")
    assert result.code == 0, result.out
    assert result.json["findings"] == [] and result.json["applied_versions"] == ALL[8:]
    assert db.value("select convalidated from pg_constraint "
                    "where conname = 'wt_health_metrics_ingestion_source_version_check'") is True


def test_the_old_000009_is_flagged_at_its_line(db, run_cli, migrations_copy):
    path = migrations_copy / "000009_performance_engine.sql"
    text = path.read_text().replace("smallint not null default 1,",
                                    "smallint not null default 1 check (ingestion_source_version >= 1),")
    text = text[:text.index("-- The CHECK is added NOT VALID")] + text[text.index("not valid;\n") + 11:]
    path.write_text(text)
    (migrations_copy / "000010_validate_ingestion_source_version.sql").unlink()
    assert run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy, "--no-assertions",
                   "--target-version", "000008").code == 0  # production before 000009
    result = run_cli("deploy", "--dry-run", "--db-url", db.dsn, "--migrations-dir", migrations_copy,
                     "--no-assertions", "--format", "json")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("alter table public.wt_health_metrics"))
    assert result.code == 0 and found(result) == [(SCAN, line, "public.wt_health_metrics", AEL)]


def test_a_long_transaction_on_a_locked_table_is_reported_not_queued_behind(populated, run_cli, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("SUPADEPLOY_BLOCKER_AGE", "0")
    import supadeploy.engine.blockers as blockers

    monkeypatch.setattr(blockers, "BLOCKER_AGE_S", 0.0)
    body = HEADER + "alter table public.items add column note text;\n"
    with Holder(populated.dsn, "begin; select count(*) from public.items") as holder:
        result = run_cli("deploy", "--db-url", populated.dsn, "--no-assertions", "--yes", "--format", "json",
                         "--migrations-dir", case_folder(tmp_path, "guard", body))
    assert result.code == 1 and result.json["round_trips"] == DRIFT_READS + 1, result.out
    message = "\n".join(p["message"] for p in result.json["problems"]) + result.out
    assert f"pid {holder.pid}" in message and "AccessShareLock on public.items" in message
    assert "select count(*) from public.items" in message and "nothing was sent" in message
    assert populated.history() == ["000001"]
