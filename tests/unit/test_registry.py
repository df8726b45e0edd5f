"""Registered units: every member there, ids unique."""

from __future__ import annotations

import sys
from typing import Protocol

import pytest

from supadeploy.registry import RegistryError, load, members


class Unit(Protocol):
    ID: str
    LEVEL: str

    def check(self) -> bool: ...


def package(tmp_path, name: str, modules: dict[str, str]) -> str:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, text in modules.items():
        (folder / f"{module}.py").write_text(text)
    sys.path.insert(0, str(tmp_path))
    return name


def test_members_of_a_protocol():
    assert members(Unit) == ["ID", "LEVEL", "check"]


def test_units_load_by_id_in_file_order(tmp_path):
    name = package(tmp_path, "fam_ok", {"b_one": "ID = 'b'\nLEVEL = 'x'\ndef check(): return True\n",
                                        "a_two": "ID = 'a'\nLEVEL = 'y'\ndef check(): return False\n",
                                        "_helper": "X = 1\n"})
    assert list(load(name, Unit)) == ["a", "b"]


def test_a_missing_member_or_a_taken_id_is_refused(tmp_path):
    missing = package(tmp_path, "fam_missing", {"one": "ID = 'a'\nLEVEL = 'x'\n"})
    with pytest.raises(RegistryError, match="lacks check"):
        load(missing, Unit)
    twice = package(tmp_path, "fam_twice", {"one": "ID = 'a'\nLEVEL = 'x'\ndef check(): pass\n",
                                            "two": "ID = 'a'\nLEVEL = 'x'\ndef check(): pass\n"})
    with pytest.raises(RegistryError, match="already taken"):
        load(twice, Unit)
