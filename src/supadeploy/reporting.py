"""The reporting layer: the only module that prints or writes reports.

Everything the user sees passes through `Reporter`, which scrubs registered
secrets from every line, so a token or password never reaches output.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .errors import Problem


@dataclass
class Report:
    """Everything a run found; rendered as text, JSON, GitHub output or JUnit."""

    command: str
    target: str = ""
    status: str = "success"  # success | failed | refused | error
    exit_code: int = 0
    dry_run: bool = False
    migrations: list[dict[str, Any]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    status_rows: list[dict[str, Any]] = field(default_factory=list)
    round_trips: int = 0
    duration_ms: int = 0
    tables: int | None = None

    @property
    def applied_versions(self) -> list[str]:
        return [m["version"] for m in self.migrations if m["status"] in ("applied", "would-apply")]

    @property
    def failed_assertions(self) -> list[str]:
        return [a["name"] for a in self.assertions if not a["passed"]]

    def add_problem(self, problem: Problem, level: str) -> None:
        self.problems.append({"level": level, "message": problem.message, "file": problem.file,
                              "line": problem.line, "title": problem.title})

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["applied_versions"] = self.applied_versions
        data["failed_assertions"] = self.failed_assertions
        return data


class Secrets:
    """Values that must never be printed: registered as soon as they are known."""

    def __init__(self) -> None:
        self._values: list[str] = []

    def add(self, value: str | None) -> None:
        if value and len(value) >= 4 and value not in self._values:
            self._values.append(value)
            self._values.sort(key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "***")
        return text


class Reporter:
    """Terminal output: a progress line per step, then a summary (or JSON on stdout)."""

    def __init__(self, fmt: str = "text", out: TextIO | None = None, err: TextIO | None = None,
                 secrets: Secrets | None = None) -> None:
        self.format = fmt
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.secrets = secrets or Secrets()

    # -- low level -------------------------------------------------------------
    def _write(self, stream: TextIO, text: str) -> None:
        stream.write(self.secrets.scrub(text) + "\n")
        stream.flush()

    def line(self, text: str) -> None:
        """A human line: stdout in text mode, stderr when stdout carries JSON."""
        self._write(self.err if self.format == "json" else self.out, text)

    # -- events ----------------------------------------------------------------
    def problem(self, problem: Problem, level: str = "error") -> None:
        label = {"error": "error", "warning": "warning", "notice": "note"}[level]
        where = problem.where()
        prefix = f"{where}: " if where else ""
        self.line(f"{label}: {prefix}{problem.message}")

    def progress(self, text: str) -> None:
        self.line(text)

    def migration(self, result: dict[str, Any]) -> None:
        mark = {"applied": "✓", "would-apply": "○", "failed": "✗", "rolled-back": "↺", "skipped": "-"}.get(result["status"], "?")
        duration = f"{result['duration_ms']} ms" if result.get("duration_ms") is not None else ""
        self.line(f"  {mark} {result['version']}  {result['name']:<32} {result['status']:<12} {duration}")

    def assertion(self, result: dict[str, Any]) -> None:
        mark = "✓" if result["passed"] else "✗"
        self.line(f"  {mark} {result['name']}: {result['message']}")

    # -- the end ---------------------------------------------------------------
    def finish(self, report: Report, report_path: Path | None = None) -> None:
        if report_path is not None:
            report_path.write_text(self.secrets.scrub(json.dumps(report.to_dict(), indent=2, default=str)) + "\n")
        if self.format == "json":
            self._write(self.out, json.dumps(report.to_dict(), indent=2, default=str))
            return
        if report.status_rows:
            self._status_table(report.status_rows)
        self.line(summary_line(report))

    def _status_table(self, rows: list[dict[str, Any]]) -> None:
        header = f"  {'Local':<16} | {'Remote':<16} | Applied at (UTC)"
        self.line(header)
        self.line("  " + "-" * 17 + "|" + "-" * 18 + "|" + "-" * 26)
        for row in rows:
            self.line(f"  {row['local'] or '':<16} | {row['remote'] or '':<16} | {row['applied_at'] or ''}")


def summary_line(report: Report) -> str:
    """One sentence that says how the run ended."""
    applied = report.applied_versions
    parts = [f"{report.command} on {report.target}: {report.status}"]
    if report.command in ("deploy", "plan"):
        verb = "would apply" if report.dry_run or report.command == "plan" else "applied"
        count = len(report.pending) if report.command == "plan" else len(applied)
        parts.append(f"{verb} {count} migration(s)")
    if report.tables is not None:
        parts.append(f"{report.tables} tables in public")
    if report.assertions:
        failed = len(report.failed_assertions)
        parts.append(f"assertions {len(report.assertions) - failed}/{len(report.assertions)} passed")
    errors = sum(1 for p in report.problems if p["level"] == "error")
    if errors:
        parts.append(f"{errors} error(s)")
    parts.append(f"{report.round_trips} round trip(s), {report.duration_ms} ms")
    return "; ".join(parts)
