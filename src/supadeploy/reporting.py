"""The reporting layer: the only module that prints or writes reports.

Everything the user sees passes through `Reporter`, which scrubs registered
secrets from every line, so a token or password never reaches output. On a
GitHub runner (`GITHUB_ACTIONS=true`) it also speaks the runner's language:
annotations, groups, masks, a job summary and step outputs.
"""

from __future__ import annotations

import json
import os
import re
import secrets as _random
import sys
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, TextIO

from .errors import Problem
from .locks import human_size
from .masking import Secrets

LEVELS = ("error", "warning", "notice")
ANNOTATIONS_PER_KIND = 10  # what GitHub shows per step and kind
MESSAGE_LIMIT = 4000  # GitHub cuts annotation messages at 4,096 characters
SUMMARY_LIMIT = 1024 * 1024 - 16 * 1024  # under GitHub's 1 MiB per step, with room to spare
OUTPUT_REPORT_LIMIT = 256 * 1024  # the `report` output; the full report goes to --report


@dataclass
class Report:
    """Everything a run found; rendered as text, JSON, GitHub output or JUnit."""

    command: str
    target: str = ""  # the kind: local | postgres | api
    database: str = ""  # which one, for people: user@host:port/db, the project ref, or the local replay
    status: str = "success"  # success | failed | refused | error | interrupted
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
    findings: list[dict[str, Any]] = field(default_factory=list)  # lock safety: rule, severity, file, line, …
    plan_summary: str | None = None  # what a real deploy would do (plan, dry runs)
    schema_version: str | None = None  # the newest version applied on the target afterwards
    report_path: str | None = None
    junit_path: str | None = None
    comment_path: str | None = None
    verified: bool | None = None  # False: no assertions ran

    @property
    def applied_versions(self) -> list[str]:
        return [m["version"] for m in self.migrations if m["status"] in ("applied", "would-apply")]

    @property
    def failed_assertions(self) -> list[str]:
        return [a["name"] for a in self.assertions if not a["passed"]]

    def add_problem(self, problem: Problem, level: str, fatal: bool = False) -> None:
        """Record a finding; `fatal` marks what stopped the run (ranked first)."""
        entry: dict[str, Any] = {"level": level, "message": problem.message, "file": problem.file,
                                 "line": problem.line, "title": problem.title, "fatal": fatal}
        if problem.kind:
            entry["kind"] = problem.kind
        if problem.sql is not None:  # for --format json: the fields a program acts on
            entry.update({"sqlstate": problem.sql.sqlstate, "position": problem.sql.position,
                          "column": problem.sql.column, "source": problem.sql.source, "detail": problem.sql.detail,
                          "hint": problem.sql.hint})
        self.problems.append(entry)

    def scrubbed(self, secrets: Secrets) -> "Report":
        """A copy with every secret replaced, before any channel encodes (or cuts) its text."""
        return Report(**secrets.scrub_obj(asdict(self)))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["applied_versions"] = self.applied_versions
        data["failed_assertions"] = self.failed_assertions
        return data


# --- GitHub workflow commands ------------------------------------------------

# Everything Python or .NET may treat as the end of a line: the runner splits on CR and LF,
# and a log viewer may break at the others.
LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f]")


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


def printable(text: str) -> str:
    """No control character reaches a terminal or a log (an ESC could rewrite the screen)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def neutralize(text: str) -> str:
    """A plain log line on a runner: nothing in it can become a workflow command.

    The runner reads `::command::` at the start of a line (after leading
    whitespace) and the legacy `##[command]` anywhere in it. Text from files,
    names and the database can contain both, so every physical line that would
    start a command is prefixed with a backslash, and `##[` is broken up.
    """
    lines = []
    for line in LINE_BREAKS.split(text):
        line = line.replace("##[", "## [")
        if line.lstrip().startswith("::"):
            line = "\\" + line
        lines.append(line)
    return "\n".join(lines)


def annotation(level: str, problem: dict[str, Any]) -> str:
    message = problem["message"]
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + " … (cut; see the job log)"
    properties = {"file": problem.get("file"), "line": problem.get("line") if problem.get("file") else None,
                  "title": problem.get("title")}
    return workflow_command(level, message, properties)


def rank(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most important first: what stopped the run, then findings with a file and line, then the rest."""
    return sorted(problems, key=lambda p: (not p.get("fatal"), not (p.get("file") and p.get("line"))))


def annotations(problems: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The annotation lines GitHub will show, and the findings left for the log only.

    GitHub shows at most 10 of a kind per step: with more, the 9 most
    important are annotated and the 10th says how many more there are.
    """
    lines: list[str] = []
    overflow: list[dict[str, Any]] = []
    for level in LEVELS:
        found = rank([p for p in problems if p["level"] == level])
        if len(found) <= ANNOTATIONS_PER_KIND:
            lines += [annotation(level, p) for p in found]
            continue
        shown, rest = found[:ANNOTATIONS_PER_KIND - 1], found[ANNOTATIONS_PER_KIND - 1:]
        lines += [annotation(level, p) for p in shown]
        files = sorted({p["file"] for p in rest if p.get("file")})
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


def new_delimiter() -> str:
    return f"ghadelimiter_{_random.token_hex(16)}"


def step_outputs(report: Report) -> dict[str, str]:
    """The action's outputs; lists are JSON arrays so workflows can `fromJSON` them."""
    compact = json.dumps(report.to_dict(), separators=(",", ":"), default=str)
    if len(compact) > OUTPUT_REPORT_LIMIT:
        slim = report.to_dict()
        slim.update(migrations=[], status_rows=[], problems=[], truncated=True,
                    assertions=[a for a in slim["assertions"] if not a["passed"]][:100])
        compact = json.dumps(slim, separators=(",", ":"), default=str)
    return {
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


# --- Markdown job summary ----------------------------------------------------

def _cell(value: Any, limit: int = 300) -> str:
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


STATUS_ICONS = {"applied": "✅ applied", "would-apply": "🔍 would apply", "rolled-back": "↩️ rolled back",
                "failed": "❌ failed", "skipped": "⏭️ skipped"}


COMMENT_MARKER = "<!-- supadeploy: pull-request comment -->"  # finds the comment to update, never repeat
COMMENT_LIMIT = 60_000  # GitHub refuses comments over 65,536 characters


def pr_comment(report: Report) -> str:
    """The job summary, compact (failed assertions only), under a marker, within a comment's size limit."""
    return COMMENT_MARKER + "\n" + job_summary(report, COMMENT_LIMIT - 200, compact=True)


def job_summary(report: Report, limit: int = SUMMARY_LIMIT, compact: bool = False) -> str:
    """GitHub-flavoured Markdown; never more than `limit` bytes (rows beyond it are counted, not shown)."""
    head = [f"## supadeploy {report.command}: {'✅' if report.exit_code == 0 else '❌'} {report.status}", "",
            f"**Database:** {_cell(report.database or report.target, 300)}", "",
            f"{_cell(summary_line(report), 1000)}", ""]
    errors = [p for p in rank(report.problems) if p["level"] == "error" and p.get("kind") != LOCK_SAFETY]
    sections: list[tuple[str, list[str], list[str]]] = []
    if errors:
        sections.append(("### Errors", [], [f"- {_cell(_where(p) + p['message'], 1000)}" + _caret_block(p)
                                            for p in errors]))
    if report.findings:
        sections.append(("### Lock safety", ["| Severity | Where | Rule | Table | Lock | What happens | Size | Instead |",
                                             "|---|---|---|---|---|---|---|---|"],
                         [_finding_row(f) for f in report.findings]))
    if report.migrations:
        sections.append(("### Migrations", ["| Version | Name | Status | Duration |", "|---|---|---|---:|"],
                         [f"| {_cell(m['version'])} | {_cell(m['name'])} | {STATUS_ICONS.get(m['status'], _cell(m['status']))} "
                          f"| {'' if m.get('duration_ms') is None else str(m['duration_ms']) + ' ms'} |"
                          for m in report.migrations]))
    if report.pending and report.command in ("plan", "status"):
        sections.append(("### Pending", [], [f"- `{_cell(v)}`" for v in report.pending]))
    if report.assertions:
        passed = len(report.assertions) - len(report.failed_assertions)
        shown = [a for a in report.assertions if not (compact and a["passed"])]
        sections.append((f"### Assertions: {passed}/{len(report.assertions)} passed",
                         ["| Result | Assertion | Message |", "|---|---|---|"] if shown else [],
                         [f"| {'✅ pass' if a['passed'] else '❌ fail'} | {_cell(a['name'])} | "
                          f"{_cell(_where(a) if not a['passed'] else '')}{_cell(a['message'])} |"
                          for a in sorted(shown, key=lambda a: a["passed"])]))
    warnings = [p for p in report.problems if p["level"] == "warning" and p.get("kind") != LOCK_SAFETY]
    if warnings:
        sections.append(("### Warnings", [], [f"- {_cell(_where(p) + p['message'], 1000)}" for p in warnings]))
    parts = ["\n".join(head) + "\n"]
    budget = limit - 200 - _size(parts[0])  # 200: room for the closing "rows not shown" line
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


LOCK_SAFETY = "lock-safety"  # the kind of a lock-safety finding's problem (locks/check.py)
SEVERITY_ICONS = {"error": "🛑 error", "warning": "⚠️ warning", "note": "ℹ️ note"}


def _finding_row(f: dict[str, Any]) -> str:
    severity = "✔️ acknowledged" if f.get("acknowledged") else SEVERITY_ICONS.get(f["severity"], _cell(f["severity"]))
    size = "" if f.get("bytes") is None else f"{human_size(f['bytes'])}, ~{f.get('rows') or 0} rows ({f.get('size_source')})"
    return (f"| {severity}{' (over the limit)' if f.get('over_limit') else ''} | {_cell(_where(f).rstrip(': '))} "
            f"| `{_cell(f['rule'])}` | {_cell(f.get('table'))} | {_cell(f.get('lock'))} | {_cell(f.get('effect'))} "
            f"| {_cell(size)} | {_cell(f.get('advice'), 400)} |")


def _caret_block(problem: dict[str, Any]) -> str:
    """The failing line with a caret under the error position, as psql shows it (Markdown code block)."""
    lines = caret_lines(problem)
    if not lines:
        return ""
    body = "\n".join(line.replace("```", "`\u200b``") for line in lines)
    return "\n\n  ```sql\n" + "\n".join("  " + line for line in body.split("\n")) + "\n  ```"


def caret_lines(problem: dict[str, Any]) -> list[str]:
    source, column, line = problem.get("source"), problem.get("column"), problem.get("line")
    if not source or not column or not line:
        return []
    prefix = f"LINE {line}: "
    return [prefix + source, " " * (len(prefix) + column - 1) + "^"]


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _where(item: dict[str, Any]) -> str:
    if item.get("file") and item.get("line"):
        return f"{item['file']}:{item['line']}: "
    return f"{item['file']}: " if item.get("file") else ""


# --- JUnit XML ---------------------------------------------------------------

def junit_xml(report: Report) -> str:
    """One test case per migration and per assertion, for any CI test reporter."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name=f"supadeploy {report.command}")
    migrations = ET.SubElement(root, "testsuite", name="migrations")
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    for m in report.migrations:
        case = ET.SubElement(migrations, "testcase", classname="migrations", name=f"{m['version']}_{m['name']}",
                             time=f"{(m.get('duration_ms') or 0) / 1000:.3f}")
        counts["tests"] += 1
        if m["status"] == "failed":
            counts["failures"] += 1
            failure = ET.SubElement(case, "failure", message=m.get("message") or "migration failed")
            failure.text = m.get("message") or ""
        elif m["status"] != "applied":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=m["status"])
    migrations.attrib.update({k: str(v) for k, v in counts.items()})
    checks = ET.SubElement(root, "testsuite", name="assertions")
    failures = 0
    for a in report.assertions:
        case = ET.SubElement(checks, "testcase", classname=f"assertions.{a['kind']}", name=a["name"])
        if a.get("file"):
            case.set("file", a["file"])
        if a.get("line"):
            case.set("line", str(a["line"]))
        if not a["passed"]:
            failures += 1
            failure = ET.SubElement(case, "failure", message=a["message"])
            failure.text = f"{_where(a)}{a['message']}"
    checks.attrib.update({"tests": str(len(report.assertions)), "failures": str(failures)})
    if report.findings:
        _junit_findings(ET.SubElement(root, "testsuite", name="lock-safety"), report.findings)
    errors = [p for p in report.problems if p["level"] == "error" and p.get("fatal")]
    if errors and not report.migrations and not report.assertions:
        run = ET.SubElement(root, "testsuite", name="run", tests="1", failures="1")
        case = ET.SubElement(run, "testcase", classname="supadeploy", name=report.command)
        ET.SubElement(case, "failure", message=errors[0]["message"]).text = "\n".join(
            _where(p) + p["message"] for p in errors)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_findings(suite: Any, findings: list[dict[str, Any]]) -> None:
    """A test case per finding: failed when over --max-lock-risk, skipped when acknowledged in its file."""
    import xml.etree.ElementTree as ET

    failures = skipped = 0
    for f in findings:
        case = ET.SubElement(suite, "testcase", classname=f"lock-safety.{f['rule']}",
                             name=f"{_where(f).rstrip(': ')} {f.get('table') or ''}".strip(), file=f["file"],
                             line=str(f["line"]))
        text = f"{f['severity']}: {f['message']}. Instead: {f['advice']}"
        if f.get("over_limit"):
            failures += 1
            ET.SubElement(case, "failure", message=f"{f['severity']}: {f['rule']}").text = text
        elif f.get("acknowledged"):
            skipped += 1
            ET.SubElement(case, "skipped", message="acknowledged in the file").text = text
        else:
            ET.SubElement(case, "system-out").text = text
    suite.attrib.update({"tests": str(len(findings)), "failures": str(failures), "skipped": str(skipped)})


# --- the reporter ------------------------------------------------------------

@dataclass
class GitHub:
    """Where the runner wants its files; present only when GITHUB_ACTIONS=true."""

    output: Path | None = None
    summary: Path | None = None
    delimiter: Callable[[], str] = new_delimiter

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> "GitHub | None":
        env = os.environ if env is None else env
        if env.get("GITHUB_ACTIONS") != "true":
            return None
        return cls(output=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
                   summary=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None)


COLORS = {"error": "31", "warning": "33", "notice": "36", "ok": "32", "heading": "1", "dim": "2"}


class Reporter:
    """Terminal output: a progress line per step, then a summary (or JSON on stdout).

    With `github` set, problems become ranked annotations at the end, phases
    become log groups, secrets are masked, and the summary and outputs files
    are written. On a terminal, colour (unless NO_COLOR) and questions.
    """

    def __init__(self, fmt: str = "text", out: TextIO | None = None, err: TextIO | None = None,
                 secrets: Secrets | None = None, github: GitHub | None = None, color: bool | None = None) -> None:
        self.format = fmt
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.github = github
        self.secrets = secrets or Secrets()
        if color is None:
            color = github is None and fmt == "text" and not os.environ.get("NO_COLOR") and _isatty(self.out)
        self.color = color
        if github is not None:
            for value in self.secrets.values:
                self._mask(value)
            self.secrets.on_add = self._mask

    # -- low level -------------------------------------------------------------
    def _write(self, stream: TextIO, text: str, style: str | None = None) -> None:
        """Every human line: secrets scrubbed, control characters shown, and on a runner no command in it."""
        text = printable(self.secrets.scrub(text))
        if self.github is not None:
            text = neutralize(text)
        if style and self.color and stream is self.out:
            text = f"\x1b[{COLORS[style]}m{text}\x1b[0m"
        stream.write(text + "\n")
        stream.flush()

    def _command(self, text: str) -> None:
        """A workflow command supadeploy built (its data already escaped)."""
        self._log.write(self.secrets.scrub(text) + "\n")
        self._log.flush()

    @property
    def _log(self) -> TextIO:
        """Human lines and workflow commands: stdout, unless stdout carries JSON."""
        return self.err if self.format == "json" else self.out

    def _mask(self, value: str) -> None:
        # The one place a secret is written: the runner consumes the line and hides the value.
        self._log.write(workflow_command("add-mask", value) + "\n")
        self._log.flush()

    def line(self, text: str, style: str | None = None) -> None:
        self._write(self._log, text, style)

    @property
    def interactive(self) -> bool:
        """A person at a terminal who can answer a question."""
        return self.github is None and _isatty(sys.stdin) and _isatty(self._log)

    def confirm(self, question: str) -> bool:
        self._log.write(self.secrets.scrub(f"{question} [y/N] "))
        self._log.flush()
        try:
            answer = sys.stdin.readline()
        except (OSError, ValueError):
            return False
        return answer.strip().lower() in ("y", "yes")

    # -- events ----------------------------------------------------------------
    def heading(self, text: str) -> None:
        self.line(text, "heading")

    def problem(self, problem: Problem, level: str = "error") -> None:
        """Terminal: printed now. GitHub: kept, ranked and annotated in `finish`."""
        if self.github is None:
            entry: dict[str, Any] = {"level": level, "message": problem.message, "file": problem.file,
                                     "line": problem.line}
            if problem.sql is not None:
                entry.update(source=problem.sql.source, column=problem.sql.column)
            self._print_problem(entry)

    def _print_problem(self, p: dict[str, Any]) -> None:
        label = {"error": "error", "warning": "warning", "notice": "note"}[p["level"]]
        first, _, rest = p["message"].partition("\n")
        self.line(f"{label}: {_where(p)}{first}", p["level"])
        for text in caret_lines(p):
            self.line("    " + text)
        if rest:
            self.line("    " + rest.replace("\n", "\n    "))

    @contextmanager
    def phase(self, title: str) -> Iterator[None]:
        """A collapsible log group on GitHub; a heading line elsewhere."""
        if self.github is not None:
            self._command(workflow_command("group", self.secrets.scrub(title)))
        else:
            self.line(title, "heading")
        try:
            yield
        finally:
            if self.github is not None:
                self._command("::endgroup::")

    def progress(self, text: str) -> None:
        self.line(text)

    def debug(self, text: str) -> None:
        """Only with SUPADEPLOY_DEBUG; scrubbed like everything else; `::debug::` on a runner."""
        if self.github is not None:
            self._command(workflow_command("debug", self.secrets.scrub(text)))
        else:
            self._write(self.err, text)

    def migration(self, result: dict[str, Any]) -> None:
        mark, style = {"applied": ("✓", "ok"), "would-apply": ("○", None), "failed": ("✗", "error"),
                       "rolled-back": ("↺", "warning"), "skipped": ("-", "dim")}.get(result["status"], ("?", None))
        duration = f"{result['duration_ms']} ms" if result.get("duration_ms") is not None else ""
        self.line(f"  {mark} {result['version']}  {result['name']:<32} {result['status']:<12} {duration}", style)

    def assertion(self, result: dict[str, Any]) -> None:
        mark = "✓" if result["passed"] else "✗"
        self.line(f"  {mark} {result['name']}: {result['message']}", "ok" if result["passed"] else "error")

    # -- the end ---------------------------------------------------------------
    def finish(self, report: Report, report_path: Path | None = None, junit_path: Path | None = None,
               comment_path: Path | None = None) -> None:
        report.report_path = str(report_path) if report_path else None
        report.junit_path = str(junit_path) if junit_path else None
        report.comment_path = str(comment_path) if comment_path else None
        report = report.scrubbed(self.secrets)
        if report_path is not None:
            report_path.write_text(self.secrets.scrub(json.dumps(report.to_dict(), indent=2, default=str)) + "\n")
        if junit_path is not None:
            junit_path.write_text(self.secrets.scrub(junit_xml(report)), encoding="utf-8")
        if comment_path is not None:
            comment_path.write_text(self.secrets.scrub(pr_comment(report)), encoding="utf-8")
        if self.github is not None:
            self._finish_github(report)
        if self.format == "json":
            self._write(self.out, json.dumps(report.to_dict(), indent=2, default=str))
            return
        if report.status_rows:
            self._status_table(report.status_rows)
        self.line(summary_line(report), "ok" if report.exit_code == 0 else "error")

    def _finish_github(self, report: Report) -> None:
        assert self.github is not None
        lines, overflow = annotations(report.problems)
        for p in overflow:
            self._print_problem(p)
        for text in lines:
            self._command(text)
        if self.github.summary is not None:
            with self.github.summary.open("a", encoding="utf-8") as handle:
                handle.write(self.secrets.scrub(job_summary(report)))
        if self.github.output is not None:
            with self.github.output.open("a", encoding="utf-8") as handle:
                for name, value in step_outputs(report).items():
                    value = self.secrets.scrub(value)
                    delimiter = self.github.delimiter()
                    while delimiter in value:
                        delimiter = self.github.delimiter()
                    handle.write(output_entry(name, value, delimiter))

    def _status_table(self, rows: list[dict[str, Any]]) -> None:
        width = max([16] + [len(r["local"] or "") for r in rows] + [len(r["remote"] or "") for r in rows])
        self.line(f"  {'Local':<{width}} | {'Remote':<{width}} | {'Applied at (UTC)':<26} | Note")
        self.line(f"  {'-' * width}-|-{'-' * width}-|-{'-' * 26}-|-{'-' * 12}")
        for row in rows:
            self.line(f"  {row['local'] or '':<{width}} | {row['remote'] or '':<{width}} | "
                      f"{str(row['applied_at'] or '')[:26]:<26} | {row.get('note') or ''}".rstrip(),
                      "warning" if row.get("note") else None)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


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


def summary_line(report: Report) -> str:
    """One sentence that says how the run ended."""
    applied = report.applied_versions
    parts = [f"{report.command} on {report.database or report.target}: {report.status}"]
    if report.plan_summary:  # plan and dry runs: what a real deploy would do, in one sentence
        parts.append(report.plan_summary)
    elif report.command in ("deploy", "plan"):
        parts.append(f"applied {len(applied)} migration(s)")
    if report.tables is not None:
        parts.append(f"{report.tables} tables in public")
    if report.assertions and not report.plan_summary:
        failed = len(report.failed_assertions)
        parts.append(f"assertions {len(report.assertions) - failed}/{len(report.assertions)} passed")
    elif report.verified is False and report.exit_code == 0 and not report.plan_summary:
        parts.append("nothing was verified (no assertions)")
    errors = sum(1 for p in report.problems if p["level"] == "error")
    if errors:
        parts.append(f"{errors} error(s)")
    parts.append(f"{report.round_trips} round trip(s), {report.duration_ms} ms")
    return "; ".join(parts)
