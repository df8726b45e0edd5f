"""pg_graphql_authenticated_table_exposed: a relation authenticated may select shows in pg_graphql's introspection."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, for_role

ID = "pg_graphql_authenticated_table_exposed"
TITLE = "Signed-In Users Can See Object in GraphQL Schema"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A table, view or foreign table visible in the GraphQL schema to every signed-in user."
REMEDIATION = DOCS + "0027_pg_graphql_authenticated_table_exposed"
SQL = for_role("graphql_table_exposed", "authenticated", ID)
BLAME = (Blame.of(Target.RELATION, Change.CREATE, Change.GRANT, grantees=frozenset({"authenticated", "public"})),)

FIXTURES = (
    Fixture("fires on a table authenticated may select, even one column of it",
            "create table public.score (id bigint primary key, points int);\n"
            "create table public.player (id bigint primary key, name text, email text);\n"
            "revoke all on public.player from anon, authenticated;\n"
            "grant select (id, name) on public.player to authenticated;",
            ("public.player", "public.score")),
    Fixture("quiet once authenticated may select nothing of it",
            "create table public.score (id bigint primary key, points int);\n"
            "revoke select on public.score from authenticated;"),
)
