"""A lost answer: nothing is resent blindly.

The engine reads history and whether the transaction is still running on the server (by its
application_name tag), waits for it if it is, and resends only when history proves nothing committed. When
that cannot be settled, the run ends with status `unknown`, naming the versions in doubt.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import Interrupted, OutcomeUnknownError, TargetError
from ..model import MigrationStatus
from ..targets.base import QueryError, single_json
from . import requests
from .history import parse_history
from .migrations import Migration
from .run import Replan, RunContext

SETTLE_LIMIT_S = 1800.0  # longest wait for a lost transaction still running on the server


def settle(run: RunContext, batch: list[Migration], tag: str, why: str, limit: float = SETTLE_LIMIT_S
           ) -> dict[str, Any]:
    """After a lost answer: did the transaction commit? Wait while it still runs; Replan if it did not."""
    versions = [m.version for m in batch]
    deadline = time.monotonic() + limit
    delay = 0.5
    announced = False
    while True:
        try:
            answer = single_json(run.target.run(requests.settle(tag), safe_to_resend=True))
        except (TargetError, QueryError) as exc:
            raise OutcomeUnknownError(in_doubt(versions, f"{why}; migration history could not be read afterwards "
                                                         f"({exc})")) from None
        history = parse_history(answer)
        applied = history.by_version()
        recorded = [v in applied for v in versions]
        if all(recorded):
            run.hooks.waiting(f"{why}; history shows it committed")
            return {"applied": {}, "reconciled": True}
        if int(answer.get("running") or 0) == 0:
            if len(batch) > 1 and any(recorded):  # a pack: this request or a racer committed some
                raise Replan(concurrent=True, history=history, reason=(
                    f"{why}; history shows {sum(recorded)} of its {len(batch)} files committed (by this request or "
                    "a racing deploy; history does not say which): planning the rest again"))
            if any(recorded):
                raise Replan(concurrent=True, history=history)  # ours rolled back; a racer applied some
            raise Replan(concurrent=False, reason=why, history=history)
        if time.monotonic() > deadline:
            raise OutcomeUnknownError(in_doubt(versions, f"{why}; after {limit:.0f} s the transaction is still "
                                                         "running on the server"))
        if not announced:
            run.hooks.waiting(f"{why}; the transaction is still running on the server (application_name "
                              f"{tag}): waiting for it to finish before deciding anything")
            announced = True
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def in_doubt(versions: list[str], why: str) -> str:
    return (f"{why}. Whether the transaction applying {', '.join(versions)} committed is unknown; nothing was "
            "sent again. Run `supadeploy status` to see what history says before deploying again.")


def interrupted(run: RunContext, batch: list[Migration], tag: str) -> Exception:
    """Interrupted while a transaction was in flight: say what became of it, as far as can be told quickly."""
    versions = [m.version for m in batch]
    if run.options.dry_run:
        return Interrupted("interrupted during a dry run: nothing was committed (a dry run always rolls back)")
    try:
        run.target.close()  # a half-read answer cannot be reused
        settle(run, batch, tag, "interrupted", limit=5.0)
    except Replan:
        return Interrupted(f"interrupted: the transaction applying {', '.join(versions)} did not commit "
                           "(history confirms); nothing further was sent")
    except (OutcomeUnknownError, KeyboardInterrupt, Exception):  # noqa: BLE001 - any failure leaves it in doubt
        return OutcomeUnknownError(in_doubt(versions, "interrupted while a deploy transaction was in flight"))
    for migration in batch:
        run.emit(migration, MigrationStatus.APPLIED, message="committed before the interruption")
    return Interrupted(f"interrupted after the transaction applying {', '.join(versions)} committed (history "
                       "confirms); nothing further was sent")
