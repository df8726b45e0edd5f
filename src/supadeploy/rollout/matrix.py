"""A wave as a GitHub Actions matrix: shards of its projects, one job each.

`--github-matrix WAVE` prints what a planning job puts in its outputs; each
matrix job then runs `--shard I/N` and deploys its share. Shards are dealt
round-robin over the wave's order (the file's, or by ref for `all`), so they
are balanced (sizes differ by at most one) and stable (the same wave always
gives the same shards). A matrix job resolves the wave again when it starts; if
the projects changed in between (a project created or deleted), the shards
would no longer cover the wave exactly once, so the matrix carries a digest of
the wave's projects and a shard refuses to run when it differs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any

from ..errors import ConfigError
from .projects import ResolvedWave

MAX_SHARDS = 256  # GitHub's limit of jobs per matrix
SHARD_RE = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` → (I, N), 1 ≤ I ≤ N ≤ 256."""
    match = SHARD_RE.match(text or "")
    if not match:
        raise ConfigError(f"--shard {text!r}: expected I/N, e.g. 2/4 for the second of four shards")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise ConfigError(f"--shard {text}: the number of shards must be from 1 to {MAX_SHARDS}")
    if not 1 <= index <= count:
        raise ConfigError(f"--shard {text}: the shard must be from 1 to {count}")
    return index, count


def shard_of(refs: tuple[str, ...], index: int, count: int) -> tuple[str, ...]:
    """Shard `index` of `count` (1-based): every count-th project from position index-1."""
    return refs[index - 1::count]


def digest(refs: tuple[str, ...]) -> str:
    """A short fingerprint of a wave's projects, in order."""
    return hashlib.sha256("\n".join(refs).encode()).hexdigest()[:16]


def shard_count(wave: ResolvedWave, shards: int | None = None) -> int:
    """As many shards as the wave runs at once (max_parallel), never more than projects, at most 256."""
    wanted = shards if shards is not None else wave.max_parallel
    if wanted < 1:
        raise ConfigError(f"--shards {wanted}: at least 1")
    return min(wanted, len(wave.refs), MAX_SHARDS)


def github_matrix(wave: ResolvedWave, shards: int | None = None) -> dict[str, Any]:
    """What `--github-matrix WAVE` prints: the matrix (`include`), its max-parallel, the digest.

    A wave without projects has an empty `include` and `shards: 0`: GitHub
    refuses an empty matrix, so the workflow skips the wave's job on it.
    """
    count = shard_count(wave, shards) if wave.refs else 0
    fingerprint = digest(wave.refs)
    include = []
    for index in range(1, count + 1):
        refs = shard_of(wave.refs, index, count)
        include.append({"wave": wave.name, "shard": f"{index}/{count}", "count": len(refs),
                        "projects": " ".join(refs), "digest": fingerprint})
    return {"wave": wave.name, "projects": len(wave.refs), "skipped": len(wave.skipped), "shards": count,
            "max_parallel": max(1, min(wave.max_parallel, count)), "digest": fingerprint,
            "matrix": {"include": include}}


def select_shard(wave: ResolvedWave, shard: str, expected_digest: str | None = None) -> ResolvedWave:
    """The wave cut down to one shard's projects; skipped projects are reported by shard 1 only."""
    index, count = parse_shard(shard)
    if expected_digest is not None and expected_digest != digest(wave.refs):
        raise ConfigError(f"the projects of wave {wave.name!r} changed since its matrix was computed "
                          f"(digest {digest(wave.refs)}, the matrix has {expected_digest}): a project was created, "
                          "deleted or renamed in between; run the rollout again so the shards cover the wave "
                          "exactly once")
    if count > max(1, len(wave.refs)):
        raise ConfigError(f"--shard {shard}: wave {wave.name!r} has {len(wave.refs)} project(s), fewer than "
                          f"{count} shards")
    return replace(wave, refs=shard_of(wave.refs, index, count), skipped=wave.skipped if index == 1 else ())


__all__ = ["MAX_SHARDS", "digest", "github_matrix", "parse_shard", "select_shard", "shard_count", "shard_of"]
