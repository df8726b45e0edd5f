"""`supadeploy plan`: what a deploy would do. With credentials a dry run (deploy.py, always rolled back);
`--no-dry-run` (or no credentials and no dry run asked) reads history only and sends nothing else."""

from __future__ import annotations

from ..engine.apply import plan_only
from ..locks.check import LockReview
from . import deploy
from .context import Context


def run(ctx: Context) -> None:
    if ctx.dry_run:
        deploy.run(ctx)
        return
    reporter, report = ctx.reporter, ctx.reporter.report
    with reporter.phase("Plan (history only, nothing applied)"):
        plan = plan_only(ctx.target, ctx.migrations, ctx.plan_options)
        locks = LockReview(ctx.options.max_lock_risk)
        locks.check_static(plan.pending, plan.history.server_version_num)
        reporter.findings(locks.release_static())
        locks.refuse(locks.findings, before=False)
        reporter.warnings(plan.warnings)
        report.pending = [m.version for m in plan.pending]
        for migration in plan.pending:
            reporter.progress(f"  ○ {migration.version}  {migration.name}  ({len(migration.statements)} statements"
                              f"{', outside a transaction' if not migration.transactional else ''})")
    plan.refuse_if_blocked()
    report.schema_version = max(plan.history.versions) if plan.history.versions else None
    report.plan_summary = (f"a deploy would apply {len(plan.pending)} migration(s), "
                           f"{deploy.mode_words(ctx.options.tx_mode, plan.pending)}"
                           if plan.pending else "nothing to apply: the database is up to date")
