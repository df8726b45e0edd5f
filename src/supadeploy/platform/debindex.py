"""When a pinned Debian package has left the archive: its successor, found through Debian's signed index.

Debian replaces a stable package when it publishes a fix (a PostgreSQL minor release, a security update)
and removes the old file from `pool/` at the next point release, so a pinned URL eventually answers 404.
The successor is then trusted the way apt trusts it: the suite's `InRelease` must carry a valid
signature of Debian's archive keys (checked by `gpgv` against debian-archive-keyring), the
`Packages.xz` named there must match the SHA-256 that signed text gives, and the package must match the
SHA-256 its `Packages` entry gives. Only the same package of the same suite is accepted (the caller
then checks it is still the pinned upstream version where that matters). Without gpgv or the keyring
nothing is trusted and the 404 stands, saying what to install.
"""

from __future__ import annotations

import json
import lzma
import platform as host
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import TargetError
from . import downloads

DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64"}


def fetch(item: downloads.Pinned, cache: Path, progress: downloads.Progress | None = None) -> Path:
    """The verified artifact; a Debian package that has left the archive is replaced by its verified
    successor in the same suite's signed index."""
    try:
        return downloads.fetch(item, cache, progress)
    except downloads.Gone:
        if not item.suite:
            raise
        return downloads.fetch(replacement(item, cache, progress), cache, progress)


def replacement(item: downloads.Pinned, cache: Path, progress: downloads.Progress | None) -> downloads.Pinned:
    """The current version of `item`'s package in its suite, verified through the signed index."""
    known = _recorded(cache).get(item.sha256)
    if known:
        return downloads.Pinned(str(known["name"]), str(known["url"]), str(known["sha256"]), int(str(known["size"])),
                                suite=str(known["suite"]))
    if not item.suite:
        raise TargetError(f"{item.url} is gone and {item.name} names no Debian suite to look it up in")
    if not shutil.which("gpgv") or not DEBIAN_KEYRING.exists():
        raise TargetError(f"the pinned {item.name} has left Debian's archive, and its successor cannot be "
                          "checked here: install gpgv and debian-archive-keyring, or a newer supadeploy")
    if progress:
        progress(f"the pinned {item.name} has left Debian's archive: looking up its successor in "
                 f"Debian's signed index ({item.suite})")
    package = item.filename.split("_", 1)[0]
    found = None
    main = item.url.split("/pool/", 1)[0] if downloads.DEBIAN_SECURITY not in item.url else downloads.DEBIAN
    for archive, suite in ((downloads.DEBIAN_SECURITY, f"{item.suite}-security"), (main, f"{item.suite}-updates"),
                           (main, item.suite)):
        entry = _lookup(archive, suite, package, cache, progress)
        if entry is not None:
            found = downloads.Pinned(f"{item.name} (successor {entry['Version']})", f"{archive}/{entry['Filename']}",
                                     entry["SHA256"], int(entry["Size"]), suite=item.suite)
            break
    if found is None:
        raise TargetError(f"{package} is no longer in Debian's {item.suite}: a newer supadeploy pins its replacement")
    _record(cache, item.sha256, found)
    return found


def _lookup(archive: str, suite: str, package: str, cache: Path,
            progress: downloads.Progress | None) -> dict[str, str] | None:
    """`package`'s entry in `suite`'s main Packages index, every step verified; None when absent."""
    arch = ARCHITECTURES.get(host.machine(), "amd64")
    with tempfile.TemporaryDirectory() as work:
        inrelease = Path(work) / "InRelease"
        try:
            _get(f"{archive}/dists/{suite}/InRelease", inrelease)
        except TargetError:
            return None  # no such suite (there is no -updates or -security of every release)
        signed = Path(work) / "Release"
        checked = subprocess.run(["gpgv", "--keyring", str(DEBIAN_KEYRING), "--output", str(signed), str(inrelease)],
                                 capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise TargetError(f"{archive}/dists/{suite}/InRelease does not carry a valid signature of Debian's "
                              f"archive keys: {checked.stderr.strip()[-300:]}")
        wanted = f"main/binary-{arch}/Packages.xz"
        digest = next((line.split() for line in _section(signed.read_text(), "SHA256")
                       if line.split()[-1:] == [wanted]), None)
        if digest is None:
            return None
        index = downloads.fetch(downloads.Pinned(f"Debian's {suite} package index", f"{archive}/dists/{suite}/{wanted}",
                                                 digest[0], int(digest[1])), cache, progress)
        text = lzma.decompress(index.read_bytes()).decode("utf-8", "replace")
    for stanza in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line.startswith(" "))
        if fields.get("Package") == package and {"Filename", "SHA256", "Size", "Version"} <= fields.keys():
            return fields
    return None


def _section(release: str, name: str) -> list[str]:
    lines = release.splitlines()
    if f"{name}:" not in lines:
        return []
    start = lines.index(f"{name}:") + 1
    block = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        block.append(line.strip())
    return block


def _get(url: str, target: Path) -> None:
    with open(target, "wb") as out:
        downloads.stream(url, url.rsplit("/", 3)[-3] + " release file", 0, out, None, "sha256")


def _recorded(cache: Path) -> dict[str, dict[str, object]]:
    path = downloads.downloads_dir(cache) / "successors.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _record(cache: Path, pinned: str, found: downloads.Pinned) -> None:
    data = _recorded(cache)
    data[pinned] = {"name": found.name, "url": found.url, "sha256": found.sha256, "size": found.size,
                    "suite": found.suite}
    path = downloads.downloads_dir(cache) / "successors.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
