"""rls_enabled_no_policy: row level security is on and no policy exists."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "rls_enabled_no_policy"
TITLE = "RLS Enabled No Policy"
LEVEL = Level.INFO
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "Row level security is enabled on a table, but no policy exists for it."
REMEDIATION = DOCS + "0008_rls_enabled_no_policy"
SQL = beside(__name__)
BLAME = (Blame.of(Target.RELATION, Change.RLS),)

FIXTURES = (
    Fixture("fires on a table locked to everyone but its owner",
            "create table public.secret (id bigint primary key);\n"
            "alter table public.secret enable row level security;", ("public.secret",)),
    Fixture("quiet with a policy",
            "create table public.secret (id bigint primary key);\n"
            "alter table public.secret enable row level security;\n"
            "create policy nobody on public.secret for select to authenticated using (false);"),
)
