"""What each command does, on top of the engine; reports through the Reporter only."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .apply import ApplyOptions, Hooks, MigrationResult, deploy, plan_only
from .errors import MigrationFailed, NotAvailableLocally, Problem
from .history import History
from .migrations import MigrationSet, load_migrations, shown_path
from .plan import Plan, PlanOptions, read_history
from .reporting import Report, Reporter
from .targets import TargetSettings, open_target


def run_command(args: argparse.Namespace, report: Report, reporter: Reporter) -> None:
    root = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())
    settings = TargetSettings.from_env(args.target, args.db_url, args.project_ref, args.access_token,
                                       args.api_url, args.api_timeout, args.pg_major, root)
    report.target = settings.resolved_kind()
    migrations = load_migrations(args.migrations_dir, display_root=root)
    _warn(report, reporter, migrations.warnings)
    _check_target_version(args.target_version, migrations)
    if args.command in ("plan", "deploy", "verify") and not args.no_assertions:  # refused before any database
        from . import assertions as checks

        args.suite = checks.load_suite(args.assertions, root, required=args.command == "verify")
    target = open_target(settings)
    report.database = target.label
    target.on_wait = lambda message: reporter.progress(f"  … {message}")
    _warn(report, reporter, [Problem(w, title="Access token") for w in getattr(target, "warnings", [])])
    remote = report.target != "local"
    if args.dry_run is None:  # `plan` against a real project shows exactly what a deploy would do
        args.dry_run = args.command == "plan" and remote
    report.dry_run = bool(args.dry_run)
    try:
        _run(target, migrations, args, report, reporter, root, remote)
    except MigrationFailed as exc:
        if remote or not any(p.kind == "not-installed" for p in exc.problems):
            raise
        raise _not_available_locally(exc, target) from None
    finally:
        report.round_trips = target.round_trips
        target.close()


def _not_available_locally(exc: MigrationFailed, target) -> NotAvailableLocally:
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


def _run(target, migrations: MigrationSet, args: argparse.Namespace, report: Report, reporter: Reporter,
         root: Path, remote: bool) -> None:
    if args.command == "plan" and not args.dry_run:
        _plan(target, migrations, args, report, reporter)
    elif args.command in ("plan", "deploy"):
        _deploy(target, migrations, args, report, reporter, root)
    elif args.command == "status":
        _status(read_history(target), migrations, report)
    elif args.command == "verify":
        _verify(target, migrations, args, report, reporter, root, replay_first=not remote)


def _check_target_version(version: str | None, migrations: MigrationSet) -> None:
    from .errors import ConfigError
    from .masking import shown

    if version is not None and version not in migrations.by_version():
        raise ConfigError(f"--target-version {shown(version)} is not the version of a migration in "
                          f"{migrations.directory}; the newest is "
                          f"{migrations.migrations[-1].version if migrations.migrations else 'none'}")


def plan_options(args: argparse.Namespace) -> PlanOptions:
    return PlanOptions(include_all=args.include_all, allow_drift=args.allow_drift,
                       target_version=args.target_version)


def _plan(target, migrations: MigrationSet, args: argparse.Namespace, report: Report,
          reporter: Reporter) -> None:
    with reporter.phase(f"Plan: {report.target}"):
        plan = plan_only(target, migrations, plan_options(args))
        _warn(report, reporter, plan.warnings)
        report.pending = [m.version for m in plan.pending]
        reporter.progress(f"{len(plan.pending)} pending migration(s) on {report.target}:")
        for migration in plan.pending:
            reporter.progress(f"  ○ {migration.version}  {migration.name}  ({len(migration.statements)} statements)")
    plan.refuse_if_blocked()
    if plan.pending:
        _note(report, reporter, f"{len(plan.pending)} migration(s) would be applied: "
                                f"{', '.join(m.version for m in plan.pending[:20])}{' …' if len(plan.pending) > 20 else ''}")


def _deploy(target, migrations: MigrationSet, args: argparse.Namespace, report: Report,
            reporter: Reporter, root: Path) -> None:
    from . import assertions as checks
    from .errors import ConfigError

    one_transaction = args.tx_mode == "all" or args.dry_run
    gate = args.gate if args.gate is not None else one_transaction
    if gate and not one_transaction:
        raise ConfigError("--gate needs --tx-mode all: in file mode earlier files commit before the checks run")
    suite = [] if args.no_assertions else args.suite
    if gate and not suite:
        gate = False
    options = ApplyOptions(tx_mode=args.tx_mode, lock_timeout=_timeout(args.lock_timeout, "2s", "10s", args),
                           statement_timeout=args.statement_timeout, lock_wait=_timeout(args.lock_wait, "5s", "30s", args),
                           dry_run=args.dry_run, gate_sql=checks.gate_sql(suite) if gate else None)

    hooks = ReportHooks(report, reporter)
    mode = ("dry run: one transaction, always rolled back" if args.dry_run else f"tx-mode {args.tx_mode}")
    mode += ", gated" if gate else ""
    with reporter.phase(f"Deploy {shown_path(args.migrations_dir, root)} to {report.target} ({mode})"):
        try:
            outcome = deploy(target, migrations, plan_options(args), options, hooks)
        finally:
            if hooks.plans:
                report.pending = [m.version for m in hooks.plans[-1].pending
                                  if m.version not in report.applied_versions]
        _warn(report, reporter, outcome.plan.warnings)
        report.tables = None if outcome.rolled_back else outcome.tables  # nothing committed: nothing to count
        if not outcome.results:
            reporter.progress("Nothing to apply: the database is up to date.")
    if args.dry_run and outcome.results:
        _note(report, reporter, f"Dry run: {len(outcome.results)} migration(s) would be applied; "
                                "everything was rolled back, nothing was committed")
    if not suite:
        return
    if outcome.gate_result is not None:
        with reporter.phase("Assertions (inside the deploy transaction, before COMMIT)"):
            checks.check(suite, outcome.gate_result, migrations, report, reporter, outcome.gate_failed)
    elif outcome.rolled_back:
        reporter.progress("Assertions skipped: a dry run without --gate rolls back before they could run.")
    else:
        with reporter.phase("Assertions"):
            checks.verify(target, suite, migrations, report, reporter)


class ReportHooks(Hooks):
    """The engine's events, reported as they happen."""

    def __init__(self, report: Report, reporter: Reporter, record: bool = True) -> None:
        self.report = report
        self.reporter = reporter
        self.record = record
        self.plans: list[Plan] = []

    def plan(self, plan: Plan) -> None:
        self.plans.append(plan)

    def starting(self, batch, how: str) -> None:
        names = ", ".join(m.version for m in batch[:5]) + (" …" if len(batch) > 5 else "")
        self.reporter.progress(f"  → {names} ({how})")

    def result(self, result: MigrationResult) -> None:
        entry = result.__dict__.copy()
        if self.record:
            self.report.migrations.append(entry)
        self.reporter.migration(entry)

    def waiting(self, message: str) -> None:
        self.reporter.progress(f"  … {message}")

    def note(self, problem: Problem) -> None:
        _warn(self.report, self.reporter, [problem])


def _timeout(given: str | None, dry_run_default: str, default: str, args: argparse.Namespace) -> str:
    """Explicit values win; a dry run waits briefly, so it never blocks production for long."""
    return given or (dry_run_default if args.dry_run else default)


def _verify(target, migrations: MigrationSet, args: argparse.Namespace, report: Report, reporter: Reporter,
            root: Path, replay_first: bool) -> None:
    """Run the assertions; the local database starts empty, so there the migrations are replayed first."""
    from . import assertions

    suite = args.suite
    if replay_first:
        with reporter.phase("Replay the migrations on the local database"):
            options = ApplyOptions(tx_mode="all", statement_timeout=args.statement_timeout)
            outcome = deploy(target, migrations, plan_options(args), options, ReportHooks(report, reporter,
                                                                                         record=False))
            report.tables = None if outcome.rolled_back else outcome.tables  # nothing committed: nothing to count
    with reporter.phase(f"Assertions: {report.target}"):
        assertions.verify(target, suite, migrations, report, reporter)


def _status(history: History, migrations: MigrationSet, report: Report) -> None:
    local = {m.version for m in migrations.migrations}
    remote = history.by_version()
    for version in sorted(local | set(remote)):
        row = remote.get(version)
        report.status_rows.append({
            "local": version if version in local else None,
            "remote": version if row else None,
            "applied_at": (row.applied_at if row and row.applied_at else _time_of(version) if row else None),
        })
    report.pending = sorted(local - set(remote))


def _time_of(version: str) -> str | None:
    """Like the CLI: a 14-digit version is a UTC timestamp."""
    if len(version) == 14 and version.isdigit():
        v = version
        return f"{v[0:4]}-{v[4:6]}-{v[6:8]} {v[8:10]}:{v[10:12]}:{v[12:14]}"
    return None


def _warn(report: Report, reporter: Reporter, problems: tuple[Problem, ...] | list[Problem]) -> None:
    for problem in problems:
        report.add_problem(problem, "warning")
        reporter.problem(problem, "warning")


def _note(report: Report, reporter: Reporter, message: str) -> None:
    problem = Problem(message, title=f"supadeploy {report.command}")
    report.add_problem(problem, "notice")
    reporter.problem(problem, "notice")
