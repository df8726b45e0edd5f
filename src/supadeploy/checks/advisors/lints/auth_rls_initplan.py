"""auth_rls_initplan: a policy calls auth.uid() (or another auth function, or current_setting) once per row."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "auth_rls_initplan"
TITLE = "Auth RLS Initialization Plan"
LEVEL = Level.WARN
CATEGORIES = (Category.PERFORMANCE,)
DESCRIPTION = "A policy calls auth.<function>() or current_setting() bare, re-evaluated for every row."
REMEDIATION = DOCS + "0003_auth_rls_initplan"
SQL = beside(__name__)
BLAME = (Blame.of(Target.POLICY, Change.CREATE, Change.ALTER),)

_TABLE = "create table public.note (id bigint primary key, owner uuid not null);\n" \
         "alter table public.note enable row level security;\n"
FIXTURES = (
    Fixture("fires on bare auth.uid() and current_setting()",
            _TABLE + "create policy \"own notes\" on public.note for select to authenticated using (owner = auth.uid());\n"
            "create policy by_claim on public.note for update to authenticated using (true)\n"
            "  with check (owner::text = current_setting('request.jwt.claim.sub', true));",
            ("public.note/own notes", "public.note/by_claim")),
    Fixture("quiet when wrapped in a select",
            _TABLE + "create policy own on public.note for all to authenticated\n"
            "  using (owner = (select auth.uid())) with check (owner = (select auth.uid()));"),
    Fixture("quiet while row level security is off",
            "create table public.note (id bigint primary key, owner uuid not null);\n"
            "create policy own on public.note for select using (owner = auth.uid());"),
)
