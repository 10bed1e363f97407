"""Reading an existing ELF file's headers, every size and offset checked against the file before it is used: the
one bounds-checked parser of the ELF header and the section header table, shared by the rewriter (:func:`read_input`,
ELF64 little-endian only, strict about every section) and by ``dwarfkit/reader/elf.py`` (:func:`read_elf_headers`,
ELF32 and ELF64 in either byte order, before pyelftools reads sections, relocations and symbols). Both are built on
the raw layouts (`elf_layout`, `decode_elf_header`, `ElfLayout.section_header`/`program_header`,
`extended_numbering`), which judge nothing; ``dwarfkit verify``'s structure checks
(``dwarfkit/reader/container_check.py``) read through those too and report every problem, not only the first.

pyelftools reads the same headers, but it names no structure in its errors and reads section bytes through a stream;
the rewriter wants views of the original bytes (a shared library's 20 MB are never copied section by section) and one
:class:`ContainerError` naming what is wrong and where.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from elftools.elf.enums import ENUM_E_TYPE, ENUM_SH_TYPE_BASE

from dwarfkit.errors import ContainerError

from .elffile import EHDR_SIZE, PHDR_SIZE
from .machine import ElfMachine, machine_by_number

SHT = ENUM_SH_TYPE_BASE
SHN_LORESERVE = 0xFF00
SHN_XINDEX = 0xFFFF
MAX_ALIGN = 1 << 24  # sh_addralign beyond this is corrupt (real sections align to pages at most)
# Per ELF class (True: ELF64): the ELF header's e_type .. e_shstrndx after the 16 identification bytes, one section
# header (sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize) and one
# program header (ELF32 puts p_flags after p_memsz, ELF64 after p_type).
_LAYOUTS = {False: ("HHIIIIIHHHHHH", "IIIIIIIIII", "IIIIIIII"), True: ("HHIQQQIHHHHHH", "IIQQQQIIQQ", "IIQQQQQQ")}


@dataclass(frozen=True)
class ElfLayout:
    """The structures' layouts for one ELF class and byte order."""
    is64: bool
    byteorder: Literal["little", "big"]
    ehdr: struct.Struct
    """The ELF header after its 16 identification bytes."""
    shdr: struct.Struct
    phdr: struct.Struct

    @property
    def ehsize(self) -> int:
        return 16 + self.ehdr.size

    def section_header(self, data: bytes, at: int) -> tuple[int, ...]:
        """The ten ``Elf*_Shdr`` fields at ``at`` (the caller has checked they are inside ``data``)."""
        return self.shdr.unpack_from(data, at)

    def program_header(self, data: bytes, at: int) -> ProgramHeader:
        fields = self.phdr.unpack_from(data, at)
        if self.is64:
            return ProgramHeader(*fields)
        p_type, offset, vaddr, paddr, filesz, memsz, flags, align = fields
        return ProgramHeader(p_type, flags, offset, vaddr, paddr, filesz, memsz, align)


@dataclass(frozen=True)
class ProgramHeader:
    """One program header, in ``Elf64_Phdr`` order whatever the class."""
    type: int
    flags: int
    offset: int
    vaddr: int
    paddr: int
    filesz: int
    memsz: int
    align: int


@dataclass(frozen=True)
class ElfHeader:
    """The ELF header's fields after the identification, as the file has them (nothing checked)."""
    e_type: int
    e_machine: int
    e_version: int
    e_entry: int
    e_phoff: int
    e_shoff: int
    e_flags: int
    e_ehsize: int
    e_phentsize: int
    e_phnum: int
    e_shentsize: int
    e_shnum: int
    e_shstrndx: int


def _make_layout(is64: bool, byteorder: Literal["little", "big"]) -> ElfLayout:
    e = "<" if byteorder == "little" else ">"
    ehdr, shdr, phdr = (struct.Struct(e + f) for f in _LAYOUTS[is64])
    return ElfLayout(is64, byteorder, ehdr, shdr, phdr)


_LAYOUT_OF = {(is64, order): _make_layout(is64, order) for is64 in (False, True) for order in ("little", "big")}


def elf_layout(data: bytes) -> ElfLayout | None:
    """The layouts that the identification's class and data encoding call for; None when they are neither
    ELFCLASS32/64 nor ELFDATA2LSB/MSB (the magic is not looked at)."""
    if data[4:5] not in (b"\x01", b"\x02") or data[5:6] not in (b"\x01", b"\x02"):
        return None
    return _LAYOUT_OF[data[4] == 2, "little" if data[5] == 1 else "big"]


def decode_elf_header(data: bytes, layout: ElfLayout) -> ElfHeader | None:
    """The ELF header's fields; None when the file is too short to hold them. The tolerant entry point: a checker
    (``dwarfkit/reader/container_check.py``) judges the values and reads the tables through ``layout``."""
    if len(data) < layout.ehsize:
        return None
    return ElfHeader(*layout.ehdr.unpack_from(data, 16))


def extended_numbering(first: tuple[int, ...], shnum: int, shstrndx: int) -> tuple[int, int]:
    """The section count and name table index, taken from section header 0 (``first``) when the ELF header's own
    fields cannot hold them (0 sections, ``SHN_XINDEX``)."""
    return first[5] if shnum == 0 else shnum, first[6] if shstrndx == SHN_XINDEX else shstrndx


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


@dataclass
class ElfHeaders:
    """The ELF header's fields that locate things and the raw section headers (tuples in ``Elf*_Shdr`` order), the
    table and the section name table checked against the file."""
    is64: bool
    byteorder: Literal["little", "big"]
    e_type: int
    e_machine: int
    phoff: int
    phentsize: int
    phnum: int
    shoff: int
    shstrndx: int
    sections: list[tuple[int, ...]]
    """Empty when the file has no section header table (``e_shoff`` 0)."""

    def header_offset(self, index: int) -> int:
        """Where section header ``index`` starts in the file."""
        return self.shoff + index * (64 if self.is64 else 40)


def elf_identification(data: bytes, path: str) -> tuple[bool, Literal["little", "big"]]:
    """The magic, class and byte order, and that the ELF header they call for is all there: (ELF64?, byte order)."""
    if data[:4] != b"\x7fELF":
        raise ContainerError(f"{path}: not an ELF file (magic {bytes(data[:4]).hex() or 'missing'})")
    if len(data) < 16 or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ContainerError(f"{path}: ELF identification at 0x0 is truncated or invalid (class {data[4:5].hex()}, "
                             f"data {data[5:6].hex()})")
    is64 = data[4] == 2
    ehsize = 64 if is64 else 52
    if len(data) < ehsize:
        raise ContainerError(f"{path}: ELF header at 0x0 is truncated: {len(data)} bytes of {ehsize}")
    return is64, "little" if data[5] == 1 else "big"


def read_elf_headers(data: bytes, path: str) -> ElfHeaders:
    """The ELF header and the section header table of ``data`` (any class and byte order), with the extended section
    count and name table index resolved; a :class:`ContainerError` names the first structure that is wrong."""
    is64, order = elf_identification(data, path)
    layout = _LAYOUT_OF[is64, order]
    header = ElfHeader(*layout.ehdr.unpack_from(data, 16))  # elf_identification has checked it is all there
    shoff, shnum, shstrndx = header.e_shoff, header.e_shnum, header.e_shstrndx
    out = ElfHeaders(is64, order, header.e_type, header.e_machine, header.e_phoff, header.e_phentsize, header.e_phnum,
                     shoff, shstrndx, [])
    if shoff == 0:
        return out  # no section header table: no sections
    shdr = layout.shdr
    if header.e_shentsize != shdr.size:
        raise ContainerError(f"{path}: ELF header at 0x0: section header size e_shentsize is {header.e_shentsize}, "
                             f"not {shdr.size}")
    if shoff + max(shnum, 1) * shdr.size > len(data):
        raise ContainerError(f"{path}: ELF section header table at 0x{shoff:x} ({shnum} headers of {shdr.size} bytes) "
                             f"runs past the end of the file (0x{len(data):x})")
    # 0xff00 sections or more: the count is section 0's sh_size, and the name table's index its sh_link
    shnum, shstrndx = extended_numbering(shdr.unpack_from(data, shoff), shnum, shstrndx)
    if shoff + shnum * shdr.size > len(data):
        raise ContainerError(f"{path}: ELF section header table at 0x{shoff:x} ({shnum} headers of {shdr.size} bytes) "
                             f"runs past the end of the file (0x{len(data):x})")
    if shnum == 0:
        return out
    if shstrndx >= shnum:
        raise ContainerError(f"{path}: ELF header at 0x0: section name table index e_shstrndx {shstrndx} is not below "
                             f"the section count {shnum}")
    out.shstrndx = shstrndx
    out.sections = [shdr.unpack_from(data, shoff + i * shdr.size) for i in range(shnum)]
    names, at = out.sections[shstrndx], out.header_offset(shstrndx)
    if names[1] != SHT["SHT_STRTAB"]:
        raise ContainerError(f"{path}: ELF section header {shstrndx} at 0x{at:x} (the section name table, "
                             f"e_shstrndx) has type {names[1]}, not SHT_STRTAB")
    if names[4] + names[5] > len(data):
        raise ContainerError(f"{path}: ELF section name table (header {shstrndx} at 0x{at:x}): offset 0x{names[4]:x} "
                             f"+ size 0x{names[5]:x} runs past the end of the file (0x{len(data):x})")
    return out


def read_input(data: bytes, path: str) -> InputElf:
    """Parses and bounds-checks ``data``; a :class:`ContainerError` names the first structure that is wrong."""
    is64, order = elf_identification(data, path)
    if not is64 or order != "little":
        raise ContainerError(f"{path}: ELF header at 0x0: only ELF64 little-endian files can be rewritten, not "
                             f"class {data[4]} / data encoding {data[5]} (ELFCLASS64 = 2, ELFDATA2LSB = 1)")
    elf = read_elf_headers(data, path)
    machine = machine_by_number(elf.e_machine, path)
    if elf.e_type not in (ENUM_E_TYPE["ET_REL"], ENUM_E_TYPE["ET_EXEC"], ENUM_E_TYPE["ET_DYN"]):
        raise ContainerError(f"{path}: ELF type {elf.e_type} cannot be rewritten (objects, executables and shared "
                             f"libraries can)")
    phoff, phnum = elf.phoff, elf.phnum
    segments_end = EHDR_SIZE
    if phnum:
        if elf.phentsize != PHDR_SIZE or phoff + phnum * PHDR_SIZE > len(data):
            raise ContainerError(f"{path}: program header table at {phoff:#x} ({phnum} entries of {elf.phentsize} "
                                 f"bytes) is malformed or runs past the end of the file ({len(data):#x})")
        segments_end = max(segments_end, phoff + phnum * PHDR_SIZE)
        layout = _LAYOUT_OF[True, "little"]
        for i in range(phnum):
            segment = layout.program_header(data, phoff + i * PHDR_SIZE)
            p_offset, p_filesz = segment.offset, segment.filesz
            if p_offset + p_filesz > len(data):
                raise ContainerError(f"{path}: program header {i} at {phoff + i * PHDR_SIZE:#x}: file bytes "
                                     f"{p_offset:#x}+{p_filesz:#x} run past the end of the file ({len(data):#x})")
            segments_end = max(segments_end, p_offset + p_filesz)
    if elf.shoff == 0:
        raise ContainerError(f"{path}: the file has no section header table")
    shnum, shstrndx = len(elf.sections), elf.shstrndx
    if not 0 < shstrndx < shnum:
        raise ContainerError(f"{path}: ELF header at 0x0: section name table index e_shstrndx {shstrndx} is not a "
                             f"section (of {shnum})")
    sections = []
    for i, (_name, stype, flags, addr, offset, size, link, info, align, entsize) in enumerate(elf.sections):
        section = InputSection(i, "", stype, flags, addr, offset, size, link, info, max(align, 1), entsize)
        if i and not section.nobits and offset + size > len(data):
            raise ContainerError(f"{path}: section header {i} at {elf.header_offset(i):#x}: bytes "
                                 f"{offset:#x}+{size:#x} run past the end of the file ({len(data):#x})")
        if link >= shnum:
            raise ContainerError(f"{path}: section header {i}: sh_link {link} is not a section (of {shnum})")
        if align & (align - 1) or align > MAX_ALIGN:   # a moved section is padded to it: bound the padding
            raise ContainerError(f"{path}: section header {i} at {elf.header_offset(i):#x}: sh_addralign "
                                 f"{align:#x} is not a power of two up to {MAX_ALIGN:#x}")
        sections.append(section)
    names = sections[shstrndx]
    table = data[names.offset:names.offset + names.size]
    for section, header in zip(sections, elf.sections, strict=True):
        end = table.find(b"\0", header[0])
        if header[0] >= len(table) or end < 0:
            raise ContainerError(f"{path}: section header {section.index}: name offset sh_name {header[0]:#x} lies "
                                 f"outside the section name table ({len(table):#x} bytes)")
        section.name = table[header[0]:end].decode("utf-8", "replace")
    return InputElf(path, data, elf.e_type, machine, sections, shstrndx, segments_end)
