"""Lock safety around one run: squawk's findings before anything is applied, traced ones as each
transaction ends, production's sizes when known, and one verdict against --max-lock-risk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import LockRiskOverLimit, Problem
from ..migrations import Migration
from ..platform.binaries import DEFAULT_MAJOR
from . import SEVERITIES, Finding, at_least, is_acknowledged, resize
from . import squawk

LEVELS = {"error": "error", "warning": "warning", "note": "notice"}


def static(pending: list[Migration], major: int) -> list[Finding]:
    """squawk on the files that would be applied, acknowledgements read from the files themselves."""
    files = [m for m in pending if m.statements]
    found = squawk.run({m.display_path: m.text for m in files}, major)
    by_path = {m.display_path: m for m in files}
    for finding in found:
        migration = by_path.get(finding.file)
        if migration is not None:
            starts = [s.line for s in migration.statements if s.line <= finding.line]
            finding.statement_line = starts[-1] if starts else finding.line
            finding.acknowledged = is_acknowledged(finding, migration.text)
    return found


@dataclass
class LockCheck:
    """Collects, reports and judges one run's findings.

    `sizes` are production's (read with the history); `only` limits findings to these files (lint: the
    files production has not applied yet); `after_commit` says a traced finding arrives when the harm is
    done, so it is reported but cannot fail the run.
    """

    threshold: str
    report: Any
    reporter: Any
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    only: set[str] | None = None
    after_commit: bool = False
    static_on_plan: bool = True  # squawk runs when the engine has planned (lint runs it itself, on its pending)
    static_verdict_first: bool = True  # a real deploy refuses on squawk's findings before applying anything
    findings: list[Finding] = field(default_factory=list)
    checked_static: bool = False
    unreported_static: list[Finding] = field(default_factory=list)

    def before(self, pending: list[Migration], server_version_num: int | None, judge: bool = True) -> None:
        """squawk on the pending files, once; over the threshold (`judge`), nothing is applied.

        They are reported at the end (`flush`), where a traced finding at the same line supersedes them.
        """
        if self.checked_static:
            return
        self.checked_static = True
        major = server_version_num // 10000 if server_version_num else DEFAULT_MAJOR
        found = self.unreported_static = self._keep(static(pending, major))
        if judge and self.static_verdict_first and self._over(found):
            self.flush()
            self._judge(found, before=True)

    def traced(self, found: list[Finding]) -> None:
        self._record(self._keep(found))

    def flush(self) -> None:
        """Report squawk's findings that the trace did not already measure at the same statement."""
        measured = {(f.file, f.statement_line) for f in self.findings if f.effect != "static"}
        rest, self.unreported_static = self.unreported_static, []
        self._record([f for f in rest if (f.file, f.statement_line) not in measured])

    def after(self, include_static: bool = False) -> None:
        """The verdict on what the trace saw (a run that already committed to production only reports)."""
        self.flush()
        judged = [f for f in self.findings if include_static or not self.static_verdict_first or f.effect != "static"]
        if self.after_commit:
            if self._over(judged):
                self.report.add_problem(Problem(
                    "lock-safety findings over --max-lock-risk were found while deploying: they are reported, "
                    "but the deploy had already committed; run `supadeploy lint` (or `plan`) in the pull request "
                    "to stop them before they reach production", title="Lock safety after the fact"), "warning")
            return
        self._judge(judged, before=False)

    def _over(self, found: list[Finding]) -> list[Finding]:
        return [f for f in found if not f.acknowledged and at_least(f.severity, self.threshold)]

    def _keep(self, found: list[Finding]) -> list[Finding]:
        return [f for f in found if self.only is None or f.file in self.only]

    def _record(self, found: list[Finding]) -> None:
        """Into the report (JSON `findings`, annotations, summary, JUnit) and onto the terminal, worst first."""
        ranked = sorted((resize(f, self.sizes) for f in found),
                        key=lambda f: (f.acknowledged, -SEVERITIES.index(f.severity), f.file, f.line))
        for finding in ranked:
            self.findings.append(finding)
            entry = finding.as_dict()
            entry["over_limit"] = not finding.acknowledged and at_least(finding.severity, self.threshold)
            self.report.findings.append(entry)
            level = "notice" if finding.acknowledged else LEVELS[finding.severity]
            problem = _problem(finding)
            self.report.add_problem(problem, level)
            self.reporter.problem(problem, level)

    def _judge(self, found: list[Finding], before: bool) -> None:
        over = self._over(found)
        if not over:
            return
        what = "nothing was applied" if before else "see the findings above"
        where = ", ".join(f"{f.file}:{f.line} {f.rule}" for f in over[:3]) + (" …" if len(over) > 3 else "")
        raise LockRiskOverLimit(
            f"{len(over)} lock-safety finding(s) at or above --max-lock-risk {self.threshold} ({where}): {what}. "
            "Rewrite the statement as advised, or acknowledge it on purpose with `-- supadeploy: allow <rule> — why` "
            "above it", [])


def _problem(finding: Finding) -> Problem:
    where = f" [{finding.table}, {finding.lock}]" if finding.table else ""
    ack = " (acknowledged in the file)" if finding.acknowledged else ""
    return Problem(f"{finding.message}{ack}. Instead: {finding.advice}", file=finding.file, line=finding.line,
                   title=f"Lock safety: {finding.rule}{where}", kind="lock-safety")
