"""column: each given property of a column matches (type as format_type, default/generated as pg_get_expr, ignoring case and whitespace)."""

from __future__ import annotations

from typing import Any

from ....sqltext import literal
from .. import sql
from ..kind import Fixture

ID = "column"
DESCRIPTION = ('Each given property of a column matches (type as format_type, default/generated as pg_get_expr, '
               'ignoring case and whitespace).')
DOCS = "docs/assertions.md#checks"
REQUIRED = ('table', 'name')
OPTIONAL = ("schema", "type", "default", "not_null", "generated")
FIXTURES = (
    Fixture("create table public.t (id bigint not null, score integer default 0, "
            "twice integer generated always as (score * 2) stored);",
            {"table": "t", "name": "score", "type": "integer", "default": "0", "not_null": False}, passes=True),
    Fixture("create table public.t (id bigint not null, score integer default 0, "
            "twice integer generated always as (score * 2) stored);",
            {"table": "t", "name": "twice", "generated": "(score * 2)"}, passes=True),
    Fixture("create table public.t (id bigint not null, score integer default 0);",
            {"table": "t", "name": "score", "type": "bigint"}, passes=False),
    Fixture("create table public.t (id bigint not null);", {"table": "t", "name": "missing"}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    checks = []
    if "type" in spec:
        checks.append(("format_type(a.atttypid, a.atttypmod)", spec["type"], "type"))
    if "default" in spec:
        checks.append(("pg_get_expr(d.adbin, d.adrelid)", spec["default"], "default"))
    if "generated" in spec:
        checks.append(("CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END",
                       spec["generated"], "generated expression"))
    if "not_null" in spec:
        checks.append(("a.attnotnull::text", str(bool(spec["not_null"])).lower(), "not null"))
    body = [f"""
    obj := {literal(spec['table'])};
    bad := NULL;
    SELECT true INTO ok FROM pg_attribute a
     WHERE a.attrelid = {sql.regclass(spec)} AND a.attname = {literal(spec['name'])} AND NOT a.attisdropped;
    IF ok IS NULL THEN
      ok := false; msg := format('column %s.%s does not exist', obj, {literal(spec['name'])});
    ELSE"""]
    for expression, expected, label in checks:
        norm = "lower(regexp_replace(coalesce({0}, '<none>'), '\\s+', '', 'g'))"
        body.append(f"""
      SELECT {expression} INTO v FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = {sql.regclass(spec)} AND a.attname = {literal(spec['name'])};
      IF {norm.format('v')} <> {norm.format(literal(str(expected)))} THEN
        bad := concat_ws('; ', bad, format('{label} is %s, expected %s', coalesce(v, '<none>'), {literal(str(expected))}));
      END IF;""")
    body.append(f"""
      ok := bad IS NULL;
      msg := coalesce(format('column %s.%s: ', obj, {literal(spec['name'])}) || bad, 'column matches');
    END IF;""")
    return "".join(body)
