-- Cluster-wide roles of a hosted Supabase project, with the attributes,
-- memberships and settings hosted projects have (facts read from
-- supabase/postgres, supabase/auth and supabase/storage). Run once per
-- cluster as the bootstrap superuser. `postgres` is deliberately NOT a
-- superuser, as on hosted projects, so what fails there fails here.
do $roles$
declare
  spec record;
begin
  for spec in select * from (values
      ('postgres',                   'login nosuperuser createdb createrole replication bypassrls inherit'),
      ('anon',                       'nologin inherit'),
      ('authenticated',              'nologin inherit'),
      ('service_role',               'nologin inherit bypassrls'),
      ('authenticator',              'login noinherit'),
      ('supabase_auth_admin',        'login noinherit createrole'),
      ('supabase_storage_admin',     'login noinherit createrole'),
      ('supabase_functions_admin',   'login noinherit createrole'),
      ('supabase_realtime_admin',    'nologin noinherit'),
      ('supabase_read_only_user',    'login bypassrls'),
      ('supabase_replication_admin', 'login replication'),
      ('supabase_etl_admin',         'login replication'),
      ('dashboard_user',             'nologin createdb createrole replication'),
      ('pgbouncer',                  'login')
    ) as r(name, attributes)
  loop
    if exists (select from pg_catalog.pg_roles where rolname = spec.name) then
      execute format('alter role %I with %s', spec.name, spec.attributes);
    else
      execute format('create role %I with %s', spec.name, spec.attributes);
    end if;
  end loop;
end
$roles$;

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;
-- From PostgreSQL 16 a CREATEROLE role alters only the roles it holds with ADMIN OPTION; hosted projects on
-- 16 and above give postgres that option on the API roles (supabase/postgres migration 20250605172253), so
-- `alter role authenticated set statement_timeout = '15s'`, as Supabase's docs advise, works there.
do $admin$
begin
  if pg_catalog.current_setting('server_version_num')::int >= 160000 then
    grant anon, authenticated, service_role to postgres with admin option;
  end if;
end
$admin$;
-- Hosted projects let postgres act for the auth and storage services (policies on
-- auth.users and storage.objects, triggers on auth.users) and read everything.
grant supabase_auth_admin, supabase_storage_admin, supabase_functions_admin, supabase_realtime_admin to postgres;
grant authenticator to supabase_storage_admin;
grant pg_read_all_data to supabase_read_only_user, postgres;
grant pg_monitor, pg_signal_backend to postgres;
grant anon, authenticated, service_role to supabase_storage_admin;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';
alter role postgres set search_path = "$user", public, extensions;
alter role supabase_admin set search_path = "$user", public, auth, extensions;
alter role supabase_auth_admin set search_path = auth;
alter role supabase_auth_admin set idle_in_transaction_session_timeout = 60000;
alter role supabase_storage_admin set search_path = storage;
alter role supabase_functions_admin set search_path = supabase_functions;
