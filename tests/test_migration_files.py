"""Reading migration files: every bad input gets one precise message and exit 2, and nothing is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from supadeploy.engine.migrations import load_migrations
from supadeploy.engine.sqlparse import fingerprint as fingerprint_statements


def _write(directory: Path, name: str, content: bytes | str) -> Path:
    path = directory / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.fixture
def mdir(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    _write(directory, "000001_init.sql", "create table public.t1 (id int);\n")
    return directory


def _plan(run_cli, mdir: Path):
    # A database URL nobody listens on: file errors must be reported before any connection.
    return run_cli("plan", "--db-url", "postgresql://postgres@127.0.0.1:9/none", "--migrations-dir", mdir)


def test_duplicate_version_names_both_files(mdir, run_cli):
    _write(mdir, "000001_again.sql", "select 1;")
    result = _plan(run_cli, mdir)
    assert result.code == 2
    assert "duplicate migration version 000001" in result.out
    assert "000001_again.sql" in result.out and "000001_init.sql" in result.out


def test_comment_only_file_is_a_warning_and_is_recorded(mdir, run_cli, pg18):
    _write(mdir, "000002_empty.sql", "-- only a comment\n\n")
    result = run_cli("deploy", "--db-url", pg18.dsn, "--migrations-dir", mdir, "--no-assertions")
    assert result.code == 0
    assert "warning: " in result.out and "000002_empty.sql contains no SQL statement" in result.out
    assert pg18.history() == ["000001", "000002"]
    # stored as the Supabase CLI stores it: the comments, as one statement
    assert pg18.value("select statements from supabase_migrations.schema_migrations where version = '000002'") \
        == ["-- only a comment"]


def test_invalid_utf8_gives_byte_offset_and_line(mdir, run_cli):
    _write(mdir, "000002_latin1.sql", b"select 1;\nselect 'caf\xe9';\n")
    result = _plan(run_cli, mdir)
    assert result.code == 2
    assert "000002_latin1.sql:2: invalid UTF-8 at byte offset 21 (byte 0xe9)" in result.out


def test_malformed_name_is_a_warning_not_an_error(mdir, tmp_path, run_cli, pg18):
    _write(mdir, "init.sql", "select 1;")
    _write(mdir, "README.md", "not sql")
    result = run_cli("plan", "--db-url", pg18.dsn, "--migrations-dir", mdir, "--max-advisor-level", "none")
    assert result.code == 0
    assert "warning: " in result.out and "skipped init.sql" in result.out
    assert "README" not in result.out


@pytest.mark.parametrize("statement, words", [
    ("begin;", "transaction control (BEGIN)"),
    ("commit;", "transaction control (COMMIT)"),
    ("rollback;", "transaction control (ROLLBACK)"),
    ("savepoint s1;", "transaction control (SAVEPOINT)"),
    ("create index concurrently i1 on public.t1 (id);", "CREATE INDEX CONCURRENTLY cannot run inside a transaction"),
    ("vacuum public.t1;", "VACUUM cannot run inside a transaction"),
])
def test_statements_that_break_atomicity_are_refused_with_line(mdir, run_cli, statement, words):
    _write(mdir, "000002_tx.sql", "create table public.t2 (id int);\n\n-- why\n" + statement + "\n")
    result = _plan(run_cli, mdir)
    assert result.code == 2
    assert f"000002_tx.sql:4: {words}" in result.out


def test_syntax_error_points_at_line(mdir, run_cli):
    _write(mdir, "000002_typo.sql", "select 1;\n\ncreate tabel t2 ();\n")
    result = _plan(run_cli, mdir)
    assert result.code == 2 and "000002_typo.sql:3: syntax error" in result.out


def test_every_bad_file_is_reported_in_one_run(mdir, run_cli):
    _write(mdir, "000002_empty.sql", "create tabel x ();")
    _write(mdir, "000003_tx.sql", "commit;")
    result = _plan(run_cli, mdir)
    assert "000002_empty.sql" in result.out and "000003_tx.sql" in result.out


def test_bom_and_crlf_are_accepted_and_do_not_count_as_drift(tmp_path):
    plain = tmp_path / "a"
    windows = tmp_path / "b"
    plain.mkdir()
    windows.mkdir()
    sql = ("-- header\ncreate function public.f() returns int language plpgsql\n"
           "as $$\nbegin\n  return 1;\nend\n$$;\n\ncreate table public.t (id int);\n")
    _write(plain, "000001_x.sql", sql)
    _write(windows, "000001_x.sql", b"\xef\xbb\xbf" + sql.replace("\n", "\r\n").encode())
    a = load_migrations(plain).migrations[0]
    b = load_migrations(windows).migrations[0]
    assert a.fingerprint == b.fingerprint
    assert [s.line for s in b.statements] == [2, 9]
    # What is executed is the file as written: a CR inside a literal is part of its meaning.
    assert "\r\n" in b.statements[0].text and a.text == b.text.replace("\r\n", "\n")


def test_fingerprint_ignores_whitespace_comments_and_keyword_case_but_not_sql():
    base = fingerprint_statements(["create table t (id int)", "select 1"])
    assert fingerprint_statements(["-- c\nCREATE  TABLE t\n(id INT)", "SELECT 1"]) == base
    assert fingerprint_statements(["create table t (id bigint)", "select 1"]) != base
    assert fingerprint_statements(["create table T2 (id int)", "select 1"]) != base

