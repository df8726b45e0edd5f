"""Who is in the way: sessions holding locks on the tables a deploy locks, or holding the deploy lock itself.

A migration that waits for ACCESS EXCLUSIVE behind a long transaction blocks every query that arrives after
it, so a real deploy looks first (the sessions come with the history read) and refuses instead of queueing.
Every message that names such a session says the same things the same way (`session_text`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from ..errors import OutcomeUnknownError, PlanRefused, SupadeployError, TargetError
from ..model import Problem
from ..sqltext import qualified
from ..targets.base import QueryError
from .history import History
from .migrations import Migration
from .plan import Plan

# Statements that take a lock blocking writes (or reads) on the tables they name.
STRONG_LOCK_KINDS = frozenset({"AlterTableStmt", "IndexStmt", "CreateTrigStmt", "CreateStmt", "RenameStmt",
                               "DropStmt", "TruncateStmt", "CreatePolicyStmt", "AlterPolicyStmt", "LockStmt",
                               "VacuumStmt", "ClusterStmt", "ReindexStmt", "RuleStmt"})

# A transaction open this long on a table a migration locks would make the deploy queue (seconds).
BLOCKER_AGE_S = float(os.environ.get("SUPADEPLOY_BLOCKER_AGE") or 5)

Session = dict[str, Any]  # a row of requests.lock_holders / DEPLOY_LOCK_HOLDERS / a target's blockers()


def locked_tables(migrations: list[Migration] | tuple[Migration, ...]) -> list[str]:
    """The tables these migrations' DDL names (quoted, schema-qualified when the file qualifies them)."""
    return list(dict.fromkeys(qualified(schema, name) for migration in migrations
                              for statement in migration.statements if statement.kind in STRONG_LOCK_KINDS
                              for schema, name in statement.relations))


def short_name(name: str) -> str:
    """A table's name without its schema or quotes, to match names written with and without a schema."""
    return name.split(".")[-1].strip('"')


def session_text(session: Session) -> str:
    """`pid 123 holds ShareLock on public.t (app, idle in transaction, 12 s into its transaction: 'query')`."""
    what = f" holds {session['mode']} on {session['relation']}" if session.get("mode") else ""
    facts = [str(session.get("application") or session.get("user") or "unknown")]
    if session.get("state"):
        facts.append(str(session["state"]))
    if session.get("seconds") is not None:
        facts.append(f"{session['seconds']} s into its transaction")
    query = f": {str(session['query'])[:200]!r}" if session.get("query") else ""
    return f"pid {session['pid']}{what} ({', '.join(facts)}{query})"


def sessions_text(sessions: list[Session], limit: int = 5) -> str:
    return "; ".join(session_text(s) for s in sessions[:limit])


def refuse_behind_blockers(plan: Plan, history: History) -> None:
    """Report, instead of queueing behind, sessions in long transactions on the tables pending migrations lock."""
    touched = {short_name(name) for name in locked_tables(plan.pending)}
    long_running = [b for b in history.blockers
                    if short_name(b["relation"]) in touched and float(b.get("seconds") or 0) >= BLOCKER_AGE_S]
    if not long_running:
        return
    problems = [Problem(
        f"{session_text(b)}, and a pending migration locks that table: the "
        "migration would queue behind it, and every query on the table behind the migration. Let it finish or "
        f"end it (select pg_terminate_backend({b['pid']})), then deploy. The deploy was refused: nothing was sent",
        title="Long transaction on a table the deploy locks") for b in long_running]
    raise PlanRefused(f"deploy refused: {len(problems)} long transaction(s) hold locks on tables it would lock; "
                      "nothing was sent", problems)


def deploy_lock_text(holders: list[Session], lock_wait: str) -> str:
    who = sessions_text(holders) or "it had finished by the time supadeploy looked"
    return f"another deploy held supadeploy's lock on this database for longer than --lock-wait ({lock_wait}): {who}"


def deploy_lock_refused(error: QueryError, lock_wait: str, run_tag: str, attempts: Mapping[str, list[str]],
                        what: str = "nothing was run") -> SupadeployError:
    """The deploy lock was not granted within --lock-wait (requests.DEPLOY_LOCK_WAIT): a wait, not a finding on
    any file. Held by another deploy: who, for how long, what to do. Held under this deploy's own tag: an
    earlier attempt of this deploy whose answer was lost is still running, and may still commit."""
    try:
        holders = [h for h in json.loads(error.detail or "[]") if isinstance(h, dict)]
    except ValueError:
        holders = []
    own = [h for h in holders if run_tag and str(h.get("application") or "").startswith(run_tag)]
    if not own:
        return TargetError(f"waiting for another deploy: {deploy_lock_text(holders, lock_wait)}; {what}. Retry "
                           "when it has finished, or raise --lock-wait.")
    versions = sorted({v for h in own for v in attempts.get(str(h.get("application")), [])})
    applying = (f"applying {', '.join(versions)}" if versions else
                "supadeploy's own bookkeeping, no migration")
    return OutcomeUnknownError(
        f"an earlier attempt of this deploy, whose answer was lost, still held supadeploy's lock on this database "
        f"after --lock-wait ({lock_wait}): {sessions_text(own)}. It was not another deploy: that transaction "
        f"({applying}) is still open on the server and may still commit; {what}. Run `supadeploy status` once it "
        "has finished to see what history says, then deploy again.")
