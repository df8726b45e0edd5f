"""Durations and sizes as people write and read them: parsed once, printed one way."""

from __future__ import annotations

import re

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$")
MiB = 1024 * 1024
GiB = 1024 * MiB


def duration(value: str) -> str | None:
    """A PostgreSQL duration setting (`10s`, `500ms`, `5min`); a bare number is seconds. None if unreadable."""
    match = _DURATION.match(value)
    return f"{match.group(1)}{match.group(2) or 's'}" if match else None


def seconds(value: str) -> float | None:
    """The same duration in seconds, or None if unreadable."""
    match = _DURATION.match(value)
    return float(match.group(1)) * _UNITS[match.group(2) or "s"] if match else None


def human_size(bytes_: int) -> str:
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if bytes_ >= factor:
            return f"{bytes_ / factor:.1f} {unit}"
    return f"{bytes_} bytes"
