"""Lock safety: what a migration does to tables that already exist, sized by their real size.

Findings come from two sources: the trace of a replay or dry run (trace.py: the locks a statement took,
whether it rewrote or scanned a table under them, the indexes it built), and squawk's static rules
(squawk.py) for what a replay cannot see. supadeploy's own rules live in rules/, one file each with a stable
id, what it matches and its advice; a finding is ranked by the table's size, read from production when
credentials are given (check.py judges them against --max-lock-risk).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, ClassVar

from ..model import Finding, Level, Problem
from ..units import GiB, MiB, human_size

WARNING_BYTES = 10 * MiB  # a blocking operation on a table this big is noticeable
ERROR_BYTES = GiB  # ...and this big, an outage

# PostgreSQL's table lock modes, weakest first (trace.py builds its SQL array from this order).
LOCK_STRENGTH = {"AccessShareLock": 1, "RowShareLock": 2, "RowExclusiveLock": 3, "ShareUpdateExclusiveLock": 4,
                 "ShareLock": 5, "ShareRowExclusiveLock": 6, "ExclusiveLock": 7, "AccessExclusiveLock": 8}
BLOCKS_WRITES = 5  # ShareLock and stronger block INSERT/UPDATE/DELETE; AccessExclusiveLock blocks reads too


class Severity(StrEnum):
    """How bad blocking a table is; ordered, weakest first."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    @property
    def level(self) -> Level:
        return {Severity.NOTE: Level.NOTICE, Severity.WARNING: Level.WARNING, Severity.ERROR: Level.ERROR}[self]


# squawk's rules about a harm the trace measures (a rewrite, a validation scan, an index build under a lock
# that blocks the table): where a statement ran traced, the trace speaks for it and these are withdrawn;
# before that (a real deploy judging the text up front), they are sized like the trace would size them.
TRACE_COVERS = frozenset(f"squawk/{rule}" for rule in (
    "adding-field-with-default", "adding-foreign-key-constraint", "adding-serial-primary-key-field",
    "changing-column-type", "constraint-missing-not-valid", "disallowed-unique-constraint",
    "require-concurrent-index-creation", "setting-not-nullable-field", "adding-primary-key-constraint"))

SEVERITY_ICONS = {Severity.ERROR: "🛑 error", Severity.WARNING: "⚠️ warning", Severity.NOTE: "ℹ️ note"}


@dataclass
class LockFinding(Finding):
    FAMILY: ClassVar[str] = "lock-safety"
    SECTION: ClassVar[str] = "Lock safety"

    severity: Severity = Severity.NOTE
    table: str | None = None
    lock: str | None = None
    effect: str | None = None  # rewrite | validation scan | index build | static
    rows: int | None = None
    bytes: int | None = None
    size_source: str | None = None  # production | replay | unknown
    detail: str | None = None  # e.g. the index built
    statement_line: int | None = None  # where the statement starts (squawk points inside it)
    statement_index: int | None = None  # which statement of the file
    column: int | None = None  # squawk's 0-based column on `line`

    TRANSIENT: ClassVar[tuple[str, ...]] = ("statement_line", "statement_index", "column", "severity")

    @property
    def level(self) -> Level:
        return Level.NOTICE if self.acknowledged else self.severity.level

    @property
    def level_word(self) -> str:
        return str(self.severity)

    @property
    def subject(self) -> str | None:
        return self.table

    @property
    def static(self) -> bool:
        """From squawk's reading of the text, not from a trace."""
        return self.effect == "static"

    @property
    def provisional(self) -> bool:
        """squawk's reading of a harm the trace measures: it stands in for the trace until the trace speaks."""
        return self.static and self.rule in TRACE_COVERS

    def problem(self) -> Problem:
        where = f" [{self.table}, {self.lock}]" if self.table and self.lock else f" [{self.table}]" if self.table \
            else ""
        ack = (" (acknowledged in the file)" if self.acknowledged else
               f" [{self.rule}: if it is intended, put `-- supadeploy: allow {self.rule} — why` above the statement]")
        instead = f". Instead: {self.advice}" if self.advice else ""
        return Problem(f"{self.message}{instead}{ack}", file=self.file, line=self.line,
                       title=f"Lock safety: {self.rule}{where}", kind=self.FAMILY)

    def columns(self) -> dict[str, str]:
        severity = "✔️ acknowledged" if self.acknowledged else SEVERITY_ICONS[self.severity]
        size = "" if self.bytes is None else \
            f"{human_size(self.bytes)}, ~{self.rows or 0} rows ({self.size_source})"
        return {"Severity": severity + (" (over the limit)" if self.over_limit else ""),
                "Where": f"{self.file}:{self.line}", "Rule": f"`{self.rule}`", "Table": self.table or "",
                "Lock": self.lock or "", "What happens": self.effect or "", "Size": size, "Instead": self.advice}

    def to_dict(self) -> dict[str, Any]:
        """In the JSON report's one vocabulary of levels (error, warning, notice), as its problems say it."""
        data = {"level": str(self.level), **asdict(self)}
        for name in self.TRANSIENT:
            del data[name]
        return data


def severity_for(bytes_: int | None) -> Severity:
    """How bad blocking a table is, by its size: empty or small is a note, big a warning, huge an error."""
    if bytes_ is None:
        return Severity.NOTE
    if bytes_ >= ERROR_BYTES:
        return Severity.ERROR
    return Severity.WARNING if bytes_ >= WARNING_BYTES else Severity.NOTE


def at_least(severity: Severity, threshold: str) -> bool:
    """`threshold`: a severity's name, or "none" (nothing is over it)."""
    return threshold != "none" and severity.rank >= Severity(threshold).rank


def resize(finding: LockFinding, sizes: dict[str, dict[str, int]]) -> LockFinding:
    """Rank a traced (or provisional) finding by the table's size in production, when it is known."""
    if finding.table is None or (finding.static and not finding.provisional):
        return finding
    size = sizes.get(finding.table)  # both schema-qualified, as quote_ident writes them: never by bare name
    if size:
        finding.bytes, finding.rows, finding.size_source = size["bytes"], size["rows"], "production"
        finding.severity = severity_for(size["bytes"])
        if not finding.static:
            finding.message = traced_message(finding)
    return finding


def traced_message(finding: LockFinding) -> str:
    """What happened, to which table, under which lock, how big: one sentence."""
    blocked = "reads and writes" if finding.lock == "AccessExclusiveLock" else "writes"
    what = f"{finding.effect} ({finding.detail})" if finding.detail else finding.effect
    return (f"{what} of {finding.table} under {finding.lock}: {blocked} on it wait until the transaction ends "
            f"({_size_words(finding)})")


def _size_words(finding: LockFinding) -> str:
    if finding.bytes is None:
        return "size unknown"
    where = "in production" if finding.size_source == "production" else \
        "in the replay: sizes from production need credentials"
    return f"{human_size(finding.bytes)}, ~{finding.rows or 0} rows {where}"
