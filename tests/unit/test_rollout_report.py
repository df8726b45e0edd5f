"""A rollout's report without a database: the project rows in every channel, how a rollout ends, the
shard flag."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest

from supadeploy.commands.rollout import _failure, _result_row
from supadeploy.errors import (
    ConfigError,
    InternalError,
    Interrupted,
    MigrationFailed,
    OutcomeUnknownError,
    RolloutFailed,
    outcome,
)
from supadeploy.model import Problem, ProjectRow
from supadeploy.options import OptionError, parse_shard
from supadeploy.report.github import step_outputs
from supadeploy.report.junit import junit_xml
from supadeploy.report.markdown import job_summary
from supadeploy.report.report import Report
from supadeploy.report.reporter import Reporter
from supadeploy.rollout.scheduler import ProjectResult, Result, RolloutOutcome

A, B, C = "a" * 20, "b" * 20, "c" * 20


def report() -> Report:
    found = Report(command="rollout", database="fleet supabase/fleet.yml", status="failed", exit_code=1)
    found.projects = [
        ProjectRow(A, "canary", "deployed", applied="000010", applied_now=["000009", "000010"], pending=0,
                   seconds=2.25, requests=13),
        ProjectRow(B, "eu", "failed", failed=True, seconds=0.4, requests=4, message="42P07: | <b>exists</b>"),
        ProjectRow(C, "eu", "not-started", started=False, message="not started: b… (eu) failed"),
    ]
    return found


def test_the_json_report_has_a_row_per_project_and_no_step_outputs():
    data = json.loads(json.dumps(report().to_dict()))
    assert [(p["project"], p["result"], p["failed"], p["started"]) for p in data["projects"]] == [
        (A, "deployed", False, True), (B, "failed", True, True), (C, "not-started", False, False)]
    assert data["projects"][0]["applied_now"] == ["000009", "000010"] and "outputs" not in data


def test_junit_has_a_test_case_per_project_failed_or_skipped():
    suites = {s.get("name"): s for s in ET.fromstring(junit_xml(report()).split("\n", 1)[1])}
    projects = suites["projects"]
    assert (projects.get("tests"), projects.get("failures"), projects.get("skipped")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in projects}
    assert cases[B].find("failure") is not None and cases[C].find("skipped") is not None
    assert cases[A].get("classname") == "rollout.canary" and cases[A].get("time") == "2.250"
    assert "run" not in suites  # the rows already say what failed


def test_the_job_summary_has_the_projects_table_with_cells_made_harmless():
    text = job_summary(report())
    assert "### Projects" in text
    assert f"| `{A}` | canary | deployed | 000010 | 0 | 2.2 | 13 |  |" in text
    assert f"| `{B}` | eu | ❌ failed |" in text and "42P07: \\| &lt;b&gt;exists&lt;/b&gt;" in text
    assert "3 project(s): 1 deployed, 1 failed, 1 not-started" in text


def test_the_terminal_table_leaves_out_columns_nobody_filled():
    out = io.StringIO()
    reporter = Reporter(report(), out=out, err=out, color=False)
    reporter.report.projects = [ProjectRow(A, "eu", "pending", applied="000003", pending=7, message="applied …")]
    reporter.finish()
    lines = out.getvalue().splitlines()
    assert lines[0].split("|")[-1].strip() == "Note" and "Seconds" not in lines[0] and "Requests" not in lines[0]
    assert lines[2].split() == [A, "|", "eu", "|", "pending", "|", "000003", "|", "7", "|", "applied", "…"]


def test_a_matrix_run_prints_the_matrix_and_sets_its_outputs():
    out = io.StringIO()
    found = Report(command="rollout", matrix={"wave": "eu", "shards": 2}, outputs={"matrix": '{"wave":"eu"}'})
    Reporter(found, "json", out=out, err=io.StringIO()).finish()
    assert json.loads(out.getvalue()) == {"wave": "eu", "shards": 2}
    assert step_outputs(found)["matrix"] == '{"wave":"eu"}' and step_outputs(found)["status"] == "success"


def _result(ref: str, result: Result, code: int = 0, kind: type | None = None, problems=()) -> ProjectResult:
    return ProjectResult(ref, "eu", result, message=f"{result}", exit_code=code, error_type=kind,
                         problems=tuple(problems))


def test_a_rollout_ends_as_its_most_serious_project_with_each_failure_at_its_file_and_line():
    failed = _result(B, Result.FAILED, 1, MigrationFailed, [Problem("42P07: exists", "migrations/1.sql", 29,
                                                                    "Migration 1 failed")])
    ending = _failure(RolloutOutcome((_result(A, Result.DEPLOYED), failed, _result(C, Result.NOT_STARTED)),
                                     failed, f"{B} (eu) failed"))
    assert isinstance(ending, RolloutFailed) and outcome(ending).exit_code == 1
    assert [str(p) for p in ending.problems] == [
        f"rollout stopped: {B} (eu) failed; 1 project(s) not started",
        f"migrations/1.sql:29: {B} (eu): 42P07: exists"]
    assert ending.problems[1].title == f"Migration 1 failed ({B})"
    unknown = _result(C, Result.UNKNOWN, 4, OutcomeUnknownError)
    assert isinstance(_failure(RolloutOutcome((failed, unknown), failed, "x")), OutcomeUnknownError)
    bug = _result(C, Result.ERROR, 3, InternalError)
    assert outcome(_failure(RolloutOutcome((failed, bug), failed, "x"))).exit_code == 3
    refused = _result(C, Result.FAILED, 2, ConfigError)
    assert isinstance(_failure(RolloutOutcome((refused,), refused, "x")), ConfigError)
    stopped = _failure(RolloutOutcome((_result(A, Result.NOT_STARTED),), None, "interrupted"))
    assert isinstance(stopped, Interrupted) and outcome(stopped).exit_code == 130


def test_a_project_row_says_what_ran():
    row = _result_row(_result(C, Result.NOT_STARTED), dry_run=False)
    assert (row.failed, row.started, row.seconds, row.requests) == (False, False, None, None)
    assert _result_row(_result(A, Result.DEPLOYED), dry_run=True).result == "would-deploy"
    assert _result_row(_result(B, Result.FAILED, 1), dry_run=False).failed


@pytest.mark.parametrize(("text", "shard"), [("2/4", "2/4"), (" 1 / 1 ", "1/1"), ("256/256", "256/256")])
def test_a_shard_is_i_of_n(text, shard):
    assert parse_shard(text) == shard


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "1/300", "a/b", "2", "1/2/3", ""])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(OptionError):
        parse_shard(text)
