-- What supautils lets `postgres` do on a hosted project although it is no superuser (facts read from
-- supabase/supautils src/supautils.c, its utility hook, and supabase/postgres supautils.conf.j2 and
-- ansible/files/postgresql_extension_custom_scripts/). supautils runs such a statement as its superuser and
-- gives what it made to postgres; here the same is done around the statement:
--
-- * CREATE PUBLICATION (FOR ALL TABLES too), ALTER PUBLICATION (… ADD TABLES IN SCHEMA), CREATE FOREIGN
--   DATA WRAPPER: an event trigger before the statement makes postgres a superuser, one after it makes it
--   none again. Both run in the statement's transaction: if the statement fails, the change is rolled back
--   with it. What the statement created belongs to postgres, as supautils leaves it.
-- * CREATE EXTENSION postgres_fdw: its foreign data wrapper is given to postgres (the custom after-create
--   script hosted projects run), so `create server … foreign data wrapper postgres_fdw` works.
-- * SET of the settings supautils lets postgres change (privileged_role_allowed_configs) that PostgreSQL
--   reserves to superusers, and PostgREST's pgrst.* settings on a role: granted with PostgreSQL's own SET
--   privilege. (On 16 and above, `alter role authenticator set pgrst.…` also needs ADMIN OPTION on
--   authenticator, which hosted projects do not give postgres: supautils runs it as its superuser. The
--   replay cannot, and reports PostgreSQL's refusal.)
--
-- CREATE EVENT TRIGGER (also allowed by supautils) cannot be done this way: event triggers do not fire for
-- it. The local target reports it as something the replay cannot do (targets/local.py).
-- Run as the bootstrap superuser, once per database; the functions live in a schema of their own.

create schema if not exists _supadeploy_supautils;
revoke all on schema _supadeploy_supautils from public;

create or replace function _supadeploy_supautils.before_privileged_statement() returns event_trigger
language plpgsql security definer set search_path = '' as $fn$
begin
  if session_user = 'postgres' or current_user = 'postgres' then
    if not (select rolsuper from pg_catalog.pg_roles where rolname = 'postgres') then
      alter role postgres superuser;
      perform pg_catalog.set_config('supadeploy.supautils_raised', 'on', true);
    end if;
  end if;
end
$fn$;

create or replace function _supadeploy_supautils.after_privileged_statement() returns event_trigger
language plpgsql security definer set search_path = '' as $fn$
begin
  if pg_catalog.current_setting('supadeploy.supautils_raised', true) = 'on' then
    alter role postgres nosuperuser;
    perform pg_catalog.set_config('supadeploy.supautils_raised', '', true);
  end if;
end
$fn$;

create or replace function _supadeploy_supautils.after_create_extension() returns event_trigger
language plpgsql security definer set search_path = '' as $fn$
declare
  was_super boolean;
begin
  if exists (select from pg_catalog.pg_event_trigger_ddl_commands() as c
             where c.object_type = 'extension' and c.object_identity = 'postgres_fdw')
     and exists (select from pg_catalog.pg_foreign_data_wrapper as w
                 join pg_catalog.pg_roles as r on r.oid = w.fdwowner
                 where w.fdwname = 'postgres_fdw' and r.rolname <> 'postgres') then
    -- A foreign data wrapper's owner must be a superuser when it is given: postgres is one for a moment.
    select rolsuper into was_super from pg_catalog.pg_roles where rolname = 'postgres';
    if not was_super then
      alter role postgres superuser;
    end if;
    alter foreign data wrapper postgres_fdw owner to postgres;
    if not was_super then
      alter role postgres nosuperuser;
    end if;
  end if;
end
$fn$;

revoke all on function _supadeploy_supautils.before_privileged_statement() from public;
revoke all on function _supadeploy_supautils.after_privileged_statement() from public;
revoke all on function _supadeploy_supautils.after_create_extension() from public;

drop event trigger if exists _supadeploy_supautils_before;
create event trigger _supadeploy_supautils_before on ddl_command_start
  when tag in ('CREATE PUBLICATION', 'ALTER PUBLICATION', 'CREATE FOREIGN DATA WRAPPER')
  execute function _supadeploy_supautils.before_privileged_statement();

drop event trigger if exists _supadeploy_supautils_after;
create event trigger _supadeploy_supautils_after on ddl_command_end
  when tag in ('CREATE PUBLICATION', 'ALTER PUBLICATION', 'CREATE FOREIGN DATA WRAPPER')
  execute function _supadeploy_supautils.after_privileged_statement();

drop event trigger if exists _supadeploy_supautils_extension;
create event trigger _supadeploy_supautils_extension on ddl_command_end
  when tag in ('CREATE EXTENSION')
  execute function _supadeploy_supautils.after_create_extension();

-- Settings PostgreSQL reserves to superusers that supautils lets postgres set (those of extensions the
-- replay loads are theirs to declare; pgrst.* and the like are anyone's already).
grant set on parameter session_replication_role, log_min_messages, log_lock_waits, track_io_timing,
  auto_explain.log_min_duration, auto_explain.log_nested_statements, pg_net.batch_size, pg_net.ttl,
  pgaudit.log, pgaudit.log_catalog, pgaudit.log_client, pgaudit.log_level, pgaudit.log_relation, pgaudit.log_rows,
  pgaudit.log_statement, pgaudit.log_statement_once, pgaudit.role, safeupdate.enabled to postgres;
-- PostgREST's in-database configuration (pgrst.*, allowed by supautils): `alter role authenticator set
-- pgrst.db_aggregates_enabled = 'true'` and the like. A setting PostgreSQL does not know is a superuser's to
-- put on a role unless granted by name; these are the names PostgREST reads.
grant set on parameter pgrst.db_aggregates_enabled, pgrst.db_anon_role, pgrst.db_extra_search_path,
  pgrst.db_hoisted_tx_settings, pgrst.db_max_rows, pgrst.db_plan_enabled, pgrst.db_pre_config,
  pgrst.db_pre_request, pgrst.db_prepared_statements, pgrst.db_root_spec, pgrst.db_schemas, pgrst.db_tx_end,
  pgrst.jwt_aud, pgrst.jwt_cache_max_lifetime, pgrst.jwt_role_claim_key, pgrst.jwt_secret,
  pgrst.jwt_secret_is_base64, pgrst.openapi_mode, pgrst.openapi_security_active, pgrst.openapi_server_proxy_uri,
  pgrst.server_cors_allowed_origins, pgrst.server_timing_enabled, pgrst.server_trace_header to postgres;
