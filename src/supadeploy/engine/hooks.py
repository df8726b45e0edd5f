"""What the engine tells its caller as it works: the one small interface between the engine and the rest.

The engine knows nothing of reporting, lock rules or assertions. It emits events through `Hooks`, and
places SQL that others build (requests.Tracer, requests.Gate, requests.Probe).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import MigrationResult, Problem

if TYPE_CHECKING:
    from .migrations import Migration
    from .plan import Plan


class Hooks:
    """What the engine tells its caller as it happens; the commands implement it (and report it)."""

    def plan(self, plan: Plan) -> None:
        """A plan was made (again, after a race)."""

    def starting(self, batch: list[Migration], how: str, tag: str | None = None) -> None:
        """A request is about to be sent; `tag` is its application_name, when it has one."""

    def result(self, result: MigrationResult) -> None:
        """What became of one migration."""

    def waiting(self, message: str) -> None:
        """A wait, a retry or a resend, as it starts."""

    def note(self, problem: Problem) -> None:
        """Something worth a warning that does not stop the run."""

    def traced(self, batch: list[Migration], rows: list[dict[str, Any]]) -> None:
        """What the `Tracer` recorded in one transaction (its rows, as the tracer's result SQL built them)."""

    def probed(self, batch: list[Migration], value: Any) -> None:
        """What the `Probe` read at the end of one transaction (committed, or rolled back in a dry run)."""
