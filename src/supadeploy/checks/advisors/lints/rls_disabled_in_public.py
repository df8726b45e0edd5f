"""rls_disabled_in_public: a table the Data API serves with row level security off."""

from __future__ import annotations

from ..model import API_ROLES, Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "rls_disabled_in_public"
TITLE = "RLS Disabled in Public"
LEVEL = Level.ERROR
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A table in a schema the Data API exposes, readable by anon or authenticated, without RLS."
REMEDIATION = DOCS + "0013_rls_disabled_in_public"
SQL = beside(__name__)
BLAME = (Blame.of(Target.RELATION, Change.CREATE, Change.RLS, Change.GRANT, grantees=API_ROLES),)

FIXTURES = (
    Fixture("fires on a new table in public", "create table public.profile (id uuid primary key, name text);",
            ("public.profile",)),
    Fixture("quiet once row level security is on",
            "create table public.profile (id uuid primary key, name text);\n"
            "alter table public.profile enable row level security;"),
    Fixture("quiet when the API roles may not read it, or the schema is not exposed",
            "create table public.internal_job (id bigint primary key);\n"
            "revoke all on public.internal_job from anon, authenticated;\n"
            "create schema private;\ngrant usage on schema private to anon;\n"
            "create table private.cache (id bigint primary key);\ngrant select on private.cache to anon;"),
    Fixture("fires in another exposed schema",
            "create schema api;\ngrant usage on schema api to anon;\n"
            "create table api.item (id bigint primary key);\ngrant select on api.item to anon;",
            ("api.item",), exposed=("public", "graphql_public", "api")),
)
