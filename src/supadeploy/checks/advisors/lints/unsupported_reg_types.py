"""unsupported_reg_types: a reg* column (OIDs) that keeps pg_upgrade from upgrading the project."""

from __future__ import annotations

from ..model import Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "unsupported_reg_types"
TITLE = "Unsupported reg types"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A column of a reg* type outside pg_catalog, which prevents upgrades with pg_upgrade."
REMEDIATION = DOCS + "unsupported_reg_types"
SQL = beside(__name__)
BLAME = (Blame.of(Target.COLUMN, Change.CREATE, Change.ALTER),)

FIXTURES = (
    Fixture("fires per column of an unsupported reg type",
            "create table public.hook (id int primary key, handler regproc, cfg regconfig, tbl regclass);",
            ("public.hook/handler", "public.hook/cfg")),
    Fixture("quiet on regclass, regtype and regrole",
            "create table public.hook (id int primary key, tbl regclass, typ regtype, who regrole);"),
)
