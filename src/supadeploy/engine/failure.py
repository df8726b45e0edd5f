"""A PostgreSQL error → file, line, column, SQLSTATE and an explanation, without running anything again.

The error's position (psycopg, or the caret postgres-meta draws, inverted by the API target) is mapped
through the request's `Script` to a statement of a file. Without a position, the cursor mark the
transaction reached (a sequence value survives the rollback) names the statement; one more read says who
held the locks the statement waited for.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import MigrationFailed, TargetError
from ..model import Problem, SqlError
from ..sqltext import qualified
from ..targets.base import NOT_REPLAYABLE, QueryError, single_json
from . import requests
from .blockers import sessions_text, short_name
from .migrations import Migration, Statement
from .requests import Script
from .run import ApplyOptions, RunContext

NOT_INSTALLED = "not-installed"  # a Problem kind: a migration needs an extension the database lacks
_MISSING_EXTENSION = re.compile(r'extension "([^"]+)" (is not available|has no installation script)|'
                                r'could not open extension control file ".*/([^/]+)\.control"')


def missing_extension(message: str) -> str | None:
    """The extension an error says is not installed, if that is what it says."""
    match = _MISSING_EXTENSION.search(message)
    return (match.group(1) or match.group(3)) if match else None


def sql_message(error: QueryError, context: bool = True) -> str:
    """`SQLSTATE: message`, then PostgreSQL's DETAIL, HINT (and CONTEXT) lines, as psql shows them."""
    text = f"{error.sqlstate}: {error.message}"
    for label, value in (("DETAIL", error.detail), ("HINT", error.hint), ("CONTEXT", error.context if context else None)):
        if value:
            text += f"\n{label}: {value}"
    return text


def _diagnose(run: RunContext, batch: list[Migration]) -> dict[str, Any]:
    names = sorted({qualified(schema, name) for m in batch for s in m.statements for schema, name in s.relations})
    try:
        return dict(single_json(run.target.run(requests.diagnose(names), safe_to_resend=True)) or {})
    except (QueryError, TargetError):
        return {}


def transaction_failed(run: RunContext, script: Script, batch: list[Migration], error: QueryError
                       ) -> tuple[MigrationFailed, Migration | None]:
    """The failure of one transaction, at the file and line that caused it, and which file that was."""
    position = error.position
    located = script.locate(position) if position else None
    diagnosis: dict[str, Any] = {}
    own_sql = False
    mark = None
    if located is None:
        diagnosis = _diagnose(run, batch)
        mark = script.mark_at(diagnosis.get("cursor"))
        if mark is not None and mark.statement is not None:
            located = (mark.migration, mark.statement, 0)
        elif mark is not None:
            own_sql = True  # bookkeeping after the statements: the history row
        elif script.base or (error.sqlstate == "55P03" and diagnosis.get("advisory")):
            own_sql = True  # before the first statement: the lock wait or the guard
    precise = located is not None  # the offset inside the statement is the error's own
    if position is None and located is not None:
        inside = _inside(located, error)
        located, precise = inside or located, inside is not None
    migration: Migration | None
    column = source = in_statement = None
    line: int | None = None
    if located is not None:
        migration, statement, offset = located
        line = migration.line_at(statement.offset + offset) if precise else statement.line
        if precise:
            source = migration.source_line(line)
            column = statement.offset + offset - _line_start(migration.text, statement.offset + offset) + 1
            in_statement = offset + 1  # the request's position is in the whole script, not the statement
    elif mark is not None:
        migration = mark.migration
    else:
        migration = batch[0] if len(batch) == 1 else None
    text = sql_message(error) + _explain(error, run.options, own_sql, located, diagnosis, batch)
    title = f"Migration {migration.version} failed" if migration else "Migration failed"
    sql = SqlError(error.sqlstate, error.message, in_statement, column, source, error.detail, error.hint,
                   error.context)
    kind = NOT_INSTALLED if error.sqlstate == NOT_REPLAYABLE or missing_extension(error.message) else None
    problem = Problem(text + "\nNothing of this transaction was committed.",
                      file=migration.display_path if migration else None, line=line, title=title, sql=sql, kind=kind)
    return MigrationFailed(str(problem), [problem]), migration


_NEAR = re.compile(r'at or near "((?:[^"]|"")+)"')


def _inside(located: tuple[Migration, Statement, int], error: QueryError) -> tuple[Migration, Statement, int] | None:
    """An error in a text the statement carries (a PL/pgSQL body checked at CREATE FUNCTION): PostgreSQL
    names that text and, on a direct connection, the position in it; through the API only the text, so the
    token it is "at or near" is looked for in it, and used when it occurs once."""
    migration, statement, _ = located
    body = error.internal_query
    if not body or statement.text.count(body) != 1:
        return None
    at = error.internal_position
    if at is None:
        near = _NEAR.search(error.message)
        token = near.group(1).replace('""', '"') if near else None
        # the token itself, not inside a longer word or a quoted string
        found = list(re.finditer(r"(?<![\w'\"$])" + re.escape(token) + r"(?![\w'\"$])", body)) if token else []
        if len(found) != 1:
            return None
        at = found[0].start() + 1
    return migration, statement, statement.text.index(body) + at - 1


def _explain(error: QueryError, options: ApplyOptions, own_sql: bool,
             located: tuple[Migration, Statement, int] | None, diagnosis: dict[str, Any],
             batch: list[Migration]) -> str:
    """The setting that fired, who held the lock, or which directive a statement needs."""
    if error.sqlstate == "55P03":
        if own_sql and located is None:  # not the deploy lock (that wait ends in DEPLOY_LOCK_WAIT): its bookkeeping
            return (f"\nHINT: a lock on supadeploy's own bookkeeping (the history tables in supabase_migrations) was "
                    f"not granted within lock_timeout ({options.lock_timeout}): another session holds a lock on "
                    "one of them (a long transaction reading or changing migration history). No statement of the "
                    "file was at fault; retry when that session has finished.")
        tables = {short_name(qualified(s, n)) for s, n in located[1].relations} if located else set()
        holders = [h for h in diagnosis.get("holders") or [] if not tables or short_name(h["relation"]) in tables]
        return (f"\nHINT: a lock was not granted within lock_timeout ({options.lock_timeout}). "
                + (f"Held by: {sessions_text(holders)}." if holders else
                   "Its holder had finished by the time supadeploy looked.")
                + " Retry when the table is less busy, or raise --lock-timeout.")
    if error.sqlstate == "57014":
        return f"\nHINT: statement_timeout ({options.statement_timeout}) was reached; raise --statement-timeout."
    if error.sqlstate == "55P04":
        return ("\nHINT: a value added by ALTER TYPE ... ADD VALUE cannot be used in the transaction that added it; "
                "put the ALTER TYPE in its own migration, or run the file outside a transaction with "
                "`-- supadeploy: transaction=false` on its first line.")
    if located is None and not own_sql and len(batch) > 1:
        return "\nHINT: the statement could not be located; it is in one of: " + ", ".join(
            m.filename for m in batch)
    return ""


def _line_start(text: str, offset: int) -> int:
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
