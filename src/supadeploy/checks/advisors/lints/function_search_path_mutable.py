"""function_search_path_mutable: a function that does not pin its search_path."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "function_search_path_mutable"
TITLE = "Function Search Path Mutable"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A function that does not set search_path, so its names resolve by the caller's."
REMEDIATION = DOCS + "0011_function_search_path_mutable"
SQL = beside(__name__)
BLAME = (Blame.of(Target.FUNCTION, Change.CREATE, Change.ALTER),)

FIXTURES = (
    Fixture("fires per overload without search_path",
            "create function public.touch() returns trigger language plpgsql as\n"
            "$$ begin new.updated_at = now(); return new; end $$;\n"
            "create function public.add(a integer, b integer) returns integer language sql as 'select a + b';\n"
            "create function public.add(a numeric, b numeric) returns numeric language sql as 'select a + b'\n"
            "  set search_path = '';",
            ("public.touch()", "public.add(a integer, b integer)")),
    Fixture("quiet once search_path is set, later or at creation",
            "create function public.touch() returns trigger language plpgsql set search_path = '' as\n"
            "$$ begin new.updated_at = pg_catalog.now(); return new; end $$;\n"
            "create function public.add(a integer, b integer) returns integer language sql as 'select a + b';\n"
            "alter function public.add(integer, integer) set search_path = public;"),
)
