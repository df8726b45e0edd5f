"""One exception hierarchy; `exit_code` is the only place exit codes are decided."""

from __future__ import annotations

from dataclasses import dataclass


EXIT_OK = 0
EXIT_FAILED = 1  # a migration or a check failed
EXIT_BAD_INPUT = 2  # bad input or configuration
EXIT_INTERNAL = 3  # a bug in supadeploy: reported, never a traceback with secrets


@dataclass(frozen=True)
class Problem:
    """One precise finding, pointing at a file and line where there is one."""

    message: str
    file: str | None = None
    line: int | None = None
    title: str = "supadeploy"

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


class MigrationFailed(SupadeployError):
    """PostgreSQL rejected a migration; its transaction was rolled back."""

    exit_code = EXIT_FAILED


class AssertionsFailed(SupadeployError):
    """Post-deploy assertions failed."""

    exit_code = EXIT_FAILED


class TargetError(SupadeployError):
    """The target could not be reached or answered unexpectedly."""

    exit_code = EXIT_FAILED


class OutcomeUnknown(TargetError):
    """A request may or may not have committed (connection lost after sending)."""
