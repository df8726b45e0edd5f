"""The one small interface every target implements.

A target runs one SQL text per round trip. Several statements in one text run
as one implicit transaction, and the answer is the rows of the last result set
that has rows: exactly what the Management API's query endpoint does, so the
engine never needs to know which target it talks to.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import TargetError

Row = dict[str, Any]


# SQLSTATE of what the local replay cannot do that a hosted project can (a stand-in's call out, a superuser's
# statement): reported as not available in the replay, never as a broken migration. The platform's SQL raises
# it too (platform/extensions/, platform/sql/).
NOT_REPLAYABLE = "SDL01"


@dataclass
class QueryError(Exception):
    """PostgreSQL rejected the text; nothing of it was committed."""

    sqlstate: str
    message: str
    position: int | None = None  # 1-based character offset in the text sent
    detail: str | None = None
    hint: str | None = None
    context: str | None = None
    # An error inside a text the statement carried (a PL/pgSQL body, a dynamic query): that text and the
    # 1-based position in it (PostgreSQL's internal query; through the API the text only).
    internal_query: str | None = None
    internal_position: int | None = None

    def __str__(self) -> str:
        return f"{self.sqlstate}: {self.message}"


WaitHook = Callable[[str], None]  # told about every wait as it starts (retries, rate limits)

# The first statement of a text that must change nothing: PostgreSQL then refuses any write in it (25006).
READ_ONLY = "SET TRANSACTION READ ONLY;\n"


class Target(Protocol):
    name: str  # the kind: local | postgres | api
    # True when consecutive requests share one database session (a direct
    # connection): session settings and session-level advisory locks then
    # carry from one request to the next. The Management API pools sessions.
    sticky_session: bool
    on_wait: WaitHook | None
    warnings: list[str]  # what the target noticed about its settings (e.g. a token of an unusual shape)

    @property
    def round_trips(self) -> int:
        """Requests sent so far."""

    @property
    def label(self) -> str:
        """Which database, for people: host, port and database, or the project ref. Never a secret."""

    def run(self, sql: str, safe_to_resend: bool = False) -> list[Row]:
        """Send one text; return the last result set that has rows; raise QueryError.

        `safe_to_resend` says the text changes nothing lasting (a read, or
        work that is always rolled back), so a target may resend it after a
        lost answer; otherwise a lost answer raises OutcomeUnknown.
        """

    def blockers(self, tag: str) -> list[Row]:
        """The sessions the request tagged `tag` (application_name) is waiting for, asked while it waits
        (on a second connection; [] where there is none, as through the Management API)."""

    def close(self) -> None:
        """Release connections and anything the target started."""


def read_only(target: Target, sql: str) -> list[Row]:
    """A read that changes nothing: on the Management API's read-only endpoint where the target has one
    (`read`), else in a read-only transaction; safe to resend either way."""
    reader = getattr(target, "read", None)
    if callable(reader):
        rows: list[Row] = reader(sql)
        return rows
    return target.run(READ_ONLY + sql, safe_to_resend=True)


def single_json(rows: list[Row], column: str = "result") -> Any:
    """The JSON value of a `SELECT ... AS result` answer, as every target returns it."""
    if len(rows) != 1 or column not in rows[0]:
        raise TargetError(f"expected one row with a {column!r} column, got {rows!r:.200}")
    value = rows[0][column]
    return json.loads(value) if isinstance(value, str) else value
