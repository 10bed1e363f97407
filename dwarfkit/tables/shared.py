"""The tables one program's units share, composed: what a unit may ask of its program while it is described.

A :class:`SharedTables` holds the encoding and the program-wide choices (indexed forms, implicit constants, line
strings), the string tables (``.debug_str``, ``.debug_line_str``), ``.debug_str_offsets``, ``.debug_addr``, the
abbreviation table and the interned attribute lists, ``.debug_line``, the range and location list tables, the macro
tables, the unit bases, and the caches of ``Unit._new_die`` (call shapes, short strings stored inline). The builder
makes one and hands it to every unit; a unit never sees the builder. Imports the tables of this package and the
foundations.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from .. import names
from ..abbrev import AbbrevTable
from ..address import Address
from ..encoding import Encoding
from ..strings import StringTable
from .addresses import AddressTable
from .lines import LineTable
from .lists import ListTable, LocationList, RangeList
from .macros import MACINFO, MACRO, MacroTable
from .offsets import SectionOffset
from .raw import RawControl
from .specs import Reporter, SpecTable
from .str_offsets import StringOffsets

_FORMS = names.FORMS
_STRP, _LINE_STRP, _STRING = _FORMS["strp"], _FORMS["line_strp"], _FORMS["string"]
_STRX = {_FORMS[f] for f in ("strx", "strx1", "strx2", "strx3", "strx4", "GNU_str_index")}


class SharedTables:
    """Every table shared by the units of one program (see the module's docstring)."""

    def __init__(self, encoding: Encoding, *, indexed: bool, implicit_const: bool, line_strings: bool,
                 addresses: AddressTable | None = None, gnu_split: bool = False,
                 ranges: ListTable | None = None) -> None:
        """``addresses``: another program's ``.debug_addr`` (a ``.dwo`` part's units index their skeleton file's);
        ``gnu_split``: the units are GNU split DWARF 4 units (strings and addresses by GNU index forms);
        ``ranges``: another program's range lists, written there (GNU split DWARF 4 keeps them in the main file)."""
        self.encoding = encoding
        self.indexed = indexed or gnu_split
        self.gnu_split = gnu_split
        self.dwo = addresses is not None
        """The tables of a ``.dwo`` part (see :mod:`dwarfkit.split`): units get no base attributes."""
        self.implicit_const = implicit_const
        self.use_line_strings = line_strings
        self.abbrevs = AbbrevTable()
        self.specs = SpecTable()
        self.strings = StringTable(".debug_str")
        self.line_strings = StringTable(".debug_line_str")
        self.str_offsets = StringOffsets(encoding, self.strings)
        self.addresses = AddressTable(encoding) if addresses is None else addresses
        self.lines = LineTable(encoding, self.line_strings if line_strings else None, self.strings)
        self._own_ranges = ranges is None
        self.ranges = ranges or ListTable(encoding, False, self.addresses if indexed else None, self.addresses)
        self.locations = ListTable(encoding, True, self.addresses if indexed else None, self.addresses)
        # The tables of units whose version is on the other side of DWARF 5 (a loaded file may mix them) or whose
        # addresses have another size: (locations, version >= 5, address size) -> table, made when first used.
        self._other_lists: dict[tuple[bool, bool, int], ListTable] = {}
        self.str_offsets_base = self.str_offsets.base
        self.addr_base = self.addresses.base
        self.rnglists_base = SectionOffset(".debug_rnglists")   # only DWARF 5 units have these bases
        self.loclists_base = SectionOffset(".debug_loclists")
        # .debug_macro and .debug_macinfo, written when the program is emitted (strx only when indexed).
        self.macros = {MACRO: MacroTable(MACRO, encoding, self.str_offsets if indexed else None),
                       MACINFO: MacroTable(MACINFO, encoding, None)}
        # Caches of Unit._new_die shared by the units: call shapes, and short strings stored inline.
        self.die_shapes: dict[tuple, Any] = {}
        self.inline_strings: dict[str, bytes] = {}
        self.raw: RawControl | None = None   # made on first use: the encoder's ordinary path checks it once a unit

    def raw_control(self) -> RawControl:
        """The program's raw control (:mod:`dwarfkit.raw`), made the first time it is asked for."""
        if self.raw is None:
            self.raw = RawControl(self.abbrevs)
        return self.raw

    def list_table(self, locations: bool, version: int, address_size: int | None = None) -> ListTable:
        """The location (or range) list table that units of ``version`` (and ``address_size``, default the
        program's) use: ``.debug_loclists``/``.debug_rnglists`` from DWARF 5 on, ``.debug_loc``/``.debug_ranges``
        before. Units of another address size get contributions of their own in the same section."""
        enc = self.encoding
        size = enc.address_size if address_size is None else address_size
        if (version >= 5) == (enc.version >= 5) and size == enc.address_size:
            return self.locations if locations else self.ranges
        key = (locations, version >= 5, size)
        table = self._other_lists.get(key)
        if table is None:
            indexed = self.indexed and version >= 5 and size == enc.address_size
            table = self._other_lists[key] = ListTable(
                Encoding(version, enc.offset_size, size, enc.byteorder), locations,
                self.addresses if indexed else None, self.addresses if size == enc.address_size else None)
        return table

    def list_tables(self) -> list[ListTable]:
        """Every list table in use, the program's own two first."""
        own = [self.ranges] if self._own_ranges else []
        return [*own, self.locations, *self._other_lists.values()]

    def use_strings(self, table: StringTable) -> None:
        """Replaces ``.debug_str``; a unit made earlier still finds the strings the old table holds first."""
        self.strings = self.str_offsets.strings = self.lines.strings = table

    # What units and forms ask for, by name (each one table's job).
    def intern_specs(self, specs: list[tuple], die: Reporter) -> tuple:
        """One shared tuple per distinct attribute list (they key the abbreviations); checked when first seen."""
        return self.specs.intern(specs, die)

    def intern_block(self, data: bytes) -> tuple[bytes, tuple]:
        """One shared (bytes, no relocations) value per distinct expression."""
        return self.specs.block(data)

    def string_index(self, text: str) -> int:
        """The index of ``text`` in ``.debug_str_offsets``."""
        return self.str_offsets.index(text)

    def address_index(self, address: Address | int | str) -> int:
        """The index of ``address`` in ``.debug_addr``."""
        return self.addresses.index(address)

    def string_at(self, form: int, stored: Any) -> str | None:
        """The text of a string attribute from its form and stored value (an offset, an index or inline bytes)."""
        if form == _STRP:
            return self.strings.text_at(stored)
        if form == _LINE_STRP:
            return self.line_strings.text_at(stored)
        if form in _STRX:
            return self.str_offsets.text_at(stored)
        if form == _STRING:
            return bytes(stored).rstrip(b"\0").decode("utf-8", "surrogateescape")
        return None

    def address_at(self, index: int) -> Address:
        """The address with index ``index`` in ``.debug_addr``."""
        return self.addresses.at(index)

    def range_list(self, entries: Iterable[Sequence[Any]], encoding: Encoding | None = None) -> RangeList:
        """A range list ``[(start, length), ...]`` (starts: Address, int or symbol name) for ``ranges=``, for units
        of ``encoding`` (default the program's)."""
        table = self.ranges if encoding is None else self.list_table(False, encoding.version, encoding.address_size)
        made = table.make(entries)
        assert isinstance(made, RangeList)
        return made

    def location_list(self, entries: Iterable[Sequence[Any]], encoding: Encoding | None = None) -> LocationList:
        """A location list ``[(start, length, Expr), ...]`` for ``location=`` and other location attributes, for
        units of ``encoding`` (default the program's)."""
        table = self.locations if encoding is None else self.list_table(True, encoding.version,
                                                                          encoding.address_size)
        made = table.make(entries)
        assert isinstance(made, LocationList)
        return made
