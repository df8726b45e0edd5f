"""Target `postgres`: a direct database URL, through psycopg 3.

Texts are sent with the simple query protocol on an autocommit connection, so
several statements run as one implicit transaction, as on the Management API.
A transaction too big for one text (a data migration of hundreds of thousands
of statements) is sent in pieces of whole statements inside BEGIN … COMMIT
(`run_pieces`): memory follows the piece, and an error's position is given in
the whole text, as if it had been sent at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..connstr import check, describe
from ..errors import ConfigError, OutcomeUnknown, TargetError
from .base import QueryError, Row, WaitHook

BLOCKERS = """\
SELECT b.pid, b.usename AS "user", b.application_name AS application, b.state, left(b.query, 200) AS query
FROM pg_catalog.pg_stat_activity w
CROSS JOIN LATERAL unnest(pg_catalog.pg_blocking_pids(w.pid)) AS blocker(pid)
JOIN pg_catalog.pg_stat_activity b ON b.pid = blocker.pid
WHERE w.application_name = %s
"""


class PostgresTarget:
    name = "postgres"
    sticky_session = True  # one connection: session settings and locks carry between requests

    def __init__(self, dsn: str, connect_timeout: int = 10) -> None:
        self._dsn = dsn
        self._connect_timeout = connect_timeout
        self._conn: Any = None
        self.round_trips = 0
        self.on_wait: WaitHook | None = None
        self.warnings: list[str] = []

    @property
    def label(self) -> str:

        return describe(self._dsn)

    def _connection(self) -> Any:
        import psycopg  # noqa: PLC0415 - heavy: loaded on first use
        from psycopg.rows import dict_row  # noqa: PLC0415 - heavy: loaded on first use

        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(self._dsn, autocommit=True, row_factory=dict_row,
                                             connect_timeout=self._connect_timeout,
                                             application_name="supadeploy")
            except psycopg.OperationalError as exc:
                raise ConfigError(f"cannot connect to the database: {_first_line(exc)}") from None
            except psycopg.ProgrammingError as exc:
                raise ConfigError(f"invalid database URL: {_first_line(exc)}") from None
        return self._conn

    def run(self, sql: str, safe_to_resend: bool = False) -> list[Row]:
        try:
            return self._run_once(sql)
        except OutcomeUnknown:
            if not safe_to_resend:
                raise
            return self._run_once(sql)  # a fresh connection, once

    def run_pieces(self, pieces: Callable[[], Iterable[tuple[int, str]]], safe_to_resend: bool = False) -> list[Row]:
        """One transaction sent as consecutive pieces of whole statements, (offset in the text, text) each;
        answers as `run` would for the whole text."""
        try:
            return self._stream_once(pieces())
        except OutcomeUnknown:
            if not safe_to_resend:
                raise
            return self._stream_once(pieces())  # a fresh connection, once

    def _stream_once(self, pieces: Iterable[tuple[int, str]]) -> list[Row]:
        rows: list[Row] = []
        try:
            for number, (start, text) in enumerate(pieces):
                head = "BEGIN;\n" if number == 0 else ""
                try:
                    rows = self._run_once(head + text) or rows
                except QueryError as error:
                    self._roll_back()
                    position = error.position
                    moved = position - len(head) + start if position and position > len(head) else None
                    raise replace(error, position=moved) from None
            self._run_once("COMMIT;\n")  # an error here (a deferred constraint) has already rolled it back
            return rows
        except (QueryError, OutcomeUnknown):
            raise
        except BaseException:
            self.close()  # interrupted with the transaction open: the server rolls it back
            raise

    def _roll_back(self) -> None:
        """End the failed transaction (an error left it aborted) so the connection can be used again."""
        try:
            self._run_once("ROLLBACK;\n")
        except (QueryError, OutcomeUnknown):
            self.close()

    def _run_once(self, sql: str) -> list[Row]:
        import psycopg  # noqa: PLC0415 - heavy: loaded on first use

        conn = self._connection()
        self.round_trips += 1
        try:
            cursor = conn.execute(sql)
        except psycopg.Error as exc:
            diag = exc.diag
            if exc.sqlstate is None or conn.closed or conn.broken:
                self.close()
                raise OutcomeUnknown(
                    f"the database connection was lost during a request: {_first_line(exc)}") from None
            position = diag.statement_position
            raise QueryError(exc.sqlstate, diag.message_primary or _first_line(exc),
                             int(position) if position else None,
                             diag.message_detail, diag.message_hint, diag.context, diag.internal_query,
                             int(diag.internal_position) if diag.internal_position else None) from None
        rows: list[Row] = []
        while True:
            if cursor.description is not None:
                batch = cursor.fetchall()
                if batch:
                    rows = batch
            if not cursor.nextset():
                break
        return rows

    def blockers(self, tag: str) -> list[dict[str, Any]]:
        """Who the request tagged `tag` waits for, asked on a second connection while it waits."""
        import psycopg  # noqa: PLC0415 - heavy: loaded on first use
        from psycopg.rows import dict_row  # noqa: PLC0415 - heavy: loaded on first use

        try:
            with psycopg.connect(self._dsn, autocommit=True, row_factory=dict_row, connect_timeout=5,
                                 application_name="supadeploy watcher") as conn:
                return conn.execute(BLOCKERS, (tag,)).fetchall()
        except psycopg.Error:
            return []

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self._conn = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_dsn(dsn: str) -> None:

    check(dsn)


__all__ = ["PostgresTarget", "QueryError", "TargetError", "check_dsn"]
