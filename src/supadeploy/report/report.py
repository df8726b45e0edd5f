"""The typed report of one run: what every channel renders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from enum import Enum
from typing import Any, TypeVar

from ..model import (
    AssertionResult,
    Finding,
    Level,
    MigrationResult,
    Problem,
    ProjectRow,
    ReportedProblem,
    RunStatus,
    StatusRow,
)

T = TypeVar("T")


@dataclass
class Report:
    """Everything a run found."""

    command: str
    target: str = ""  # the kind: local | postgres | api
    database: str = ""  # which one, for people: user@host:port/db, the project ref, or the local replay
    status: RunStatus = RunStatus.SUCCESS
    exit_code: int = 0
    dry_run: bool = False
    migrations: list[MigrationResult] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    assertions: list[AssertionResult] = field(default_factory=list)
    problems: list[ReportedProblem] = field(default_factory=list)
    status_rows: list[StatusRow] = field(default_factory=list)
    round_trips: int = 0
    duration_ms: int = 0
    tables: int | None = None
    findings: list[Finding] = field(default_factory=list)  # every family's: lock safety, …
    plan_summary: str | None = None  # what a real deploy would do (plan, dry runs)
    schema_version: str | None = None  # the newest version applied on the target afterwards
    report_path: str | None = None
    junit_path: str | None = None
    comment_path: str | None = None
    verified: bool | None = None  # False: no assertions ran
    projects: list[ProjectRow] = field(default_factory=list)  # a fleet rollout: one row per project
    matrix: dict[str, Any] | None = None  # rollout --github-matrix: what stdout carries instead of the report
    outputs: dict[str, str] = field(default_factory=dict)  # step outputs of the command's own (the wave matrices)

    @property
    def applied_versions(self) -> list[str]:
        return [m.version for m in self.migrations if m.counts_as_applied]

    @property
    def failed_assertions(self) -> list[str]:
        return [a.name for a in self.assertions if not a.passed]

    def problems_at(self, level: Level) -> list[ReportedProblem]:
        return [p for p in self.problems if p.level == level]

    def add_problem(self, problem: Problem, level: Level, fatal: bool = False) -> ReportedProblem:
        entry = ReportedProblem(problem, level, fatal)
        self.problems.append(entry)
        return entry

    def scrubbed(self, scrub: Callable[[str], str]) -> Report:
        """A copy with every text passed through `scrub` (secrets out), before any channel encodes or cuts it."""
        return _map_text(self, scrub)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (`--format json`, `--report`, the `report` output)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["migrations"] = [asdict(m) for m in self.migrations]
        data["assertions"] = [asdict(a) for a in self.assertions]
        data["problems"] = [p.to_dict() for p in self.problems]
        data["status_rows"] = [asdict(r) for r in self.status_rows]
        data["projects"] = [asdict(p) for p in self.projects]
        del data["outputs"]  # how the matrix reaches a workflow; `matrix` already has it
        data["findings"] = []
        for finding in self.findings:  # lock safety keeps its historical key, `findings`
            key = "findings" if finding.FAMILY == "lock-safety" else finding.FAMILY
            data.setdefault(key, []).append(finding.to_dict())
        data["applied_versions"] = self.applied_versions
        data["failed_assertions"] = self.failed_assertions
        return data


def _map_text(value: T, scrub: Callable[[str], str]) -> T:
    """A copy of a report-like structure (dataclasses, lists, dicts) with every string passed through `scrub`."""
    result: Any
    if isinstance(value, Enum):
        result = value
    elif isinstance(value, str):
        result = scrub(value)
    elif is_dataclass(value) and not isinstance(value, type):
        result = replace(value, **{f.name: _map_text(getattr(value, f.name), scrub) for f in fields(value)
                                   if f.init})
    elif isinstance(value, list):
        result = [_map_text(item, scrub) for item in value]
    elif isinstance(value, tuple):
        result = tuple(_map_text(item, scrub) for item in value)
    elif isinstance(value, dict):
        result = {_map_text(k, scrub): _map_text(v, scrub) for k, v in value.items()}
    else:
        result = value
    return result  # type: ignore[no-any-return]
