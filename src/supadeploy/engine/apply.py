"""Applying a plan: exactly once, atomically per transaction, honest about every outcome.

Each transaction travels as one text (requests.deploy_transaction); in file mode, consecutive files travel
together, each still its own transaction (requests.deploy_pack), so a new project's history costs a few
requests, not one per file. Two deploys racing on one database
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

from ..errors import MigrationFailed, OutcomeUnknown, PlanRefused, TargetError
from ..model import MigrationStatus, Problem
from ..targets.base import QueryError, Target, single_json
from . import requests, send
from .blockers import deploy_lock_refused, refuse_behind_blockers
from .failure import transaction_failed
from .history import History, parse_history, read_history
from .hooks import Hooks
from .migrations import Migration, MigrationSet
from .nontx import apply_non_transactional
from .plan import Plan, PlanOptions, make_plan
from .requests import ALREADY_APPLIED, DEPLOY_LOCK_WAIT, GATE_FAILED, ROLLED_BACK_ON_PURPOSE, Settings, new_tag
from .run import ApplyOptions, DeployOutcome, Replan, RunContext, TxMode
from .settle import interrupted, settle

MAX_RESENDS = 5  # transactions whose answer was lost and that history proved uncommitted


def deploy(target: Target, migrations: MigrationSet, plan_options: PlanOptions, options: ApplyOptions,
           hooks: Hooks | None = None, history: History | None = None) -> DeployOutcome:
    """Plan, refuse if unsafe, apply; re-plan when a racing deploy got there first. `history`: a read the
    caller made just before (with the same guard), so the first plan costs no request of its own."""
    options.validate()
    hooks = hooks or Hooks()
    results: list[Any] = []
    last_versions: set[str] | None = None
    first_resend_at: float | None = None
    resends: list[str] = []
    known = history
    run_tag = new_tag()  # one deploy, however many plans: every request's tag starts with it
    attempts: dict[str, list[str]] = {}  # tag of each transaction sent → the versions it applies
    noted = False  # the note that supadeploy's own bookkeeping is unavailable: once per deploy, not per plan
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
        send.refuse_oversized(target, plan.pending,
                              partial(_script, options, history=history, tag=new_tag(), with_gate=True))
        if not options.dry_run:
            _refuse_unwritable(history, plan)
            if history.cli_only and not noted:
                hooks.note(Problem(history.cli_only_note(), title="History bookkeeping unavailable"))
                noted = True
        missing = None if options.dry_run or history.ready else history
        if missing is not None:
            history = _ensure_history(target, history, options, run_tag, attempts)
        try:
            _apply_plan(RunContext(target, options, hooks, outcome, history, run_tag, attempts), plan)
            if missing is not None and outcome.rolled_back:
                _undo_history(target, missing, options, hooks)  # a gate that failed on the first deploy
            return outcome
        except MigrationFailed:
            if missing is not None and not outcome.applied:
                _undo_history(target, missing, options, hooks)
            raise
        except Replan as replan:
            known = replan.history
            if replan.concurrent:  # progress is measured against what the plan was made from
                last_versions = set(plan.history.versions)
                hooks.waiting(replan.reason or "another deploy applied some of these migrations first: planning again")
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


def _ensure_history(target: Target, history: History, options: ApplyOptions, run_tag: str,
                    attempts: dict[str, list[str]]) -> History:
    """Create what is missing of the history tables in a short transaction of its own, and read them again."""
    tag = new_tag(run_tag)
    attempts[tag] = []  # supadeploy's own bookkeeping, no migration
    try:
        return parse_history(single_json(target.run(history.ensure(options.lock_wait, tag), safe_to_resend=True)))
    except QueryError as error:
        if error.sqlstate == DEPLOY_LOCK_WAIT:
            raise deploy_lock_refused(error, options.lock_wait, run_tag, attempts) from None
        hint = (f" The grant it needs, given by the owner of supabase_migrations: {history.grant('CREATE')}"
                if error.sqlstate == "42501" else "")
        raise TargetError(f"could not create the migration history tables: {error}; nothing was sent.{hint}"
                          ) from None


def _refuse_unwritable(history: History, plan: Plan) -> None:
    """History another tool keeps in a schema this role cannot create in: the grants a deploy cannot do
    without are named before anything is sent; without supadeploy's side tables the deploy goes on with the
    CLI's table alone, but a file outside a transaction cannot be resumed exactly once."""
    history.refuse_unwritable()
    if not history.cli_only:
        return
    outside = [m for m in plan.pending if not m.transactional]
    if outside:
        raise PlanRefused(
            f"{len(outside)} pending file(s) run outside a transaction, which needs supadeploy's progress table; "
            "nothing was sent", [Problem(
                f"{m.filename} runs outside a transaction, statement by statement: supadeploy records how far it "
                f"got in supabase_migrations.supadeploy_progress, which role {history.role} may not create. "
                f"Nothing was sent. As the owner of supabase_migrations: {history.grant('CREATE')}",
                file=m.display_path, line=1, title="History bookkeeping unavailable") for m in outside])


def _undo_history(target: Target, missing: History, options: ApplyOptions, hooks: Hooks) -> None:
    """This deploy created the history tables and committed nothing: drop what it created, so a first deploy
    that fails leaves the database as it found it (unless another deploy wrote history meanwhile)."""
    try:
        target.run(requests.undo_history(
            schema=missing.schema, table=missing.exists,
            columns=missing.kept_columns or (), log=missing.log,
            progress=missing.progress_table, cursor=missing.cursor is not None, lock_wait=options.lock_wait),
            safe_to_resend=True)
    except (QueryError, TargetError) as error:
        hooks.waiting(f"the migration history tables this deploy created were left in place ({error})")


def _batches(pending: list[Migration], options: ApplyOptions) -> list[list[Migration]]:
    """File mode: one transaction per file, consecutive files packed into one request (the file the gate runs
    after travels alone: its transaction ends with the checks). All mode and dry runs: one transaction for
    all, split by non-transactional files."""
    if options.tx_mode == TxMode.FILE and not options.dry_run:
        return packs(pending, gated=options.gate is not None)
    batches: list[list[Migration]] = []
    for migration in pending:
        if not migration.transactional:
            batches.append([migration])
        elif batches and batches[-1][0].transactional:
            batches[-1].append(migration)
        else:
            batches.append([migration])
    return batches


def packs(pending: list[Migration], gated: bool) -> list[list[Migration]]:
    """Consecutive transactional files, up to PACK_LIMIT_FILES and about PACK_LIMIT_BYTES of text each (a file's
    text travels twice: its statements and its history row); a bigger file, and a file outside a transaction,
    travel alone."""
    last = max((i for i, m in enumerate(pending) if m.transactional), default=-1)
    packs: list[list[Migration]] = []
    size, joinable = 0, False  # the last pack's weight; whether it takes more files
    for index, migration in enumerate(pending):
        weight = 2 * len(migration.text) + 2048 + 256 * len(migration.statements)  # its marks and trace too
        alone = not migration.transactional or (gated and index == last) or weight > requests.PACK_LIMIT_BYTES
        if joinable and not alone and len(packs[-1]) < requests.PACK_LIMIT_FILES \
                and size + weight <= requests.PACK_LIMIT_BYTES:
            packs[-1].append(migration)
            size += weight
        else:
            packs.append([migration])
            size = weight
        joinable = not alone
    return packs


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
        if len(batch) > 1 and run.options.tx_mode == TxMode.FILE and not run.options.dry_run:
            _apply_pack(run, batch)
            continue
        _apply_transaction(run, batch, with_gate=index == last_transactional and not run.outcome.gate_skipped)


def _apply_transaction(run: RunContext, batch: list[Migration], with_gate: bool) -> None:
    options = run.options
    settings = Settings(new_tag(run.run_id), options.lock_timeout, options.statement_timeout)
    run.attempts[settings.tag] = [m.version for m in batch]
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
        if error.sqlstate == DEPLOY_LOCK_WAIT:  # it never ran: no finding on any file
            raise deploy_lock_refused(error, options.lock_wait, run.run_id, run.attempts) from None
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


def _apply_pack(run: RunContext, files: list[Migration]) -> None:
    """Several files in one request, each its own transaction; their results come back together."""
    options = run.options
    settings = Settings(new_tag(run.run_id), options.lock_timeout, options.statement_timeout)
    run.attempts[settings.tag] = [m.version for m in files]
    script = requests.deploy_pack(files, settings, options.lock_wait, cursor=run.history.cursor,
                                  keep=run.history.writes,
                                  tracer=options.tracer, probe=options.probe)
    run.hooks.starting(files, f"{len(files)} files in one request, one transaction each", settings.tag)
    started = time.monotonic()
    try:
        # Always one text: its COMMITs end each file's transaction (never sent in pieces inside a BEGIN).
        answer = single_json(run.target.run(script.text, safe_to_resend=False))
    except KeyboardInterrupt:
        raise interrupted(run, files, settings.tag) from None
    except QueryError as error:
        raise _pack_failed(run, script, files, error) from None
    except OutcomeUnknown as lost:
        _record(run, settle(run, files, settings.tag, str(lost)), files, time.monotonic() - started)
        return
    results = answer.get("pack") or []
    if len(results) != len(files):
        raise TargetError(f"a pack of {len(files)} files answered {len(results)} results; run `supadeploy status`")
    elapsed = time.monotonic() - started
    for migration, result in zip(files, results, strict=True):
        _record(run, result, [migration], elapsed / len(files))


def _pack_failed(run: RunContext, script: requests.Script, files: list[Migration], error: QueryError) -> Exception:
    """A pack stopped at file k: the files before k committed (each in its own transaction, in order), k rolled
    back, the rest never ran. k is the file the guard named (a racer applied it: plan again), the file the
    error is located in, or else the first file history does not have."""
    if error.sqlstate == ALREADY_APPLIED:
        named = [i for i, m in enumerate(files) if f"migration {m.version} was" in error.message]
        _committed(run, files[:named[0] if named else 0])
        return Replan(concurrent=True)
    if error.sqlstate == DEPLOY_LOCK_WAIT:  # file k waited for another deploy: no finding on any file
        waiting = _first_unrecorded(run, files)
        stop = files.index(waiting) if waiting is not None else len(files)
        _committed(run, files[:stop])
        return deploy_lock_refused(error, run.options.lock_wait, run.run_id, run.attempts,
                                   f"{stop} earlier file(s) of its request committed, nothing after them ran"
                                   if stop else "nothing was run")
    failure, culprit = transaction_failed(run, script, files, error)
    if culprit is None:
        culprit = _first_unrecorded(run, files)
        if culprit is not None and files.index(culprit) > 0:  # name the file the message could not
            failure, _ = transaction_failed(run, script, [culprit], error)
    stop = files.index(culprit) if culprit is not None else 0
    _committed(run, files[:stop])
    if culprit is not None:
        run.emit(culprit, MigrationStatus.FAILED, message=failure.problems[0].message)
    return failure


def _first_unrecorded(run: RunContext, files: list[Migration]) -> Migration | None:
    """The first file of a stopped pack that history does not have: where it stopped."""
    try:
        recorded = set(read_history(run.target).versions)
    except (QueryError, TargetError):
        recorded = set()
    return next((m for m in files if m.version not in recorded), None)


def _committed(run: RunContext, files: list[Migration]) -> None:
    for migration in files:
        run.emit(migration, MigrationStatus.APPLIED, message="committed (a later file of its request stopped it)")


def _script(options: ApplyOptions, batch: list[Migration], *, history: History, tag: str, with_gate: bool
            ) -> requests.Script:
    """The text of one transaction. A dry run of file mode is one transaction standing in for one per file:
    each file judged by its own locks."""
    settings = Settings(tag, options.lock_timeout, options.statement_timeout)
    return requests.deploy_transaction(
        batch, settings, options.lock_wait, dry_run=options.dry_run, create_history=not history.ready,
        columns=history.kept_columns, schema=history.schema, keep=history.writes, cursor=history.cursor,
        gate=options.gate if with_gate else None,
        tracer=options.tracer,
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
