"""grants: a role's effective privileges are exactly that set on every matching table."""

from __future__ import annotations

from typing import Any

from ....errors import AssertionFileError
from ....sqltext import literal
from .. import sql
from ..kind import Fixture

ID = "grants"
DESCRIPTION = "A role's effective privileges are exactly that set on every matching table."
DOCS = "docs/assertions.md#checks"
REQUIRED = ('role', 'privileges')
OPTIONAL = sql.TABLE_SELECTION
FIXTURES = (
    Fixture("create table public.t (id int);\nrevoke all on public.t from anon;\ngrant select on public.t to anon;",
            {"role": "anon", "privileges": ["SELECT"], "tables": ["t"]}, passes=True),
    Fixture("create table public.t (id int);\nrevoke all on public.t from anon;",
            {"role": "anon", "privileges": [], "tables": ["t"]}, passes=True),
    Fixture("create table public.t (id int);\nrevoke all on public.t from anon;\ngrant select on public.t to anon;",
            {"role": "anon", "privileges": ["SELECT", "INSERT"], "tables": ["t"]}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    expected = sorted({p.upper() for p in spec["privileges"]})
    if "ALL" in expected:
        expected = list(sql.PRIVILEGES)
    unknown = [p for p in expected if p not in sql.PRIVILEGES]
    if unknown:
        raise AssertionFileError(f"unknown privilege {unknown[0]}")
    return f"""
    n := 0;
    FOR rec IN
      SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND s.nspname = {sql.schema(spec)} AND {sql.tables_filter(spec)} ORDER BY c.relname
    LOOP
      n := n + 1;
      SELECT coalesce(string_agg(p, ',' ORDER BY p), '') INTO v
        FROM unnest({sql.array(list(sql.PRIVILEGES))}) p WHERE has_table_privilege({literal(spec['role'])}, rec.oid, p);
      IF v <> {literal(','.join(expected))} THEN
        bad := concat_ws('; ', bad, format('%s: has {{%s}}', rec.relname, v));
        obj := coalesce(obj, rec.relname);
      END IF;
    END LOOP;
    ok := n > 0 AND bad IS NULL;
    msg := CASE WHEN n = 0 THEN 'no table matches'
                WHEN bad IS NULL THEN format('%s has exactly {{{','.join(expected)}}} on %s tables', {literal(spec['role'])}, n)
                ELSE format('%s should have exactly {{{','.join(expected)}}}: ', {literal(spec['role'])}) || bad END;"""
