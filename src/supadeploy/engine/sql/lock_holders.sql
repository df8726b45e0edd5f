-- A jsonb array of the sessions in a transaction that hold a lock on one of the tables given: who they are,
-- what they run and for how long. Other deploys are left out: they queue on the deploy lock instead.
(SELECT coalesce(pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object(
  'relation', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), 'pid', l.pid,
  'mode', l.mode, 'user', a.usename, 'application', a.application_name, 'state', a.state,
  'seconds', pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - a.xact_start)),
  'query', pg_catalog.left(a.query, 200))), '[]'::jsonb)
  FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
  JOIN pg_catalog.pg_class c ON c.oid = l.relation JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND a.xact_start IS NOT NULL
    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
    AND a.application_name NOT LIKE 'supadeploy:%'
    AND l.relation IN (SELECT pg_catalog.to_regclass(x) FROM pg_catalog.unnest(@TABLES@) x))
