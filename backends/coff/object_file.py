"""COFF relocatable objects (``.obj``/``.o``) that MinGW ld, lld-link and link.exe accept.

Layout: file header, section table, then each section's bytes followed by its relocations, then the symbol table
and the string table. Every section has a static section symbol (with its definition record) that section-relative
relocations (``SECREL``) point at; the image's symbols follow, external functions with their definition record.
"""
from __future__ import annotations

import os
import struct

from dwarfkit.errors import ContainerError, RelocationError
from dwarfkit.image import Image, Symbol
from dwarfkit.output import write_atomically
from dwarfkit.sections import Relocation, RelocKind, encode_field

from . import constants as C
from . import records
from .contents import OutputSection, collect_sections
from .machine import Machine, machine_for


def write_object(image: Image, path: str | os.PathLike[str]) -> None:
    """Writes ``image`` (code, data, symbols and DWARF) as a COFF object at ``path``, atomically."""
    write_atomically(path, object_bytes(image))


def object_bytes(image: Image) -> bytes:
    """The bytes of the COFF object for ``image``; raises before producing anything if the image cannot be written."""
    machine = machine_for(image.arch)
    image.validate()
    sections = collect_sections(image)
    if len(sections) > C.MAX_OBJECT_SECTIONS:
        raise ContainerError(f"COFF object: {len(sections)} sections, more than the format's "
                             f"{C.MAX_OBJECT_SECTIONS}")
    symbols = _SymbolTable(sections, image.symbols)
    relocation_blocks = [_relocations(s, symbols, machine) for s in sections]

    strings = records.StringTable()
    offset = C.FILE_HEADER_SIZE + C.SECTION_HEADER_SIZE * len(sections)
    headers = bytearray()
    body = bytearray()
    for section, (data, relocs, count) in zip(sections, relocation_blocks, strict=True):
        header = records.SectionHeader(section.name, section.flags
                                       | records.alignment_flag(max(section.alignment, 1), section.name),
                                       raw_size=section.size)
        if data:
            header.raw_pointer = offset + len(body)
            body += data
        if count:
            header.relocation_pointer = offset + len(body)
            header.relocation_count = min(count, C.MAX_RELOCATIONS_IN_HEADER)
            if count > C.MAX_RELOCATIONS_IN_HEADER:
                header.characteristics |= C.IMAGE_SCN_LNK_NRELOC_OVFL
            body += relocs
        headers += header.encode(strings)

    symbol_table = symbols.encode(strings, [count for _, _, count in relocation_blocks])
    symbol_pointer = offset + len(body)
    file_header = records.file_header(machine.machine, len(sections), symbol_pointer, symbols.count, 0, 0)
    return file_header + bytes(headers) + bytes(body) + symbol_table + strings.encode()


class _SymbolTable:
    """Section symbols first (one per section, each with an auxiliary record), then the image's symbols."""

    def __init__(self, sections: list[OutputSection], image_symbols: list[Symbol]) -> None:
        self.sections = sections
        self.image_symbols = image_symbols
        self.section_numbers = {s.source: i + 1 for i, s in enumerate(sections)}
        self.section_symbol: dict[str, int] = {}
        self.symbol_index: dict[str, int] = {}
        index = 0
        for s in sections:
            self.section_symbol[s.source] = index
            index += 2
        for sym in image_symbols:
            self.symbol_index[sym.name] = index
            index += 1 + records.image_symbol_aux_count(sym)
        self.count = index

    def encode(self, strings: records.StringTable, relocation_counts: list[int]) -> bytes:
        out = bytearray()
        for number, (s, count) in enumerate(zip(self.sections, relocation_counts, strict=True), start=1):
            out += records.symbol(s.name, strings, 0, number, C.IMAGE_SYM_TYPE_NULL, C.IMAGE_SYM_CLASS_STATIC, 1)
            out += records.section_definition_aux(s.name, s.size, count)
        for sym in self.image_symbols:
            number = C.IMAGE_SYM_UNDEFINED if sym.section is None else self.section_numbers[sym.section]
            out += records.image_symbol(sym, number, strings)
        return bytes(out)


def _relocations(section: OutputSection, symbols: _SymbolTable, machine: Machine) -> tuple[bytes | None, bytes, int]:
    """The section's bytes with in-place addends, its relocation records, and how many there are."""
    wanted = sorted((r for r in section.relocations if r.kind.needs_container_relocation), key=lambda r: r.offset)
    if not wanted:
        return section.data, b"", 0
    if section.data is None:
        raise RelocationError(f"{section.name}: uninitialised data cannot hold relocations")
    data = bytearray(section.data)
    records.pack(f"section {section.name}", "I", [("SizeOfRawData", len(data))])  # so every offset fits a record
    out = bytearray()
    if len(wanted) > C.MAX_RELOCATIONS_IN_HEADER:
        # IMAGE_SCN_LNK_NRELOC_OVFL: the first record's VirtualAddress holds the real count, itself included.
        out += records.relocation(section.name, len(wanted) + 1, 0, 0)
    types: dict[tuple[RelocKind, int], int] = {}
    for r in wanted:
        if not 0 <= r.offset <= len(data) - r.size:
            raise RelocationError(f"{section.name}+{r.offset:#x}: {r.size}-byte relocated field lies outside the "
                                  f"section (size {len(data):#x})")
        by_section = r.kind in (RelocKind.SECTION, RelocKind.UNIT)
        index = (symbols.section_symbol if by_section else symbols.symbol_index).get(r.target)
        if index is None:
            raise _missing_target(section, r, by_section)
        type_ = types.get((r.kind, r.size))
        if type_ is None:
            type_ = types[(r.kind, r.size)] = machine.relocation_type(r, section.name)
        # COFF keeps the addend in the field. REL32 counts from the byte after the field, our PCREL from the field.
        addend = r.addend + r.size if r.kind is RelocKind.PCREL else r.addend
        data[r.offset:r.offset + r.size] = encode_field(addend, r.size, "little", section.name, r)
        out += _RELOCATION.pack(r.offset, index, type_)
    count = len(wanted) + (1 if len(wanted) > C.MAX_RELOCATIONS_IN_HEADER else 0)
    return bytes(data), bytes(out), count


# One relocation record; the section size check above and the symbol count bound its fields.
_RELOCATION = struct.Struct("<IIH")


def _missing_target(section: OutputSection, r: Relocation, by_section: bool) -> RelocationError:
    where = f"{section.name}+{r.offset:#x}"
    if by_section:
        return RelocationError(f"{where}: offset into section {r.target!r}, which the object does not have")
    return RelocationError(f"{where}: relocation against unknown symbol {r.target!r} (declare it in Image.symbols, "
                           f"with section=None if it is defined elsewhere)")
