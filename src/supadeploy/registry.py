"""Families of registered units: a lock rule, an assertion kind, an advisor lint, each in a file of its own.

A family is a package. Each module in it whose name does not start with `_` is one unit: it declares its
stable `ID` and the members the family's protocol names (constants and functions). `load` imports them all,
checks every member is there and that no two units share an id, so adding a unit is adding one file (as
squawk and sqlfluff keep their rules).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


class RegistryError(Exception):
    """A unit lacks a member its family needs, or two units share an id: a bug in supadeploy."""


def members(protocol: type[Any]) -> list[str]:
    """The names a unit must define: the protocol's annotated constants and its public functions."""
    names = list(getattr(protocol, "__annotations__", {}))
    names += [name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")]
    return list(dict.fromkeys(names))


def load(package: str, protocol: type[Any]) -> dict[str, Any]:
    """Every unit of `package`, by id, in the order of their file names (typed by the caller's `protocol`)."""
    root = importlib.import_module(package)
    needed = members(protocol)
    units: dict[str, Any] = {}
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda item: item.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        missing = [name for name in needed if not hasattr(module, name)]
        if missing:
            raise RegistryError(f"{module.__name__} lacks {', '.join(missing)} (see {protocol.__qualname__})")
        unit_id = module.ID
        if unit_id in units:
            raise RegistryError(f"{module.__name__}: id {unit_id!r} is already taken")
        units[unit_id] = module
    return units
