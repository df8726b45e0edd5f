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
inside a deploy transaction: `requests.ensure_history` runs once, in a short transaction of
its own, and only when something is missing. Readers (`supadeploy status`,
`supabase migration list`, the dashboard) are never blocked by a deploy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import TargetError
from ..targets.base import Target, single_json
from . import requests
from .requests import CLI_COLUMNS
from .sqlparse import fingerprint


@dataclass(frozen=True)
class HistoryRow:
    version: str
    name: str
    statements: tuple[str, ...] | None
    applied_at: str | None = None
    duration_ms: int | None = None

    @property
    def fingerprint(self) -> str | None:
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
    exists: bool  # the CLI's table
    rows: tuple[HistoryRow, ...]
    columns: tuple[str, ...] = CLI_COLUMNS
    log: bool = True
    cursor: int | None = 1  # the cursor sequence's OID: marks name it by OID, so any role can set it
    progress_table: bool = True
    progress: tuple[Progress, ...] = ()
    server_version_num: int | None = None
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    blockers: tuple[dict[str, Any], ...] = ()
    schema: bool = True  # the supabase_migrations schema

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
                   blockers=tuple(result.get("blockers") or ()), schema=bool(result.get("schema", True)))


def read_history(target: Target, sizes: list[str] | None = None, blockers: list[str] | None = None) -> History:
    """History and supadeploy's side tables in one read (and the sizes of, and locks on, the named tables)."""
    return parse_history(single_json(target.run(requests.read_history(sizes, blockers=blockers),
                                                safe_to_resend=True)))
