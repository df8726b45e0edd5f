"""The terminal (or the runner's log): every human line, scrubbed of secrets and control characters.

On a GitHub runner no line can become a workflow command (github.neutralize); on a terminal there is
colour (unless NO_COLOR) and a question can be asked. With `--format json` stdout carries only the JSON,
so every human line goes to stderr.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, TextIO

from ..masking import Secrets
from ..model import AssertionResult, Level, MigrationResult, MigrationStatus, Problem, ProjectRow, StatusRow
from .github import neutralize, workflow_command
from .text import caret_lines, where

COLORS = {"error": "31", "warning": "33", "notice": "36", "ok": "32", "heading": "1", "dim": "2"}
LABELS = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTICE: "note"}
MARKS = {MigrationStatus.APPLIED: ("✓", "ok"), MigrationStatus.WOULD_APPLY: ("○", None),
         MigrationStatus.FAILED: ("✗", "error"), MigrationStatus.ROLLED_BACK: ("↺", "warning"),
         MigrationStatus.SKIPPED: ("-", "dim")}
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f]")


def printable(text: str) -> str:
    """No control character reaches a terminal or a log (an ESC could rewrite the screen)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Terminal:
    def __init__(self, fmt: str, out: TextIO, err: TextIO, secrets: Secrets, on_runner: bool,
                 color: bool | None) -> None:
        self.out = out
        self.err = err
        self.secrets = secrets
        self.on_runner = on_runner
        self.log = err if fmt == "json" else out  # human lines and workflow commands: stdout, unless JSON is there
        if color is None:
            color = not on_runner and fmt == "text" and not os.environ.get("NO_COLOR") and isatty(out)
        self.color = color

    def write(self, stream: TextIO, text: str, style: str | None = None) -> None:
        """Every human line: secrets scrubbed, control characters shown, and on a runner no command in it."""
        text = printable(self.secrets.scrub(text))
        if self.on_runner:
            text = neutralize(text)
        if style and self.color and stream is self.out:
            text = f"\x1b[{COLORS[style]}m{text}\x1b[0m"
        stream.write(text + "\n")
        stream.flush()

    def line(self, text: str, style: str | None = None) -> None:
        self.write(self.log, text, style)

    def command(self, text: str) -> None:
        """A workflow command supadeploy built (its data already escaped)."""
        self.log.write(self.secrets.scrub(text) + "\n")
        self.log.flush()

    def mask(self, value: str) -> None:
        # The one place a secret is written: the runner consumes the line and hides the value.
        self.log.write(workflow_command("add-mask", value) + "\n")
        self.log.flush()

    @property
    def interactive(self) -> bool:
        """A person at a terminal who can answer a question."""
        return not self.on_runner and isatty(sys.stdin) and isatty(self.log)

    def confirm(self, question: str) -> bool:
        self.log.write(self.secrets.scrub(f"{question} [y/N] "))
        self.log.flush()
        try:
            answer = sys.stdin.readline()
        except (OSError, ValueError):
            return False
        return answer.strip().lower() in ("y", "yes")

    def problem(self, problem: Problem, level: Level) -> None:
        first, _, rest = problem.message.partition("\n")
        self.line(f"{LABELS[level]}: {where(problem.file, problem.line)}{first}", level)
        for text in caret_lines(problem):
            self.line("    " + text)
        if rest:
            self.line("    " + rest.replace("\n", "\n    "))

    def fold(self, rule: str, level: Level, rest: list[tuple[str, int, str | None]]) -> None:
        """The findings of one rule beyond the first few, named on one line."""
        names = ", ".join(subject or f"{file}:{line}" for file, line, subject in rest)
        self.line(f"{LABELS[level]}: {len(rest)} more of {rule}: {names} (--format json and --report list each "
                  "at its file and line)", level)

    def migration(self, result: MigrationResult) -> None:
        mark, style = MARKS.get(result.status, ("?", None))
        duration = f"{result.duration_ms} ms" if result.duration_ms is not None else ""
        self.line(f"  {mark} {result.version}  {result.name:<32} {result.status:<12} {duration}", style)

    def assertion(self, result: AssertionResult) -> None:
        mark = "✓" if result.passed else "✗"
        self.line(f"  {mark} {result.name}: {result.message}", "ok" if result.passed else "error")

    def status_table(self, rows: list[StatusRow]) -> None:
        width = max([16] + [len(r.local or "") for r in rows] + [len(r.remote or "") for r in rows])
        self.line(f"  {'Local':<{width}} | {'Remote':<{width}} | {'Applied at (UTC)':<26} | Note")
        self.line(f"  {'-' * width}-|-{'-' * width}-|-{'-' * 26}-|-{'-' * 12}")
        for row in rows:
            self.line(f"  {row.local or '':<{width}} | {row.remote or '':<{width}} | "
                      f"{str(row.applied_at or '')[:26]:<26} | {row.note}".rstrip(),
                      "warning" if row.note else None)

    def project_table(self, rows: list[ProjectRow]) -> None:
        """A fleet's projects: one line each, the failed ones marked; columns nobody filled are left out."""
        columns = ("Project", "Wave", "Result", "Applied", "Pending", "Seconds", "Requests", "Note")
        cells = [(r.project, r.wave, r.result, r.applied or "", "" if r.pending is None else str(r.pending),
                  "" if r.seconds is None else f"{r.seconds:.1f}", "" if r.requests is None else str(r.requests),
                  r.message if r.failed or not r.started or r.requests is None else "")
                 for r in rows]
        shown = [i for i in range(len(columns)) if i < 3 or any(c[i] for c in cells)]
        widths = {i: max([len(columns[i])] + [len(c[i]) for c in cells]) for i in shown}
        last = shown[-1]
        self.line("  " + " | ".join(columns[i].ljust(widths[i] if i != last else 0) for i in shown))
        self.line("  " + "-|-".join("-" * widths[i] for i in shown))
        for row, values in zip(rows, cells):
            text = " | ".join(values[i].ljust(widths[i] if i != last else 0) for i in shown)
            self.line(f"  {text}".rstrip(), "error" if row.failed else "dim" if not row.started else None)
