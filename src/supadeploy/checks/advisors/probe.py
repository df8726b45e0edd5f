"""What the advisors and the Data API place at the end of each deploy transaction (an engine `Probe`).

- A dry run: the advisors' function, called before the deliberate rollback, so its findings are those of the
  database as the pending migrations leave it: production itself (with what was made by hand, its real
  extension versions and roles), not a replay that differs from it. Everything it creates rolls back.
- A real deploy: `NOTIFY pgrst, 'reload schema'` when the transaction's migrations changed an exposed schema
  (and 'reload config' when they changed `pgrst.*` settings). PostgreSQL delivers it only at COMMIT, so
  PostgREST never reloads for a deploy that rolled back. Nothing else is added to a production transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...engine.migrations import Migration
from .data_api import reload_sql
from .ledger import Ledger
from .query import CALL, advisors_function


class DeployProbe:
    """`exposed` is asked for lazily (on the API target it costs a request): only when a transaction needs it."""

    def __init__(self, exposed: Callable[[], Sequence[str]], dry_run: bool, reload: bool = True) -> None:
        self.exposed = exposed
        self.dry_run = dry_run
        self.reload = reload and not dry_run

    def finish(self, batch: list[Migration]) -> str:
        if self.dry_run:
            return advisors_function(tuple(self.exposed()))
        if not self.reload:
            return ""
        ledger = Ledger.of(batch)
        if not ledger.touched and not ledger.config_changed:
            return ""  # nothing schema-shaped: no need to know the exposed schemas
        notify = reload_sql(ledger, self.exposed())
        return "" if notify is None else notify + ";\n"

    def result(self, batch: list[Migration]) -> str | None:
        return CALL if self.dry_run else None
