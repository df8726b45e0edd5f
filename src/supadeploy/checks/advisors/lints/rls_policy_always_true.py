"""rls_policy_always_true: a write policy for anon/authenticated that lets any row through."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "rls_policy_always_true"
TITLE = "RLS Policy Always True"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A permissive UPDATE, DELETE, INSERT or ALL policy whose USING or WITH CHECK is always true."
REMEDIATION = DOCS + "0024_permissive_rls_policy"
SQL = beside(__name__)
BLAME = (Blame.of(Target.POLICY, Change.CREATE, Change.ALTER),)

_TABLE = "create table public.comment (id bigint primary key, author uuid, body text);\n" \
         "alter table public.comment enable row level security;\n"
FIXTURES = (
    Fixture("fires on insert without a check and update using (true)",
            _TABLE + "create policy anyone_inserts on public.comment for insert to anon with check (true);\n"
            "create policy anyone_edits on public.comment for update to authenticated using (1 = 1);\n"
            "create policy open_insert on public.comment for insert;",
            ("public.comment/anyone_inserts", "public.comment/anyone_edits", "public.comment/open_insert")),
    Fixture("quiet on select using (true) and on owner-bound writes",
            _TABLE + "create policy read_all on public.comment for select using (true);\n"
            "create policy own_edit on public.comment for update to authenticated\n"
            "  using (author = (select auth.uid())) with check (author = (select auth.uid()));\n"
            "create policy service_writes on public.comment for insert to service_role with check (true);"),
)
