"""`supadeploy verify`: the assertions against the target. The local database starts empty, so there the
migrations are replayed first (one transaction, shown but not recorded as a deploy)."""

from __future__ import annotations

from ..checks.assertions import run as assertions
from ..engine.apply import deploy
from ..engine.run import ApplyOptions, TxMode
from .context import Context
from .deploy import record_assertions
from .live import LiveHooks


def run(ctx: Context) -> None:
    reporter = ctx.reporter
    if not ctx.remote:
        with reporter.phase("Replay the migrations on the local database"):
            apply = ApplyOptions(tx_mode=TxMode.ALL, statement_timeout=ctx.value("statement-timeout"))
            outcome = deploy(ctx.target, ctx.migrations, ctx.plan_options, apply,
                             LiveHooks(reporter, ctx.target, record=False))
            reporter.report.tables = None if outcome.rolled_back else outcome.tables
    reporter.report.verified = True
    with reporter.phase("Assertions"):
        record_assertions(ctx, assertions.verify(ctx.target, ctx.suite, ctx.migrations))
