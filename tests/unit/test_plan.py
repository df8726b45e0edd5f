"""Planning: local files against history, the Supabase CLI's rules plus drift (no database)."""

from __future__ import annotations

from pathlib import Path

from supadeploy.engine.history import History, HistoryRow
from supadeploy.engine.migrations import MigrationSet, parse_migration
from supadeploy.engine.plan import PlanOptions, make_plan


def files(*specs: tuple[str, str]) -> MigrationSet:
    return MigrationSet(tuple(parse_migration(text.encode(), v, "m", Path(f"{v}_m.sql"), f"m/{v}_m.sql")
                              for v, text in specs), ())


def history(*rows: tuple[str, tuple[str, ...] | None]) -> History:
    return History(True, tuple(HistoryRow(v, "m", s) for v, s in rows))


LOCAL = files(("000001", "create table a (id int);"), ("000002", "create table b (id int);"),
              ("000003", "create table c (id int);"))


def test_pending_are_the_unapplied_files_in_order():
    plan = make_plan(LOCAL, history(("000001", ("create table a (id int)",))), PlanOptions())
    assert [m.version for m in plan.pending] == ["000002", "000003"] and not plan.blocked


def test_an_edited_applied_file_is_drift_and_blocks_unless_allowed():
    applied = history(("000001", ("create table a (id bigint)",)))
    assert make_plan(LOCAL, applied, PlanOptions()).blocked
    allowed = make_plan(LOCAL, applied, PlanOptions(allow_drift=True))
    assert not allowed.blocked and [m.version for m in allowed.drifted] == ["000001"] and allowed.warnings


def test_whitespace_comments_and_case_are_not_drift():
    plan = make_plan(LOCAL, history(("000001", ("-- c\nCREATE  TABLE a\n(id INT)",))), PlanOptions())
    assert not plan.drifted


def test_remote_versions_missing_locally_and_older_files_refuse_like_the_cli():
    plan = make_plan(LOCAL, history(("000002", ("create table b (id int)",)), ("000009", None)), PlanOptions())
    messages = " ".join(p.message for p in plan.problems)
    assert "000009" in messages and "Remote migration versions not found" in messages
    assert "--include-all" in messages and [m.version for m in plan.out_of_order] == ["000001", "000003"]
    included = make_plan(LOCAL, history(("000002", ("create table b (id int)",))), PlanOptions(include_all=True))
    assert not included.blocked and [m.version for m in included.pending] == ["000001", "000003"]


def test_target_version_stops_the_plan():
    plan = make_plan(LOCAL, history(), PlanOptions(target_version="000002"))
    assert [m.version for m in plan.pending] == ["000001", "000002"]
