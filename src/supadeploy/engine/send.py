"""Sending a deploy transaction: in one request, or over a direct connection in pieces of whole statements.

A data migration can be hundreds of thousands of statements. On a direct connection (`run_pieces`) its
transaction goes in pieces of about PIECE characters inside one BEGIN … COMMIT: memory follows the piece,
not the file, and each round trip carries thousands of statements where psql sends one. The cursor marks
and an error's position (given in the whole text) locate a failure at its file and line as before.

Through the Management API a transaction is one request, and its body has a limit (the target's
`max_body`): a file whose transaction cannot fit is refused before anything is sent, at the file, naming
the limit, never answered by a confusing HTTP 413 halfway through a deploy.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import MigrationFileError
from ..model import Problem
from ..targets.api import body_size
from ..targets.base import Row, Target
from .migrations import Migration
from .requests import Script

PIECE = 1 << 20  # characters per round trip when a direct connection sends a transaction in pieces
_MARGIN = 4096  # a non-transactional statement's request wraps it in a session reset and bookkeeping


def transaction(target: Target, script: Script, safe_to_resend: bool) -> list[Row]:
    """Send one deploy transaction; answer as `Target.run` does."""
    streamer = getattr(target, "run_pieces", None)
    if callable(streamer) and script.length > PIECE:
        rows: list[Row] = streamer(lambda: script.pieces(PIECE), safe_to_resend)
        return rows
    return target.run(script.text, safe_to_resend=safe_to_resend)


def refuse_oversized(target: Target, pending: list[Migration], script_of: Callable[[list[Migration]], Script]
                     ) -> None:
    """Before anything is sent: every pending file's request must fit the target's body limit, if it has one.

    `script_of` builds the transaction of one file as the deploy would (its tracer and probe included).
    """
    limit: int | None = getattr(target, "max_body", None)
    if not limit:
        return
    problems = []
    for migration in pending:
        size = body_size(migration.text)  # a lower bound, cheap: a huge file is not built to be refused
        if size <= limit:
            if migration.transactional:
                size = body_size(script_of([migration]).text)
            else:  # statement by statement, each in a request of its own
                size = max((body_size(s.text) + _MARGIN for s in migration.statements), default=0)
        if size > limit:
            problems.append(Problem(
                f"{migration.filename} is too big for one Management API request: "
                + ("its transaction" if migration.transactional else "its largest statement")
                + f" would be a {_mib(size)} request body, and the query endpoint (postgres-meta) refuses bodies "
                f"above {_mib(limit)}. Deploy it with --db-url (a direct connection sends a big transaction in "
                "pieces), or split it into smaller migrations. Nothing was applied",
                file=migration.display_path, line=1, title="Migration too big for the API"))
    if problems:
        raise MigrationFileError(f"{len(problems)} migration(s) too big for the Management API", problems)


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"
