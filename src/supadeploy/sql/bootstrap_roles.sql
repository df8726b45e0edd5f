-- Cluster-wide roles of a Supabase database (supabase/postgres init scripts).
-- Run once per cluster as a superuser. `postgres` is deliberately NOT a
-- superuser, as on hosted projects, so migrations that would fail there fail here.
do $bootstrap$
begin
  if not exists (select from pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin login superuser createdb createrole replication bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'postgres') then
    create role postgres login nosuperuser createdb createrole bypassrls;
  else
    alter role postgres nosuperuser createdb createrole bypassrls login;
  end if;
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_read_only_user') then
    create role supabase_read_only_user nologin bypassrls;
  end if;
end
$bootstrap$;
grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;
grant pg_read_all_data to supabase_read_only_user;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
