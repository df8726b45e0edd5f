"""Migration history in the Supabase CLI's own table, and supadeploy's side tables.

`supabase_migrations.schema_migrations (version, statements, name)` is created
and written exactly as `supabase db push` does, so both tools read the same
history. What the CLI has no column for lives in side tables the CLI never
touches: `supadeploy_log` (when a migration was applied and how long it took),
`supadeploy_progress` (which statements of a non-transactional file have run)
and the sequence `supadeploy_cursor` (which statement a transaction had reached
when it failed: sequence values survive a rollback, so an error without a
position is located without running anything again).

Changing these tables takes an ACCESS EXCLUSIVE lock, so it is never done
inside a deploy transaction: `ensure_sql` runs once, in a short transaction of
its own, and only when something is missing. Readers (`supadeploy status`,
`supabase migration list`, the dashboard) are never blocked by a deploy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import TargetError
from .sqltext import literal, text_array

SCHEMA = "supabase_migrations"
CLI_COLUMNS = ("statements", "name")

# READ_HISTORY's pg_temp function body. PL/pgSQL plans lazily, so tables that
# do not exist are never referenced. One round trip whatever exists.
READ_HISTORY = """\
CREATE OR REPLACE FUNCTION pg_temp.supadeploy_read_history(sizes text[]) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  result jsonb;
  cols text[];
  has_log boolean := pg_catalog.to_regclass('supabase_migrations.supadeploy_log') IS NOT NULL;
BEGIN
  result := pg_catalog.jsonb_build_object(
    'server_version_num', pg_catalog.current_setting('server_version_num')::int,
    'cursor', pg_catalog.to_regclass('supabase_migrations.supadeploy_cursor')::oid,
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
  result := result || pg_catalog.jsonb_build_object('exists', true, 'columns', pg_catalog.to_jsonb(cols));
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
"""


def lock_holders_sql(tables: list[str]) -> str:
    """A jsonb array of the sessions in a transaction that hold a lock on one of `tables`: who they are, what
    they run and for how long. Other deploys are left out: they queue on the deploy lock instead."""
    return f"""(SELECT coalesce(pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object(
  'relation', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), 'pid', l.pid,
  'mode', l.mode, 'user', a.usename, 'application', a.application_name, 'state', a.state,
  'seconds', pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - a.xact_start)),
  'query', pg_catalog.left(a.query, 200))), '[]'::jsonb)
  FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
  JOIN pg_catalog.pg_class c ON c.oid = l.relation JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND a.xact_start IS NOT NULL
    AND a.application_name NOT LIKE 'supadeploy:%'
    AND l.relation IN (SELECT pg_catalog.to_regclass(x) FROM pg_catalog.unnest({text_array(tables)}) x))"""


def read_history_sql(sizes: list[str] | None = None, extra: str | None = None,
                     blockers: list[str] | None = None) -> str:
    """One request: history rows, which side tables exist, the sizes of the named tables, the sessions
    holding locks on the `blockers` tables (and `extra`, jsonb)."""
    more = f" || {extra}" if extra else ""
    if blockers:
        more += f" || pg_catalog.jsonb_build_object('blockers', {lock_holders_sql(blockers)})"
    return (READ_HISTORY
            + f"SELECT pg_temp.supadeploy_read_history({text_array(sizes or [])}){more} AS result;\n"
            + "DROP FUNCTION pg_temp.supadeploy_read_history(text[]);\n")


@dataclass(frozen=True)
class HistoryRow:
    version: str
    name: str
    statements: tuple[str, ...] | None
    applied_at: str | None = None
    duration_ms: int | None = None

    @property
    def fingerprint(self) -> str | None:
        from .sqlparse import fingerprint

        return None if self.statements is None else fingerprint(self.statements)


@dataclass(frozen=True)
class Progress:
    """How far a non-transactional migration got before it stopped."""

    version: str
    done: int
    fingerprint: str
    run_id: str
    age_s: float


@dataclass(frozen=True)
class History:
    exists: bool
    rows: tuple[HistoryRow, ...]
    columns: tuple[str, ...] = CLI_COLUMNS
    log: bool = True
    cursor: int | None = 1  # the cursor sequence's OID: marks name it by OID, so any role can set it
    progress_table: bool = True
    progress: tuple[Progress, ...] = ()
    server_version_num: int | None = None
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    blockers: tuple[dict[str, Any], ...] = ()

    def by_version(self) -> dict[str, HistoryRow]:
        return {r.version: r for r in self.rows}

    @property
    def versions(self) -> list[str]:
        return sorted(r.version for r in self.rows)

    @property
    def ready(self) -> bool:
        """Everything a deploy transaction writes to exists already."""
        return (self.exists and all(c in self.columns for c in CLI_COLUMNS) and self.log
                and self.cursor is not None and self.progress_table)

    def progress_of(self, version: str) -> Progress | None:
        return next((p for p in self.progress if p.version == version), None)


def parse_history(result: Any) -> History:
    """The READ_HISTORY result, whichever columns the table has."""
    if isinstance(result, str):
        result = json.loads(result)
    if not isinstance(result, dict) or "rows" not in result:
        raise TargetError(f"unexpected answer when reading migration history: {result!r:.200}")
    rows = []
    for raw in result["rows"] or []:
        statements = raw.get("statements")
        rows.append(HistoryRow(
            version=str(raw["version"]),
            name=raw.get("name") or "",
            statements=None if statements is None else tuple(statements),
            applied_at=raw.get("supadeploy_applied_at"),
            duration_ms=raw.get("supadeploy_duration_ms"),
        ))
    progress = tuple(Progress(str(p["version"]), int(p.get("done") or 0), p.get("fingerprint") or "",
                              p.get("run_id") or "", float(p.get("age_s") or 0))
                     for p in result.get("progress") or [])
    return History(bool(result.get("exists")), tuple(sorted(rows, key=lambda r: r.version)),
                   columns=tuple(result.get("columns") or ()), log=bool(result.get("log", True)),
                   cursor=int(result["cursor"]) if result.get("cursor") else None,
                   progress_table=bool(result.get("progress_table", True)), progress=progress,
                   server_version_num=result.get("server_version_num"),
                   sizes={k: {"rows": int(v.get("rows") or 0), "bytes": int(v.get("bytes") or 0)}
                          for k, v in (result.get("sizes") or {}).items()},
                   blockers=tuple(result.get("blockers") or ()))


def ensure_sql(history: History | None) -> str:
    """What creates the history table (as the CLI does) and supadeploy's side tables.

    `history` is what was read: columns that exist are not altered again, so
    no ACCESS EXCLUSIVE lock is taken on a table that is already right.
    With None (a dry run's own rolled-back transaction) everything is
    created with IF NOT EXISTS.
    """
    parts = [
        "CREATE SCHEMA IF NOT EXISTS supabase_migrations;\n",
        "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);\n",
    ]
    for column, kind in (("statements", "text[]"), ("name", "text")):
        if history is None or column not in history.columns:
            parts.append(f"ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS {column} {kind};\n")
    parts.append(
        "CREATE TABLE IF NOT EXISTS supabase_migrations.supadeploy_log (\n"
        "  version text NOT NULL PRIMARY KEY,\n"
        "  applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),\n"
        "  duration_ms integer,\n"
        "  fingerprint text,\n"
        "  tool text\n);\n"
        "CREATE TABLE IF NOT EXISTS supabase_migrations.supadeploy_progress (\n"
        "  version text NOT NULL PRIMARY KEY,\n"
        "  done integer NOT NULL DEFAULT 0,\n"
        "  fingerprint text NOT NULL,\n"
        "  run_id text NOT NULL,\n"
        "  updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()\n);\n"
        "CREATE SEQUENCE IF NOT EXISTS supabase_migrations.supadeploy_cursor;\n"
        # Marks run as whatever role a migration switched to; they name the sequence by OID (no schema
        # lookup), and setting this counter is harmless, so any role may.
        "GRANT UPDATE ON SEQUENCE supabase_migrations.supadeploy_cursor TO PUBLIC;\n")
    return "".join(parts)


def start_row_sql(version: str, fingerprint: str, tool: str) -> str:
    """supadeploy's log row, written when a migration starts: its start time lives in a table, not a setting."""
    return (
        "INSERT INTO supabase_migrations.supadeploy_log (version, applied_at, duration_ms, fingerprint, tool) "
        f"VALUES ({literal(version)}, pg_catalog.clock_timestamp(), NULL, {literal(fingerprint)}, {literal(tool)}) "
        "ON CONFLICT (version) DO UPDATE SET applied_at = excluded.applied_at, duration_ms = NULL, "
        "fingerprint = excluded.fingerprint, tool = excluded.tool;\n")


def insert_row_sql(version: str, name: str, statements: tuple[str, ...]) -> str:
    """The CLI's INSERT (version, name, statements), and the duration on supadeploy's log row."""
    return (
        "INSERT INTO supabase_migrations.schema_migrations (version, name, statements) "
        f"VALUES ({literal(version)}, {literal(name)}, {text_array(list(statements))});\n"
        "UPDATE supabase_migrations.supadeploy_log SET "
        "duration_ms = (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - applied_at) * 1000)::integer, "
        f"applied_at = pg_catalog.clock_timestamp() WHERE version = {literal(version)};\n")
