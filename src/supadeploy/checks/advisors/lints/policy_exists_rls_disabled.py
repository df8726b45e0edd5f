"""policy_exists_rls_disabled: policies exist on a table whose row level security is off."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "policy_exists_rls_disabled"
TITLE = "Policy Exists RLS Disabled"
LEVEL = Level.ERROR
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "Policies were created for a table, but row level security is not enabled on it."
REMEDIATION = DOCS + "0007_policy_exists_rls_disabled"
SQL = beside(__name__)
BLAME = (Blame.of(Target.POLICY, Change.CREATE, Change.ALTER), Blame.of(Target.RELATION, Change.RLS))

FIXTURES = (
    Fixture("fires when the table's row level security is off",
            "create table public.todo (id bigint primary key, owner uuid);\n"
            "create policy own on public.todo using (owner = (select auth.uid()));", ("public.todo",)),
    Fixture("quiet once it is enabled",
            "create table public.todo (id bigint primary key, owner uuid);\n"
            "alter table public.todo enable row level security;\n"
            "create policy own on public.todo using (owner = (select auth.uid()));"),
)
