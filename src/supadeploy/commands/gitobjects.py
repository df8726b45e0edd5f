"""Just enough of git, read from the checkout's files, to say which migration files a pull request changes.

The action's image has no git program (with perl it would add ~95 MB), and the question is small: which
files of one folder differ from the base commit's. This reads what actions/checkout leaves in `.git`:
HEAD and refs (loose and packed), commits and trees, from loose objects or packs (index version 2,
deltas by offset or by reference), `shallow` boundaries. Every object read is checked against its SHA-1,
so a reading mistake is an error, never a wrong answer. SHA-256 repositories and reftable refs are not
read: `GitError`, and the caller says it could not compare.
"""

from __future__ import annotations

import hashlib
import mmap
import zlib
from collections import deque
from pathlib import Path

_TYPES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
_OFS_DELTA, _REF_DELTA = 6, 7
_MAX_WALK = 200_000  # commits visited looking for a merge base


class GitError(Exception):
    """The repository cannot be read this way (or an object is missing from a shallow checkout)."""


def blob_id(data: bytes) -> str:
    """The object id git gives a file's bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class _Pack:
    """One pack file and its version 2 index."""

    def __init__(self, index: Path) -> None:
        self.index = index.read_bytes()
        if self.index[:8] != b"\377tOc\0\0\0\2":
            raise GitError(f"{index.name}: not a version 2 pack index")
        self.count = int.from_bytes(self.index[8 + 255 * 4:8 + 256 * 4], "big")
        with index.with_suffix(".pack").open("rb") as handle:
            self.data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def offset(self, sha: bytes) -> int | None:
        first = sha[0]
        low = int.from_bytes(self.index[8 + (first - 1) * 4:8 + first * 4], "big") if first else 0
        high = int.from_bytes(self.index[8 + first * 4:12 + first * 4], "big")
        names = 8 + 256 * 4
        while low < high:
            middle = (low + high) // 2
            found = self.index[names + middle * 20:names + middle * 20 + 20]
            if found == sha:
                offsets = names + self.count * 24
                value = int.from_bytes(self.index[offsets + middle * 4:offsets + middle * 4 + 4], "big")
                if value & 0x80000000:
                    large = offsets + self.count * 4 + (value & 0x7FFFFFFF) * 8
                    value = int.from_bytes(self.index[large:large + 8], "big")
                return value
            if found < sha:
                low = middle + 1
            else:
                high = middle
        return None


def _inflate(data: mmap.mmap, start: int) -> bytes:
    decompressor = zlib.decompressobj()
    out, position = [], start
    while not decompressor.eof:
        chunk = data[position:position + 65536]
        if not chunk:
            raise GitError("a pack ends inside an object")
        out.append(decompressor.decompress(chunk))
        position += len(chunk)
    return b"".join(out)


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


def _apply_delta(base: bytes, delta: bytes) -> bytes:
    source, position = _varint(delta, 0)
    target, position = _varint(delta, position)
    if source != len(base):
        raise GitError("a delta does not fit its base")
    out = bytearray()
    while position < len(delta):
        command = delta[position]
        position += 1
        if command & 0x80:  # copy from the base: offset and size in the bytes the low bits announce
            offset = size = 0
            for bit in range(4):
                if command & (1 << bit):
                    offset |= delta[position] << (8 * bit)
                    position += 1
            for bit in range(3):
                if command & (1 << (4 + bit)):
                    size |= delta[position] << (8 * bit)
                    position += 1
            out += base[offset:offset + (size or 0x10000)]
        elif command:  # insert the next `command` bytes
            out += delta[position:position + command]
            position += command
        else:
            raise GitError("a delta has a reserved instruction")
    if len(out) != target:
        raise GitError("a delta made an object of the wrong size")
    return bytes(out)


class Repository:
    """A git checkout's objects and refs, read only."""

    def __init__(self, top: Path, git_dir: Path, common: Path) -> None:
        self.top, self.git_dir, self.common = top, git_dir, common
        config = common / "config"
        if config.is_file() and "objectformat = sha256" in config.read_text(errors="replace").lower():
            raise GitError("a SHA-256 repository")
        if (common / "reftable").exists():
            raise GitError("reftable refs")
        self._packs = [_Pack(index) for index in sorted((common / "objects" / "pack").glob("*.idx"))]
        shallow = common / "shallow"
        self.shallow = set(shallow.read_text().split()) if shallow.is_file() else set()

    @classmethod
    def find(cls, start: Path) -> Repository | None:
        """The checkout holding `start` (a `.git` folder, or a worktree's `.git` file), if any."""
        for folder in (start, *start.parents):
            dot = folder / ".git"
            if dot.is_dir():
                return cls(folder, dot, dot)
            if dot.is_file():
                text = dot.read_text(errors="replace").strip()
                if not text.startswith("gitdir:"):
                    raise GitError(f"{dot}: not a gitdir file")
                git_dir = (folder / text.removeprefix("gitdir:").strip()).resolve()
                common_file = git_dir / "commondir"
                common = (git_dir / common_file.read_text().strip()).resolve() if common_file.is_file() else git_dir
                return cls(folder, git_dir, common)
        return None

    # -- refs ------------------------------------------------------------------------------------------
    def _ref(self, name: str, depth: int = 0) -> str | None:
        if depth > 5:
            raise GitError(f"{name}: symbolic refs loop")
        for folder in (self.git_dir, self.common):
            path = folder / name
            if path.is_file():
                text = path.read_text().strip()
                return self._ref(text[5:].strip(), depth + 1) if text.startswith("ref:") else text
        packed = self.common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                parts = line.split(" ", 1)
                if len(parts) == 2 and parts[1] == name and not line.startswith(("#", "^")):
                    return parts[0]
        return None

    def resolve(self, name: str) -> str | None:
        """A commit id for HEAD, a branch, `origin/<branch>`, a full or abbreviated-free object id, with
        `^1`/`^2` for a parent; None when it is not in the checkout."""
        base, caret, parent = name.partition("^")
        if len(base) == 40 and all(c in "0123456789abcdef" for c in base):
            commit: str | None = base if self.has(base) else None
        elif base == "HEAD":
            commit = self._ref("HEAD")
        else:
            commit = next((found for ref in (f"refs/heads/{base}", f"refs/remotes/{base}", f"refs/tags/{base}",
                                             base) if (found := self._ref(ref))), None)
        if commit is None or not caret:
            return commit
        parents = self.parents(commit)
        index = int(parent or "1") - 1
        return parents[index] if 0 <= index < len(parents) else None

    # -- objects ---------------------------------------------------------------------------------------
    def has(self, sha: str) -> bool:
        try:
            self.read(sha)
        except GitError:
            return False
        return True

    def read(self, sha: str) -> tuple[str, bytes]:
        """An object's type and content, checked against its id."""
        kind, data = self._raw(sha)
        header = f"{kind} {len(data)}\0".encode()
        if hashlib.sha1(header + data, usedforsecurity=False).hexdigest() != sha:
            raise GitError(f"object {sha[:12]} does not match its id")
        return kind, data

    def _raw(self, sha: str) -> tuple[str, bytes]:
        loose = self.common / "objects" / sha[:2] / sha[2:]
        if loose.is_file():
            raw = zlib.decompress(loose.read_bytes())
            header, _, data = raw.partition(b"\0")
            return header.split(b" ")[0].decode(), data
        binary = bytes.fromhex(sha)
        for pack in self._packs:
            offset = pack.offset(binary)
            if offset is not None:
                return self._unpack(pack, offset)
        raise GitError(f"object {sha[:12]} is not in the checkout")

    def _unpack(self, pack: _Pack, offset: int) -> tuple[str, bytes]:
        data = pack.data
        byte = data[offset]
        kind = (byte >> 4) & 7
        position = offset + 1
        while byte & 0x80:
            byte = data[position]
            position += 1
        if kind in _TYPES:
            return _TYPES[kind], _inflate(data, position)
        if kind == _OFS_DELTA:
            byte = data[position]
            position += 1
            distance = byte & 0x7F
            while byte & 0x80:
                byte = data[position]
                position += 1
                distance = ((distance + 1) << 7) | (byte & 0x7F)
            base_kind, base = self._unpack(pack, offset - distance)
        elif kind == _REF_DELTA:
            base_kind, base = self._raw(bytes(data[position:position + 20]).hex())
            position += 20
        else:
            raise GitError(f"unknown pack object type {kind}")
        return base_kind, _apply_delta(base, _inflate(data, position))

    def _commit(self, sha: str) -> tuple[str, list[str]]:
        kind, data = self.read(sha)
        if kind != "commit":
            raise GitError(f"{sha[:12]} is a {kind}, not a commit")
        tree, parents = "", []
        for line in data.split(b"\n\n", 1)[0].decode(errors="replace").splitlines():
            if line.startswith("tree "):
                tree = line[5:]
            elif line.startswith("parent "):
                parents.append(line[7:])
        return tree, parents

    def parents(self, commit: str) -> list[str]:
        """A commit's parents; none past a shallow checkout's boundary."""
        return [] if commit in self.shallow else self._commit(commit)[1]

    def tree_entries(self, tree: str) -> dict[str, tuple[str, str]]:
        """name → (mode, id) of a tree object."""
        kind, data = self.read(tree)
        if kind != "tree":
            raise GitError(f"{tree[:12]} is a {kind}, not a tree")
        entries, position = {}, 0
        while position < len(data):
            space = data.index(b" ", position)
            nul = data.index(b"\0", space)
            entries[data[space + 1:nul].decode(errors="surrogateescape")] = (
                data[position:space].decode(), data[nul + 1:nul + 21].hex())
            position = nul + 21
        return entries

    def folder(self, commit: str, path: str) -> dict[str, str]:
        """The files (name → blob id) directly in a folder (`a/b`, relative to the top) at a commit."""
        tree = self._commit(commit)[0]
        for part in [p for p in path.split("/") if p not in ("", ".")]:
            entry = self.tree_entries(tree).get(part)
            if entry is None or not entry[0].startswith("4"):
                return {}
            tree = entry[1]
        return {name: sha for name, (mode, sha) in self.tree_entries(tree).items() if not mode.startswith("4")}

    def merge_base(self, one: str, other: str) -> str | None:
        """The nearest commit both descend from (None when the checkout's history is too shallow)."""
        seen = self._ancestors(one)
        queue, visited = deque([other]), {other}
        while queue:
            commit = queue.popleft()
            if commit in seen:
                return commit
            for parent in self.parents(commit):
                if parent not in visited:
                    visited.add(parent)
                    queue.append(parent)
        return None

    def _ancestors(self, commit: str) -> set[str]:
        seen, queue = {commit}, deque([commit])
        while queue and len(seen) < _MAX_WALK:
            for parent in self.parents(queue.popleft()):
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        return seen
