"""What each command does, on top of the engine; reports through the Reporter only.

Every input is read and checked before a database is touched: the layout,
every migration file, every assertion file, the target version. Only then is
the target opened.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from typing import Any

from . import assertions as checks
from .apply import ApplyOptions, DeployOutcome, Hooks, MigrationResult, deploy, plan_only
from .errors import Cancelled, ConfigError, MigrationFailed, NotAvailableLocally, Problem
from .history import History
from .layout import discover
from .locks import locked_tables
from .locks.check import LockCheck
from .masking import shown
from .migrations import Migration, MigrationSet, load_migrations
from .options import Options
from .plan import Plan, PlanOptions, make_plan, read_history
from .reporting import Report, Reporter
from .targets import open_target

HEARTBEAT_S = float(os.environ.get("SUPADEPLOY_HEARTBEAT") or 10)  # a request still running says so this often


def run_command(options: Options, report: Report, reporter: Reporter) -> None:
    layout = discover(options.root, options.migrations_dir, list(options.assertions), options.no_assertions)
    report.target = options.target.resolved_kind()
    migrations = load_migrations(layout.migrations, display_root=layout.root)
    _warn(report, reporter, migrations.warnings)
    _check_target_version(options.target_version, migrations)
    suite = checks.load_suite(layout.assertions, layout.root, required=options.command == "verify") \
        if options.command != "status" else []
    target = open_target(options.target)
    report.database = target.label
    remote = report.target != "local"
    dry_run = options.dry_run if options.dry_run is not None else (options.command == "plan" and remote)
    report.dry_run = dry_run
    reporter.heading(f"supadeploy {options.command} → {target.label}")
    reporter.progress(f"  migrations: {layout.shown(layout.migrations)}/ ({layout.migrations_why}, "
                      f"{len(migrations.migrations)} file(s))"
                      + (f"; assertions: {', '.join(layout.shown(p) for p in layout.assertions)}"
                         if layout.assertions else ""))
    target.on_wait = lambda message: reporter.progress(f"  … {message}")
    _warn(report, reporter, [Problem(w, title="Access token") for w in getattr(target, "warnings", [])])
    try:
        if options.command == "plan" and not dry_run:
            _plan(target, migrations, options, report, reporter)
        elif options.command in ("plan", "deploy"):
            _deploy(target, migrations, suite, options, dry_run, remote, report, reporter)
        elif options.command == "lint":
            _lint(target, migrations, options, remote, report, reporter)
        elif options.command == "status":
            history = read_history(target)
            _status(history, migrations, report)
            report.schema_version = max(history.versions) if history.versions else None
        else:
            _verify(target, migrations, suite, options, report, reporter, replay_first=not remote)
    except MigrationFailed as exc:
        if remote or not any(p.kind == "not-installed" for p in exc.problems):
            raise
        raise _not_available_locally(exc, target) from None
    finally:
        report.round_trips = target.round_trips
        target.close()


def _check_target_version(version: str | None, migrations: MigrationSet) -> None:
    if version is not None and version not in migrations.by_version():
        newest = migrations.migrations[-1].version if migrations.migrations else "none"
        raise ConfigError(f"--target-version {shown(version)} is not the version of a migration in "
                          f"{migrations.directory}; the newest is {newest}")


def _plan_options(options: Options) -> PlanOptions:
    return PlanOptions(include_all=options.include_all, allow_drift=options.allow_drift,
                       target_version=options.target_version)


def _plan(target: Any, migrations: MigrationSet, options: Options, report: Report, reporter: Reporter) -> None:
    """`plan --no-dry-run`: history only, nothing is sent but a read."""
    with reporter.phase("Plan (history only, nothing applied)"):
        plan = plan_only(target, migrations, _plan_options(options))
        locks = LockCheck(options.max_lock_risk, report, reporter)
        locks.before(plan.pending, plan.history.server_version_num, judge=False)
        locks.after(include_static=True)
        _warn(report, reporter, plan.warnings)
        report.pending = [m.version for m in plan.pending]
        for migration in plan.pending:
            reporter.progress(f"  ○ {migration.version}  {migration.name}  ({len(migration.statements)} statements"
                              f"{', outside a transaction' if not migration.transactional else ''})")
    plan.refuse_if_blocked()
    report.schema_version = max(plan.history.versions) if plan.history.versions else None
    report.plan_summary = (f"a deploy would apply {len(plan.pending)} migration(s), "
                           f"{_mode_words(options.tx_mode, len(plan.pending), plan.pending)}"
                           if plan.pending else "nothing to apply: the database is up to date")


def _mode_words(tx_mode: str, count: int, pending: list[Migration]) -> str:
    outside = sum(1 for m in pending if not m.transactional)
    text = ("one transaction each" if tx_mode == "file" else "in one transaction") + " (tx-mode " + tx_mode + ")"
    return text + (f", {outside} of them outside a transaction" if outside else "")


def _apply_options(options: Options, dry_run: bool, suite: list[Any], migrations: MigrationSet,
                   remote: bool) -> tuple[ApplyOptions, bool]:
    one_transaction = options.tx_mode == "all" or dry_run
    gate = options.gate if options.gate is not None else one_transaction
    if gate and not one_transaction:
        raise ConfigError("--gate needs --tx-mode all: in file mode earlier files commit before the checks run")
    gate = gate and bool(suite)
    lock_timeout = options.lock_timeout or ("2s" if dry_run else "10s")  # a dry run never blocks production long
    lock_wait = options.lock_wait or ("5s" if dry_run else "30s")
    apply = ApplyOptions(tx_mode=options.tx_mode, lock_timeout=lock_timeout, statement_timeout=options.statement_timeout,
                         lock_wait=lock_wait, dry_run=dry_run, gate_sql=checks.gate_sql(suite) if gate else None,
                         trace="production" if remote else "replay",
                         guard=tuple(locked_tables(migrations.migrations)) if remote and not dry_run else ())
    return apply, gate


def _deploy(target: Any, migrations: MigrationSet, suite: list[Any], options: Options, dry_run: bool, remote: bool,
            report: Report, reporter: Reporter) -> None:
    apply, gate = _apply_options(options, dry_run, suite, migrations, remote)
    ask = (options.command == "deploy" and remote and not dry_run and not options.yes
           and not (os.environ.get("CI") or os.environ.get("GITHUB_ACTIONS")) and reporter.interactive)
    locks = LockCheck(options.max_lock_risk, report, reporter, after_commit=remote and not dry_run,
                      static_verdict_first=not dry_run)
    hooks = ReportHooks(report, reporter, target, confirm=ask, locks=locks)
    mode = "dry run: one transaction, always rolled back" if dry_run else f"tx-mode {options.tx_mode}"
    mode += (", gated" if gate else "") + f"; lock_timeout {apply.lock_timeout}, statement_timeout " \
                                          f"{apply.statement_timeout}"
    with reporter.phase(f"Deploy ({mode})"):
        try:
            outcome = deploy(target, migrations, _plan_options(options), apply, hooks)
        finally:
            hooks.stop_heartbeat()
            locks.flush()
            if hooks.plans:
                report.pending = [m.version for m in hooks.plans[-1].pending
                                  if m.version not in report.applied_versions]
                live = hooks.plans[-1].history.versions + ([] if dry_run else [
                    m["version"] for m in report.migrations if m["status"] == "applied"])
                report.schema_version = max(live) if live else None
        report.tables = None if outcome.rolled_back else outcome.tables  # nothing committed: nothing to count
        _warn(report, reporter, outcome.plan.warnings)
        if not outcome.results:
            reporter.progress("  nothing to apply: the database is up to date")
    if outcome.gate_skipped:
        _warn(report, reporter, [Problem("the assertions could not gate the COMMIT: the last migration runs outside "
                                         "a transaction; they ran after it instead", title="Gate skipped")])
    try:
        _assertions(target, migrations, suite, outcome, report, reporter)
    finally:
        if dry_run or options.command == "plan":
            report.plan_summary = _honest_plan(outcome, options, suite, report)
    locks.after()


def _lint(target: Any, migrations: MigrationSet, options: Options, remote: bool, report: Report,
          reporter: Reporter) -> None:
    """Lock safety only: every migration replayed and traced on a local database; with credentials, production's
    history says which files are pending and its table sizes rank the findings (one read-only request)."""
    locks = LockCheck(options.max_lock_risk, report, reporter, static_on_plan=False)
    server_version_num = None
    if remote:
        with reporter.phase("Production: history and the sizes of the tables the migrations lock (read only)"):
            history = read_history(target, sizes=locked_tables(migrations.migrations))
            plan = make_plan(migrations, history, _plan_options(options))
            plan.refuse_if_blocked()
            locks.sizes, locks.only = history.sizes, {m.display_path for m in plan.pending}
            server_version_num = history.server_version_num
            report.pending = [m.version for m in plan.pending]
            reporter.progress(f"  {len(plan.pending)} pending migration(s); sizes of {len(history.sizes)} table(s)")
        pending = list(plan.pending)
        major = options.target.pg_major or (server_version_num // 10000 if server_version_num else None)
        from .targets.local import LocalTarget  # lazily, like open_target: it loads the local platform

        replay = LocalTarget(major, "production's major") if major and not options.target.pg_major else \
            open_target(replace(options.target, kind="local"))
    else:
        pending, replay = list(migrations.migrations), target
    try:
        with reporter.phase(f"Replay on {replay.label}, traced (every migration, one transaction each)"):
            deploy(replay, migrations, PlanOptions(include_all=True),
                   ApplyOptions(tx_mode="file", statement_timeout=options.statement_timeout, trace="replay"),
                   ReportHooks(report, reporter, replay, record=False, locks=locks))
            locks.before(pending, server_version_num, judge=False)
    finally:
        locks.flush()
        if replay is not target:
            replay.close()
    counts = {s: sum(1 for f in locks.findings if f.severity == s and not f.acknowledged)
              for s in ("error", "warning", "note")}
    report.plan_summary = (f"{len(pending)} migration(s) checked: {counts['error']} error(s), {counts['warning']} "
                           f"warning(s), {counts['note']} note(s) about locks"
                           + ("; sizes from production" if remote else
                              "; sizes from the replay (give credentials to rank by production's sizes)"))
    if not locks.findings:
        reporter.progress("  no lock-safety findings")
    locks.after(include_static=True)


def _assertions(target: Any, migrations: MigrationSet, suite: list[Any], outcome: DeployOutcome, report: Report,
                reporter: Reporter) -> None:
    if not suite:
        reporter.progress("No assertions ran: nothing was verified (add assertions/ or pass --assertions)")
        report.verified = False
        return
    report.verified = True
    if outcome.gate_result is not None:
        with reporter.phase("Assertions (inside the deploy transaction, before COMMIT)"):
            checks.check(suite, outcome.gate_result, migrations, report, reporter, outcome.gate_failed)
    elif outcome.rolled_back:
        reporter.progress("Assertions skipped: a dry run without the gate rolls back before they could run.")
        report.verified = False
    else:
        with reporter.phase("Assertions"):
            checks.verify(target, suite, migrations, report, reporter)


def _honest_plan(outcome: DeployOutcome, options: Options, suite: list[Any], report: Report) -> str:
    """What the real deploy, in the chosen mode, would do: one sentence, consistent with everything above."""
    would = [r for r in outcome.results if r.status in ("would-apply", "rolled-back")]
    if not outcome.results:
        return "nothing to apply: the database is up to date"
    pending = [m for m in outcome.plan.pending]
    text = f"a deploy would apply {len(would)} migration(s), {_mode_words(options.tx_mode, len(would), pending)}"
    failed = report.failed_assertions
    if not suite:
        return text + "; nothing would be verified (no assertions)"
    if not failed:
        return text + f"; all {len(suite)} assertion(s) would pass"
    if options.tx_mode == "all" or options.gate:
        return text + f"; {len(failed)} assertion(s) would fail, so the gate would roll everything back"
    return (text + f"; {len(failed)} assertion(s) would fail AFTER the files committed (file mode does not gate: "
            "use --tx-mode all to roll back instead)")


class ReportHooks(Hooks):
    """The engine's events, reported as they happen; a request still running says so, and what it waits for."""

    def __init__(self, report: Report, reporter: Reporter, target: Any = None, record: bool = True,
                 confirm: bool = False, locks: LockCheck | None = None) -> None:
        self.report = report
        self.locks = locks
        self.reporter = reporter
        self.target = target
        self.record = record
        self.confirm = confirm
        self.plans: list[Plan] = []
        self._beat: threading.Timer | None = None
        self._started = 0.0
        self._what = ""
        self._tag: str | None = None

    def plan(self, plan: Plan) -> None:
        self.plans.append(plan)
        if self.locks is not None and self.locks.static_on_plan:
            self.locks.before(plan.pending, plan.history.server_version_num)
        if self.confirm and len(self.plans) == 1 and plan.pending and not plan.blocked:
            self.reporter.progress(f"About to apply {len(plan.pending)} migration(s) to {self.report.database}:")
            for migration in plan.pending:
                self.reporter.progress(f"  ○ {migration.version}  {migration.name}")
            if not self.reporter.confirm("Apply them now?"):
                raise Cancelled("cancelled at the prompt: nothing was applied")

    def starting(self, batch: list[Migration], how: str, tag: str | None = None) -> None:
        names = ", ".join(m.version for m in batch[:5]) + (" …" if len(batch) > 5 else "")
        self.reporter.progress(f"  → {names} ({how})")
        self.stop_heartbeat()
        self._started, self._what, self._tag = time.monotonic(), names, tag
        self._schedule()

    def _schedule(self) -> None:
        self._beat = threading.Timer(HEARTBEAT_S, self._heartbeat)
        self._beat.daemon = True
        self._beat.start()

    def _heartbeat(self) -> None:
        elapsed = time.monotonic() - self._started
        waiting = ""
        blockers = getattr(self.target, "blockers", None)
        if blockers is not None and self._tag:
            found = blockers(self._tag)
            if found:
                waiting = "; waiting for a lock held by " + "; ".join(
                    f"pid {b['pid']} ({b.get('application') or b.get('user')}, {b.get('state')}: "
                    f"{(b.get('query') or '')[:80]!r})" for b in found[:3])
        self.reporter.progress(f"  … still applying {self._what} ({elapsed:.0f} s){waiting}")
        self._schedule()

    def stop_heartbeat(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None

    def result(self, result: MigrationResult) -> None:
        self.stop_heartbeat()
        entry = result.__dict__.copy()
        if self.record:
            self.report.migrations.append(entry)
        self.reporter.migration(entry)

    def waiting(self, message: str) -> None:
        self.reporter.progress(f"  … {message}")

    def note(self, problem: Problem) -> None:
        _warn(self.report, self.reporter, [problem])

    def traced(self, findings: list[Any]) -> None:
        if self.locks is not None:
            self.locks.traced(findings)


def _verify(target: Any, migrations: MigrationSet, suite: list[Any], options: Options, report: Report,
            reporter: Reporter, replay_first: bool) -> None:
    """Run the assertions; the local database starts empty, so there the migrations are replayed first."""
    if replay_first:
        with reporter.phase("Replay the migrations on the local database"):
            apply = ApplyOptions(tx_mode="all", statement_timeout=options.statement_timeout)
            outcome = deploy(target, migrations, _plan_options(options), apply,
                             ReportHooks(report, reporter, target, record=False))
            report.tables = None if outcome.rolled_back else outcome.tables
    report.verified = True
    with reporter.phase("Assertions"):
        checks.verify(target, suite, migrations, report, reporter)


def _status(history: History, migrations: MigrationSet, report: Report) -> None:
    """Local | Remote | Applied at, like `supabase migration list`, with what would stop a deploy marked."""
    from .plan import make_plan

    plan = make_plan(migrations, history, PlanOptions(include_all=True, allow_drift=True))
    drifted = {m.version for m in plan.drifted}
    out_of_order = {m.version for m in plan.out_of_order}
    local = {m.version for m in migrations.migrations}
    remote = history.by_version()
    for version in sorted(local | set(remote)):
        row = remote.get(version)
        note = ("drift: edited after it was applied" if version in drifted else
                "remote only: not in the local folder" if version not in local else
                "out of order: older than the newest applied" if version in out_of_order else "")
        report.status_rows.append({
            "local": version if version in local else None,
            "remote": version if row else None,
            "applied_at": (row.applied_at if row and row.applied_at else _time_of(version) if row else None),
            "note": note,
        })
    report.pending = sorted(local - set(remote))


def _time_of(version: str) -> str | None:
    """Like the CLI: a 14-digit version is a UTC timestamp."""
    if len(version) == 14 and version.isdigit():
        v = version
        return f"{v[0:4]}-{v[4:6]}-{v[6:8]} {v[8:10]}:{v[10:12]}:{v[12:14]}"
    return None


def _not_available_locally(exc: MigrationFailed, target: Any) -> NotAvailableLocally:
    """A migration needs something the local replay lacks: say so, distinctly from a broken migration."""
    from .platform import STAND_INS, missing_extension

    problem = next(p for p in exc.problems if p.kind == "not-installed")
    name = missing_extension(problem.sql.message if problem.sql else problem.message)
    what = f"extension {name}" if name else "a call that needs the outside world"
    message = (f"{what} is not available in supadeploy's local replay ({target.label}); this says nothing about "
               "your migration, which may well deploy on a hosted project. Check it with a dry run against a "
               "staging project instead (supadeploy plan --project-ref <staging-ref>). Replayable locally: "
               f"PostgreSQL's contrib extensions, pgvector, and stand-ins for {', '.join(STAND_INS)}.")
    if problem.sql:
        message += f"\nPostgreSQL said: {problem.sql.sqlstate}: {problem.sql.message}"
    return NotAvailableLocally(message, [Problem(message, file=problem.file, line=problem.line,
                                                 title="Not available in the local replay", kind="not-installed")])


def _warn(report: Report, reporter: Reporter, problems: tuple[Problem, ...] | list[Problem]) -> None:
    for problem in problems:
        report.add_problem(problem, "warning")
        reporter.problem(problem, "warning")
