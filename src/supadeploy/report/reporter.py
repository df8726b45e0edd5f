"""One path from the commands to every channel.

Commands record what happens through a `Reporter`: it keeps the typed `Report` and shows each event on the
terminal as it happens. `finish` then renders the same report to every channel that was asked for.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from ..masking import Secrets
from ..model import AssertionResult, Finding, Level, MigrationResult, Problem, ProjectRow, StatusRow
from .github import GitHub, annotation_lines, step_outputs, workflow_command, write_outputs
from .junit import junit_xml
from .markdown import job_summary, pr_comment
from .report import Report
from .terminal import Terminal
from .text import summary_line

REPEATS_SHOWN = 3  # findings of one rule shown in full on a terminal before the rest are named on one line


def _fold_key(finding: Finding) -> tuple[str, Level, bool]:
    return finding.rule, finding.level, finding.acknowledged


class Reporter:
    """The run's report and its live view: a progress line per step, then a summary (or JSON on stdout).

    With `github` set, problems become ranked annotations at the end, phases become log groups, secrets are
    masked the moment they are known, and the summary and outputs files are written.
    """

    def __init__(self, report: Report | None = None, fmt: str = "text", out: TextIO | None = None,
                 err: TextIO | None = None, secrets: Secrets | None = None, github: GitHub | None = None,
                 color: bool | None = None) -> None:
        self.report = report or Report(command="")
        self.format = fmt
        self.github = github
        self.secrets = secrets or Secrets()
        self.terminal = Terminal(fmt, out or sys.stdout, err or sys.stderr, self.secrets, github is not None, color)
        if github is not None:
            for value in self.secrets.values:
                self.terminal.mask(value)
            self.secrets.on_add = self.terminal.mask

    # -- what happened: into the report, and onto the terminal -------------------------------
    def problem(self, problem: Problem, level: Level = Level.ERROR, fatal: bool = False) -> None:
        """Terminal: printed now. GitHub: kept, ranked and annotated in `finish`."""
        self.report.add_problem(problem, level, fatal)
        if self.github is None:
            self.terminal.problem(problem, level)

    def warnings(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        for problem in problems:
            self.problem(problem, Level.WARNING)

    def findings(self, found: Sequence[Finding]) -> None:
        """Into the report (JSON, annotations, summary, JUnit) and onto the terminal, in the order given.

        On a terminal, a rule that finds more than REPEATS_SHOWN + 1 things that do not fail the run shows
        its first REPEATS_SHOWN in full, then one line naming the rest (30 tables visible in the GraphQL
        schema are one story); the report keeps every one."""
        foldable = [] if self.github is not None else [f for f in found if not f.over_limit]
        counts = Counter(_fold_key(f) for f in foldable)
        shown: Counter[tuple[str, Level, bool]] = Counter()
        folded: dict[tuple[str, Level, bool], list[Finding]] = {}
        for finding in found:
            self.report.findings.append(finding)
            key = _fold_key(finding)
            if counts[key] > REPEATS_SHOWN + 1 and not finding.over_limit and shown[key] >= REPEATS_SHOWN:
                folded.setdefault(key, []).append(finding)
                self.report.add_problem(finding.problem(), finding.level)
            else:
                shown[key] += 1
                self.problem(finding.problem(), finding.level)
        for (rule, level, _), rest in folded.items():
            self.terminal.fold(rule, level, [(f.file, f.line, f.subject) for f in rest])

    def migration(self, result: MigrationResult, record: bool = True) -> None:
        if record:
            self.report.migrations.append(result)
        self.terminal.migration(result)

    def assertion(self, result: AssertionResult) -> None:
        self.report.assertions.append(result)
        self.terminal.assertion(result)

    def status_rows(self, rows: list[StatusRow]) -> None:
        self.report.status_rows.extend(rows)

    def projects(self, rows: list[ProjectRow]) -> None:
        """A fleet's rows: shown as one table at the end, like the status rows."""
        self.report.projects.extend(rows)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible log group on GitHub; nothing around it elsewhere."""
        if self.github is not None:
            self.terminal.command(workflow_command("group", self.secrets.scrub(title)))
        try:
            yield
        finally:
            if self.github is not None:
                self.terminal.command("::endgroup::")

    # -- the live view only ---------------------------------------------------------------
    def heading(self, text: str) -> None:
        self.terminal.line(text, "heading")

    def progress(self, text: str) -> None:
        self.terminal.line(text)

    @property
    def interactive(self) -> bool:
        return self.terminal.interactive

    def confirm(self, question: str) -> bool:
        return self.terminal.confirm(question)

    @contextmanager
    def phase(self, title: str) -> Iterator[None]:
        """A collapsible log group on GitHub; a heading line elsewhere."""
        if self.github is not None:
            self.terminal.command(workflow_command("group", self.secrets.scrub(title)))
        else:
            self.terminal.line(title, "heading")
        try:
            yield
        finally:
            if self.github is not None:
                self.terminal.command("::endgroup::")

    def debug(self, text: str) -> None:
        """Only with SUPADEPLOY_DEBUG; scrubbed like everything else; `::debug::` on a runner."""
        if self.github is not None:
            self.terminal.command(workflow_command("debug", self.secrets.scrub(text)))
        else:
            self.terminal.write(self.terminal.err, text)

    # -- the end: every channel renders the same report -----------------------------------------
    def finish(self, report_path: Path | None = None, junit_path: Path | None = None,
               comment_path: Path | None = None) -> None:
        live = self.report
        live.report_path = str(report_path) if report_path else None
        live.junit_path = str(junit_path) if junit_path else None
        live.comment_path = str(comment_path) if comment_path else None
        report = live.scrubbed(self.secrets.scrub)
        scrub = self.secrets.scrub
        if report_path is not None:
            report_path.write_text(scrub(json.dumps(report.to_dict(), indent=2, default=str)) + "\n")
        if junit_path is not None:
            junit_path.write_text(scrub(junit_xml(report)), encoding="utf-8")
        if comment_path is not None:
            comment_path.write_text(scrub(pr_comment(report)), encoding="utf-8")
        if self.github is not None:
            self._finish_github(report)
        if self.format == "json":
            document = report.matrix if report.matrix is not None else report.to_dict()
            self.terminal.write(self.terminal.out, json.dumps(document, indent=2, default=str))
            return
        if report.status_rows:
            self.terminal.status_table(report.status_rows)
        if report.projects:
            self.terminal.project_table(report.projects)
        self.terminal.line(summary_line(report), "ok" if report.exit_code == 0 else "error")

    def _finish_github(self, report: Report) -> None:
        assert self.github is not None
        lines, overflow = annotation_lines(report.problems)
        for entry in overflow:
            self.terminal.problem(entry.problem, entry.level)
        for text in lines:
            self.terminal.command(text)
        if self.github.summary is not None:
            with self.github.summary.open("a", encoding="utf-8") as handle:
                handle.write(self.secrets.scrub(job_summary(report)))
        if self.github.output is not None:
            write_outputs(self.github.output,
                          {name: self.secrets.scrub(value) for name, value in step_outputs(report).items()},
                          self.github.delimiter)
