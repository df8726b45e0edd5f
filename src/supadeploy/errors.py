"""One exception hierarchy, and `outcome`: the one place a run's status and exit code are decided."""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from .model import Problem, RunStatus

EXIT_OK = 0
EXIT_FAILED = 1  # a migration or a check failed
EXIT_BAD_INPUT = 2  # bad input or configuration
EXIT_INTERNAL = 3  # a bug in supadeploy: reported, never a traceback with secrets
EXIT_UNKNOWN = 4  # a transaction was sent and its outcome is unknown: `supadeploy status` settles it
EXIT_INTERRUPTED = 130  # SIGINT / SIGTERM


class SupadeployError(Exception):
    """Base of every error the tool reports on purpose."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [Problem(message)]


class ConfigError(SupadeployError):
    """Flags, credentials or the target are wrong: nothing was changed."""


class MigrationFileError(SupadeployError):
    """A migration file cannot be used as it is (name, encoding, content)."""


class AssertionFileError(SupadeployError):
    """An assertion file is malformed."""


class PlanRefused(SupadeployError):
    """History and files disagree (drift, missing local files, out of order)."""


class LockRiskOverLimit(PlanRefused):
    """A lock-safety finding at or above --max-lock-risk, not acknowledged in its file."""


class AdvisorsOverLimit(SupadeployError):
    """A new advisor finding (Supabase's lints) at or above --max-advisor-level, not acknowledged in its file."""


class DataApiNotExposed(SupadeployError):
    """After a deploy, the Data API (PostgREST) did not serve what the deploy created within the bound."""


class MigrationFailed(SupadeployError):
    """PostgreSQL rejected a migration; its transaction was rolled back."""


class AssertionsFailed(SupadeployError):
    """Post-deploy assertions failed."""


class TargetError(SupadeployError):
    """The target could not be reached or answered unexpectedly."""


class Cancelled(SupadeployError):
    """The user said no at the confirmation prompt: nothing was applied."""


class NotAvailableLocally(SupadeployError):
    """The local replay lacks something hosted projects have (an extension without binaries)."""


class DriftFound(SupadeployError):
    """`supadeploy drift`: the database differs from a replay of its applied migrations (findings say how)."""


class OutcomeUnknown(TargetError):
    """A request may or may not have committed (connection lost after sending)."""


class OutcomeUnknownError(SupadeployError):
    """A deploy transaction was sent and whether it committed could not be settled."""


class Interrupted(SupadeployError):
    """SIGINT or SIGTERM; the message says what was in flight and what became of it."""


class RolloutFailed(SupadeployError):
    """A project of a fleet rollout failed: its wave started no further project, no later wave started."""


class InternalError(SupadeployError):
    """A bug in supadeploy caught where it happened (a rollout's project), so the rest could be reported."""


@dataclass(frozen=True)
class Ending:
    """How a run ended: its status, exit code, what to report, and (a bug) the traceback for SUPADEPLOY_DEBUG."""

    status: RunStatus
    exit_code: int
    problems: list[Problem]
    debug: str | None = None


# How each kind of error ends a run; a kind not listed ends as its nearest listed ancestor.
ENDINGS: dict[type[SupadeployError], tuple[RunStatus, int]] = {
    SupadeployError: (RunStatus.FAILED, EXIT_FAILED),
    ConfigError: (RunStatus.ERROR, EXIT_BAD_INPUT),
    MigrationFileError: (RunStatus.ERROR, EXIT_BAD_INPUT),
    AssertionFileError: (RunStatus.ERROR, EXIT_BAD_INPUT),
    PlanRefused: (RunStatus.REFUSED, EXIT_FAILED),
    LockRiskOverLimit: (RunStatus.LOCK_RISK, EXIT_FAILED),
    AdvisorsOverLimit: (RunStatus.ADVISOR, EXIT_FAILED),
    DataApiNotExposed: (RunStatus.FAILED, EXIT_FAILED),
    Cancelled: (RunStatus.CANCELLED, EXIT_FAILED),
    NotAvailableLocally: (RunStatus.UNSUPPORTED, EXIT_FAILED),
    DriftFound: (RunStatus.DRIFT, EXIT_FAILED),
    OutcomeUnknownError: (RunStatus.UNKNOWN, EXIT_UNKNOWN),
    Interrupted: (RunStatus.INTERRUPTED, EXIT_INTERRUPTED),
    InternalError: (RunStatus.ERROR, EXIT_INTERNAL),
}


def outcome(exc: BaseException) -> Ending:
    """Every way a run can end, mapped to its status and exit code: the one place this is decided."""
    if isinstance(exc, SupadeployError):
        status, code = next(ENDINGS[k] for k in type(exc).__mro__ if k in ENDINGS)
        return Ending(status, code, exc.problems)
    if isinstance(exc, KeyboardInterrupt):
        return Ending(RunStatus.INTERRUPTED, EXIT_INTERRUPTED, [Problem(
            "interrupted; no transaction was in flight (migrations reported as applied are committed)")])
    return Ending(RunStatus.ERROR, EXIT_INTERNAL,
                  [Problem(f"internal error: {type(exc).__name__}: {exc}", title="supadeploy internal error")],
                  "".join(traceback.format_exception(exc)))
