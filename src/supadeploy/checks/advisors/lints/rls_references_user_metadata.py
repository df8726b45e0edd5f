"""rls_references_user_metadata: a policy decides access on user_metadata, which users edit themselves."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "rls_references_user_metadata"
TITLE = "RLS references user metadata"
LEVEL = Level.ERROR
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A policy reads Supabase Auth user_metadata, which every user can edit, to decide access."
REMEDIATION = DOCS + "0015_rls_references_user_metadata"
SQL = beside(__name__)
BLAME = (Blame.of(Target.POLICY, Change.CREATE, Change.ALTER),)

_TABLE = "create table public.report (id bigint primary key, org text);\n" \
         "alter table public.report enable row level security;\n"
FIXTURES = (
    Fixture("fires on auth.jwt() -> 'user_metadata'",
            _TABLE + "create policy by_org on public.report for select to authenticated\n"
            "  using (org = ((select auth.jwt()) -> 'user_metadata' ->> 'org'));", ("public.report/by_org",)),
    Fixture("quiet on app_metadata",
            _TABLE + "create policy by_org on public.report for select to authenticated\n"
            "  using (org = ((select auth.jwt()) -> 'app_metadata' ->> 'org'));"),
)
