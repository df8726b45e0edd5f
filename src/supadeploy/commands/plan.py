"""`supadeploy plan`: what a deploy would do. With credentials a dry run (deploy.py, always rolled back).
Without them the files are replayed on the local database, which is thrown away anyway (so each file runs
as a deploy runs it, one transaction each, and a failure is placed at its file and line): a file the replay
cannot apply is never reported as fine. `--no-dry-run` reads history only and sends nothing else (locally
there is no history: nothing is started)."""

from __future__ import annotations

from ..engine.blockers import locked_tables
from ..engine.history import History, read_history
from ..engine.plan import make_plan
from ..locks.check import LockReview
from . import deploy, drift
from .changes import lock_scope, news
from .context import Context


def run(ctx: Context) -> None:
    if ctx.dry_run or (not ctx.remote and ctx.options.dry_run is None):
        deploy.run(ctx)
        return
    # One request: history, and the sizes that rank squawk's findings as a dry run's trace would.
    history = read_history(ctx.target, sizes=locked_tables(ctx.migrations.migrations)) if ctx.remote \
        else History(exists=False, rows=())
    if ctx.remote:
        drift.before_deploy(ctx, history)  # a remote database that drifted from its migrations: before the plan
    reporter, report = ctx.reporter, ctx.reporter.report
    reported = news(ctx)
    with reporter.phase("Plan (history only, nothing applied)"):
        plan = make_plan(ctx.migrations, history, ctx.plan_options)
        locks = LockReview(ctx.options.max_lock_risk, sizes=history.sizes,
                           scope=lock_scope(ctx, plan.pending, reported))
        locks.check_static([m for m in plan.pending if locks.scope is None or locks.scope.reports(m.display_path)],
                           plan.history.server_version_num)
        reporter.findings(locks.release_static())
        locks.refuse(locks.findings, before=False)
        reporter.warnings(plan.warnings)
        report.pending = [m.version for m in plan.pending]
        for migration in plan.pending:
            reporter.progress(f"  ○ {migration.version}  {migration.name}  ({len(migration.statements)} statements"
                              f"{', outside a transaction' if not migration.transactional else ''})")
    plan.refuse_if_blocked()
    report.schema_version = max(plan.history.versions) if plan.history.versions else None
    if not ctx.remote:
        report.plan_summary = (f"{len(plan.pending)} migration file(s) listed, none replayed (--no-dry-run); a "
                               "dry run replays them locally, credentials compare them with your project")
        return
    report.plan_summary = (f"a deploy would apply {len(plan.pending)} migration(s), "
                           f"{deploy.mode_words(ctx.options.tx_mode, plan.pending)}"
                           if plan.pending else "nothing to apply: the database is up to date")
