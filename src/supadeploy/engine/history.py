"""Migration history in the Supabase CLI's own table, and supadeploy's side tables.

`supabase_migrations.schema_migrations (version, statements, name)` is created
and written exactly as `supabase db push` does, so both tools read the same
history. What the CLI has no column for lives in side tables the CLI never
touches: `supadeploy_log` (when a migration was applied and how long it took),
`supadeploy_progress` (which statements of a non-transactional file have run)
and the sequence `supadeploy_cursor` (which statement a transaction had reached
when it failed: sequence values survive a rollback, so an error without a
position is located without running anything again).

History written by another tool may live in a schema this role cannot create
in: then supadeploy works with the CLI's table as it is (the columns it has, no
ALTER) and without its side tables, and says which grant would give it them;
what it cannot do without them (a file outside a transaction) is refused before
anything is sent.

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
from ..sqltext import ident
from ..targets.base import Target, single_json
from . import requests
from .requests import CLI_COLUMNS, Bookkeeping
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
    role: str = ""  # who reads (current_user)
    database: str = ""
    schema_owner: str = ""
    can_create: bool = True  # in supabase_migrations (or, without it, in the database)
    can_write: bool = True  # INSERT on the CLI's table
    can_alter: bool = True  # owns the CLI's table (may add the columns it lacks)

    def by_version(self) -> dict[str, HistoryRow]:
        return {r.version: r for r in self.rows}

    @property
    def versions(self) -> list[str]:
        return sorted(r.version for r in self.rows)

    @property
    def side_tables(self) -> bool:
        return self.log and self.cursor is not None and self.progress_table

    @property
    def cli_only(self) -> bool:
        """The CLI's table is there, supadeploy's side tables are not, and this role may not create them."""
        return self.exists and not self.side_tables and not self.can_create

    @property
    def ready(self) -> bool:
        """Everything a deploy transaction writes to exists already (or is all there can be)."""
        return (self.exists and (self.side_tables or self.cli_only)
                and (all(c in self.columns for c in CLI_COLUMNS) or not self.can_alter))

    @property
    def writes(self) -> Bookkeeping:
        """What a deploy writes: the CLI's columns this table has or will have, and the side tables or not."""
        if self.exists and not self.can_alter:
            return Bookkeeping(tuple(c for c in CLI_COLUMNS if c in self.columns), own_tables=not self.cli_only)
        return Bookkeeping(CLI_COLUMNS, own_tables=not self.cli_only)

    @property
    def kept_columns(self) -> tuple[str, ...] | None:
        """The history table's columns never to add or drop (None: no table): those it has, and all of the
        CLI's when it is another role's and cannot be altered."""
        if not self.exists:
            return None
        return self.columns if self.can_alter else self.columns + CLI_COLUMNS

    def ensure(self, lock_wait: str, tag: str | None = None) -> str:
        """The request that creates what is missing (never what exists: another tool's schema or table may
        not allow it), then reads history again."""
        return requests.ensure_history(self.kept_columns, lock_wait, tag, schema=self.schema)

    def grant(self, privilege: str, on: str = "SCHEMA supabase_migrations") -> str:
        return f"GRANT {privilege} ON {on} TO {ident(self.role or 'postgres')};"

    def refuse_unwritable(self) -> None:
        """Before a deploy sends anything: the grants it cannot do without, named exactly."""
        owner = f" (it belongs to {ident(self.schema_owner)})" if self.schema_owner else ""
        if self.exists and not self.can_write:
            raise TargetError(
                f"role {self.role} may not write migration history: INSERT on supabase_migrations.schema_migrations "
                f"is missing{owner}; nothing was sent. As its owner: "
                + self.grant("INSERT", "TABLE supabase_migrations.schema_migrations"))
        if not self.exists and not self.can_create:
            where = "schema supabase_migrations" + owner if self.schema else "this database"
            raise TargetError(
                f"role {self.role} may not create the migration history table in {where}; nothing was sent. "
                + (self.grant("CREATE") if self.schema else
                   self.grant("CREATE", f"DATABASE {ident(self.database or 'postgres')}")))

    def cli_only_note(self) -> str:
        owner = f" belongs to {self.schema_owner} and" if self.schema_owner else ""
        return (f"supabase_migrations{owner} role {self.role} may not create supadeploy's own bookkeeping "
                "tables in it: this deploy writes the Supabase CLI's history table as it is, without durations, "
                "fingerprints, the positions that locate errors PostgreSQL reports without one, or files run "
                f"outside a transaction. To have them: {self.grant('CREATE')}")

    def progress_of(self, version: str) -> Progress | None:
        return next((p for p in self.progress if p.version == version), None)


def parse_history(result: Any) -> History:
    """The READ_HISTORY result, whichever columns the table has."""
    if isinstance(result, str):
        result = json.loads(result)
    if not isinstance(result, dict) or "rows" not in result:
        raise TargetError(f"unexpected answer when reading migration history: {result!r:.200}")
    role = str(result.get("role") or "postgres")
    owner = f" (it belongs to {result['schema_owner']})" if result.get("schema_owner") else ""
    if result.get("usage") is False:
        raise TargetError(f"role {role} may not read migration history: USAGE on schema supabase_migrations is "
                          f"missing{owner}. As its owner: GRANT USAGE ON SCHEMA supabase_migrations TO {ident(role)};")
    if result.get("can_read") is False:
        raise TargetError(f"role {role} may not read migration history: SELECT on supabase_migrations."
                          f"schema_migrations is missing{owner}. As its owner: GRANT SELECT ON "
                          f"supabase_migrations.schema_migrations TO {ident(role)};")
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
                   blockers=tuple(result.get("blockers") or ()), schema=bool(result.get("schema", True)),
                   role=str(result.get("role") or ""), database=str(result.get("database") or ""),
                   schema_owner=str(result.get("schema_owner") or ""),
                   can_create=result.get("can_create") is not False, can_write=result.get("can_write") is not False,
                   can_alter=result.get("can_alter") is not False)


def read_history(target: Target, sizes: list[str] | None = None, blockers: list[str] | None = None) -> History:
    """History and supadeploy's side tables in one read (and the sizes of, and locks on, the named tables)."""
    return parse_history(single_json(target.run(requests.read_history(sizes, blockers=blockers),
                                                safe_to_resend=True)))
