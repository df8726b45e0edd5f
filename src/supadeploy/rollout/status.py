"""Where the fleet stands: one row per project (wave, applied version, pending count, drift, last result).

Each row comes from the project's own database (one history read: the plan
against the local files), not from a record of earlier runs: a rollout
resumes by the same truth. "Last result" is what the database shows last
happened (a non-transactional migration stopped half-way, the newest applied
migration and when), or the result of this run when one is given.
Reads run in parallel; a project that cannot be read gets a row that says why
instead of stopping the table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ..errors import SupadeployError
from .projects import ResolvedWave
from .scheduler import ProjectResult


class _Versioned(Protocol):
    @property
    def version(self) -> str: ...


class _Row(Protocol):
    @property
    def version(self) -> str: ...

    @property
    def applied_at(self) -> str | None: ...


class _Progress(Protocol):
    @property
    def version(self) -> str: ...

    @property
    def done(self) -> int: ...


class PlanView(Protocol):
    """What a row needs of a plan (supadeploy.plan.Plan has it)."""

    @property
    def pending(self) -> Sequence[_Versioned]: ...

    @property
    def drifted(self) -> Sequence[_Versioned]: ...

    @property
    def missing_local(self) -> Sequence[_Versioned]: ...


class HistoryView(Protocol):
    """What a row needs of a history read (supadeploy.history.History has it)."""

    @property
    def rows(self) -> Sequence[_Row]: ...

    @property
    def progress(self) -> Sequence[_Progress]: ...


class State(StrEnum):
    UP_TO_DATE = "up-to-date"
    PENDING = "pending"
    DRIFT = "drift"  # a migration was edited after it was applied, or history has versions the folder lacks
    INTERRUPTED = "interrupted"  # a non-transactional migration stopped half-way
    UNREADABLE = "unreadable"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StatusRow:
    ref: str
    wave: str
    state: State
    applied: str | None = None  # the newest applied version
    pending: int | None = None  # None: not known (unreadable, skipped)
    drift: tuple[str, ...] = ()  # versions edited after they were applied
    remote_only: tuple[str, ...] = ()  # versions in history that the local folder lacks
    last: str = ""


def row_from(ref: str, wave: str, plan: PlanView, history: HistoryView,
             result: ProjectResult | None = None) -> StatusRow:
    """A project's row from its plan and history (and this run's result for it, if any)."""
    versions = sorted(r.version for r in history.rows)
    drift = tuple(m.version for m in plan.drifted)
    remote_only = tuple(r.version for r in plan.missing_local)
    stopped = sorted(history.progress, key=lambda p: p.version)
    state = (State.INTERRUPTED if stopped else State.DRIFT if drift or remote_only else
             State.PENDING if plan.pending else State.UP_TO_DATE)
    return StatusRow(ref, wave, state, versions[-1] if versions else None, len(plan.pending), drift, remote_only,
                     _last(history, stopped, result))


def _last(history: HistoryView, stopped: Sequence[_Progress], result: ProjectResult | None) -> str:
    if result is not None:
        return f"{result.result.value}: {result.message}" if result.message else result.result.value
    if stopped:
        first = stopped[0]
        return (f"{first.version} stopped after statement {first.done} (non-transactional); "
                "the next deploy resumes it")
    logged = [r for r in history.rows if r.applied_at]
    if logged:
        newest = max(logged, key=lambda r: r.applied_at or "")
        return f"applied {newest.version} at {newest.applied_at}"
    if history.rows:
        return f"applied {max(r.version for r in history.rows)} (not by supadeploy: no time recorded)"
    return "never deployed"


Read = Callable[[str], "tuple[PlanView, HistoryView]"]


def collect_status(waves: Sequence[ResolvedWave], read: Read, parallel: int = 8,
                   results: Mapping[str, ProjectResult] | None = None) -> list[StatusRow]:
    """Every project's row, in wave order; up to `parallel` reads at once; a failed read is a row too."""
    jobs = [(ref, wave.name) for wave in waves for ref in wave.refs]
    rows: dict[int, StatusRow] = {}
    lock = threading.Lock()
    queue = list(reversed(list(enumerate(jobs))))

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                index, (ref, wave) = queue.pop()
            rows[index] = _read_row(ref, wave, read, (results or {}).get(ref))

    threads = [threading.Thread(target=work, name=f"status-{n}", daemon=True)
               for n in range(max(1, min(parallel, len(jobs))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered: list[StatusRow] = []
    index = 0
    for wave in waves:
        for _ in wave.refs:
            ordered.append(rows[index])
            index += 1
        ordered.extend(StatusRow(s.ref, wave.name, State.SKIPPED, last=s.reason) for s in wave.skipped)
    return ordered


def _read_row(ref: str, wave: str, read: Read, result: ProjectResult | None) -> StatusRow:
    try:
        plan, history = read(ref)
    except SupadeployError as exc:
        return StatusRow(ref, wave, State.UNREADABLE, last=f"cannot read its history: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug must not hide the other projects' rows
        return StatusRow(ref, wave, State.UNREADABLE,
                         last=f"internal error in supadeploy ({type(exc).__name__}); please report it")
    return row_from(ref, wave, plan, history, result)


__all__ = ["HistoryView", "PlanView", "State", "StatusRow", "collect_status", "row_from"]
