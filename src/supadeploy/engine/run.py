"""One deploy run's shared state: its options, what it has done so far, and the signal to plan again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..errors import ConfigError
from ..masking import shown
from ..model import MigrationResult, MigrationStatus
from ..targets.base import Target
from .history import History
from .hooks import Hooks
from .migrations import Migration
from .plan import Plan
from .requests import Gate, Probe, Tracer, new_tag

_DURATION_WITH_UNIT = re.compile(r"^\d+(?:\.\d+)?\s*(us|ms|s|min|h|d)$")


class TxMode(StrEnum):
    FILE = "file"  # one transaction per migration file
    ALL = "all"  # one transaction for every pending file (split only by non-transactional files)


@dataclass(frozen=True)
class ApplyOptions:
    tx_mode: TxMode = TxMode.FILE
    lock_timeout: str = "10s"
    statement_timeout: str = "5min"
    lock_wait: str = "30s"  # how long to queue behind another deploy
    dry_run: bool = False
    gate: Gate | None = None  # checks run before COMMIT; a failure rolls everything back
    tracer: Tracer | None = None  # records what each statement did (lock safety)
    guard: tuple[str, ...] = ()  # tables whose lock holders are checked before applying (a real deploy)
    probe: Probe | None = None  # SQL at each transaction's end, its result read back (advisors, Data API)

    def validate(self) -> None:
        if self.tx_mode not in tuple(TxMode):
            raise ConfigError(f"--tx-mode must be 'file' or 'all', not {shown(self.tx_mode)}")
        for flag, value in (("--lock-timeout", self.lock_timeout), ("--statement-timeout", self.statement_timeout),
                            ("--lock-wait", self.lock_wait)):
            if not _DURATION_WITH_UNIT.match(value.strip()):
                raise ConfigError(f"{flag} needs a unit, such as 10s, 500ms or 5min (got {shown(value)})")


@dataclass
class DeployOutcome:
    plan: Plan
    results: list[MigrationResult] = field(default_factory=list)
    gate_result: Any = None  # the gate's results (JSON) when it ran inside the deploy
    gate_failed: bool = False  # the gate rolled the deploy back
    rolled_back: bool = False  # dry run or failed gate: nothing committed
    tables: int | None = None  # tables in public at the end of the last transaction
    gate_skipped: bool = False  # a gate was asked for but the last migration is non-transactional

    @property
    def applied(self) -> list[MigrationResult]:
        return [r for r in self.results if r.counts_as_applied]


class Replan(Exception):
    """Apply nothing more from this plan; plan again (from `history` when it was just read)."""

    def __init__(self, concurrent: bool, reason: str = "", history: History | None = None) -> None:
        super().__init__(reason)
        self.concurrent = concurrent
        self.reason = reason
        self.history = history


@dataclass
class RunContext:
    """What applying one plan shares: where, how, who listens, what was read, and what has happened."""

    target: Target
    options: ApplyOptions
    hooks: Hooks
    outcome: DeployOutcome
    history: History
    run_id: str = field(default_factory=new_tag)  # the deploy's tag: its requests' tags start with it
    attempts: dict[str, list[str]] = field(default_factory=dict)  # tag of each transaction sent → its versions

    def emit(self, migration: Migration, status: MigrationStatus, duration_ms: int | None = None,
             message: str = "") -> None:
        """Record what became of a migration, and tell the caller."""
        result = MigrationResult(migration.version, migration.name, migration.display_path, status, duration_ms,
                                 len(migration.statements), message)
        self.outcome.results.append(result)
        self.hooks.result(result)
