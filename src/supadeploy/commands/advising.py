"""Supabase's advisors and the Data API around a command (deploy, plan, lint, advise).

- Which schemas the Data API exposes: on the API target the project's PostgREST config (`db_schema`), else
  `[api] schemas` of supabase/config.toml, else Supabase's default (public, graphql_public).
- The advisors' findings: from inside a dry run (the engine's Probe, before the rollback) or read from a
  replay; blamed on the file and line that made them; judged against production's (credentials given) or the
  files this run applied; reported through the one Reporter; `--max-advisor-level` decides what fails.
- After a real deploy: PostgREST was told to reload at each commit (the Probe); on the API target the new
  objects are awaited in the Management API's OpenAPI document, bounded, and a miss fails the run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from ..checks.advisors import Finding, Ledger, Status, Verdict, all_lints, assess, attribute, run
from ..checks.advisors.data_api import (
    ApiObject,
    await_exposure,
    expected_objects,
    exposed_of,
    exposure_sql,
    reload_sql,
)
from ..checks.advisors.probe import DeployProbe
from ..checks.advisors.query import DEFAULT_EXPOSED, AdvisorError, exposed_schemas_from_config, function_answer
from ..engine.migrations import Migration
from ..engine.run import DeployOutcome
from ..errors import AdvisorsOverLimit, DataApiNotExposed, SupadeployError
from ..model import Level, Problem
from ..targets.api import ApiTarget
from ..targets.base import Target, single_json
from .context import Context

WAIT_S = float(os.environ.get("SUPADEPLOY_DATA_API_WAIT") or 30)  # the bound on awaiting the Data API
FIRST_PAUSE_S = 0.25
LONGEST_PAUSE_S = 8.0
ORDER = {Status.NEW: 0, Status.ACKNOWLEDGED: 1, Status.FIXED: 2, Status.IN_PRODUCTION: 3, Status.EARLIER: 4}


def pauses(bound: float | None = None) -> list[float]:
    """Waits between checks: doubling from a quarter second, none longer than 8 s, adding up to `bound`
    (default WAIT_S)."""
    bound = WAIT_S if bound is None else bound
    found: list[float] = []
    step = FIRST_PAUSE_S
    while sum(found) < bound:
        found.append(min(step, LONGEST_PAUSE_S, bound - sum(found)))
        step *= 2
    return found


class Advisors:
    """One command's advisors and Data API checks (built lazily: nothing is asked before it is needed)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.threshold = ctx.options.max_advisor_level
        self.probed: dict[str, Finding] = {}  # the dry run's findings by key (a union over its transactions)
        self.probe_errors: list[str] = []
        self._exposed: tuple[str, ...] | None = None

    # -- what the Data API exposes ----------------------------------------------------------------------
    def exposed(self) -> tuple[str, ...]:
        if self._exposed is None:
            self._exposed, why = self._find_exposed()
            self.ctx.reporter.progress(f"  Data API schemas: {', '.join(self._exposed)} ({why})")
        return self._exposed

    def _find_exposed(self) -> tuple[tuple[str, ...], str]:
        target = self.ctx.target
        if isinstance(target, ApiTarget):
            try:
                return target.exposed_schemas(), "the project's PostgREST config"
            except SupadeployError as exc:
                self.ctx.reporter.warnings([Problem(
                    f"could not read the project's PostgREST config ({exc}); the advisors and the Data API check "
                    "use the exposed schemas of supabase/config.toml or Supabase's default instead",
                    title="Data API schemas")])
        path = self._config_toml()
        if path is not None:
            found = exposed_schemas_from_config(path.read_text(encoding="utf-8"), self.ctx.layout.shown(path))
            if found is not None:
                return found, f"[api] schemas of {self.ctx.layout.shown(path)}"
        return DEFAULT_EXPOSED, "Supabase's default"

    def _config_toml(self) -> Path | None:
        layout = self.ctx.layout
        for candidate in (layout.root / "supabase" / "config.toml", layout.migrations.parent / "config.toml"):
            if candidate.is_file():
                return candidate
        return None

    # -- the advisors -----------------------------------------------------------------------------------
    def probe(self) -> DeployProbe:
        """For ApplyOptions: the advisors inside a dry run; PostgREST's reload at each commit of a real deploy
        to a remote database (the local replay has no Data API)."""
        return DeployProbe(self.exposed, dry_run=self.ctx.dry_run, reload=self.ctx.remote)

    def on_probe(self, batch: list[Migration], value: Any) -> None:
        """A dry-run transaction's findings (LiveHooks hands them over as the engine reads them)."""
        try:
            found = function_answer(value)
        except AdvisorError as exc:
            self.probe_errors.append(str(exc))
            return
        for finding in found:
            self.probed.setdefault(finding.key, finding)

    @cached_property
    def ledger(self) -> Ledger:
        """Every migration file, in order: where each object was created or last changed."""
        return Ledger.of(self.ctx.migrations.migrations)

    def read(self, target: Target) -> list[Finding]:
        """The findings of the database behind `target` as it is (one read request)."""
        return run(target, self.exposed())

    def production(self) -> list[Finding]:
        """Production's findings, the baseline: blamed on the migrations too (for people; they never fail)."""
        with self.ctx.reporter.phase("Advisors: production's findings, the baseline (read only)"):
            found = attribute(self.read(self.ctx.target), self.ledger, all_lints())
            self.ctx.reporter.progress(f"  {len(found)} finding(s) already in production")
        return found

    def judge(self, found: Sequence[Finding], pending: Sequence[Migration] | None,
              production: Sequence[Finding] | None, same_database: bool = False) -> Verdict:
        """Blame each finding on its statement, then judge it: against production's when given (`same_database`:
        `found` was read inside a dry run on production), else against the files this run applied (`pending`),
        else (the database as it is: advise) every finding counts."""
        blamed = attribute(found, self.ledger, all_lints())
        sources = {m.display_path: m.text for m in self.ctx.migrations.migrations}
        if production is not None:
            return assess(blamed, sources, self.threshold, production=production,
                          pending=Ledger.of(pending or ()), same_database=same_database)
        files = None if pending is None else {m.display_path for m in pending}
        return assess(blamed, sources, self.threshold, pending_files=files)

    def report(self, verdict: Verdict) -> None:
        """Every finding into the report (the worst first), and one line that counts them."""
        found = sorted(verdict.reported, key=lambda f: (ORDER[f.status], not f.over_limit,
                                                        -f.severity.rank, f.file, f.line, f.key))
        self.ctx.reporter.findings(found)
        self.ctx.reporter.progress(f"  {self.sentence(verdict)}")

    def sentence(self, verdict: Verdict) -> str:
        found = verdict.reported
        if not found:
            return "advisors: no findings"
        counts = {status: sum(1 for f in found if f.status is status) for status in ORDER}
        new = counts.pop(Status.NEW)
        text = f"advisors: {new} new"
        if new:
            text += f" ({len(verdict.failing)} at or above --max-advisor-level {self.threshold})"
        return text + "".join(f", {n} {status.value}" for status, n in counts.items() if n)

    def refuse(self, verdict: Verdict | None) -> None:
        """Fail the run when a new finding is at or above the threshold and not acknowledged."""
        failing = verdict.failing if verdict is not None else []
        if not failing:
            return
        where = ", ".join(f"{f.file or f.ref}{':' + str(f.line) if f.line else ''} {f.lint}" for f in failing[:3])
        raise AdvisorsOverLimit(
            f"{len(failing)} new advisor finding(s) at or above --max-advisor-level {self.threshold} ({where}"
            f"{' …' if len(failing) > 3 else ''}). Fix them as the linked remediation says, or accept one on "
            "purpose with `-- supadeploy: allow <lint> — why` above its statement", [])

    def after_dry_run(self, pending: Sequence[Migration]) -> Verdict | None:
        """The dry run's findings (read before its rollback), judged; None when it applied nothing."""
        for error in self.probe_errors:
            self.ctx.reporter.warnings([Problem(f"the advisors could not run inside the dry run: {error}",
                                                title="Advisors")])
        if not pending or self.probe_errors:
            return None
        production = self.production() if self.ctx.remote else None
        with self.ctx.reporter.phase("Advisors: Supabase's Security and Performance lints, as the pending "
                                     "migrations leave the database"):
            verdict = self.judge(list(self.probed.values()), pending, production, same_database=True)
            self.report(verdict)
        return verdict

    def after_replay(self, replay: Target, pending: Sequence[Migration] | None,
                     production: Sequence[Finding] | None) -> Verdict:
        """The findings of the database behind `replay` (`pending`: the files production lacks, or all of them;
        None: the database as it is, every finding counts)."""
        with self.ctx.reporter.phase(f"Advisors: Supabase's Security and Performance lints on {replay.label}"):
            verdict = self.judge(self.read(replay), pending, production)
            self.report(verdict)
        return verdict

    # -- the Data API after a real deploy ---------------------------------------------------------------
    def data_api(self, outcome: DeployOutcome) -> None:
        """PostgREST was told to reload at each commit that changed an exposed schema; files that ran outside a
        transaction get one more NOTIFY; on the API target, the new objects are awaited in its OpenAPI document."""
        if not self.ctx.remote or outcome.rolled_back:
            return
        by_version = self.ctx.migrations.by_version()
        applied = [by_version[r.version] for r in outcome.applied if r.version in by_version]
        ledger = Ledger.of(applied)
        if not applied or not (ledger.touched or ledger.config_changed):
            return
        notify = reload_sql(ledger, self.exposed())
        if notify is None:
            return
        with self.ctx.reporter.phase("Data API (PostgREST)"):
            outside = Ledger.of([m for m in applied if not m.transactional])
            if reload_sql(outside, self.exposed()) is not None:  # statements outside a transaction: no commit to ride
                self.ctx.target.run(notify, safe_to_resend=True)
            self.ctx.reporter.progress("  told PostgREST to reload its schema cache (NOTIFY pgrst, delivered at "
                                       "commit)")
            if isinstance(self.ctx.target, ApiTarget):
                self._confirm(self.ctx.target, expected_objects(ledger, self.exposed()))

    def _confirm(self, target: ApiTarget, candidates: list[ApiObject]) -> None:
        if not candidates:
            return
        served = exposed_of(single_json(target.run(exposure_sql(candidates), safe_to_resend=True)), candidates)
        if not served:
            self.ctx.reporter.progress(f"  the deploy created {len(candidates)} object(s) in exposed schemas; anon "
                                       "may use none of them, so the Data API lists none")
            return
        waits = pauses()
        try:
            missing = await_exposure(served, target.openapi, lambda attempt: time.sleep(waits[attempt - 1]),
                                     lambda text: self.ctx.reporter.progress(f"  … {text}"), len(waits) + 1)
        except SupadeployError as exc:
            self.ctx.reporter.problem(Problem(f"could not read the Data API's OpenAPI document to check the deploy: "
                                              f"{exc}", title="Data API"), Level.WARNING)
            return
        if missing:
            names = ", ".join(m.label for m in missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10
                                                                else "")
            raise DataApiNotExposed(
                f"the Data API does not serve {names} {WAIT_S:.0f} s after the deploy committed (the Management "
                "API's OpenAPI document lacks them): PostgREST's schema cache is stale. The deploy is committed; "
                "run `NOTIFY pgrst, 'reload schema';` and check the Data API settings of the project", [
                    Problem(f"the Data API does not serve {m.label} after the deploy", title="Data API",
                            kind="data-api") for m in missing])
        self.ctx.reporter.progress(f"  the Data API serves all {len(served)} new object(s) anon may use "
                                   "(checked in its OpenAPI document)")
