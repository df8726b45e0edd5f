"""enum: the enum has exactly these labels, in order."""

from __future__ import annotations

from typing import Any

from ....sqltext import literal
from ..kind import Fixture

ID = "enum"
DESCRIPTION = 'The enum has exactly these labels, in order.'
DOCS = "docs/assertions.md#checks"
REQUIRED = ('name', 'labels')
OPTIONAL = ("schema",)
FIXTURES = (
    Fixture("create type public.mood as enum ('low', 'high');", {"name": "mood", "labels": ["low", "high"]},
            passes=True),
    Fixture("create type public.mood as enum ('low', 'high');", {"name": "mood", "labels": ["high", "low"]},
            passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    qualified = spec["name"] if "." in spec["name"] else f"{spec.get('schema', 'public')}.{spec['name']}"
    return f"""
    obj := {literal(spec['name'])};
    SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) INTO v FROM pg_enum
     WHERE enumtypid = to_regtype({literal(qualified)});
    ok := v IS NOT DISTINCT FROM {literal(','.join(spec['labels']))};
    msg := CASE WHEN v IS NULL THEN format('enum %s does not exist', obj)
                WHEN ok THEN format('enum %s has %s labels', obj, {len(spec['labels'])})
                ELSE format('enum %s has labels (%s), expected (%s)', obj, v, {literal(','.join(spec['labels']))}) END;"""
