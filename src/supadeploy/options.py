"""What a run was asked to do, parsed once at the edge (cli.py); nothing past here sees argparse."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .targets import TargetSettings

COMMANDS = ("plan", "deploy", "verify", "status", "lint")


@dataclass(frozen=True)
class Output:
    format: str = "text"  # text | json
    report_path: Path | None = None
    junit_path: Path | None = None
    comment_path: Path | None = None  # a pull-request comment (Markdown) is written here
    color: bool | None = None  # None: on a terminal, unless NO_COLOR


@dataclass(frozen=True)
class Options:
    command: str
    target: TargetSettings
    root: Path
    migrations_dir: Path | None = None  # None: migrations/, else supabase/migrations/
    assertions: tuple[Path, ...] = ()  # files and folders; none: the conventional folder if present
    no_assertions: bool = False
    tx_mode: str = "file"
    gate: bool | None = None  # None: with --tx-mode all (and in a dry run)
    dry_run: bool | None = None  # None: `plan` with credentials dry-runs
    include_all: bool = False
    allow_drift: bool = False
    target_version: str | None = None
    lock_timeout: str | None = None  # None: 10s, 2s in a dry run
    statement_timeout: str = "5min"
    lock_wait: str | None = None  # None: 30s, 5s in a dry run
    fail_on_warnings: bool = False
    yes: bool = False  # never ask before deploying
    max_lock_risk: str = "error"  # lock-safety findings at or above this fail the run (note|warning|error|none)
    output: Output = field(default_factory=Output)
