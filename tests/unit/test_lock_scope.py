"""Which lock findings are news (locks/scope.py, locks/check.py), without a database."""

from __future__ import annotations

from pathlib import Path

from supadeploy.engine.migrations import parse_migration
from supadeploy.locks import LockFinding, Severity
from supadeploy.locks.check import LockReview, acknowledged
from supadeploy.locks.scope import Scope, split_qualified


def migration(name: str, text: str):
    version, rest = name.split("_", 1)
    return parse_migration(text.encode(), version, rest.removesuffix(".sql"), Path(name), name)


def test_names_as_quote_ident_writes_them():
    assert split_qualified("public.items") == ("public", "items")
    assert split_qualified('"My Schema"."T.x"') == ("My Schema", "T.x")
    assert split_qualified('"a""b".c') == ('a"b', "c")
    assert split_qualified("items") == ("public", "items")


def test_a_table_is_new_after_the_statement_that_creates_it_in_this_deploy():
    first = migration("000001_a.sql", "create table public.a (id int);\ncreate index a_id on a (id);\n"
                                      "create table if not exists public.maybe (id int);\n")
    second = migration("000002_b.sql", "set search_path to private;\ncreate table b (id int);\n"
                                       "alter table b add column x int;\nalter table public.a rename to c;\n")
    scope = Scope([first, second])
    assert not scope.is_new(("public", "a"), "000001_a.sql", 0)  # the creating statement itself
    assert scope.is_new(("public", "a"), "000001_a.sql", 1)
    assert scope.is_new(("public", "a"), "000002_b.sql", 0)
    assert not scope.is_new(("public", "maybe"), "000002_b.sql", 0)  # IF NOT EXISTS: it may be there
    assert scope.is_new(("private", "b"), "000002_b.sql", 2) and not scope.is_new(("public", "b"), "000002_b.sql", 2)
    assert scope.target(second, 2) == ("private", "b")
    assert scope.is_new(("public", "c"), "000002_b.sql", 4)  # renamed, still new
    assert not scope.is_new(("public", "a"), "000003_other.sql", 0)  # not in the deploy: history


def test_only_the_reported_files_and_no_new_tables_are_news():
    first = migration("000001_a.sql", "create table public.a (id int);\n")
    second = migration("000002_b.sql", "create index a_id on public.a (id);\n")
    on_new = LockFinding(rule="blocking-index-build", file="000002_b.sql", line=1, message="m", advice="",
                         table="public.a", statement_index=0, severity=Severity.WARNING)
    review = LockReview("warning", scope=Scope([first, second]))
    assert review.traced([on_new]) == []
    history_only = LockReview("warning", scope=Scope([second], reported={"000002_b.sql"}))
    assert [f.rule for f in history_only.traced([on_new])] == ["blocking-index-build"]
    assert history_only.findings[0].over_limit
    elsewhere = LockReview("warning", scope=Scope([second], reported={"000009_z.sql"}))
    assert elsewhere.traced([on_new]) == []


def test_squawk_rules_are_acknowledged_by_either_name():
    text = "-- supadeploy: allow constraint-missing-not-valid — tiny\nalter table t validate constraint c;\n"
    finding = LockFinding(rule="squawk/constraint-missing-not-valid", file="f.sql", line=2, message="m", advice="",
                          statement_line=2)
    assert acknowledged(finding, text)
    assert acknowledged(finding, text.replace("allow constraint", "allow squawk/constraint"))
    assert not acknowledged(finding, text.replace("constraint-missing-not-valid", "changing-column-type"))
