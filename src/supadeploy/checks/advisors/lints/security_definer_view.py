"""security_definer_view: a view the Data API serves that runs with its owner's rights."""

from __future__ import annotations

from ..model import API_ROLES, Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "security_definer_view"
TITLE = "Security Definer View"
LEVEL = Level.ERROR
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A view without security_invoker: it applies its creator's permissions and RLS, not the caller's."
REMEDIATION = DOCS + "0010_security_definer_view"
SQL = beside(__name__)
BLAME = (Blame.of(Target.RELATION, Change.CREATE, Change.GRANT, Change.OWNER, Change.OPTIONS, grantees=API_ROLES),)

_TABLE = "create table public.post (id bigint primary key, body text);\n" \
         "alter table public.post enable row level security;\n"
FIXTURES = (
    Fixture("fires on a plain view in public", _TABLE + "create view public.post_list as select id from public.post;",
            ("public.post_list",)),
    Fixture("quiet with security_invoker",
            _TABLE + "create view public.post_list with (security_invoker = on) as select id from public.post;\n"
            "create view public.post_ids with (security_invoker) as select id from public.post;"),
    Fixture("quiet once anon and authenticated may not read it",
            _TABLE + "create view public.post_list as select id from public.post;\n"
            "revoke select on public.post_list from anon, authenticated;"),
)
