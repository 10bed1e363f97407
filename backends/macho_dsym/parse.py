"""Bounded walking of a Mach-O file's fat header and load commands, in either byte order and width.

One walker for both readers of Mach-O files: the backend's `reader` (strict: the first problem is an error) and
``dwarfkit.reader.macho`` (tolerant: it records the problem and reads what it can). Each walker checks every
offset against the bytes it has and raises `LayoutError` naming the entry and its offset; callers choose what
the error becomes. Imports only the standard library and `constants`.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from . import constants as C


class LayoutError(Exception):
    """An entry of the fat header or a load command that does not fit: ``what`` names it and says why."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class FatEntry:
    index: int
    cputype: int
    offset: int
    size: int


def is_fat(data: bytes) -> bool:
    return len(data) >= 8 and int.from_bytes(data[:4], "big") in (C.FAT_MAGIC, C.FAT_MAGIC_64)


def fat_entries(data: bytes) -> list[FatEntry]:
    """The architectures of a fat file (its header is big-endian; FAT_MAGIC_64 has 64-bit offsets and sizes).
    Slices are not checked against the file's size here: a reader may need only one of them."""
    is64 = int.from_bytes(data[:4], "big") == C.FAT_MAGIC_64
    count = int.from_bytes(data[4:8], "big")
    entry = 32 if is64 else 20
    out = []
    for i in range(count):
        off = 8 + i * entry
        if off + entry > len(data):
            raise LayoutError(f"fat header entry {i} is past the end of the file")
        cputype = int.from_bytes(data[off:off + 4], "big")
        start, size = struct.unpack_from(">QQ" if is64 else ">II", data, off + 8)
        out.append(FatEntry(i, cputype, start, size))
    return out


def load_commands(data: bytes, start: int, ncmds: int, sizeofcmds: int, e: str) -> Iterator[tuple[int, int, int]]:
    """``(offset, cmd, cmdsize)`` of each load command from ``start``, in byte order ``e`` (``<`` or ``>``).
    A command must lie inside both ``sizeofcmds`` and the file; the first that does not raises `LayoutError`
    after the ones before it were yielded."""
    end = min(start + sizeofcmds, len(data))
    off = start
    for i in range(ncmds):
        if off + 8 > end:
            raise LayoutError(f"load command {i} at 0x{off:x} is past the end of the commands")
        cmd, cmdsize = struct.unpack_from(e + "2I", data, off)
        if cmdsize < 8 or off + cmdsize > end:
            raise LayoutError(f"load command {i} at 0x{off:x} has a bad size {cmdsize}")
        yield off, cmd, cmdsize
        off += cmdsize
