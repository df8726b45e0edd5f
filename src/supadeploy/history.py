"""Migration history in the Supabase CLI's own table.

`supabase_migrations.schema_migrations (version, statements, name)` is created
and written exactly as `supabase db push` does, so both tools read the same
history. supadeploy keeps what the CLI has no column for (when a migration was
applied, how long it took) in a side table, `supabase_migrations.supadeploy_log`,
which the CLI never touches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import TargetError
from .sqltext import literal, text_array

# The CLI's statements (pkg/migration/history.go), in its order.
CREATE_HISTORY = """\
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;
CREATE TABLE IF NOT EXISTS supabase_migrations.supadeploy_log (
  version text NOT NULL PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now(),
  duration_ms integer,
  fingerprint text,
  tool text
);
"""

# One round trip whether or not the table exists: PL/pgSQL plans lazily, so the
# missing table is never referenced. The function lives in pg_temp and is dropped.
READ_HISTORY = """\
CREATE OR REPLACE FUNCTION pg_temp.supadeploy_read_history() RETURNS jsonb
LANGUAGE plpgsql AS $fn$
BEGIN
  IF to_regclass('supabase_migrations.schema_migrations') IS NULL THEN
    RETURN jsonb_build_object('exists', false, 'rows', '[]'::jsonb);
  END IF;
  IF to_regclass('supabase_migrations.supadeploy_log') IS NULL THEN
    RETURN jsonb_build_object('exists', true, 'rows', (
      SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.version), '[]'::jsonb)
      FROM supabase_migrations.schema_migrations m));
  END IF;
  RETURN jsonb_build_object('exists', true, 'rows', (
    SELECT coalesce(jsonb_agg(to_jsonb(m) || jsonb_build_object(
      'supadeploy_applied_at', l.applied_at, 'supadeploy_duration_ms', l.duration_ms)
      ORDER BY m.version), '[]'::jsonb)
    FROM supabase_migrations.schema_migrations m
    LEFT JOIN supabase_migrations.supadeploy_log l USING (version)));
END
$fn$;
SELECT pg_temp.supadeploy_read_history() AS result;
DROP FUNCTION pg_temp.supadeploy_read_history();
"""


@dataclass(frozen=True)
class HistoryRow:
    version: str
    name: str
    statements: tuple[str, ...] | None
    applied_at: str | None = None
    duration_ms: int | None = None

    @property
    def fingerprint(self) -> str | None:
        from .migrations import fingerprint_statements

        return None if self.statements is None else fingerprint_statements(self.statements)


@dataclass(frozen=True)
class History:
    exists: bool
    rows: tuple[HistoryRow, ...]

    def by_version(self) -> dict[str, HistoryRow]:
        return {r.version: r for r in self.rows}

    @property
    def versions(self) -> list[str]:
        return sorted(r.version for r in self.rows)


def parse_history(result: Any) -> History:
    """The READ_HISTORY result, whichever columns the table has."""
    if isinstance(result, str):
        result = json.loads(result)
    if not isinstance(result, dict) or "rows" not in result:
        raise TargetError(f"unexpected answer when reading migration history: {result!r:.200}")
    rows = []
    for raw in result["rows"]:
        statements = raw.get("statements")
        rows.append(HistoryRow(
            version=str(raw["version"]),
            name=raw.get("name") or "",
            statements=None if statements is None else tuple(statements),
            applied_at=raw.get("supadeploy_applied_at"),
            duration_ms=raw.get("supadeploy_duration_ms"),
        ))
    return History(bool(result.get("exists")), tuple(sorted(rows, key=lambda r: r.version)))


def insert_row_sql(version: str, name: str, statements: tuple[str, ...], fingerprint: str,
                   tool: str) -> str:
    """The CLI's INSERT (version, name, statements) plus supadeploy's log row."""
    return (
        "INSERT INTO supabase_migrations.schema_migrations (version, name, statements) "
        f"VALUES ({literal(version)}, {literal(name)}, {text_array(list(statements))});\n"
        "INSERT INTO supabase_migrations.supadeploy_log (version, applied_at, duration_ms, fingerprint, tool) "
        f"VALUES ({literal(version)}, clock_timestamp(), "
        "(extract(epoch FROM clock_timestamp() - current_setting('supadeploy.started')::timestamptz)"
        " * 1000)::integer, "
        f"{literal(fingerprint)}, {literal(tool)}) "
        "ON CONFLICT (version) DO UPDATE SET applied_at = excluded.applied_at, "
        "duration_ms = excluded.duration_ms, fingerprint = excluded.fingerprint, tool = excluded.tool;\n"
    )
