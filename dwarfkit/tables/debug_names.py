"""``.debug_names`` (DWARF 5, 6.1.1): one name index over every compile unit of the program. Layout as LLVM writes it:
the header (version 5, an empty augmentation string), the compile units' offsets (SECTION relocations against
``.debug_info``), a hash table of ``folded_djb_hash`` values in buckets (their number chosen from the count of
distinct hashes as LLVM does), the names' ``.debug_str`` offsets (SECTION relocations) and entry offsets, the
abbreviations, then the entry pool: per name its entries, each ``DW_IDX_compile_unit`` (``udata``: gdb 13 reads no
``data1``..``data4`` there), ``DW_IDX_die_offset`` (``ref4``, from the unit's start) and, for a DIE inside an
indexed namespace or type, ``DW_IDX_parent``: the number of the parent's name in the name table (``udata``, a
constant as DWARF 5 and llvm-dwarfdump-14 read it, not clang 17's ``ref4`` into the pool).

Type units are not listed and their DIEs are not indexed, as clang 14 does: llvm-dwarfdump-14's verifier reads an
entry without ``DW_IDX_compile_unit`` in an index of several units as an error, and gdb 13 drops an index with a
type unit list. Entries come from :class:`dwarfkit.info.index_entries.NameCollector`, given as plain values here
(this module sits below ``info``). Imports the foundations only.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..encoding import Encoding, uleb128
from ..errors import LayoutError
from ..sections import RelocKind, Section
from ..strings import StringTable
from ..writer import SectionWriter

DW_IDX_compile_unit, DW_IDX_die_offset, DW_IDX_parent = 1, 3, 4
DW_FORM_udata, DW_FORM_ref4 = 0x0f, 0x13
GDB_ONLY = 4   # index_entries.GDB_ONLY: entries only .gdb_index lists


def djb_hash(text: str, seed: int = 5381) -> int:
    """Bernstein's hash over the UTF-8 bytes (``.debug_names`` and the Apple tables)."""
    h = seed
    for byte in text.encode("utf-8", "surrogateescape"):
        h = (h * 33 + byte) & 0xFFFFFFFF
    return h


def folded_djb_hash(text: str) -> int:
    """The hash of ``.debug_names`` (DWARF 5, 6.1.1.4.5): djb over the case-folded name (simple folding, as LLVM's
    caseFoldingDjbHash: a character whose lower case is one character becomes it)."""
    return djb_hash("".join(c if len(c.lower()) != 1 else c.lower() for c in text))


def bucket_count(unique_hashes: int) -> int:
    """LLVM's choice: a quarter of the distinct hashes above 1024 of them, a half above 16, else one per hash."""
    if unique_hashes > 1024:
        return unique_hashes // 4
    if unique_hashes > 16:
        return unique_hashes // 2
    return max(unique_hashes, 1)


def hashed_names(names: Sequence[str], hash_of: Any = djb_hash) -> tuple[list[tuple[int, int, str]], int]:
    """The names as ``(bucket, hash, name)`` in table order (by bucket, then hash, then text), and the bucket
    count."""
    hashes = {name: hash_of(name) for name in names}
    buckets = bucket_count(len(set(hashes.values())))
    order = sorted((h % buckets, h, name) for name, h in hashes.items())
    return order, buckets


def debug_names_section(encoding: Encoding, units: Sequence[Any], entries: Sequence[Any],
                        strings: StringTable) -> Section:
    """``.debug_names`` for the compile units among ``units`` (``IndexedUnit``) and ``entries`` (``NameEntry``
    with ``name``, ``tag``, ``offset``, ``unit``, ``parent``, ``flags``); the names go into ``strings``."""
    if encoding.version < 5:
        raise LayoutError(f".debug_names is DWARF 5: the program is DWARF {encoding.version}")
    cus = [i for i, unit in enumerate(units) if not unit.is_type_unit]
    cu_number = {unit: n for n, unit in enumerate(cus)}
    by_name: dict[str, list[Any]] = {}
    for entry in entries:
        if not entry.flags & GDB_ONLY and entry.unit in cu_number:
            by_name.setdefault(entry.name, []).append(entry)
    order, buckets = hashed_names(list(by_name), folded_djb_hash)
    name_number = {name: n + 1 for n, (_, _, name) in enumerate(order)}
    # Parents are named by their name's number; an entry's parent must itself be in this index.
    entry_ids = {id(e) for group in by_name.values() for e in group}

    abbrevs: dict[tuple[int, bool], int] = {}
    pool = bytearray()
    entry_offsets: list[int] = []
    for _, _, name in order:
        entry_offsets.append(len(pool))
        for entry in sorted(by_name[name], key=lambda e: (e.unit, e.offset)):
            parent = entry.parent if entry.parent is not None and id(entry.parent) in entry_ids else None
            key = (entry.tag, parent is not None)
            code = abbrevs.setdefault(key, len(abbrevs) + 1)
            unit = units[entry.unit]
            pool += uleb128(code) + uleb128(cu_number[entry.unit])
            pool += (entry.offset - unit.offset).to_bytes(4, encoding.byteorder)
            if parent is not None:
                pool += uleb128(name_number[parent.name])
        pool.append(0)
    abbrev_table = bytearray()
    for (tag, has_parent), code in abbrevs.items():
        abbrev_table += uleb128(code) + uleb128(tag)
        abbrev_table += uleb128(DW_IDX_compile_unit) + uleb128(DW_FORM_udata)
        abbrev_table += uleb128(DW_IDX_die_offset) + uleb128(DW_FORM_ref4)
        if has_parent:
            abbrev_table += uleb128(DW_IDX_parent) + uleb128(DW_FORM_udata)
        abbrev_table += b"\0\0"
    abbrev_table.append(0)

    w = SectionWriter(".debug_names", encoding)
    start = w.begin_length()
    w.u16(5)
    w.u16(0)                    # padding
    w.u32(len(cus))
    w.u32(0)                    # local type units
    w.u32(0)                    # foreign type units
    w.u32(buckets if order else 0)
    w.u32(len(order))
    w.u32(len(abbrev_table))
    w.u32(0)                    # augmentation string size: none
    for i in cus:
        w.offset_field(units[i].offset, RelocKind.SECTION, ".debug_info")
    if order:
        first = [0] * buckets
        for n, (bucket, _, _) in enumerate(order):
            if not first[bucket]:
                first[bucket] = n + 1
        for value in first:
            w.u32(value)
        for _, h, _ in order:
            w.u32(h)
    for _, _, name in order:
        w.offset_field(strings.add(name), RelocKind.SECTION, strings.name)
    for offset in entry_offsets:
        w.uint(offset, encoding.offset_size)
    w.raw(abbrev_table)
    w.raw(pool)
    w.end_length(start)
    return w.section
