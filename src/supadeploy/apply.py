"""Applying a plan: each transaction travels as one text, one round trip.

A transaction text is: timeouts, a transaction-scoped advisory lock, the CLI's
history table, then per migration a guard (re-checks history under the lock),
its statements and its history row. Two deploys racing on one database
serialise on the lock; the later one's guard sees the version already applied
and stops without changing anything, and the engine re-plans. Because the
history row commits with its migration, reading history after a lost
connection tells exactly what committed.
"""

from __future__ import annotations

import bisect
import json
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from . import __version__
from .errors import ConfigError, MigrationFailed, OutcomeUnknown, Problem, TargetError
from .history import CREATE_HISTORY, insert_row_sql
from .migrations import Migration, MigrationSet, Statement
from .plan import Plan, PlanOptions, make_plan, read_history
from .sqltext import literal, text_array
from .targets.base import QueryError, Target, single_json

# pg_advisory_xact_lock key: 'supadeploy' folded into a bigint, fixed forever.
ADVISORY_LOCK_KEY = 7310868521530181632
ALREADY_APPLIED = "SD001"  # raised by the guard: another deploy applied it first
ROLLED_BACK_ON_PURPOSE = "SD002"  # dry run: DETAIL carries the result
GATE_FAILED = "SD003"  # assertions failed before COMMIT: DETAIL carries the result
MAX_REPLANS = 8
MAX_RECONCILES = 5
_DURATION_RE = re.compile(r"^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$")


@dataclass(frozen=True)
class ApplyOptions:
    tx_mode: str = "file"
    lock_timeout: str = "10s"
    statement_timeout: str = "5min"
    lock_wait: str = "30s"  # how long to queue behind another deploy
    dry_run: bool = False
    gate_sql: str | None = None  # runs before COMMIT; raises to roll everything back

    def validate(self) -> None:
        if self.tx_mode not in ("file", "all"):
            raise ConfigError(f"--tx-mode must be 'file' or 'all', not {self.tx_mode!r}")
        for flag, value in (("--lock-timeout", self.lock_timeout),
                            ("--statement-timeout", self.statement_timeout),
                            ("--lock-wait", self.lock_wait)):
            if not _DURATION_RE.match(value.strip()):
                raise ConfigError(f"{flag} must be a PostgreSQL duration such as 10s or 500ms, not {value!r}")


@dataclass
class MigrationResult:
    version: str
    name: str
    file: str
    status: str  # applied | would-apply | failed | skipped
    duration_ms: int | None = None
    statements: int = 0
    message: str = ""


@dataclass
class DeployOutcome:
    plan: Plan
    results: list[MigrationResult] = field(default_factory=list)
    gate_result: object | None = None  # the assertions' JSON when they ran inside the deploy
    gate_failed: bool = False  # the gate rolled the deploy back
    rolled_back: bool = False  # dry run or failed gate: nothing committed
    tables: int | None = None  # tables in public after the last transaction

    @property
    def applied(self) -> list[MigrationResult]:
        return [r for r in self.results if r.status in ("applied", "would-apply")]


@dataclass
class _Script:
    """A transaction's text, remembering where each migration statement sits in it."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    starts: list[int] = field(default_factory=list)
    spans: list[tuple[int, Migration, Statement]] = field(default_factory=list)

    def add(self, text: str, migration: Migration | None = None, statement: Statement | None = None) -> None:
        if migration is not None and statement is not None:
            self.starts.append(self.length)
            self.spans.append((self.length, migration, statement))
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def locate(self, position: int) -> tuple[Migration, Statement, int] | None:
        """Migration, statement and offset inside it for a 1-based position in the text."""
        index = bisect.bisect_right(self.starts, position - 1) - 1
        if index < 0:
            return None
        start, migration, statement = self.spans[index]
        offset = position - 1 - start
        if offset > len(statement.text):
            return None
        return migration, statement, offset


ProgressHook = Callable[[MigrationResult], None]


def deploy(target: Target, migrations: MigrationSet, plan_options: PlanOptions,
           options: ApplyOptions, on_result: ProgressHook | None = None,
           on_plan: Callable[[Plan], None] | None = None) -> DeployOutcome:
    """Plan, refuse if unsafe, apply; re-plan when a racing deploy got there first.

    `on_plan` sees each plan before it is applied, so a caller knows what was
    pending even when applying then fails.
    """
    options.validate()
    results: list[MigrationResult] = []
    for _ in range(MAX_REPLANS):
        plan = make_plan(migrations, read_history(target), plan_options)
        if on_plan:
            on_plan(plan)
        plan.refuse_if_blocked()
        outcome = DeployOutcome(plan, results)
        if not plan.pending:
            return outcome
        # A dry run is one transaction: later files may need earlier ones, and nothing commits anyway.
        one = options.tx_mode == "all" or options.dry_run
        batches = [plan.pending] if one else [[m] for m in plan.pending]
        try:
            for index, batch in enumerate(batches):
                last = index == len(batches) - 1
                _apply_batch(target, batch, options, outcome, on_result, with_gate=last)
            return outcome
        except _AppliedConcurrently:
            continue
    raise TargetError("gave up after repeated concurrent changes to migration history")


class _AppliedConcurrently(Exception):
    pass


def _apply_batch(target: Target, batch: list[Migration], options: ApplyOptions, outcome: DeployOutcome,
                 on_result: ProgressHook | None, with_gate: bool) -> None:
    script = build_transaction(batch, options, with_gate=with_gate)
    started = time.monotonic()
    try:
        answer = single_json(target.run(script.text, safe_to_resend=options.dry_run))
    except QueryError as error:
        if error.sqlstate == ALREADY_APPLIED:
            raise _AppliedConcurrently() from None
        if error.sqlstate in (ROLLED_BACK_ON_PURPOSE, GATE_FAILED):
            answer = json.loads(error.detail or "{}")
            outcome.rolled_back = True
            outcome.gate_failed = error.sqlstate == GATE_FAILED
        else:
            failure, culprit = _failure(target, script, batch, options, error)
            _record_failure(batch, culprit, failure, outcome, on_result)
            raise failure from None
    except OutcomeUnknown:
        answer = _reconcile(target, batch)
    _record(answer, batch, outcome, on_result, time.monotonic() - started, options)


def _record(answer: dict, batch: list[Migration], outcome: DeployOutcome, on_result: ProgressHook | None,
            elapsed: float, options: ApplyOptions) -> None:
    durations = answer.get("applied") or {}
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
        if on_result:
            on_result(result)


def _record_failure(batch: list[Migration], culprit: Migration | None, failure: MigrationFailed,
                    outcome: DeployOutcome, on_result: ProgressHook | None) -> None:
    """The failed file, and the rest of its transaction, rolled back with it."""
    for migration in batch:
        failed = culprit is None or migration is culprit
        result = MigrationResult(migration.version, migration.name, migration.display_path,
                                 "failed" if failed else "rolled-back", None, len(migration.statements),
                                 failure.problems[0].message if failed else "rolled back with the failed file")
        outcome.results.append(result)
        if on_result:
            on_result(result)


def build_transaction(batch: list[Migration], options: ApplyOptions, with_gate: bool = False) -> _Script:
    """The text of one transaction applying `batch` (and the gate, if any)."""
    script = _Script()
    script.add(f"SET LOCAL lock_timeout = {literal(options.lock_wait)};\n"
               f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY});\n"
               + AFTER_LOCK +
               f"SET LOCAL lock_timeout = {literal(options.lock_timeout)};\n"
               f"SET LOCAL statement_timeout = {literal(options.statement_timeout)};\n")
    script.add(CREATE_HISTORY)
    tool = f"supadeploy {__version__}"
    for migration in batch:
        script.add(_guard_sql(migration.version))
        for statement in migration.statements:
            script.add(statement.text, migration, statement)
            script.add(";\n")
        script.add(insert_row_sql(migration.version, migration.name, migration.history_statements,
                                  migration.fingerprint, tool))
    versions = text_array([m.version for m in batch])
    script.add(
        "SELECT set_config('supadeploy.result', jsonb_build_object('applied', ("
        "SELECT jsonb_object_agg(version, duration_ms) FROM supabase_migrations.supadeploy_log "
        f"WHERE version = ANY ({versions})), "
        "'tables', (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public')"
        ")::text, true);\n")
    if with_gate and options.gate_sql:
        script.add(options.gate_sql)
    if options.dry_run:
        script.add(ROLL_BACK_WITH_RESULT)
    script.add("SELECT current_setting('supadeploy.result')::jsonb AS result;\n")
    return script


# Waiting on an advisory lock does not process catalog invalidations, so after
# it the session could still believe (from a cached negative lookup) that the
# history schema the previous deploy just committed is absent, and CREATE ...
# IF NOT EXISTS would collide. Reading pg_namespace takes a relation lock, which
# processes pending invalidations first.
AFTER_LOCK = "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'supabase_migrations';\n"

ROLL_BACK_WITH_RESULT = f"""\
DO $sd_dry_run$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '{ROLLED_BACK_ON_PURPOSE}',
    MESSAGE = 'supadeploy: dry run, rolled back on purpose',
    DETAIL = current_setting('supadeploy.result');
END
$sd_dry_run$;
"""


def _guard_sql(version: str) -> str:
    # version matches ^[0-9]+$ (file name rule), so it is safe inside the DO body.
    assert version.isdigit()
    return (
        "DO $sd_guard$\nBEGIN\n"
        "  PERFORM set_config('supadeploy.started', clock_timestamp()::text, true);\n"
        f"  IF EXISTS (SELECT 1 FROM supabase_migrations.schema_migrations WHERE version = '{version}') THEN\n"
        f"    RAISE EXCEPTION USING ERRCODE = '{ALREADY_APPLIED}',\n"
        f"      MESSAGE = 'supadeploy: migration {version} was applied by another deploy';\n"
        "  END IF;\nEND\n$sd_guard$;\n"
    )


def _reconcile(target: Target, batch: list[Migration]) -> dict:
    """After a lost answer, history says whether the transaction committed."""
    delay = 0.5
    versions = ", ".join(m.version for m in batch)
    for attempt in range(MAX_RECONCILES):
        try:
            history = read_history(target)
        except OutcomeUnknown:
            if attempt == MAX_RECONCILES - 1:
                raise
            time.sleep(delay)
            delay *= 2
            continue
        except TargetError as exc:  # the target already retried: say what is in doubt, resend nothing
            raise TargetError(f"the answer to the transaction applying {versions} was lost, and migration "
                              f"history could not be read afterwards ({exc}). It may or may not have "
                              "committed: run `supadeploy status` before deploying again.") from None
        applied = history.by_version()
        recorded = [m.version in applied for m in batch]
        if all(recorded):
            return {"applied": {}, "reconciled": True}
        if not any(recorded):
            raise _AppliedConcurrently()  # nothing committed: re-plan and send again
        raise TargetError("history is partially written for one transaction; inspect it before retrying")
    raise TargetError("could not read migration history after a lost connection")


def _failure(target: Target, script: _Script, batch: list[Migration], options: ApplyOptions,
             error: QueryError) -> tuple[MigrationFailed, Migration | None]:
    """Turn a PostgreSQL error into file, line, SQLSTATE and message."""
    position = error.position
    located = script.locate(position) if position else None
    if located is None:
        located = _locate_by_replay(target, batch, options)
    migration: Migration | None
    if located is None:
        migration, line = (batch[0] if len(batch) == 1 else None), None
    else:
        migration, statement, offset = located
        line = migration.line_at(statement.offset + offset) if position else statement.line
    text = f"{error.sqlstate}: {error.message}"
    for label, value in (("DETAIL", error.detail), ("HINT", error.hint), ("CONTEXT", error.context)):
        if value:
            text += f"\n{label}: {value}"
    if error.sqlstate == "55P03":
        text += f"\nHINT: a lock was not granted within lock_timeout ({options.lock_timeout}); retry when the table is less busy"
    if error.sqlstate == "57014":
        text += f"\nHINT: statement_timeout ({options.statement_timeout}) was reached"
    title = f"Migration {migration.version} failed" if migration else "Migration failed"
    problem = Problem(text + "\nNothing of this transaction was committed.",
                      file=migration.display_path if migration else None, line=line, title=title)
    return MigrationFailed(f"{problem}", [problem]), migration


LOCATE_SQL = """\
CREATE OR REPLACE FUNCTION pg_temp.supadeploy_locate(stmts text[]) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  n integer := 0;
BEGIN
  BEGIN
    FOR i IN 1 .. coalesce(array_length(stmts, 1), 0) LOOP
      n := i;
      EXECUTE stmts[i];
    END LOOP;
    n := 0;
    RAISE EXCEPTION USING ERRCODE = 'SD009', MESSAGE = 'no failure reproduced';
  EXCEPTION WHEN OTHERS THEN
    RETURN jsonb_build_object('index', n, 'sqlstate', SQLSTATE, 'message', SQLERRM);
  END;
END
$fn$;
"""


def _locate_by_replay(target: Target, batch: list[Migration], options: ApplyOptions
                      ) -> tuple[Migration, Statement, int] | None:
    """Replay the batch statement by statement, always rolled back, to find the failing one.

    Only used when PostgreSQL gave no position (constraint violations, missing
    objects...). One extra round trip, on failure only.
    """
    pairs = [(m, s) for m in batch for s in m.statements]
    sql = (f"SET LOCAL lock_timeout = {literal(options.lock_timeout)};\n"
           f"SET LOCAL statement_timeout = {literal(options.statement_timeout)};\n"
           + LOCATE_SQL
           + f"SELECT pg_temp.supadeploy_locate({text_array([s.text for _, s in pairs])}) AS result;\n"
           "DROP FUNCTION pg_temp.supadeploy_locate(text[]);\n")
    try:
        answer = single_json(target.run(sql, safe_to_resend=True))
    except (QueryError, TargetError):
        return None
    index = int(answer.get("index") or 0)
    if not 1 <= index <= len(pairs):
        return None
    migration, statement = pairs[index - 1]
    return migration, statement, 0


def plan_only(target: Target, migrations: MigrationSet, options: PlanOptions) -> Plan:
    """What `deploy` would do, reading history only."""
    return make_plan(migrations, read_history(target), options)
