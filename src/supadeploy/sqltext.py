"""Quoting for the few values supadeploy puts into SQL text.

Requests are multi-statement texts (the Management API has no parameters for
them), so values are embedded as dollar-quoted literals whose tag never occurs
in the value: safe whatever `standard_conforming_strings` says.
"""

from __future__ import annotations

import re
from importlib import resources

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


def fill(template: str, **values: str) -> str:
    """A SQL template with its `@NAME@` placeholders replaced by already-quoted SQL text; every one must be
    given, and none left over (`@` is otherwise rare in SQL, and never in supadeploy's templates)."""
    for name, value in values.items():
        marker = f"@{name}@"
        if marker not in template:
            raise KeyError(f"the template has no placeholder {marker}")
        template = template.replace(marker, value)
    left = re.search(r"@[A-Z_]+@", template)
    if left is not None:
        raise KeyError(f"placeholder left unfilled: {left.group()}")
    return template


def sql_file(package: str, name: str) -> str:
    """The text of a .sql file shipped in a package (package data)."""

    return resources.files(package).joinpath(name).read_text(encoding="utf-8")
