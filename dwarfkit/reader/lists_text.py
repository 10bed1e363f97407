"""Whole-section dumps of the list sections, in llvm-dwarfdump-14's layout: ``.debug_loc``, ``.debug_loclists``,
``.debug_ranges`` and ``.debug_rnglists``.

Each section is first read into plain records (``ListTable`` holding ``List``s of ``Entry``s) that the text dump,
``--json`` and ``--summary`` share; reading is sequential from offset 0, as llvm-dwarfdump reads these sections,
and stops at the first problem of a table (recorded as ``.section[0xOFFSET]: message``).

``read_loc(ctx, v5)``, ``read_ranges(ctx)``, ``read_rnglists(ctx)`` resolve only what llvm-dwarfdump resolves
without a unit (unit-less base type operands print as bare offsets; rnglists' ``.debug_addr`` indices need decoded
units, so tests run llvm with ``--debug-info`` too) and step over GCC's location-view pairs (``location_views``: the
``DW_AT_GNU_locviews`` offsets the units name), which llvm-dwarfdump-14 misreads. ``list_sections(ctx, flags)`` and
``write_summary`` (the ``--summary`` counts) serve ``dump``. In: a ``DwarfContext``; out: text, the ``"lists"``
member of ``--json``, problems (a damaged table stops that table; the other sections still print; exit 1).
The other whole-section dumps follow the same shape: ``str_offsets_text``, ``names_text``,
``tables.dump_pubnames(..., gnu=True)`` (``.debug_gnu_pubnames``/``pubtypes`` with the descriptor byte).
Tests: ``tests/test_dump_sections.py`` (each corpus file per section against llvm-dwarfdump-14, damaged copies).
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Iterator, TextIO

from ..encoding import decode_uleb128 as uleb
from .debugfile import ByteOrder
from .errors_text import where
from .expr import format_expr
from .units import DwarfContext, forget

# DW_LLE_* and DW_RLE_* names by code (DWARF 5, section 7.7.3 and 7.25).
LLE = ["DW_LLE_end_of_list", "DW_LLE_base_addressx", "DW_LLE_startx_endx", "DW_LLE_startx_length",
       "DW_LLE_offset_pair", "DW_LLE_default_location", "DW_LLE_base_address", "DW_LLE_start_end",
       "DW_LLE_start_length", "DW_LLE_GNU_view_pair"]  # 0x09: gcc -gvariable-location-views=incompat5
RLE = ["DW_RLE_end_of_list", "DW_RLE_base_addressx", "DW_RLE_startx_endx", "DW_RLE_startx_length",
       "DW_RLE_offset_pair", "DW_RLE_base_address", "DW_RLE_start_end", "DW_RLE_start_length"]
# Operands of each entry kind, the same for DW_LLE_* and DW_RLE_*: u = ULEB128, a = an address.
_OPERANDS = {"end_of_list": "", "base_addressx": "u", "startx_endx": "uu", "startx_length": "uu", "offset_pair": "uu",
             "default_location": "", "base_address": "a", "start_end": "aa", "start_length": "au",
             "GNU_view_pair": "uu"}
_LLE_WIDTH = max(len(n) for n in LLE)  # llvm pads raw entry names to the longest DW_LLE name
MAX_ENTRIES = 1 << 20  # per list; a list is also bounded by its section's bytes
BITS64 = (1 << 64) - 1  # llvm-dwarfdump adds base and offset in 64 bits


class _Truncated(Exception):
    pass


@dataclass
class Entry:
    kind: str            # DW_LLE_*/DW_RLE_* name (v4 entries use the DW_LLE_ name of their meaning)
    values: tuple        # the operands as encoded
    expr: bytes | None   # location entries: the expression
    range: tuple[int, int] | None = None  # resolved [start, end) when llvm-dwarfdump can resolve it


@dataclass
class List:
    offset: int
    entries: list[Entry] = field(default_factory=list)


@dataclass
class ListTable:
    offset: int
    header: dict | None  # DWARF 5 header fields; None for .debug_loc/.debug_ranges
    offsets: list[int] = field(default_factory=list)
    lists: list[List] = field(default_factory=list)


@dataclass
class ListSection:
    name: str
    address_size: int
    tables: list[ListTable] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def counts(self) -> tuple[int, int]:
        """(lists, entries) for --summary."""
        lists = [li for t in self.tables for li in t.lists]
        return len(lists), sum(1 for li in lists for e in li.entries if not e.kind.endswith("end_of_list"))


class _Reader:
    def __init__(self, data: bytes, order: ByteOrder, address_size: int):
        self.data, self.order, self.asz = data, order, address_size

    def operands(self, kind: str, off: int) -> tuple[tuple, int]:
        """The operands of a DWARF 5 list entry named ``kind`` (``DW_LLE_*``/``DW_RLE_*``) at ``off``."""
        values = []
        for operand in _OPERANDS[kind[7:]]:
            value, off = self.uleb(off) if operand == "u" else self.addr(off)
            values.append(value)
        return tuple(values), off

    def addr(self, off: int, size: int | None = None) -> tuple[int, int]:
        size = size or self.asz
        if off + size > len(self.data):
            raise _Truncated
        return int.from_bytes(self.data[off:off + size], self.order), off + size

    def uleb(self, off: int) -> tuple[int, int]:
        try:
            return uleb(self.data, off)
        except IndexError:
            raise _Truncated from None

    def byte(self, off: int) -> int:
        if off >= len(self.data):
            raise _Truncated
        return self.data[off]

    def block(self, off: int, n: int) -> tuple[bytes, int]:
        if off + n > len(self.data):
            raise _Truncated
        return self.data[off:off + n], off + n


def first_address_size(ctx: DwarfContext) -> int:
    units = ctx.units("debug_info")
    return units[0].address_size if units else ctx.file.address_size


def _header(r: _Reader, section: str, off: int, out: ListSection) -> tuple[dict, int, int, int] | None:
    """A DWARF 5 list table header at ``off``: (fields, offset size, first byte after the offset array, end)."""
    start = off
    try:
        length, off = r.addr(off, 4)
        osz = 4
        if length == 0xFFFFFFFF:
            length, off = r.addr(off, 8)
            osz = 8
        end = off + length
        if end > len(r.data) or length < 8:
            out.problems.append(where(section, start, f"table length 0x{length:x} runs past the end of the section "
                                                      f"(0x{len(r.data):x}) or cannot hold a header"))
            return None
        version, off = r.addr(off, 2)
        asz, off = r.addr(off, 1)
        ssz, off = r.addr(off, 1)
        count, off = r.addr(off, 4)
    except _Truncated:
        out.problems.append(where(section, start, "table header runs past the end of the section"))
        return None
    fields = {"length": length, "format": "DWARF64" if osz == 8 else "DWARF32", "version": version,
              "addr_size": asz, "seg_size": ssz, "offset_entry_count": count}
    if version != 5 or asz not in (2, 4, 8) or ssz != 0 or off + count * osz > end:
        out.problems.append(where(section, start, f"table header is invalid (version {version}, address size {asz}, "
                                                  f"segment selector size {ssz}, {count} offsets)"))
        return None
    return fields, osz, off, end


def read_loc(ctx: DwarfContext, v5: bool) -> ListSection:
    """``.debug_loc`` (one table without header) or ``.debug_loclists``."""
    name = "debug_loclists" if v5 else "debug_loc"
    data = ctx.file.section(name)
    out = ListSection(name, first_address_size(ctx))
    r = _Reader(data, ctx.order, out.address_size)
    views = location_views(ctx, v5)
    if not v5:
        table = ListTable(0, None)
        out.tables.append(table)
        if out.address_size not in (2, 4, 8):  # an entry of two 0-byte addresses would never advance
            out.problems.append(where(name, 0, f"address size {out.address_size} is invalid"))
            return out
        _read_lists(r, name, 0, len(data), table, out, version=4, views=views)
        return out
    off = 0
    while off < len(data):
        h = _header(r, name, off, out)
        if h is None:
            break
        fields, osz, pos, end = h
        count = fields["offset_entry_count"]
        table = ListTable(off, fields, [r.addr(pos + osz * k, osz)[0] for k in range(count)])
        out.tables.append(table)
        r.asz = fields["addr_size"]
        _read_lists(r, name, pos + osz * count, end, table, out, version=5, views=views)
        off = end
    return out


DW_AT_GNU_locviews = 0x2137
DW_AT_location = 0x02
LIST_OFFSET_FORMS = (0x17, 0x06, 0x07)  # DW_FORM_sec_offset; data4/data8 in DWARF 2-3


def location_views(ctx: DwarfContext, v5: bool = True) -> dict[int, int]:
    """GCC puts the view pairs of a location list (``DW_AT_GNU_locviews``) in ``.debug_loclists`` right before the
    list or before a run of lists (in ``.debug_loc`` for units before DWARF 5). A walk from the table's start must step
    over them: view offset -> its list's offset."""
    views: dict[int, int] = {}
    for unit in ctx.units():
        if (unit.version >= 5) != v5:
            continue
        loaded = bool(unit.offs)
        ctx.load(unit)
        for abbrev, values in zip(unit.abbs, unit.vals, strict=True):
            if abbrev is None or values is None:
                continue
            view = location = None
            for (attribute, form, _), value in zip(abbrev.attrs, values, strict=True):
                if attribute == DW_AT_GNU_locviews:
                    view = value
                elif attribute == DW_AT_location and form in LIST_OFFSET_FORMS:
                    location = value
            if isinstance(view, int) and isinstance(location, int) and view < location:
                base = unit.base("debug_loclists" if v5 else "debug_loc")  # a package's offsets are relative
                views[base + view] = base + location
        if not loaded:
            forget(unit)
    return views


def _read_lists(r: _Reader, section: str, off: int, end: int, table: ListTable, out: ListSection, version: int,
                views: dict[int, int] | None = None) -> None:
    """Location lists from ``off`` while before ``end``; llvm-dwarfdump resolves only what needs no unit.
    ``views`` maps the offsets of GCC's location-view pairs to their list; those bytes are stepped over."""
    expr: bytes | None
    mask = (1 << (8 * r.asz)) - 1
    views = views or {}
    # A block of view pairs ends where the next view block or list that a unit names begins (not always its own list).
    boundaries = sorted(set(views) | set(views.values()))
    while off < end:
        if off in views:
            after = bisect.bisect_right(boundaries, off)
            if after < len(boundaries) and boundaries[after] <= end:
                off = boundaries[after]
                continue
        lst = List(off)
        table.lists.append(lst)
        base: int | None = None
        try:
            for _ in range(MAX_ENTRIES):
                start = off
                if version < 5:
                    a, off = r.addr(off)
                    b, off = r.addr(off)
                    if a == 0 and b == 0:
                        break
                    if a == mask:
                        base = b
                        lst.entries.append(Entry("DW_LLE_base_address", (b,), None))
                        continue
                    n, off = r.addr(off, 2)
                    expr, off = r.block(off, n)
                    rng = None if base is None else ((base + a) & BITS64, (base + b) & BITS64)
                    lst.entries.append(Entry("DW_LLE_offset_pair", (a, b), expr, rng))
                    continue
                kind = r.byte(off)
                off += 1
                if kind == 0:
                    break
                if kind >= len(LLE):
                    out.problems.append(where(section, start, f"location list entry kind 0x{kind:x} is unknown"))
                    return
                values, off = r.operands(LLE[kind], off)
                rng = None
                if kind == 4 and base is not None:
                    rng = (base + values[0], base + values[1])
                elif kind == 6:
                    base = values[0]
                elif kind in (7, 8):
                    rng = (values[0], values[1] if kind == 7 else values[0] + values[1])
                expr = None
                if kind not in (1, 6, 9):  # base addresses and view pairs carry no expression
                    n, off = r.uleb(off)
                    expr, off = r.block(off, n)
                lst.entries.append(Entry(LLE[kind], values, expr, rng))
        except _Truncated:
            out.problems.append(where(section, lst.offset, f"location list runs past the end of the section "
                                                           f"(0x{len(r.data):x})"))
            return


def read_ranges(ctx: DwarfContext) -> ListSection:
    """``.debug_ranges``: (start, end) pairs as encoded, lists ending at (0, 0)."""
    data = ctx.file.section("debug_ranges")
    out = ListSection("debug_ranges", first_address_size(ctx))
    r = _Reader(data, ctx.order, out.address_size)
    table = ListTable(0, None)
    out.tables.append(table)
    if out.address_size not in (2, 4, 8):
        out.problems.append(where("debug_ranges", 0, f"address size {out.address_size} is invalid"))
        return out
    off = 0
    while off < len(data):
        lst = List(off)
        try:
            for _ in range(MAX_ENTRIES):
                a, off = r.addr(off)
                b, off = r.addr(off)
                if a == 0 and b == 0:
                    break
                lst.entries.append(Entry("pair", (a, b), None, (a, b)))
        except _Truncated:
            out.problems.append(where("debug_ranges", lst.offset, f"range list runs past the end of the section "
                                                                  f"(0x{len(data):x})"))
            return out
        table.lists.append(lst)
    return out


def read_rnglists(ctx: DwarfContext) -> ListSection:
    """``.debug_rnglists``: per table a header, its offsets and its lists; a table with a bad entry is dropped
    (llvm-dwarfdump prints nothing of it) and reading goes on after it."""
    data = ctx.file.section("debug_rnglists")
    out = ListSection("debug_rnglists", first_address_size(ctx))
    r = _Reader(data, ctx.order, out.address_size)
    units = ctx.units("debug_info")
    first = ctx.load(units[0]) if units else None

    def pooled(i: int) -> int | None:  # llvm-dwarfdump looks indices up in the first unit's .debug_addr
        return ctx.address_index(first, i) if first is not None else None
    off = 0
    while off < len(data):
        h = _header(r, "debug_rnglists", off, out)
        if h is None:
            break
        fields, osz, pos, end = h
        count = fields["offset_entry_count"]
        table = ListTable(off, fields, [r.addr(pos + osz * k, osz)[0] for k in range(count)])
        r.asz = fields["addr_size"]
        if _read_rnglists(r, pos + osz * count, end, table, out, pooled):
            out.tables.append(table)
        off = end
    return out


def _read_rnglists(r: _Reader, off: int, end: int, table: ListTable, out: ListSection,
                   pooled: Callable[[int], int | None]) -> bool:
    base = 0  # llvm-dwarfdump carries the base address from list to list within a table
    section = "debug_rnglists"
    while off < end:
        lst = List(off)
        table.lists.append(lst)
        for _ in range(MAX_ENTRIES):
            start = off
            kind = r.data[off]
            off += 1
            if kind >= len(RLE):
                out.problems.append(where(section, start, f"range list entry kind 0x{kind:x} is unknown"))
                return False
            values: tuple = ()
            rng = None
            try:
                values, off = r.operands(RLE[kind], off)
            except _Truncated:
                off = len(r.data) + 1
            if off > end:
                out.problems.append(where(section, start, f"{RLE[kind]} entry runs past the end of its table "
                                                          f"(0x{end:x})"))
                return False
            if kind == 1:
                p = pooled(values[0])
                base = values[0] if p is None else p
            elif kind == 2:
                rng = (pooled(values[0]) or 0, pooled(values[1]) or 0)
            elif kind == 3:
                s = pooled(values[0]) or 0
                rng = (s, s + values[1])
            elif kind == 4:
                rng = (values[0] + base, values[1] + base)
            elif kind == 5:
                base = values[0]
            elif kind in (6, 7):
                rng = (values[0], values[1] if kind == 6 else values[0] + values[1])
            lst.entries.append(Entry(RLE[kind], values, None, rng))
            if kind == 0:
                break
            if off >= end:
                out.problems.append(where(section, lst.offset, f"range list has no end-of-list entry before the "
                                                               f"end of its table (0x{end:x})"))
                return False
    return True


# --- text --------------------------------------------------------------------------------------------------------
def dump_loc_text(ctx: DwarfContext, sec: ListSection, out: TextIO) -> None:
    w = out.write
    arch = ctx.file.arch
    for table in sec.tables:
        if table.header is not None:
            _table_header(table, "locations", out)
        asz = table.header["addr_size"] if table.header else sec.address_size
        width = 2 + 2 * asz
        for k, lst in enumerate(table.lists):
            w(("\n" if k else "") + f"0x{lst.offset:08x}: ")
            for e in lst.entries:
                if e.kind in ("DW_LLE_base_address", "DW_LLE_end_of_list"):
                    continue  # llvm-dwarfdump applies a base address silently
                if e.kind == "DW_LLE_default_location":
                    w("\n" + " " * 12 + "<default>")
                elif e.range is not None:
                    w("\n" + " " * 12 + f"[0x{e.range[0]:0{2 * asz}x}, 0x{e.range[1]:0{2 * asz}x})")
                elif table.header is None:
                    w("\n" + " " * 12 + f"({e.values[0]:#0{width}x}, {e.values[1]:#0{width}x})")
                else:
                    w("\n" + " " * 12 + f"{e.kind:<{_LLE_WIDTH}}(" + ", ".join(f"{v:#0{width}x}" for v in e.values)
                      + ")")
                if e.expr is not None:
                    w(": " + (format_expr(e.expr, arch, asz, 4, ctx.order, no_unit_base_type) or "<empty>"))
            w("\n")


def no_unit_base_type(offset: int) -> str:
    """Read without a unit, llvm-dwarfdump prints a base type reference as its bare offset."""
    return f" 0x{offset:x}"


def dump_ranges_text(sec: ListSection, out: TextIO) -> None:
    w = out.write
    digits = 2 * sec.address_size
    for table in sec.tables:
        for lst in table.lists:
            for e in lst.entries:
                w(f"{lst.offset:08x} {e.values[0]:0{digits}x} {e.values[1]:0{digits}x}\n")
            w(f"{lst.offset:08x} <End of list>\n")


def dump_rnglists_text(sec: ListSection, out: TextIO) -> None:
    w = out.write
    for table in sec.tables:
        _table_header(table, "range", out)
        w("ranges:\n")
        digits = 2 * table.header["addr_size"]  # type: ignore[index]
        for lst in table.lists:
            for e in lst.entries:
                if e.range is not None:
                    w(f"[0x{e.range[0]:0{digits}x}, 0x{e.range[1]:0{digits}x})\n")
                elif e.kind == "DW_RLE_end_of_list":
                    w("<End of list>\n")


def _table_header(table: ListTable, kind: str, out: TextIO) -> None:
    h = table.header
    assert h is not None
    digits = 16 if h["format"] == "DWARF64" else 8
    out.write(f"{kind} list header: length = 0x{h['length']:0{digits}x}, format = {h['format']}, "
              f"version = 0x{h['version']:04x}, addr_size = 0x{h['addr_size']:02x}, "
              f"seg_size = 0x{h['seg_size']:02x}, offset_entry_count = 0x{h['offset_entry_count']:08x}\n")
    if table.offsets:
        out.write("offsets: [" + "".join(f"\n0x{o:0{digits}x}" for o in table.offsets) + "\n]\n")


def list_sections(ctx: DwarfContext, chosen: set[str]) -> Iterator[tuple[str, ListSection]]:
    """The list sections present among the chosen flags, read, in llvm-dwarfdump's order within each group."""
    readers = {"debug-loc": lambda: read_loc(ctx, False), "debug-loclists": lambda: read_loc(ctx, True),
               "debug-ranges": lambda: read_ranges(ctx), "debug-rnglists": lambda: read_rnglists(ctx)}
    for flag, read in readers.items():
        if flag in chosen and ctx.file.section(flag.replace("-", "_")):
            yield flag, read()


def write_summary(ctx: DwarfContext, out: TextIO) -> list[str]:
    """``--summary``: tables, lists and entries of each list section, contributions and entries of
    ``.debug_str_offsets``, name indices, names and entries of ``.debug_names``; returns the problems found."""
    from .str_offsets_text import contributions
    problems: list[str] = []
    rows = []
    for _flag, sec in list_sections(ctx, {"debug-loc", "debug-loclists", "debug-ranges", "debug-rnglists"}):
        lists, entries = sec.counts()
        rows.append((sec.name, len(sec.tables), lists, entries))
        problems += sec.problems
    if ctx.str_offsets:
        found, more = contributions(ctx)
        rows.append(("debug_str_offsets", len(found), len(found), sum(c.size // c.offset_size for c in found)))
        problems += more
    if ctx.file.section("debug_names"):
        from . import names_text
        indices, more = names_text.read_names(ctx.file.section("debug_names"), ctx.order, ctx.str)
        rows.append(("debug_names", *names_text.counts(indices)))
        problems += more
    if rows:
        out.write("\nsection               tables     lists   entries\n")
        for name, tables, lists, entries in rows:
            out.write(f".{name:<20} {tables:>6} {lists:>9} {entries:>9}\n")
    return problems
