"""fkey_to_auth_unique: a foreign key to a unique constraint (not the primary key) of an auth table."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "fkey_to_auth_unique"
TITLE = "Foreign Key to Auth Unique Constraint"
LEVEL = Level.ERROR
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A foreign key to a unique constraint in the auth schema, which Supabase Auth may change."
REMEDIATION = DOCS + "0021_fkey_to_auth_unique"
SQL = beside(__name__)
BLAME = (Blame.of(Target.CONSTRAINT, Change.CREATE),)

FIXTURES = (
    Fixture("fires on a key to auth.users (phone)",
            "create table public.contact (id bigint primary key, phone text references auth.users (phone));",
            ("public.contact/contact_phone_fkey",)),
    Fixture("quiet on a key to auth.users (id)",
            "create table public.contact (id bigint primary key, user_id uuid references auth.users (id));"),
)
