"""The windowed splitter (sqlparse.iter_split): whatever the window, the statements, offsets, kinds, syntax
errors and fingerprints are those of one parse of the whole text."""

from __future__ import annotations

from pathlib import Path

import pytest

from supadeploy.engine.migrations import parse_migration
from supadeploy.engine.sqlparse import SqlSyntaxError, fingerprint, split

WHOLE = 1 << 30

CASES = {
    "dollar quotes": (
        "create function f() returns int language plpgsql as $body$\nbegin\n  perform 1;\n  return 2;\nend\n"
        "$body$;\ncreate function g() returns text language sql as $$ select 'a;\n' $$;\nselect 1;\n"),
    "comments": (
        "-- a comment; with a semicolon\nselect 1; -- trailing; comment\n/* block; comment\n;\n /* nested; */ */\n"
        "select 2;\n-- last; line\n"),
    "strings": (
        "insert into t values ('a;\nb');\ninsert into t values (E'it\\'s;\\n');\n"
        "select \"odd;\nname\" from t;\nselect U&'d\\0061t;a';\n"),
    "CRLF": "create table a (id int);\r\ninsert into a values (1);\r\n-- x;\r\ninsert into a values (2);\r\n",
    "non-ASCII": "select 'é;ü';\ncomment on table t is 'naïve; café';\nselect '日本;語';\nselect 'ø';\n",
    "BEGIN ATOMIC": (
        "create function h(x int) returns int language sql begin atomic\n  select x + 1;\n"
        "  select case when x > 0 then x else 0 end;\nend;\nselect 3;\n"),
    "rule with parentheses": (
        "create rule r as on insert to t do also (\n  insert into u values (1);\n  insert into u values (2);\n);\n"
        "select 4;\n"),
    "no final semicolon": "select 1;\nselect 2;\n" * 5 + "select 3",
    "only comments": "-- nothing;\n/* at; all */\n",
}


def _rows(text: str, window: int) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.kind) for s in split(text, window)]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("window", [1, 7, 20, 64])
def test_any_window_splits_as_one_parse_does(name: str, window: int) -> None:
    text = CASES[name] * 3 if CASES[name].endswith("\n") else CASES[name]
    whole = _rows(text, WHOLE)
    assert _rows(text, window) == whole
    assert fingerprint([text], window) == fingerprint([text])


def test_a_statement_longer_than_the_window_is_parsed_whole() -> None:
    body = "".join(f"  perform {i};\n" for i in range(200))
    text = f"select 0;\ncreate function f() returns void language plpgsql as $$\nbegin\n{body}end\n$$;\nselect 1;\n"
    rows = _rows(text, 50)
    assert [kind for _, _, kind in rows] == ["SelectStmt", "CreateFunctionStmt", "SelectStmt"]
    assert rows == _rows(text, WHOLE)


def test_offsets_are_characters_across_windows() -> None:
    text = "".join(f"insert into t values ('ü{i};');\n" for i in range(50))
    statements = split(text, 40)
    assert len(statements) == 50
    assert text[statements[-1].start:statements[-1].end].strip() == "insert into t values ('ü49;')"


@pytest.mark.parametrize("error", ["selec 1;", "select (1;", "select 'unterminated;\n", "select 1 +"])
def test_a_syntax_error_is_where_one_parse_puts_it(error: str) -> None:
    text = "select 1;\n" * 30 + error + "\nselect 2;\n" * 30
    with pytest.raises(SqlSyntaxError) as whole:
        split(text, WHOLE)
    with pytest.raises(SqlSyntaxError) as windowed:
        split(text, 25)
    assert (windowed.value.message, windowed.value.offset) == (whole.value.message, whole.value.offset)


def test_fingerprints_of_big_texts_do_not_depend_on_the_window() -> None:
    statements = [f"insert into t (id, note) values ({i}, 'n;{i}')" for i in range(300)]
    assert fingerprint(statements, 100) == fingerprint(statements) != fingerprint(statements[:-1])


FILES = {
    "arrays": "select array[1, 2];\n\n-- moved by a comment\nselect 1 = any (array[3,   4]);\n",
    "line endings": "create table t (a text);\r\ninsert into t values ('a\r\nb');\r\n",
    "wrapped": "begin;\ncreate table t (a int);\ncommit;\n",
    "comments only": "-- nothing but a comment\n",
    "dollar body": "create function f() returns int language plpgsql as $$\nbegin\n  return 1;\nend\n$$;\n",
}


@pytest.mark.parametrize("name", FILES)
def test_a_file_fingerprint_taken_as_it_is_split_is_that_of_its_history_statements(name: str) -> None:
    migration = parse_migration(FILES[name].encode(), "1", "m", Path("1_m.sql"), "1_m.sql")
    assert migration.fingerprint == fingerprint(list(migration.history_statements))
    assert migration.fingerprint == fingerprint(list(migration.history_statements), 8)


def test_fingerprints_ignore_the_positions_of_array_brackets() -> None:
    assert fingerprint(["select array[1, 2]"]) == fingerprint(["select   array[1,2]"])
    assert fingerprint(["select 1 = any (array[3])"]) == fingerprint(["select 1 = any(  array[3] )"])


def test_a_body_split_across_history_statements_is_joined_as_one_parse_would() -> None:
    # A tool that split a function body at its inner `;` stored halves; joined by `;` lines they parse.
    halves = ["select 0", "create function f() returns int language plpgsql as $$ begin", "return 1; end $$",
              "select 2"]
    assert fingerprint(halves, 20) == fingerprint(halves) == fingerprint(["\n;\n".join(halves)])


def test_text_that_does_not_parse_falls_back_to_its_words() -> None:
    assert fingerprint(["select (", "from x"], 4) == fingerprint(["select   (", "from\n x"])
    assert fingerprint(["select (", "from x"]) != fingerprint(["select (", "from y"])
