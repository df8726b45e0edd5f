"""sensitive_columns_exposed: a table served without row level security that has secret-looking columns."""

from __future__ import annotations

from ..model import API_ROLES, Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "sensitive_columns_exposed"
TITLE = "Sensitive Columns Exposed"
LEVEL = Level.ERROR
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A table the Data API serves without RLS whose columns look like credentials or personal data."
REMEDIATION = DOCS + "0023_sensitive_columns_exposed"
SQL = beside(__name__)
BLAME = (
    Blame.of(Target.RELATION, Change.CREATE, Change.RLS, Change.GRANT, grantees=API_ROLES),
    Blame.of(Target.COLUMN, Change.CREATE),
)

FIXTURES = (
    Fixture("fires on password and api_key columns",
            "create table public.app_user (id bigint primary key, email text, password text, \"API-Key\" text);",
            ("public.app_user",)),
    Fixture("quiet with row level security, or without such columns",
            "create table public.app_user (id bigint primary key, password text);\n"
            "alter table public.app_user enable row level security;\n"
            "create table public.city (id bigint primary key, name text, token_count int);"),
)
