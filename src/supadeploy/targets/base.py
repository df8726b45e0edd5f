"""The one small interface every target implements.

A target runs one SQL text per round trip. Several statements in one text run
as one implicit transaction, and the answer is the rows of the last result set
that has rows: exactly what the Management API's query endpoint does, so the
engine never needs to know which target it talks to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import TargetError

Row = dict[str, Any]


@dataclass
class QueryError(Exception):
    """PostgreSQL rejected the text; nothing of it was committed."""

    sqlstate: str
    message: str
    position: int | None = None  # 1-based character offset in the text sent
    line: int | None = None  # 1-based line in the text sent, when only that is known
    detail: str | None = None
    hint: str | None = None
    context: str | None = None

    def __str__(self) -> str:
        return f"{self.sqlstate}: {self.message}"


class Target(Protocol):
    name: str
    round_trips: int

    def run(self, sql: str) -> list[Row]:
        """Send one text; return the last result set that has rows; raise QueryError."""

    def close(self) -> None:
        """Release connections and anything the target started."""


def single_json(rows: list[Row], column: str = "result") -> Any:
    """The JSON value of a `SELECT ... AS result` answer, as every target returns it."""
    if len(rows) != 1 or column not in rows[0]:
        raise TargetError(f"expected one row with a {column!r} column, got {rows!r:.200}")
    value = rows[0][column]
    return json.loads(value) if isinstance(value, str) else value


_MESSAGE_RE = re.compile(r"^(?:ERROR|FATAL|PANIC):\s+(?:([0-9A-Z]{5}):\s+)?(.*)$", re.S)


def parse_postgres_error_text(text: str, sent_sql: str | None = None) -> QueryError:
    """Parse postgres-meta's error text back into a structured error.

    Format (postgres-meta `src/lib/db.ts`): `ERROR:  <SQLSTATE>: <message>`, then
    optionally `LINE n: <line>` with a caret under column `7 + len(str(n)) + offset`,
    `DETAIL:  `, `HINT:  `, `QUERY:  `, `CONTEXT:  `. With the text that was sent,
    LINE and caret give back the exact 1-based character position.
    """
    body = text.split("Failed to run sql query: ", 1)[-1]
    lines = body.split("\n")
    match = _MESSAGE_RE.match(lines[0].strip()) if lines else None
    sqlstate, message = ((match.group(1) or "XX000"), match.group(2)) if match else ("XX000", body.strip())
    fields: dict[str, str] = {}
    line_no: int | None = None
    position: int | None = None
    for index, current in enumerate(lines[1:], start=1):
        line_match = re.match(r"^LINE (\d+): ", current)
        if line_match:
            line_no = int(line_match.group(1))
            caret = lines[index + 1] if index + 1 < len(lines) else ""
            if caret.strip() == "^" and sent_sql is not None:
                column = caret.index("^") - (7 + len(str(line_no)))
                sent_lines = sent_sql.split("\n")
                if 0 < line_no <= len(sent_lines) and column >= 0:
                    position = sum(len(x) + 1 for x in sent_lines[:line_no - 1]) + column + 1
            continue
        for key in ("DETAIL", "HINT", "CONTEXT"):
            if current.startswith(key + ":"):
                fields[key] = current[len(key) + 1:].strip()
    return QueryError(sqlstate, message, position, line_no, fields.get("DETAIL"),
                      fields.get("HINT"), fields.get("CONTEXT"))
