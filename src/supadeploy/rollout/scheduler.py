"""Waves in order, up to `max_parallel` projects of a wave at once, and the rules for stopping.

When a project fails, its wave starts no further project, the projects
already running finish (each deploy is atomic per file and ends by itself;
nothing is cancelled half-way), and no later wave starts. The same happens
when the rollout is interrupted (Ctrl-C, `cancel()`) or when the `gate` says
stop (in a GitHub matrix: another shard of the wave failed).

The per-project deploy is a callable, so the scheduler knows nothing of
targets: the wiring plugs in the real `deploy` (locks, per-file atomicity,
assertions, gate, lock safety); tests plug in callables that block on events.
Every project gets a result, started or not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol, TypeVar

from ..errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNKNOWN,
    InternalError,
    Interrupted,
    OutcomeUnknownError,
    SupadeployError,
)
from ..errors import (
    outcome as ending,
)
from ..model import Problem
from .projects import ResolvedWave


class Result(StrEnum):
    DEPLOYED = "deployed"  # migrations were applied
    UP_TO_DATE = "up-to-date"  # nothing was pending
    FAILED = "failed"  # the deploy failed (its message says how: migration, assertion, refused, access …)
    UNKNOWN = "unknown"  # a transaction was sent and its outcome could not be settled
    INTERRUPTED = "interrupted"  # the deploy was stopped by a signal while it ran
    ERROR = "error"  # a bug in supadeploy
    NOT_STARTED = "not-started"  # a failure, an interruption or the gate stopped the rollout first
    SKIPPED = "skipped"  # `all` found the project but its status does not take a deploy

    @property
    def ok(self) -> bool:
        return self in (Result.DEPLOYED, Result.UP_TO_DATE, Result.SKIPPED)


@dataclass(frozen=True)
class ProjectJob:
    """What the deploy callable is asked to do."""

    ref: str
    wave: str
    index: int  # position in the whole rollout, from 0


@dataclass(frozen=True)
class ProjectOutcome:
    """What the deploy callable reports. A failure may be returned (with what was applied before it) or raised."""

    applied: tuple[str, ...] = ()
    requests: int = 0
    message: str = ""
    error: SupadeployError | None = None
    schema_version: str | None = None  # the newest version applied on the project afterwards, when known
    pending: int | None = None  # local migrations still not applied there afterwards, when known
    log: str = ""  # what the project's deploy printed (shown at its end, never interleaved)
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ProjectResult:
    ref: str
    wave: str
    result: Result
    applied: tuple[str, ...] = ()
    seconds: float = 0.0
    requests: int = 0
    message: str = ""
    problems: tuple[Problem, ...] = ()
    exit_code: int = EXIT_OK
    error_type: type[SupadeployError] | None = None  # how the failure ends a run (errors.ENDINGS)
    schema_version: str | None = None
    pending: int | None = None
    log: str = ""
    warnings: tuple[Problem, ...] = ()

    @property
    def applied_version(self) -> str | None:
        return self.applied[-1] if self.applied else None


@dataclass(frozen=True)
class RolloutOutcome:
    results: tuple[ProjectResult, ...]
    stopped_by: ProjectResult | None = None  # the first project that failed
    stop_reason: str | None = None  # why projects were left unstarted

    @property
    def exit_code(self) -> int:
        """The most serious exit among the projects: interrupted > unknown > internal > bad input > failed."""
        codes = {r.exit_code for r in self.results}
        if self.stop_reason and any(r.result is Result.NOT_STARTED for r in self.results):
            codes.add(EXIT_INTERRUPTED if self.stop_reason.startswith("interrupted") else EXIT_FAILED)
        for code in (EXIT_INTERRUPTED, EXIT_UNKNOWN, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_FAILED):
            if code in codes:
                return code
        return EXIT_OK

    def count(self, result: Result) -> int:
        return sum(1 for r in self.results if r.result is result)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.results)


class Hooks(Protocol):
    """Progress for the reporting layer; calls are serialised, so a hook need not be thread-safe."""

    def started(self, job: ProjectJob) -> None: ...

    def finished(self, result: ProjectResult) -> None: ...


class NoHooks:
    def started(self, job: ProjectJob) -> None:
        pass

    def finished(self, result: ProjectResult) -> None:
        pass


T = TypeVar("T")
INTERRUPTED = "interrupted"
Deploy = Callable[[ProjectJob], ProjectOutcome]
Gate = Callable[[ProjectJob], "str | None"]  # a reason not to start this project, or None


@dataclass
class _Shared:
    """State the workers of one rollout share; guarded by `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    hooks_lock: threading.Lock = field(default_factory=threading.Lock)
    stop_reason: str | None = None
    stopped_by: ProjectResult | None = None
    results: dict[int, ProjectResult] = field(default_factory=dict)


class Rollout:
    """One run over the waves; `cancel()` may be called from any thread (a signal handler, a hook)."""

    def __init__(self, waves: Sequence[ResolvedWave], deploy: Deploy, hooks: Hooks | None = None,
                 gate: Gate | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.waves = tuple(waves)
        self.deploy = deploy
        self.hooks: Hooks = hooks or NoHooks()
        self.gate = gate
        self.clock = clock
        self._shared = _Shared()
        pairs = [(ref, wave.name) for wave in self.waves for ref in wave.refs]
        self._jobs = [ProjectJob(ref, name, i) for i, (ref, name) in enumerate(pairs)]
        self._workers: list[threading.Thread] = []

    @property
    def interrupted(self) -> bool:
        """Ctrl-C or SIGTERM: the running deploys stop before their next transaction, too."""
        with self._shared.lock:
            return self._shared.stop_reason == INTERRUPTED

    def cancel(self, reason: str = "interrupted") -> None:
        """Start no further project; the running ones finish."""
        with self._shared.lock:
            if self._shared.stop_reason is None:
                self._shared.stop_reason = reason

    def run(self) -> RolloutOutcome:
        """Every wave in order; a KeyboardInterrupt stops the starts, waits for the running deploys, returns."""
        offset = 0
        for wave in self.waves:
            jobs = self._jobs[offset:offset + len(wave.refs)]
            offset += len(wave.refs)
            if self._stopped():
                break
            try:
                self._run_wave(wave, jobs)
            except KeyboardInterrupt:
                self.cancel(INTERRUPTED)
                self._run_wave_after_interrupt()
                break
        return self._outcome()

    # -- one wave -------------------------------------------------------------
    def _run_wave(self, wave: ResolvedWave, jobs: list[ProjectJob]) -> None:
        queue = list(reversed(jobs))
        workers = [threading.Thread(target=self._worker, args=(queue,), name=f"rollout-{wave.name}-{n}",
                                    daemon=True)
                   for n in range(min(wave.max_parallel, len(jobs)))]
        self._workers = workers
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _run_wave_after_interrupt(self) -> None:
        """The running deploys end on their own; a second Ctrl-C here leaves them (the process is exiting)."""
        for worker in self._workers:
            if worker.ident is not None:  # the interrupt may have come before every worker was started
                worker.join()

    def _worker(self, queue: list[ProjectJob]) -> None:
        while True:
            with self._shared.lock:
                if self._shared.stop_reason is not None or not queue:
                    return
                job = queue.pop()
            reason = self.gate(job) if self.gate is not None else None
            if reason is not None:
                self.cancel(reason)
                return
            self._hook(self.hooks.started, job)
            result = self._deploy(job)
            with self._shared.lock:
                self._shared.results[job.index] = result
                if not result.result.ok and self._shared.stopped_by is None:
                    self._shared.stopped_by = result
                    if self._shared.stop_reason is None:
                        self._shared.stop_reason = f"{job.ref} ({job.wave}) {result.result.value}"
            self._hook(self.hooks.finished, result)

    def _deploy(self, job: ProjectJob) -> ProjectResult:
        began = self.clock()
        try:
            outcome = self.deploy(job)
        except SupadeployError as exc:
            outcome = ProjectOutcome(error=exc)
        except Exception as exc:  # noqa: BLE001 - a bug: the project's result says so, the other projects are not lost
            return ProjectResult(job.ref, job.wave, Result.ERROR, seconds=self.clock() - began,
                                 message=f"internal error in supadeploy ({type(exc).__name__}); please report it",
                                 exit_code=EXIT_INTERNAL, error_type=InternalError)
        seconds = self.clock() - began
        error = outcome.error
        if error is None:
            result = Result.DEPLOYED if outcome.applied else Result.UP_TO_DATE
            return self._result(job, result, outcome, seconds, outcome.message)
        result = (Result.UNKNOWN if isinstance(error, OutcomeUnknownError) else
                  Result.INTERRUPTED if isinstance(error, Interrupted) else Result.FAILED)
        return replace(self._result(job, result, outcome, seconds, outcome.message or str(error)),
                       problems=tuple(error.problems), exit_code=ending(error).exit_code, error_type=type(error))

    @staticmethod
    def _result(job: ProjectJob, result: Result, outcome: ProjectOutcome, seconds: float,
                message: str) -> ProjectResult:
        return ProjectResult(job.ref, job.wave, result, outcome.applied, seconds, outcome.requests, message,
                             schema_version=outcome.schema_version, pending=outcome.pending, log=outcome.log,
                             warnings=outcome.warnings)

    def _hook(self, call: Callable[[T], None], arg: T) -> None:
        with self._shared.hooks_lock:
            call(arg)

    def _stopped(self) -> bool:
        with self._shared.lock:
            return self._shared.stop_reason is not None

    # -- the results ------------------------------------------------------------
    def _outcome(self) -> RolloutOutcome:
        shared = self._shared
        results: list[ProjectResult] = []
        offset = 0
        for wave in self.waves:
            for job in self._jobs[offset:offset + len(wave.refs)]:
                results.append(shared.results.get(job.index) or ProjectResult(
                    job.ref, job.wave, Result.NOT_STARTED, message=f"not started: {shared.stop_reason}"))
            offset += len(wave.refs)
            results.extend(ProjectResult(s.ref, wave.name, Result.SKIPPED, message=s.reason) for s in wave.skipped)
        return RolloutOutcome(tuple(results), shared.stopped_by, shared.stop_reason)


def run_rollout(waves: Iterable[ResolvedWave], deploy: Deploy, hooks: Hooks | None = None,
                gate: Gate | None = None) -> RolloutOutcome:
    """Deploy every wave's projects with `deploy`, following the stop rules."""
    return Rollout(list(waves), deploy, hooks, gate).run()


__all__ = ["Deploy", "Gate", "Hooks", "NoHooks", "ProjectJob", "ProjectOutcome", "ProjectResult", "Result",
           "Rollout", "RolloutOutcome", "run_rollout"]
