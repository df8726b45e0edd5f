"""The advisors' pure parts as the house carries them: a finding is a ground `Finding` that every channel
renders unchanged; the engine places the Probe; PostgREST is told to reload only for an exposed schema; the
Data API wait is bounded; the option, the command and the ending are in their tables."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from supadeploy.checks.advisors.model import Attribution, Category, Change, Finding, Level, Status
from supadeploy.checks.advisors.probe import DeployProbe
from supadeploy.checks.advisors.query import CALL, advisors_function
from supadeploy.commands.advising import pauses
from supadeploy.engine.migrations import Migration, parse_migration
from supadeploy.engine.requests import Settings, deploy_transaction
from supadeploy.errors import AdvisorsOverLimit, MigrationFileError, outcome
from supadeploy.model import Finding as GroundFinding
from supadeploy.model import Level as GroundLevel
from supadeploy.model import RunStatus
from supadeploy.options import BY_NAME, COMMAND_NAMES
from supadeploy.report.junit import junit_xml
from supadeploy.report.markdown import job_summary
from supadeploy.report.report import Report

DOCS = "https://supabase.com/docs/guides/database/database-linter?lint=0013_rls_disabled_in_public"


def _finding(status: Status = Status.NEW, over: bool = False, where: bool = True,
             level: Level = Level.ERROR) -> Finding:
    found = Finding.of("rls_disabled_in_public", level, (Category.SECURITY,), "public", "notes", "table",
                       "Table public.notes is public, but RLS has not been enabled.", DOCS,
                       cache_key="rls_disabled_in_public_public_notes",
                       where=Attribution("supabase/migrations/1_notes.sql", 4, Change.CREATE) if where else None)
    return found.judged(status, over)


def _migration(text: str, name: str = "000001_x.sql") -> Migration:
    version, rest = name.split("_", 1)
    return parse_migration(text.encode(), version, rest[:-4], Path(name), f"supabase/migrations/{name}")


def test_an_advisor_finding_is_a_ground_finding_with_supabases_json_fields():
    finding = _finding(over=True)
    assert isinstance(finding, GroundFinding) and finding.FAMILY == "advisors" and finding.SECTION == "Advisors"
    assert (finding.rule, finding.file, finding.line, finding.message) == (
        "rls_disabled_in_public", "supabase/migrations/1_notes.sql", 4,
        "Table public.notes is public, but RLS has not been enabled.")
    data = finding.to_dict()
    assert {k: data[k] for k in ("lint", "level", "category", "schema", "object", "file", "line", "remediation")} == {
        "lint": "rls_disabled_in_public", "level": "ERROR", "category": "SECURITY", "schema": "public",
        "object": "notes", "file": "supabase/migrations/1_notes.sql", "line": 4, "remediation": DOCS}
    assert data["status"] == "new" and data["over_limit"] is True and data["key"] == "rls_disabled_in_public:public.notes"
    unattributed = _finding(where=False).to_dict()
    assert unattributed["file"] is None and unattributed["line"] is None


@pytest.mark.parametrize("level, status, shown", [
    (Level.ERROR, Status.NEW, GroundLevel.ERROR), (Level.WARN, Status.NEW, GroundLevel.WARNING),
    (Level.INFO, Status.NEW, GroundLevel.NOTICE), (Level.ERROR, Status.IN_PRODUCTION, GroundLevel.NOTICE),
    (Level.ERROR, Status.ACKNOWLEDGED, GroundLevel.NOTICE), (Level.ERROR, Status.EARLIER, GroundLevel.NOTICE),
    (Level.ERROR, Status.FIXED, GroundLevel.NOTICE)])
def test_levels_map_to_the_channels_and_only_new_findings_are_loud(level, status, shown):
    finding = _finding(status, level=level)
    assert finding.level is shown and finding.level_word == level.value
    assert finding.acknowledged is (status is Status.ACKNOWLEDGED)


def test_problem_points_at_the_file_and_line_and_says_the_verdict():
    problem = _finding(Status.IN_PRODUCTION).problem()
    assert (problem.file, problem.line, problem.title, problem.kind) == (
        "supabase/migrations/1_notes.sql", 4, "Advisors: rls_disabled_in_public", "advisors")
    assert "[ERROR; in production]" in problem.message and DOCS in problem.message
    assert _finding(where=False).problem().file is None


def test_every_channel_renders_the_family_without_knowing_it():
    report = Report(command="plan", target="api", findings=[_finding(over=True), _finding(Status.IN_PRODUCTION)])
    data = report.to_dict()
    assert [f["status"] for f in data["advisors"]] == ["new", "in production"] and data["findings"] == []
    json.dumps(data, default=str)
    summary = job_summary(report)
    assert "### Advisors" in summary and "| supabase/migrations/1_notes.sql:4 | [`rls_disabled_in_public`](" in summary
    assert "new: fails the run" in summary and "| in production |" in summary
    suite = ET.fromstring(junit_xml(report)).find("testsuite[@name='advisors']")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("2", "1")
    assert report.scrubbed(lambda text: text.replace("notes", "n*")).findings[0].object == "n*"


def test_advisors_over_the_limit_end_the_run_with_their_own_status():
    ended = outcome(AdvisorsOverLimit("1 new advisor finding"))
    assert (ended.status, ended.exit_code) == (RunStatus.ADVISOR, 1) and RunStatus.ADVISOR == "advisor"


def test_the_option_and_the_command_are_in_the_tables():
    option = BY_NAME["max-advisor-level"]
    assert option.choices == ("info", "warning", "error", "none") and option.default == "error"
    assert set(option.commands) == {"plan", "deploy", "lint", "advise", "rollout"} and "advise" in COMMAND_NAMES


def test_the_probe_notifies_postgrest_only_for_an_exposed_schema_and_only_in_a_real_deploy():
    asked: list[int] = []

    def exposed() -> tuple[str, ...]:
        asked.append(1)
        return ("public", "api")

    probe = DeployProbe(exposed, dry_run=False)
    assert probe.finish([_migration("create table public.t (id int);\n")]) == "NOTIFY pgrst, 'reload schema';\n"
    assert probe.finish([_migration("create schema private;\ncreate table private.t (id int);\n")]) == ""
    assert probe.finish([_migration("insert into public.t values (1);\n")]) == "" and len(asked) == 2
    assert probe.result([]) is None
    config = probe.finish([_migration("alter role authenticator set pgrst.db_schemas = 'public, api';\n")])
    assert config == "NOTIFY pgrst, 'reload config';\nNOTIFY pgrst, 'reload schema';\n"
    assert DeployProbe(exposed, dry_run=False, reload=False).finish([_migration("create table t (id int);\n")]) == ""
    dry = DeployProbe(exposed, dry_run=True)
    assert dry.finish([_migration("create table public.t (id int);\n")]).startswith("CREATE FUNCTION pg_temp.")
    assert dry.result([]) == CALL


def test_the_engine_places_the_probe_before_the_result_is_read():
    migration = _migration("create table public.t (id int);\n")
    text = deploy_transaction([migration], Settings("sd_tag", "2s", "5min"), "5s", dry_run=True,
                              create_history=False, cursor=None, probe=DeployProbe(lambda: ("public",), True)).text
    assert text.index("create table public.t") < text.index("CREATE FUNCTION pg_temp.supadeploy_advisors")
    assert text.index("CREATE FUNCTION pg_temp.supadeploy_advisors") < text.index(f"'probe', {CALL}")
    assert text.index(f"'probe', {CALL}") < text.index("rolled back on purpose")


def test_the_advisors_function_keeps_its_empty_search_path_to_itself_and_answers_errors():
    text = advisors_function(("public",))
    assert "SET search_path = ''" in text and "EXCEPTION WHEN OTHERS" in text and "set local" not in text.lower()


def test_the_data_api_wait_is_bounded():
    waits = pauses(30.0)
    assert sum(waits) == pytest.approx(30.0) and max(waits) <= 8.0 and waits[0] == 0.25
    assert waits == sorted(waits[:-1]) + waits[-1:]
    assert sum(pauses(1.0)) == pytest.approx(1.0)


def test_an_unknown_directive_names_both_families_of_acknowledgements():
    with pytest.raises(MigrationFileError) as raised:
        _migration("-- supadeploy: alow rls_disabled_in_public\ncreate table t (id int);\n")
    message = raised.value.problems[0].message
    assert "advisor lints" in message and "lock-safety rule" in message and "lock safety)" not in message
