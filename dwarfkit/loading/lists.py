"""Range and location lists of a file, entry by entry, as the model's list objects.

While the model keeps the file's encoding a list keeps its entries as read (``Rle``/``Lle`` of each kind, base
addresses, GCC's view pairs and ``DW_AT_GNU_locviews``); a conversion resolves each entry to ``(start, length[,
Expr])`` and lets the writer choose the entries of the new version. A list used by several DIEs stays one object.
"""
from __future__ import annotations

from typing import Any, Callable

from .. import names
from ..address import Address
from ..encoding import decode_uleb128 as uleb
from ..errors import DescriptionError, ReadError
from ..info.die import Die
from ..info.unit import Unit
from ..lists import Lle, LocationList, Rle
from ..program import DwarfBuilder
from ..reader.ranges import list_offset
from ..reader.units import Unit as ReadUnit
from ..tables.list_entries import INDEXED_KINDS, KINDS, NO_EXPRESSION, ListEntry, convert_entries
from ..tables.lists import ListTable
from .state import LoadState

AT_ranges, AT_start_scope, AT_location, AT_GNU_locviews = (names.ATTRIBUTES[n] for n in (
    "ranges", "start_scope", "location", "GNU_locviews"))
_RLE = {code: name for name, (code, _, _) in KINDS.items() if code is not None}
_LLE = {code: name for name, (_, code, _) in KINDS.items() if code is not None}
_INDEXED = {"base_addressx", "startx_endx", "startx_length"}
MAX_ENTRIES = 1 << 20
# Entry code -> (addresses, ULEB128 numbers, has an expression) of the kinds whose bytes mean the same in any layout.
_LLE_STEPS = {code: (shapes.count("a"), shapes.count("u"), name not in NO_EXPRESSION)
              for name, (_, code, shapes) in KINDS.items() if code and name not in INDEXED_KINDS}
_RLE_STEPS = {code: (shapes.count("a"), shapes.count("u"), False)
              for name, (code, _, shapes) in KINDS.items() if code and name not in INDEXED_KINDS}
_NO_SHARING: dict[bytes, Any] = {}


class ListLoader:
    def __init__(self, loader: LoadState, dw: DwarfBuilder, shared_exprs: dict[bytes, Any]) -> None:
        self.loader = loader
        # The value loader's expressions by their bytes (those with no relocation, DIE operand or renamed op).
        self.shared_exprs = shared_exprs
        self.ctx = loader.ctx
        self.dw = dw
        self.relocations = loader.df.relocations
        self.made: dict[tuple[str, int], Any] = {}
        self.views: dict[tuple[str, int], Any] = {}
        self.unshared: set[bytes] = set()
        """Expressions of kept lists that the value loader does not share (a DIE operand ...): their lists are
        encoded again, and the next list with one is known at once."""
        self.expression: Callable[..., Any] = loader_expression(loader, dw)
        self._last_location: tuple[Any, int, Any, int | None] = (None, -1, None, None)
        """(model unit, DIE index, list, its offset) of the last DW_AT_location list made."""

    def attribute_list(self, unit: ReadUnit, model: Unit, i: int, at: int, form: int, raw: int) -> Any:
        """The list an attribute names (GCC's ``DW_AT_GNU_locviews``: the view pairs of the DIE's location list)."""
        v5 = unit.version >= 5
        locations = at != AT_ranges and at != AT_start_scope
        section = ("debug_loclists" if locations else "debug_rnglists") if v5 else ("debug_loc" if locations
                                                                                   else "debug_ranges")
        if at == AT_GNU_locviews:
            return self.location_views(unit, model, i, section, raw)
        offset = list_offset(self.ctx, unit, form, raw) if v5 else raw
        if offset is None:
            raise DescriptionError(f"list index {raw} is past the unit's offset table")
        key = (section, offset)
        made = self.made.get(key)
        if made is None:
            source = self.loader.made[id(model)][i]
            assert source is not None
            version = model.encoding.version
            table = self.dw.tables.list_table(locations, version, model.encoding.address_size)
            if self.loader.options.keep_forms and unit.version == version:
                made = self._as_read(table, unit, unit.offs[i], section, offset, locations, source)
            else:   # entry for entry in the new version's kinds (empty ranges too: some consumers use them)
                entries = self.read(unit, section, offset, locations, source)
                made = table.make(convert_entries(entries, model.root.get("low_pc"), locations, version,
                                                  model.indexed))
                made.read_count = _located(entries)
            self.made[key] = made
        if at == AT_location:
            self._last_location = (model, i, made, offset)
        return made

    def kept_list(self, unit: ReadUnit, model: Unit, i: int, at: int, form: int, raw: int) -> Any:
        """:meth:`attribute_list` for an attribute kept as ``DW_FORM_sec_offset`` (a compiled fill's path): the
        list is this model's, made for its version, so what ``forms.choose`` would check holds; only its effect on
        the unit is repeated here."""
        made = self.attribute_list(unit, model, i, at, form, raw)
        if made.uses_addresses or model.indexed:
            model.uses_addr = True
        if not made.as_read:
            made.place()
        return made

    def location_views(self, unit: ReadUnit, model: Unit, i: int, section: str, views_at: int) -> Any:
        """GCC's view pairs: ULEB128 pairs from ``views_at`` up to the DIE's location list, one per entry."""
        if (section, views_at) in self.views:
            return self.views[(section, views_at)]
        last = self._last_location
        if last[0] is model and last[1] == i:   # GCC writes DW_AT_location first: its list was just made
            loc, end = last[2], last[3]
        else:
            found = unit.attr_form(i, AT_location)
            if found is None:
                raise DescriptionError("DW_AT_GNU_locviews without a DW_AT_location list")
            loc = self.attribute_list(unit, model, i, AT_location, found[0], found[1])
            end = list_offset(self.ctx, unit, found[0], found[1]) if unit.version >= 5 else found[1]
        if not isinstance(loc, LocationList) or not loc.explicit:
            return None
        read_count = loc.read_count
        if read_count is not None and read_count != _located(loc.entries):
            return None   # a conversion that could not keep every entry drops the views
        data = self.ctx.file.section(section)
        try:
            pairs = _view_pairs(data, views_at, end or 0)
        except IndexError:
            raise DescriptionError(f"view pairs at .{section}[0x{views_at:x}] are truncated") from None
        made = self.views[(section, views_at)] = loc.views_as_read(pairs)
        return made

    def _as_read(self, table: ListTable, unit: ReadUnit, die_offset: int, section: str, offset: int,
                 locations: bool, source: Die) -> Any:
        """A list kept in the file's encoding; in a linked file, undecoded until it is looked at or written (most
        of a large library's lists are then copied as they are; one that is broken raises then, naming its DIE)."""
        if section not in self.relocations and id(unit) not in self.loader.renames and (
                unit.version < 5 or unit.addr_base is None):   # no address index, except in a broken file
            if offset >= len(self.ctx.file.section(section)):
                raise DescriptionError(f"list at .{section}[0x{offset:x}] is past the end of the section")
            return table.make_kept(_KeptList(self, unit, die_offset, section, offset, locations, source))
        return table.make_as_read(self.read(unit, section, offset, locations, source))

    # -- reading ----------------------------------------------------------------------------------------------------
    def read(self, unit: ReadUnit, section: str, offset: int, locations: bool, source: Die) -> list[ListEntry]:
        data = self.ctx.file.section(section)
        if offset >= len(data):
            raise DescriptionError(f"list at .{section}[0x{offset:x}] is past the end of the section")
        try:
            if unit.version >= 5:
                return self._read_v5(unit, data, section, offset, locations, source)
            return self._read_v4(unit, data, section, offset, locations, source)
        except IndexError:
            raise DescriptionError(f"list at .{section}[0x{offset:x}] is truncated") from None

    def _address(self, section: str, position: int, value: int) -> Address:
        ref = self.relocations.get(section, {}).get(position)
        if ref is not None and ref.kind == "address":
            return Address(ref.symbol, ref.addend)
        return Address(None, value)

    def _indexed(self, unit: ReadUnit, index: int) -> Address:
        value = self.ctx.address_index(unit, index)
        if value is None:
            raise DescriptionError(f"address index {index} is past the end of .debug_addr")
        base = unit.addr_base if unit.addr_base is not None else 8
        return self._address("debug_addr", base + index * unit.address_size, value)

    def _read_v5(self, unit: ReadUnit, data: bytes, section: str, off: int, locations: bool,
                 source: Die) -> list[ListEntry]:
        kinds = _LLE if locations else _RLE
        out: list[ListEntry] = []
        shared = self.shared_exprs if section not in self.relocations and \
            id(unit) not in self.loader.renames else _NO_SHARING
        while len(out) < MAX_ENTRIES:
            code = data[off]
            off += 1
            if code == 0:
                return out
            kind = kinds.get(code)
            if kind is None:
                raise DescriptionError(f".{section}[0x{off - 1:x}]: unknown list entry kind 0x{code:x}")
            operands: Any
            if kind == "offset_pair":   # the common entry: two ULEB128 offsets (inline: most of a list's time)
                begin = data[off]
                off += 1
                if begin & 0x80:   # two bytes inline (most offsets within a function), longer ones by uleb
                    if data[off] & 0x80:
                        begin, off = uleb(data, off - 1)
                    else:
                        begin = begin & 0x7F | data[off] << 7
                        off += 1
                end = data[off]
                off += 1
                if end & 0x80:
                    if data[off] & 0x80:
                        end, off = uleb(data, off - 1)
                    else:
                        end = end & 0x7F | data[off] << 7
                        off += 1
                operands = (begin, end)
            else:
                operands, off = self._operands(unit, data, section, off, kind)
            expr = None
            if locations and kind not in NO_EXPRESSION:
                n = data[off]
                off += 1
                if n & 0x80:
                    n, off = uleb(data, off - 1)
                expr = shared.get(data[off:off + n])
                if expr is None:
                    expr = self._expr(unit, data, section, off, n, source)
                off += n
            out.append(ListEntry(kind, locations, operands, expr))   # decoded: the kinds' operand types
        raise DescriptionError(f".{section}: list has more than {MAX_ENTRIES} entries")

    def _operands(self, unit: ReadUnit, data: bytes, section: str, off: int, kind: str) -> tuple[tuple, int]:
        """The operands of an entry of ``kind`` at ``off``, and the offset after them."""
        order, size = self.ctx.order, unit.address_size
        operands: list[Any] = []
        for shape in KINDS[kind][2]:
            if shape == "a" and kind not in _INDEXED:
                if off + size > len(data):
                    raise IndexError(off)
                operands.append(self._address(section, off, int.from_bytes(data[off:off + size], order)))
                off += size
            else:
                value, off = uleb(data, off)
                operands.append(self._indexed(unit, value) if shape == "a" else value)
        return tuple(operands), off

    def _read_v4(self, unit: ReadUnit, data: bytes, section: str, off: int, locations: bool,
                 source: Die) -> list[ListEntry]:
        order, size = self.ctx.order, unit.address_size
        top = (1 << (8 * size)) - 1
        relocs = self.relocations.get(section, {})
        maker: Any = Lle if locations else Rle
        out: list[ListEntry] = []
        while len(out) < MAX_ENTRIES:
            if off + 2 * size > len(data):
                raise IndexError(off)
            begin = int.from_bytes(data[off:off + size], order)
            end = int.from_bytes(data[off + size:off + 2 * size], order)
            relocated = off in relocs or off + size in relocs
            if begin == 0 and end == 0 and not relocated:
                return out
            if begin == top and off not in relocs:
                out.append(maker.base_address(self._address(section, off + size, end)))
                off += 2 * size
                continue
            first: Any = self._address(section, off, begin) if off in relocs else begin
            second: Any = self._address(section, off + size, end) if off + size in relocs else end
            off += 2 * size
            if locations:
                n = int.from_bytes(data[off:off + 2], order)
                off += 2
                out.append(maker.offset_pair(first, second, self._expr(unit, data, section, off, n, source)))
                off += n
            else:
                out.append(maker.offset_pair(first, second))
        raise DescriptionError(f".{section}: list has more than {MAX_ENTRIES} entries")

    def _expr(self, unit: ReadUnit, data: bytes, section: str, off: int, n: int, source: Die) -> Any:
        block = data[off:off + n]
        if len(block) != n:
            raise IndexError(off)
        expr = self.expression(unit, block, off, source, section)
        return expr if expr is not None else block


class _KeptList:
    """A list of a linked file as it is in the file: its bytes, when they mean the same in any layout, or its
    entries (:meth:`ListLoader.read`)."""

    __slots__ = ("loader", "unit", "die_offset", "section", "offset", "locations", "die")

    def __init__(self, loader: ListLoader, unit: ReadUnit, die_offset: int, section: str, offset: int,
                 locations: bool, die: Die) -> None:
        self.loader, self.unit, self.die_offset, self.section, self.offset, self.locations, self.die = \
            loader, unit, die_offset, section, offset, locations, die

    def entries(self) -> list[ListEntry]:
        try:
            return self.loader.read(self.unit, self.section, self.offset, self.locations, self.die)
        except DescriptionError as error:   # named as a load names it: the file and the DIE whose list it is
            raise ReadError(f"{self.loader.loader.df.path}: .{self.unit.section}[0x{self.die_offset:x}]: "
                            f"{error}") from None

    def as_bytes(self) -> bytes | None:
        data = self.loader.ctx.file.section(self.section)
        try:
            end = self._end(data)
        except IndexError:
            return None   # truncated: decoding the entries says where
        return data[self.offset:end] if end is not None else None

    def _end(self, data: bytes) -> int | None:
        """Where the list ends, or None if its bytes depend on the layout: an address index (a broken file), or an
        expression the value loader does not share by its bytes (a DIE operand, an operation kept as bytes)."""
        shared = self.loader.shared_exprs
        off = self.offset
        unit = self.unit
        size = unit.address_size
        if unit.version >= 5:
            steps = _LLE_STEPS if self.locations else _RLE_STEPS
            for _ in range(MAX_ENTRIES):
                code = data[off]
                off += 1
                if code == 0:
                    return off
                step = steps.get(code)
                if step is None:
                    return None
                addresses, numbers, has_expr = step
                off += addresses * size
                for _ in range(numbers):
                    while data[off] & 0x80:
                        off += 1
                    off += 1
                if has_expr:
                    n, off = uleb(data, off)
                    if data[off:off + n] not in shared and not self._shared(data, off, n):
                        return None
                    off += n
            return None
        order = self.loader.ctx.order
        top = (1 << (8 * size)) - 1
        for _ in range(MAX_ENTRIES):
            if off + 2 * size > len(data):
                raise IndexError(off)
            begin = int.from_bytes(data[off:off + size], order)
            end = int.from_bytes(data[off + size:off + 2 * size], order)
            off += 2 * size
            if begin == 0 and end == 0:
                return off
            if begin == top or not self.locations:
                continue
            n = int.from_bytes(data[off:off + 2], order)
            off += 2
            if data[off:off + n] not in shared and not self._shared(data, off, n):
                return None
            off += n
        return None

    def _shared(self, data: bytes, off: int, n: int) -> bool:
        """Decodes the expression at ``off`` if new; whether the value loader shares it by its bytes."""
        block = data[off:off + n]
        if block in self.loader.unshared:
            return False
        self.loader._expr(self.unit, data, self.section, off, n, self.die)
        if block in self.loader.shared_exprs:
            return True
        self.loader.unshared.add(block)
        return False

    def __repr__(self) -> str:
        return f"as read from .{self.section}[0x{self.offset:x}]"


def loader_expression(loader: LoadState, dw: DwarfBuilder) -> Callable[..., Any]:
    """The expression decoder of :class:`~.values.ValueLoader`, made lazily (it owns this list loader)."""
    def expression(*args: Any) -> Any:
        return loader.values.expression(*args)
    return expression


def _located(entries: list[ListEntry]) -> int:
    """How many entries of a list carry a location (GCC's view pairs count those)."""
    return sum(1 for e in entries if e.expr is not None and e.kind not in NO_EXPRESSION)


def _view_pairs(data: bytes, off: int, end: int) -> list[tuple[int, int]]:
    """ULEB128 pairs from ``off`` up to ``end`` (one-byte numbers, the common case, decoded inline)."""
    pairs = []
    while off < end:
        begin = data[off]
        off += 1
        if begin & 0x80:
            begin, off = uleb(data, off - 1)
        finish = data[off]
        off += 1
        if finish & 0x80:
            finish, off = uleb(data, off - 1)
        pairs.append((begin, finish))
    return pairs
