"""Quoting for the few values supadeploy puts into SQL text.

Requests are multi-statement texts (the Management API has no parameters for
them), so values are embedded as dollar-quoted literals whose tag never occurs
in the value: safe whatever `standard_conforming_strings` says.
"""

from __future__ import annotations

import re

_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_$]*$")


def literal(value: str) -> str:
    """A text literal for any string (no NUL allowed by PostgreSQL anyway)."""
    if "\x00" in value:
        raise ValueError("PostgreSQL text cannot contain NUL characters")
    tag = "sd"
    n = 0
    while f"${tag}$" in value or value.endswith(f"${tag}"):
        n += 1
        tag = f"sd{n}"
    return f"${tag}${value}${tag}$"


def text_array(values: list[str]) -> str:
    """An ARRAY[...]::text[] expression."""
    if not values:
        return "ARRAY[]::text[]"
    return "ARRAY[" + ", ".join(literal(v) for v in values) + "]::text[]"


def ident(name: str) -> str:
    """A quoted identifier (plain lower-case names stay readable)."""
    if _IDENT_RE.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, name: str) -> str:
    """A table name as a file wrote it: schema-qualified only when the file qualified it."""
    return f"{ident(schema)}.{ident(name)}" if schema else ident(name)
