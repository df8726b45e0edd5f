"""From the trace of a replay to findings: which rule, how bad, what to do instead."""

from __future__ import annotations

from typing import Any

from ..migrations import Migration, Statement
from ..sqlparse import parse_json
from . import BLOCKS_WRITES, LOCK_STRENGTH, Finding, is_acknowledged, severity_for, traced_message
from .rules import RULES, blocking_index_build, rewrite_under_lock, scan_under_lock


def findings(batch: list[Migration], rows: list[dict[str, Any]], measured_on: str = "replay") -> list[Finding]:
    """Findings for one traced transaction, sized by what the trace measured: production's own size when the
    traced transaction ran there (`measured_on`), else the replay's (check.py resizes them by production's)."""
    found: list[Finding] = []
    for row in rows:
        migration = batch[int(row["m"])]
        statement = migration.statements[int(row["s"])]
        lock = row.get("lock") or ""
        if LOCK_STRENGTH.get(lock, 0) < BLOCKS_WRITES:
            continue
        rule = _rule(row, statement)
        if rule is None:
            continue
        module = RULES[rule]
        bytes_, rows_ = row.get("bytes"), row.get("est_rows")
        finding = Finding(
            rule=rule, severity=severity_for(bytes_), file=migration.display_path, line=statement.line, message="",
            advice=module.advice(_kind(statement)), table=row["relname"], lock=lock, effect=module.EFFECT,
            rows=rows_, bytes=bytes_, size_source=measured_on,
            detail=row.get("index_built") if rule == blocking_index_build.ID else None, statement_line=statement.line)
        finding.message = traced_message(finding)
        finding.acknowledged = is_acknowledged(finding, migration.text)
        found.append(finding)
    return found


def _rule(row: dict[str, Any], statement: Statement) -> str | None:
    if row.get("rewrite") and statement.kind != "TruncateStmt":
        return rewrite_under_lock.ID
    if row.get("scanned") and not row.get("rewrite"):
        return scan_under_lock.ID if not row.get("index_built") else blocking_index_build.ID
    if row.get("index_built"):
        return blocking_index_build.ID
    return None


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
