"""One module per command, each a `run(ctx)` on top of the engine and the checks; `run_command` opens the
run's context (every input checked before a database is touched) and hands over."""

from __future__ import annotations

from collections.abc import Callable

from ..options import Options
from ..report.reporter import Reporter
from . import advise, deploy, drift, lint, plan, platform, rollout, status, verify
from .context import Context, opened

COMMANDS: dict[str, Callable[[Context], None]] = {
    "plan": plan.run, "deploy": deploy.run, "verify": verify.run, "status": status.run, "lint": lint.run,
    "advise": advise.run,
    "drift": drift.run,
}


def run_command(options: Options, reporter: Reporter) -> None:
    if options.command == "platform":  # about supadeploy itself: no target, no migrations
        platform.run(options, reporter)
        return
    if options.command == "rollout" or options.fleet is not None:  # many targets: a fleet file names them
        rollout.run(options, reporter)
        return
    with opened(options, reporter) as ctx:
        COMMANDS[options.command](ctx)
