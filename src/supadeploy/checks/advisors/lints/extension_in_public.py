"""extension_in_public: an extension installed in the public schema."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "extension_in_public"
TITLE = "Extension in Public"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "An extension installed in the public schema."
REMEDIATION = DOCS + "0014_extension_in_public"
SQL = beside(__name__)
BLAME = (Blame.of(Target.EXTENSION, Change.CREATE, Change.ALTER),)

FIXTURES = (
    Fixture("fires on an extension created in public", "create extension pg_trgm with schema public;",
            ("public.pg_trgm",)),
    Fixture("quiet in the extensions schema", "create extension pg_trgm with schema extensions;"),
)
