"""The drift check: what the target has that its applied migrations do not make, and the reverse.

1. Read the target's history (read-only).
2. Replay what it says is applied on a throwaway local PostgreSQL of the target's major, set up like a
   hosted project (with or without the platform's default privileges, as the target has them): the local
   files of the applied versions, the statements history stored where a file was edited after it was
   applied (what ran is what is compared; the edit is reported on its own), and the statements of history
   rows no local file explains (the dashboard or the MCP server wrote them; they are listed on their own,
   so what they made is not reported twice).
3. Read both catalogs (one read-only request each) within the scope the replayed statements touched, and
   diff them. The target's read ends by checking that history did not change since step 1 (a deploy
   committing in between); if it did, the check starts again.

Two requests reach the target; everything else happens on the local replay. No Docker, no shadow database
on the user's side.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...engine.apply import deploy
from ...engine.history import History, HistoryRow
from ...engine.hooks import Hooks
from ...engine.migrations import Migration, MigrationSet, parse_migration
from ...engine.plan import PlanOptions
from ...engine.run import ApplyOptions, TxMode
from ...errors import MigrationFileError, SupadeployError, TargetError
from ...platform.binaries import SUPPORTED_MAJORS
from ...sqltext import fill, literal, sql_file
from ...targets.base import QueryError, Target, read_only, single_json
from ...targets.local import LocalTarget
from . import cache
from .catalog import Catalog, catalog_sql, parse_catalog
from .differ import Change, Difference, diff
from .finding import DriftFinding, edited_finding, history_finding, object_finding
from .history import UnexplainedRow, unexplained
from .locate import Locator
from .reads import Remote, read_remote
from .scope import Scope, touched

SIDES = ("production", "migrations")
HISTORY_CHANGED = "SD010"  # raised by history_unchanged.sql (the engine's own codes are SD001-SD006)
HISTORY_UNCHANGED = sql_file("supadeploy.checks.drift", "sql/history_unchanged.sql")
ATTEMPTS = 3  # reads of history and catalog while deploys keep committing in between


class HistoryChanging(TargetError):
    """History changed between the history read and the catalog read, each time: a deploy is running."""


class ReplayFailed(SupadeployError):
    """The local replay could not run (binaries, a migration failing locally, an extension it lacks): drift
    cannot be computed. `cause` is what stopped it."""

    def __init__(self, message: str, cause: BaseException, replay: LocalTarget) -> None:
        super().__init__(message, getattr(cause, "problems", None))
        self.cause = cause
        self.replay = replay


@dataclass
class DriftCheck:
    """Everything one check found, and what it compared."""

    history: History
    unexplained: list[UnexplainedRow]
    not_replayed: dict[str, str]  # history rows no file explains whose statements could not run: why
    edited: list[Migration]  # applied files whose statements differ from the ones history stored
    replayed: list[Migration]  # in version order; history rows' statements as migrations without a file
    pending: list[Migration]  # local files history does not have (not compared)
    scope: Scope
    production: Catalog
    replay: Catalog
    differences: list[Difference]
    major: int
    major_why: str
    from_history: frozenset[str] = field(default_factory=frozenset)  # versions replayed from history rows
    in_flight: list[Difference] = field(default_factory=list)  # made by a pending file that runs outside a
    # transaction and stopped part-way (or a concurrent index build that failed): the next deploy finishes it

    @property
    def drifted(self) -> bool:
        return bool(self.differences or self.unexplained or self.edited)

    def findings(self, fails: bool) -> list[DriftFinding]:
        """Every difference, history row and edited file, placed at a migration's file and line where one
        made the object (`fails`: they fail the run, else they are warnings)."""
        locator = Locator(m for m in self.replayed if m.version not in self.from_history)
        found = [edited_finding(m.display_path, m.version, fails) for m in self.edited]
        found += [history_finding(row, fails, self.not_replayed.get(row.version)) for row in self.unexplained]
        for difference in self.differences:
            obj = self.production.get(difference.key) or self.replay.get(difference.key)
            parent = obj.parents[0] if obj is not None and obj.parents else None
            found.append(object_finding(difference, locator, parent, fails))
        return found

    def resolved_by(self, after: DriftCheck) -> DriftCheck:
        """What this check found that `after` (a later check of the same database) no longer finds."""
        left = {d.key for d in after.differences}
        rows = {r.version for r in after.unexplained}
        edited = {m.version for m in after.edited}
        return replace(self, differences=[d for d in self.differences if d.key not in left],
                       unexplained=[r for r in self.unexplained if r.version not in rows],
                       edited=[m for m in self.edited if m.version not in edited])

    def summary(self) -> str:
        """One sentence: what was found, and what was compared."""
        compared = (f"the database compared with a replay of its {len(self.replayed)} applied migration(s) on "
                    f"local PostgreSQL {self.major}")
        if not self.drifted:
            return f"no drift: {compared}"
        parts = [f"{len(self.differences)} difference(s)"] if self.differences else []
        if self.unexplained:
            parts.append(f"{len(self.unexplained)} history row(s) no local file explains")
        if self.edited:
            parts.append(f"{len(self.edited)} applied file(s) edited")
        return f"{', '.join(parts)}; {compared}"


def replay_major(flag: int | None, server_version_num: int | None) -> tuple[int, str]:
    """The target's major (or --pg-major); the nearest one the replay has when the target's is not there."""
    if flag is not None:
        return flag, "--pg-major"
    major = (server_version_num or 0) // 10000
    if major in SUPPORTED_MAJORS:
        return major, "the target's major"
    nearest = min(SUPPORTED_MAJORS, key=lambda m: (abs(m - major), m))
    return nearest, f"the target runs PostgreSQL {major or 'of unknown version'}; nearest available"


def edited_files(history: History, migrations: MigrationSet) -> list[Migration]:
    """Applied files whose statements differ from the ones history stored (whitespace, comments and line
    endings aside)."""
    rows = history.by_version()
    return [m for m in migrations.migrations
            if m.version in rows and rows[m.version].fingerprint not in (None, m.fingerprint)]


def replay_set(history: History, migrations: MigrationSet, rows: list[UnexplainedRow], edited_versions: set[str]
               ) -> tuple[list[Migration], frozenset[str], dict[str, str]]:
    """What history says is applied, as migrations: local files; history's own statements where a file was
    edited since (`edited_versions`); and history rows' statements where no applied file holds them. Returns
    them in version order, the versions taken from history, and why some rows could not be taken."""
    edited = edited_versions
    by_version = history.by_version()
    chosen = [m for m in migrations.migrations if m.version in by_version and m.version not in edited]
    from_history: set[str] = set()
    refused: dict[str, str] = {}
    stored = [_as_row(by_version[v]) for v in sorted(edited)]
    for row in [*stored, *rows]:
        if any(match.applied for match in row.matches):
            continue  # the same statements are replayed under the file's own version
        migration = _from_history(row, migrations.directory, refused)
        if migration is not None:
            chosen.append(migration)
            from_history.add(row.version)
    return sorted(chosen, key=lambda m: m.version), frozenset(from_history), refused


def _as_row(row: HistoryRow) -> UnexplainedRow:
    return UnexplainedRow(row.version, row.name, row.statements)


def _from_history(row: UnexplainedRow, directory: Path | None, refused: dict[str, str]) -> Migration | None:
    """A history row's statements as a migration without a file (None, and why, when they cannot run)."""
    if row.statements is None:
        refused[row.version] = "no stored statements"
        return None
    path = (directory or Path()) / row.filename  # where `drift --capture` would write it
    try:
        return parse_migration(row.file_text().encode(), row.version, row.name, path, f"history row {row.version}")
    except MigrationFileError as exc:
        refused[row.version] = str(exc.problems[0]) if exc.problems else str(exc)
        return None


def check(target: Target, migrations: MigrationSet, *, pg_major: int | None = None, statement_timeout: str = "5min",
          say: Callable[[str], None] | None = None, hooks: Hooks | None = None) -> DriftCheck:
    """Compare `target` with a local replay of its applied migrations: two read-only requests to it (more
    only while deploys commit between them). Raises ReplayFailed when the replay cannot run."""
    say = say or (lambda _: None)
    for attempt in range(1, ATTEMPTS + 1):
        remote = read_remote(target)
        try:
            return _check(target, remote, migrations, pg_major, statement_timeout, say, hooks)
        except QueryError as error:
            if error.sqlstate != HISTORY_CHANGED:
                raise
            say(f"  migration history changed while it was read (a deploy committed): reading it again "
                f"({attempt}/{ATTEMPTS})")
    raise HistoryChanging(f"migration history changed during each of {ATTEMPTS} drift checks: a deploy is "
                          "running; check again when it is done")


def _check(target: Target, remote: Remote, migrations: MigrationSet, pg_major: int | None, statement_timeout: str,
           say: Callable[[str], None], hooks: Hooks | None) -> DriftCheck:
    """One check from one history read. The replay's server starts (initdb, the hosted set-up: about a
    second) while the target's catalog is read; a replay done before on this machine, of the same files set
    up the same way, is taken from the cache."""
    history = remote.history
    major, why = replay_major(pg_major, history.server_version_num)
    rows = unexplained(history.rows, migrations)
    edited = edited_files(history, migrations)
    replayed, from_history, refused = replay_set(history, migrations, rows, {m.version for m in edited})
    scope = touched(replayed)
    request = catalog_sql(scope)
    kept = cache.key(major, remote.supabase_default_privileges, request, replayed)
    result = cache.load(kept)
    local = LocalTarget(major, why, default_privileges=remote.supabase_default_privileges, on_wait=say)
    with ThreadPoolExecutor(1, thread_name_prefix="drift-replay") as pool:
        starting = pool.submit(local.run, "SELECT 1") if result is None else None
        try:
            unchanged = fill(HISTORY_UNCHANGED, DIGEST=literal(remote.digest) if remote.digest else "NULL",
                             CHANGED=HISTORY_CHANGED)
            production = parse_catalog(single_json(read_only(target, request + unchanged)), scope)
            say(f"  the database: {len(history.rows)} history row(s), {len(production.objects)} object(s) in scope; "
                f"the replay of {len(replayed)} migration(s) on local PostgreSQL {major} ({why}): "
                + ("taken from this machine's cache (same files, same set-up)" if result is not None else "running"))
            if starting is not None:
                result = _replayed_catalog(local, starting, replayed, request, statement_timeout, hooks)
                cache.store(kept, result)
        finally:
            if starting is not None:
                wait([starting])  # never close a server that is still being set up: it would outlive the run
            local.close()
    replay = parse_catalog(result, scope)
    applied = set(history.versions)
    pending = [m for m in migrations.migrations if m.version not in applied]
    differences, in_flight = _in_flight(diff(production, replay, SIDES), production, pending)
    return DriftCheck(history, rows, refused, edited, replayed, pending, scope, production, replay, differences,
                      major, why, from_history, in_flight)


def _in_flight(differences: list[Difference], production: Catalog, pending: list[Migration]
               ) -> tuple[list[Difference], list[Difference]]:
    """Objects on the target only that a pending non-transactional file makes: it ran part-way (its progress
    is kept; a failed CREATE INDEX CONCURRENTLY leaves an INVALID index), and the next deploy resumes it.
    Files in a transaction never leave anything behind, so nothing of theirs is excused."""
    locator = Locator(m for m in pending if not m.transactional)
    kept: list[Difference] = []
    excused: list[Difference] = []
    for difference in differences:
        obj = production.get(difference.key)
        parent = obj.parents[0] if obj is not None and obj.parents else None
        made = difference.change is Change.EXTRA and locator.made(difference, parent)
        (excused if made else kept).append(difference)
    return kept, excused


def _replayed_catalog(local: LocalTarget, starting: Any, replayed: list[Migration], request: str,
                      statement_timeout: str, hooks: Hooks | None) -> Any:
    """Every replayed migration in one transaction (split only by non-transactional files), then the
    catalog; whatever stops it is a ReplayFailed."""
    try:
        starting.result()
        deploy(local, MigrationSet(tuple(replayed), ()), PlanOptions(include_all=True),
               ApplyOptions(tx_mode=TxMode.ALL, statement_timeout=statement_timeout), hooks)
        return single_json(read_only(local, request))
    except (SupadeployError, QueryError, OSError) as exc:
        raise ReplayFailed(f"the applied migrations could not be replayed on {local.label}, so drift cannot be "
                           f"computed: {exc}", exc, local) from None
