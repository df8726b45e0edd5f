"""Applying a plan: exactly once, atomically per transaction, honest about every outcome.

Each transaction travels as one text (requests.deploy_transaction). Two deploys racing on one database
serialise on an advisory lock; the later one's guard sees the version already applied and stops without
changing anything, and the engine re-plans. Re-planning after a race always makes progress (the guard only
fires when history grew), so racers all finish successfully, however many there are. A lost answer is
settled from history before anything is resent (settle.py); a failure is located at its file and line
(failure.py); a non-transactional file runs statement by statement (nontx.py).
"""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any

from ..errors import OutcomeUnknown, TargetError
from ..model import MigrationStatus
from ..targets.base import QueryError, Target, single_json
from . import requests, send
from .blockers import refuse_behind_blockers, waited_too_long
from .failure import transaction_failed
from .history import History, parse_history, read_history
from .hooks import Hooks
from .migrations import Migration, MigrationSet
from .nontx import apply_non_transactional
from .plan import Plan, PlanOptions, make_plan
from .requests import ALREADY_APPLIED, GATE_FAILED, ROLLED_BACK_ON_PURPOSE, Settings, new_tag
from .run import ApplyOptions, DeployOutcome, Replan, RunContext, TxMode
from .settle import interrupted, settle

MAX_RESENDS = 5  # transactions whose answer was lost and that history proved uncommitted


def deploy(target: Target, migrations: MigrationSet, plan_options: PlanOptions, options: ApplyOptions,
           hooks: Hooks | None = None) -> DeployOutcome:
    """Plan, refuse if unsafe, apply; re-plan when a racing deploy got there first."""
    options.validate()
    hooks = hooks or Hooks()
    results: list[Any] = []
    last_versions: set[str] | None = None
    first_resend_at: float | None = None
    resends: list[str] = []
    known: History | None = None
    while True:
        history, known = known or read_history(target, blockers=list(options.guard)), None
        if last_versions is not None and set(history.versions) == last_versions:
            raise TargetError("the guard reported a concurrent deploy, but history did not change; "
                              "inspect supabase_migrations.schema_migrations")
        plan = make_plan(migrations, history, plan_options)
        hooks.plan(plan)
        plan.refuse_if_blocked()
        if history.blockers:
            refuse_behind_blockers(plan, history)
        outcome = DeployOutcome(plan, results)
        if not plan.pending:
            return outcome
        send.refuse_oversized(target, plan.pending, partial(_script, options, history=history, tag=new_tag(), with_gate=True))
        if not options.dry_run and not history.ready:
            history = _ensure_history(target, history, options)
        try:
            _apply_plan(RunContext(target, options, hooks, outcome, history), plan)
            return outcome
        except Replan as replan:
            known = replan.history
            if replan.concurrent:  # progress is measured against what the plan was made from
                last_versions = set(plan.history.versions)
                hooks.waiting("another deploy applied some of these migrations first: planning again")
                continue
            last_versions = None
            first_resend_at = first_resend_at or time.monotonic()
            resends.append(replan.reason)
            if len(resends) >= MAX_RESENDS:
                raise TargetError(
                    f"{_count_reasons(resends)} over {time.monotonic() - first_resend_at:.1f} s; each time, history "
                    "proved nothing had been committed, so nothing was. The target is failing, not racing: try "
                    "again later") from None
            hooks.waiting(f"{replan.reason}; history proves nothing was committed: sending it again")


def plan_only(target: Target, migrations: MigrationSet, options: PlanOptions) -> Plan:
    """What `deploy` would do, reading history only."""
    return make_plan(migrations, read_history(target), options)


def _count_reasons(reasons: list[str]) -> str:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return "; ".join(f"{reason} (×{n})" for reason, n in counts.items())


def _ensure_history(target: Target, history: History, options: ApplyOptions) -> History:
    """Create what is missing of the history tables in a short transaction of its own, and read them again."""
    try:
        return parse_history(single_json(target.run(requests.ensure_history(history.columns, options.lock_wait),
                                                    safe_to_resend=True)))
    except QueryError as error:
        if error.sqlstate == "55P03":
            raise waited_too_long(target, options.lock_wait) from None
        raise TargetError(f"could not create the migration history tables: {error}") from None


def _batches(pending: list[Migration], options: ApplyOptions) -> list[list[Migration]]:
    """File mode: one transaction per file. All mode and dry runs: one for all, split by non-transactional files."""
    if options.tx_mode == TxMode.FILE and not options.dry_run:
        return [[m] for m in pending]
    batches: list[list[Migration]] = []
    for migration in pending:
        if not migration.transactional:
            batches.append([migration])
        elif batches and batches[-1][0].transactional:
            batches[-1].append(migration)
        else:
            batches.append([migration])
    return batches


def _apply_plan(run: RunContext, plan: Plan) -> None:
    batches = _batches(plan.pending, run.options)
    last_transactional = max((i for i, b in enumerate(batches) if b[0].transactional), default=-1)
    if run.options.gate is not None and last_transactional != len(batches) - 1:
        run.outcome.gate_skipped = True
    for index, batch in enumerate(batches):
        if not batch[0].transactional:
            if run.options.dry_run:
                run.emit(batch[0], MigrationStatus.WOULD_APPLY,
                         message="non-transactional: runs statement by statement outside a transaction, so a dry "
                                 "run cannot roll it back and does not run it")
                continue
            run.hooks.starting(batch, "outside a transaction, statement by statement")
            apply_non_transactional(run, batch[0])
            continue
        _apply_transaction(run, batch, with_gate=index == last_transactional and not run.outcome.gate_skipped)


def _apply_transaction(run: RunContext, batch: list[Migration], with_gate: bool) -> None:
    options = run.options
    settings = Settings(new_tag(), options.lock_timeout, options.statement_timeout)
    script = _script(options, batch, history=run.history, tag=settings.tag, with_gate=with_gate)
    run.hooks.starting(batch, "dry run, rolled back" if options.dry_run else "one transaction", settings.tag)
    started = time.monotonic()
    try:
        answer = single_json(send.transaction(run.target, script, safe_to_resend=options.dry_run))
    except KeyboardInterrupt:
        raise interrupted(run, batch, settings.tag) from None
    except QueryError as error:
        if error.sqlstate == ALREADY_APPLIED:
            raise Replan(concurrent=True) from None
        if error.sqlstate not in (ROLLED_BACK_ON_PURPOSE, GATE_FAILED):
            failure, culprit = transaction_failed(run, script, batch, error)
            for migration in batch:  # the failed file, and the rest of its transaction rolled back with it
                failed = culprit is None or migration is culprit
                run.emit(migration, MigrationStatus.FAILED if failed else MigrationStatus.ROLLED_BACK,
                         message=failure.problems[0].message if failed else "rolled back with the failed file")
            raise failure from None
        answer = json.loads(error.detail or "{}")
        run.outcome.rolled_back = True
        run.outcome.gate_failed = error.sqlstate == GATE_FAILED
    except OutcomeUnknown as lost:
        answer = settle(run, batch, settings.tag, str(lost))
    _record(run, answer, batch, time.monotonic() - started)


def _script(options: ApplyOptions, batch: list[Migration], *, history: History, tag: str, with_gate: bool
            ) -> requests.Script:
    """The text of one transaction. A dry run of file mode is one transaction standing in for one per file:
    each file judged by its own locks."""
    settings = Settings(tag, options.lock_timeout, options.statement_timeout)
    return requests.deploy_transaction(
        batch, settings, options.lock_wait, dry_run=options.dry_run, create_history=not history.ready,
        cursor=history.cursor, gate=options.gate if with_gate else None, tracer=options.tracer,
        trace_shared=not (options.dry_run and options.tx_mode == TxMode.FILE), probe=options.probe)


def _record(run: RunContext, answer: dict[str, Any], batch: list[Migration], elapsed: float) -> None:
    outcome = run.outcome
    durations = answer.get("applied") or {}
    if answer.get("trace"):
        run.hooks.traced(batch, answer["trace"])
    if answer.get("tables") is not None:
        outcome.tables = int(answer["tables"])
    if "gate" in answer:
        outcome.gate_result = answer["gate"]
    if "probe" in answer:
        run.hooks.probed(batch, answer["probe"])
    status = (MigrationStatus.ROLLED_BACK if outcome.gate_failed else
              MigrationStatus.WOULD_APPLY if outcome.rolled_back else MigrationStatus.APPLIED)
    for migration in batch:
        duration = durations.get(migration.version)
        run.emit(migration, status, int(duration) if duration is not None else int(elapsed * 1000 / len(batch)))
