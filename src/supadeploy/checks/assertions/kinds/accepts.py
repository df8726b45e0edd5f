"""accepts: the SQL succeeds (as a role, a user, after a setup)."""

from __future__ import annotations

from typing import Any

from ....sqltext import literal
from .. import sql
from ..kind import Fixture

ID = "accepts"
DESCRIPTION = 'The SQL succeeds (as a role, a user, after a setup).'
DOCS = "docs/assertions.md#checks"
REQUIRED = ('sql',)
OPTIONAL = sql.ROLE_OPTIONS
_SCORES = "create table public.scores (score integer check (score between 0 and 100));"
FIXTURES = (
    Fixture(_SCORES, {"sql": "insert into public.scores values (100)"}, passes=True),
    Fixture(_SCORES, {"sql": "insert into public.scores values (101)"}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    return sql.prelude(spec) + f"""
    obj := {literal(spec.get('object', ''))};
    BEGIN
      EXECUTE {literal(spec['sql'])};
      ok := true; msg := 'accepted';
    EXCEPTION WHEN OTHERS THEN
      ok := false; msg := format('rejected with %s: %s', SQLSTATE, SQLERRM);
    END;"""
