"""`supadeploy deploy` (and `plan` as a dry run): plan, check lock safety, apply, verify, report."""

from __future__ import annotations

import os
from dataclasses import replace

from ..checks.advisors import Verdict
from ..checks.assertions import run as assertions
from ..engine.apply import deploy
from ..engine.blockers import locked_tables, refuse_behind_blockers
from ..engine.failure import NOT_INSTALLED
from ..engine.history import read_history
from ..engine.migrations import Migration
from ..engine.plan import Plan
from ..engine.run import ApplyOptions, DeployOutcome, TxMode
from ..errors import ConfigError, MigrationFailed, SupadeployError
from ..locks.check import LockReview
from ..locks.trace import LockTracer
from ..model import Level, MigrationStatus, Problem
from . import drift
from .advising import Advisors
from .changes import lock_scope, news
from .context import Context
from .live import LiveHooks, confirm_plan


def run(ctx: Context) -> None:
    options, reporter, report = ctx.options, ctx.reporter, ctx.reporter.report
    apply, gate = apply_options(ctx)
    history = None
    if ctx.remote:  # read once: the drift check skips an up-to-date database and the engine plans from it
        history = read_history(ctx.target, blockers=list(apply.guard))
        drift.before_deploy(ctx, history)  # a remote database that drifted from its migrations is refused here
    advisors = Advisors(ctx)
    apply = replace(apply, probe=advisors.probe())
    ask = (options.command == "deploy" and ctx.remote and not ctx.dry_run and not options.yes
           and not (os.environ.get("CI") or os.environ.get("GITHUB_ACTIONS")) and reporter.interactive)
    locks = LockReview(options.max_lock_risk)
    reported = news(ctx)
    warned: list[Plan] = []  # a plan whose warnings were shown before the question

    def on_plan(plan: Plan) -> None:
        """squawk's findings first: a real deploy over the limit applies nothing; then, in a terminal,
        everything the user should weigh, and the question."""
        locks.scope = lock_scope(ctx, plan.pending, reported)
        static = locks.check_static([m for m in plan.pending if locks.scope.reports(m.display_path)],
                                    plan.history.server_version_num)
        if ctx.remote and locks.provisional_tables():  # ranked as the trace would rank them, in every mode
            static = locks.resize_static(read_history(ctx.target, sizes=locks.provisional_tables()).sizes)
        if not ctx.dry_run and locks.over(static):
            reporter.findings(locks.release_static())
            locks.refuse(static, before=True)
        if ask and len(hooks.plans) == 1 and plan.pending and not plan.blocked:
            refuse_behind_blockers(plan, plan.history)  # before the question: it would refuse after it
            reporter.warnings(plan.warnings)
            warned.append(plan)
            reporter.findings(locks.release_static())
            confirm_plan(reporter, plan)

    hooks = LiveHooks(reporter, ctx.target, locks=locks, measured_on="production" if ctx.remote else "replay",
                      on_plan=on_plan, on_probe=advisors.on_probe, should_stop=ctx.should_stop)
    mode = "dry run: one transaction, always rolled back" if ctx.dry_run else f"tx-mode {options.tx_mode}"
    mode += (", gated" if gate else "") + f"; lock_timeout {apply.lock_timeout}, statement_timeout " \
                                          f"{apply.statement_timeout}"
    title = "Deploy" if ctx.remote or options.command == "deploy" else "Replay on the local database"
    with reporter.phase(f"{title} ({mode})"):
        try:
            outcome = deploy(ctx.target, ctx.migrations, ctx.plan_options, apply, hooks, history)
        except MigrationFailed as exc:
            if options.command == "plan" and (ctx.remote or not any(p.kind == NOT_INSTALLED for p in exc.problems)):
                report.plan_summary = _failed_plan(ctx)
            raise
        finally:
            hooks.stop_heartbeat()
            reporter.findings(locks.release_static())
            if hooks.plans:
                report.pending = [m.version for m in hooks.plans[-1].pending  # a plan's: what a deploy would apply
                                  if options.command == "plan" or m.version not in report.applied_versions]
                live = hooks.plans[-1].history.versions + ([] if ctx.dry_run else [
                    m.version for m in report.migrations if m.status == MigrationStatus.APPLIED])
                report.schema_version = max(live) if live else None
        report.tables = None if outcome.rolled_back else outcome.tables  # nothing committed: nothing to count
        if not any(plan is outcome.plan for plan in warned):
            reporter.warnings(outcome.plan.warnings)
        if not outcome.results:
            reporter.progress("  nothing to apply: the database is up to date")
    if outcome.gate_skipped:
        reporter.warnings([Problem("the assertions could not gate the COMMIT: the last migration runs outside a "
                                   "transaction; they ran after it instead", title="Gate skipped")])
    try:
        verify_after(ctx, outcome)
    except SupadeployError:
        try:  # what the advisors found is worth seeing too; the failure above is what ends the run
            advisors_after(ctx, advisors, outcome)
        except SupadeployError as exc:
            reporter.warnings([Problem(f"the advisors could not run: {exc}", title="Advisors")])
        raise
    finally:
        if ctx.dry_run or options.command == "plan":
            report.plan_summary = _honest_plan(ctx, outcome)
    verdict = advisors_after(ctx, advisors, outcome)
    if verdict is not None and report.plan_summary:
        report.plan_summary += f"; {advisors.sentence(verdict)}"
    advisors.data_api(outcome)
    judged = locks.findings if ctx.dry_run else [f for f in locks.findings if not f.static]
    if ctx.remote and not ctx.dry_run:  # the trace saw it in production: the harm is done, report only
        if locks.over(judged):
            reporter.problem(Problem(
                "lock-safety findings over --max-lock-risk were found while deploying: they are reported, but the "
                "deploy had already committed; run `supadeploy lint` (or `plan`) in the pull request to stop them "
                "before they reach production", title="Lock safety after the fact"), Level.WARNING)
        return
    locks.refuse(judged, before=False)
    advisors.refuse(verdict)


def advisors_after(ctx: Context, advisors: Advisors, outcome: DeployOutcome) -> Verdict | None:
    """The advisors after a dry run (read inside it, before the rollback) or a deploy to the local replay (read
    from it); a real deploy to a remote database has none here: they ran in the pull request (plan, lint)."""
    by_version = ctx.migrations.by_version()
    if ctx.dry_run:
        ran = [by_version[r.version] for r in outcome.results if r.version in by_version
               and r.status in (MigrationStatus.WOULD_APPLY, MigrationStatus.ROLLED_BACK)]
        return advisors.after_dry_run(ran)
    applied = [by_version[r.version] for r in outcome.applied if r.version in by_version]
    if ctx.remote or not applied:
        return None
    return advisors.after_replay(ctx.target, applied, None)


def apply_options(ctx: Context) -> tuple[ApplyOptions, bool]:
    """How to apply, from the options and the table's defaults for this run; and whether the assertions gate."""
    options = ctx.options
    one_transaction = options.tx_mode == TxMode.ALL or ctx.dry_run
    gate = options.gate if options.gate is not None else one_transaction
    if gate and not one_transaction:
        raise ConfigError("--gate needs --tx-mode all: in file mode earlier files commit before the checks run")
    gate = gate and bool(ctx.suite)
    apply = ApplyOptions(tx_mode=TxMode(options.tx_mode), lock_timeout=ctx.value("lock-timeout"),
                         statement_timeout=ctx.value("statement-timeout"), lock_wait=ctx.value("lock-wait"),
                         dry_run=ctx.dry_run, gate=assertions.gate(ctx.suite) if gate else None, tracer=LockTracer(),
                         guard=tuple(locked_tables(ctx.migrations.migrations)) if ctx.remote and not ctx.dry_run
                         else ())
    return apply, gate


def verify_after(ctx: Context, outcome: DeployOutcome) -> None:
    """The assertions after a deploy: their results from the gate, or one verify request."""
    reporter = ctx.reporter
    if not ctx.suite:
        reporter.progress("No assertions ran: nothing was verified (add assertions/ or pass --assertions)")
        reporter.report.verified = False
        return
    reporter.report.verified = True
    if outcome.gate_result is not None:
        with reporter.phase("Assertions (inside the deploy transaction, before COMMIT)"):
            found = assertions.results(outcome.gate_result, ctx.suite, ctx.migrations)
            record_assertions(ctx, found, rolled_back=outcome.gate_failed)
    elif outcome.rolled_back:
        reporter.progress("Assertions skipped: a dry run without the gate rolls back before they could run.")
        reporter.report.verified = False
    else:
        with reporter.phase("Assertions"):
            record_assertions(ctx, assertions.verify(ctx.target, ctx.suite, ctx.migrations))


def record_assertions(ctx: Context, found: assertions.Verdicts, rolled_back: bool = False) -> None:
    for result in found.results:
        ctx.reporter.assertion(result)
    ctx.reporter.warnings(found.warnings)  # sequence values the assertions drew that could not be put back
    assertions.raise_if_failed(found.results, rolled_back)


def mode_words(tx_mode: str, pending: list[Migration]) -> str:
    outside = sum(1 for m in pending if not m.transactional)
    text = ("one transaction each" if tx_mode == TxMode.FILE else "in one transaction") + f" (tx-mode {tx_mode})"
    return text + (f", {outside} of them outside a transaction" if outside else "")


def _failed_plan(ctx: Context) -> str:
    """A plan that met a failing file: a deploy would stop there too."""
    failed = next((m.file for m in ctx.reporter.report.migrations if m.status == MigrationStatus.FAILED), None)
    where = f" at {failed}" if failed else ""
    if ctx.remote:
        return f"a deploy would fail{where} (above): fix it before deploying"
    return f"the local replay failed{where} (above): a deploy would fail there too"


def _honest_plan(ctx: Context, outcome: DeployOutcome) -> str:
    """What the real deploy, in the chosen mode, would do: one sentence, consistent with everything above."""
    if not outcome.results:
        return "nothing to apply: the database is up to date"
    would = [r for r in outcome.results if r.status in (MigrationStatus.WOULD_APPLY, MigrationStatus.ROLLED_BACK,
                                                        MigrationStatus.APPLIED)]
    how = mode_words(ctx.options.tx_mode, outcome.plan.pending)
    text = f"a deploy would apply {len(would)} migration(s), {how}" if ctx.remote else (
        f"the local replay applied {len(would)} migration(s): a deploy to a new database would apply them, {how} "
        "(give credentials to plan against your project)")
    unrun = sum(1 for m in outcome.plan.pending if not m.transactional) if ctx.dry_run else 0
    if unrun:
        text += f"; {unrun} non-transactional file(s) were not run (a dry run cannot roll them back)"
    failed = ctx.reporter.report.failed_assertions
    if not ctx.suite:
        return text + "; nothing would be verified (no assertions)"
    if not failed:
        return text + f"; all {len(ctx.suite)} assertion(s) would pass"
    if ctx.options.tx_mode == TxMode.ALL or ctx.options.gate:
        return text + f"; {len(failed)} assertion(s) would fail, so the gate would roll everything back"
    return (text + f"; {len(failed)} assertion(s) would fail AFTER the files committed (file mode does not gate: "
            "use --tx-mode all to roll back instead)")
