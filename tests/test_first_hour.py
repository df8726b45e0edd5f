"""The first hour (issue 22, part B): the folder and settings a Supabase user means, one story per lock
finding in every mode, signal rather than noise, what a terminal shows before it asks, an honest local plan
and status, and rls_isolation on keys the database makes itself. Each test is the shape a user met."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Database, _new_database
from test_experience import _pty_run, cli_repo
from test_faults import write

# --- the folder and the settings a Supabase user means ------------------------------------------------

def test_an_empty_migrations_folder_does_not_hide_supabase_migrations(run_cli, tmp_path):
    cli_repo(tmp_path, {"20240101000000_init.sql": "create table public.notes (id int primary key);\n"})
    (tmp_path / "migrations").mkdir()  # empty, or another tool's
    result = run_cli("status", "--format", "json")
    assert result.code == 0, result.err
    assert [row["local"] for row in result.json["status_rows"]] == ["20240101000000"]
    assert "migrations: supabase/migrations/ (found supabase/migrations/ of the Supabase CLI project" in result.err


def test_two_migrations_folders_and_no_config_toml_are_refused_naming_both(run_cli, tmp_path):
    write(tmp_path / "migrations", {"20230101000000_knex.sql": "create table knex_migrations (id int);\n"})
    write(tmp_path / "supabase" / "migrations", {"20240101000000_init.sql": "create table public.a (id int);\n"})
    result = run_cli("deploy", "--format", "json")
    assert result.code == 2 and result.json["status"] == "error"
    message = result.json["problems"][0]["message"]
    assert "both migrations/ and supabase/migrations/ exist" in message
    assert "--migrations-dir supabase/migrations or --migrations-dir migrations" in message
    assert result.json["applied_versions"] == [] and result.json["round_trips"] == 0


def test_config_toml_without_its_migrations_folder_never_deploys_another_tools_folder(run_cli, tmp_path):
    cli_repo(tmp_path, {})
    (tmp_path / "supabase" / "migrations").rmdir()
    write(tmp_path / "migrations", {"20230101000000_prisma.sql": "create table public.p (id int);\n"})
    result = run_cli("deploy")
    assert result.code == 2
    assert "supabase/config.toml makes" in result.out and "pass --migrations-dir migrations" in result.out


@pytest.mark.parametrize("where", ["supabase", "supabase/migrations", "apps/web/src"])
def test_any_subfolder_means_the_project_and_its_config_toml(run_cli, tmp_path, monkeypatch, where):
    cli_repo(tmp_path, {"20240101000000_init.sql": "create table public.notes (id int primary key);\n"}, major=15)
    (tmp_path / ".git").mkdir()  # the top of the work tree: nothing above it is looked at
    (tmp_path / where).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path / where)
    result = run_cli("status")
    assert result.code == 0, result.out
    assert result.out.splitlines()[0] == "supadeploy status → local PostgreSQL 15 (supabase/config.toml)"
    assert "migrations: supabase/migrations/ (found supabase/migrations/" in result.out
    assert "20240101000000" in result.out


def test_a_migrations_dir_typed_in_a_subfolder_is_relative_to_it(run_cli, tmp_path, monkeypatch):
    cli_repo(tmp_path, {"20240101000000_init.sql": "select 1;\n"})
    monkeypatch.chdir(tmp_path / "supabase")
    result = run_cli("status", "--migrations-dir", "migrations", "--format", "json")
    assert result.code == 0 and [row["local"] for row in result.json["status_rows"]] == ["20240101000000"]


def test_a_missing_migrations_dir_is_a_clear_error_that_names_the_target(run_cli, tmp_path):
    local = run_cli("deploy", "--migrations-dir", "nope")
    assert local.code == 2
    assert f"--migrations-dir nope: no such folder ({tmp_path / 'nope'})" in local.out
    assert "deploy on local PostgreSQL 17 (default): error" in local.out and " on : " not in local.out
    remote = run_cli("plan", "--db-url", "postgresql://someone@127.0.0.1:9/app", "--migrations-dir", "nope")
    assert remote.code == 2 and "plan on someone@127.0.0.1:9/app: error" in remote.out, remote.out
    write(tmp_path / "bad", {"000001_a.sql": b"\xff not utf-8"})
    bad_file = run_cli("deploy", "--migrations-dir", "bad")
    assert bad_file.code == 2 and "deploy on local PostgreSQL 17 (default): error" in bad_file.out


# --- an honest local plan and status ---------------------------------------------------------------------

def test_local_status_starts_no_database(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SUPADEPLOY_TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    write(tmp_path / "migrations", {"000001_a.sql": "create table public.a (id int);\n"})
    result = run_cli("status", "--format", "json")
    assert result.code == 0 and result.json["round_trips"] == 0
    assert [(r["local"], r["remote"]) for r in result.json["status_rows"]] == [("000001", None)]
    assert list((tmp_path / "tmp").iterdir()) == []  # no PostgreSQL was set up
    assert "only the local files are listed" in result.err


def test_local_plan_replays_and_fails_on_a_file_the_replay_cannot_apply(run_cli, tmp_path):
    write(tmp_path / "migrations", {"000001_a.sql": "create table public.a (id int);\n",
                                    "000002_b.sql": "alter table public.a\n  add column b int references nowhere (id);\n"})
    result = run_cli("plan", "--format", "json")
    assert result.code == 1 and result.json["status"] == "failed", result.err
    assert result.json["plan_summary"] == ("the local replay failed at migrations/000002_b.sql (above): a deploy "
                                           "would fail there too")
    (problem,) = [p for p in result.json["problems"] if p["fatal"]]
    assert problem["file"].endswith("000002_b.sql") and problem["sqlstate"] == "42P01"
    fine = run_cli("plan", "--migrations-dir", write(tmp_path / "ok", {"000001_a.sql": "select 1;\n"}))
    assert fine.code == 0 and "the local replay applied 1 migration(s): a deploy to a new database" in fine.out


# --- rls_isolation on keys the database makes itself ----------------------------------------------------

IDENTITY = """\
create table public.entries (
  id bigint generated always as identity primary key,
  profile_id uuid not null references auth.users (id),
  words int not null,
  doubled int generated always as (words * 2) stored
);
create policy own on public.entries for all to authenticated
  using (profile_id = auth.uid()) with check (profile_id = auth.uid());
grant select, insert, update, delete on public.entries to authenticated;
"""
ISOLATION = """\
assertions:
  - name: entries are private
    rls_isolation:
      tables: [entries]
      seed: >-
        insert into public.entries (profile_id, words) values
        ('00000000-0000-4000-8000-00000000000a', 1), ('00000000-0000-4000-8000-00000000000b', 2)
"""


def test_rls_isolation_on_an_identity_table_passes_and_a_failure_points_at_the_assertion(pg18, run_cli, tmp_path):
    checks = tmp_path / "checks.yml"
    checks.write_text(ISOLATION)
    safe = write(tmp_path / "safe", {"000001_entries.sql": IDENTITY + "alter table public.entries enable row level "
                                                                      "security;\n"})
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", safe, "--assertions", checks,
                     "--format", "json")
    assert result.code == 0, result.json["assertions"]
    open_table = write(tmp_path / "open", {"000001_entries.sql": IDENTITY})
    failed = run_cli("verify", "--migrations-dir", open_table, "--assertions", checks, "--format", "json")
    assert failed.code == 1
    (assertion,) = failed.json["assertions"]
    assert (Path(assertion["file"]).name, assertion["line"]) == ("checks.yml", 2)
    assert "428C9" not in assertion["message"] and "user A sees 1 row(s) of other users" in assertion["message"]
    assert "(entries is created at " in assertion["message"]


# --- one story per lock finding, and signal rather than noise -------------------------------------------

# What `supabase db diff` writes for new tables, then a later file that changes them.
DB_DIFF = """\
create table "public"."bar" ("id" bigint not null);
alter table "public"."bar" add constraint "bar_pkey" primary key ("id");
create table "public"."foo" (
  "id" bigint not null,
  "bar_id" bigint
);
alter table "public"."foo" add constraint "foo_bar_id_fkey" foreign key ("bar_id") references "public"."bar"("id") not valid;
alter table "public"."foo" validate constraint "foo_bar_id_fkey";
create index foo_bar_id_idx on public.foo using btree (bar_id);
"""
LATER = """\
alter table public.foo add constraint foo_id_positive check (id > 0);
alter table public.foo
  alter column id type numeric;
create index foo_id_idx on public.foo (id);
"""


def _findings(result) -> list[tuple]:
    return [(f["rule"], f["file"].rsplit("/", 1)[-1], f["line"], f["table"], f["lock"], f["level"])
            for f in result.json["findings"]]


def test_tables_created_by_the_same_deploy_say_nothing_in_any_mode(pg18, clusters, run_cli, tmp_path):
    other = _new_database(clusters, "pg18")
    repo = cli_repo(tmp_path / "repo", {"20240101000000_diff.sql": DB_DIFF, "20240102000000_later.sql": LATER})
    quiet = ["--max-advisor-level", "none"]  # about lock findings: tables without RLS are the advisors' business
    folder = ["--migrations-dir", repo / "supabase" / "migrations", "--no-assertions", "--format", "json", *quiet]
    runs = {"local lint": run_cli("lint", *folder[:2], "--format", "json", *quiet),
            "local plan": run_cli("plan", *folder),
            "dry run": run_cli("plan", "--db-url", pg18.dsn, *folder),
            "file-mode dry run": run_cli("deploy", "--dry-run", "--db-url", pg18.dsn, *folder),
            "lint with credentials": run_cli("lint", "--db-url", pg18.dsn, *folder[:2], "--format", "json", *quiet),
            "deploy": run_cli("deploy", "--db-url", pg18.dsn, "--yes", *folder),
            "all-mode deploy": run_cli("deploy", "--db-url", other.dsn, "--tx-mode", "all", *folder)}
    for mode, result in runs.items():
        assert result.code == 0, (mode, result.out, result.err)
        assert result.json["findings"] == [], (mode, result.json["findings"])
        assert not [p for p in result.json["problems"] if p.get("kind") == "lock-safety"], mode


PRODUCTION = "create table public.items (id bigint primary key, name text, amount int);\n"
PENDING = {
    # a table that exists only in this deploy, filled by it, then changed: nobody else can be waiting for it
    "000002_seed.sql": "create table public.staging (id bigint, v int);\n"
                       "insert into public.staging select g, g from generate_series(1, 30000) g;\n",
    "000003_change.sql": "alter table public.staging add constraint staging_v check (v > 0);\n"
                         "\n"
                         "create index items_name_idx on public.items (name);\n",
}


@pytest.fixture
def production(clusters) -> Database:
    """000001 applied, 30,000 rows in public.items: the database 000002 and 000003 go to."""
    from supadeploy.cli import main

    database = _new_database(clusters, "pg18")
    folder = write(database_folder := Path(os.environ.get("TMPDIR", "/tmp")) / f"sd-prod-{database.name}",
                   {"000001_items.sql": PRODUCTION})
    try:
        assert main(["deploy", "--db-url", database.dsn, "--migrations-dir", str(folder), "--no-assertions",
                     "--format", "json"]) == 0
    finally:
        for path in database_folder.iterdir():
            path.unlink()
        database_folder.rmdir()
    database.query("insert into public.items select g, 'n' || g, g from generate_series(1, 30000) g; "
                   "analyze public.items")
    return database


def test_the_same_statement_tells_the_same_story_in_every_mode(production, run_cli, tmp_path):
    folder = write(tmp_path / "m", {"000001_items.sql": PRODUCTION, **PENDING})
    args = ["--db-url", production.dsn, "--migrations-dir", folder, "--format", "json", "--max-advisor-level", "none"]
    expected = [("blocking-index-build", "000003_change.sql", 3, "public.items", "ShareLock", "notice")]
    runs = {"dry run": run_cli("plan", *args, "--no-assertions"),
            "file-mode dry run": run_cli("deploy", "--dry-run", *args, "--no-assertions"),
            "lint": run_cli("lint", *args),
            "deploy": run_cli("deploy", "--yes", *args, "--no-assertions")}
    for mode, result in runs.items():
        assert result.code == 0, (mode, result.out, result.err)
        assert _findings(result) == expected, mode  # the trace's story: not squawk's warning, not the staging table
        (problem,) = [p for p in result.json["problems"] if p.get("kind") == "lock-safety"]
        assert problem["level"] == "notice" and "allow blocking-index-build" in problem["message"], mode
    assert production.history() == ["000001", "000002", "000003"]


def test_a_file_outside_a_transaction_tells_the_same_story_in_every_mode(production, run_cli, tmp_path):
    """Never traced: squawk speaks for it, sized by production in every mode that has credentials."""
    outside = "-- supadeploy: transaction=false\ncreate index items_amount_idx on public.items (amount);\n"
    folder = write(tmp_path / "m", {"000001_items.sql": PRODUCTION, "000002_index.sql": outside})
    args = ["--db-url", production.dsn, "--migrations-dir", folder, "--format", "json", "--no-assertions",
            "--max-advisor-level", "none"]
    expected = [("squawk/require-concurrent-index-creation", "000002_index.sql", 2, "public.items", None, "notice")]
    runs = {"plan": run_cli("plan", "--no-dry-run", *args), "dry run": run_cli("plan", *args),
            "deploy": run_cli("deploy", "--yes", *args)}
    for mode, result in runs.items():
        assert result.code == 0, (mode, result.out, result.err)
        assert _findings(result) == expected, mode  # squawk says warning; 30,000 rows in production say notice
        assert result.json["findings"][0]["size_source"] == "production", mode


def test_squawk_findings_honour_allow_and_the_terminal_prints_the_rule_id(production, run_cli, tmp_path):
    outside = "-- supadeploy: transaction=false\n\ncreate index items_amount_idx on public.items (amount);\n"
    folder = write(tmp_path / "m", {"000001_items.sql": PRODUCTION, "000002_index.sql": outside})
    args = ["plan", "--db-url", production.dsn, "--migrations-dir", folder, "--no-dry-run"]
    text = run_cli(*args)
    assert text.code == 0
    assert "allow squawk/require-concurrent-index-creation — why" in text.out  # what to write to accept it
    accepted = write(tmp_path / "a", {"000001_items.sql": PRODUCTION, "000002_index.sql": outside.replace(
        "\n\ncreate", "\n-- supadeploy: allow require-concurrent-index-creation — written once a day\ncreate")})
    result = run_cli("plan", "--db-url", production.dsn, "--migrations-dir", accepted, "--no-dry-run",
                     "--format", "json", "--max-lock-risk", "note")
    assert result.code == 0, result.out
    assert [(f["rule"], f["acknowledged"], f["table"]) for f in result.json["findings"]] == [
        ("squawk/require-concurrent-index-creation", True, "public.items")]


def test_a_terminal_shows_the_lock_findings_before_it_asks(production, tmp_path):
    folder = write(tmp_path / "m", {"000001_items.sql": PRODUCTION,
                                    "000002_index.sql": "create index items_name_idx on public.items (name);\n"})
    code, out = _pty_run(["deploy", "--db-url", production.dsn, "--migrations-dir", str(folder),
                          "--no-assertions", "--max-advisor-level", "none"], b"n\n")
    assert code == 1 and "[y/N]" in out, out
    before = out[:out.index("[y/N]")]
    assert "000002_index.sql:1:" in before and "require-concurrent-index-creation" in before
    assert production.history() == ["000001"]


# --- on a pull request, its own files are the news -----------------------------------------------------

def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.email=dev@example.com", "-c", "user.name=dev",
                           *args], capture_output=True, text=True, check=True)
    return done.stdout


BASE_FILES = {"20240101000000_items.sql": PRODUCTION,
              "20240102000000_old.sql": "create index items_amount_idx on public.items (amount);\n"}
PR_FILES = {"20240103000000_pr.sql": "create table public.fresh (id int, x int);\n"
                                     "create index fresh_x on public.fresh (x);\n"
                                     "alter table public.items add constraint items_amount_positive "
                                     "check (amount > 0);\n"}


def _pull_request(tmp_path: Path, merge_commit: bool) -> Path:
    repo = cli_repo(tmp_path / "repo", BASE_FILES)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "feature")
    write(repo / "supabase" / "migrations", PR_FILES)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "pr")
    if merge_commit:  # what actions/checkout gives a pull request: the merge commit, base as its first parent
        _git(repo, "checkout", "-q", "--detach", "main")
        _git(repo, "merge", "-q", "--no-ff", "-m", "merge", "feature")
        _git(repo, "branch", "-q", "-D", "main", "feature")
    return repo


@pytest.mark.parametrize("shape", ["branch", "merge commit", "fetch-depth 2"])
def test_on_a_pull_request_only_its_files_are_news(run_cli, tmp_path, monkeypatch, shape):
    repo = _pull_request(tmp_path, merge_commit=shape != "branch")
    if shape == "fetch-depth 2":  # what actions/checkout leaves: the merge commit and its parents, no more
        _git(repo, "branch", "-q", "pr-merge", "HEAD")
        clone = tmp_path / "checkout"
        subprocess.run(["git", "clone", "-q", "--depth", "2", "--branch", "pr-merge", f"file://{repo}", str(clone)],
                       check=True)
        repo = clone
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    result = run_cli("lint", "--format", "json", "--max-advisor-level", "none")
    assert result.code == 0, result.err
    assert "pull request: 1 migration file(s) added or changed since" in result.err
    # 000002's index on items is history; the new table is nobody's; items' CHECK is the news
    assert [(f["rule"], f["file"], f["line"]) for f in result.json["findings"]] == [
        ("scan-under-lock", "supabase/migrations/20240103000000_pr.sql", 3)]
    if shape == "branch":  # the same from a folder given on the command line; and outside a pull request
        given = run_cli("lint", "--format", "json", "--migrations-dir", "supabase/migrations", "--max-advisor-level",
                        "none")
        monkeypatch.delenv("GITHUB_BASE_REF")
        outside = run_cli("lint", "--format", "json", "--max-advisor-level", "none")
        assert given.json["findings"] == result.json["findings"]
        assert outside.json["findings"] == []  # a new database: every table is the deploy's own


def test_a_pull_request_whose_base_is_not_in_the_checkout_says_so(run_cli, tmp_path, monkeypatch):
    repo = _pull_request(tmp_path, merge_commit=False)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GITHUB_BASE_REF", "release")  # not fetched
    result = run_cli("status", "--format", "json")
    assert result.code == 0  # status reports no lock findings: it does not ask
    lint = run_cli("lint", "--format", "json", "--max-advisor-level", "none")
    assert lint.code == 0
    warning = next(p for p in lint.json["problems"] if p["title"] == "Pull request files")
    assert "fetch-depth: 2" in warning["message"] and "every pending file" in warning["message"]
