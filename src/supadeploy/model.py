"""What a run finds, as types: statuses and levels are enums, results and findings are dataclasses.

Every part speaks these types: the engine emits `MigrationResult`s, checks return `AssertionResult`s and
`Finding`s, commands record them, and every report channel renders the same typed report
(supadeploy.report). Enums are `StrEnum`s, so they print, compare and serialise as the words the JSON
report and the action's outputs have always used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class Level(StrEnum):
    """How loud a problem is, in GitHub's words (annotations: error, warning, notice)."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


class RunStatus(StrEnum):
    """How a run ended: the `status` output."""

    SUCCESS = "success"
    FAILED = "failed"
    REFUSED = "refused"
    LOCK_RISK = "lock-risk"
    ADVISOR = "advisor"  # an advisor finding at or above --max-advisor-level, not acknowledged
    ERROR = "error"
    INTERRUPTED = "interrupted"
    UNKNOWN = "unknown"
    UNSUPPORTED = "unsupported"
    CANCELLED = "cancelled"
    DRIFT = "drift"  # `supadeploy drift` found the database differs from its migrations


class MigrationStatus(StrEnum):
    APPLIED = "applied"
    WOULD_APPLY = "would-apply"  # a dry run: applied, then rolled back on purpose
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"  # it ran, but its transaction did not commit (another file or the gate failed)
    SKIPPED = "skipped"


@dataclass(frozen=True)
class SqlError:
    """What PostgreSQL said about a failed statement, for people and for `--format json`."""

    sqlstate: str
    message: str
    position: int | None = None  # 1-based character in the statement
    column: int | None = None  # 1-based column in the file line
    source: str | None = None  # the file line the error is on
    detail: str | None = None
    hint: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class Problem:
    """One precise finding, pointing at a file and line where there is one."""

    message: str
    file: str | None = None
    line: int | None = None
    title: str = "supadeploy"
    sql: SqlError | None = None
    kind: str | None = None  # a stable category, e.g. "not-available-locally"

    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


@dataclass
class MigrationResult:
    """What became of one migration file in this run."""

    version: str
    name: str
    file: str
    status: MigrationStatus
    duration_ms: int | None = None
    statements: int = 0
    message: str = ""

    @property
    def counts_as_applied(self) -> bool:
        """Applied, or (in a dry run) would be."""
        return self.status in (MigrationStatus.APPLIED, MigrationStatus.WOULD_APPLY)


@dataclass
class AssertionResult:
    name: str
    kind: str
    passed: bool
    message: str
    object: str | None = None
    file: str | None = None  # the assertion's own file and line
    line: int | None = None


@dataclass
class StatusRow:
    """One line of `supadeploy status`: like `supabase migration list`, with what would stop a deploy."""

    local: str | None
    remote: str | None
    applied_at: str | None
    note: str = ""


@dataclass
class ProjectRow:
    """One project of a fleet: what a rollout did to it, or (`rollout --status`) where it stands."""

    project: str  # the project ref
    wave: str
    result: str  # rollout: deployed, up-to-date, failed, unknown, interrupted, error, not-started, skipped;
    #              status: up-to-date, pending, drift, interrupted, unreadable, skipped
    failed: bool = False  # counts against the run: a JUnit failure, ❌ in the summary
    started: bool = True  # False: not started or skipped (a JUnit skipped case)
    applied: str | None = None  # the newest version applied on the project (after this run)
    applied_now: list[str] = field(default_factory=list)  # the versions this run applied (a dry run: would)
    pending: int | None = None  # local migrations not applied there (None: not known)
    drift: list[str] = field(default_factory=list)  # versions edited after they were applied, or only there
    seconds: float | None = None
    requests: int | None = None  # Management API requests this run sent for it
    message: str = ""


@dataclass
class Finding:
    """A finding of a family of rules (lock safety today; advisors and drift next), at a file and line.

    A family subclasses it with its own fields; every channel renders any family through `level`,
    `problem()` (annotations, terminal), `columns()` (the summary's table) and `to_dict()` (JSON).
    """

    FAMILY: ClassVar[str] = "finding"  # the JSON key of its list, and the problems' kind
    SECTION: ClassVar[str] = "Findings"  # the summary's heading

    rule: str
    file: str
    line: int
    message: str
    advice: str
    acknowledged: bool = False  # accepted on purpose in the file (`-- supadeploy: allow <rule> — why`)
    over_limit: bool = False  # at or above the run's threshold, not acknowledged: fails the run

    @property
    def level(self) -> Level:
        return Level.NOTICE

    @property
    def level_word(self) -> str:
        """The level in the family's own words (lock safety says note, warning, error)."""
        return str(self.level)

    @property
    def subject(self) -> str | None:
        """The object it is about (a table, a policy, a function), when there is one."""
        return None

    def problem(self) -> Problem:
        return Problem(f"{self.message}. Instead: {self.advice}", file=self.file, line=self.line,
                       title=f"{self.SECTION}: {self.rule}", kind=self.FAMILY)

    def columns(self) -> dict[str, str]:
        return {"Where": f"{self.file}:{self.line}", "Rule": f"`{self.rule}`", "What": self.message,
                "Instead": self.advice}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReportedProblem:
    """A problem as the report keeps it: how loud, and whether it is what stopped the run."""

    problem: Problem
    level: Level
    fatal: bool = False

    def to_dict(self) -> dict[str, Any]:
        p = self.problem
        entry: dict[str, Any] = {"level": self.level, "message": p.message, "file": p.file, "line": p.line,
                                 "title": p.title, "fatal": self.fatal}
        if p.kind:
            entry["kind"] = p.kind
        if p.sql is not None:  # for --format json: the fields a program acts on
            entry.update({"sqlstate": p.sql.sqlstate, "position": p.sql.position, "column": p.sql.column,
                          "source": p.sql.source, "detail": p.sql.detail, "hint": p.sql.hint})
        return entry
