"""Reading an existing ELF64 little-endian file for the rewriter: the ELF header, the section headers and their names,
every size and offset checked against the file before it is used.

pyelftools reads the same headers, but it names no structure in its errors and reads section bytes through a stream;
the rewriter wants views of the original bytes (a shared library's 20 MB are never copied section by section) and one
:class:`ContainerError` naming what is wrong and where.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from elftools.elf.enums import ENUM_E_TYPE, ENUM_SH_TYPE_BASE

from dwarfkit.errors import ContainerError

from .elffile import EHDR_SIZE, PHDR_SIZE, SHDR, SHDR_SIZE
from .machine import ElfMachine, machine_by_number

SHT = ENUM_SH_TYPE_BASE
SHN_LORESERVE = 0xFF00
SHN_XINDEX = 0xFFFF
MAX_ALIGN = 1 << 24  # sh_addralign beyond this is corrupt (real sections align to pages at most)
_EHDR_TAIL = struct.Struct("<HHIQQQIHHHHHH")  # e_type .. e_shstrndx, after the 16 identification bytes
_PHDR_SPAN = struct.Struct("<IIQQQQ")  # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz


@dataclass
class InputSection:
    index: int
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    info: int
    align: int
    entsize: int

    @property
    def nobits(self) -> bool:
        return self.type == SHT["SHT_NOBITS"]

    def header(self) -> list[int]:
        """The ten ``Elf64_Shdr`` fields (``sh_name`` is filled in by the writer)."""
        return [0, self.type, self.flags, self.addr, self.offset, self.size, self.link, self.info, self.align,
                self.entsize]


@dataclass
class InputElf:
    path: str
    data: bytes
    e_type: int
    machine: ElfMachine
    sections: list[InputSection]
    shstrndx: int
    segments_end: int
    """The end of the ELF header, the program header table and every segment's file bytes."""

    @property
    def linked(self) -> bool:
        """An executable or shared library (sections at load addresses), not a relocatable object."""
        return self.e_type != ENUM_E_TYPE["ET_REL"]

    def bytes_of(self, section: InputSection) -> memoryview:
        if section.nobits:
            return memoryview(b"")
        return memoryview(self.data)[section.offset:section.offset + section.size]

    def where(self, section: InputSection) -> str:
        return f"{self.path}: section {section.name or '(unnamed)'} (header {section.index})"


def read_input(data: bytes, path: str) -> InputElf:
    """Parses and bounds-checks ``data``; a :class:`ContainerError` names the first structure that is wrong."""
    if data[:4] != b"\x7fELF":
        raise ContainerError(f"{path}: not an ELF file (magic {bytes(data[:4]).hex() or 'missing'})")
    if len(data) < EHDR_SIZE:
        raise ContainerError(f"{path}: ELF header at 0x0 is truncated: {len(data)} bytes of {EHDR_SIZE}")
    if data[4] != 2 or data[5] != 1:
        raise ContainerError(f"{path}: ELF header at 0x0: only ELF64 little-endian files can be rewritten, not "
                             f"class {data[4]} / data encoding {data[5]} (ELFCLASS64 = 2, ELFDATA2LSB = 1)")
    (e_type, e_machine, _version, _entry, phoff, shoff, _flags, _ehsize, phentsize, phnum, shentsize, shnum,
     shstrndx) = _EHDR_TAIL.unpack_from(data, 16)
    machine = machine_by_number(e_machine, path)
    if e_type not in (ENUM_E_TYPE["ET_REL"], ENUM_E_TYPE["ET_EXEC"], ENUM_E_TYPE["ET_DYN"]):
        raise ContainerError(f"{path}: ELF type {e_type} cannot be rewritten (objects, executables and shared "
                             f"libraries can)")
    segments_end = EHDR_SIZE
    if phnum:
        if phentsize != PHDR_SIZE or phoff + phnum * PHDR_SIZE > len(data):
            raise ContainerError(f"{path}: program header table at {phoff:#x} ({phnum} entries of {phentsize} bytes) "
                                 f"is malformed or runs past the end of the file ({len(data):#x})")
        segments_end = max(segments_end, phoff + phnum * PHDR_SIZE)
        for i in range(phnum):
            _type, _pflags, p_offset, _vaddr, _paddr, p_filesz = _PHDR_SPAN.unpack_from(data, phoff + i * PHDR_SIZE)
            if p_offset + p_filesz > len(data):
                raise ContainerError(f"{path}: program header {i} at {phoff + i * PHDR_SIZE:#x}: file bytes "
                                     f"{p_offset:#x}+{p_filesz:#x} run past the end of the file ({len(data):#x})")
            segments_end = max(segments_end, p_offset + p_filesz)
    if shoff == 0:
        raise ContainerError(f"{path}: the file has no section header table")
    if shentsize != SHDR_SIZE or shoff + SHDR_SIZE > len(data):
        raise ContainerError(f"{path}: section header table at {shoff:#x} (entries of {shentsize} bytes) is malformed "
                             f"or runs past the end of the file ({len(data):#x})")
    first = SHDR.unpack_from(data, shoff)
    if shnum == 0:   # 0xff00 sections or more: the count is section 0's sh_size
        shnum = first[5]
    if shstrndx == SHN_XINDEX:   # and the name table's index is section 0's sh_link
        shstrndx = first[6]
    if shoff + shnum * SHDR_SIZE > len(data):
        raise ContainerError(f"{path}: section header table at {shoff:#x} ({shnum} headers) runs past the end of the "
                             f"file ({len(data):#x})")
    if not 0 < shstrndx < shnum:
        raise ContainerError(f"{path}: ELF header at 0x0: section name table index e_shstrndx {shstrndx} is not a "
                             f"section (of {shnum})")
    headers = [SHDR.unpack_from(data, shoff + i * SHDR_SIZE) for i in range(shnum)]
    sections = []
    for i, (_name, stype, flags, addr, offset, size, link, info, align, entsize) in enumerate(headers):
        section = InputSection(i, "", stype, flags, addr, offset, size, link, info, max(align, 1), entsize)
        if i and not section.nobits and offset + size > len(data):
            raise ContainerError(f"{path}: section header {i} at {shoff + i * SHDR_SIZE:#x}: bytes "
                                 f"{offset:#x}+{size:#x} run past the end of the file ({len(data):#x})")
        if link >= shnum:
            raise ContainerError(f"{path}: section header {i}: sh_link {link} is not a section (of {shnum})")
        if align & (align - 1) or align > MAX_ALIGN:   # a moved section is padded to it: bound the padding
            raise ContainerError(f"{path}: section header {i} at {shoff + i * SHDR_SIZE:#x}: sh_addralign "
                                 f"{align:#x} is not a power of two up to {MAX_ALIGN:#x}")
        sections.append(section)
    names = sections[shstrndx]
    if names.type != SHT["SHT_STRTAB"]:
        raise ContainerError(f"{path}: section name table (header {shstrndx}) has type {names.type}, not SHT_STRTAB")
    table = data[names.offset:names.offset + names.size]
    for section, header in zip(sections, headers, strict=True):
        end = table.find(b"\0", header[0])
        if header[0] >= len(table) or end < 0:
            raise ContainerError(f"{path}: section header {section.index}: name offset sh_name {header[0]:#x} lies "
                                 f"outside the section name table ({len(table):#x} bytes)")
        section.name = table[header[0]:end].decode("utf-8", "replace")
    return InputElf(path, data, e_type, machine, sections, shstrndx, segments_end)
