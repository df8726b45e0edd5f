"""The real Supabase CLI (npm `supabase`, installed by scripts/test.sh) as an oracle.

`db push --db-url` and `migration list --db-url` work offline against any
PostgreSQL, so tests can deploy the same files with both tools and compare
the resulting catalogs and history rows.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / ".cache" / "npm" / "node_modules" / ".bin" / "supabase"
VERSION = "3.1.0"


def available() -> bool:
    return CLI.exists()


def _project(tmp: Path, files: dict[str, str]) -> Path:
    project = tmp / "cli-project"
    migrations = project / "supabase" / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    for old in migrations.glob("*.sql"):
        old.unlink()
    for name, text in files.items():
        (migrations / name).write_bytes(text.encode())
    return project


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    if not available():
        raise AssertionError(f"the Supabase CLI is not installed at {CLI}: run scripts/test.sh")
    env = {**os.environ, "SUPABASE_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1", "NO_COLOR": "1"}
    return subprocess.run([str(CLI), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL, check=False)


def push(dsn: str, files: dict[str, str], tmp: Path) -> subprocess.CompletedProcess[str]:
    """`supabase db push --db-url` of these files (name → text), as a user would."""
    return run(["db", "push", "--db-url", dsn, "--yes", "--include-all"], _project(tmp, files))


def migration_list(dsn: str, files: dict[str, str], tmp: Path) -> subprocess.CompletedProcess[str]:
    return run(["migration", "list", "--db-url", dsn], _project(tmp, files))
