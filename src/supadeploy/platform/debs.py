"""Unpack a Debian package's files without installing it (no root, no dpkg database touched).

`dpkg-deb -x` where it exists (Debian, Ubuntu: the runner and the image); elsewhere the same
by hand: a .deb is an `ar` archive whose `data.tar.*` member holds the files.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from ..errors import TargetError


def unpack(deb: Path, destination: Path) -> Path:
    """The package's files under `destination` (as they would be under /)."""
    destination.mkdir(parents=True, exist_ok=True)
    if shutil.which("dpkg-deb"):
        result = subprocess.run(["dpkg-deb", "-x", str(deb), str(destination)], capture_output=True, text=True,
                                check=False)
        if result.returncode != 0:
            raise TargetError(f"dpkg-deb could not unpack {deb.name}: {result.stderr.strip()}")
        return destination
    _unpack_by_hand(deb, destination)
    return destination


def _unpack_by_hand(deb: Path, destination: Path) -> None:
    data = deb.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise TargetError(f"{deb.name} is not a Debian package")
    at = 8
    while at + 60 <= len(data):
        name = data[at:at + 16].decode().strip().rstrip("/")
        size = int(data[at + 48:at + 58].decode().strip())
        body = data[at + 60:at + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as archive:
                extract(archive, destination)
            return
        at += 60 + size + (size & 1)
    raise TargetError(f"{deb.name} has no data member")


def extract(archive: tarfile.TarFile, destination: Path) -> None:
    """Every regular file, folder and in-tree link of `archive`, nothing outside `destination`."""
    if hasattr(tarfile, "data_filter"):
        archive.extractall(destination, filter="data")
        return
    for member in archive.getmembers():  # a Python without extraction filters: check by hand
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir() or member.issym()):
            continue
        if member.issym() and (member.linkname.startswith("/") or ".." in Path(member.linkname).parts):
            continue
        archive.extract(member, destination)


def unpack_tarball(path: Path, destination: Path) -> Path:
    with tarfile.open(path, mode="r:*") as archive:
        extract(archive, destination)
    return destination
