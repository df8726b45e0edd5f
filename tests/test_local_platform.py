"""The local replay has what hosted projects have (issue: a local Supabase that real projects replay on).

The fixtures are written in the shapes real projects commit. Each replays on the
local target for PostgreSQL 15, 17 and 18 (npm builds) and, through a database
URL, on Debian's PostgreSQL 15 bootstrapped the same way: two builds, one bootstrap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.families import FIXTURES as FAMILY_FIXTURES

FIXTURES = {
    "20240101000000_profiles.sql": """\
create table public.profiles (
  id uuid not null references auth.users on delete cascade,
  full_name text,
  avatar_url text,
  primary key (id)
);
alter table public.profiles enable row level security;
create policy "Public profiles are viewable by everyone." on public.profiles for select using (true);

-- inserts a row into public.profiles
create function public.handle_new_user()
returns trigger
language plpgsql
security definer set search_path = ''
as $$
begin
  insert into public.profiles (id, full_name, avatar_url)
  values (new.id, new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'avatar_url');
  return new;
end;
$$;

-- trigger the function every time a user is created
create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.handle_new_user();
""",
    "20240101000001_storage.sql": """\
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);

create policy "Avatar images are publicly accessible." on storage.objects
  for select using (bucket_id = 'avatars');
create policy "Anyone can upload an avatar into their folder." on storage.objects
  for insert to authenticated
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text));
""",
    "20240101000002_realtime.sql": "alter publication supabase_realtime add table public.profiles;\n",
    "20240101000003_embeddings.sql": """\
create extension if not exists vector with schema extensions;
create table public.documents (
  id bigint primary key generated always as identity,
  token text not null default encode(gen_random_bytes(16), 'hex'),
  public_id uuid not null default uuid_generate_v4(),
  body text not null,
  embedding vector(3)
);
create index on public.documents using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);
""",
    "20240101000004_cron.sql": """\
create extension if not exists pg_cron;
create extension if not exists pg_net with schema extensions;
select cron.schedule(
  'ping-edge-function',
  '*/5 * * * *',
  $$ select net.http_post(url := 'https://project.supabase.co/functions/v1/ping', body := '{}'::jsonb) $$
);
""",
    "20240101000005_vault.sql": "select vault.create_secret('s3cr3t-value', 'edge_api_key', 'for the cron job');\n",
    "20240101000006_auth_hook.sql": """\
create or replace function public.custom_access_token_hook(event jsonb)
returns jsonb language plpgsql stable as $$
begin
  return event;
end;
$$;
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook from authenticated, anon, public;
""",
    "20240101000007_webhook.sql": """\
create trigger "notify_on_new_document" after insert on public.documents
  for each row execute function supabase_functions.http_request(
    'https://example.com/hook', 'POST', '{"Content-type":"application/json"}', '{}', '1000');
""",
    "20240101000008_more_extensions.sql": """\
create extension if not exists http with schema extensions;
create extension if not exists pgmq;
select pgmq.create('jobs');
select pgmq.send('jobs', '{"task": "welcome"}');
create extension if not exists pg_trgm with schema extensions;
create extension if not exists citext with schema extensions;
""",
}
# pgjwt: offered on hosted 15 only (supabase/postgres leaves it out of 17).
PGJWT = {"20240101000009_pgjwt.sql": "create extension if not exists pgjwt with schema extensions;\n"}

CHECKS = """\
assertions:
  - name: a new user gets a profile from raw_user_meta_data
    sql:
      setup: |
        insert into auth.users (id, email, raw_user_meta_data)
        values ('00000000-0000-4000-8000-0000000000cc', 'c@example.invalid', '{"full_name": "C"}');
      query: select full_name from public.profiles where id = '00000000-0000-4000-8000-0000000000cc'
      expect: C
  - name: two storage policies on storage.objects, RLS on
    sql:
      query: select count(*) from pg_policies where schemaname = 'storage' and tablename = 'objects'
      expect: 2
  - name: the avatars bucket exists
    sql: {query: "select public from storage.buckets where id = 'avatars'", expect: true}
  - name: storage.foldername splits folders
    sql: {query: "select (storage.foldername('avatars/u1/me.png'))[2]", expect: u1}
  - name: profiles is in the supabase_realtime publication
    sql:
      query: select count(*) from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'profiles'
      expect: 1
  - name: an HNSW index on the embeddings
    sql:
      query: select count(*) from pg_indexes where tablename = 'documents' and indexdef like '%USING hnsw%'
      expect: 1
  - name: vectors compare
    sql: {query: "select round(('[1,2,3]'::extensions.vector <=> '[1,2,3]'::extensions.vector)::numeric, 3)", expect: 0}
  - name: defaults from extensions resolve unqualified
    accepts: {sql: "insert into public.documents (body) values ('x')"}
  - name: the cron job is scheduled, nothing ran
    sql: {query: "select count(*) from cron.job where jobname = 'ping-edge-function'", expect: 1}
  - name: the vault secret reads back
    sql: {query: "select decrypted_secret from vault.decrypted_secrets where name = 'edge_api_key'", expect: s3cr3t-value}
  - name: the auth hook is executable by supabase_auth_admin only
    sql:
      query: >
        select has_function_privilege('supabase_auth_admin', 'public.custom_access_token_hook(jsonb)', 'execute')
        and not has_function_privilege('authenticated', 'public.custom_access_token_hook(jsonb)', 'execute')
      expect: true
  - name: a webhook queues its request with pg_net
    sql:
      setup: insert into public.documents (body) values ('hello')
      query: select count(*) from net.http_request_queue where url = 'https://example.com/hook'
      expect: 1
  - name: pgmq queued the message
    sql: {query: "select count(*) from pgmq.q_jobs", expect: 1}
"""
PGJWT_CHECK = """\
  - name: pgjwt signs and verifies
    sql:
      query: "select valid from extensions.verify(extensions.sign('{\\"sub\\": \\"1\\"}', 'secret'), 'secret')"
      expect: true
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def project_for(tmp_path: Path, major: str) -> tuple[Path, Path]:
    checks = tmp_path / "checks.yml"
    checks.write_text(CHECKS + (PGJWT_CHECK if major == "15" else ""))
    return write(tmp_path / "migrations", {**FIXTURES, **(PGJWT if major == "15" else {})}), checks


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    return project_for(tmp_path, "15")


@pytest.mark.parametrize("major", ["15", "17", "18"])
def test_real_project_shapes_replay_locally(run_cli, tmp_path, major):
    migrations, checks = project_for(tmp_path, major)
    # The shapes are Supabase's own examples, advisor findings included (a table without RLS): not the point here.
    result = run_cli("deploy", "--pg-major", major, "--migrations-dir", migrations, "--assertions", checks,
                     "--max-advisor-level", "none")
    assert result.code == 0, result.out + result.err
    assert f"local PostgreSQL {major} (--pg-major)" in result.out
    assert f"assertions {14 if major == '15' else 13}/{14 if major == '15' else 13} passed" in result.out


def test_the_same_shapes_on_debian_postgresql_15(db, run_cli, project):
    """Debian's PostgreSQL, bootstrapped by the same platform code: the two cannot drift apart."""
    if db.server != "pg15":
        pytest.skip("the Debian build is the pg15 cluster")
    migrations, checks = project
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations, "--assertions", checks)
    assert result.code == 0, result.out + result.err
    assert "assertions 14/14 passed" in result.out


@pytest.mark.parametrize("major, fails", [("15", True), ("17", True), ("18", False)])
def test_postgresql_18_only_sql_fails_where_production_would(run_cli, tmp_path, major, fails):
    files = {"000001_new.sql": "create table public.t (a int, b int generated always as (a * 2) virtual);\n"
                               "alter table public.t enable row level security;\n"}
    result = run_cli("deploy", "--pg-major", major, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions")
    assert (result.code == 1) is fails, result.out
    if fails:
        assert "000001_new.sql:1: 42601" in result.out


def test_the_major_comes_from_supabase_config_toml(run_cli, tmp_path, monkeypatch):
    (tmp_path / "supabase").mkdir()
    (tmp_path / "supabase" / "config.toml").write_text('project_id = "x"\n\n[db]\nport = 54322\nmajor_version = 15\n')
    files = {"000001_uuid7.sql": "select uuidv7();\n"}
    monkeypatch.chdir(tmp_path)
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "m", files), "--no-assertions")
    assert result.code == 1 and "local PostgreSQL 15 (supabase/config.toml)" in result.out
    assert "42883" in result.out  # uuidv7() exists from PostgreSQL 18 only


def test_an_extension_without_binaries_is_not_a_broken_migration(run_cli, tmp_path):
    files = {"000001_ok.sql": "create table public.a (id int);\n",
             "000002_geo.sql": "-- maps\ncreate extension if not exists postgis with schema extensions;\n"}
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "m", files), "--no-assertions", "--format", "json")
    assert result.code == 1
    report = result.json
    assert report["status"] == "unsupported"
    problem = next(p for p in report["problems"] if p["level"] == "error")
    assert problem["title"] == "Not available in the local replay" and problem["line"] == 2
    assert "extension postgis is not available in supadeploy's local replay" in problem["message"]
    assert "dry run against a staging project" in problem["message"]


def test_calling_out_from_a_migration_is_named_not_faked(run_cli, tmp_path):
    files = {"000001_http.sql": "create extension http with schema extensions;\n"
                                "select extensions.http_get('https://example.com');\n"}
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "m", files), "--no-assertions", "--format", "json")
    assert result.code == 1 and result.json["status"] == "unsupported"
    assert "not available in supadeploy's local replay" in result.err
    assert "the http extension cannot send GET https://example.com" in result.err


def test_postgres_is_no_superuser_but_creates_privileged_extensions(db, run_cli, tmp_path):
    files = {"000001_ext.sql": "create extension vector with schema extensions;\ncreate extension pg_net;\n",
             "000002_super.sql": "alter system set work_mem = '1GB';\n"}
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", files), "--no-assertions")
    assert result.code == 2  # ALTER SYSTEM cannot run in a transaction: refused before anything ran
    del files["000002_super.sql"]
    ok = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "n", files), "--no-assertions")
    assert ok.code == 0, ok.out
    assert db.value("select rolsuper from pg_roles where rolname = 'postgres'") is False
    assert db.value("select count(*) from pg_extension where extname in ('vector', 'pg_net')") == 2


SUPAUTILS_SHAPES = {
    "000001_realtime.sql": "begin;\n  drop publication if exists supabase_realtime;\n"
                           "  create publication supabase_realtime for all tables;\ncommit;\n",
    "000002_fdw.sql": "create extension if not exists postgres_fdw with schema extensions;\n"
                      "create server other_db foreign data wrapper postgres_fdw options (host 'db.example.com');\n"
                      "create user mapping for postgres server other_db options (user 'reader');\n"
                      "create foreign data wrapper my_wrapper handler extensions.postgres_fdw_handler\n"
                      "  validator extensions.postgres_fdw_validator;\n",
    "000003_schema_publication.sql": "create table public.things (id int primary key);\n"
                                     "create publication things_pub;\n"
                                     "alter publication things_pub add tables in schema public;\n",
    "000004_replica.sql": "set session_replication_role = replica;\ninsert into public.things values (1);\n"
                          "set session_replication_role = origin;\n",
}


def test_what_supautils_lets_postgres_do_replays_and_postgres_stays_no_superuser(db, run_cli, tmp_path):
    """Hosted projects let postgres create publications (for all tables too), foreign data wrappers and
    servers on postgres_fdw, and set session_replication_role (supautils); so does the replay."""
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", SUPAUTILS_SHAPES),
                     "--no-assertions", "--max-advisor-level", "none", "--yes")
    assert result.code == 0, result.out + result.err
    assert db.value("select rolsuper from pg_roles where rolname = 'postgres'") is False
    owners = db.query("select pubname, pg_get_userbyid(pubowner), puballtables from pg_publication order by 1")
    assert owners == [("supabase_realtime", "postgres", True), ("things_pub", "postgres", False)]
    assert db.query("select fdwname, pg_get_userbyid(fdwowner) from pg_foreign_data_wrapper order by 1") == [
        ("my_wrapper", "postgres"), ("postgres_fdw", "postgres")]


def test_a_failed_privileged_statement_leaves_postgres_no_superuser(db, run_cli, tmp_path):
    files = {"000001_bad.sql": "create publication p for table public.nosuch;\n"}
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions", "--yes")
    assert result.code == 1 and "42P01" in result.out
    assert db.value("select rolsuper from pg_roles where rolname = 'postgres'") is False


def test_the_whole_set_replays_locally_and_an_event_trigger_is_named_not_failed(run_cli, tmp_path):
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "m", SUPAUTILS_SHAPES), "--no-assertions",
                     "--max-advisor-level", "none")
    assert result.code == 0, result.out + result.err
    files = {**SUPAUTILS_SHAPES, "000005_watch.sql": (
        "create function public.pgrst_watch() returns event_trigger language plpgsql as\n"
        "$$ begin notify pgrst, 'reload schema'; end $$;\n"
        "create event trigger pgrst_watch on ddl_command_end execute procedure public.pgrst_watch();\n")}
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "n", files), "--no-assertions",
                     "--max-advisor-level", "none", "--format", "json")
    assert result.code == 1 and result.json["status"] == "unsupported", result.out
    problem = next(p for p in result.json["problems"] if p["level"] == "error")
    assert (problem["title"], problem["line"]) == ("Not available in the local replay", 3)
    assert "cannot create event triggers" in problem["message"] and "supautils" in problem["message"]


def test_reading_a_wrapper_reaches_no_service_and_says_so(run_cli, tmp_path):
    """Supabase's wrappers replay up to the foreign tables; importing a foreign schema (or reading a foreign
    table) would call Stripe: the replay stops there as not available, never as a broken migration."""
    stripe = (FAMILY_FIXTURES / "wrappers" / "migrations" / "20241201000000_stripe.sql").read_text()
    files = {"000001_stripe.sql": stripe,
             "000002_import.sql": "create schema stripe_all;\n"
                                  "import foreign schema stripe from server stripe_server into stripe_all;\n"}
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "m", files), "--no-assertions",
                     "--max-advisor-level", "none", "--format", "json")
    assert result.code == 1 and result.json["status"] == "unsupported", result.out
    assert result.json["applied_versions"] == ["000001"]
    problem = next(p for p in result.json["problems"] if p["level"] == "error")
    assert (problem["file"].endswith("000002_import.sql"), problem["line"]) == (True, 2)
    assert "reaches no service" in problem["message"]


ROLE_SETTINGS = ("alter role authenticated set statement_timeout = '15s';\n"
                 "alter role anon set statement_timeout = '3s';\n")
PGRST = "alter role authenticator set pgrst.db_aggregates_enabled = 'true';\n"


@pytest.mark.parametrize("major", ["15", "17"])
def test_role_settings_supabase_docs_advise_replay(run_cli, tmp_path, major):
    """Timeouts on the API roles (postgres holds them WITH ADMIN OPTION on 16 and above, as hosted projects
    have since 20250605172253); PostgREST's pgrst.* settings on authenticator where PostgreSQL lets the
    replay do what supautils does."""
    files = {"000001_roles.sql": ROLE_SETTINGS + (PGRST if major == "15" else "")}
    result = run_cli("deploy", "--pg-major", major, "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions", "--max-advisor-level", "none")
    assert result.code == 0, result.out + result.err


def test_pgrst_settings_on_17_are_named_not_failed(run_cli, tmp_path):
    files = {"000001_roles.sql": ROLE_SETTINGS + PGRST}
    result = run_cli("deploy", "--pg-major", "17", "--migrations-dir", write(tmp_path / "m", files),
                     "--no-assertions", "--max-advisor-level", "none", "--format", "json")
    assert result.code == 1 and result.json["status"] == "unsupported", result.out
    problem = next(p for p in result.json["problems"] if p["level"] == "error")
    assert problem["line"] == 3 and "supautils runs `alter role authenticator set pgrst" in problem["message"]


def test_pgaudit_as_supabase_docs_enable_it_replays(run_cli, tmp_path):
    """pgaudit is a stand-in (it audits nothing locally); its settings are postgres's to set, as supautils
    allows on hosted projects."""
    files = {"000001_audit.sql": "create extension if not exists pgaudit;\n"
                                 "alter role postgres set pgaudit.log to 'ddl, role';\n"
                                 "set pgaudit.log_relation = 'on';\n"
                                 "create table public.audited (id int primary key);\n"}
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "m", files), "--no-assertions",
                     "--max-advisor-level", "none")
    assert result.code == 0, result.out + result.err
