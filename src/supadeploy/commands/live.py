"""The engine's events, shown as they happen: each request as it starts, each migration as it ends, a
heartbeat while a request runs long (with what it waits for), waits and retries, traced lock findings."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from ..engine.blockers import sessions_text
from ..engine.hooks import Hooks
from ..engine.migrations import Migration
from ..engine.plan import Plan
from ..errors import Cancelled, Interrupted
from ..locks.analyze import findings
from ..locks.check import LockReview
from ..model import Level, MigrationResult, MigrationStatus, Problem
from ..report.reporter import Reporter
from ..targets.base import Target

HEARTBEAT_S = float(os.environ.get("SUPADEPLOY_HEARTBEAT") or 10)  # a request still running says so this often


class LiveHooks(Hooks):
    """`record`: the migrations go into the report (a replay for another purpose only shows them).
    `locks`: traced findings are judged by this review (measured on `measured_on`: production or replay).
    `on_plan`: what the command does with each plan before anything is applied.
    `on_probe`: what the command does with what the engine's Probe read at a transaction's end."""

    def __init__(self, reporter: Reporter, target: Target, record: bool = True, locks: LockReview | None = None,
                 measured_on: str = "replay", on_plan: Callable[[Plan], None] | None = None,
                 on_probe: Callable[[list[Migration], Any], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        """`should_stop`: asked before each request is sent (a fleet rollout's Ctrl-C reaches its deploys here)."""
        self.reporter = reporter
        self.should_stop = should_stop
        self.target = target
        self.record = record
        self.locks = locks
        self.measured_on = measured_on
        self.on_plan = on_plan
        self.on_probe = on_probe
        self.plans: list[Plan] = []
        self._beat: threading.Timer | None = None
        self._started = 0.0
        self._what = ""
        self._tag: str | None = None
        self._in_transaction: set[str] = set()  # files sent in a (traced) transaction

    def plan(self, plan: Plan) -> None:
        self.plans.append(plan)
        if self.on_plan is not None:
            self.on_plan(plan)

    def starting(self, batch: list[Migration], how: str, tag: str | None = None) -> None:
        names = ", ".join(m.version for m in batch[:5]) + (" …" if len(batch) > 5 else "")
        if self.should_stop is not None and self.should_stop():
            raise Interrupted(f"interrupted before {names} was sent: nothing is in flight (migrations reported as "
                              "applied are committed)")
        self._in_transaction.update(m.display_path for m in batch if m.transactional)
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
        found = self.target.blockers(self._tag) if self._tag else []
        waiting = f"; waiting for a lock held by {sessions_text(found, 3)}" if found else ""
        self.reporter.progress(f"  … still applying {self._what} ({elapsed:.0f} s){waiting}")
        self._schedule()

    def stop_heartbeat(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None

    def result(self, result: MigrationResult) -> None:
        self.stop_heartbeat()
        if (self.locks is not None and result.file in self._in_transaction
                and result.status in (MigrationStatus.APPLIED, MigrationStatus.WOULD_APPLY)):
            self.locks.ran_traced(result.file)  # its transaction's trace came back: it speaks for the file
        self.reporter.migration(result, record=self.record)

    def waiting(self, message: str) -> None:
        self.reporter.progress(f"  … {message}")

    def note(self, problem: Problem) -> None:
        self.reporter.problem(problem, Level.WARNING)

    def traced(self, batch: list[Migration], rows: list[dict[str, Any]]) -> None:
        if self.locks is not None:
            for migration in batch:
                self.locks.ran_traced(migration.display_path)
            self.reporter.findings(self.locks.traced(findings(batch, rows, self.measured_on)))

    def probed(self, batch: list[Migration], value: Any) -> None:
        if self.on_probe is not None:
            self.on_probe(batch, value)


def confirm_plan(reporter: Reporter, plan: Plan) -> None:
    """Before a deploy to a remote database from a terminal: what will be applied, and a question."""
    reporter.progress(f"About to apply {len(plan.pending)} migration(s) to {reporter.report.database}:")
    for migration in plan.pending:
        reporter.progress(f"  ○ {migration.version}  {migration.name}")
    if not reporter.confirm("Apply them now?"):
        raise Cancelled("cancelled at the prompt: nothing was applied")
