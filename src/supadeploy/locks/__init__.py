"""Lock safety: what a migration does to tables that already exist, sized by their real size.

Findings come from two sources: the trace of a replay or dry run (trace.py: the
locks a statement took, whether it rewrote or scanned a table under them, the
indexes it built), and squawk's static rules (squawk.py) for what a replay
cannot see. Each rule lives in rules/ with a stable id and its advice; a finding
is ranked by the table's size, read from production when credentials are given.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("note", "warning", "error")
MiB = 1024 * 1024
GiB = 1024 * MiB
WARNING_BYTES = 10 * MiB  # a blocking operation on a table this big is noticeable
ERROR_BYTES = GiB  # ...and this big, an outage

# PostgreSQL's table lock modes, weakest first (trace.py builds its SQL array from this order).
LOCK_STRENGTH = {"AccessShareLock": 1, "RowShareLock": 2, "RowExclusiveLock": 3, "ShareUpdateExclusiveLock": 4,
                 "ShareLock": 5, "ShareRowExclusiveLock": 6, "ExclusiveLock": 7, "AccessExclusiveLock": 8}
BLOCKS_WRITES = 5  # ShareLock and stronger block INSERT/UPDATE/DELETE; AccessExclusiveLock blocks reads too


@dataclass
class Finding:
    rule: str
    severity: str
    file: str
    line: int
    message: str
    advice: str
    table: str | None = None
    lock: str | None = None
    effect: str | None = None  # rewrite | validation scan | index build | static
    rows: int | None = None
    bytes: int | None = None
    size_source: str | None = None  # production | replay | unknown
    detail: str | None = None  # e.g. the index built
    statement_line: int | None = None  # where the statement starts (squawk points inside it)
    acknowledged: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["statement_line"]
        return data


# Statements that take a lock blocking writes (or reads) on the tables they name.
STRONG_LOCK_KINDS = frozenset({"AlterTableStmt", "IndexStmt", "CreateTrigStmt", "CreateStmt", "RenameStmt",
                               "DropStmt", "TruncateStmt", "CreatePolicyStmt", "AlterPolicyStmt", "LockStmt",
                               "VacuumStmt", "ClusterStmt", "ReindexStmt", "RuleStmt"})


def locked_tables(migrations: list[Any]) -> list[str]:
    """The tables these migrations' DDL names (quoted, schema-qualified when the file qualifies them)."""
    from ..sqltext import qualified

    return list(dict.fromkeys(qualified(schema, name) for migration in migrations
                              for statement in migration.statements if statement.kind in STRONG_LOCK_KINDS
                              for schema, name in statement.relations))


def severity_for(bytes_: int | None) -> str:
    """How bad blocking a table is, by its size: empty or small is a note, big a warning, huge an error."""
    if bytes_ is None:
        return "note"
    if bytes_ >= ERROR_BYTES:
        return "error"
    return "warning" if bytes_ >= WARNING_BYTES else "note"


def at_least(severity: str, threshold: str) -> bool:
    if threshold == "none":
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)


_ALLOW = re.compile(r"--\s*supadeploy:\s*allow\s+([a-z0-9/_,\s-]+?)(?:\s+(?:—|-|because)\s.*)?$", re.I)
_ALLOW_FILE = re.compile(r"--\s*supadeploy:\s*allow-file\s+([a-z0-9/_,\s-]+?)(?:\s+(?:—|-|because)\s.*)?$", re.I)


def acknowledged_rules(text: str, line: int, statement_line: int | None = None) -> set[str]:
    """Rules a comment acknowledges for this line: on it, on the line above, or above the statement,
    or for the whole file (`-- supadeploy: allow-file RULE`). Reviewed in the pull request like code."""
    lines = text.splitlines()
    found: set[str] = set()
    candidates = {line, line - 1} | ({statement_line, statement_line - 1} if statement_line else set())
    for number in candidates:
        if 1 <= number <= len(lines):
            match = _ALLOW.search(lines[number - 1])
            if match:
                found |= {r.strip().lower() for r in re.split(r"[,\s]+", match.group(1)) if r.strip()}
    for raw in lines:
        match = _ALLOW_FILE.search(raw)
        if match:
            found |= {r.strip().lower() for r in re.split(r"[,\s]+", match.group(1)) if r.strip()}
    return found


def is_acknowledged(finding: Finding, text: str) -> bool:
    rules = acknowledged_rules(text, finding.line, finding.statement_line)
    return finding.rule.lower() in rules or "all" in rules


def resize(finding: Finding, sizes: dict[str, dict[str, int]]) -> Finding:
    """Rank a traced finding by the table's size in production, when it is known."""
    if finding.table is None or finding.effect == "static":
        return finding
    size = sizes.get(finding.table) or sizes.get(finding.table.split(".", 1)[-1])
    if size:
        finding.bytes, finding.rows, finding.size_source = size["bytes"], size["rows"], "production"
        finding.severity = severity_for(size["bytes"])
        finding.message = traced_message(finding)
    return finding


def traced_message(finding: Finding) -> str:
    """What happened, to which table, under which lock, how big: one sentence."""
    blocked = "reads and writes" if finding.lock == "AccessExclusiveLock" else "writes"
    what = f"{finding.effect} ({finding.detail})" if finding.detail else finding.effect
    return (f"{what} of {finding.table} under {finding.lock}: {blocked} on it wait until the transaction ends "
            f"({_size_words(finding)})")


def _size_words(finding: Finding) -> str:
    if finding.bytes is None:
        return "size unknown"
    where = "in production" if finding.size_source == "production" else \
        "in the replay: sizes from production need credentials"
    return f"{human_size(finding.bytes)}, ~{finding.rows or 0} rows {where}"


def human_size(bytes_: int) -> str:
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if bytes_ >= factor:
            return f"{bytes_ / factor:.1f} {unit}"
    return f"{bytes_} bytes"
