"""duplicate_index: the same index twice under different names."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "duplicate_index"
TITLE = "Duplicate Index"
LEVEL = Level.WARN
CATEGORIES = (Category.PERFORMANCE,)
DESCRIPTION = "Two or more identical indexes on one table."
REMEDIATION = DOCS + "0009_duplicate_index"
SQL = beside(__name__)
BLAME = (Blame.of(Target.INDEX, Change.CREATE),)

FIXTURES = (
    Fixture("fires on an index that repeats a constraint's",
            "create table public.account (id bigint primary key, email text unique);\n"
            "create unique index account_email_idx on public.account (email);",
            ("public.account/account_email_idx,account_email_key",)),
    Fixture("quiet when they differ in method, columns or predicate",
            "create table public.account (id bigint primary key, email text);\n"
            "create index account_email_idx on public.account (email);\n"
            "create index account_email_hash on public.account using hash (email);\n"
            "create index account_email_partial on public.account (email) where email is not null;"),
)
