"""The replay's catalog, kept between runs on this machine: the same migrations replayed on the same
PostgreSQL build, set up the same way and read with the same query, always give the same catalog, so a
second `drift` (or the check before the next deploy) costs the two requests to the target and no replay.

The key is a hash of everything the catalog is a function of: every replayed file's exact text and version,
the catalog request (with its scope), the PostgreSQL release of the major, the platform's code, set-up SQL
and extension stand-ins, whether the target has the platform's default privileges, and
supadeploy's version. Only catalogs of replays that succeeded are kept; a few dozen at most (the oldest go).
Where the cache cannot be written (a read-only image), nothing is kept and nothing fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from ... import __version__
from ...engine.migrations import Migration
from ...platform.binaries import RELEASES, cache_root

KEEP = 24  # catalogs kept; the least recently used go first
_PLATFORM_DATA = (".", "sql", "extensions")  # its code (bootstrap.py …), its set-up SQL, its stand-ins


def key(major: int, default_privileges: bool, catalog_request: str, migrations: Iterable[Migration]) -> str:
    digest = hashlib.sha256()
    for part in (__version__, str(major), RELEASES[major][0], str(default_privileges), _platform_hash(),
                 catalog_request):
        digest.update(part.encode() + b"\0")
    for migration in migrations:
        digest.update(migration.version.encode() + b"\0" + migration.text.encode() + b"\0")
    return digest.hexdigest()


def load(name: str) -> Any | None:
    """The catalog read kept under `name`, or None."""
    path = _folder() / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        os.utime(path)  # recently used
    except (OSError, ValueError):
        return None
    return data


def store(name: str, result: Any) -> None:
    """Keep a catalog read (written whole or not at all), and forget the oldest beyond KEEP."""
    with contextlib.suppress(OSError):
        folder = _folder()
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".catalog-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(result, out, separators=(",", ":"))
        os.replace(temporary, folder / f"{name}.json")
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)


def _folder() -> Path:
    return cache_root() / "drift"


def _platform_hash() -> str:
    """The platform's package data: what makes a fresh database look hosted."""
    digest = hashlib.sha256()
    root = resources.files("supadeploy.platform")
    for folder in _PLATFORM_DATA:
        for item in sorted(root.joinpath(folder).iterdir(), key=lambda i: i.name):
            if item.is_file() and item.name.endswith((".py", ".sql", ".control")):
                digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()
