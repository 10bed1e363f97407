"""List entries chosen by the caller: ``Rle.offset_pair(0, 16)``, ``Lle.startx_length("main", 8, Expr().reg(0))``.

A range or location list is given either as ``(start, length[, Expr])`` tuples, for which the writer chooses the
entry kinds (the default: ``start_length``/``startx_length`` in DWARF 5, base address selection entries and offset
pairs before), or as a sequence of these entry objects, which are written exactly as given, in order, followed by the
end-of-list entry (an explicit ``end_of_list()`` may close the list instead). The two cannot be mixed in one list.

DWARF 5 (``.debug_rnglists``/``.debug_loclists``) takes every kind: ``base_addressx``, ``startx_endx``,
``startx_length`` (addresses by index in ``.debug_addr``, which the program then writes), ``offset_pair`` (offsets
from the current base address), ``base_address``, ``start_end``, ``start_length``, ``default_location`` (location
lists only), ``end_of_list``, and GCC's ``view_pair`` (``DW_LLE_GNU_view_pair``, 0x09, location lists only: the
location views of the entry that follows). DWARF 2-4 (``.debug_ranges``/``.debug_loc``) have only ``base_address``
(a base address selection entry) and ``offset_pair``; other kinds are refused with the version named.

Addresses are :class:`~dwarfkit.Address` values, plain integers or symbol names; offsets and lengths are
non-negative integers. Imports the foundations and :mod:`dwarfkit.expr` only.
"""
from __future__ import annotations

from typing import Any

from ..address import Address, as_address
from ..errors import DescriptionError
from ..expr import Expr

# Entry kinds: name -> (DW_RLE_ code or None, DW_LLE_ code or None, operand shapes: a = address, u = ULEB128 number).
KINDS: dict[str, tuple[int | None, int | None, str]] = {
    "end_of_list": (0x00, 0x00, ""),
    "base_addressx": (0x01, 0x01, "a"),
    "startx_endx": (0x02, 0x02, "aa"),
    "startx_length": (0x03, 0x03, "au"),
    "offset_pair": (0x04, 0x04, "uu"),
    "default_location": (None, 0x05, ""),
    "base_address": (0x05, 0x06, "a"),
    "start_end": (0x06, 0x07, "aa"),
    "start_length": (0x07, 0x08, "au"),
    "view_pair": (None, 0x09, "uu"),
}
INDEXED_KINDS = frozenset({"base_addressx", "startx_endx", "startx_length"})
# Entries that carry no location expression in a location list.
NO_EXPRESSION = frozenset({"end_of_list", "base_addressx", "base_address", "view_pair"})
DWARF4_KINDS = frozenset({"base_address", "offset_pair", "end_of_list"})


class ListEntry:
    """One list entry of a chosen kind; made by :class:`Rle` (range lists) or :class:`Lle` (location lists)."""

    __slots__ = ("kind", "location", "operands", "expr")

    def __init__(self, kind: str, location: bool, operands: tuple, expr: Any = None) -> None:
        self.kind = kind
        self.location = location
        self.operands = operands
        self.expr = expr

    @property
    def code(self) -> int:
        rle, lle, _ = KINDS[self.kind]
        code = lle if self.location else rle
        assert code is not None
        return code

    def __repr__(self) -> str:
        args = ", ".join(repr(o) for o in self.operands)
        if self.expr is not None:
            args += (", " if args else "") + repr(self.expr)
        return f"{'Lle' if self.location else 'Rle'}.{self.kind}({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ListEntry) and (self.kind, self.location, self.operands, self.expr) == \
            (other.kind, other.location, other.operands, other.expr)

    def __hash__(self) -> int:
        return hash((self.kind, self.operands))


def _address(value: Any, kind: str, what: str) -> Address:
    if isinstance(value, bool) or not isinstance(value, (Address, int, str)):
        raise DescriptionError(f"{kind}: {what} {value!r} is not an address (Address, int or symbol name)")
    try:
        return as_address(value)
    except (TypeError, ValueError) as error:
        raise DescriptionError(f"{kind}: {what} {value!r} is not an address: {error}") from None


def _number(value: Any, kind: str, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 64:
        raise DescriptionError(f"{kind}: {what} {value!r} is not an integer in [0, 2**64)")
    return value


def _expr(value: Any, kind: str) -> Any:
    if not isinstance(value, (Expr, bytes, bytearray)):
        raise DescriptionError(f"{kind}: {value!r} is not an Expr (or the bytes of one)")
    return value


def _make(kind: str, location: bool, values: tuple, expr: Any = None) -> ListEntry:
    shapes = KINDS[kind][2]
    # An offset pair may hold relocated addresses (DWARF 2-4 objects: begin and end against a section, the base 0).
    operands = tuple(_address(v, kind, f"operand {i + 1}") if s == "a" or kind == "offset_pair" and
                     isinstance(v, Address) and v.symbol is not None else _number(v, kind, f"operand {i + 1}")
                     for i, (s, v) in enumerate(zip(shapes, values, strict=True)))
    if location and kind not in NO_EXPRESSION:
        expr = _expr(expr, kind)
    return ListEntry(kind, location, operands, expr)


class Rle:
    """Range list entries (``DW_RLE_*``) by kind; see the module docstring for which versions take which."""

    @staticmethod
    def end_of_list() -> ListEntry:
        return _make("end_of_list", False, ())

    @staticmethod
    def base_addressx(address: Address | int | str) -> ListEntry:
        return _make("base_addressx", False, (address,))

    @staticmethod
    def startx_endx(start: Address | int | str, end: Address | int | str) -> ListEntry:
        return _make("startx_endx", False, (start, end))

    @staticmethod
    def startx_length(start: Address | int | str, length: int) -> ListEntry:
        return _make("startx_length", False, (start, length))

    @staticmethod
    def offset_pair(begin: int | Address, end: int | Address) -> ListEntry:
        """Offsets from the base address (DWARF 2-4 objects: relocated addresses, the base 0)."""
        return _make("offset_pair", False, (begin, end))

    @staticmethod
    def base_address(address: Address | int | str) -> ListEntry:
        return _make("base_address", False, (address,))

    @staticmethod
    def start_end(start: Address | int | str, end: Address | int | str) -> ListEntry:
        return _make("start_end", False, (start, end))

    @staticmethod
    def start_length(start: Address | int | str, length: int) -> ListEntry:
        return _make("start_length", False, (start, length))


class Lle:
    """Location list entries (``DW_LLE_*``) by kind; the entries with a range take the location ``Expr`` last."""

    @staticmethod
    def end_of_list() -> ListEntry:
        return _make("end_of_list", True, ())

    @staticmethod
    def base_addressx(address: Address | int | str) -> ListEntry:
        return _make("base_addressx", True, (address,))

    @staticmethod
    def startx_endx(start: Address | int | str, end: Address | int | str, expr: Expr | bytes) -> ListEntry:
        return _make("startx_endx", True, (start, end), expr)

    @staticmethod
    def startx_length(start: Address | int | str, length: int, expr: Expr | bytes) -> ListEntry:
        return _make("startx_length", True, (start, length), expr)

    @staticmethod
    def offset_pair(begin: int | Address, end: int | Address, expr: Expr | bytes) -> ListEntry:
        """Offsets from the base address (DWARF 2-4 objects: relocated addresses, the base 0)."""
        return _make("offset_pair", True, (begin, end), expr)

    @staticmethod
    def default_location(expr: Expr | bytes) -> ListEntry:
        return _make("default_location", True, (), expr)

    @staticmethod
    def base_address(address: Address | int | str) -> ListEntry:
        return _make("base_address", True, (address,))

    @staticmethod
    def start_end(start: Address | int | str, end: Address | int | str, expr: Expr | bytes) -> ListEntry:
        return _make("start_end", True, (start, end), expr)

    @staticmethod
    def start_length(start: Address | int | str, length: int, expr: Expr | bytes) -> ListEntry:
        return _make("start_length", True, (start, length), expr)

    @staticmethod
    def view_pair(begin: int, end: int) -> ListEntry:
        """GCC's ``DW_LLE_GNU_view_pair``: the views at the start and end of the entry that follows."""
        return _make("view_pair", True, (begin, end))


def check_entries(entries: list[ListEntry], locations: bool, version: int, address_size: int) -> None:
    """DescriptionError unless every entry fits this list kind and DWARF version (checked once, at make)."""
    what = "location" if locations else "range"
    room = 1 << (8 * address_size)
    for n, entry in enumerate(entries):
        where = f"{what} list entry {n} ({entry!r})"
        if entry.location != locations:
            raise DescriptionError(f"{where}: a {'location' if entry.location else 'range'} list entry in a {what} "
                                   f"list (use {'Lle' if locations else 'Rle'})")
        if entry.kind == "end_of_list" and n != len(entries) - 1:
            raise DescriptionError(f"{where}: end_of_list must be the last entry")
        if version < 5 and entry.kind not in DWARF4_KINDS:
            raise DescriptionError(f"{where}: DWARF {version} lists have only base_address and offset_pair "
                                   f"entries; {entry.kind} needs DWARF 5")
        for operand in entry.operands:
            if isinstance(operand, Address):
                if operand.symbol is None and not 0 <= operand.offset < room:
                    raise DescriptionError(f"{where}: address {operand.offset:#x} does not fit {address_size} bytes")
                if version >= 5 and entry.kind == "offset_pair":
                    raise DescriptionError(f"{where}: DWARF 5 offset pairs are ULEB128 offsets, not relocated "
                                           f"addresses")
            elif version < 5 and operand >= room:
                raise DescriptionError(f"{where}: offset {operand:#x} does not fit {address_size} bytes")
        if version < 5 and entry.kind == "offset_pair" and entry.operands == (0, 0):
            raise DescriptionError(f"{where}: offset_pair(0, 0) would read as the end of a DWARF {version} list")
        if version < 5 and entry.kind == "base_address" and entry.operands[0].symbol is None and \
                entry.operands[0].offset == room - 1:
            raise DescriptionError(f"{where}: base address {room - 1:#x} would read as a base address selection")


def resolve(entries: list[ListEntry], base: Any, locations: bool) -> list[tuple]:
    """Entries as ``(start, length[, expr])``, offsets resolved against ``base`` (the unit's base address) and the
    base address entries: what a conversion writes again, and what .debug_aranges covers."""
    current: Address = base if isinstance(base, Address) else Address(None, base or 0)
    out: list[tuple] = []
    for entry in entries:
        kind, ops = entry.kind, entry.operands
        if kind in ("base_address", "base_addressx"):
            current = ops[0]
            continue
        if kind in ("end_of_list", "default_location", "view_pair"):
            continue
        if kind == "offset_pair":
            if isinstance(ops[0], Address):
                start, length = ops[0], ops[1] - ops[0]
            else:
                start, length = current + ops[0], ops[1] - ops[0]
        elif kind in ("start_length", "startx_length"):
            start, length = ops[0], ops[1]
        else:   # start_end, startx_endx
            start, length = ops[0], ops[1] - ops[0]
        if not isinstance(length, int) or length < 0:
            raise DescriptionError(f"list entry {entry!r} does not resolve to a range")
        out.append((start, length, entry.expr) if locations else (start, length))
    return out


_PLAIN_KIND = {"base_addressx": "base_address", "startx_length": "start_length", "startx_endx": "start_end"}
_INDEXED_KIND = {plain: indexed for indexed, plain in _PLAIN_KIND.items()}


def convert_entries(entries: list[ListEntry], base: Any, locations: bool, version: int,
                    indexed: bool = False) -> list[ListEntry]:
    """``entries`` (as read from another DWARF version) as entries of ``version``, entry for entry: every range and
    location stays (empty ones too, which some consumers use), so GCC's view pairs still match the list. ``base``: the
    unit's base address (its low_pc), which offset pairs count from until a base address entry.

    DWARF 5 takes base addresses, offset pairs and (an object's relocated pairs) start_length, or startx_length when
    ``indexed``; DWARF 2-4 have only base address selections and offset pairs, so a start/length entry becomes a base
    address selection and an offset pair (the unit's base restored before a later offset pair), and an empty pair at
    offset 0, which would end the list there, moves the base one byte back."""
    current: Address = base if isinstance(base, Address) else Address(None, base or 0)
    out: list[ListEntry] = []
    make = Lle if locations else Rle
    if version >= 5:
        for entry in entries:
            kind, ops = entry.kind, entry.operands
            extra = (entry.expr,) if locations and kind not in NO_EXPRESSION else ()
            if kind == "offset_pair" and isinstance(ops[0], Address):   # relocated begin and end (an object)
                start, length = ops[0], ops[1] - ops[0]
                out.append(getattr(make, "startx_length" if indexed else "start_length")(start, length, *extra))
                continue
            if kind == "end_of_list":
                continue
            # Addresses by index or not, as the program chooses; every other entry as it was.
            kind = (_INDEXED_KIND if indexed else _PLAIN_KIND).get(kind, kind)
            out.append(getattr(make, kind)(*ops, *extra))
        return out
    written: Address = current   # the base a DWARF 4 offset pair counts from, as written so far
    for resolved in resolve(entries, current, locations):   # each range with its start as an address
        start, length = resolved[0], resolved[1]
        extra = resolved[2:]
        if start.symbol != written.symbol or start.offset < written.offset or \
                start.offset == written.offset and length == 0:
            if length == 0 and start.offset == 0:
                if start.symbol is None:
                    continue   # an empty range at address 0 cannot be written before DWARF 5 (it ends the list)
                written = Address(None, 0)   # relocated begin and end, from base 0 (as gcc writes objects)
                out.append(make.base_address(written))
                out.append(make.offset_pair(start, start, *extra))
                continue
            written = start if length else Address(start.symbol, start.offset - 1)
            out.append(make.base_address(written))
        begin = start.offset - written.offset
        out.append(make.offset_pair(begin, begin + length, *extra))
    return out
