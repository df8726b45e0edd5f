"""`drift --capture`'s writes: the new migration file, and its row in the target's history written as the
Supabase CLI writes one (version, name, statements as the file splits), so the next deploy, `supabase db
push` and `supabase migration list` all see it applied. Nothing of the captured DDL runs on the target:
the target already has it; it is the repository that lacked it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from ...engine import requests
from ...engine.history import parse_history
from ...engine.migrations import FILENAME_RE, Migration, parse_migration
from ...errors import ConfigError, OutcomeUnknown, TargetError
from ...targets.base import QueryError, Target, single_json
from .history import UnexplainedRow
from .reads import read_history

CAPTURE_NAME = "drift_capture"
TIMESTAMP = "%Y%m%d%H%M%S"  # the Supabase CLI's `migration new` versions


def next_version(versions: Iterable[str], now: datetime | None = None) -> str:
    """A version after every local and remote one, compared as text (as the CLI and the plan compare them):
    a UTC timestamp where the folder uses them (or is empty), else the next number at the same width."""
    known = [v for v in versions if v]
    stamp = (now or datetime.now(UTC)).strftime(TIMESTAMP)
    if all(len(v) == len(stamp) for v in known):
        newest = max(known, default="")
        return stamp if stamp > newest else str(int(newest) + 1)
    newest = max(known)
    width = max(len(v) for v in known)
    candidate = str(max(int(v) for v in known) + 1).zfill(width)
    if candidate <= newest:
        raise ConfigError(f"no version sorts after {newest} at width {width}: name the capture file yourself "
                          f"(write the SQL --capture prints into a migration after {newest})")
    return candidate


def fetchable(rows: Iterable[UnexplainedRow], directory: Path) -> tuple[list[UnexplainedRow], dict[str, str]]:
    """History rows that can be written as files, and why the others cannot."""
    chosen: list[UnexplainedRow] = []
    refused: dict[str, str] = {}
    for row in rows:
        if row.matches:
            refused[row.version] = f"{row.matches[0].path} holds the same statements under another version"
        elif row.statements is None:
            refused[row.version] = "it has no stored statements"
        elif not FILENAME_RE.match(row.filename):
            refused[row.version] = "its version is not a migration version (digits)"
        elif (directory / row.filename).exists():
            refused[row.version] = f"{row.filename} exists already"
        else:
            chosen.append(row)
    return chosen, refused


def write_capture(text: str, directory: Path, version: str, display_root: Path | None) -> Migration:
    """Write the captured migration (never over a file) and read it back as the loader would."""
    path = directory / f"{version}_{CAPTURE_NAME}.sql"
    if path.exists():
        raise ConfigError(f"{path} exists already; not overwritten")
    data = text.encode("utf-8")
    shown = str(path.relative_to(display_root)) if display_root and path.is_relative_to(display_root) else str(path)
    migration = parse_migration(data, version, CAPTURE_NAME, path, shown)  # refuses before anything is written
    path.write_bytes(data)
    return migration


def record_applied(target: Target, migration: Migration, lock_wait: str) -> None:
    """The history row (and supadeploy's log row) of a migration the target already has, under the deploy
    lock, guarded like a deploy: if the version is there already, nothing is written."""
    history = read_history(target)
    history.refuse_unwritable()
    if not history.ready:
        history = parse_history(single_json(target.run(history.ensure(lock_wait), safe_to_resend=True)))
    body = (requests.guard(migration.version) + requests.start_row(migration, history.writes)
            + requests.history_row(migration, history.writes))
    try:
        target.run(requests.locked(body, lock_wait))
    except QueryError as error:
        if error.sqlstate == requests.ALREADY_APPLIED:
            raise ConfigError(f"version {migration.version} is in the target's history already") from None
        raise TargetError(f"could not record {migration.display_path} in the target's history: {error}") from None
    except OutcomeUnknown:
        if migration.version not in read_history(target).versions:  # settled: the guard makes this exact
            raise TargetError(f"could not record {migration.display_path} in the target's history: the answer "
                              "was lost and history does not have it; run `supadeploy drift --capture` again") from None
