"""GitHub-flavoured Markdown: the job summary (under 1 MiB) and the pull-request comment (under 64 KiB)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from ..model import Finding, Level, MigrationStatus, ReportedProblem
from .report import Report
from .text import caret_lines, rank, summary_line, where

SUMMARY_LIMIT = 1024 * 1024 - 16 * 1024  # under GitHub's 1 MiB per step, with room to spare
COMMENT_MARKER = "<!-- supadeploy: pull-request comment -->"  # finds the comment to update, never repeat
COMMENT_LIMIT = 60_000  # GitHub refuses comments over 65,536 characters
STATUS_ICONS = {MigrationStatus.APPLIED: "✅ applied", MigrationStatus.WOULD_APPLY: "🔍 would apply",
                MigrationStatus.ROLLED_BACK: "↩️ rolled back", MigrationStatus.FAILED: "❌ failed",
                MigrationStatus.SKIPPED: "⏭️ skipped"}

Section = tuple[str, list[str], list[str]]  # heading, table header lines, rows


def cell(value: Any, limit: int = 300) -> str:
    """One table cell (or inline text): cut, HTML-escaped, pipes and line breaks made harmless."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def pr_comment(report: Report) -> str:
    """The job summary, compact (failed assertions only), under a marker, within a comment's size limit."""
    return COMMENT_MARKER + "\n" + job_summary(report, COMMENT_LIMIT - 200, compact=True)


def job_summary(report: Report, limit: int = SUMMARY_LIMIT, compact: bool = False) -> str:
    """Never more than `limit` bytes: rows beyond it are counted, not shown."""
    head = [f"## supadeploy {report.command}: {'✅' if report.exit_code == 0 else '❌'} {report.status}", "",
            f"**Database:** {cell(report.database or report.target, 300)}", "",
            f"{cell(summary_line(report), 1000)}", ""]
    sections: list[Section] = []
    families = {f.FAMILY for f in report.findings}  # a finding's problem is shown in its table, not again
    errors = [p for p in rank(report.problems_at(Level.ERROR)) if p.problem.kind not in families]
    if errors:
        sections.append(("### Errors", [], [f"- {cell(_where(p) + p.problem.message, 1000)}" + _caret_block(p)
                                            for p in errors]))
    sections += _finding_sections(report.findings)
    if report.projects:
        sections.append(_projects_section(report))
    if report.migrations:
        sections.append(("### Migrations", ["| Version | Name | Status | Duration |", "|---|---|---|---:|"],
                         [f"| {cell(m.version)} | {cell(m.name)} | {STATUS_ICONS.get(m.status, cell(m.status))} "
                          f"| {'' if m.duration_ms is None else str(m.duration_ms) + ' ms'} |"
                          for m in report.migrations]))
    if report.pending and report.command in ("plan", "status"):
        sections.append(("### Pending", [], [f"- `{cell(v)}`" for v in report.pending]))
    if report.assertions:
        passed = len(report.assertions) - len(report.failed_assertions)
        shown = [a for a in report.assertions if not (compact and a.passed)]
        sections.append((f"### Assertions: {passed}/{len(report.assertions)} passed",
                         ["| Result | Assertion | Message |", "|---|---|---|"] if shown else [],
                         [f"| {'✅ pass' if a.passed else '❌ fail'} | {cell(a.name)} | "
                          f"{cell(where(a.file, a.line) if not a.passed else '')}{cell(a.message)} |"
                          for a in sorted(shown, key=lambda a: a.passed)]))
    warnings = [p for p in report.problems_at(Level.WARNING) if p.problem.kind not in families]
    if warnings:
        sections.append(("### Warnings", [], [f"- {cell(_where(p) + p.problem.message, 1000)}" for p in warnings]))
    return _fit("\n".join(head) + "\n", sections, limit)


def _projects_section(report: Report) -> Section:
    """A fleet's projects in wave order, the failed ones marked."""
    rows = report.projects
    return ("### Projects", ["| Project | Wave | Result | Applied | Pending | Seconds | Requests | Message |",
                             "|---|---|---|---|---:|---:|---:|---|"],
            [f"| `{cell(r.project)}` | {cell(r.wave)} | {'❌ ' if r.failed else ''}{cell(r.result)} | "
             f"{cell(r.applied or '')} | {'' if r.pending is None else r.pending} | "
             f"{'' if r.seconds is None else f'{r.seconds:.1f}'} | {'' if r.requests is None else r.requests} | "
             f"{cell(r.message, 300)} |" for r in rows])


def _finding_sections(findings: list[Finding]) -> list[Section]:
    """A table per family of findings, with the columns the family gives."""
    sections: list[Section] = []
    for _, group in groupby(sorted(findings, key=lambda f: f.FAMILY), key=lambda f: f.FAMILY):
        members = list(group)
        rows = [f.columns() for f in members]
        columns = list(rows[0])
        sections.append((f"### {members[0].SECTION}",
                         ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)],
                         ["| " + " | ".join(cell(row[c], 400) for c in columns) + " |" for row in rows]))
    return sections


def _fit(head: str, sections: list[Section], limit: int) -> str:
    parts = [head]
    budget = limit - 200 - _size(head)  # 200: room for the closing "rows not shown" line
    for title, header, rows in sections:
        block = "\n".join([title, "", *header]) + "\n"
        budget -= _size(block)
        if budget < 0:
            break
        parts.append(block)
        shown = 0
        for row in rows:
            budget -= _size(row) + 1
            if budget < 0:
                break
            parts.append(row + "\n")
            shown += 1
        if shown < len(rows):
            parts.append(f"\n_… {len(rows) - shown} more row(s) not shown (summary size limit): "
                         "see the `report` output._\n")
            break
        parts.append("\n")
    return "".join(parts)


def _where(entry: ReportedProblem) -> str:
    return where(entry.problem.file, entry.problem.line)


def _caret_block(entry: ReportedProblem) -> str:
    """The failing line with a caret under the error position (a Markdown code block)."""
    lines = caret_lines(entry.problem)
    if not lines:
        return ""
    body = "\n".join(line.replace("```", "`\u200b``") for line in lines)
    return "\n\n  ```sql\n" + "\n".join("  " + line for line in body.split("\n")) + "\n  ```"


def _size(text: str) -> int:
    return len(text.encode("utf-8"))
