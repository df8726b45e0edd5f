"""sql: the first column of the first row of a query equals the expected value."""

from __future__ import annotations

from typing import Any

from ....sqltext import literal
from .. import sql
from ..kind import Fixture

ID = "sql"
DESCRIPTION = 'The first column of the first row of a query equals the expected value.'
DOCS = "docs/assertions.md#checks"
REQUIRED = ('query', 'expect')
OPTIONAL = sql.ROLE_OPTIONS
FIXTURES = (
    Fixture("", {"query": "select 1 + 1", "expect": 2}, passes=True),
    Fixture("", {"query": "select current_user = 'anon'", "expect": True, "as": "anon"}, passes=True),
    Fixture("", {"query": "select 1 + 1", "expect": 3}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    expected = spec["expect"]
    if isinstance(expected, bool):
        compare = f"v::boolean = {str(expected).lower()}"
    elif isinstance(expected, (int, float)):
        compare = f"v::numeric = {expected!r}::numeric"
    else:
        compare = f"v = {literal(str(expected))}"
    shown = str(expected).lower() if isinstance(expected, bool) else str(expected)
    return sql.prelude(spec) + f"""
    obj := {literal(spec.get('object', ''))};
    EXECUTE {literal(spec['query'])} INTO v;
    ok := coalesce({compare}, false);
    msg := format('got %s, expected %s', coalesce(v, 'NULL'), {literal(shown)});"""
