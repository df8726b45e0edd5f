"""multiple_permissive_policies: several permissive policies for one role and action on a table."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "multiple_permissive_policies"
TITLE = "Multiple Permissive Policies"
LEVEL = Level.WARN
CATEGORIES = (Category.PERFORMANCE,)
DESCRIPTION = "Several permissive policies for the same role and action on a table, each run for every query."
REMEDIATION = DOCS + "0006_multiple_permissive_policies"
SQL = beside(__name__)
BLAME = (Blame.of(Target.POLICY, Change.CREATE, Change.ALTER),)

_TABLE = "create table public.doc (id bigint primary key, owner uuid, published bool);\n" \
         "alter table public.doc enable row level security;\n"
FIXTURES = (
    Fixture("fires per role and action the policies share",
            _TABLE + "create policy own on public.doc for all to authenticated using (owner = (select auth.uid()));\n"
            "create policy published on public.doc for select to anon, authenticated using (published);",
            ("public.doc/authenticated/SELECT",)),
    Fixture("quiet with one policy per role and action, or restrictive ones",
            _TABLE + "create policy own on public.doc for select to authenticated using (owner = (select auth.uid()));\n"
            "create policy published on public.doc for select to anon using (published);\n"
            "create policy not_banned on public.doc as restrictive for select to authenticated using (true);"),
)
