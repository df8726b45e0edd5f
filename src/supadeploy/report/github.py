"""The GitHub runner's language: workflow commands (annotations, groups, masks), step outputs.

Facts: ../shared/reference/github-actions.md. Escaping follows actions/toolkit; GitHub shows at most 10
annotations of a kind per step, so they are ranked and the rest summarised; outputs are written in heredoc
form with random delimiters checked against the value.
"""

from __future__ import annotations

import json
import os
import re
import secrets as _random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Level, ReportedProblem
from .report import Report
from .text import rank

ANNOTATIONS_PER_KIND = 10  # what GitHub shows per step and kind
MESSAGE_LIMIT = 4000  # GitHub cuts annotation messages at 4,096 characters
OUTPUT_REPORT_LIMIT = 256 * 1024  # the `report` output; the full report goes to --report

# Everything Python or .NET may treat as the end of a line: the runner splits on CR and LF,
# and a log viewer may break at the others.
LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass
class GitHub:
    """Where the runner wants its files; present only when GITHUB_ACTIONS=true."""

    output: Path | None = None
    summary: Path | None = None
    delimiter: Callable[[], str] = field(default=lambda: f"ghadelimiter_{_random.token_hex(16)}")

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> GitHub | None:
        env = os.environ if env is None else env
        if env.get("GITHUB_ACTIONS") != "true":
            return None
        return cls(output=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
                   summary=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None)


def escape_data(text: str) -> str:
    """Workflow-command message escaping (actions/toolkit `escapeData`), plus the other line breaks."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def escape_property(text: str) -> str:
    """Workflow-command property escaping (actions/toolkit `escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, properties: Mapping[str, Any] | None = None) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in (properties or {}).items()
                     if value not in (None, ""))
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def neutralize(text: str) -> str:
    """A plain log line on a runner: nothing in it can become a workflow command.

    The runner reads `::command::` at the start of a line (after leading whitespace) and the legacy
    `##[command]` anywhere in it. Text from files, names and the database can contain both, so every
    physical line that would start a command is prefixed with a backslash, and `##[` is broken up.
    """
    lines = []
    for line in LINE_BREAKS.split(text):
        line = line.replace("##[", "## [")
        if line.lstrip().startswith("::"):
            line = "\\" + line
        lines.append(line)
    return "\n".join(lines)


def annotation(entry: ReportedProblem) -> str:
    problem = entry.problem
    message = problem.message
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + " … (cut; see the job log)"
    column = problem.sql.column if problem.sql and problem.file and problem.line else None
    properties = {"file": problem.file, "line": problem.line if problem.file else None, "col": column,
                  "title": problem.title}
    return workflow_command(entry.level, message, properties)


def annotation_lines(problems: list[ReportedProblem]) -> tuple[list[str], list[ReportedProblem]]:
    """The annotation lines GitHub will show, and the findings left for the log only.

    GitHub shows at most 10 of a kind per step: with more, the 9 most important are annotated and the 10th
    says how many more there are.
    """
    lines: list[str] = []
    overflow: list[ReportedProblem] = []
    for level in Level:
        found = rank([p for p in problems if p.level == level])
        if len(found) <= ANNOTATIONS_PER_KIND:
            lines += [annotation(p) for p in found]
            continue
        shown, rest = found[:ANNOTATIONS_PER_KIND - 1], found[ANNOTATIONS_PER_KIND - 1:]
        lines += [annotation(p) for p in shown]
        files = sorted({p.problem.file for p in rest if p.problem.file})
        where = f" in {', '.join(files[:5])}{' …' if len(files) > 5 else ''}" if files else ""
        lines.append(workflow_command(level, f"{len(rest)} more {level}s{where}: see the job log and summary",
                                      {"title": f"{len(rest)} more {level}s"}))
        overflow += rest
    return lines, overflow


def output_entry(name: str, value: str, delimiter: str) -> str:
    """One GITHUB_OUTPUT entry in heredoc form, as actions/toolkit writes it."""
    if delimiter in value or delimiter in name:
        raise ValueError("the output delimiter occurs in the value")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def step_outputs(report: Report) -> dict[str, str]:
    """The action's outputs; lists are JSON arrays so workflows can `fromJSON` them."""
    compact = json.dumps(report.to_dict(), separators=(",", ":"), default=str)
    if len(compact) > OUTPUT_REPORT_LIMIT:
        slim = report.to_dict()
        slim.update(migrations=[], status_rows=[], problems=[], truncated=True, matrix=None,
                    projects=[p for p in slim["projects"] if p["failed"]][:100],
                    assertions=[a for a in slim["assertions"] if not a["passed"]][:100])
        compact = json.dumps(slim, separators=(",", ":"), default=str)
    return report.outputs | {
        "status": report.status,
        "applied-count": str(len(report.applied_versions)),
        "pending-count": str(len(report.pending)),
        "applied-versions": json.dumps(report.applied_versions),
        "schema-version": report.schema_version or "",
        "failed-assertions": json.dumps(report.failed_assertions),
        "report": compact,
        "report-path": report.report_path or "",
        "junit-path": report.junit_path or "",
        "pr-comment-path": report.comment_path or "",
    }


def write_outputs(path: Path, outputs: dict[str, str], delimiter: Callable[[], str]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            mark = delimiter()
            while mark in value:
                mark = delimiter()
            handle.write(output_entry(name, value, mark))


def mask(value: str) -> None:
    """`::add-mask::` before a Reporter exists (the entrypoint's input checks)."""
    sys.stdout.write(workflow_command("add-mask", value) + "\n")
    sys.stdout.flush()


def input_error(message: str) -> None:
    """A bad action input, before any Reporter exists: one `::error` on a runner, one line elsewhere."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        sys.stdout.write(workflow_command("error", message, {"title": "supadeploy: invalid input"}) + "\n")
    else:
        sys.stderr.write(f"error: {message}\n")
    sys.stdout.flush()
