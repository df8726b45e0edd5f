"""`supadeploy platform prepare [MAJOR...]`: everything the local replay needs, ahead of time.

Downloads and verifies PostgreSQL for each major, fetches or builds its real extensions into the
user's cache (retrying any that failed before, e.g. once a compiler is installed), and installs the
stand-ins. The image and CI run it at build time so a replay downloads nothing; a user may run it
once after `pip install`, or let the first replay do the same.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import catalog, provision
from .binaries import SUPPORTED_MAJORS, Binaries, cache_root, ensure, from_system

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Prepared:
    """One prepared major: its tree and the verdict for every extension the catalog knows for it."""

    binaries: Binaries
    real: tuple[str, ...]
    missing: tuple[catalog.Verdict, ...]

    def summary(self) -> str:
        origin = "installed" if self.binaries.source == "debian" else self.binaries.version
        line = (f"PostgreSQL {self.binaries.major} ({origin}): {self.binaries.root}; real: "
                f"{', '.join(self.real) or 'none'}; stand-ins: {', '.join(catalog.stand_ins_for(self.binaries.major))}")
        for verdict in self.missing:
            line += f"\n  {verdict.name}: {verdict.kind.value}" + (f" ({verdict.detail})" if verdict.detail else "")
        return line


def prepare(majors: list[int] | None = None, progress: Progress | None = None,
            system: list[int] | None = None) -> list[Prepared]:
    """Prepare each major (default: all supported), and installed Debian/Ubuntu majors given in `system`."""
    done = [_describe(ensure(major, progress, retry=True)) for major in (majors or list(SUPPORTED_MAJORS))]
    done += [_describe(from_system(major)) for major in system or []]
    saved = link_duplicates(cache_root() / "postgres")
    if progress and saved:
        progress(f"{saved / 1e6:.0f} MB of identical libraries shared between the majors' trees")
    return done


def link_duplicates(folder: Path) -> int:
    """Hard-link identical shared libraries across the prepared trees (npm's 15, 17 and 18 bundle the
    same ICU, OpenSSL and libxml2: 37 MB a pair); the bytes saved. Only libraries: nothing rewrites them
    in place (provision.install replaces a file by unlinking it first)."""
    seen: dict[tuple[int, str], Path] = {}
    saved = 0
    for path in sorted(folder.glob("*/lib/*.so*")) + sorted(folder.glob("*/private-lib/*.so*")):
        if path.is_symlink() or not path.is_file():
            continue
        key = (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
        first = seen.setdefault(key, path)
        if first == path or os.path.samefile(first, path):
            continue
        if not os.access(path.parent, os.W_OK):
            continue
        staged = path.with_name(path.name + ".link")
        try:
            os.link(first, staged)
            os.replace(staged, path)
        except OSError:  # a filesystem without hard links: keep the copies
            staged.unlink(missing_ok=True)
            continue
        saved += key[0]
    return saved


def _describe(found: Binaries) -> Prepared:
    wanted = [recipe.extension for recipe in catalog.recipes_for(found.major)]
    real = tuple(name for name in wanted if found.has_extension(name))
    missing = tuple(provision.explain_missing(cache_root(), name, found.major) for name in wanted if name not in real)
    return Prepared(found, real, missing)
