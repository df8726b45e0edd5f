"""foreign_key: a foreign key from table.column points at the referenced table."""

from __future__ import annotations

from typing import Any

from ....sqltext import literal
from .. import sql
from ..kind import Fixture

ID = "foreign_key"
DESCRIPTION = 'A foreign key from table.column points at the referenced table.'
DOCS = "docs/assertions.md#checks"
REQUIRED = ('table', 'column', 'references')
OPTIONAL = ("schema",)
_PARENT_CHILD = ("create table public.parent (id bigint primary key);\n"
                 "create table public.child (id bigint primary key, parent_id bigint references public.parent (id));")
FIXTURES = (
    Fixture(_PARENT_CHILD, {"table": "child", "column": "parent_id", "references": "parent"}, passes=True),
    Fixture(_PARENT_CHILD, {"table": "child", "column": "id", "references": "parent"}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    return f"""
    obj := {literal(spec['table'])};
    SELECT count(*) INTO n FROM pg_constraint c
     WHERE c.contype = 'f' AND c.conrelid = {sql.regclass(spec)} AND c.confrelid = {sql.regclass(spec, 'references')}
       AND (SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = c.conkey[1]) = {literal(spec['column'])};
    ok := n > 0;
    msg := CASE WHEN ok THEN format('%s.%s references %s', obj, {literal(spec['column'])}, {literal(spec['references'])})
                ELSE format('no foreign key from %s.%s to %s', obj, {literal(spec['column'])}, {literal(spec['references'])}) END;"""
