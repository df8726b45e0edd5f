"""The SQL text of the engine's requests, and where each statement sits in it (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supadeploy.engine.migrations import parse_migration
from supadeploy.engine.requests import ALREADY_APPLIED, Gate, Settings, deploy_transaction, history_tables, read_history
from supadeploy.locks.trace import LockTracer
from supadeploy.sqltext import fill


def migration(version: str, text: str):
    return parse_migration(text.encode(), version, "m", Path(f"{version}_m.sql"), f"m/{version}_m.sql")


SETTINGS = Settings("supadeploy:test", "10s", "5min")


def test_every_statement_is_located_back_to_its_file_and_offset():
    batch = [migration("000001", "create table a (id int);\n\nselect 1;\n"), migration("000002", "select 2;\n")]
    script = deploy_transaction(batch, SETTINGS, "30s", dry_run=False, create_history=False, cursor=42)
    text = script.text
    for m in batch:
        for statement in m.statements:
            at = text.index(statement.text) + 1
            located = script.locate(at + 3)
            assert located is not None and located[0] is m and located[1] == statement and located[2] == 3
    assert script.locate(1) is None  # supadeploy's own text before the first statement
    assert text.count(ALREADY_APPLIED) == 2 and text.count("INSERT INTO supabase_migrations.schema_migrations") == 2
    marks = [script.mark_at(script.base + i + 1) for i in range(script.mark_count)]
    assert [m.statement.text if m and m.statement else None for m in marks] == [
        "create table a (id int)", "select 1", None, "select 2", None]
    assert script.mark_at(script.base) is None and script.mark_at(None) is None


def test_no_cursor_no_marks_and_no_trace_without_a_tracer():
    script = deploy_transaction([migration("000001", "select 1;")], SETTINGS, "30s", dry_run=True,
                                create_history=True, cursor=None)
    assert script.mark_count == 0 and "setval" not in script.text and "sd_trace" not in script.text
    assert "CREATE SCHEMA IF NOT EXISTS supabase_migrations" in script.text
    assert "rolled back on purpose" in script.text


def test_tracer_and_gate_are_placed_by_the_engine():
    gate = Gate(setup="-- setup\n", results="'[]'::jsonb", failed="[*] ? (@.passed == false)", teardown="-- down\n")
    script = deploy_transaction([migration("000001", "alter table a add column b int;")], SETTINGS, "30s",
                                dry_run=False, create_history=False, cursor=None, gate=gate, tracer=LockTracer())
    text = script.text
    assert text.index("SELECT pg_temp.sd_trace_begin(") < text.index("alter table a") < text.index("SELECT pg_temp.sd_trace_step(")
    assert text.index("-- setup") < text.index("'gate', '[]'::jsonb") < text.index("-- down") < text.index("SD003")


def test_history_tables_leave_existing_columns_alone():
    assert "ADD COLUMN" not in history_tables(("version", "statements", "name"))
    assert history_tables(("version",)).count("ADD COLUMN IF NOT EXISTS") == 2
    assert "supadeploy_progress" in history_tables(None)


def test_read_history_names_sizes_and_blockers():
    text = read_history(["public.items"], blockers=["public.items"])
    assert "'blockers'" in text and text.count("public.items") == 2 and text.startswith("SET SESSION AUTHORIZATION")


def test_fill_refuses_missing_and_unknown_placeholders():
    assert fill("a @X@ b", X="1") == "a 1 b"
    with pytest.raises(KeyError):
        fill("a @X@ @Y@", X="1")
    with pytest.raises(KeyError):
        fill("a", X="1")


def test_a_pack_commits_each_file_on_its_own_and_locates_every_statement():
    from supadeploy.engine.requests import PACK_TABLE, deploy_pack

    files = [migration("000001", "create table a (id int);\n"), migration("000002", "select 2;\n\nselect 3;\n")]
    script = deploy_pack(files, SETTINGS, "30s", cursor=42)
    text = script.text
    # the temporary results table, then one COMMIT per file; each file takes the deploy lock and its guard
    assert text.count("\nCOMMIT;\n") == 3 and text.count("pg_advisory_xact_lock") == 2
    assert text.count(ALREADY_APPLIED) == 2 and text.count(f"INSERT INTO {PACK_TABLE}") == 2
    assert text.index("select 2") > text.index("COMMIT;\n", text.index("create table a"))  # file 2 after file 1's end
    located = script.locate(text.index("select 3") + 1)
    assert located is not None and located[0] is files[1] and located[1].text == "select 3"


def test_packs_respect_the_file_and_size_limits_and_keep_the_gated_file_alone():
    from supadeploy.engine.apply import packs
    from supadeploy.engine.requests import PACK_LIMIT_BYTES, PACK_LIMIT_FILES

    small = [migration(f"{i:06d}", "select 1;\n") for i in range(1, 121)]
    assert [len(p) for p in packs(small, gated=False)] == [PACK_LIMIT_FILES, PACK_LIMIT_FILES, 20]
    assert [len(p) for p in packs(small[:5], gated=True)] == [4, 1]  # the gate's file ends its own transaction
    big = migration("000200", "select '" + "x" * PACK_LIMIT_BYTES + "';\n")
    outside = migration("000300", "-- supadeploy: transaction=false\ncreate index concurrently i on t (c);\n")
    assert [[m.version for m in p] for p in packs([small[0], big, small[1], outside, small[2], small[3]], False)] == [
        ["000001"], ["000200"], ["000002"], ["000300"], ["000003", "000004"]]


def test_a_big_history_row_travels_in_slices_and_positions_after_it_still_locate(monkeypatch):
    from supadeploy.engine import requests

    monkeypatch.setattr(requests, "HISTORY_INLINE", 100)
    monkeypatch.setattr(requests, "HISTORY_SLICE", 60)
    rows = "".join(f"insert into t values ({i}, '$sd$ {i}');\n" for i in range(20))
    batch = [migration("000001", rows), migration("000002", "select 1;\nselect nosuch;\n")]
    script = deploy_transaction(batch, SETTINGS, "30s", dry_run=False, create_history=False, cursor=42)
    text = script.text
    assert text.count("CREATE TEMPORARY TABLE supadeploy_history") == 1  # the first file's row only
    assert text.count("INSERT INTO pg_temp.supadeploy_history") > 5
    assert "pg_catalog.array_agg(statement ORDER BY n)" in text and len(text) == script.length
    assert "".join(piece for _, piece in script.pieces(200)) == text
    assert all(text.startswith(piece, start) for start, piece in script.pieces(200))
    last = batch[1].statements[1]
    located = script.locate(text.index("select nosuch") + 1 + 7)
    assert located == (batch[1], last, 7)
    marks = [script.mark_at(script.base + i + 1) for i in range(script.mark_count)]
    assert [m.statement.line if m and m.statement else None for m in marks] == [*range(1, 21), None, 1, 2, None]
