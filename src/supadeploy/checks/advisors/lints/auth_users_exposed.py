"""auth_users_exposed: a view over auth.users that the Data API serves to anon or authenticated."""

from __future__ import annotations

from ..model import API_ROLES, Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "auth_users_exposed"
TITLE = "Exposed Auth Users"
LEVEL = Level.ERROR
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A view or materialized view over auth.users that anon or authenticated can read through the Data API."
REMEDIATION = DOCS + "0002_auth_users_exposed"
SQL = beside(__name__)
BLAME = (Blame.of(Target.RELATION, Change.CREATE, Change.GRANT, Change.OWNER, Change.OPTIONS, grantees=API_ROLES),)

FIXTURES = (
    Fixture("fires on a view of auth.users in public",
            "create view public.user_emails as select id, email from auth.users;", ("public.user_emails",)),
    Fixture("fires on a materialized view of auth.users",
            "create materialized view public.user_list as select id from auth.users;", ("public.user_list",)),
    Fixture("quiet once anon and authenticated may not read it",
            "create view public.user_emails as select id, email from auth.users;\n"
            "revoke all on public.user_emails from anon, authenticated;"),
    Fixture("quiet in a schema the Data API does not serve",
            "create schema private;\ncreate view private.user_emails as select id, email from auth.users;\n"
            "grant usage on schema private to anon;\ngrant select on private.user_emails to anon;"),
)
