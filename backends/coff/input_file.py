"""An existing COFF object or PE32+ image, parsed just enough to rewrite its debug sections (``rewrite.py``).

Every structure is checked against the file's size while parsing, so a truncated or hostile file becomes one
:class:`ContainerError` naming the file, the structure and its offset, never an ``IndexError`` later. Everything is
kept as raw bytes next to the decoded fields (section names as their 8-byte ``/NN`` field, symbol records as
18-byte slots) so that a rewrite can copy what it does not change byte for byte.

It is also the DWARF reader's COFF parser (``dwarfkit/reader/coff.py``), which reads what it can of any file:
``parse(..., lenient=True)`` accepts every machine and PE32 images, does not check the extent of section data,
relocation and line-number tables (the reader checks what it uses and reports the rest as findings), stops the
symbol table where the file ends, ends short names at their first NUL, and leaves a long name the string table
cannot resolve as the file spells it (``/NN``; a symbol's as ``""``). Only a file without the headers themselves (DOS
header, PE signature, file header, section table) is an error then.

The structures' layouts are decoded by the small functions below (`e_lfanew`, `FileHeader.decode`,
`optional_header_fixed_size`, `number_of_rva_and_sizes`, `section_header`, `long_name_offset`, `string_table_size`,
`relocation_overflow_count`), which read what they are given without judging it; `parse` and ``dwarfkit verify``'s
structure checks (``dwarfkit/reader/container_check.py``, which reports every problem instead of stopping at the
first) are their clients, so COFF's layouts are spelled once.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from dwarfkit.errors import ContainerError

from . import constants as C
from .pe_headers import PE_SIGNATURE

_SECTION = struct.Struct("<8sIIIIIIHHI")
_SYMBOL = struct.Struct("<8sIhHBB")
_FILE_HEADER = struct.Struct("<HHIIIHH")
_RELOCATION = struct.Struct("<IIH")
_LINENUMBER_SIZE = 6

# PE32+ optional header fields, by offset from its start.
OPT_FILE_ALIGNMENT = 36
OPT_SECTION_ALIGNMENT = 32
OPT_SIZE_OF_IMAGE = 56
OPT_SIZE_OF_HEADERS = 60
OPT_CHECKSUM = 64
OPT_IMAGE_BASE = 24
OPT32_IMAGE_BASE = 28
OPT_DIRECTORIES = 112
OPT32_DIRECTORIES = 96
IMAGE_DIRECTORY_ENTRY_SECURITY = 4
DOS_HEADER_SIZE = 0x40
E_LFANEW = 0x3C


def e_lfanew(data: bytes) -> int | None:
    """Where an image's ``PE\\0\\0`` signature should be (the DOS header's ``e_lfanew``); None when the DOS header
    is cut short."""
    if len(data) < DOS_HEADER_SIZE:
        return None
    return int.from_bytes(data[E_LFANEW:E_LFANEW + 4], "little")


def has_pe_signature(data: bytes, at: int) -> bool:
    return data[at:at + len(PE_SIGNATURE)] == PE_SIGNATURE


@dataclass(frozen=True)
class FileHeader:
    machine: int
    section_count: int
    timestamp: int
    symbol_pointer: int
    symbol_count: int
    optional_size: int
    characteristics: int

    @classmethod
    def decode(cls, data: bytes, at: int) -> FileHeader:
        """The 20 bytes at ``at`` (the caller has checked they are in ``data``)."""
        return cls(*_FILE_HEADER.unpack_from(data, at))


def optional_header_fixed_size(data: bytes, at: int) -> tuple[int, int | None]:
    """``(Magic, size of the fields before the data directories)`` of the optional header at ``at``: 112 bytes for
    PE32+, 96 for PE32, None for any other magic. ``NumberOfRvaAndSizes`` is the last 4 of those bytes."""
    magic = int.from_bytes(data[at:at + 2], "little")
    return magic, {C.IMAGE_NT_OPTIONAL_HDR64_MAGIC: OPT_DIRECTORIES,
                   C.IMAGE_NT_OPTIONAL_HDR32_MAGIC: OPT32_DIRECTORIES}.get(magic)


def number_of_rva_and_sizes(data: bytes, at: int, fixed: int) -> int:
    """The data directory count of the optional header at ``at`` whose fixed part is ``fixed`` bytes long."""
    return int.from_bytes(data[at + fixed - 4:at + fixed], "little")


def section_header(data: bytes, at: int) -> tuple[bytes, int, int, int, int, int, int, int, int, int]:
    """The ten fields of the section header at ``at``: Name (the raw 8 bytes), VirtualSize, VirtualAddress,
    SizeOfRawData, PointerToRawData, PointerToRelocations, PointerToLinenumbers, NumberOfRelocations,
    NumberOfLinenumbers, Characteristics."""
    return _SECTION.unpack_from(data, at)


def long_name_offset(name: bytes) -> int | None:
    """The string table offset of a long section name (``/123``, its NULs already cut off), else None."""
    return int(name[1:]) if name[:1] == b"/" and name[1:].isdigit() else None


def string_table_size(data: bytes, start: int) -> int:
    """The string table's size field (the size includes the field itself)."""
    return int.from_bytes(data[start:start + 4], "little")


def relocation_overflow_count(data: bytes, pointer: int) -> int:
    """The relocation count that the first record holds under IMAGE_SCN_LNK_NRELOC_OVFL (the record counts itself)."""
    return int.from_bytes(data[pointer:pointer + 4], "little")


def is_debug_section(name: str) -> bool:
    """The sections a rewrite replaces: every DWARF section (``.debug_macro`` and vendors' too), never
    ``.eh_frame``, which the program's runtime may use."""
    return name.startswith((".debug_", ".zdebug_"))


@dataclass
class InputSection:
    number: int
    """1-based, as symbols refer to it."""
    name: str
    raw_name: bytes
    """The 8-byte Name field as the file has it (``/4`` for a long name)."""
    virtual_size: int
    virtual_address: int
    raw_size: int
    raw_pointer: int
    relocation_pointer: int
    linenumber_pointer: int
    relocation_count: int
    """Records in the relocation table, the overflow record of IMAGE_SCN_LNK_NRELOC_OVFL included."""
    linenumber_count: int
    flags: int
    extended_relocations: bool = False
    """IMAGE_SCN_LNK_NRELOC_OVFL is in effect: the first relocation record holds the count."""

    @property
    def is_debug(self) -> bool:
        return is_debug_section(self.name)


@dataclass
class InputSymbol:
    index: int
    name: str
    value: int
    section: int
    type: int
    storage: int
    aux: int

    def is_section_definition(self, sections: list[InputSection]) -> bool:
        """A static symbol named after its section with a section definition record, as assemblers write one
        per section (linked images keep one per input object, at that object's offset)."""
        return (self.storage == C.IMAGE_SYM_CLASS_STATIC and self.aux >= 1 and self.type == C.IMAGE_SYM_TYPE_NULL
                and 0 < self.section <= len(sections) and sections[self.section - 1].name == self.name)


@dataclass
class InputFile:
    path: str
    data: bytes
    header: int
    """Offset of the COFF file header (after ``PE\\0\\0`` in an image)."""
    machine: int
    symbol_pointer: int
    symbol_count: int
    optional_size: int
    sections: list[InputSection]
    symbols: list[InputSymbol]
    strings: bytes
    """The whole string table, its 4-byte size included (``b""`` when the file has none)."""

    @property
    def is_image(self) -> bool:
        return self.header != 0

    @property
    def optional(self) -> int:
        return self.header + C.FILE_HEADER_SIZE

    @property
    def section_table(self) -> int:
        return self.optional + self.optional_size

    def optional_field(self, offset: int, fmt: str = "I") -> int:
        return int(struct.unpack_from("<" + fmt, self.data, self.optional + offset)[0])

    def symbol_records(self) -> bytes:
        return self.data[self.symbol_pointer:self.symbol_pointer + C.SYMBOL_SIZE * self.symbol_count]

    def raw_data(self, s: InputSection) -> bytes:
        return self.data[s.raw_pointer:s.raw_pointer + s.raw_size] if s.raw_pointer else b""

    def relocation_records(self, s: InputSection) -> bytes:
        start = s.relocation_pointer
        return self.data[start:start + C.RELOCATION_SIZE * s.relocation_count] if s.relocation_count else b""

    def linenumber_records(self, s: InputSection) -> bytes:
        start = s.linenumber_pointer
        return self.data[start:start + _LINENUMBER_SIZE * s.linenumber_count] if s.linenumber_count else b""

    def relocation_entries(self, s: InputSection) -> list[tuple[int, int, int]]:
        """(VirtualAddress, SymbolTableIndex, Type) of each relocation, the overflow count record skipped."""
        records = self.relocation_records(s)
        first = C.RELOCATION_SIZE if s.extended_relocations else 0
        return list(_RELOCATION.iter_unpack(records[first:]))

    def image_base(self) -> int:
        """ImageBase of a PE32 or PE32+ image; 0 for an object or an optional header too short to hold it."""
        magic = self.data[self.optional:self.optional + 2]
        at, size = {C.IMAGE_NT_OPTIONAL_HDR64_MAGIC: (OPT_IMAGE_BASE, 8),
                    C.IMAGE_NT_OPTIONAL_HDR32_MAGIC: (OPT32_IMAGE_BASE, 4)}.get(int.from_bytes(magic, "little"), (0, 0))
        if not self.is_image or not size or self.optional_size < OPT_IMAGE_BASE + 8:  # both end at 32
            return 0
        return int.from_bytes(self.data[self.optional + at:self.optional + at + size], "little")

    def fail(self, message: str) -> ContainerError:
        return ContainerError(f"{self.path}: {message}")


def parse(data: bytes, path: str, lenient: bool = False) -> InputFile:
    """The headers, sections, symbols and strings of a COFF object or PE32+ image (AMD64 or ARM64); ``lenient``:
    of any COFF file, as far as it goes (see the module docstring)."""
    header = 0
    if data[:2] == b"MZ":
        lfanew = e_lfanew(data)
        if lfanew is None:
            raise ContainerError(f"{path}: DOS header is truncated (0x{len(data):x} bytes)")
        if not has_pe_signature(data, lfanew):
            raise ContainerError(f"{path}: no PE signature at 0x{lfanew:x}")
        header = lfanew + len(PE_SIGNATURE)
    elif data[:4] == b"\0\0\xff\xff":
        raise ContainerError(f"{path}: /bigobj COFF objects are not supported")
    _need(data, path, header, C.FILE_HEADER_SIZE, "COFF file header")
    file_header = FileHeader.decode(data, header)
    machine, count, optional_size = file_header.machine, file_header.section_count, file_header.optional_size
    symbol_pointer, symbol_count = file_header.symbol_pointer, file_header.symbol_count
    if not lenient and machine not in (C.IMAGE_FILE_MACHINE_AMD64, C.IMAGE_FILE_MACHINE_ARM64):
        raise ContainerError(f"{path}: COFF machine 0x{machine:04x} at 0x{header:x}: only AMD64 and ARM64 files "
                             f"can be rewritten")
    optional = header + C.FILE_HEADER_SIZE
    if header and not lenient:
        _need(data, path, optional, optional_size, "optional header")
        if optional_size < OPT_DIRECTORIES or optional_header_fixed_size(data, optional)[0] \
                != C.IMAGE_NT_OPTIONAL_HDR64_MAGIC:
            raise ContainerError(f"{path}: optional header at 0x{optional:x} is not a PE32+ one")
    try:
        strings = _string_table(data, path, symbol_pointer, symbol_count)
    except ContainerError:
        if not lenient:
            raise
        # Names are still looked up where the table should start (its size field may be all that is wrong).
        start = symbol_pointer + C.SYMBOL_SIZE * symbol_count
        strings = data[start:] if symbol_pointer else b""
    table = optional + optional_size
    _need(data, path, table, C.SECTION_HEADER_SIZE * count, f"section table ({count} headers)")
    sections = [_section(data, path, table + C.SECTION_HEADER_SIZE * i, i + 1, strings, bool(header), lenient)
                for i in range(count)]
    out = InputFile(path, data, header, machine, symbol_pointer, symbol_count, optional_size, sections, [], strings)
    out.symbols = _symbols(out, lenient)
    return out


def _need(data: bytes, path: str, start: int, size: int, what: str) -> None:
    if start < 0 or size < 0 or start + size > len(data):
        raise ContainerError(f"{path}: {what} at 0x{start:x} (0x{size:x} bytes) runs past the end of the file "
                             f"(0x{len(data):x})")


def _string_table(data: bytes, path: str, symbol_pointer: int, symbol_count: int) -> bytes:
    if not symbol_pointer:
        return b""
    _need(data, path, symbol_pointer, C.SYMBOL_SIZE * symbol_count, f"symbol table ({symbol_count} records)")
    start = symbol_pointer + C.SYMBOL_SIZE * symbol_count
    if start == len(data):
        return b""
    _need(data, path, start, 4, "string table size")
    size = string_table_size(data, start)
    if size < 4:
        raise ContainerError(f"{path}: string table at 0x{start:x} claims {size} bytes, less than its own size field")
    _need(data, path, start, size, "string table")
    return data[start:start + size]


def _string(strings: bytes, offset: int, path: str, what: str, fallback: str | None = None) -> str:
    """The name at ``offset``; when it is not one, ``fallback`` if given, else an error."""
    end = strings.find(b"\0", offset)
    if offset < 4 or end < 0:
        if fallback is not None:
            return fallback
        raise ContainerError(f"{path}: {what}: string table offset {offset} is not a name in the string table "
                             f"(0x{len(strings):x} bytes)")
    return strings[offset:end].decode("utf-8", "replace")


def _short_name(raw: bytes, lenient: bool) -> bytes:
    """An 8-byte name field; the lenient reader ends it at the first NUL as llvm-objdump does."""
    return raw.split(b"\0", 1)[0] if lenient else raw.rstrip(b"\0")


def _section(data: bytes, path: str, at: int, number: int, strings: bytes, is_image: bool,
             lenient: bool) -> InputSection:
    raw_name, vsize, vaddr, raw_size, raw_pointer, reloc_pointer, line_pointer, nreloc, nline, flags = \
        section_header(data, at)
    short = _short_name(raw_name, lenient)
    name = short.decode("utf-8", "replace")
    long_name = long_name_offset(short)
    if long_name is not None:
        name = _string(strings, long_name, path, f"section {number} at 0x{at:x}", name if lenient else None)
    where = f"section {number} ({name})"
    need = _need if not lenient else lambda *_: None  # the lenient reader checks what it uses itself
    if raw_pointer:
        need(data, path, raw_pointer, raw_size, f"{where} raw data")
    extended = False
    if is_image:
        nreloc = nline = 0  # meaningless in images (ld writes zeros)
    elif flags & C.IMAGE_SCN_LNK_NRELOC_OVFL and nreloc == C.MAX_RELOCATIONS_IN_HEADER \
            and (not lenient or reloc_pointer + C.RELOCATION_SIZE <= len(data)):
        _need(data, path, reloc_pointer, C.RELOCATION_SIZE, f"{where} relocation count record")
        nreloc = relocation_overflow_count(data, reloc_pointer)
        extended = True
    need(data, path, reloc_pointer, C.RELOCATION_SIZE * nreloc, f"{where} relocations")
    need(data, path, line_pointer, _LINENUMBER_SIZE * nline, f"{where} line numbers")
    return InputSection(number, name, raw_name, vsize, vaddr, raw_size, raw_pointer, reloc_pointer, line_pointer,
                        nreloc, nline, flags, extended)


def _symbols(f: InputFile, lenient: bool) -> list[InputSymbol]:
    out: list[InputSymbol] = []
    index = 0
    while index < f.symbol_count:
        at = f.symbol_pointer + C.SYMBOL_SIZE * index
        if lenient and at + C.SYMBOL_SIZE > len(f.data):
            break  # a truncated table: the symbols that are there
        raw_name, value, section, type_, storage, aux = _SYMBOL.unpack_from(f.data, at)
        if raw_name[:4] == b"\0\0\0\0":
            name = _string(f.strings, int.from_bytes(raw_name[4:], "little"), f.path, f"symbol {index}",
                           "" if lenient else None)
        else:
            name = _short_name(raw_name, lenient).decode("utf-8", "replace")
        # (The lenient reader looks up only the symbols relocations name, and reports those it cannot.)
        if not lenient and index + 1 + aux > f.symbol_count:
            raise f.fail(f"symbol {index} ({name}) at 0x{at:x} has {aux} auxiliary records past the end of the "
                         f"symbol table ({f.symbol_count} records)")
        if not lenient and section > len(f.sections):
            raise f.fail(f"symbol {index} ({name}) at 0x{at:x} is in section {section}; the file has "
                         f"{len(f.sections)}")
        out.append(InputSymbol(index, name, value, section, type_, storage, aux))
        index += 1 + aux
    return out
