"""Rewriting the DWARF of a Mach-O object (``MH_OBJECT``, one segment holding every section, as clang writes it).

Every section of segment ``__DWARF`` (``__debug_*``, and the ``__apple_*`` accelerator tables, which index the old
DWARF and would be stale) is dropped with its relocation records; the new debug sections take the place of the
first dropped one in the section list. Everything else keeps its bytes and its addresses (code and data hold
section-relative values that count on them): only file offsets move, and section ordinals where a dropped section
came before. The ordinals are renumbered in the symbol table (``n_sect``) and in the section-based relocation records
of the kept sections (``r_symbolnum``), the only places that hold them.

New debug sections get addresses after every kept section's (the old debug sections' addresses are left unused) and
relocation records as clang writes them (see :mod:`.relocatable`): an ADDRESS of a defined symbol or of a section
``SEGNAME,sectname`` is a section-based ``*_RELOC_UNSIGNED`` whose field holds the address in the object, of an
undefined symbol an extern one whose field holds the addend; offsets into debug sections (SECTION, UNIT) carry no
record, as in clang's objects. File layout, packed: header and load commands, the kept sections' bytes (in their
old order), the new debug sections, then every relocation table, then the symbol table, string table and any other
table in their old order.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from dwarfkit.arch import Arch
from dwarfkit.encoding import align_up
from dwarfkit.errors import ContainerError
from dwarfkit.sections import DwarfSections, Relocation, RelocKind, encode_field

from . import constants as C
from .commands import Nlist64, RelocationInfo, Section64, SegmentCommand64
from .parse import LayoutError
from .rewrite_input import DWARF_SEGMENT, Input, Symbols, check_unique_names, debug_sections, dwarf_segment_section

ARM64_RELOC_ADDEND = 10
"""Its ``r_symbolnum`` is an addend, not a section ordinal."""
_LENGTH = {4: 2, 8: 3}


@dataclass
class _Placed:
    header: Section64
    data: bytes
    relocations: bytes
    nreloc: int


def rewrite_object(parsed: Input, dwarf: DwarfSections) -> bytes:
    path = parsed.path
    segment_commands = [c for c in parsed.commands if c.cmd == C.LC_SEGMENT_64]
    if len(segment_commands) != 1:
        raise ContainerError(f"{path}: an object has one segment; this one has {len(segment_commands)}")
    old = parsed.macho.segments[0]
    kept = [(number, s) for number, s in enumerate(old.sections, 1) if s.segname != DWARF_SEGMENT]
    first_debug = next((i for i, s in enumerate(old.sections) if s.segname == DWARF_SEGMENT), len(old.sections))
    insert_at = sum(1 for number, _ in kept if number <= first_debug)

    address = max((s.addr + s.size for _, s in kept), default=0)
    new_debug: list[tuple[Section64, bytes, list[Relocation]]] = []
    for d in debug_sections(dwarf):
        header = dwarf_segment_section(d.name, len(d.data), d.alignment)
        address = align_up(address, 1 << header.align)
        header.addr = address
        address += header.size
        new_debug.append((header, bytes(d.data), d.relocations))

    kept_headers = [_copy(s) for _, s in kept]
    headers = kept_headers[:insert_at] + [h for h, _, _ in new_debug] + kept_headers[insert_at:]
    check_unique_names(headers, path)
    ordinal = {number: i + 1 + (len(new_debug) if i >= insert_at else 0) for i, (number, _) in enumerate(kept)}

    placed = [_Placed(h, b"" if s.is_zerofill else parsed.data[s.offset:s.offset + s.size],
                      *_kept_relocations(parsed, s, ordinal))
              for (_, s), h in zip(kept, kept_headers, strict=True)]
    symbols = Symbols(parsed)
    placed += [_Placed(h, *_debug_relocations(parsed, symbols, ordinal, h, data, relocations))
               for h, data, relocations in new_debug]
    by_header = {id(p.header): p for p in placed}
    sections = [by_header[id(h)] for h in headers]

    segment = SegmentCommand64(old.segname, old.vmaddr, 0, 0, 0, old.maxprot, old.initprot, old.flags, headers)
    sizeofcmds = sum(len(c.data) for c in parsed.commands) + C.SECTION_64_SIZE * (len(headers) - len(old.sections))
    segment.fileoff = cursor = C.MACH_HEADER_64_SIZE + sizeofcmds
    blobs: list[tuple[int, bytes]] = []
    # Section contents: kept ones in their old file order, then the new debug sections.
    in_file = sorted((p for p in sections if not p.header.is_zerofill and p.header.segname != DWARF_SEGMENT),
                     key=lambda p: p.header.offset)  # still the old offset: new ones are given in this order
    for p in in_file + [p for p in sections if p.header.segname == DWARF_SEGMENT]:
        if p.header.offset == 0 and p.header.segname != DWARF_SEGMENT and not p.data:
            continue  # an empty section clang gave no file offset
        cursor = align_up(cursor, 1 << min(p.header.align, 4))
        p.header.offset = cursor
        blobs.append((cursor, p.data))
        cursor += len(p.data)
    segment.filesize = cursor - segment.fileoff
    segment.vmsize = max(old.vmsize, address - old.vmaddr, segment.filesize)
    for p in sections:
        p.header.reloff, p.header.nreloc = 0, p.nreloc
        if p.nreloc:
            cursor = align_up(cursor, 8)
            p.header.reloff = cursor
            blobs.append((cursor, p.relocations))
            cursor += len(p.relocations)

    commands = [bytearray(segment.encode()) if c.cmd == C.LC_SEGMENT_64 else bytearray(c.data)
                for c in parsed.commands]
    position = {id(c): i for i, c in enumerate(parsed.commands)}
    # The other tables, in their old order: the symbol table with its sections renumbered.
    for command, at, offset, size in sorted(parsed.tables(), key=lambda t: t[2]):
        data = parsed.data[offset:offset + size]
        if command.cmd == C.LC_SYMTAB and at == 8:
            data = _renumbered_symbols(parsed, data, ordinal)
        cursor = align_up(cursor, 8)
        struct.pack_into("<I", commands[position[id(command)]], at, cursor)
        blobs.append((cursor, data))
        cursor += size

    mach_header = bytearray(parsed.data[:C.MACH_HEADER_64_SIZE])
    struct.pack_into("<I", mach_header, 20, sizeofcmds)
    out = bytearray(mach_header + b"".join(commands))
    for at, blob in blobs:
        out += bytes(at - len(out))
        out += blob
    return bytes(out)


def _copy(s: Section64) -> Section64:
    return Section64(s.sectname, s.segname, s.addr, s.size, s.offset, s.align, 0, 0, s.flags, s.reserved1,
                     s.reserved2, s.reserved3)


def _kept_relocations(parsed: Input, s: Section64, ordinal: dict[int, int]) -> tuple[bytes, int]:
    """A kept section's relocation records, with the section ordinals of section-based ones renumbered."""
    try:
        records = parsed.macho.relocations(s)
    except LayoutError as e:  # check_layout has refused such a file already: kept for safety
        raise ContainerError(f"{parsed.path}: {s.segname},{s.sectname}: {e.what}") from None
    for i, record in enumerate(records):
        where = f"{parsed.path}: relocation {i} of {s.segname},{s.sectname}"
        if record.address < 0:
            raise ContainerError(f"{where} is scattered, which 64-bit Mach-O files do not use")
        if record.extern or (parsed.macho.arch is Arch.AARCH64 and record.type == ARM64_RELOC_ADDEND) \
                or record.symbolnum == 0:
            continue
        if record.symbolnum not in ordinal:
            raise ContainerError(f"{where} points into section {record.symbolnum}, a debug section (or none): the "
                                 f"rewrite drops those")
        record.symbolnum = ordinal[record.symbolnum]
    return b"".join(record.encode() for record in records), s.nreloc


def _renumbered_symbols(parsed: Input, table: bytes, ordinal: dict[int, int]) -> bytes:
    out = bytearray(table)
    for i in range(len(table) // C.NLIST_64_SIZE):
        sym = Nlist64.decode(table, i * C.NLIST_64_SIZE)
        if sym.sect == C.NO_SECT or not (sym.is_stab or sym.type & C.N_TYPE == C.N_SECT):
            continue
        if sym.sect not in ordinal:
            raise ContainerError(f"{parsed.path}: symbol {i} ({parsed.macho.symbols[i][0]!r}) is defined in section "
                                 f"{sym.sect}, a debug section the rewrite drops (or none)")
        out[i * C.NLIST_64_SIZE + 5] = ordinal[sym.sect]
    return bytes(out)


def _debug_relocations(parsed: Input, symbols: Symbols, ordinal: dict[int, int], header: Section64, data: bytes,
                       relocations: list[Relocation]) -> tuple[bytes, bytes, int]:
    """(bytes with every relocated field written as clang writes it, relocation records, their count)."""
    buf = bytearray(data)
    records: list[RelocationInfo] = []
    unsigned = C.X86_64_RELOC_UNSIGNED if parsed.macho.arch is Arch.X86_64 else C.ARM64_RELOC_UNSIGNED
    for r in relocations:
        where = f"{parsed.path}: {r.target!r} at {header.sectname}+0x{r.offset:x}"
        if r.kind in (RelocKind.ENTRY, RelocKind.UNIT, RelocKind.SECTION):
            continue  # each debug section is one piece from offset 0: the bytes hold the offset, as clang's do
        if r.kind is not RelocKind.ADDRESS:
            raise ContainerError(f"{where}: a {r.kind.value} relocation in a Mach-O debug section has no record "
                                 f"that ld64 and dsymutil read (clang writes addresses only)")
        if r.size not in _LENGTH:
            raise ContainerError(f"{where}: a Mach-O address field is 4 or 8 bytes, not {r.size}")
        found = symbols.find(r.target)
        if found is None:
            raise ContainerError(f"{where}: relocation against {r.target!r}, which is neither a symbol nor a section "
                                 f"of the input")
        index, entry = found
        if isinstance(entry, Section64):  # "SEGNAME,sectname": an address in that section
            number = symbols.sections[r.target][0]
            value, record = entry.addr + r.addend, RelocationInfo(r.offset, ordinal[number], False, _LENGTH[r.size],
                                                                  False, unsigned)
        elif entry.type & C.N_TYPE == C.N_SECT and not entry.is_stab:  # defined: section-based, as clang
            if entry.sect not in ordinal:
                raise ContainerError(f"{where}: the symbol is in section {entry.sect}, which the rewrite drops")
            value, record = entry.value + r.addend, RelocationInfo(r.offset, ordinal[entry.sect], False,
                                                                   _LENGTH[r.size], False, unsigned)
        else:  # undefined (or absolute): the linker adds the symbol's value to the addend in the field
            assert index is not None
            value, record = r.addend, RelocationInfo(r.offset, index, False, _LENGTH[r.size], True, unsigned)
        buf[r.offset:r.offset + r.size] = encode_field(value, r.size, "little", header.sectname, r)
        records.append(record)
    records.sort(key=lambda rec: -rec.address)  # clang lists them last field first
    return bytes(buf), b"".join(rec.encode() for rec in records), len(records)
