"""foreign_table_in_api: a foreign table (no row level security) the Data API serves."""

from __future__ import annotations

from ..model import API_ROLES, Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "foreign_table_in_api"
TITLE = "Foreign Table in API"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A foreign table that anon or authenticated can read through the Data API; it ignores RLS."
REMEDIATION = DOCS + "0017_foreign_table_in_api"
SQL = beside(__name__)
BLAME = (Blame.of(Target.RELATION, Change.CREATE, Change.GRANT, grantees=API_ROLES),)

_SERVER = "create extension postgres_fdw with schema extensions;\n" \
          "create server elsewhere foreign data wrapper postgres_fdw options (dbname 'nowhere');\n" \
          "grant usage on foreign server elsewhere to postgres;\nset role postgres;\n"
FIXTURES = (
    Fixture("fires on a foreign table in public",
            _SERVER + "create foreign table public.remote_user (id int) server elsewhere;\n"
            "grant select on public.remote_user to anon;", ("public.remote_user",), superuser=True),
    Fixture("quiet outside the exposed schemas",
            _SERVER + "create schema private;\ncreate foreign table private.remote_user (id int) server elsewhere;\n"
            "grant select on private.remote_user to anon;", superuser=True),
)
