"""Lock safety around one run: squawk's findings before anything is applied, traced ones as each transaction
ends, production's sizes when known, and the verdict against --max-lock-risk.

`LockReview` only collects, sizes, ranks and judges; the commands decide when (a real deploy judges
squawk's findings before applying anything, a dry run or a lint judges everything at the end) and report
what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..acknowledgements import is_acknowledged
from ..engine.migrations import Migration
from ..errors import LockRiskOverLimit
from ..platform.binaries import DEFAULT_MAJOR
from . import LockFinding, at_least, resize, squawk


def static(pending: list[Migration], major: int) -> list[LockFinding]:
    """squawk on the files that would be applied, acknowledgements read from the files themselves."""
    files = [m for m in pending if m.statements]
    found = squawk.run({m.display_path: m.text for m in files}, major)
    by_path = {m.display_path: m for m in files}
    for finding in found:
        migration = by_path.get(finding.file)
        if migration is not None:
            starts = [s.line for s in migration.statements if s.line <= finding.line]
            finding.statement_line = starts[-1] if starts else finding.line
            finding.acknowledged = is_acknowledged(finding.rule, migration.text, finding.line,
                                                   finding.statement_line)
    return found


@dataclass
class LockReview:
    """One run's lock findings. `sizes` are production's (read with the history); `only` limits findings to
    these files (lint with credentials: the files production has not applied yet)."""

    threshold: str  # note | warning | error | none
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    only: set[str] | None = None
    findings: list[LockFinding] = field(default_factory=list)  # accepted so far, in the order reported
    _static: list[LockFinding] = field(default_factory=list)  # squawk's, held until the trace has spoken
    _static_checked: bool = False

    def check_static(self, pending: list[Migration], server_version_num: int | None) -> list[LockFinding]:
        """squawk on the pending files, once; held back (see `release_static`), returned to be judged."""
        if self._static_checked:
            return []
        self._static_checked = True
        major = server_version_num // 10000 if server_version_num else DEFAULT_MAJOR
        self._static = self._accept(static(pending, major))
        return list(self._static)

    def traced(self, found: list[LockFinding]) -> list[LockFinding]:
        """A traced transaction's findings, sized and ranked: to report now."""
        return self._keep(self._accept(found))

    def release_static(self) -> list[LockFinding]:
        """squawk's findings that the trace did not already measure at the same statement: to report now."""
        measured = {(f.file, f.statement_line) for f in self.findings if not f.static}
        rest, self._static = self._static, []
        return self._keep([f for f in rest if (f.file, f.statement_line) not in measured])

    def over(self, found: list[LockFinding]) -> list[LockFinding]:
        return [f for f in found if f.over_limit]

    def refuse(self, found: list[LockFinding], before: bool) -> None:
        """Stop the run when a finding is over the threshold (`before`: nothing has been applied)."""
        over = self.over(found)
        if not over:
            return
        what = "nothing was applied" if before else "see the findings above"
        where = ", ".join(f"{f.file}:{f.line} {f.rule}" for f in over[:3]) + (" …" if len(over) > 3 else "")
        raise LockRiskOverLimit(
            f"{len(over)} lock-safety finding(s) at or above --max-lock-risk {self.threshold} ({where}): {what}. "
            "Rewrite the statement as advised, or acknowledge it on purpose with `-- supadeploy: allow <rule> — why` "
            "above it", [])

    def _accept(self, found: list[LockFinding]) -> list[LockFinding]:
        """Only the files this run judges, sized by production, ranked worst first, marked over the limit."""
        kept = [resize(f, self.sizes) for f in found if self.only is None or f.file in self.only]
        for finding in kept:
            finding.over_limit = not finding.acknowledged and at_least(finding.severity, self.threshold)
        return sorted(kept, key=lambda f: (f.acknowledged, -f.severity.rank, f.file, f.line))

    def _keep(self, found: list[LockFinding]) -> list[LockFinding]:
        self.findings.extend(found)
        return found
