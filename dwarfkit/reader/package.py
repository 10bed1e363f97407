"""The unit indexes of a DWARF package (``.dwp``): ``.debug_cu_index`` and ``.debug_tu_index``, DWARF 5 section
7.3.5 (index version 5) and the GNU extension for DWARF 4 that it standardised (version 2).

A package concatenates the ``.debug_*.dwo`` sections of many ``.dwo`` files; each index row says, for one unit
(a compile unit by its DWO id, a type unit by its signature), where its contribution to each section starts and how
long it is. A unit's abbreviation offset, string-offsets base, line table offset and list offsets are relative to
its contributions: ``units.DwarfContext`` applies the rows when it reads a package's units (``Unit.contributions``).

Layout: a header (version 5: ``uhalf`` version, ``uhalf`` padding; version 2: ``uword`` version; then ``uword``
section count N, unit count U, slot count S), S 8-byte signatures, S 4-byte row numbers (1-based, 0 for an empty
slot), N ``uword`` section ids, then U rows of N offsets and U rows of N sizes. Every count is checked against the
bytes there before anything is read: a hostile index gives ``.debug_cu_index[0xOFFSET]: message`` problems and the
rows that could be read, never an exception. ``dump_index_text`` prints an index as llvm-dwarfdump-14 does.

Imports only the standard library, ``debugfile`` (a type) and ``errors_text``; ``units`` imports it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from .debugfile import ByteOrder
from .errors_text import where

# Section ids per index version -> llvm-dwarfdump's column name and the (normalised) section it indexes.
COLUMNS_V5 = {1: ("INFO", "debug_info"), 3: ("ABBREV", "debug_abbrev"), 4: ("LINE", "debug_line"),
              5: ("LOCLISTS", "debug_loclists"), 6: ("STR_OFFSETS", "debug_str_offsets"), 7: ("MACRO", "debug_macro"),
              8: ("RNGLISTS", "debug_rnglists")}
COLUMNS_V2 = {1: ("INFO", "debug_info"), 2: ("TYPES", "debug_types"), 3: ("ABBREV", "debug_abbrev"),
              4: ("LINE", "debug_line"), 5: ("LOC", "debug_loc"), 6: ("STR_OFFSETS", "debug_str_offsets"),
              7: ("MACINFO", "debug_macinfo"), 8: ("MACRO", "debug_macro")}
INDEX_SECTIONS = ("debug_cu_index", "debug_tu_index")


def columns_for(version: int) -> dict[int, tuple[str, str]]:
    return COLUMNS_V5 if version == 5 else COLUMNS_V2


@dataclass
class IndexRow:
    slot: int
    """The hash-table slot (0-based; llvm-dwarfdump prints it 1-based as "Index")."""
    signature: int
    offsets: list[int]
    sizes: list[int]
    contributions: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Normalised section name -> (offset, size) of this unit's contribution."""


@dataclass
class UnitIndex:
    section: str
    version: int = 0
    column_ids: list[int] = field(default_factory=list)
    unit_count: int = 0
    slot_count: int = 0
    rows: list[IndexRow] = field(default_factory=list)
    """The filled slots, in slot order."""
    problems: list[str] = field(default_factory=list)

    def by_signature(self, signature: int) -> IndexRow | None:
        """The row of a signature, found as a consumer finds it: through the hash table's probe sequence."""
        if self.slot_count == 0 or self.slot_count & (self.slot_count - 1):
            return next((r for r in self.rows if r.signature == signature), None)
        slots = {r.slot: r for r in self.rows}
        mask = self.slot_count - 1
        h, step = signature & mask, ((signature >> 32) & mask) | 1
        for _ in range(self.slot_count):
            row = slots.get(h)
            if row is None:
                return None
            if row.signature == signature:
                return row
            h = (h + step) & mask
        return None


def read_index(data: bytes, section: str, order: str) -> UnitIndex:
    """Decode one index section; what cannot be read is a problem, what can is kept."""
    index = UnitIndex(section)
    if not data:
        return index
    end: ByteOrder = "little" if order == "little" else "big"

    def u32(pos: int) -> int:
        return int.from_bytes(data[pos:pos + 4], end)

    if len(data) < 16:
        index.problems.append(where(section, 0, f"index header is truncated ({len(data)} bytes, 16 needed)"))
        return index
    version = u32(0)
    if version != 2:
        version = int.from_bytes(data[0:2], end)
    if version not in (2, 5):
        index.problems.append(where(section, 0, f"index version {version} is not 2 (GNU DWARF 4) or 5"))
        return index
    index.version = version
    n, units, slots = u32(4), u32(8), u32(12)
    index.unit_count, index.slot_count = units, slots
    hashes, rows_at = 16, 16 + 8 * slots
    ids_at = rows_at + 4 * slots
    offsets_at = ids_at + 4 * n
    sizes_at = offsets_at + 4 * n * units
    if sizes_at + 4 * n * units > len(data):
        need = sizes_at + 4 * n * units
        index.problems.append(where(section, 0, f"index of {units} units, {slots} slots and {n} sections needs "
                                                f"0x{need:x} bytes; the section has 0x{len(data):x}"))
        return index
    if slots and units > slots:
        index.problems.append(where(section, 8, f"{units} units do not fit in {slots} slots"))
    if slots & (slots - 1):
        index.problems.append(where(section, 12, f"slot count {slots} is not a power of 2"))
    known = columns_for(version)
    index.column_ids = [u32(ids_at + 4 * k) for k in range(n)]
    for k, sid in enumerate(index.column_ids):
        if sid not in known:
            index.problems.append(where(section, ids_at + 4 * k, f"section id {sid} is not a DW_SECT_* value of index "
                                                                 f"version {version}"))
    units_column = 2 if version == 2 and section == "debug_tu_index" else 1
    if units and units_column not in index.column_ids:
        index.problems.append(where(section, ids_at, f"the index has no DW_SECT_{known[units_column][0]} column"))
    used: dict[int, int] = {}
    for slot in range(slots):
        row_number = u32(rows_at + 4 * slot)
        signature = int.from_bytes(data[hashes + 8 * slot:hashes + 8 * slot + 8], end)
        if row_number == 0:
            if signature:
                index.problems.append(where(section, hashes + 8 * slot, f"empty slot {slot} has signature "
                                                                        f"0x{signature:016x}"))
            continue
        if row_number > units:
            index.problems.append(where(section, rows_at + 4 * slot, f"slot {slot} names row {row_number}, past the "
                                                                      f"{units} rows of the index"))
            continue
        if row_number in used:
            index.problems.append(where(section, rows_at + 4 * slot, f"slot {slot} names row {row_number}, which slot "
                                                                      f"{used[row_number]} names too"))
            continue
        used[row_number] = slot
        r = row_number - 1
        offsets = [u32(offsets_at + 4 * (r * n + k)) for k in range(n)]
        sizes = [u32(sizes_at + 4 * (r * n + k)) for k in range(n)]
        row = IndexRow(slot, signature, offsets, sizes)
        for sid, off, size in zip(index.column_ids, offsets, sizes, strict=True):
            if sid in known:
                row.contributions[known[sid][1]] = (off, size)
        index.rows.append(row)
    return index


@dataclass
class PackageIndex:
    """Both indexes of a package, and the row of each unit by where its contribution starts."""
    cu: UnitIndex
    tu: UnitIndex
    _by_start: dict[tuple[str, int], IndexRow] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return self.cu.problems + self.tu.problems

    def row_at(self, section: str, offset: int) -> IndexRow | None:
        """The row whose contribution to ``section`` (``debug_info``/``debug_types``) starts at ``offset``."""
        if not self._by_start:
            for index in (self.tu, self.cu):
                for row in index.rows:
                    for name in ("debug_info", "debug_types"):
                        if name in row.contributions:
                            self._by_start[name, row.contributions[name][0]] = row
        return self._by_start.get((section, offset))


def read_package(sections: dict[str, bytes], order: str) -> PackageIndex | None:
    """The indexes of a split part (``DebugFile.split_part``), or None when it has neither."""
    if not any(sections.get(name) for name in INDEX_SECTIONS):
        return None
    return PackageIndex(read_index(sections.get("debug_cu_index", b""), "debug_cu_index", order),
                        read_index(sections.get("debug_tu_index", b""), "debug_tu_index", order))


def dump_index_text(index: UnitIndex, out: TextIO) -> None:
    """One index in llvm-dwarfdump-14's layout."""
    w = out.write
    w(f"version = {index.version}, units = {index.unit_count}, slots = {index.slot_count}\n\n")
    known = columns_for(index.version)
    names = [known[s][0] if s in known else f"Unknown: {s}" for s in index.column_ids]
    w("Index Signature         " + "".join(f" {name:<24}" for name in names) + "\n")
    w("----- ------------------" + " ------------------------" * len(names) + "\n")
    for row in index.rows:
        w(f"{row.slot + 1:5} 0x{row.signature:016x} " +
          "".join(f"[0x{o:08x}, 0x{o + s:08x}) " for o, s in zip(row.offsets, row.sizes, strict=True)) + "\n")
