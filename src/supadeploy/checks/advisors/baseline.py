"""Which findings the pending migrations introduce, which fail the run, which were accepted.

With production's findings (credentials given), a finding production already
has is "in production": it is listed, never fails. Without them, a finding
blamed on a migration that is already applied (or on nothing in the
migrations) is "earlier". What is left is new; a new finding fails when its
level is at or above `--max-advisor-level` (info | warning | error | none,
default error) unless the migration accepts it with the comment lock findings
use, on the statement's line or above it: `-- supadeploy: allow <lint> — why`
(or `allow-file <lint>` anywhere in the file).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from ...acknowledgements import acknowledged_rules
from ...errors import ConfigError
from .attribution import locate
from .ledger import Ledger
from .model import Finding, Level, Status
from .query import all_lints

THRESHOLDS = ("info", "warning", "error", "none")
DEFAULT_THRESHOLD = "error"


@dataclass(frozen=True)
class Verdict:
    """The replay's findings judged (status, acknowledged, over_limit set), and production's that it lacks."""

    judged: tuple[Finding, ...]
    fixed: tuple[Finding, ...]  # production has them; the replay, where the pending migrations changed them, not
    unseen: tuple[Finding, ...]  # production has them, the replay not, and no pending migration touched them:
    threshold: str  # what the local platform differs in (extension versions, the platform's own roles)

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.judged if f.over_limit]

    @property
    def ok(self) -> bool:
        return not self.failing

    def having(self, status: Status) -> list[Finding]:
        return [f for f in self.judged if f.status is status]

    @property
    def reported(self) -> list[Finding]:
        """Everything to report: the replay's findings, then production's that are fixed, then those the replay
        cannot see (they are in production)."""
        return [*self.judged, *(f.judged(Status.FIXED, False) for f in self.fixed),
                *(f.judged(Status.IN_PRODUCTION, False) for f in self.unseen)]


def check_threshold(threshold: str) -> str:
    if threshold not in THRESHOLDS:
        raise ConfigError(f"--max-advisor-level must be one of {', '.join(THRESHOLDS)}, not {threshold!r}")
    return threshold


def at_least(level: Level, threshold: str) -> bool:
    """Whether a finding of `level` fails under `threshold`."""
    if check_threshold(threshold) == "none":
        return False
    return level.rank >= ("info", "warning", "error").index(threshold)


def acknowledged(finding: Finding, sources: Mapping[str, str]) -> bool:
    """Accepted in its migration: `-- supadeploy: allow <lint>` on or above its statement, or allow-file."""
    if finding.where is None or finding.where.file not in sources:
        return False
    rules = acknowledged_rules(sources[finding.where.file], finding.where.line, finding.where.line)
    return finding.lint.lower() in rules or "all" in rules


def assess(findings: Iterable[Finding], sources: Mapping[str, str], threshold: str = DEFAULT_THRESHOLD,
           production: Iterable[Finding] | None = None, pending_files: Collection[str] | None = None,
           pending: Ledger | None = None, same_database: bool = False) -> Verdict:
    """Judge the replay's findings against production's (or, without it, against the pending files).

    `sources` maps a migration's display path to its text (for acknowledgements); `pending_files` are the
    display paths of the migrations this run applies; `pending` is their ledger, which tells a finding
    they fixed (blamed then on the statement that fixed it) from one the replay cannot see.
    `same_database`: the findings were read from production itself, after the pending migrations (inside a
    dry run), so whatever production has that they lack was fixed by them: nothing is unseen."""
    check_threshold(threshold)
    found = list(findings)
    baseline = {f.key: f for f in production} if production is not None else None
    judged = tuple(_judge(f, sources, threshold, baseline, pending_files) for f in found)
    keys = {f.key for f in found}
    gone = [f for key, f in (baseline or {}).items() if key not in keys]
    lints = all_lints()
    fixing = [None if pending is None else locate(f, pending, lints[f.lint].BLAME) for f in gone]
    known = pending is None or same_database
    fixed = tuple(f.at(where) if where else f for f, where in zip(gone, fixing) if known or where)
    unseen = tuple(f for f, where in zip(gone, fixing) if not known and where is None)
    return Verdict(judged, fixed, unseen, threshold)


def _judge(finding: Finding, sources: Mapping[str, str], threshold: str,
           baseline: Mapping[str, Finding] | None, pending_files: Collection[str] | None) -> Finding:
    if baseline is not None and finding.key in baseline:
        return finding.judged(Status.IN_PRODUCTION, False)
    if baseline is None and pending_files is not None and finding.file not in pending_files:
        return finding.judged(Status.EARLIER, False)
    if acknowledged(finding, sources):
        return finding.judged(Status.ACKNOWLEDGED, False)
    return finding.judged(Status.NEW, at_least(finding.severity, threshold))
