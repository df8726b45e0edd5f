"""The options table: argparse, the action's inputs and the typed options all come from it."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from supadeploy.action import INPUTS
from supadeploy.cli import build_parser, options_from
from supadeploy.options import BY_NAME, COMMAND_NAMES, OPTIONS, OptionError, Options, parse_duration, parse_seconds


def _flags(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    return {f for action in sub.choices[command]._actions for f in action.option_strings}  # noqa: SLF001


def test_every_option_is_a_typed_field_and_a_flag_of_exactly_its_commands():
    fields = {f.name for f in dataclasses.fields(Options)}
    for option in OPTIONS:
        assert option.dest in fields, option.name
    for command in COMMAND_NAMES:
        flags = _flags(command)
        for option in OPTIONS:
            assert (option.flag in flags) == (command in option.commands), (command, option.name)


def test_action_inputs_are_the_table_minus_the_terminal_only_options():
    names = [i.name for i in INPUTS]
    assert names[0] == "command"
    assert names[1:] == [o.name for o in OPTIONS if not o.cli_only]
    assert {i.name: i.default for i in INPUTS}["tx-mode"] == "file"
    assert {i.name: i.default for i in INPUTS}["include-all"] == "false"


def test_defaults_come_from_the_table_and_a_dry_run_has_its_own():
    options = options_from(build_parser().parse_args(["deploy"]), Path("/repo"))
    assert options.lock_timeout is None and options.value("lock-timeout") == "10s"
    assert options.value("lock-timeout", dry_run=True) == "2s"
    assert options.value("lock-wait", dry_run=True) == "5s" and options.statement_timeout == "5min"
    assert options.tx_mode == "file" and options.assertions == () and options.max_lock_risk == "error"
    given = options_from(build_parser().parse_args(["deploy", "--lock-timeout", "3", "--assertions", "a.yml",
                                                    "--assertions", "b"]), Path("/repo"))
    assert given.value("lock-timeout", dry_run=True) == "3s" and given.assertions == (Path("a.yml"), Path("b"))
    assert BY_NAME["pg-major"].parse is int


@pytest.mark.parametrize("text, expected", [("10", "10s"), ("500ms", "500ms"), (" 5min ", "5min"), ("1.5s", "1.5s")])
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["ten", "10 parsecs", "sbp_" + "ab" * 20])
def test_bad_durations_never_echo_a_secret(text):
    with pytest.raises(OptionError) as raised:
        parse_duration(text)
    assert "sbp_" not in str(raised.value)


def test_seconds_are_bounded():
    assert parse_seconds("75s") == 75.0
    with pytest.raises(OptionError):
        parse_seconds("2h")


def test_the_local_majors_are_the_platforms():
    from supadeploy.platform.binaries import SUPPORTED_MAJORS

    assert BY_NAME["pg-major"].choices == tuple(str(m) for m in SUPPORTED_MAJORS)
