"""pg_graphql_anon_table_exposed: a relation anon may select shows in pg_graphql's introspection."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, for_role

ID = "pg_graphql_anon_table_exposed"
TITLE = "Public Can See Object in GraphQL Schema"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A table, view or foreign table visible in the GraphQL schema to anyone with the public anon key."
REMEDIATION = DOCS + "0026_pg_graphql_anon_table_exposed"
SQL = for_role("graphql_table_exposed", "anon", ID)
BLAME = (Blame.of(Target.RELATION, Change.CREATE, Change.GRANT, grantees=frozenset({"anon", "public"})),)

FIXTURES = (
    Fixture("fires on a table anon may select, even one column of it",
            "create table public.score (id bigint primary key, points int);\n"
            "create table public.player (id bigint primary key, name text, email text);\n"
            "revoke all on public.player from anon, authenticated;\n"
            "grant select (id, name) on public.player to anon;",
            ("public.player", "public.score")),
    Fixture("quiet once anon may select nothing of it",
            "create table public.score (id bigint primary key, points int);\n"
            "revoke select on public.score from anon;"),
)
