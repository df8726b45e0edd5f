"""Reporting: GitHub workflow commands, job summary, step outputs and JUnit, byte for byte."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import ALL, MIGRATIONS, NEWEST, REPO, parse_outputs
from supadeploy.locks import LockFinding, Severity
from supadeploy.model import AssertionResult, Level, MigrationResult, MigrationStatus, Problem, ReportedProblem
from supadeploy.report.github import GitHub, annotation, escape_data, escape_property
from supadeploy.report.github import annotation_lines as annotations
from supadeploy.report.junit import junit_xml
from supadeploy.report.markdown import job_summary, pr_comment
from supadeploy.report.report import Report
from supadeploy.report.reporter import Reporter

WELLTRACK = REPO / "assertions" / "welltrack.yml"


def problem(message: str, level: str = "error", file: str | None = None, line: int | None = None,
            fatal: bool = False, title: str = "supadeploy") -> ReportedProblem:
    return ReportedProblem(Problem(message, file, line, title), Level(level), fatal)


def test_escaping_follows_the_toolkit_exactly():
    assert escape_data("100%\r\nnext: a, b") == "100%25%0D%0Anext: a, b"
    assert escape_property("100%\r\nnext: a, b") == "100%25%0D%0Anext%3A a%2C b"
    # % is escaped first, so an existing escape sequence is not decoded by the runner.
    assert escape_data("%0A") == "%250A"


def test_annotation_escapes_message_file_and_title():
    line = annotation(problem("50% done\nthen: failed, badly", file="migrations/000001_a,b:c%.sql",
                                       line=40, title="Migration failed: x"))
    assert line == ("::error file=migrations/000001_a%2Cb%3Ac%25.sql,line=40,title=Migration failed%3A x"
                    "::50%25 done%0Athen: failed, badly")


def test_annotation_without_file_has_no_line_and_long_messages_are_cut():
    line = annotation(problem("x" * 5000, level="warning", line=3))
    assert line.startswith("::warning title=supadeploy::xxx") and "line=" not in line
    assert len(line) < 4096


def test_at_most_ten_per_kind_most_important_first_then_one_summary():
    found = [problem(f"assertion {i}", file=f"migrations/00000{i % 9 + 1}_x.sql", line=i + 1) for i in range(20)]
    found.insert(5, problem("deploy failed", fatal=True))
    found += [problem("drift", level="warning", file="migrations/000001_x.sql")] * 3
    lines, overflow = annotations(found)
    errors = [l for l in lines if l.startswith("::error")]
    assert len(errors) == 10 and len(overflow) == 12
    assert errors[0] == "::error title=supadeploy::deploy failed"  # what stopped the run comes first
    assert errors[1].startswith("::error file=migrations/000001_x.sql,line=1,")
    assert errors[-1].startswith("::error title=12 more errors::12 more errors in migrations/")
    assert len([l for l in lines if l.startswith("::warning")]) == 3


def test_step_outputs_and_annotations_byte_for_byte(tmp_path: Path):
    out, summary = tmp_path / "output", tmp_path / "summary"
    delimiters = iter([f"D{i}" for i in range(1, 11)])
    stdout = io.StringIO()
    report = Report(command="deploy", target="postgres", status="failed", exit_code=1)
    reporter = Reporter(report, out=stdout,
                        github=GitHub(output=out, summary=summary, delimiter=lambda: next(delimiters)))
    reporter.secrets.add("sbp_secret_token")
    report.migrations = [MigrationResult("000001", "core", "m/000001_core.sql", MigrationStatus.APPLIED, 12, 3, "")]
    report.pending = ["000002"]
    report.assertions = [AssertionResult("rls, all", "rls_enabled", False, "RLS off: public.wt_x\nsecond line",
                                         "public.wt_x", "m/000001_core.sql", 7)]
    report.add_problem(Problem("assertion failed: rls, all: RLS off", "m/000001_core.sql", 7, "Assertion failed: rls"),
                       Level.ERROR, fatal=True)
    with reporter.phase("Deploy"):
        reporter.problem(Problem("kept for the end"), Level.ERROR)
    reporter.finish()
    assert stdout.getvalue().split("\n")[:4] == [
        "::add-mask::sbp_secret_token",
        "::group::Deploy",
        "::endgroup::",
        "::error file=m/000001_core.sql,line=7,title=Assertion failed%3A rls::assertion failed: rls, all: RLS off",
    ]
    compact = json.dumps(report.to_dict(), separators=(",", ":"))
    assert out.read_text() == (
        "status<<D1\nfailed\nD1\n"
        "applied-count<<D2\n1\nD2\n"
        "pending-count<<D3\n1\nD3\n"
        'applied-versions<<D4\n["000001"]\nD4\n'
        "schema-version<<D5\n\nD5\n"
        'failed-assertions<<D6\n["rls, all"]\nD6\n'
        f"report<<D7\n{compact}\nD7\n"
        "report-path<<D8\n\nD8\n"
        "junit-path<<D9\n\nD9\n"
        "pr-comment-path<<D10\n\nD10\n")
    assert parse_outputs(out.read_text())["failed-assertions"] == '["rls, all"]'
    text = summary.read_text()
    assert "| 000001 | core | ✅ applied | 12 ms |" in text
    assert "| ❌ fail | rls, all | m/000001_core.sql:7: RLS off: public.wt_x<br>second line |" in text


def test_delimiter_never_occurs_in_the_value(tmp_path: Path):
    out = tmp_path / "output"
    candidates = iter(["failed", "ok_delim"] + [f"d{i}" for i in range(20)])
    reporter = Reporter(Report(command="plan", status="failed", exit_code=1), out=io.StringIO(),
                        github=GitHub(output=out, delimiter=lambda: next(candidates)))
    reporter.finish()
    assert out.read_text().startswith("status<<ok_delim\nfailed\nok_delim\n")


def test_summary_markdown_escapes_cells_and_stays_under_one_mib():
    report = Report(command="verify", target="api", status="failed", exit_code=1)
    report.assertions = [AssertionResult(f"check {i} | <b>", "sql", i % 2 == 0, "m" * 280, None, "a.yml", i)
                         for i in range(20000)]
    text = job_summary(report)
    assert len(text.encode()) < 1024 * 1024
    assert "check 1 \\| &lt;b&gt;" in text
    assert text.rstrip().endswith("more row(s) not shown (summary size limit): see the `report` output._")
    assert "✅ pass" not in text and text.count("❌ fail") > 1000  # failures are listed first


def test_pr_comment_is_marked_compact_and_under_githubs_limit():
    report = Report(command="deploy", target="local", status="failed", exit_code=1)
    report.assertions = [AssertionResult(f"check {i}", "sql", i % 3 != 0, "m" * 200, None, "a.yml", i)
                         for i in range(9000)]
    report.findings = [LockFinding(rule="scan-under-lock", severity=Severity.WARNING, file="m/000002_a.sql", line=3,
                                   table="public.items", lock="AccessExclusiveLock", effect="validation scan",
                                   rows=200000, bytes=15 << 20, size_source="production", advice="NOT VALID",
                                   message="scan", acknowledged=False, over_limit=False)]
    text = pr_comment(report)
    assert text.startswith("<!-- supadeploy: pull-request comment -->\n## supadeploy deploy: ❌ failed")
    assert len(text) < 65536 and "✅ pass" not in text  # passing assertions are counted, not listed
    assert "### Lock safety" in text and "| `scan-under-lock` | public.items |" in text
    assert "### Assertions: 6000/9000 passed" in text and "more row(s) not shown" in text


def test_summary_exact_for_a_small_report():
    report = Report(command="deploy", target="local", database="local PostgreSQL 17 (default)", round_trips=2,
                    duration_ms=5, plan_summary="a deploy would apply 1 migration(s), one transaction each")
    report.migrations = [MigrationResult("000009", "perf", "m/000009_perf.sql", MigrationStatus.WOULD_APPLY, None)]
    report.dry_run = True
    assert job_summary(report) == (
        "## supadeploy deploy: ✅ success\n\n**Database:** local PostgreSQL 17 (default)\n\n"
        "deploy on local PostgreSQL 17 (default): success; a deploy would apply 1 migration(s), one transaction "
        "each; 2 round trip(s), 5 ms\n\n"
        "### Migrations\n\n| Version | Name | Status | Duration |\n|---|---|---|---:|\n"
        "| 000009 | perf | 🔍 would apply |  |\n\n")


def test_junit_has_a_case_per_migration_and_assertion():
    report = Report(command="deploy")
    report.migrations = [MigrationResult("000001", "a", "m/000001_a.sql", MigrationStatus.APPLIED, 1500),
                         MigrationResult("000002", "b", "m/000002_b.sql", MigrationStatus.FAILED, None,
                                         message="m/000002_b.sql:40: 42703: column <x> does not exist")]
    report.assertions = [AssertionResult("34 tables", "table_count", True, "34", None, "a.yml", 3),
                         AssertionResult("rls", "rls_enabled", False, "off & on", None, "m/000001_a.sql", 9)]
    root = ET.fromstring(junit_xml(report))
    suites = {s.get("name"): s for s in root}
    assert suites["migrations"].get("tests") == "2" and suites["migrations"].get("failures") == "1"
    cases = suites["migrations"].findall("testcase")
    assert cases[0].get("time") == "1.500"
    assert cases[1].find("failure").get("message").endswith("column <x> does not exist")
    failure = suites["assertions"].findall("testcase")[1].find("failure")
    assert failure.get("message") == "off & on" and failure.text == "m/000001_a.sql:9: off & on"


def test_github_run_end_to_end_through_the_cli(db, run_cli, migrations_copy, tmp_path, monkeypatch):
    """A failing migration on a runner: grouped log, one annotation at file:line, summary, outputs, JUnit."""
    (migrations_copy / "000099_broken.sql").write_text("-- one\n-- two\nselect 1/0;\n")
    out, summary = tmp_path / "gh_output", tmp_path / "gh_summary"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    junit = tmp_path / "junit.xml"
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", migrations_copy, "--no-assertions",
                     "--junit", junit)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == f"supadeploy deploy → postgres@127.0.0.1:{db.cluster.port}/{db.name}"
    assert any(line.startswith("::group::Deploy (tx-mode file") for line in lines)
    errors = [l for l in lines if l.startswith("::error")]
    assert errors == ["::error file=migrations/000099_broken.sql,line=3,title=Migration 000099 failed"
                      "::22012: division by zero%0ANothing of this transaction was committed."]
    outputs = parse_outputs(out.read_text())
    assert outputs["status"] == "failed" and outputs["applied-count"] == str(len(ALL)) and outputs["pending-count"] == "1"
    assert json.loads(outputs["applied-versions"])[-1] == NEWEST
    assert json.loads(outputs["report"])["exit_code"] == 1
    assert "| 000099 | broken | ❌ failed |" in summary.read_text()
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "1"


def test_terminal_output_has_a_line_per_migration_and_a_summary(db, run_cli):
    result = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", MIGRATIONS, "--assertions", WELLTRACK)
    assert result.code == 0
    lines = result.out.splitlines()
    assert sum(1 for l in lines if l.startswith("  ✓ 0000")) == len(ALL)
    assert sum(1 for l in lines if l.startswith("  ✓ ")) == len(ALL) + 36
    assert lines[-1].startswith(f"deploy on postgres@127.0.0.1:{db.cluster.port}/{db.name}: success; applied {len(ALL)} "
                                "migration(s); 34 tables in public; assertions 36/36 passed;")
    assert "::" not in result.out
