"""On a terminal, many findings of one rule are one story: the first few in full, the rest named on a line."""

from __future__ import annotations

import io

from supadeploy.model import Finding
from supadeploy.report.github import GitHub
from supadeploy.report.reporter import REPEATS_SHOWN, Reporter


def _finding(rule: str, n: int, over_limit: bool = False) -> Finding:
    return Finding(rule, "m/1_a.sql", n, f"{rule} thing {n}", "do better", over_limit=over_limit)


def test_a_rule_with_many_findings_shows_a_few_and_names_the_rest_and_the_report_keeps_all() -> None:
    out = io.StringIO()
    reporter = Reporter(out=out, err=io.StringIO(), color=False)
    many = [_finding("many", n) for n in range(1, 8)]
    few = [_finding("few", n) for n in range(1, REPEATS_SHOWN + 2)]  # one more than shown: not worth a fold
    failing = [_finding("failing", n, over_limit=True) for n in range(1, 7)]
    reporter.findings(many[:2] + few + many[2:] + failing)
    lines = out.getvalue().splitlines()
    assert sum("many thing" in line for line in lines) == REPEATS_SHOWN
    assert sum("few thing" in line for line in lines) == REPEATS_SHOWN + 1
    assert sum("failing thing" in line for line in lines) == 6  # what fails the run is always shown in full
    fold = [line for line in lines if "more of many" in line]
    assert fold == ["note: 4 more of many: m/1_a.sql:4, m/1_a.sql:5, m/1_a.sql:6, m/1_a.sql:7 "
                    "(--format json and --report list each at its file and line)"]
    assert len(reporter.report.findings) == len(reporter.report.problems) == 7 + 4 + 6


def test_on_a_runner_every_finding_goes_to_the_annotations(tmp_path) -> None:
    out = io.StringIO()
    github = GitHub.from_environ({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")})
    reporter = Reporter(out=out, err=io.StringIO(), github=github, color=False)
    reporter.findings([_finding("many", n) for n in range(1, 8)])
    assert "more of many" not in out.getvalue() and len(reporter.report.problems) == 7
