"""Serialises an ELF64 little-endian file from a list of sections and segments.

This module knows the file format only: headers, alignment, section and program header tables. Which sections a file
holds and where they load is decided by the writers (objectfile, executable, debugfile).
"""
from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import ENUM_E_VERSION, ENUM_EI_CLASS, ENUM_EI_DATA, ENUM_SH_TYPE_BASE

from dwarfkit.encoding import align_up
from dwarfkit.errors import LayoutError

SHT = ENUM_SH_TYPE_BASE
EHDR_SIZE = 64
PHDR_SIZE = 56
SHDR_SIZE = 64
_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")
SHDR = struct.Struct("<IIQQQQIIQQ")


@dataclass
class ElfSection:
    name: str
    type: int
    flags: int = 0
    data: bytes = b""
    addr: int = 0
    align: int = 1
    link: str | int = 0
    """Name of the linked section (``.strtab`` for ``.symtab``), or a raw value."""
    info: str | int = 0
    """Name of the section a ``.rela`` section applies to, or a raw value (first global symbol of ``.symtab``)."""
    entsize: int = 0
    nobits_size: int = 0
    """Memory size of an ``SHT_NOBITS`` section, which has no bytes in the file."""

    @property
    def size(self) -> int:
        return self.nobits_size if self.type == SHT["SHT_NOBITS"] else len(self.data)

    @property
    def allocated(self) -> bool:
        return bool(self.flags & SH_FLAGS.SHF_ALLOC)


@dataclass
class Segment:
    """A program header covering the sections ``first`` through ``last`` (in file order)."""

    type: int
    flags: int
    first: str | None = None
    last: str | None = None
    align: int = 1


@dataclass
class ElfHeader:
    machine: int
    type: int
    entry: int = 0
    flags: int = 0
    osabi: int = 0


def serialize(header: ElfHeader, sections: Sequence[ElfSection], segments: Sequence[Segment] = (),
              page_size: int = 0) -> bytes:
    """The bytes of the file. The null section and ``.shstrtab`` are added here.

    With ``page_size``, every allocated section gets a file offset congruent to its address modulo the page size, as
    a loader needs to map it.
    """
    shstrtab = ElfSection(".shstrtab", SHT["SHT_STRTAB"])
    all_sections = [*sections, shstrtab]
    name_offsets = _string_table(shstrtab, [s.name for s in all_sections])
    # Sections may share a name (COMDAT groups: a .debug_info per group); only unique names can be linked by name.
    counts = Counter(s.name for s in all_sections)
    index = {s.name: i + 1 for i, s in enumerate(all_sections) if counts[s.name] == 1}

    offset = EHDR_SIZE + PHDR_SIZE * len(segments)
    positions: list[int] = []
    for s in all_sections:
        offset = align_up(offset, s.align)
        if page_size and s.allocated:
            offset += (s.addr - offset) % page_size
        positions.append(offset)
        if s.type != SHT["SHT_NOBITS"]:
            offset += len(s.data)
    offsets = {s.name: pos for s, pos in zip(all_sections, positions, strict=True) if s.name in index}
    shoff = align_up(offset, 8)

    out = bytearray(shoff + SHDR_SIZE * (len(all_sections) + 1))
    ident = bytes([0x7F]) + b"ELF" + bytes([ENUM_EI_CLASS["ELFCLASS64"], ENUM_EI_DATA["ELFDATA2LSB"],
                                             ENUM_E_VERSION["EV_CURRENT"], header.osabi])
    _EHDR.pack_into(out, 0, ident.ljust(16, b"\0"), header.type, header.machine, ENUM_E_VERSION["EV_CURRENT"],
                    header.entry, EHDR_SIZE if segments else 0, shoff, header.flags, EHDR_SIZE,
                    PHDR_SIZE if segments else 0, len(segments), SHDR_SIZE, len(all_sections) + 1,
                    index[".shstrtab"])
    by_name = {s.name: s for s in all_sections}
    for i, seg in enumerate(segments):
        _PHDR.pack_into(out, EHDR_SIZE + i * PHDR_SIZE, *_program_header(seg, by_name, offsets))
    for s, pos in zip(all_sections, positions, strict=True):
        if s.type != SHT["SHT_NOBITS"]:
            out[pos:pos + len(s.data)] = s.data
    for i, (s, pos) in enumerate(zip(all_sections, positions, strict=True), start=1):
        link = _index(index, s.link, s.name)
        info = _index(index, s.info, s.name)
        SHDR.pack_into(out, shoff + i * SHDR_SIZE, name_offsets[s.name], s.type, s.flags, s.addr, pos,
                        s.size, link, info, s.align, s.entsize)
    return bytes(out)


def _index(index: dict[str, int], ref: str | int, where: str) -> int:
    if isinstance(ref, int):
        return ref
    if ref not in index:
        raise LayoutError(f"section {where} links to {ref!r}, which is not one section of the file (absent or "
                          f"shared by several)")
    return index[ref]


def section_indices(sections: Sequence[ElfSection]) -> dict[str, int]:
    """The header index each section will get from :func:`serialize` (index 0 is the null section)."""
    return {s.name: i + 1 for i, s in enumerate(sections)}


def _string_table(section: ElfSection, strings: list[str]) -> dict[str, int]:
    data = bytearray(b"\0")
    offsets: dict[str, int] = {}
    for text in strings:
        if text not in offsets:
            offsets[text] = len(data)
            data += text.encode() + b"\0"
    section.data = bytes(data)
    return offsets


def _program_header(seg: Segment, by_name: dict[str, ElfSection], offsets: dict[str, int]) -> tuple[int, ...]:
    if seg.first is None or seg.last is None:
        return (seg.type, seg.flags, 0, 0, 0, 0, 0, seg.align)
    first, last = by_name[seg.first], by_name[seg.last]
    file_end = offsets[last.name] + (0 if last.type == SHT["SHT_NOBITS"] else last.size)
    # A segment that ends in .bss has no file bytes for it; its file size stops at the last PROGBITS byte.
    filesz = max(0, file_end - offsets[first.name]) if first.type != SHT["SHT_NOBITS"] else 0
    memsz = last.addr + last.size - first.addr
    return (seg.type, seg.flags, offsets[first.name], first.addr, first.addr, filesz, memsz, seg.align)
