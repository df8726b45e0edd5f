"""Paths as supadeploy shows them, and where it may write throwaway files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import ConfigError


def shown_path(path: Path, root: Path | None) -> str:
    """A path as annotations want it: relative to the repository root when inside it."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def temp_root() -> Path:
    """A writable folder for throwaway files: TMPDIR, /tmp, the runner's temp, HOME, the working directory."""
    candidates = [os.environ.get(name) for name in ("SUPADEPLOY_TMPDIR", "TMPDIR", "TEMP", "TMP")]
    candidates += ["/tmp", "/var/tmp", os.environ.get("RUNNER_TEMP"), os.environ.get("HOME"), os.getcwd()]
    for candidate in candidates:
        if not candidate:
            continue
        with contextlib.suppress(OSError):
            probe = Path(tempfile.mkdtemp(prefix=".supadeploy-probe-", dir=candidate))
            probe.rmdir()
            return Path(candidate)
    raise ConfigError("no writable temporary directory for the local database: set TMPDIR to a writable folder "
                      "(with a read-only root filesystem: docker run --tmpfs /tmp)")
