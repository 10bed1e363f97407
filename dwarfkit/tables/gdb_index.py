"""``.gdb_index`` version 8, the index gdb reads from an ELF file (gdb's "Index Section Format").

Layout: six little-endian 32-bit words (version, then the offsets of the CU list, the type unit list, the address
area, the symbol table and the constant pool), the CU list (each compile unit's ``.debug_info`` offset and length, 8
bytes each), the type unit list (DWARF 4 ``.debug_types`` units: offset, type offset, signature), the address area
(``low``, ``high`` (exclusive), 8 bytes each, and the CU's number), the symbol table (an open-addressed hash table of
``(name offset, CU vector offset)`` pairs into the constant pool, a power of two of slots, at least 1024 and at most
three quarters full, probed as gdb probes it with :func:`gdb_hash`), and the constant pool: CU vectors (a count,
then per unit its number with the symbol's kind in bits 28-30 and "static" in bit 31), one per name and never
shared (llvm-dwarfdump-14 reads as many vectors as there are names before the strings), then the names.

Where addresses come from: the address area is written with the core's ADDRESS relocations (symbol + offset), so the
backend that knows the final layout resolves them as it resolves ``DW_AT_low_pc`` (``DwarfSections.resolve`` in an
executable; a loaded file's addresses are numbers already). The table therefore means something in a linked ELF file
only, which is where gdb reads it. DWARF 5 type units in ``.debug_info`` have no place in version 8 (gdb 13 refuses
the index then): asking for it raises. Names are the ones gdb's own ``save gdb-index`` writes: qualified in C++
(``ns::f``), no linkage names, enumerators and abstract inline functions included. Imports the foundations only.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..address import Address, as_address
from ..encoding import Encoding
from ..errors import LayoutError
from ..sections import Section
from ..writer import SectionWriter

VERSION = 8
KIND_TYPE, KIND_VARIABLE, KIND_FUNCTION, KIND_OTHER = 1, 2, 3, 4
EXTERNAL, LINKAGE, GDB_ONLY, CPLUS = 1, 2, 4, 8   # index_entries' flags
_TAG_SUBPROGRAM, _TAG_INLINED, _TAG_LABEL = 0x2e, 0x1d, 0x0a
_VARIABLES = {0x34, 0x27, 0x28}                    # variable, constant, enumerator
_OTHERS = {0x1e, 0x1a}                             # module, common_block


def gdb_hash(name: str) -> int:
    """gdb's ``mapped_index_string_hash`` (index version 5 on): ``r = r * 67 + tolower(c) - 113`` over the bytes."""
    h = 0
    for byte in name.encode("utf-8", "surrogateescape"):
        if 0x41 <= byte <= 0x5A:
            byte += 0x20
        h = (h * 67 + byte - 113) & 0xFFFFFFFF
    return h


def _kind(entry: Any) -> tuple[int, bool] | None:
    """(symbol kind, static) of an entry, or None for what gdb does not list (inlined copies, labels)."""
    tag = entry.tag
    if entry.flags & LINKAGE or tag in (_TAG_INLINED, _TAG_LABEL):
        return None
    external = bool(entry.flags & EXTERNAL)
    if tag == _TAG_SUBPROGRAM:
        return KIND_FUNCTION, not external
    if tag in _VARIABLES:
        return KIND_VARIABLE, not external if tag != 0x28 else not entry.flags & CPLUS  # enumerators: as types
    if tag in _OTHERS:
        return KIND_OTHER, not external
    return KIND_TYPE, not entry.flags & CPLUS  # types (and namespaces) are global in C++, static in C


def gdb_index_section(encoding: Encoding, units: Sequence[Any], entries: Sequence[Any],
                      ranges: Sequence[tuple[int, Sequence[tuple[Any, int]]]]) -> Section:
    """``.gdb_index`` for ``units`` (``IndexedUnit``), ``entries`` (``NameEntry``) and each compile unit's address
    ranges ``[(unit offset, [(start, length), ...]), ...]`` (starts: Address or int)."""
    cus = [i for i, u in enumerate(units) if not u.is_type_unit]
    tus = [i for i, u in enumerate(units) if u.is_type_unit]
    if any(units[i].section != ".debug_types" for i in tus):
        raise LayoutError(".gdb_index: DWARF 5 type units (in .debug_info) cannot be listed in a version 8 index; "
                          "use names='debug_names' or no type units")
    number = {unit: n for n, unit in enumerate(cus + tus)}
    cu_by_offset = {units[i].offset: number[i] for i in cus}

    symbols: dict[str, set[int]] = {}
    for entry in entries:
        kind = _kind(entry)
        if kind is None or entry.unit not in number:
            continue
        name = entry.qualified if entry.flags & CPLUS else entry.name
        symbols.setdefault(name, set()).add(number[entry.unit] | kind[0] << 28 | int(kind[1]) << 31)

    size = 1024
    while len(symbols) * 4 // 3 >= size:
        size *= 2
    slots: list[tuple[str, int] | None] = [None] * size
    pool = bytearray()
    placed: list[tuple[int, str, int]] = []
    for name in sorted(symbols):   # one CU vector per name (not shared): llvm-dwarfdump-14 reads one per slot
        values = sorted(symbols[name])
        placed.append((gdb_hash(name), name, len(pool)))
        pool += len(values).to_bytes(4, "little")
        for value in values:
            pool += value.to_bytes(4, "little")
    name_at: dict[str, int] = {}
    for _, name, _ in placed:
        name_at[name] = len(pool)
        pool += name.encode("utf-8", "surrogateescape") + b"\0"
    mask = size - 1
    for h, name, vector in placed:
        index, step = h & mask, ((h * 17) & mask) | 1
        while slots[index] is not None:
            index = (index + step) & mask
        slots[index] = (name, vector)

    w = SectionWriter(".gdb_index", encoding)
    header = w.pos
    w.raw(bytes(24))
    cu_list = w.pos
    for i in cus:
        w.raw(units[i].offset.to_bytes(8, "little") + units[i].length.to_bytes(8, "little"))
    tu_list = w.pos
    for i in tus:
        unit = units[i]
        w.raw(unit.offset.to_bytes(8, "little") + unit.type_offset.to_bytes(8, "little")
              + unit.signature.to_bytes(8, "little"))
    area = w.pos
    for offset, unit_ranges in ranges:
        cu = cu_by_offset.get(offset)
        if cu is None:
            continue
        for start, length in unit_ranges:
            if length <= 0:
                continue
            low: Address = as_address(start)
            w.address(low, 8)
            w.address(low + length, 8)
            w.raw(cu.to_bytes(4, "little"))
    table = w.pos
    for slot in slots:
        w.raw(bytes(8) if slot is None else name_at[slot[0]].to_bytes(4, "little") + slot[1].to_bytes(4, "little"))
    constants = w.pos
    w.raw(pool)
    w.data[header:header + 24] = b"".join(v.to_bytes(4, "little") for v in
                                          (VERSION, cu_list, tu_list, area, table, constants))
    return w.section
