"""extension_versions_outdated: an extension at another version than the server's default."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "extension_versions_outdated"
TITLE = "Extension Versions Outdated"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "An extension that is not at the default (recommended) version."
REMEDIATION = DOCS + "0022_extension_versions_outdated"
SQL = beside(__name__)
BLAME = (Blame.of(Target.EXTENSION, Change.CREATE, Change.ALTER),)

FIXTURES = (
    Fixture("fires on a pinned older version", "create extension pg_trgm with schema extensions version '1.5';",
            ("extensions.pg_trgm",)),
    Fixture("quiet after an update",
            "create extension pg_trgm with schema extensions version '1.5';\nalter extension pg_trgm update;"),
)
