"""table_count: that many tables match."""

from __future__ import annotations

from typing import Any

from .. import sql
from ..kind import Fixture

ID = "table_count"
DESCRIPTION = 'That many tables match.'
DOCS = "docs/assertions.md#checks"
REQUIRED = ('equals',)
OPTIONAL = sql.TABLE_SELECTION
FIXTURES = (
    Fixture("create table public.a (id int);\ncreate table public.b (id int);", {"equals": 2, "tables": ["a", "b"]},
            passes=True),
    Fixture("create table public.a (id int);", {"equals": 2, "pattern": "a%"}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    return f"""
    SELECT count(*) INTO n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND s.nspname = {sql.schema(spec)} AND {sql.tables_filter(spec)};
    ok := n = {int(spec['equals'])};
    msg := format('%s tables match, expected {int(spec['equals'])}', n);"""
