"""rejects: the SQL fails with that SQLSTATE (as a role, a user, after a setup)."""

from __future__ import annotations

from typing import Any

from ....sqltext import literal
from .. import sql
from ..kind import Fixture

ID = "rejects"
DESCRIPTION = 'The SQL fails with that SQLSTATE (as a role, a user, after a setup).'
DOCS = "docs/assertions.md#checks"
REQUIRED = ('sql', 'sqlstate')
OPTIONAL = sql.ROLE_OPTIONS
_SCORES = "create table public.scores (score integer check (score between 0 and 100));"
FIXTURES = (
    Fixture(_SCORES, {"sql": "insert into public.scores values (101)", "sqlstate": "23514"}, passes=True),
    Fixture(_SCORES, {"sql": "insert into public.scores values (100)", "sqlstate": "23514"}, passes=False),
    Fixture(_SCORES, {"sql": "insert into public.scores values (101)", "sqlstate": "42501"}, passes=False),
)


def to_sql(spec: dict[str, Any]) -> str:
    state = literal(str(spec["sqlstate"]))
    return sql.prelude(spec) + f"""
    obj := {literal(spec.get('object', ''))};
    BEGIN
      EXECUTE {literal(spec['sql'])};
      ok := false; msg := 'accepted, expected rejection with SQLSTATE ' || {state};
    EXCEPTION WHEN OTHERS THEN
      ok := SQLSTATE = {state};
      msg := CASE WHEN ok THEN format('rejected with %s: %s', SQLSTATE, SQLERRM)
                  ELSE format('rejected with %s (%s), expected %s', SQLSTATE, SQLERRM, {state}) END;
    END;"""
