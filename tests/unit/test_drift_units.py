"""Drift's pure parts: the capture's version, where a difference is placed, the replay's major, the finding
in every channel's shape, the cache key."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from supadeploy.checks.drift import cache
from supadeploy.checks.drift.catalog import Kind
from supadeploy.checks.drift.check import replay_major
from supadeploy.checks.drift.differ import Change, Difference
from supadeploy.checks.drift.finding import DriftFinding, history_finding, object_finding
from supadeploy.checks.drift.history import UnexplainedRow
from supadeploy.checks.drift.locate import Locator
from supadeploy.checks.drift.record import next_version
from supadeploy.engine.migrations import parse_migration
from supadeploy.errors import ConfigError
from supadeploy.report.junit import junit_xml
from supadeploy.report.markdown import job_summary
from supadeploy.report.report import Report

NOW = datetime(2025, 12, 4, 17, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize("versions, expected", [
    ([], "20251204173005"),
    (["20240101000000", "20250601120000"], "20251204173005"),
    (["20991231235959"], "20991231235960"),  # a version from the future: the next one, still after it
    (["000001", "000010"], "000011"),
    (["1", "2", "3"], "4"),
])
def test_the_capture_version_sorts_after_every_other_one(versions, expected):
    assert next_version(versions, NOW) == expected
    assert all(expected > v for v in versions)


def test_no_version_sorts_last_at_the_folders_width():
    with pytest.raises(ConfigError, match="name the capture file yourself"):
        next_version(["8", "9"], NOW)


@pytest.mark.parametrize("flag, server, expected", [
    (None, 170004, (17, "the target's major")),
    (None, 150008, (15, "the target's major")),
    (15, 170004, (15, "--pg-major")),
    (None, 160002, (15, "the target runs PostgreSQL 16; nearest available")),
])
def test_the_replay_runs_the_targets_major(flag, server, expected):
    assert replay_major(flag, server) == expected


MIGRATION = """\
create table public.notes (
  id bigint primary key,
  body text
);
create policy "read own" on public.notes for select using (true);
alter table public.notes enable row level security;
comment on column public.notes.body is 'text';
grant select on public.notes to authenticated;
create or replace function public.f() returns int language sql as 'select 1';
create or replace function public.f() returns int language sql as 'select 2';
"""


def locator() -> Locator:
    migration = parse_migration(MIGRATION.encode(), "000001", "notes", Path("m/000001_notes.sql"),
                                "m/000001_notes.sql")
    return Locator([migration])


def place(key: tuple[str, ...], parent: tuple[str, ...] | None = None) -> tuple[str, int] | None:
    found = locator().place(Difference(Change.CHANGED, Kind.TABLE, key, "x"), parent)
    return (found.file, found.line) if found else None


def test_a_difference_is_placed_at_the_statement_that_made_the_object():
    assert place(("policy", "public", "notes", "read own")) == ("m/000001_notes.sql", 5)
    assert place(("rls", "public", "notes")) == ("m/000001_notes.sql", 6)
    assert place(("column", "public", "notes", "body")) == ("m/000001_notes.sql", 7)  # its latest statement
    assert place(("function", "public", "f", "")) == ("m/000001_notes.sql", 10)  # the replacing one
    assert place(("grant", "table public.notes", "authenticated"), ("relation", "public", "notes")) == (
        "m/000001_notes.sql", 8)


def test_what_hangs_on_a_migrations_table_is_placed_at_its_create_and_the_rest_nowhere():
    assert place(("column", "public", "notes", "nickname")) == ("m/000001_notes.sql", 1)
    assert place(("index", "public", "notes_body_idx"), ("relation", "public", "notes")) == ("m/000001_notes.sql", 1)
    assert place(("relation", "public", "dashboard_made")) is None
    assert place(("column", "public", "dashboard_made", "id")) is None


def finding(**overrides: object) -> DriftFinding:
    difference = Difference(Change.EXTRA, Kind.COLUMN, ("column", "public", "notes", "nickname"),
                            "column public.notes.nickname text")
    made = object_finding(difference, locator(), None, fails=True)
    for name, value in overrides.items():
        setattr(made, name, value)
    return made


def test_a_finding_speaks_every_channels_language():
    found = finding()
    assert found.problem().where() == "m/000001_notes.sql:1" and found.problem().title == "Drift: column"
    assert found.level == "error" and found.to_dict()["level"] == "error"
    assert found.to_dict()["change"] == "extra" and "statements" not in found.to_dict()
    assert found.columns()["Difference"] == "column public.notes.nickname text: in production, not in migrations"
    assert finding(over_limit=False).level == "warning"


def test_a_history_row_is_listed_with_its_statements_and_has_no_file():
    row = UnexplainedRow("20250601120000", "mcp made", ("create table public.mcp_made (id int)",) * 15)
    found = history_finding(row, fails=True)
    assert found.statements == list(row.statements) and found.file == ""
    assert found.message.count("create table public.mcp_made (id int);") == 12
    assert "… 3 more statement(s) in the JSON report" in found.message
    assert found.problem().file is None and found.problem().line is None
    report = Report(command="drift", findings=[found, finding()])
    suite = ET.fromstring(junit_xml(report)).find("testsuite[@name='drift']")
    assert suite is not None and suite.get("failures") == "2"
    cases = suite.findall("testcase")
    assert cases[0].get("name") == "20250601120000" and cases[0].get("file") is None
    assert cases[1].get("file") == "m/000001_notes.sql" and cases[1].get("line") == "1"
    summary = job_summary(report)
    assert "### Drift" in summary and "| m/000001_notes.sql:1 | column |" in summary


def test_the_cache_key_changes_with_every_input():
    migration = locator()._migrations[0]  # noqa: SLF001
    other = parse_migration(MIGRATION.replace("select 2", "select 3").encode(), "000001", "notes",
                            Path("m/000001_notes.sql"), "m/000001_notes.sql")
    base = cache.key(17, True, "select 1", [migration])
    assert base == cache.key(17, True, "select 1", [migration])
    assert len({base, cache.key(15, True, "select 1", [migration]), cache.key(17, False, "select 1", [migration]),
                cache.key(17, True, "select 2", [migration]), cache.key(17, True, "select 1", [other]),
                cache.key(17, True, "select 1", [])}) == 6


def test_the_cache_keeps_what_it_was_given_and_forgets_the_oldest(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPADEPLOY_CACHE", str(tmp_path))
    monkeypatch.setattr(cache, "KEEP", 2)
    assert cache.load("a") is None
    for age, name in enumerate(("a", "b", "c"), start=1):
        cache.store(name, {"relations": [name]})
        os.utime(tmp_path / "drift" / f"{name}.json", (age, age))  # stored in this order
    assert sorted(p.name for p in (tmp_path / "drift").glob("*.json")) == ["b.json", "c.json"]
    assert cache.load("c") == {"relations": ["c"]}
    (tmp_path / "drift" / "c.json").write_text("{not json")
    assert cache.load("c") is None  # a damaged entry is a miss, never a wrong catalog
