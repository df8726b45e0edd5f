"""`supadeploy advise`: Supabase's Security and Performance Advisors on the target's database as it is.

On a URL or the API: one read-only request (and, on the API, one for the exposed schemas). On the local
replay: every migration is replayed first. Each finding is blamed on the migration file and line that made
its object; every finding counts (there is no baseline: this is the baseline), unless its file accepts it
with `-- supadeploy: allow <lint> — why`. Exit 1 at or above --max-advisor-level, so a scheduled workflow
can gate on it.
"""

from __future__ import annotations

from ..engine.apply import deploy
from ..engine.plan import PlanOptions
from ..engine.run import ApplyOptions, TxMode
from .advising import Advisors
from .context import Context
from .live import LiveHooks


def run(ctx: Context) -> None:
    reporter = ctx.reporter
    advisors = Advisors(ctx)
    if not ctx.remote:
        with reporter.phase(f"Replay on {ctx.target.label} (every migration, one transaction each)"):
            deploy(ctx.target, ctx.migrations, PlanOptions(include_all=True),
                   ApplyOptions(tx_mode=TxMode.FILE, statement_timeout=ctx.value("statement-timeout")),
                   LiveHooks(reporter, ctx.target, record=False))
    verdict = advisors.after_replay(ctx.target, None, None)
    reporter.report.plan_summary = advisors.sentence(verdict)
    advisors.refuse(verdict)
