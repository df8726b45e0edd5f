"""One exception hierarchy; `exit_code` is the only place exit codes are decided."""

from __future__ import annotations

from dataclasses import dataclass


EXIT_OK = 0
EXIT_FAILED = 1  # a migration or a check failed
EXIT_BAD_INPUT = 2  # bad input or configuration
EXIT_INTERNAL = 3  # a bug in supadeploy: reported, never a traceback with secrets
EXIT_UNKNOWN = 4  # a transaction was sent and its outcome is unknown: `supadeploy status` settles it
EXIT_INTERRUPTED = 130  # SIGINT / SIGTERM


@dataclass(frozen=True)
class SqlError:
    """What PostgreSQL said about a failed statement, for people and for `--format json`."""

    sqlstate: str
    message: str
    position: int | None = None  # 1-based character in the statement
    column: int | None = None  # 1-based column in the file line
    source: str | None = None  # the file line the error is on
    detail: str | None = None
    hint: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class Problem:
    """One precise finding, pointing at a file and line where there is one."""

    message: str
    file: str | None = None
    line: int | None = None
    title: str = "supadeploy"
    sql: SqlError | None = None
    kind: str | None = None  # a stable category, e.g. "not-available-locally"

    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class SupadeployError(Exception):
    """Base of every error the tool reports on purpose."""

    exit_code = EXIT_FAILED
    report_status = "failed"

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [Problem(message)]


class ConfigError(SupadeployError):
    """Flags, credentials or the target are wrong: nothing was changed."""

    exit_code = EXIT_BAD_INPUT
    report_status = "error"


class MigrationFileError(SupadeployError):
    """A migration file cannot be used as it is (name, encoding, content)."""

    exit_code = EXIT_BAD_INPUT
    report_status = "error"


class AssertionFileError(SupadeployError):
    """An assertion file is malformed."""

    exit_code = EXIT_BAD_INPUT
    report_status = "error"


class PlanRefused(SupadeployError):
    """History and files disagree (drift, missing local files, out of order)."""

    exit_code = EXIT_FAILED
    report_status = "refused"


class LockRiskOverLimit(PlanRefused):
    """A lock-safety finding at or above --max-lock-risk, not acknowledged in its file."""

    report_status = "lock-risk"


class MigrationFailed(SupadeployError):
    """PostgreSQL rejected a migration; its transaction was rolled back."""

    exit_code = EXIT_FAILED


class AssertionsFailed(SupadeployError):
    """Post-deploy assertions failed."""

    exit_code = EXIT_FAILED


class TargetError(SupadeployError):
    """The target could not be reached or answered unexpectedly."""

    exit_code = EXIT_FAILED


class Cancelled(SupadeployError):
    """The user said no at the confirmation prompt: nothing was applied."""

    exit_code = EXIT_FAILED
    report_status = "cancelled"


class NotAvailableLocally(SupadeployError):
    """The local replay lacks something hosted projects have (an extension without binaries)."""

    exit_code = EXIT_FAILED
    report_status = "unsupported"


class OutcomeUnknown(TargetError):
    """A request may or may not have committed (connection lost after sending)."""


class OutcomeUnknownError(SupadeployError):
    """A deploy transaction was sent and whether it committed could not be settled."""

    exit_code = EXIT_UNKNOWN
    report_status = "unknown"


class Interrupted(SupadeployError):
    """SIGINT or SIGTERM; the message says what was in flight and what became of it."""

    exit_code = EXIT_INTERRUPTED
    report_status = "interrupted"
