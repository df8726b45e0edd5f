"""From the trace of a replay to findings: which rule, how bad, what to do instead."""

from __future__ import annotations

from typing import Any

from ..acknowledgements import is_acknowledged
from ..engine.migrations import Migration, Statement
from ..engine.sqlparse import parse_json
from ..registry import load
from . import BLOCKS_WRITES, LOCK_STRENGTH, LockFinding, severity_for, traced_message
from .rule import LockRule

RULES: dict[str, LockRule] = load("supadeploy.locks.rules", LockRule)
_BY_PRIORITY = sorted(RULES.values(), key=lambda rule: rule.PRIORITY)


def findings(batch: list[Migration], rows: list[dict[str, Any]], measured_on: str = "replay") -> list[LockFinding]:
    """Findings for one traced transaction, sized by what the trace measured: production's own size when the
    traced transaction ran there (`measured_on`), else the replay's (check.py resizes them by production's)."""
    found: list[LockFinding] = []
    for row in rows:
        migration = batch[int(row["m"])]
        statement = migration.statements[int(row["s"])]
        lock = row.get("lock") or ""
        if LOCK_STRENGTH.get(lock, 0) < BLOCKS_WRITES:
            continue
        rule = next((r for r in _BY_PRIORITY if r.matches(row, statement.kind)), None)
        if rule is None:
            continue
        bytes_ = row.get("bytes")
        finding = LockFinding(
            rule=rule.ID, file=migration.display_path, line=statement.line, message="",
            advice=rule.advice(_kind(statement)), severity=severity_for(bytes_), table=row["relname"], lock=lock,
            effect=rule.EFFECT, rows=row.get("est_rows"), bytes=bytes_, size_source=measured_on,
            detail=row.get("index_built") if rule.EFFECT == "index build" else None, statement_line=statement.line,
            statement_index=int(row["s"]))
        finding.message = traced_message(finding)
        finding.acknowledged = is_acknowledged(finding.rule, migration.text, finding.line, finding.statement_line)
        found.append(finding)
    return found


def _kind(statement: Statement) -> str:
    """Which advice fits: read from the statement's own parse tree."""
    text = parse_json(statement.text) if statement.kind == "AlterTableStmt" else ""
    if '"subtype":"AT_AlterColumnType"' in text:
        return "type"
    if '"subtype":"AT_SetNotNull"' in text:
        return "not-null"
    if '"contype":"CONSTR_FOREIGN"' in text:
        return "foreign-key"
    if '"contype":"CONSTR_CHECK"' in text:
        return "check"
    if '"subtype":"AT_AddColumn"' in text and '"FuncCall"' in text:
        return "default"
    return "other"
