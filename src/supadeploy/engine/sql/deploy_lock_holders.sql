-- A jsonb array of the sessions holding supadeploy's deploy lock (the advisory key @CLASSID@/@OBJID@): who,
-- in which state, how long into their transaction (the application name tells this deploy's own attempts).
(SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('pid', l.pid, 'user', a.usename,
  'application', a.application_name, 'state', a.state,
  'seconds', pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - a.xact_start)))),
  '[]'::jsonb)
  FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = @CLASSID@ AND l.objid = @OBJID@ AND l.objsubid = 1
    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()))
