"""What an assertion kind is: one file in kinds/, with its id, options, the PL/pgSQL it compiles to, and
fixtures. Adding a kind is adding a file there; tests/test_assertion_kinds.py runs every kind's fixtures on
a real database and checks each passes, or fails, as it says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Fixture:
    """A database state (`setup`, run as the owner) and an assertion's options (`spec`) that should pass on
    it, or fail (`passes`)."""

    setup: str
    spec: dict[str, Any]
    passes: bool


class AssertionKind(Protocol):
    ID: str  # the key in an assertion file, e.g. `rls_isolation`
    DESCRIPTION: str
    DOCS: str
    REQUIRED: tuple[str, ...]  # options it must have
    OPTIONAL: tuple[str, ...]
    FIXTURES: tuple[Fixture, ...]

    def to_sql(self, spec: dict[str, Any]) -> str:
        """The PL/pgSQL block body: sets `ok`, `msg` and (on failure) `obj`, the object at fault."""
