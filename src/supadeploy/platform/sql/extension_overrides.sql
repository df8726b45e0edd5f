-- What supautils does on hosted projects when `postgres` creates an extension, as an event trigger:
-- `supautils.extensions_parameter_overrides = '{"pg_cron":{"schema":"pg_catalog"}}'` puts pg_cron in
-- pg_catalog whatever schema CREATE EXTENSION names (supabase/postgres, supautils.conf.j2), so
-- `create extension pg_cron with schema extensions` works there and lands in pg_catalog.
create function extensions.supadeploy_extension_overrides() returns event_trigger
language plpgsql security definer set search_path = '' as $fn$
begin
  update pg_catalog.pg_extension set extnamespace = 'pg_catalog'::regnamespace
  where extname = 'pg_cron' and extnamespace <> 'pg_catalog'::regnamespace;
end
$fn$;
revoke all on function extensions.supadeploy_extension_overrides() from public;
create event trigger supadeploy_extension_overrides on ddl_command_end when tag in ('CREATE EXTENSION')
  execute function extensions.supadeploy_extension_overrides();
