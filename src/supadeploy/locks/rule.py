"""What a lock rule is: one file in rules/, with its id, what it matches in a trace, its advice and fixtures.

Adding a rule is adding a file there (registry.load finds it); tests/test_lock_rules.py replays every
rule's fixtures on a real database and checks each fires, or stays quiet, as it says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

TraceRow = dict[str, Any]

# A table that exists before the migration, with rows: what most fixtures act on.
ITEMS = ("create table public.items (id bigint primary key, qty integer);\n"
         "insert into public.items select g, g from generate_series(1, 100) g;")  # one finding row of the trace (trace.RESULT): relname, lock, rewrite, scanned, …


@dataclass(frozen=True)
class Fixture:
    """A table that already exists (`setup`, run first and committed), then a migration that should make
    the rule fire on it, or not (`fires`)."""

    setup: str
    migration: str
    fires: bool


class LockRule(Protocol):
    ID: str
    EFFECT: str  # what happened, in the finding's words: rewrite | validation scan | index build
    DESCRIPTION: str
    DOCS: str  # where the rule is explained
    PRIORITY: int  # when several rules match one row, the lowest wins
    FIXTURES: tuple[Fixture, ...]

    def matches(self, row: TraceRow, statement_kind: str) -> bool:
        """Whether this traced change under a blocking lock is this rule's."""

    def advice(self, kind: str) -> str:
        """What to write instead, for the kind of change (analyze._kind: type, default, check, …)."""
