"""Lock findings from trace rows: which rule matches, how bad, acknowledged or not (no database)."""

from __future__ import annotations

from pathlib import Path

from supadeploy.engine.migrations import parse_migration
from supadeploy.locks import Severity, at_least, severity_for
from supadeploy.locks.analyze import findings
from supadeploy.units import GiB, MiB


def row(**flags) -> dict:
    return {"m": 0, "s": 0, "relname": "public.items", "lock": "AccessExclusiveLock", "bytes": 8192,
            "est_rows": 10, **flags}


def one(text: str, **flags) -> list:
    migration = parse_migration(text.encode(), "000002", "m", Path("000002_m.sql"), "m/000002_m.sql")
    return findings([migration], [row(**flags)])


def test_the_rule_with_the_lowest_priority_that_matches_wins():
    assert [f.rule for f in one("alter table items alter column qty type bigint;", rewrite=True, scanned=True)] == [
        "rewrite-under-lock"]
    assert [f.rule for f in one("alter table items add check (qty > 0);", scanned=True)] == ["scan-under-lock"]
    assert [f.rule for f in one("create index i on items (qty);", scanned=True, index_built="i")] == [
        "blocking-index-build"]
    assert one("truncate items;", rewrite=True) == []
    assert one("alter table items add check (qty > 0);", scanned=True, lock="ShareUpdateExclusiveLock") == []


def test_advice_fits_the_statement():
    [finding] = one("alter table items alter column qty type bigint;", rewrite=True)
    assert "new column" in finding.advice and finding.effect == "rewrite" and finding.severity == Severity.NOTE


def test_an_acknowledged_finding_is_kept_but_marked():
    [finding] = one("-- supadeploy: allow scan-under-lock — a small table\nalter table items add check (qty > 0);",
                    scanned=True)
    assert finding.acknowledged and finding.level == "notice"


def test_severity_by_size_and_thresholds():
    assert severity_for(None) == Severity.NOTE and severity_for(20 * MiB) == Severity.WARNING
    assert severity_for(2 * GiB) == Severity.ERROR
    assert at_least(Severity.ERROR, "warning") and not at_least(Severity.NOTE, "warning")
    assert not at_least(Severity.ERROR, "none")
