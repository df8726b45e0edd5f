"""Small pure helpers: durations, sizes, quoting, acknowledgements, the report's JSON shape."""

from __future__ import annotations

import json

from supadeploy.acknowledgements import acknowledged_rules, is_acknowledged
from supadeploy.locks import LockFinding, Severity
from supadeploy.model import Level, MigrationResult, MigrationStatus, Problem
from supadeploy.report.report import Report
from supadeploy.sqltext import ident, literal, qualified
from supadeploy.units import duration, human_size, seconds


def test_durations_and_sizes():
    assert duration("10") == "10s" and duration("2 min") == "2min" and duration("x") is None
    assert seconds("500ms") == 0.5 and seconds("1h") == 3600.0
    assert human_size(512) == "512 bytes" and human_size(3 * 1024 * 1024) == "3.0 MiB"


def test_quoting():
    assert ident("plain_name") == "plain_name" and ident("Mixed") == '"Mixed"' and ident('a"b') == '"a""b"'
    assert qualified(None, "t") == "t" and qualified("Sch", "t") == '"Sch".t'
    assert literal("it's $sd$") == "$sd1$it's $sd$$sd1$"


def test_acknowledgements():
    text = "select 1;\n-- supadeploy: allow scan-under-lock, rewrite-under-lock — tiny table\nalter table t ...;\n"
    assert acknowledged_rules(text, 3) == {"scan-under-lock", "rewrite-under-lock"}
    assert not is_acknowledged("blocking-index-build", text, 3)
    assert is_acknowledged("anything", "-- supadeploy: allow-file all - generated\nselect 1;", 2)


def test_the_json_report_keeps_its_keys_and_words():
    report = Report(command="deploy", status="failed", exit_code=1)
    report.migrations.append(MigrationResult("000001", "a", "m/000001_a.sql", MigrationStatus.APPLIED, 3, 1))
    finding = LockFinding(rule="scan-under-lock", file="m/000001_a.sql", line=2, message="scan", advice="NOT VALID",
                          severity=Severity.WARNING, statement_line=2)
    report.findings.append(finding)
    report.add_problem(finding.problem(), finding.level)
    report.add_problem(Problem("bad", "f.sql", 3), Level.ERROR, fatal=True)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["status"] == "failed" and data["applied_versions"] == ["000001"]
    assert data["migrations"][0]["status"] == "applied"
    assert data["findings"][0]["level"] == "warning"  # one vocabulary of levels: problems and findings alike
    assert not {"severity", "statement_line", "statement_index", "column"} & set(data["findings"][0])
    assert [p["level"] for p in data["problems"]] == ["warning", "error"] and data["problems"][0]["kind"] == "lock-safety"
    assert "allow scan-under-lock" in data["problems"][0]["message"]  # the id an acknowledgement needs
