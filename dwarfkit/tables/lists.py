"""Range lists and location lists: ``.debug_ranges``/``.debug_rnglists`` and ``.debug_loc``/``.debug_loclists``.

A list is created once (``dw.range_list(...)``, ``dw.location_list(...)`` of a
:class:`~dwarfkit.program.DwarfBuilder`) and used as an attribute value.
It is encoded the first time a DIE refers to it: by offset (``DW_FORM_sec_offset``, or ``data4``/``data8`` before
DWARF 4) or, in DWARF 5, by index (``DW_FORM_rnglistx``/``loclistx``). In DWARF 5 the section holds up to two
contributions: one without an offset table for lists used by offset (so their offsets are final at once), then one
with an offset table for indexed lists; ``DW_AT_rnglists_base``/``loclists_base`` point at the latter's table.

Before DWARF 5 every entry is relative to a base address: the unit's (its ``DW_AT_low_pc``, else 0), as compilers write
them, since lldb follows no base address selection entry. Such a list is placed when a unit's DIE first uses it, once
per base address of the units that use it; an entry on another symbol than the unit's base (or below it) starts a
run with a base address selection entry.

That is the automatic choice, for entries given as ``(start, length[, Expr])`` tuples. Entries given as
:class:`~dwarfkit.tables.list_entries.Rle`/``Lle`` objects are written as given (every DWARF 5 kind; DWARF 4 base
address selection entries and offset pairs), see :mod:`dwarfkit.tables.list_entries`. GCC's location views:
``views = loc.locviews([(begin, end), ...])``, one pair per entry with a location, is the value of
``DW_AT_GNU_locviews``; the pairs are written as ULEB128s right before the list (GCC's layout, which readelf pairs
with the entries), so such a list is used by offset, never by index. ``Lle.view_pair`` writes GCC's in-list form
(``DW_LLE_GNU_view_pair``, DWARF 5), which llvm-dwarfdump 14 does not read and gdb 13 misreads.

Expression operands that name a DIE (``call4``, ``implicit_pointer`` ...) are written as zeros and filled in when the
section is finished, once every unit is laid out. Imports the foundations, :mod:`dwarfkit.expr` and, in DWARF 5 with
indexed forms, the program's :class:`~dwarfkit.tables.addresses.AddressTable` (given, not imported at run time).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence

from ..address import Address, as_address
from ..encoding import Encoding, uleb128, uleb128_padded
from ..errors import DescriptionError, LayoutError
from ..expr import DieOperand, Expr, TlsOffset
from ..sections import Relocation, RelocKind, Section
from ..writer import SectionWriter
from .list_entries import INDEXED_KINDS, KINDS, NO_EXPRESSION, ListEntry, check_entries

if TYPE_CHECKING:
    from .addresses import AddressTable

DW_RLE_end_of_list, DW_RLE_startx_length, DW_RLE_start_length = 0x00, 0x03, 0x07
DW_LLE_end_of_list, DW_LLE_startx_length, DW_LLE_start_length = 0x00, 0x03, 0x08


class ListSource(Protocol):
    """A list of a loaded file, not yet decoded (see :meth:`ListTable.make_kept`)."""

    def as_bytes(self) -> bytes | None:
        """The list's bytes, end-of-list entry included, if they mean the same in any layout (no relocation,
        address index or DIE operand in them), else None."""

    def entries(self) -> list[ListEntry]:
        """The list's entries, decoded."""


class _List:
    # Slots: a loaded library has a hundred thousand lists or more.
    __slots__ = ("table", "_entries", "explicit", "uses_addresses", "views", "_views_offset", "_offset", "_index",
                 "as_read", "read_count", "_by_base", "source")

    def __init__(self, table: "ListTable", entries: list[Any], explicit: bool = False,
                 uses_addresses: bool | None = None) -> None:
        self.table = table
        self._entries = entries
        self.source: ListSource | None = None   # a loaded list not yet decoded (make_kept)
        self.explicit = explicit   # entries are ListEntry objects, written as given
        if uses_addresses is None:
            uses_addresses = explicit and not INDEXED_KINDS.isdisjoint([e.kind for e in entries])
        self.uses_addresses = uses_addresses
        self.views: list[tuple[int, int]] | None = None
        self._views_offset: int | None = None
        self._offset: int | None = None
        self._index: int | None = None
        self.as_read = False   # decoded from a file (make_as_read): placed when first encoded
        self.read_count: int | None = None   # a converted loaded list: how many located entries the file's had
        self._by_base: dict[tuple[str | None, int], int] | None = None   # DWARF 2-4: offset per unit base address

    @property
    def entries(self) -> list[Any]:
        """The entries. A loaded list kept undecoded (:meth:`ListTable.make_kept`) decodes them on this first look,
        and is encoded from them from then on: whatever the caller does with them is written."""
        if self.source is not None:
            source, self.source = self.source, None
            self._entries = source.entries()
        return self._entries

    @entries.setter
    def entries(self, entries: list[Any]) -> None:
        self.source = None
        self._entries = entries

    def place(self, base: Address | None = None) -> int:
        """The offset of this list in its section, encoding it there on first use. ``base``: the base address of
        the unit that uses it (DWARF 2-4 lists of ``(start, length)`` entries are written relative to it, as
        compilers write them: lldb does not follow base address selection entries), one copy per base."""
        if base is not None and self.views is None and not self.explicit and self.table.encoding.version < 5:
            key = (base.symbol, base.offset)
            if self._by_base is None:
                self._by_base = {}
            placed = self._by_base.get(key)
            if placed is None:
                placed = self._by_base[key] = self.table.place(self, base)
            return placed
        if self._offset is None:
            if self.views is not None:   # GCC's view pairs come right before the list
                self._views_offset = self.table.place_views(self.views)
            self._offset = self.table.place(self)
        return self._offset

    def index(self) -> int:
        """The index of this list in the DWARF 5 offset table, encoding it there on first use."""
        if self.views is not None:
            raise DescriptionError(f"{self.table.name}: a list with location views (DW_AT_GNU_locviews) is used by "
                                   f"offset; pin DW_FORM_sec_offset")
        if self._index is None:
            self._index = self.table.add_indexed(self)
        return self._index

    def section_name(self) -> str:
        return self.table.name

    def label_position(self) -> tuple[str, int | None]:
        """Where the list starts (for a :class:`dwarfkit.raw.Label`) once a DIE used it by offset (a DWARF 2-4 list
        placed once per base address: the only copy)."""
        if self._offset is None and self._by_base is not None and len(self._by_base) == 1:
            return self.table.name, next(iter(self._by_base.values()))
        if self._offset is None and (self._by_base or self._index is not None):
            raise DescriptionError(f"{self.table.name}: a label names a list used by index or at several base "
                                   f"addresses; it has no one offset")
        return self.table.name, self._offset

    def __repr__(self) -> str:
        if self.source is not None:   # not decoded to be shown: that would stop its bytes being kept
            return f"<{type(self).__name__} {self.source!r}>"
        return f"<{type(self).__name__} {self.entries!r}>"


class RangeList(_List):
    """Address ranges ``[(start, length), ...]`` for ``DW_AT_ranges``."""

    __slots__ = ()


class LocationList(_List):
    """Locations ``[(start, length, Expr), ...]`` for ``DW_AT_location`` and other location attributes."""

    __slots__ = ()

    def views_as_read(self, views: list[tuple[int, int]]) -> "LocationViews":
        """:meth:`locviews` for pairs decoded from a file (``dwarfkit.load``): ULEB128 numbers, one per entry."""
        if self._offset is not None or self._index is not None or self.views is not None:
            raise DescriptionError(f"{self.table.name}: location views must be given once, before the list is used")
        self.views = views
        made = LocationViews(self)
        made.as_read = self.as_read
        return made

    def locviews(self, views: Iterable[Sequence[int]]) -> "LocationViews":
        """The value of ``DW_AT_GNU_locviews`` for this list: ``views`` holds one ``(begin, end)`` view pair per
        entry with a location, written (as GCC does) as ULEB128 pairs right before the list in its section."""
        if self._offset is not None or self._index is not None:
            raise DescriptionError(f"{self.table.name}: location views must be given before the list is used")
        if self.views is not None:
            raise DescriptionError(f"{self.table.name}: this list has location views already")
        pairs: list[tuple[int, int]] = []
        for n, pair in enumerate(views):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(
                    isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 64 for v in pair):
                raise DescriptionError(f"{self.table.name}: view pair {n} {pair!r} is not two integers in [0, 2**64)")
            pairs.append((pair[0], pair[1]))
        if self.explicit:
            count = sum(1 for e in self.entries if e.kind not in NO_EXPRESSION)
        else:
            count = len(self.entries)
            if self.table.encoding.version < 5 and any(e[1] == 0 for e in self.entries):
                raise DescriptionError(f"{self.table.name}: an empty (start, length 0) entry is dropped before "
                                       f"DWARF 5, so it cannot have a view pair; use Lle.offset_pair")
        if len(pairs) != count:
            raise DescriptionError(f"{self.table.name}: {len(pairs)} view pairs for {count} location entries")
        self.views = pairs
        return LocationViews(self)


class LocationViews(LocationList):
    """The view pairs of a :class:`LocationList` (``DW_AT_GNU_locviews``): placed with the list, right before it."""

    __slots__ = ("of",)

    def __init__(self, of: LocationList) -> None:
        super().__init__(of.table, [], uses_addresses=False)
        self.of = of

    def place(self, base: Address | None = None) -> int:
        self.of.place()
        assert self.of._views_offset is not None
        return self.of._views_offset

    def index(self) -> int:
        raise DescriptionError(f"{self.table.name}: DW_AT_GNU_locviews is a section offset; pin DW_FORM_sec_offset")

    def __repr__(self) -> str:
        return f"<LocationViews {self.of.views!r}>"


class ListTable:
    """One of ``.debug_rnglists``/``.debug_ranges`` or ``.debug_loclists``/``.debug_loc`` of a program."""

    def __init__(self, encoding: Encoding, locations: bool, addresses: "AddressTable | None" = None,
                 address_table: "AddressTable | None" = None) -> None:
        """``addresses``: the program's ``.debug_addr`` when it uses indexed forms (DWARF 5 entries then start
        with ``DW_RLE_startx_length``/``DW_LLE_startx_length``), else None. ``address_table``: the program's
        ``.debug_addr`` in any case, for entries chosen by the caller that name addresses by index."""
        self.encoding: Encoding = encoding
        self.addresses = addresses
        self.address_table = address_table if address_table is not None else addresses
        self.locations = locations
        v5 = self.encoding.version >= 5
        if locations:
            self.name = ".debug_loclists" if v5 else ".debug_loc"
        else:
            self.name = ".debug_rnglists" if v5 else ".debug_ranges"
        self._codes: dict[str, int] = {kind: code for kind, (rle, lle, _) in KINDS.items()
                                       if (code := lle if locations else rle) is not None}
        self.direct = SectionWriter(self.name, self.encoding)     # lists used by offset
        self.indexed = SectionWriter(self.name, self.encoding)    # DWARF 5: bodies of lists used by index
        self.index_offsets: list[int] = []
        self.die_operands: list[tuple[SectionWriter, int, int, DieOperand]] = []
        if v5:
            self._header(self.direct, 0)
        self.finished = False

    def make(self, entries: Iterable[Any]) -> _List:
        """A :class:`RangeList` or :class:`LocationList` of ``entries``, each checked (DescriptionError names it)."""
        entries = list(entries)
        if entries and any(isinstance(e, ListEntry) for e in entries):
            return self._make_explicit(entries)
        checked: list[tuple] = []
        for n, entry in enumerate(entries):
            what = "location" if self.locations else "range"
            if len(entry) != (3 if self.locations else 2):
                shape = "(start, length, Expr)" if self.locations else "(start, length)"
                raise DescriptionError(f"{what} list entry {n} {entry!r} is not {shape}")
            try:
                if isinstance(entry[0], bool) or not isinstance(entry[0], (Address, int, str)):
                    raise TypeError
                start = as_address(entry[0])
            except TypeError:
                raise DescriptionError(f"{what} list entry {n}: start {entry[0]!r} is not an address") from None
            length = entry[1]
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise DescriptionError(f"{what} list entry {n}: length {length!r} is not a non-negative integer")
            room = 1 << (8 * self.encoding.address_size)
            if start.symbol is None and not 0 <= start.offset < room or start.offset + length > room \
                    or length >= 1 << 64:
                raise DescriptionError(f"{what} list entry {n}: range {start}+{length:#x} does not fit "
                                       f"{self.encoding.address_size}-byte addresses")
            if self.locations:
                if not isinstance(entry[2], (Expr, bytes)):
                    raise DescriptionError(f"location list entry {n}: {entry[2]!r} is not an Expr")
                checked.append((start, length, entry[2]))
            else:
                checked.append((start, length))
        return (LocationList if self.locations else RangeList)(self, checked)

    def _make_explicit(self, entries: list[Any]) -> _List:
        for n, entry in enumerate(entries):
            if not isinstance(entry, ListEntry):
                raise DescriptionError(f"{'location' if self.locations else 'range'} list entry {n} {entry!r}: a "
                                       f"list is either all tuples or all Rle/Lle entries")
        check_entries(entries, self.locations, self.encoding.version, self.encoding.address_size)
        if any(e.kind in INDEXED_KINDS for e in entries) and self.address_table is None:
            raise DescriptionError(f"{self.name}: entries by address index need the program's .debug_addr")
        return (LocationList if self.locations else RangeList)(self, entries, explicit=True)

    def make_as_read(self, entries: list[ListEntry]) -> _List:
        """A list of entries decoded from a file of this version (``dwarfkit.load``): already the right kinds and
        operand types, so not checked again entry by entry (the writer's checks run when the list is encoded)."""
        indexed = not INDEXED_KINDS.isdisjoint([e.kind for e in entries])
        if indexed and self.address_table is None:
            raise DescriptionError(f"{self.name}: entries by address index need the program's .debug_addr")
        made = (LocationList if self.locations else RangeList)(self, entries, explicit=True, uses_addresses=indexed)
        made.as_read = True
        return made

    def make_kept(self, source: "ListSource") -> _List:
        """A list of a file of this version, not decoded (a large library has hundreds of thousands): written as
        ``source.as_bytes()`` when they mean the same in the new file, else encoded from ``source.entries()``,
        which the first look at its entries also decodes (entries as :meth:`make_as_read` takes them). The source
        vouches that the list uses no address index (``uses_addresses`` is False)."""
        made = (LocationList if self.locations else RangeList)(self, [], explicit=True, uses_addresses=False)
        made.source = source
        made.as_read = True
        return made

    def place_views(self, views: list[tuple[int, int]]) -> int:
        """Writes GCC's view pairs of a location list (ULEB128 pairs) where the list will follow; their offset."""
        if self.finished:
            raise LayoutError(f"{self.name}: a list was first used after the section was emitted")
        offset = self.direct.pos
        buf = bytearray()
        for begin, end in views:
            buf += uleb128(begin)
            buf += uleb128(end)
        self.direct.raw(buf)
        return offset

    def _encode_explicit(self, w: SectionWriter, lst: _List) -> None:
        """The entries exactly as the caller chose them (checked for this version by check_entries)."""
        asize = self.encoding.address_size
        if self.encoding.version >= 5:
            self._encode_explicit_v5(w, lst)
            return
        for entry in lst.entries:
            if entry.kind == "end_of_list":
                break
            if entry.kind == "base_address":
                w.uint((1 << (8 * asize)) - 1, asize)
                w.address(entry.operands[0])
                continue
            for operand in entry.operands:   # offset_pair: numbers, or relocated addresses in an object
                if isinstance(operand, Address):
                    w.address(operand)
                else:
                    w.uint(operand, asize)
            if self.locations:
                self._expression(w, entry.expr, 2)
        w.uint(0, asize)
        w.uint(0, asize)

    def _encode_explicit_v5(self, w: SectionWriter, lst: _List) -> None:
        """DWARF 5 entries as chosen. Numbers and expressions go into one buffer per list (a loaded library has
        hundreds of thousands of entries); an address or an expression with relocations is written through ``w``."""
        table = self.address_table
        codes = self._codes
        locations = self.locations
        encoding = self.encoding
        buf = bytearray()
        for entry in lst.entries:
            kind = entry.kind
            if kind == "end_of_list":
                break
            buf.append(codes[kind])
            if kind == "offset_pair":   # the common entry: two numbers, one and two bytes inline
                for operand in entry.operands:
                    if 0 <= operand < 0x80:
                        buf.append(operand)
                    elif 0x80 <= operand < 0x4000:
                        buf.append(operand & 0x7F | 0x80)
                        buf.append(operand >> 7)
                    else:
                        buf += uleb128(operand)
                operands: tuple = ()
            else:
                operands = entry.operands
            indexed = kind in INDEXED_KINDS
            for operand in operands:
                if isinstance(operand, Address):
                    if indexed:
                        assert table is not None
                        buf += uleb128(table.index(operand))
                    else:
                        w.raw(buf)
                        buf.clear()
                        w.address(operand)
                elif 0 <= operand < 0x80:
                    buf.append(operand)
                else:
                    buf += uleb128(operand)
            if locations and kind not in NO_EXPRESSION:
                expr = entry.expr
                try:
                    data, relocs = expr.encode(encoding) if isinstance(expr, Expr) else (b"", [None])
                except DescriptionError as error:
                    raise DescriptionError(f"{self.name}: {error}") from None
                if not relocs:   # nothing to relocate or fill in later: straight into the buffer
                    n = len(data)
                    if n < 0x80:
                        buf.append(n)
                    else:
                        buf += uleb128(n)
                    buf += data
                else:
                    w.raw(buf)
                    buf.clear()
                    self._expression(w, expr, None)
        buf.append(0)
        w.raw(buf)

    def _header(self, w: SectionWriter, count: int) -> int:
        start = w.begin_length()
        w.u16(5)
        w.u8(self.encoding.address_size)
        w.u8(0)
        w.u32(count)
        return start

    def _expression(self, w: SectionWriter, expr: Any, size_width: int | None) -> None:
        if isinstance(expr, Expr):
            try:
                data, relocs = expr.encode(self.encoding)
            except DescriptionError as error:
                raise DescriptionError(f"{self.name}: {error}") from None
        else:
            data, relocs = bytes(expr), []
        if size_width is None:
            w.uleb(len(data))
        else:
            if len(data) >= 1 << (8 * size_width):
                raise DescriptionError(f"{self.name}: location expression of {len(data)} bytes is too long")
            w.uint(len(data), size_width)
        base = w.pos
        w.raw(data)
        for offset, size, address in relocs:
            if isinstance(address, DieOperand):   # filled in at emission, when every DIE has its offset
                self.die_operands.append((w, base + offset, size, address))
                continue
            kind = RelocKind.TLS_OFFSET if isinstance(address, TlsOffset) else RelocKind.ADDRESS
            w.section.relocations.append(Relocation(base + offset, size, kind, address.symbol, address.offset))

    def _encode(self, w: SectionWriter, lst: _List, base: Address | None = None) -> None:
        if self.finished:
            raise LayoutError(f"{self.name}: a list was first used after the section was emitted")
        source = lst.source
        if source is not None:
            kept = source.as_bytes()
            if kept is not None:
                w.raw(kept)
                return
        if lst.explicit:
            self._encode_explicit(w, lst)
            return
        if self.encoding.version >= 5:
            for entry in lst.entries:
                start, length = entry[0], entry[1]
                if self.addresses is not None:   # start addresses by index in .debug_addr
                    w.u8(DW_LLE_startx_length if self.locations else DW_RLE_startx_length)
                    w.uleb(self.addresses.index(start))
                else:
                    w.u8(DW_LLE_start_length if self.locations else DW_RLE_start_length)
                    w.address(start)
                w.uleb(length)
                if self.locations:
                    self._expression(w, entry[2], None)
            w.u8(0)
            return
        all_ones = (1 << (8 * self.encoding.address_size)) - 1
        base_symbol: object = ()   # no base selected yet
        asize = self.encoding.address_size
        for entry in lst.entries:
            start, length = entry[0], entry[1]
            if length == 0:
                continue   # an empty range covers nothing, and (0, 0) would end the list
            if base is not None and base_symbol == () and start.symbol == base.symbol and start.offset >= base.offset:
                # Relative to the unit's base address: numbers, even in an object (both ends on one symbol).
                w.uint(start.offset - base.offset, asize)
                w.uint(start.offset - base.offset + length, asize)
            elif base is not None and base_symbol == () and base.symbol is None and base.offset == 0:
                # The unit's base is 0: addresses, relocated when symbolic.
                w.address(start)
                w.address(Address(start.symbol, start.offset + length))
            else:
                self._select_base(w, start, base_symbol, all_ones)
                base_symbol = start.symbol
                w.uint(start.offset, asize)
                w.uint(start.offset + length, asize)
            if self.locations:
                self._expression(w, entry[2], 2)
        w.uint(0, asize)
        w.uint(0, asize)

    def _select_base(self, w: SectionWriter, start: Address, base_symbol: object, all_ones: int) -> None:
        """A base address selection entry for ``start``'s symbol when the list's base is another one."""
        if start.symbol != base_symbol:
            w.uint(all_ones, self.encoding.address_size)
            w.address(Address(start.symbol, 0))

    def _fill_die_operands(self) -> None:
        """Writes the offsets of DIEs named by expression operands, now that every unit is laid out."""
        for w, pos, size, operand in self.die_operands:
            target = operand.die
            if target.offset is None:
                raise LayoutError(f"{self.name}: an expression operand refers to {target.path()}, which was never "
                                  f"emitted")
            value = target.offset - target.unit.offset if operand.relative else target.offset
            if value >> (8 * size) or (operand.leb and value >> (7 * size)):
                raise LayoutError(f"{self.name}: offset {value:#x} of {target.path()} does not fit its {size}-byte "
                                  f"expression operand")
            w.data[pos:pos + size] = uleb128_padded(value, size) if operand.leb else \
                value.to_bytes(size, self.encoding.byteorder)
            if not operand.relative:
                w.section.relocations.append(Relocation(pos, size, RelocKind.UNIT, ".debug_info", value))
        self.die_operands = []

    def place(self, lst: _List, base: Address | None = None) -> int:
        offset = self.direct.pos
        self._encode(self.direct, lst, base)
        return offset

    def add_indexed(self, lst: _List) -> int:
        if self.encoding.version < 5:
            raise DescriptionError(f"{self.name}: indexed lists need DWARF 5")
        self.index_offsets.append(self.indexed.pos)
        self._encode(self.indexed, lst)
        return len(self.index_offsets) - 1

    def used(self) -> bool:
        """Whether a list was written into the table so far."""
        return self._has_direct() or bool(self.index_offsets)

    def _has_direct(self) -> bool:
        header = self.encoding.initial_length_size + 8 if self.encoding.version >= 5 else 0
        return len(self.direct.data) > header

    def base(self) -> int:
        """Offset of the indexed contribution's offset table (DW_AT_rnglists_base / loclists_base)."""
        direct = len(self.direct.data) if self._has_direct() else 0
        return direct + self.encoding.initial_length_size + 8

    def to_section(self) -> Section | None:
        """The finished section, or None when no list was used."""
        self.finished = True
        enc = self.encoding
        self._fill_die_operands()
        direct = self.direct
        has_direct = self._has_direct()
        if not has_direct and not self.index_offsets:
            return None
        out = SectionWriter(self.name, enc)
        if has_direct:
            if enc.version >= 5:
                direct.end_length(0)
            out.raw(direct.data)
            out.section.relocations.extend(direct.section.relocations)
        if self.index_offsets:
            start = self._header(out, len(self.index_offsets))
            table = len(self.index_offsets) * enc.offset_size
            for offset in self.index_offsets:
                out.uint(table + offset, enc.offset_size)
            body = out.pos
            out.raw(self.indexed.data)
            out.section.relocations.extend(Relocation(r.offset + body, r.size, r.kind, r.target, r.addend)
                                           for r in self.indexed.section.relocations)
            out.end_length(start)
        if enc.offset_size == 4 and len(out.data) > 0xFFFFFFFF:
            raise LayoutError(f"{self.name} grows past 4 GiB; DWARF64 (offset_size=8) is needed")
        return out.section

