-- Drift: after the catalog was read, history is still what the first read saw (checks/drift/check.py).
--
-- History and the catalog are read in two requests; a deploy committing in between would make the catalog
-- hold objects of migrations the replay does not run (false drift). This block runs after the catalog's
-- SELECT, in the same implicit transaction: if history changed since the first read, it fails the request
-- with SQLSTATE @CHANGED@ and the check starts again from a fresh history. (Rows are only ever added or
-- removed between the two reads, never changed and changed back, so equal before and after means equal
-- when the catalog was read.) @DIGEST@ is the first read's digest, computed by the same expression.
DO $sd_drift_unchanged$
DECLARE
  now_digest text;
BEGIN
  IF pg_catalog.to_regclass('supabase_migrations.schema_migrations') IS NOT NULL THEN
    SELECT pg_catalog.md5(pg_catalog.string_agg(pg_catalog.to_jsonb(m)::text, ',' ORDER BY m.version))
      INTO now_digest FROM supabase_migrations.schema_migrations m;
  END IF;
  IF now_digest IS DISTINCT FROM @DIGEST@ THEN
    RAISE EXCEPTION USING ERRCODE = '@CHANGED@',
      MESSAGE = 'supadeploy: migration history changed while drift read the catalog';
  END IF;
END
$sd_drift_unchanged$;
