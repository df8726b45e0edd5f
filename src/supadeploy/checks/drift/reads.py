"""What drift reads from the target, and how: read-only requests only (the Management API's read-only
endpoint where there is one, a read-only transaction elsewhere), so `supadeploy drift` cannot change the
database it inspects, and a token scoped to `database:read` is enough for it."""

from __future__ import annotations

from dataclasses import dataclass

from ...engine.history import History, parse_history
from ...sqltext import sql_file
from ...targets.base import Target, read_only, single_json

HISTORY_SQL = sql_file("supadeploy.checks.drift", "sql/history.sql")


@dataclass(frozen=True)
class Remote:
    """What the first read says: history, and how the replay must be set up."""

    history: History
    supabase_default_privileges: bool  # new tables in public are granted to the API roles (older projects)
    digest: str | None  # of the history rows, to see that they did not change before the catalog was read


def read_remote(target: Target) -> Remote:
    """The history table's rows (whatever columns it has), whether it exists, the server's version and the
    platform's default privileges: one request."""
    result = single_json(read_only(target, HISTORY_SQL))
    return Remote(parse_history(result), bool(result.get("supabase_default_privileges")), result.get("digest"))


def read_history(target: Target) -> History:
    return read_remote(target).history
