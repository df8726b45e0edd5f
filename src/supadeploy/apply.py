"""Applying a plan: exactly once, atomically per transaction, honest about every outcome.

Each transaction travels as one text (transaction.py). Two deploys racing on
one database serialise on an advisory lock; the later one's guard sees the
version already applied and stops without changing anything, and the engine
re-plans. Re-planning after a race always makes progress (the guard only fires
when history grew), so racers all finish successfully, however many there are.

When the answer to a deploy transaction is lost, nothing is resent blindly:
the engine reads history and whether the transaction is still running on the
server (by its application_name tag), waits for it if it is, and resends only
when history proves nothing committed. When that cannot be settled, the run
ends with status `unknown`, naming the versions in doubt.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import (ConfigError, Interrupted, MigrationFailed, OutcomeUnknown, OutcomeUnknownError, PlanRefused,
                     Problem, SqlError, TargetError)
from .locks import locked_tables
from .locks.analyze import findings
from .masking import shown
from .history import History, ensure_sql, lock_holders_sql, parse_history, read_history_sql
from .migrations import Migration, MigrationSet, Statement
from .plan import Plan, PlanOptions, make_plan, read_history
from .platform import missing_extension
from .sqltext import literal, qualified
from .targets.base import QueryError, Target, single_json
from .transaction import (ADVISORY_CLASSID, ADVISORY_OBJID, ALREADY_APPLIED, CURSOR, GATE_FAILED,
                          ROLLED_BACK_ON_PURPOSE, SESSION_RESET, Script, Settings, build_transaction,
                          locked_request, new_tag)

MAX_RESENDS = 5  # transactions whose answer was lost and that history proved uncommitted
SETTLE_LIMIT_S = 1800.0  # longest wait for a lost transaction still running on the server
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)$")
_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def duration_seconds(value: str) -> float:
    match = _DURATION_RE.match(value.strip())
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _SECONDS[match.group(2)]


@dataclass(frozen=True)
class ApplyOptions:
    tx_mode: str = "file"
    lock_timeout: str = "10s"
    statement_timeout: str = "5min"
    lock_wait: str = "30s"  # how long to queue behind another deploy
    dry_run: bool = False
    gate_sql: str | None = None  # runs before COMMIT; raises to roll everything back
    trace: str | None = None  # trace each statement's locks (locks/trace.py); the value says where sizes come
    #                            from: "production" when the target is the real database, else "replay"
    guard: tuple[str, ...] = ()  # tables whose lock holders are checked before applying (a real deploy)

    def validate(self) -> None:
        if self.tx_mode not in ("file", "all"):
            raise ConfigError(f"--tx-mode must be 'file' or 'all', not {shown(self.tx_mode)}")
        for flag, value in (("--lock-timeout", self.lock_timeout),
                            ("--statement-timeout", self.statement_timeout),
                            ("--lock-wait", self.lock_wait)):
            if not _DURATION_RE.match(value.strip()):
                raise ConfigError(f"{flag} needs a unit, such as 10s, 500ms or 5min (got {shown(value)})")


@dataclass
class MigrationResult:
    version: str
    name: str
    file: str
    status: str  # applied | would-apply | failed | rolled-back | not-run | in-doubt
    duration_ms: int | None = None
    statements: int = 0
    message: str = ""


class Hooks:
    """What the engine tells its caller as it happens; the reporting layer implements it."""

    def plan(self, plan: Plan) -> None:
        pass

    def starting(self, batch: list[Migration], how: str, tag: str | None = None) -> None:
        """A request is about to be sent; `tag` is its application_name, when it has one."""

    def result(self, result: MigrationResult) -> None:
        pass

    def waiting(self, message: str) -> None:
        pass

    def note(self, problem: Problem) -> None:
        pass

    def traced(self, findings: list[Any]) -> None:
        """Lock-safety findings of one traced transaction (locks/analyze.py), sized."""


@dataclass
class DeployOutcome:
    plan: Plan
    results: list[MigrationResult] = field(default_factory=list)
    gate_result: object | None = None  # the assertions' JSON when they ran inside the deploy
    gate_failed: bool = False  # the gate rolled the deploy back
    rolled_back: bool = False  # dry run or failed gate: nothing committed
    tables: int | None = None  # tables in public at the end of the last transaction
    gate_skipped: bool = False  # a gate was asked for but the last migration is non-transactional

    @property
    def applied(self) -> list[MigrationResult]:
        return [r for r in self.results if r.status in ("applied", "would-apply")]


class _Replan(Exception):
    """Apply nothing more from this plan; plan again (from `history` when it was just read)."""

    def __init__(self, concurrent: bool, reason: str = "", history: History | None = None) -> None:
        super().__init__(reason)
        self.concurrent = concurrent
        self.reason = reason
        self.history = history


@dataclass
class _Run:
    target: Target
    options: ApplyOptions
    hooks: Hooks
    outcome: DeployOutcome
    history: History
    run_id: str = field(default_factory=new_tag)


def deploy(target: Target, migrations: MigrationSet, plan_options: PlanOptions, options: ApplyOptions,
           hooks: Hooks | None = None) -> DeployOutcome:
    """Plan, refuse if unsafe, apply; re-plan when a racing deploy got there first."""
    options.validate()
    hooks = hooks or Hooks()
    results: list[MigrationResult] = []
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
        if not options.dry_run and not history.ready:
            history = _ensure_history(target, history, options)
        run = _Run(target, options, hooks, outcome, history)
        try:
            _apply_plan(run, plan)
            return outcome
        except _Replan as replan:
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


# A transaction open this long on a table a migration locks would make the deploy queue (seconds).
BLOCKER_AGE_S = float(os.environ.get("SUPADEPLOY_BLOCKER_AGE") or 5)


def refuse_behind_blockers(plan: Plan, history: History) -> None:
    """Report, instead of queueing behind, sessions in long transactions on the tables pending migrations lock.

    Waiting for ACCESS EXCLUSIVE behind a long transaction blocks every query that arrives after it.
    """
    touched = {_short(name) for name in locked_tables(plan.pending)}
    long_running = [b for b in history.blockers
                    if _short(b["relation"]) in touched and float(b.get("seconds") or 0) >= BLOCKER_AGE_S]
    if not long_running:
        return
    problems = [Problem(
        f"pid {b['pid']} ({b.get('application') or b.get('user')}, {b.get('state')}) has been in a transaction for "
        f"{b.get('seconds')} s holding {b['mode']} on {b['relation']}, which a pending migration locks: the "
        "migration would queue behind it, and every query on the table behind the migration. Let it finish or "
        f"end it (select pg_terminate_backend({b['pid']})), then deploy; its query: {b.get('query')!r}. The "
        "deploy was refused: nothing was sent",
        title="Long transaction on a table the deploy locks") for b in long_running]
    raise PlanRefused(f"deploy refused: {len(problems)} long transaction(s) hold locks on tables it would lock; "
                      "nothing was sent", problems)


def _count_reasons(reasons: list[str]) -> str:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return "; ".join(f"{reason} (×{n})" for reason, n in counts.items())


def _ensure_history(target: Target, history: History, options: ApplyOptions) -> History:
    """Create what is missing of the history tables in a short transaction of its own (the CLI's 4 s
    lock timeout), and read history again in the same request."""
    body = "SET LOCAL lock_timeout = '4s';\n" + ensure_sql(history) + read_history_sql()
    try:
        return parse_history(single_json(target.run(locked_request(body, options.lock_wait), safe_to_resend=True)))
    except QueryError as error:
        if error.sqlstate == "55P03":
            raise waited_too_long(target, options.lock_wait) from None
        raise TargetError(f"could not create the migration history tables: {error}") from None


def waited_too_long(target: Target, lock_wait: str, what: str = "nothing was run") -> TargetError:
    """supadeploy's own lock was not granted within --lock-wait: who holds it, and for how long."""
    try:
        holders = single_json(target.run(diagnose_sql([]), safe_to_resend=True)).get("advisory") or []
    except (QueryError, TargetError):
        holders = []
    return TargetError(f"another deploy held supadeploy's lock on this database for longer than --lock-wait "
                       f"({lock_wait}): {_holders(holders)}; {what}. Retry when it has finished, or raise --lock-wait.")


def _holders(holders: list[dict[str, Any]]) -> str:
    return "; ".join(f"pid {h['pid']} ({h.get('application') or h.get('user')}, {h.get('seconds')} s into its "
                     "transaction)" for h in holders) or "it had finished by the time supadeploy looked"


def _batches(pending: list[Migration], options: ApplyOptions) -> list[list[Migration]]:
    """File mode: one transaction per file. All mode and dry runs: one for all, split by non-transactional files."""
    if options.tx_mode == "file" and not options.dry_run:
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


def _apply_plan(run: _Run, plan: Plan) -> None:
    batches = _batches(plan.pending, run.options)
    last_transactional = max((i for i, b in enumerate(batches) if b[0].transactional), default=-1)
    if run.options.gate_sql and last_transactional != len(batches) - 1:
        run.outcome.gate_skipped = True
    for index, batch in enumerate(batches):
        if not batch[0].transactional:
            if run.options.dry_run:
                _not_dry_run(run, batch[0])
                continue
            from .nontx import apply_non_transactional

            run.hooks.starting(batch, "outside a transaction, statement by statement")
            apply_non_transactional(run, batch[0])
            continue
        gate = index == last_transactional and not run.outcome.gate_skipped
        _apply_transaction(run, batch, with_gate=gate)


def _not_dry_run(run: _Run, migration: Migration) -> None:
    result = MigrationResult(migration.version, migration.name, migration.display_path, "would-apply", None,
                             len(migration.statements),
                             "non-transactional: runs statement by statement outside a transaction, so a dry run "
                             "cannot roll it back and does not run it")
    run.outcome.results.append(result)
    run.hooks.result(result)


def _apply_transaction(run: _Run, batch: list[Migration], with_gate: bool) -> None:
    options = run.options
    settings = Settings(new_tag(), options.lock_timeout, options.statement_timeout)
    script = build_transaction(batch, settings, options.lock_wait, dry_run=options.dry_run,
                               history_setup=None if run.history.ready else ensure_sql(run.history),
                               cursor=run.history.cursor,
                               gate_sql=options.gate_sql if with_gate else None, trace=_trace_mode(options))
    run.hooks.starting(batch, "dry run, rolled back" if options.dry_run else "one transaction", settings.tag)
    started = time.monotonic()
    try:
        answer = single_json(run.target.run(script.text, safe_to_resend=options.dry_run))
    except KeyboardInterrupt:
        raise _interrupted(run, batch, settings.tag) from None
    except QueryError as error:
        if error.sqlstate == ALREADY_APPLIED:
            raise _Replan(concurrent=True) from None
        if error.sqlstate not in (ROLLED_BACK_ON_PURPOSE, GATE_FAILED):
            failure, culprit = _failure(run, script, batch, error)
            _record_failure(run, batch, culprit, failure)
            raise failure from None
        answer = json.loads(error.detail or "{}")
        run.outcome.rolled_back = True
        run.outcome.gate_failed = error.sqlstate == GATE_FAILED
    except OutcomeUnknown as lost:
        answer = _settle(run, batch, settings.tag, str(lost))
    _record(run, answer, batch, time.monotonic() - started)


def _trace_mode(options: ApplyOptions) -> str:
    """A dry run of file mode is one transaction standing in for one per file: each file judged by its own locks."""
    if not options.trace:
        return ""
    return "per-file" if options.dry_run and options.tx_mode == "file" else "shared"


def _record(run: _Run, answer: dict[str, Any], batch: list[Migration], elapsed: float) -> None:
    outcome = run.outcome
    durations = answer.get("applied") or {}
    if answer.get("trace"):
        run.hooks.traced(findings(batch, answer["trace"], run.options.trace or "replay"))
    if answer.get("tables") is not None:
        outcome.tables = int(answer["tables"])
    if "gate" in answer:
        outcome.gate_result = answer["gate"]
    status = "rolled-back" if outcome.gate_failed else "would-apply" if outcome.rolled_back else "applied"
    for migration in batch:
        duration = durations.get(migration.version)
        result = MigrationResult(migration.version, migration.name, migration.display_path, status,
                                 int(duration) if duration is not None else int(elapsed * 1000 / len(batch)),
                                 len(migration.statements))
        outcome.results.append(result)
        run.hooks.result(result)


def _record_failure(run: _Run, batch: list[Migration], culprit: Migration | None, failure: MigrationFailed) -> None:
    """The failed file, and the rest of its transaction, rolled back with it."""
    for migration in batch:
        failed = culprit is None or migration is culprit
        result = MigrationResult(migration.version, migration.name, migration.display_path,
                                 "failed" if failed else "rolled-back", None, len(migration.statements),
                                 failure.problems[0].message if failed else "rolled back with the failed file")
        run.outcome.results.append(result)
        run.hooks.result(result)


# --- a lost answer ----------------------------------------------------------------

def settle_sql(tag: str) -> str:
    """History, and whether a request with this tag is still running: one read."""
    running = ("pg_catalog.jsonb_build_object('running', (SELECT count(*) FROM pg_catalog.pg_stat_activity "
               f"WHERE application_name = {literal(tag)} AND pid <> pg_catalog.pg_backend_pid()))")
    return SESSION_RESET + read_history_sql(extra=running)


def _settle(run: _Run, batch: list[Migration], tag: str, why: str, limit: float = SETTLE_LIMIT_S) -> dict[str, Any]:
    """After a lost answer: did the transaction commit? Wait while it still runs; resend only if it did not."""
    versions = [m.version for m in batch]
    deadline = time.monotonic() + limit
    delay = 0.5
    announced = False
    while True:
        try:
            answer = single_json(run.target.run(settle_sql(tag), safe_to_resend=True))
        except (TargetError, QueryError) as exc:
            raise OutcomeUnknownError(_in_doubt(versions, f"{why}; migration history could not be read afterwards "
                                                          f"({exc})")) from None
        history = parse_history(answer)
        applied = history.by_version()
        recorded = [v in applied for v in versions]
        if all(recorded):
            run.hooks.waiting(f"{why}; history shows it committed")
            return {"applied": {}, "reconciled": True}
        if int(answer.get("running") or 0) == 0:
            if any(recorded):
                raise _Replan(concurrent=True, history=history)  # ours rolled back; a racer applied some
            raise _Replan(concurrent=False, reason=why, history=history)
        if time.monotonic() > deadline:
            raise OutcomeUnknownError(_in_doubt(versions, f"{why}; after {limit:.0f} s the transaction is still "
                                                          "running on the server"))
        if not announced:
            run.hooks.waiting(f"{why}; the transaction is still running on the server (application_name "
                              f"{tag}): waiting for it to finish before deciding anything")
            announced = True
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def _in_doubt(versions: list[str], why: str) -> str:
    return (f"{why}. Whether the transaction applying {', '.join(versions)} committed is unknown; nothing was "
            "sent again. Run `supadeploy status` to see what history says before deploying again.")


def _interrupted(run: _Run, batch: list[Migration], tag: str) -> Exception:
    """Interrupted while a transaction was in flight: say what became of it, as far as can be told quickly."""
    versions = [m.version for m in batch]
    if run.options.dry_run:
        return Interrupted("interrupted during a dry run: nothing was committed (a dry run always rolls back)")
    try:
        run.target.close()  # a half-read answer cannot be reused
        answer = _settle(run, batch, tag, "interrupted", limit=5.0)
    except _Replan:
        return Interrupted(f"interrupted: the transaction applying {', '.join(versions)} did not commit "
                           "(history confirms); nothing further was sent")
    except (OutcomeUnknownError, KeyboardInterrupt, Exception):  # noqa: BLE001 - any failure leaves it in doubt
        return OutcomeUnknownError(_in_doubt(versions, "interrupted while a deploy transaction was in flight"))
    for migration in batch:
        result = MigrationResult(migration.version, migration.name, migration.display_path, "applied", None,
                                 len(migration.statements), "committed before the interruption")
        run.outcome.results.append(result)
        run.hooks.result(result)
    del answer
    return Interrupted(f"interrupted after the transaction applying {', '.join(versions)} committed (history "
                       "confirms); nothing further was sent")


# --- a failure --------------------------------------------------------------------

def diagnose_sql(names: list[str]) -> str:
    """After a failure without a position: the cursor, and who holds the locks a deploy may wait for."""
    advisory = (
        "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('pid', l.pid, 'user', a.usename, "
        "'application', a.application_name, "
        "'seconds', pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - a.xact_start)))), "
        "'[]'::jsonb) FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
        f"WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {ADVISORY_CLASSID} "
        f"AND l.objid = {ADVISORY_OBJID} AND l.objsubid = 1")
    cursor = (f"CASE WHEN pg_catalog.to_regclass({literal(CURSOR)}) IS NOT NULL THEN "
              "pg_catalog.pg_sequence_last_value(pg_catalog.to_regclass(" + literal(CURSOR) + ")) END")
    return (SESSION_RESET + f"SELECT pg_catalog.jsonb_build_object('cursor', {cursor}, "
            f"'holders', {lock_holders_sql(names)}, 'advisory', ({advisory})) AS result;\n")


def _diagnose(run: _Run, batch: list[Migration]) -> dict[str, Any]:
    names = sorted({qualified(schema, name) for m in batch for s in m.statements for schema, name in s.relations})
    try:
        return single_json(run.target.run(diagnose_sql(names), safe_to_resend=True)) or {}
    except (QueryError, TargetError):
        return {}


def _failure(run: _Run, script: Script, batch: list[Migration], error: QueryError
             ) -> tuple[MigrationFailed, Migration | None]:
    """Turn a PostgreSQL error into file, line, column, SQLSTATE and an explanation, without running anything again."""
    options = run.options
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
    migration: Migration | None
    column = source = None
    line: int | None = None
    if located is not None:
        migration, statement, offset = located
        line = migration.line_at(statement.offset + offset) if position else statement.line
        if position:
            source = migration.source_line(line)
            column = statement.offset + offset - _line_start(migration.text, statement.offset + offset) + 1
    elif mark is not None:
        migration = mark.migration
    else:
        migration = batch[0] if len(batch) == 1 else None
    text = f"{error.sqlstate}: {error.message}"
    for label, value in (("DETAIL", error.detail), ("HINT", error.hint), ("CONTEXT", error.context)):
        if value:
            text += f"\n{label}: {value}"
    text += _explain(error, options, own_sql, located, diagnosis, batch)
    title = f"Migration {migration.version} failed" if migration else "Migration failed"
    sql = SqlError(error.sqlstate, error.message, error.position, column, source, error.detail, error.hint,
                   error.context)
    kind = "not-installed" if error.sqlstate == "SDL01" or missing_extension(error.message) else None
    problem = Problem(text + "\nNothing of this transaction was committed.",
                      file=migration.display_path if migration else None, line=line, title=title, sql=sql, kind=kind)
    return MigrationFailed(str(problem), [problem]), migration


def _explain(error: QueryError, options: ApplyOptions, own_sql: bool,
             located: tuple[Migration, Statement, int] | None, diagnosis: dict[str, Any],
             batch: list[Migration]) -> str:
    """The setting that fired, who held the lock, or which directive a statement needs."""
    if error.sqlstate == "55P03":
        if own_sql and located is None:
            return (f"\nHINT: another deploy held supadeploy's lock on this database for longer than --lock-wait "
                    f"({options.lock_wait}): {_holders(diagnosis.get('advisory') or [])}. Retry when it has "
                    "finished, or raise --lock-wait.")
        tables = {qualified(s, n) for s, n in located[1].relations} if located else set()
        holders = [h for h in diagnosis.get("holders") or [] if not tables or _short(h["relation"]) in
                   {_short(t) for t in tables}]
        who = "; ".join(f"{h['relation']}: pid {h['pid']} holds {h['mode']} ({h.get('application') or h.get('user')}"
                        f", {h.get('state')}, {h.get('seconds')} s into its transaction: {h.get('query')!r})"
                        for h in holders[:5])
        return (f"\nHINT: a lock was not granted within lock_timeout ({options.lock_timeout}). "
                + (f"Held by: {who}." if who else "Its holder had finished by the time supadeploy looked.")
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


def _short(name: str) -> str:
    return name.split(".")[-1].strip('"')


def plan_only(target: Target, migrations: MigrationSet, options: PlanOptions) -> Plan:
    """What `deploy` would do, reading history only."""
    return make_plan(migrations, read_history(target), options)

