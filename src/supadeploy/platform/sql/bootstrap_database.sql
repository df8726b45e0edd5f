-- Per-database foundation of a hosted project: database and schema grants,
-- the `extensions` schema with what hosted projects pre-install, and the
-- API roles' access. Run as the bootstrap superuser in the new database.
do $database$
begin
  execute format('alter database %I owner to postgres', current_database());
  execute format('grant all on database %I to postgres, dashboard_user', current_database());
  execute format('grant connect, temporary on database %I to anon, authenticated, service_role', current_database());
end
$database$;

alter schema public owner to pg_database_owner;
grant usage on schema public to postgres, anon, authenticated, service_role;

create schema if not exists extensions authorization supabase_admin;
grant usage on schema extensions to anon, authenticated, service_role;
grant usage, create on schema extensions to postgres, dashboard_user;
alter default privileges for role supabase_admin in schema extensions
  grant all on tables to postgres with grant option;
alter default privileges for role supabase_admin in schema extensions
  grant all on functions to postgres with grant option;
alter default privileges for role supabase_admin in schema extensions
  grant all on sequences to postgres with grant option;

-- What a new hosted project has enabled (Database → Extensions).
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pg_stat_statements with schema extensions;

-- The platform's own schemas, empty until a service uses them.
create schema if not exists pgbouncer authorization pgbouncer;
