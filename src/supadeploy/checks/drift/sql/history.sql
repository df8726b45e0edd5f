-- Drift: the target's migration history, read without changing anything (checks/drift/reads.py).
--
-- The engine's own history read creates a pg_temp function, which a read-only transaction refuses; this one
-- runs as supabase_read_only_user on the Management API's read-only endpoint. The history table may not
-- exist (a project never deployed to), so its rows are read in a DO block that only names the table when
-- it is there, and handed to the final SELECT through a transaction-local setting. Every name is
-- schema-qualified, as the read-only endpoint requires.
DO $sd_drift_history$
BEGIN
  IF pg_catalog.to_regclass('supabase_migrations.schema_migrations') IS NOT NULL THEN
    PERFORM pg_catalog.set_config('supadeploy.drift_history', (
      SELECT pg_catalog.jsonb_build_object(
               'columns', (SELECT pg_catalog.jsonb_agg(a.attname::text ORDER BY a.attnum)
                             FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = 'supabase_migrations.schema_migrations'::pg_catalog.regclass
                              AND a.attnum > 0 AND NOT a.attisdropped),
               'rows', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(m) ORDER BY m.version),
                                                   '[]'::jsonb)
                          FROM supabase_migrations.schema_migrations m),
               -- compared after the catalog read (history_unchanged.sql, the same expression)
               'digest', (SELECT pg_catalog.md5(pg_catalog.string_agg(pg_catalog.to_jsonb(m)::text, ','
                                                                      ORDER BY m.version))
                            FROM supabase_migrations.schema_migrations m))::text), true);
  END IF;
END
$sd_drift_history$;

SELECT pg_catalog.jsonb_build_object(
         'server_version_num', pg_catalog.current_setting('server_version_num')::int,
         'user', current_user,
         'exists', pg_catalog.to_regclass('supabase_migrations.schema_migrations') IS NOT NULL,
         -- supadeploy's side tables (engine/sql/side_tables.sql): whether a deploy could write now
         'log', pg_catalog.to_regclass('supabase_migrations.supadeploy_log') IS NOT NULL,
         'cursor', pg_catalog.to_regclass('supabase_migrations.supadeploy_cursor')::oid,
         'progress_table', pg_catalog.to_regclass('supabase_migrations.supadeploy_progress') IS NOT NULL,
         -- whether the platform grants the API roles on new tables in public (older projects; newer ones may
         -- not): the replay is set up the same way before anything else is known
         'supabase_default_privileges', EXISTS (
           SELECT FROM pg_catalog.pg_default_acl d
             JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
            CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a
            WHERE d.defaclrole = pg_catalog.to_regrole('supabase_admin') AND n.nspname = 'public'
              AND d.defaclobjtype = 'r' AND a.grantee = pg_catalog.to_regrole('anon')))
       || coalesce(nullif(pg_catalog.current_setting('supadeploy.drift_history', true), '')::jsonb,
                              '{"columns": [], "rows": []}'::jsonb) AS result;
