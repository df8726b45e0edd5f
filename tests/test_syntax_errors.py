"""The most common mistake there is, in the shapes users make it (issue 22, items 1-3): a syntax error on a
later line of a multi-line statement, inside a PL/pgSQL body, on one line; every command and every target
says file, line, column and PostgreSQL's message once, with the line and a caret under the position."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import api_args

TABLE = "create table public.profiles (\n  id uuid primary key,\n  full_name text\n  avatar_url text\n);\n"
TRIGGER = ("create table public.notes (id int primary key, body text);\n"
           "create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;\n"
           "create trigger notes_touch\n  before update on public.notes\n  for each rowz execute function "
           "public.touch();\n")
BODY = """create table public.profiles (id uuid primary key, full_name text);

create function public.handle_new_user()
returns trigger
language plpgsql
security definer set search_path = ''
as $$
begin
  insert into public.profiles (id full_name)
  values (new.id, new.raw_user_meta_data ->> 'full_name');
  return new;
end;
$$;
"""


def write(folder: Path, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "20240101000000_first.sql"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return folder


def only_error(result: Any) -> dict[str, Any]:
    errors = [p for p in result.json["problems"] if p["level"] == "error"]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize("command", ["deploy", "plan", "lint", "status"])
def test_a_missing_comma_on_a_later_line_is_placed_with_a_caret_by_every_command(run_cli, tmp_path, command):
    folder = write(tmp_path / "m", TABLE)
    shown = run_cli(command, "--migrations-dir", folder)
    assert shown.code == 2, shown.out + shown.err
    text = shown.out + shown.err
    assert "internal error" not in text
    assert 'm/20240101000000_first.sql:4: syntax error at or near "avatar_url"' in text
    assert "syntax error: syntax error" not in text
    assert "LINE 4:   avatar_url text\n" in text
    source, caret = text.split("\n")[text.split("\n").index("    LINE 4:   avatar_url text"):][:2]
    assert caret.endswith("^") and caret.index("^") == source.index("avatar_url")
    data = run_cli(command, "--migrations-dir", folder, "--format", "json")
    error = only_error(data)
    assert (error["line"], error["column"], error["sqlstate"], error["source"]) == (4, 3, "42601", "  avatar_url text")
    assert error["position"] == TABLE.index("avatar_url") + 1  # the statement starts the file


def test_a_typo_in_a_multi_line_trigger_and_one_line_errors(run_cli, tmp_path):
    error = only_error(run_cli("plan", "--migrations-dir", write(tmp_path / "t", TRIGGER), "--format", "json"))
    assert (error["line"], error["column"], error["message"]) == (5, 12, 'syntax error at or near "rowz"')
    assert error["position"] == TRIGGER.index("rowz") - TRIGGER.index("create trigger") + 1
    one = run_cli("lint", "--migrations-dir", write(tmp_path / "o", "select 1;\nselect 1 frm x;\n"))
    assert one.code == 2 and 'first.sql:2: syntax error at or near "x"' in one.out + one.err
    assert "LINE 2: select 1 frm x;\n" + " " * (4 + len("LINE 2: select 1 frm ")) + "^" in one.out + one.err


def test_columns_count_characters_across_crlf_and_accents(run_cli, tmp_path):
    text = "-- café crème\r\ncreate table public.t (\r\n  nom text,\r\n  prénom text\r\n  âge int\r\n);\r\n"
    error = only_error(run_cli("plan", "--migrations-dir", write(tmp_path / "c", text), "--format", "json"))
    assert (error["line"], error["column"], error["source"]) == (5, 3, "  âge int")


def test_an_unfinished_file_points_at_its_end(run_cli, tmp_path):
    text = "create table public.t (id int);\ncreate function public.f() returns int as $$ select 1\n\n"
    error = only_error(run_cli("plan", "--migrations-dir", write(tmp_path / "u", text), "--format", "json"))
    assert error["line"] == 2 and "unterminated dollar-quoted string" in error["message"]
    assert error["source"] == "create function public.f() returns int as $$ select 1"


def assert_body_error(result: Any) -> None:
    assert result.code == 1, result.out + result.err
    error = only_error(result)
    assert (error["line"], error["column"]) == (9, 35), error  # under full_name, not the create function line
    assert error["source"] == "  insert into public.profiles (id full_name)"
    assert error["position"] == BODY.index("full_name)") - BODY.index("create function") + 1


def test_an_error_inside_a_plpgsql_body_is_placed_at_its_own_line_locally(run_cli, tmp_path):
    result = run_cli("deploy", "--migrations-dir", write(tmp_path / "b", BODY), "--no-assertions", "--format", "json")
    assert_body_error(result)


def test_an_error_inside_a_plpgsql_body_is_placed_through_a_url(db, run_cli, tmp_path):
    folder = write(tmp_path / "b", BODY)
    assert_body_error(run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", folder, "--no-assertions",
                              "--format", "json"))
    shown = run_cli("deploy", "--db-url", db.dsn, "--migrations-dir", folder, "--no-assertions")
    assert "LINE 9:   insert into public.profiles (id full_name)\n" in shown.out
    assert db.history() == []


def test_an_error_inside_a_plpgsql_body_is_placed_through_the_api(db, twin, run_cli, tmp_path):
    # The API relays the internal query without its position: the token PostgreSQL names is found in it.
    assert_body_error(run_cli("deploy", *api_args(twin, 30), "--migrations-dir", write(tmp_path / "b", BODY),
                              "--no-assertions", "--format", "json"))
    assert db.history() == []
