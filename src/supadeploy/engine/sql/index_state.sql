-- Before (re)building a concurrent index: the named index's validity, the table's INVALID indexes, and
-- whether an index build is running on the table right now.
SELECT pg_catalog.jsonb_build_object(
  'index', @NAMED@,
  'invalid', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.quote_ident(n.nspname) || '.' ||
                pg_catalog.quote_ident(i.relname)), '[]'::jsonb)
              FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace
             WHERE x.indrelid = t.oid AND NOT x.indisvalid),
  'building', (SELECT count(*) FROM pg_catalog.pg_stat_progress_create_index p WHERE p.relid = t.oid)
) AS result FROM (SELECT c.oid, c.relnamespace FROM pg_catalog.pg_class c
                   WHERE c.oid = pg_catalog.to_regclass(@TABLE@)) t;
