"""squawk's static rules (PyPI `squawk-cli`, pinned), mapped to supadeploy's findings.

squawk reads the migration files as text, so it sees what a replay of an empty
database cannot (a type change on a table that will be big in production) and
what a trace cannot measure. It runs with the target's PostgreSQL major and
knows that supadeploy wraps each file in a transaction. Rules about style or
about settings supadeploy takes care of itself (timeouts) are left out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from ..errors import ConfigError
from ..paths import temp_root
from . import TRACE_COVERS, LockFinding, Severity

# Style, or handled by supadeploy itself: not lock safety.
EXCLUDED = ("require-lock-timeout", "require-statement-timeout", "prefer-bigint-over-int", "prefer-bigint-over-smallint",
            "prefer-robust-stmts", "prefer-text-field", "prefer-identity", "prefer-timestamptz", "ban-char-field",
            "transaction-nesting", "ban-concurrent-index-creation-in-transaction")
# What blocks reads or writes on an existing table: a warning even without its size.
BLOCKING = {"adding-field-with-default", "adding-foreign-key-constraint", "adding-not-nullable-field",
            "adding-serial-primary-key-field", "changing-column-type", "constraint-missing-not-valid",
            "disallowed-unique-constraint", "require-concurrent-index-creation", "require-concurrent-index-deletion",
            "setting-not-nullable-field", "adding-required-field", "adding-primary-key-constraint"}


def covered(rule: str) -> bool:
    """Whether the trace measures what this rule reads from the text (see locks.TRACE_COVERS)."""
    return rule in TRACE_COVERS


def binary() -> str:
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "squawk"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("squawk")
    if found is None:
        raise ConfigError("squawk is not installed (pip install squawk-cli); it comes with supadeploy's dependencies")
    return found


def run(files: dict[str, str], major: int) -> list[LockFinding]:
    """squawk's findings for these files (shown name → text), at their 1-based line.

    The texts are copied under plain names first: squawk expands glob characters in paths, and a
    file's name is the author's choice.
    """
    if not files:
        return []
    with tempfile.TemporaryDirectory(prefix="supadeploy-squawk-", dir=temp_root()) as folder:
        names = {}
        for number, (shown, text) in enumerate(files.items()):
            path = Path(folder) / f"{number:06d}.sql"
            path.write_text(text, encoding="utf-8")
            names[str(path)] = shown
        done = subprocess.run([binary(), "--reporter", "json", f"--pg-version={major}.0", "--assume-in-transaction",
                               f"--exclude={','.join(EXCLUDED)}", *names],
                              capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    if done.returncode not in (0, 1) or not done.stdout.strip():  # 1: violations found
        raise ConfigError(f"squawk failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[:300]}")
    try:
        entries = json.loads(done.stdout)
    except ValueError:
        raise ConfigError(f"squawk answered what is not JSON: {done.stdout[:200]}") from None
    findings = []
    for entry in entries:
        rule = entry["rule_name"]
        if rule == "syntax-error":  # squawk's own parser; PostgreSQL's (pglast) already accepted the file
            continue
        findings.append(LockFinding(
            rule=f"squawk/{rule}", severity=Severity.WARNING if rule in BLOCKING else Severity.NOTE,
            file=names.get(entry["file"], entry["file"]), line=int(entry["line"]) + 1,
            column=int(entry.get("column") or 0), message=entry["message"].rstrip(". "),
            advice=entry.get("help") or "", effect="static"))
    return findings
