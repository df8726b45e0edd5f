-- History and supadeploy's side tables in one read, whatever exists (a pg_temp function: PL/pgSQL plans
-- lazily, so tables that do not exist are never referenced), plus the sizes of the tables named in `sizes`.
CREATE OR REPLACE FUNCTION pg_temp.supadeploy_read_history(sizes text[]) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  result jsonb;
  cols text[];
  has_log boolean;
BEGIN
  -- Who reads, who owns the schema, and what this role may do there: history written by another tool may
  -- live in a schema this role cannot create in (then supadeploy works with the CLI's table alone).
  result := pg_catalog.jsonb_build_object(
    'role', current_user::text,
    'database', pg_catalog.current_database()::text,
    'schema_owner', (SELECT pg_catalog.pg_get_userbyid(n.nspowner) FROM pg_catalog.pg_namespace n
                      WHERE n.nspname = 'supabase_migrations'),
    'can_create', CASE WHEN pg_catalog.to_regnamespace('supabase_migrations') IS NULL
                       THEN pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')
                       ELSE pg_catalog.has_schema_privilege('supabase_migrations', 'CREATE') END);
  IF pg_catalog.to_regnamespace('supabase_migrations') IS NOT NULL
     AND NOT pg_catalog.has_schema_privilege('supabase_migrations', 'USAGE') THEN
    RETURN result || pg_catalog.jsonb_build_object('usage', false, 'schema', true, 'exists', false,
                                                   'columns', '[]'::jsonb, 'rows', '[]'::jsonb);
  END IF;
  has_log := pg_catalog.to_regclass('supabase_migrations.supadeploy_log') IS NOT NULL;
  result := result || pg_catalog.jsonb_build_object(
    'server_version_num', pg_catalog.current_setting('server_version_num')::int,
    'cursor', pg_catalog.to_regclass('supabase_migrations.supadeploy_cursor')::oid,
    'schema', pg_catalog.to_regnamespace('supabase_migrations') IS NOT NULL,
    'progress_table', pg_catalog.to_regclass('supabase_migrations.supadeploy_progress') IS NOT NULL,
    'log', has_log,
    'sizes', (SELECT coalesce(pg_catalog.jsonb_object_agg(
                 pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(c.relname),
                 pg_catalog.jsonb_build_object('rows', greatest(c.reltuples, 0)::bigint,
                                               'bytes', pg_catalog.pg_total_relation_size(c.oid))), '{}'::jsonb)
              FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
             WHERE c.oid IN (SELECT pg_catalog.to_regclass(n) FROM pg_catalog.unnest(sizes) AS n)));
  IF pg_catalog.to_regclass('supabase_migrations.schema_migrations') IS NULL THEN
    RETURN result || pg_catalog.jsonb_build_object('exists', false, 'columns', '[]'::jsonb, 'rows', '[]'::jsonb);
  END IF;
  SELECT pg_catalog.array_agg(attname::text) INTO cols FROM pg_catalog.pg_attribute
   WHERE attrelid = 'supabase_migrations.schema_migrations'::regclass AND attnum > 0 AND NOT attisdropped;
  result := result || pg_catalog.jsonb_build_object('exists', true, 'columns', pg_catalog.to_jsonb(cols),
    'can_read', pg_catalog.has_table_privilege('supabase_migrations.schema_migrations', 'SELECT'),
    'can_write', pg_catalog.has_table_privilege('supabase_migrations.schema_migrations', 'INSERT'),
    'can_alter', (SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE') FROM pg_catalog.pg_class c
                   WHERE c.oid = 'supabase_migrations.schema_migrations'::regclass));
  IF NOT (result->>'can_read')::boolean THEN
    RETURN result || pg_catalog.jsonb_build_object('rows', '[]'::jsonb);
  END IF;
  IF has_log THEN
    result := result || pg_catalog.jsonb_build_object('rows', (
      SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(m) || pg_catalog.jsonb_build_object(
        'supadeploy_applied_at', l.applied_at, 'supadeploy_duration_ms', l.duration_ms) ORDER BY m.version),
        '[]'::jsonb)
      FROM supabase_migrations.schema_migrations m
      LEFT JOIN supabase_migrations.supadeploy_log l ON l.version = m.version));
  ELSE
    result := result || pg_catalog.jsonb_build_object('rows', (
      SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(m) ORDER BY m.version), '[]'::jsonb)
      FROM supabase_migrations.schema_migrations m));
  END IF;
  IF pg_catalog.to_regclass('supabase_migrations.supadeploy_progress') IS NOT NULL THEN
    result := result || pg_catalog.jsonb_build_object('progress', (
      SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'version', p.version, 'done', p.done, 'fingerprint', p.fingerprint, 'run_id', p.run_id,
        'age_s', extract(epoch FROM pg_catalog.clock_timestamp() - p.updated_at))), '[]'::jsonb)
      FROM supabase_migrations.supadeploy_progress p));
  END IF;
  RETURN result;
END
$fn$;
