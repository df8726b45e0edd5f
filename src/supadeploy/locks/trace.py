"""Tracing: after each statement, what it did to tables that existed before its migration.

Inside a traced transaction (every deploy, dry run and replay), supadeploy
snapshots the tables a migration names when it starts (relfilenode, the
transaction's scan count, the lock modes the session already holds, their
indexes) and compares after each statement that names them: a new relfilenode
(the table was rewritten), more scans (it was read whole, e.g. to validate a
constraint), a new index, and the strongest lock the migration itself took.
Tables that did not exist when the migration started are not in the snapshot,
so they are exempt; procedural statements (DO, CALL, SELECT) may touch any
table, so a migration with one snapshots them all.

The functions and the table live in pg_temp and are open to any role, so a
file's SET ROLE cannot stop the trace; the table is dropped at the end of the
transaction (its rows travel out in the transaction's result), the functions
stay for the session, which ends with the run (the local replay, a database
URL) or returns to the API's pool holding only these temporary functions.
"""

from __future__ import annotations

import hashlib

from ..engine.migrations import Migration, Statement
from ..sqltext import literal, qualified, text_array
from . import LOCK_STRENGTH

SETUP = """\
CREATE TEMP TABLE IF NOT EXISTS sd_trace (
  kind "char",  -- 's': a table at the transaction's start; 't': tracked by the running migration; 'o': a finding
  relid oid, filenode oid, scans bigint, held int, indexes oid[],
  m int, s int, relname text, lock text, rewrite boolean, scanned boolean, index_built text, bytes bigint,
  est_rows bigint) ON COMMIT DROP;
GRANT ALL ON pg_temp.sd_trace TO PUBLIC;
"""

# The functions live as long as the session: created once, compiled once, and replaced only when this
# text changes (its hash names a marker function), so a file-mode replay does not pay for them per file.
FUNCTIONS = """\
-- Lock modes, weakest first; a set of them is an int with bit i for the i-th.
CREATE OR REPLACE FUNCTION pg_temp.sd_lock_modes() RETURNS text[] LANGUAGE sql IMMUTABLE AS $fn$
  SELECT @LOCK_MODES@
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.sd_modes(rel oid) RETURNS int LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(pg_catalog.sum(DISTINCT 1 << pg_catalog.array_position(pg_temp.sd_lock_modes(), l.mode)), 0)::int
    FROM pg_catalog.pg_locks l
   WHERE l.locktype = 'relation' AND l.relation = rel AND l.pid = pg_catalog.pg_backend_pid() AND l.granted
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.sd_strongest(modes int) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT (pg_temp.sd_lock_modes())[(SELECT pg_catalog.max(i) FROM pg_catalog.generate_series(1, 8) i
                                     WHERE modes & (1 << i) <> 0)]
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.sd_indexes(rel oid) RETURNS oid[] LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(pg_catalog.array_agg(x.indexrelid), '{}') FROM pg_catalog.pg_index x WHERE x.indrelid = rel
$fn$;
-- The user tables a migration names: (schema or NULL, name) pairs, as parsed; NULL arrays: every user table.
CREATE OR REPLACE FUNCTION pg_temp.sd_named(schemas text[], names text[]) RETURNS SETOF oid LANGUAGE sql STABLE AS $fn$
  SELECT DISTINCT c.oid
    FROM ROWS FROM (pg_catalog.unnest(schemas), pg_catalog.unnest(names)) AS x(s, r)
    JOIN pg_catalog.pg_class c ON c.relname = x.r JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'm') AND (x.s IS NULL OR n.nspname = x.s)
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'supabase_migrations') AND n.nspname NOT LIKE 'pg\\_%'
  UNION ALL
  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE names IS NULL AND c.relkind IN ('r', 'p', 'm')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'supabase_migrations') AND n.nspname NOT LIKE 'pg\\_%'
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.sd_trace_begin(schemas text[], names text[], carried boolean) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN  -- carried: the migrations really share one transaction, so earlier files' locks count, and tables
       -- they created are new to everyone else (exempt, like the file's own)
  DELETE FROM pg_temp.sd_trace WHERE kind = 't';
  INSERT INTO pg_temp.sd_trace (kind, relid, filenode, scans, held, indexes)
  SELECT 't', r, c.relfilenode, pg_catalog.pg_stat_get_xact_numscans(r),
         CASE WHEN carried THEN 0 ELSE pg_temp.sd_modes(r) END, pg_temp.sd_indexes(r)
    FROM pg_temp.sd_named(schemas, names) AS r JOIN pg_catalog.pg_class c ON c.oid = r
   WHERE NOT carried OR r IN (SELECT relid FROM pg_temp.sd_trace WHERE kind = 's');
END
$fn$;
CREATE OR REPLACE FUNCTION pg_temp.sd_trace_step(m int, s int, names text[]) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  t record;
  named oid[];
  modes int;
  own int;
BEGIN
  IF names IS NOT NULL THEN  -- the tables the statement names, resolved with the file's own search_path
    SELECT pg_catalog.array_agg(pg_catalog.to_regclass(n)) INTO named FROM pg_catalog.unnest(names) n;
    IF NOT EXISTS (SELECT 1 FROM pg_temp.sd_trace WHERE kind = 't' AND relid = ANY (named)) THEN
      RETURN;  -- only tables new to this migration: exempt
    END IF;
  END IF;
  FOR t IN
    SELECT r.relid, r.filenode AS old_filenode, r.scans AS old_scans, r.held, r.indexes AS old_indexes,
           c.relfilenode, c.reltuples, pg_catalog.pg_stat_get_xact_numscans(r.relid) AS scans,
           pg_temp.sd_indexes(r.relid) AS indexes,
           pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS relname
      FROM pg_temp.sd_trace r JOIN pg_catalog.pg_class c ON c.oid = r.relid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE r.kind = 't' AND (named IS NULL OR r.relid = ANY (named))
  LOOP
    IF t.relfilenode IS DISTINCT FROM t.old_filenode OR t.scans > t.old_scans
       OR NOT t.indexes <@ t.old_indexes THEN
      -- the migration's own lock: modes it took itself; a mode it asked for again is already held (strongest)
      modes := pg_temp.sd_modes(t.relid);
      own := modes & ~t.held;
      INSERT INTO pg_temp.sd_trace (kind, m, s, relid, relname, lock, rewrite, scanned, index_built, bytes, est_rows)
      VALUES ('o', m, s, t.relid, t.relname, pg_temp.sd_strongest(CASE WHEN own <> 0 THEN own ELSE modes END),
        t.relfilenode IS DISTINCT FROM t.old_filenode, t.scans > t.old_scans,
        (SELECT pg_catalog.string_agg(i.relname, ', ') FROM pg_catalog.pg_class i
          WHERE i.oid = ANY (t.indexes) AND NOT i.oid = ANY (t.old_indexes)),
        pg_catalog.pg_total_relation_size(t.relid), greatest(t.reltuples, 0)::bigint);
      UPDATE pg_temp.sd_trace SET filenode = t.relfilenode, scans = t.scans, indexes = t.indexes
       WHERE kind = 't' AND relid = t.relid;
    END IF;
  END LOOP;
END
$fn$;
"""

FUNCTIONS = FUNCTIONS.replace("@LOCK_MODES@", "ARRAY[" + ", ".join(literal(mode) for mode in LOCK_STRENGTH) + "]")
_MARKER = "sd_trace_" + hashlib.sha256(FUNCTIONS.encode()).hexdigest()[:12]
CREATE_FUNCTIONS = (
    "DO $sd_setup$\nBEGIN\n"
    f"  IF pg_catalog.to_regprocedure('pg_temp.{_MARKER}()') IS NULL THEN\n"
    f"    EXECUTE $sd_functions${FUNCTIONS}CREATE FUNCTION pg_temp.{_MARKER}() RETURNS void LANGUAGE sql AS '';\n"
    "$sd_functions$;\n  END IF;\nEND\n$sd_setup$;\n")

RESULT = ("(SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('m', t.m, 's', t.s, 'relname', "
          "t.relname, 'lock', t.lock, 'rewrite', t.rewrite, 'scanned', t.scanned, 'index_built', t.index_built, "
          "'bytes', t.bytes, 'est_rows', t.est_rows) ORDER BY t.m, t.s), '[]'::jsonb) "
          "FROM pg_temp.sd_trace t WHERE t.kind = 'o')")

# Statements that may change tables they do not name (procedural code, domain checks): every table is
# checked after them.
OPAQUE_KINDS = frozenset({"DoStmt", "CallStmt", "SelectStmt", "ExecuteStmt", "AlterDomainStmt"})
# Statements that can rewrite, scan or index a table they name (CREATE TABLE … PARTITION OF scans the
# default partition). Grants, comments, policies, triggers, functions never do: they are not traced.
TRACED_KINDS = frozenset({"AlterTableStmt", "IndexStmt", "ClusterStmt", "RefreshMatViewStmt", "CreateStmt"})


def _traced(kind: str) -> bool:
    return kind in TRACED_KINDS or kind in OPAQUE_KINDS


def named_tables(migrations: list[Migration]) -> list[tuple[str | None, str]] | None:
    """The tables these migrations' traced statements name; None when one of them may touch any table."""
    found: dict[tuple[str | None, str], None] = {}
    for migration in migrations:
        for statement in migration.statements:
            if not _traced(statement.kind):
                continue
            pairs = statement.relations
            if not pairs and statement.kind in OPAQUE_KINDS:
                return None
            found.update(dict.fromkeys(pairs))
    return list(found)


def setup(batch: list[Migration], carried: bool) -> str:
    """Once per transaction: the trace's table (and functions, once per session); when later files carry
    earlier ones' locks, which of the named tables exist at the transaction's start."""
    start = ("INSERT INTO pg_temp.sd_trace (kind, relid) SELECT 's', r "
             f"FROM pg_temp.sd_named({_arrays(named_tables(batch))}) AS r;\n") if carried else ""
    return SETUP + CREATE_FUNCTIONS + start


def begin(migration: Migration, carried: bool) -> str:
    """Snapshot the tables a migration names as it starts; `carried`: earlier migrations' locks count."""
    return (f"SELECT pg_temp.sd_trace_begin({_arrays(named_tables([migration]))}, "
            f"{'true' if carried else 'false'});\n")


def step(migration_index: int, statement_index: int, statement: Statement) -> str:
    """The trace call after one statement ('' when the statement cannot touch an existing table)."""
    if not _traced(statement.kind):
        return ""
    names = [qualified(schema, name) for schema, name in statement.relations]
    if names:
        return f"SELECT pg_temp.sd_trace_step({migration_index}, {statement_index}, {text_array(names)});\n"
    if statement.kind in OPAQUE_KINDS:
        return f"SELECT pg_temp.sd_trace_step({migration_index}, {statement_index}, NULL);\n"
    return ""


def _arrays(names: list[tuple[str | None, str]] | None) -> str:
    if names is None:
        return "NULL, NULL"
    schemas = "ARRAY[" + ", ".join("NULL" if s is None else literal(s) for s, _ in names) + "]::text[]"
    return f"{schemas}, {text_array([n for _, n in names])}"


class LockTracer:
    """The engine's `Tracer` for lock safety: this module's SQL around each statement."""

    def setup(self, batch: list[Migration], carried: bool) -> str:
        return setup(batch, carried)

    def begin(self, migration: Migration, carried: bool) -> str:
        return begin(migration, carried)

    def step(self, migration_index: int, statement_index: int, statement: Statement) -> str:
        return step(migration_index, statement_index, statement)

    def result(self) -> str:
        return RESULT
