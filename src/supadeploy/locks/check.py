"""Lock safety around one run: squawk's findings before anything is applied, traced ones as each transaction
ends, production's sizes when known, and the verdict against --max-lock-risk.

`LockReview` only collects, sizes, ranks and judges; the commands decide when (a real deploy judges
squawk's findings before applying anything, a dry run or a lint judges everything at the end) and report
what it returns.

One story per statement, whatever the mode: a statement on a table new to the database says nothing
(scope.py); where the trace measured a statement, the trace speaks for it, and squawk's rules about the
same harm (squawk.COVERED) are withdrawn; squawk's other findings keep squawk's level in every mode.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field

from ..acknowledgements import is_acknowledged
from ..engine.migrations import Migration
from ..errors import LockRiskOverLimit
from ..platform.binaries import DEFAULT_MAJOR
from ..sqltext import qualified
from . import LockFinding, at_least, resize, squawk
from .scope import Scope, split_qualified


def acknowledged(finding: LockFinding, text: str) -> bool:
    """Whether the file accepts this finding: by its id, or, for squawk's rules, by squawk's own name too."""
    names = {finding.rule, finding.rule.removeprefix("squawk/")}
    return any(is_acknowledged(name, text, finding.line, finding.statement_line) for name in names)


class _Positions:
    """Where a file's lines and statements start, computed once per file."""

    def __init__(self, migration: Migration) -> None:
        self.lines = array("q", [0])
        self.lines.extend(m.end() for m in _NEWLINE.finditer(migration.text))
        self.statements = array("q", (s.offset for s in migration.statements))

    def statement_at(self, line: int, column: int | None) -> int | None:
        """The index of the statement a (1-based line, 0-based column) position falls in."""
        if not self.statements:
            return None
        offset = self.lines[max(min(line, len(self.lines)), 1) - 1] + (column or 0)
        return max(bisect_right(self.statements, offset) - 1, 0)


_DATA_KINDS = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "SelectStmt"})  # no squawk rule reads them
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NEWLINE = re.compile("\n")  # squawk counts lines by LF


def _without_data(migration: Migration) -> str:
    """The file's text for squawk, its data statements reduced to their line breaks (lines stay where they
    are): squawk holds a file's whole syntax tree, and a seed of 700,000 inserts would cost it gigabytes."""
    if not any(s.kind in _DATA_KINDS for s in migration.statements):
        return migration.text
    text, pieces, done = migration.text, [], 0
    for statement in migration.statements:
        if statement.kind in _DATA_KINDS:
            pieces.append(text[done:statement.offset])
            pieces.extend(_LINE_BREAK.findall(text, statement.offset, statement.end))
            done = statement.end
    pieces.append(text[done:])
    return "".join(pieces)


def static(pending: list[Migration], major: int, scope: Scope | None = None) -> list[LockFinding]:
    """squawk on the files that would be applied: each finding placed at its statement and the table the
    statement acts on, acknowledgements read from the files themselves."""
    files = [m for m in pending if m.statements]
    found = squawk.run({m.display_path: _without_data(m) for m in files}, major)
    by_path = {m.display_path: m for m in files}
    positions: dict[str, _Positions] = {}
    scope = scope or Scope(())
    for finding in found:
        migration = by_path.get(finding.file)
        if migration is None:
            continue
        if finding.file not in positions:
            positions[finding.file] = _Positions(migration)
        index = positions[finding.file].statement_at(finding.line, finding.column)
        if index is not None:
            finding.statement_index = index
            finding.statement_line = migration.statements[index].line
            target = scope.target(migration, index)
            finding.table = qualified(*target) if target else None
        finding.acknowledged = acknowledged(finding, migration.text)
    return found


@dataclass
class LockReview:
    """One run's lock findings. `sizes` are production's (read with the history); `scope` says which files
    are reported and which tables are new to the database (None: every file, no table is new)."""

    threshold: str  # note | warning | error | none
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    scope: Scope | None = None
    findings: list[LockFinding] = field(default_factory=list)  # accepted so far, in the order reported
    traced_files: set[str] = field(default_factory=set)  # files that ran in a traced transaction
    _static: list[LockFinding] = field(default_factory=list)  # squawk's, held until the trace has spoken
    _static_checked: bool = False

    def check_static(self, pending: list[Migration], server_version_num: int | None) -> list[LockFinding]:
        """squawk on the pending files, once; held back (see `release_static`), returned to be judged."""
        if self._static_checked:
            return []
        self._static_checked = True
        major = server_version_num // 10000 if server_version_num else DEFAULT_MAJOR
        self._static = self._accept(static(pending, major, self.scope))
        return list(self._static)

    def provisional_tables(self) -> list[str]:
        """The tables squawk's held findings stand in for the trace on: their sizes decide those findings."""
        return list(dict.fromkeys(f.table for f in self._static if f.table and squawk.covered(f.rule)))

    def resize_static(self, sizes: dict[str, dict[str, int]]) -> list[LockFinding]:
        """Production's sizes for the held findings (a real deploy, before it applies anything): ranked as the
        trace of a dry run would rank the same statement."""
        self.sizes = {**self.sizes, **sizes}
        self._static = self._accept(self._static)
        return list(self._static)

    def ran_traced(self, file: str) -> None:
        """A transactional file ran with the tracer: the trace speaks for its statements."""
        self.traced_files.add(file)

    def traced(self, found: list[LockFinding]) -> list[LockFinding]:
        """A traced transaction's findings, sized and ranked: to report now."""
        return self._keep(self._accept(found))

    def release_static(self) -> list[LockFinding]:
        """squawk's findings the trace did not speak for: to report now."""
        measured = {(f.file, f.statement_line) for f in self.findings if not f.static}
        rest, self._static = self._static, []
        return self._keep([f for f in rest if (f.file, f.statement_line) not in measured
                           and not (squawk.covered(f.rule) and f.file in self.traced_files)])

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

    def _news(self, finding: LockFinding) -> bool:
        """Reported by this run, and about a table that exists before the deploy."""
        if self.scope is None:
            return True
        if not self.scope.reports(finding.file):
            return False
        if finding.table is None or finding.statement_index is None:
            return True
        return not self.scope.is_new(split_qualified(finding.table), finding.file, finding.statement_index)

    def _accept(self, found: list[LockFinding]) -> list[LockFinding]:
        """Only news, sized by production, ranked worst first, marked over the limit."""
        kept = [resize(f, self.sizes) for f in found if self._news(f)]
        for finding in kept:
            finding.over_limit = not finding.acknowledged and at_least(finding.severity, self.threshold)
        return sorted(kept, key=lambda f: (f.acknowledged, -f.severity.rank, f.file, f.line))

    def _keep(self, found: list[LockFinding]) -> list[LockFinding]:
        self.findings.extend(found)
        return found
