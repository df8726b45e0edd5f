"""materialized_view_in_api: a materialized view (no row level security) the Data API serves."""

from __future__ import annotations

from ..model import API_ROLES, Blame, Category, Change, Fixture, Level, Target
from ._sql import DOCS, beside

ID = "materialized_view_in_api"
TITLE = "Materialized View in API"
LEVEL = Level.WARN
CATEGORIES = (Category.SECURITY,)
DESCRIPTION = "A materialized view that anon or authenticated can read through the Data API."
REMEDIATION = DOCS + "0016_materialized_view_in_api"
SQL = beside(__name__)
BLAME = (Blame.of(Target.RELATION, Change.CREATE, Change.GRANT, grantees=API_ROLES),)

FIXTURES = (
    Fixture("fires on a materialized view in public",
            "create materialized view public.daily_totals as select 1 as day, 2 as total;",
            ("public.daily_totals",)),
    Fixture("quiet once the API roles may not read it",
            "create materialized view public.daily_totals as select 1 as day, 2 as total;\n"
            "revoke select on public.daily_totals from anon, authenticated;"),
)
