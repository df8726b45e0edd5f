"""no_primary_key: a table without a primary key."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "no_primary_key"
TITLE = "No Primary Key"
LEVEL = Level.INFO
CATEGORIES = (Category.PERFORMANCE,)
DESCRIPTION = "A table without a primary key, inefficient to interact with at scale."
REMEDIATION = DOCS + "0004_no_primary_key"
SQL = beside(__name__)
BLAME = (Blame.of(Target.RELATION, Change.CREATE),)

FIXTURES = (
    Fixture("fires on a table without one, in any schema of the project's",
            "create table public.event_log (at timestamptz, body text);\n"
            "create schema private;\ncreate table private.scratch (x int unique);",
            ("public.event_log", "private.scratch")),
    Fixture("quiet with a primary key, and in Supabase's own schemas",
            "create table public.event_log (id bigint generated always as identity primary key);\n"
            "create table storage.extra_thing (x int);"),
)
