"""Laying out a rewritten ELF file: the sections the rewriter decided on, after the bytes of the input that must not
move (the ELF and program headers, and a linked file's allocated sections), then a new section header table.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from dwarfkit.errors import ContainerError

from .elffile import SHDR, SHDR_SIZE
from .elfinput import SHN_LORESERVE, SHN_XINDEX, SHT, InputElf

_MAX_ALIGN = 1 << 24   # more would be a corrupt header, and megabytes of padding


@dataclass
class OutSection:
    """One section of the output: its ``Elf64_Shdr`` fields (name and offset are filled in at layout) and bytes."""
    name: str
    header: list[int]
    data: bytes | memoryview
    fixed: bool = False
    """Keeps its file offset (an allocated section of a linked file)."""



def relayout(elf: InputElf, outs: list[OutSection], shstrndx: int) -> bytes:
    """The output file: the input's first bytes up to ``elf.segments_end`` and past every fixed section (a linked
    file's loaded bytes, unchanged), then the other sections, each aligned, then the section header table. Fills in
    each header's name and offset; a name table that is also a symbol string table keeps its strings."""
    names_out = outs[shstrndx]
    # A name table that is also a symbol string table (clang's .strtab) keeps its strings; else it is new.
    shared = any(o.header[6] == shstrndx for k, o in enumerate(outs) if k != shstrndx)
    table = StringTable(bytes(names_out.data) if shared else b"\0")
    for o in outs[1:]:
        o.header[0] = table.offset(o.name)
    names_out.data = bytes(table.data)
    names_out.header[5] = len(table.data)

    prefix_end = elf.segments_end
    for o in outs:
        if o.fixed and o.header[1] != SHT["SHT_NOBITS"]:
            prefix_end = max(prefix_end, o.header[4] + o.header[5])
    pieces: list[bytes | memoryview] = [memoryview(elf.data)[:prefix_end]]
    pos = prefix_end
    for o in outs[1:]:
        if o.fixed:
            continue
        align = max(o.header[8], 1)
        if align & (align - 1) or align > _MAX_ALIGN:
            raise ContainerError(f"{elf.path}: section {o.name}: alignment sh_addralign {align:#x} is not a power of "
                                 f"two up to {_MAX_ALIGN:#x}")
        aligned = pos + (-pos % align)
        if o.header[1] == SHT["SHT_NOBITS"]:
            o.header[4] = aligned
            continue
        pieces.append(bytes(aligned - pos))
        o.header[4], pos = aligned, aligned + len(o.data)
        pieces.append(o.data)
    shoff = pos + (-pos % 8)
    pieces.append(bytes(shoff - pos))
    count = len(outs)
    if count >= SHN_LORESERVE:
        outs[0].header[5] = count
    if shstrndx >= SHN_LORESERVE:
        outs[0].header[6] = shstrndx
    pieces += [SHDR.pack(*o.header) for o in outs]
    out = bytearray(b"".join(pieces))
    struct.pack_into("<Q", out, 0x28, shoff)
    struct.pack_into("<HHH", out, 0x3A, SHDR_SIZE, count if count < SHN_LORESERVE else 0,
                     shstrndx if shstrndx < SHN_LORESERVE else SHN_XINDEX)
    return bytes(out)


class StringTable:
    """An ELF string table that grows; a name already in it (as a whole string) is shared."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)
        self._offsets: dict[bytes, int] = {}
        start = 0
        for text in data.split(b"\0"):
            self._offsets.setdefault(text, start)
            start += len(text) + 1

    def offset(self, name: str) -> int:
        encoded = name.encode()
        if encoded not in self._offsets:
            self._offsets[encoded] = len(self.data)
            self.data += encoded + b"\0"
        return self._offsets[encoded]
