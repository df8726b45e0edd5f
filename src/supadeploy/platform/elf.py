"""Make a Debian 13 build of a PostgreSQL module load where the C library is older than 2.38.

Debian 13 compiles with glibc 2.41, whose headers redirect `strtol`, `strtoul`, `sscanf` and their
siblings to new `__isoc23_*` entry points (C23: they also read `0b1010`), versioned GLIBC_2.38. A
module that calls nothing newer than that is otherwise fine on glibc 2.36 (Debian 12, the image) —
but the loader refuses it for that one version. `relink_c23()` points each `__isoc23_x` reference
back at `x` (the name is a suffix of the same string, so only the symbol's name offset changes) and
the GLIBC_2.38 requirement at GLIBC_2.2.5, in place. It refuses (and changes nothing) when anything
else needs the newer library, so what it produces behaves as the module did, minus binary literals
in number parsing. Only 64-bit little-endian ELF (x86_64, aarch64) is handled.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

C23_PREFIX = b"__isoc23_"
BASE_VERSION = {"x86_64": b"GLIBC_2.2.5", "aarch64": b"GLIBC_2.17"}
SHT_DYNSYM, SHT_VERNEED, SHT_VERSYM = 11, 0x6FFFFFFE, 0x6FFFFFFF


class NotRelinkable(Exception):
    """The module needs more of the newer C library than the C23 number parsers."""


@dataclass
class _Section:
    kind: int
    offset: int
    size: int
    link: int
    entsize: int


def glibc_version() -> tuple[int, ...]:
    """This machine's C library version, e.g. (2, 36); (0,) when it is not glibc."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return (0,)
    parts = text.split()
    return tuple(int(p) for p in parts[1].split(".")) if len(parts) == 2 and parts[0] == "glibc" else (0,)


def required_glibc(path: Path) -> tuple[int, ...]:
    """The newest GLIBC_x.y version the file asks of the C library."""
    data = path.read_bytes()
    newest: tuple[int, ...] = (0,)
    for name in _needed_versions(data).values():
        if name.startswith(b"GLIBC_2"):
            newest = max(newest, _version(name))
    return newest


def relink_c23(path: Path, machine: str = "x86_64") -> int:
    """Rewrite `path` in place as described above; the number of symbols relinked (0: nothing needed)."""
    data = bytearray(path.read_bytes())
    sections = _sections(data)
    dynsym = next((s for s in sections if s.kind == SHT_DYNSYM), None)
    versym = next((s for s in sections if s.kind == SHT_VERSYM), None)
    verneed = next((s for s in sections if s.kind == SHT_VERNEED), None)
    if dynsym is None or versym is None or verneed is None:
        return 0
    strtab = sections[dynsym.link]
    newer = [aux for aux in _vernaux(data, verneed, strtab) if aux[2] == b"GLIBC_2.38"]
    if not newer:
        return 0
    base = next((aux for aux in _vernaux(data, verneed, strtab) if aux[2] == BASE_VERSION[machine]), None)
    if base is None:
        raise NotRelinkable(f"{path.name} names no {BASE_VERSION[machine].decode()} to fall back to")
    index = newer[0][1]
    relinked = 0
    for number in range(dynsym.size // dynsym.entsize):
        (version,) = struct.unpack_from("<H", data, versym.offset + 2 * number)
        if version & 0x7FFF != index:
            continue
        entry = dynsym.offset + number * dynsym.entsize
        (name_offset,) = struct.unpack_from("<I", data, entry)
        name = _string(data, strtab.offset + name_offset)
        if not name.startswith(C23_PREFIX):
            raise NotRelinkable(f"{path.name} needs {name.decode()} from glibc 2.38")
        struct.pack_into("<I", data, entry, name_offset + len(C23_PREFIX))
        relinked += 1
    aux_offset, base_name_offset = newer[0][0], base[3]
    struct.pack_into("<I", data, aux_offset, _elf_hash(BASE_VERSION[machine]))
    struct.pack_into("<I", data, aux_offset + 8, base_name_offset)
    path.write_bytes(bytes(data))
    return relinked


def _sections(data: bytes | bytearray) -> list[_Section]:
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise NotRelinkable("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for number in range(shnum):
        at = shoff + number * shentsize
        kind, = struct.unpack_from("<I", data, at + 4)
        offset, size, link = struct.unpack_from("<QQI", data, at + 0x18)
        entsize, = struct.unpack_from("<Q", data, at + 0x38)
        sections.append(_Section(kind, offset, size, link, entsize))
    return sections


def _vernaux(data: bytes | bytearray, verneed: _Section, strtab: _Section) -> list[tuple[int, int, bytes, int]]:
    """(file offset, version index, version name, name offset) of every version needed from libc.so.6."""
    found = []
    at = verneed.offset
    while True:
        _, count, file_offset, aux, following = struct.unpack_from("<HHIII", data, at)
        library = _string(data, strtab.offset + file_offset)
        entry = at + aux
        for _ in range(count):
            _, _, other, name_offset, step = struct.unpack_from("<IHHII", data, entry)
            if library.startswith(b"libc.so"):
                found.append((entry, other, _string(data, strtab.offset + name_offset), name_offset))
            entry += step
        if not following:
            return found
        at += following


def _needed_versions(data: bytes) -> dict[int, bytes]:
    sections = _sections(data)
    verneed = next((s for s in sections if s.kind == SHT_VERNEED), None)
    if verneed is None:
        return {}
    return {index: name for _, index, name, _ in _vernaux(data, verneed, sections[verneed.link])}


def _string(data: bytes | bytearray, offset: int) -> bytes:
    return bytes(data[offset:data.index(b"\0", offset)])


def _version(name: bytes) -> tuple[int, ...]:
    return tuple(int(p) for p in name.decode().split("_", 1)[1].split("."))


def _elf_hash(name: bytes) -> int:
    value = 0
    for byte in name:
        value = (value << 4) + byte
        high = value & 0xF0000000
        if high:
            value ^= high >> 24
        value &= ~high & 0xFFFFFFFF
    return value
