"""`supadeploy lint`: lock safety and Supabase's advisors. Every migration is replayed and traced on a local
database; with credentials, production's history says which files are pending and its table sizes rank the
findings (one read-only request), and production's advisor findings are the baseline (one more)."""

from __future__ import annotations

from dataclasses import replace

from ..engine.apply import deploy
from ..engine.blockers import locked_tables
from ..engine.history import read_history
from ..engine.plan import PlanOptions, make_plan
from ..engine.run import ApplyOptions, TxMode
from ..locks.check import LockReview
from ..locks.trace import LockTracer
from ..targets import open_target
from ..targets.base import Target
from ..targets.local import LocalTarget
from .advising import Advisors
from .context import Context, target_settings
from .live import LiveHooks


def run(ctx: Context) -> None:
    reporter, report = ctx.reporter, ctx.reporter.report
    locks = LockReview(ctx.options.max_lock_risk)
    advisors = Advisors(ctx)
    server_version_num = None
    pending = list(ctx.migrations.migrations)
    replay: Target = ctx.target
    if ctx.remote:
        with reporter.phase("Production: history and the sizes of the tables the migrations lock (read only)"):
            history = read_history(ctx.target, sizes=locked_tables(ctx.migrations.migrations))
            plan = make_plan(ctx.migrations, history, ctx.plan_options)
            plan.refuse_if_blocked()
            locks.sizes, locks.only = history.sizes, {m.display_path for m in plan.pending}
            server_version_num = history.server_version_num
            report.pending = [m.version for m in plan.pending]
            reporter.progress(f"  {len(plan.pending)} pending migration(s); sizes of {len(history.sizes)} table(s)")
        pending = list(plan.pending)
        major = ctx.options.pg_major or (server_version_num // 10000 if server_version_num else None)
        replay = LocalTarget(major, "production's major") if major and not ctx.options.pg_major else \
            open_target(replace(target_settings(ctx.options), kind="local"))
    try:
        with reporter.phase(f"Replay on {replay.label}, traced (every migration, one transaction each)"):
            deploy(replay, ctx.migrations, PlanOptions(include_all=True),
                   ApplyOptions(tx_mode=TxMode.FILE, statement_timeout=ctx.value("statement-timeout"),
                                tracer=LockTracer()),
                   LiveHooks(reporter, replay, record=False, locks=locks))
            locks.check_static(pending, server_version_num)
        verdict = advisors.after_replay(replay, pending, advisors.production() if ctx.remote else None)
    finally:
        reporter.findings(locks.release_static())
        if replay is not ctx.target:
            replay.close()
    open_findings = [f for f in locks.findings if not f.acknowledged]
    counts = {s: sum(1 for f in open_findings if f.severity == s) for s in ("error", "warning", "note")}
    report.plan_summary = (f"{len(pending)} migration(s) checked: {counts['error']} error(s), {counts['warning']} "
                           f"warning(s), {counts['note']} note(s) about locks"
                           + ("; sizes from production" if ctx.remote else
                              "; sizes from the replay (give credentials to rank by production's sizes)"))
    report.plan_summary += f"; {advisors.sentence(verdict)}"
    if not locks.findings:
        reporter.progress("  no lock-safety findings")
    locks.refuse(locks.findings, before=False)
    advisors.refuse(verdict)
