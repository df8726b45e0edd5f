"""Pinned downloads for the local platform: fetched once over HTTPS, checked against a pinned digest, cached.

Every artifact the local replay uses (a Debian package, an upstream source tarball from Debian's
archive, a wheel from PyPI) is named here by URL *and* digest: a byte that differs is refused before
anything is unpacked, and a cached copy is checked again before it is reused. While a download runs,
a progress line says what, how much and from where, so a first run never looks hung.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import TargetError

Progress = Callable[[str], None]
DEBIAN = "https://deb.debian.org/debian"
DEBIAN_SECURITY = "https://deb.debian.org/debian-security"
# A progress line at most this often (seconds) while bytes arrive.
PROGRESS_EVERY = 2.0


@dataclass(frozen=True)
class Pinned:
    """One artifact: where it is, what it must hash to, and how big it is (for the progress line)."""

    name: str  # what the progress line calls it
    url: str
    sha256: str
    size: int
    # Other places the same bytes are served from, tried in order when one answers 404 or cannot be
    # reached: a Debian security update moves from debian-security to the main archive at the next
    # point release.
    mirrors: tuple[str, ...] = ()
    # A Debian binary package's suite (bookworm, trixie): when every URL answers 404, its successor is
    # looked up in that suite's signed index (debindex.py).
    suite: str = ""

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1].split("#", 1)[0]


def debian(path: str, sha256: str, size: int, name: str = "", suite: str = "bookworm") -> Pinned:
    """A file of Debian's archive (`pool/main/...`), by its path and the digest its signed index gives.
    A security update (`pool/updates/...`) is also looked for where the next point release puts it;
    a binary package (`.deb`) that has left the archive is replaced by its successor in `suite`."""
    suite = suite if path.endswith(".deb") else ""
    if path.startswith("pool/updates/"):
        return Pinned(name or path.rsplit("/", 1)[1], f"{DEBIAN_SECURITY}/{path}", sha256, size,
                      (f"{DEBIAN}/{path.replace('pool/updates/', 'pool/', 1)}",), suite)
    return Pinned(name or path.rsplit("/", 1)[1], f"{DEBIAN}/{path}", sha256, size, (), suite)


def downloads_dir(cache: Path) -> Path:
    return cache / "downloads"


def fetch(item: Pinned, cache: Path, progress: Progress | None = None) -> Path:
    """The verified file, from the cache or downloaded now (atomically: a partial file is never kept);
    `Gone` when every URL answers 404 (debindex.fetch then looks for a Debian package's successor)."""
    return _fetch(item, cache, progress)


class Gone(TargetError):
    """Every URL of a pinned artifact answered 404."""


def _fetch(item: Pinned, cache: Path, progress: Progress | None) -> Path:
    folder = downloads_dir(cache)
    target = folder / f"{item.sha256[:16]}-{item.filename}"
    if target.exists() and _sha256(target) == item.sha256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=".part-", dir=folder)
    os.close(handle)
    try:
        digest = ""
        for number, url in enumerate((item.url, *item.mirrors)):
            try:
                with open(partial, "wb") as out:
                    digest = stream(url, item.name, item.size, out, progress, "sha256").hexdigest()
                break
            except TargetError:
                if number == len(item.mirrors):
                    raise
        if digest != item.sha256:
            raise TargetError(f"{item.url} does not match its pinned sha256 ({digest} instead of {item.sha256}); "
                              "nothing was unpacked. A mirror or proxy may have changed it")
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def stream(url: str, name: str, size: int, out: BinaryIO, progress: Progress | None,
           algorithm: str) -> hashlib._Hash:
    """Write `url` to `out` with a progress line every few seconds; the digest of what arrived."""
    import httpx  # noqa: PLC0415 - heavy: loaded on first use

    digest = hashlib.new(algorithm)
    received = 0
    last = time.monotonic()
    host = url.split("/")[2]
    if progress:
        progress(f"downloading {name} ({_size(size)}) from {host}")
    client = httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True,
                          verify=ssl.create_default_context(), trust_env=True)
    try:
        with client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise (Gone if response.status_code == 404 else TargetError)(
                    f"could not download {name}: {url} answered {response.status_code}"
                    + (" (the pinned version may have left the archive: a newer supadeploy pins the current one)"
                       if response.status_code == 404 else ""))
            for chunk in response.iter_bytes(1 << 16):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
                if progress and time.monotonic() - last >= PROGRESS_EVERY:
                    last = time.monotonic()
                    share = f"{100 * received // size}%" if size else _size(received)
                    progress(f"downloading {name}: {share} of {_size(size)}")
    except httpx.HTTPError as exc:
        raise TargetError(f"could not download {name} from {url}: {type(exc).__name__}: {exc}") from None
    return digest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1e5 else f"{count / 1e3:.0f} kB"
