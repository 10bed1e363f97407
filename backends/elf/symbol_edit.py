"""Editing an existing symbol table when the rewriter drops and adds sections, and everything that holds symbol
indices: relocation records, ``SHT_GROUP`` signatures, ``SHT_SYMTAB_SHNDX`` and clang's ``.llvm_addrsig``.

A symbol defined in a dropped section goes, except the ``STT_SECTION`` symbol of an old debug section whose name the
new DWARF has again: it moves to the new section, so a pass-through keeps the table as it was. Section symbols the new
relocations need and the object lacks, and new COMDAT groups' signature symbols, are added after the last local (the
ELF rule: locals first, ``sh_info`` the first non-local). The old -> new index map then renumbers every kept section
that refers to a symbol.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from elftools.elf.enums import ENUM_ST_INFO_BIND, ENUM_ST_INFO_TYPE

from dwarfkit.errors import ContainerError

from .elfinput import SHN_LORESERVE, SHN_XINDEX, SHT, InputElf, InputSection

SYM = struct.Struct("<IBBHQQ")
RELA = struct.Struct("<QQq")
REL = struct.Struct("<QQ")
STT_SECTION = ENUM_ST_INFO_TYPE["STT_SECTION"]
STT_NOTYPE = ENUM_ST_INFO_TYPE["STT_NOTYPE"]
STB_LOCAL = ENUM_ST_INFO_BIND["STB_LOCAL"]
# LLVM's address-significance table: ULEB128 symbol indices (no pyelftools constant for it).
SHT_LLVM_ADDRSIG = 0x6FFF4C03


@dataclass
class EditedSymbols:
    data: bytes
    shndx: bytes | None
    """The new ``SHT_SYMTAB_SHNDX`` contents, when the input had such a section."""
    first_global: int
    old_to_new: list[int]
    """New index of every input symbol; -1 for a dropped one."""
    section_symbol: dict[int, int] = field(default_factory=dict)
    """New section index -> the new index of its ``STT_SECTION`` symbol."""
    by_name: dict[str, int] = field(default_factory=dict)
    """Symbol name -> new index (the first defined symbol of that name, else the first undefined one)."""
    named: list[int] = field(default_factory=list)
    """The new index of each added named symbol (``edit_symbols``'s ``named``), in order."""

    @property
    def identity(self) -> bool:
        return all(new == old for old, new in enumerate(self.old_to_new))


def symbol_names(elf: InputElf, symtab: InputSection) -> list[str]:
    """Every symbol's name (``STT_SECTION`` symbols: ``""``), read from the table's ``sh_link`` string table."""
    strtab = elf.sections[symtab.link]
    table = bytes(elf.bytes_of(strtab))
    names = []
    for name, info, *_rest in _records(elf, symtab):
        if info & 0xF == STT_SECTION or name == 0:
            names.append("")
            continue
        end = table.find(b"\0", name)
        if name >= len(table) or end < 0:
            raise ContainerError(f"{elf.where(symtab)}: symbol {len(names)} names offset {name:#x}, outside its string "
                                 f"table {strtab.name} ({len(table):#x} bytes)")
        names.append(table[name:end].decode("utf-8", "replace"))
    return names


def _records(elf: InputElf, symtab: InputSection) -> list[tuple[int, int, int, int, int, int]]:
    data = elf.bytes_of(symtab)
    if symtab.entsize != SYM.size or len(data) % SYM.size:
        raise ContainerError(f"{elf.where(symtab)}: a symbol table of {len(data):#x} bytes with entries of "
                             f"{symtab.entsize} bytes (want {SYM.size})")
    return list(SYM.iter_unpack(data))


def edit_symbols(elf: InputElf, symtab: InputSection, section_map: dict[int, int], moved: dict[int, int],
                 wanted: Iterable[int], names: list[str], named: Sequence[tuple[int, int]] = ()) -> EditedSymbols:
    """The symbol table after the sections move (``section_map``: kept old index -> new index; ``moved``: old debug
    section -> new section its section symbol moves to). ``wanted``: new section indices that need a section symbol;
    ``named``: local ``STT_NOTYPE`` symbols to add, as (``st_name`` in the string table, new section index): the
    signatures of new COMDAT groups. Symbols of any other section that is not in ``section_map`` are dropped."""
    records = _records(elf, symtab)
    shndx_section = next((s for s in elf.sections if s.type == SHT["SHT_SYMTAB_SHNDX"] and s.link == symtab.index),
                         None)
    xindex: tuple[int, ...] = ()
    if shndx_section is not None:
        count = shndx_section.size // 4
        xindex = struct.unpack(f"<{count}I", elf.bytes_of(shndx_section)[:4 * count])
    locals_end = symtab.info
    if not 1 <= locals_end <= len(records):
        raise ContainerError(f"{elf.where(symtab)}: first non-local symbol sh_info {locals_end} is not within its "
                             f"{len(records)} symbols")
    # (old index or -1 for an added symbol, record with the new section index, whether st_shndx is a section index)
    kept: list[tuple[int, list[int], bool]] = []
    seen_section_symbol: set[int] = set()
    for i, record in enumerate(records):
        shndx = record[3]
        if shndx == SHN_XINDEX:
            if i >= len(xindex):
                raise ContainerError(f"{elf.where(symtab)}: symbol {i} has SHN_XINDEX but no SHT_SYMTAB_SHNDX entry")
            shndx = xindex[i]
        elif i == 0 or shndx == 0 or shndx >= SHN_LORESERVE:   # undefined, absolute, common ...: no section
            kept.append((i, list(record), False))
            continue
        is_section = record[1] & 0xF == STT_SECTION
        new = section_map.get(shndx)
        if new is None and is_section:
            new = moved.get(shndx)
        if new is None:
            if shndx >= len(elf.sections):
                raise ContainerError(f"{elf.where(symtab)}: symbol {i} is defined in section {shndx}, which does not "
                                     f"exist ({len(elf.sections)} sections)")
            continue   # defined in a dropped section
        if is_section and shndx not in section_map:
            if new in seen_section_symbol:
                continue   # several old debug sections of one name (COMDAT copies): one symbol moves
            seen_section_symbol.add(new)
        kept.append((i, [*record[:3], new, *record[4:]], True))
    have = {record[3] for _old, record, real in kept if real and record[1] & 0xF == STT_SECTION}
    added = [s for s in dict.fromkeys(wanted) if s not in have]
    locals_kept = sum(1 for k in kept if k[0] < locals_end)
    ordered = [*(k for k in kept if k[0] < locals_end),
               *((-1, [0, (STB_LOCAL << 4) | STT_SECTION, 0, s, 0, 0], True) for s in added),
               *((-1, [name, (STB_LOCAL << 4) | STT_NOTYPE, 0, s, 0, 0], True) for name, s in named),
               *(k for k in kept if k[0] >= locals_end)]
    first_global = locals_kept + len(added) + len(named)
    old_to_new = [-1] * len(records)
    section_symbol: dict[int, int] = {}
    first_of_name: dict[str, int] = {}
    data = bytearray()
    extended = [0] * len(ordered)
    for new_index, (old, fields, real) in enumerate(ordered):
        if old >= 0:
            old_to_new[old] = new_index
            name = names[old]
            if name and (name not in first_of_name or (records[first_of_name[name]][3] == 0 and fields[3] != 0)):
                first_of_name[name] = old
        if real and fields[1] & 0xF == STT_SECTION:
            section_symbol.setdefault(fields[3], new_index)
        if real and fields[3] >= SHN_LORESERVE:
            extended[new_index] = fields[3]
            fields = [*fields[:3], SHN_XINDEX, *fields[4:]]
        data += SYM.pack(*fields)
    shndx_data = None
    if shndx_section is not None:
        shndx_data = struct.pack(f"<{len(extended)}I", *extended)
    elif any(extended):
        raise ContainerError(f"{elf.path}: {len(elf.sections)} sections need an SHT_SYMTAB_SHNDX table, which the "
                             f"input does not have")
    by_name = {name: old_to_new[old] for name, old in first_of_name.items()}
    start = locals_kept + len(added)
    return EditedSymbols(bytes(data), shndx_data, first_global, old_to_new, section_symbol, by_name,
                         list(range(start, start + len(named))))


def renumber_relocations(elf: InputElf, section: InputSection, old_to_new: list[int]) -> bytes:
    """A kept relocation section's records with their symbol indices renumbered."""
    data = bytes(elf.bytes_of(section))
    record = RELA if section.type == SHT["SHT_RELA"] else REL
    if section.entsize != record.size or len(data) % record.size:
        raise ContainerError(f"{elf.where(section)}: relocation entries of {section.entsize} bytes (want "
                             f"{record.size}) in {len(data):#x} bytes")
    out = bytearray(data)
    for k, fields in enumerate(record.iter_unpack(data)):
        symbol = fields[1] >> 32
        if symbol == 0:
            continue
        new = old_to_new[symbol] if symbol < len(old_to_new) else -1
        if new < 0:
            raise ContainerError(f"{elf.where(section)}: relocation {k} at {fields[0]:#x} refers to symbol {symbol}, "
                                 f"which is defined in a dropped debug section or does not exist")
        struct.pack_into("<Q", out, k * record.size + 8, (new << 32) | (fields[1] & 0xFFFFFFFF))
    return bytes(out)


def renumber_addrsig(elf: InputElf, section: InputSection, old_to_new: list[int]) -> bytes:
    """``.llvm_addrsig``: ULEB128 symbol indices; a dropped symbol leaves the list."""
    data = bytes(elf.bytes_of(section))
    out = bytearray()
    pos = 0
    while pos < len(data):
        value, shift = 0, 0
        while True:
            if pos >= len(data):
                raise ContainerError(f"{elf.where(section)}: ULEB128 symbol index runs past the end at {pos:#x}")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        new = old_to_new[value] if value < len(old_to_new) else -1
        if new < 0:
            continue
        while True:
            byte, new = new & 0x7F, new >> 7
            out.append(byte | (0x80 if new else 0))
            if not new:
                break
    return bytes(out)
