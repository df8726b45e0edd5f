"""rls_enabled: rLS is on for every matching table (and at least one matches)."""

from __future__ import annotations

from typing import Any

from .. import sql
from ..kind import Fixture

ID = "rls_enabled"
DESCRIPTION = 'RLS is on for every matching table (and at least one matches).'
DOCS = "docs/assertions.md#checks"
REQUIRED = ()
OPTIONAL = sql.TABLE_SELECTION
FIXTURES = (
    Fixture("create table public.a (id int);\nalter table public.a enable row level security;", {"tables": ["a"]},
            passes=True),
    Fixture("create table public.a (id int);\nalter table public.a enable row level security;\n"
            "create table public.b (id int);", {"tables": ["a", "b"]}, passes=False),
    Fixture("", {"tables": ["nothing_here"]}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    return f"""
    SELECT count(*), string_agg(c.relname, ', ' ORDER BY c.relname) FILTER (WHERE NOT c.relrowsecurity),
           min(c.relname) FILTER (WHERE NOT c.relrowsecurity)
      INTO n, bad, obj
      FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND s.nspname = {sql.schema(spec)} AND {sql.tables_filter(spec)};
    ok := n > 0 AND bad IS NULL;
    msg := CASE WHEN n = 0 THEN 'no table matches' WHEN bad IS NULL THEN format('RLS enabled on %s tables', n)
                ELSE 'RLS disabled on: ' || bad END;"""
