"""JUnit XML: a test case per migration, per assertion and per finding, for any CI test reporter."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from ..model import Finding, Level, MigrationStatus
from .report import Report
from .text import where


def junit_xml(report: Report) -> str:
    root = ET.Element("testsuites", name=f"supadeploy {report.command}")
    migrations = ET.SubElement(root, "testsuite", name="migrations")
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    for m in report.migrations:
        case = ET.SubElement(migrations, "testcase", classname="migrations", name=f"{m.version}_{m.name}",
                             time=f"{(m.duration_ms or 0) / 1000:.3f}")
        counts["tests"] += 1
        if m.status == MigrationStatus.FAILED:
            counts["failures"] += 1
            failure = ET.SubElement(case, "failure", message=m.message or "migration failed")
            failure.text = m.message or ""
        elif m.status != MigrationStatus.APPLIED:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=m.status)
    migrations.attrib.update({k: str(v) for k, v in counts.items()})
    checks = ET.SubElement(root, "testsuite", name="assertions")
    failures = 0
    for a in report.assertions:
        case = ET.SubElement(checks, "testcase", classname=f"assertions.{a.kind}", name=a.name)
        if a.file:
            case.set("file", a.file)
        if a.line:
            case.set("line", str(a.line))
        if not a.passed:
            failures += 1
            failure = ET.SubElement(case, "failure", message=a.message)
            failure.text = f"{where(a.file, a.line)}{a.message}"
    checks.attrib.update({"tests": str(len(report.assertions)), "failures": str(failures)})
    if report.projects:
        _projects(ET.SubElement(root, "testsuite", name="projects"), report)
    for family, group in groupby(sorted(report.findings, key=lambda f: f.FAMILY), key=lambda f: f.FAMILY):
        _findings(ET.SubElement(root, "testsuite", name=family), list(group))
    errors = [p for p in report.problems_at(Level.ERROR) if p.fatal]
    if errors and not report.migrations and not report.assertions and not report.projects:
        run = ET.SubElement(root, "testsuite", name="run", tests="1", failures="1")
        case = ET.SubElement(run, "testcase", classname="supadeploy", name=report.command)
        ET.SubElement(case, "failure", message=errors[0].problem.message).text = "\n".join(
            where(p.problem.file, p.problem.line) + p.problem.message for p in errors)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _findings(suite: ET.Element, findings: list[Finding]) -> None:
    """A test case per finding: failed when over the run's threshold, skipped when acknowledged in its file."""
    failures = skipped = 0
    for f in findings:
        at = f"{f.file}:{f.line} " if f.file else ""  # a finding on a database object may have no file
        case = ET.SubElement(suite, "testcase", classname=f"{f.FAMILY}.{f.rule}", name=f"{at}{f.subject or ''}".strip())
        if f.file:
            case.attrib.update(file=f.file, line=str(f.line))
        text = f"{f.level_word}: {f.message}. Instead: {f.advice}"
        if f.over_limit:
            failures += 1
            ET.SubElement(case, "failure", message=f"{f.level_word}: {f.rule}").text = text
        elif f.acknowledged:
            skipped += 1
            ET.SubElement(case, "skipped", message="acknowledged in the file").text = text
        else:
            ET.SubElement(case, "system-out").text = text
    suite.attrib.update({"tests": str(len(findings)), "failures": str(failures), "skipped": str(skipped)})


def _projects(suite: ET.Element, report: Report) -> None:
    """A test case per project of a fleet: failed, skipped (not started), or passed."""
    failures = skipped = 0
    for row in report.projects:
        case = ET.SubElement(suite, "testcase", classname=f"{report.command}.{row.wave}", name=row.project,
                             time=f"{row.seconds or 0:.3f}")
        text = f"{row.result}: {row.message}" if row.message else row.result
        if row.failed:
            failures += 1
            ET.SubElement(case, "failure", message=row.result).text = text
        elif not row.started:
            skipped += 1
            ET.SubElement(case, "skipped", message=row.result).text = text
        else:
            ET.SubElement(case, "system-out").text = text
    suite.attrib.update({"tests": str(len(report.projects)), "failures": str(failures), "skipped": str(skipped)})
