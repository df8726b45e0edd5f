"""Supabase's Security and Performance Advisors, computed by supadeploy itself, at file and line.

- lints/: 26 of Supabase's lints (supabase/splinter), one file each (model.Lint);
- query.py: all of them in one request, typed findings (model.Finding);
- ledger.py + attribution.py: each finding to the statement that created or last changed its object;
- baseline.py: new versus already in production, acknowledgements, `--max-advisor-level`;
- data_api.py: PostgREST told to reload, its OpenAPI document checked for what a deploy created.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ...engine.migrations import Migration
from ...targets.base import Target
from .attribution import attribute
from .baseline import THRESHOLDS, Verdict, assess
from .ledger import Ledger
from .model import Attribution, Category, Finding, Level, Lint, Status
from .query import DEFAULT_EXPOSED, all_lints, run

__all__ = ["DEFAULT_EXPOSED", "THRESHOLDS", "Attribution", "Category", "Finding", "Level", "Lint", "Ledger",
           "Status", "Verdict", "advise", "all_lints", "assess", "attribute", "run"]


def advise(target: Target, migrations: Iterable[Migration], exposed: Sequence[str] = DEFAULT_EXPOSED) -> list[Finding]:
    """The findings of the database behind `target`, each blamed on a statement of `migrations` where one is."""
    return attribute(run(target, exposed), Ledger.of(migrations), all_lints())
