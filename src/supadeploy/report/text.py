"""Phrases every channel shares: where a finding is, the caret under an error, how a run ended."""

from __future__ import annotations

from collections import Counter

from ..model import Level, Problem, ReportedProblem
from .report import Report


def where(file: str | None, line: int | None) -> str:
    """`file:line: ` (or `file: `, or nothing) before a message."""
    if file and line:
        return f"{file}:{line}: "
    return f"{file}: " if file else ""


def rank(problems: list[ReportedProblem]) -> list[ReportedProblem]:
    """Most important first: what stopped the run, then findings with a file and line, then the rest."""
    return sorted(problems, key=lambda p: (not p.fatal, not (p.problem.file and p.problem.line)))


def caret_lines(problem: Problem) -> list[str]:
    """The failing line with a caret under the error position, as psql shows it."""
    sql = problem.sql
    if sql is None or not sql.source or not sql.column or not problem.line:
        return []
    prefix = f"LINE {problem.line}: "
    pad = "".join(c if c == "\t" else " " for c in sql.source[:sql.column - 1])  # tabs stay tabs: aligned
    return [prefix + sql.source, " " * len(prefix) + pad + "^"]


def summary_line(report: Report) -> str:
    """One sentence that says how the run ended."""
    parts = [f"{report.command} on {report.database or report.target}: {report.status}"]
    if report.plan_summary:  # plan and dry runs: what a real deploy would do, in one sentence
        parts.append(report.plan_summary)
    elif report.command in ("deploy", "plan"):
        parts.append(f"applied {len(report.applied_versions)} migration(s)")
    if report.projects:
        counts = Counter(str(p.result) for p in report.projects)
        parts.append(f"{len(report.projects)} project(s): " + ", ".join(f"{n} {result}" for result, n in counts.items()))
    if report.tables is not None:
        parts.append(f"{report.tables} tables in public")
    if report.assertions and not report.plan_summary:
        failed = len(report.failed_assertions)
        parts.append(f"assertions {len(report.assertions) - failed}/{len(report.assertions)} passed")
    elif report.verified is False and report.exit_code == 0 and not report.plan_summary:
        parts.append("nothing was verified (no assertions)")
    errors = len(report.problems_at(Level.ERROR))
    if errors:
        parts.append(f"{errors} error(s)")
    parts.append(f"{report.round_trips} round trip(s), {report.duration_ms} ms")
    return "; ".join(parts)
