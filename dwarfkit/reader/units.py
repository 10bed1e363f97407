"""Units of ``.debug_info``/``.debug_types``: headers, and their DIEs decoded one unit at a time.

A `Unit` decodes its DIEs into parallel lists (offset, abbreviation, values, parent index, depth): compact, fast
to build, and enough for random access inside the unit (type names, parents, children). Memory is what one unit
needs; `DwarfContext.units()` yields unit headers without decoding, and callers load and drop units one by one.
"""
from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..encoding import Leb128Error, decode_initial_length
from ..encoding import decode_uleb128 as uleb
from ..errors import ReadError
from . import forms
from .abbrev import Abbrev, UnknownForm, compile_abbrev, parse_abbrev_table
from .debugfile import DebugFile
from .forms import F
from .package import PackageIndex, read_package

DW_UT = {1: "DW_UT_compile", 2: "DW_UT_type", 3: "DW_UT_partial", 4: "DW_UT_skeleton", 5: "DW_UT_split_compile",
         6: "DW_UT_split_type"}
DW_AT_str_offsets_base, DW_AT_addr_base, DW_AT_rnglists_base, DW_AT_loclists_base = 0x72, 0x73, 0x74, 0x8c
DW_AT_GNU_addr_base, DW_AT_GNU_ranges_base = 0x2133, 0x2132
VALID_ADDRESS_SIZES = (1, 2, 4, 8)
DW_AT_stmt_list, DW_AT_comp_dir, DW_AT_name, DW_AT_low_pc, DW_AT_language = 0x10, 0x1b, 0x03, 0x11, 0x13

# A decoded attribute value: an int, bytes (a block, an inline string), or (form, value) for DW_FORM_indirect.
# The form says which; readers switch on the form, so the type is left open.
Value = Any


@dataclass
class Unit:
    section: str
    offset: int
    length: int
    offset_size: int
    version: int
    unit_type: int
    abbrev_offset: int
    address_size: int
    die_offset: int
    end: int
    type_signature: int | None = None
    type_offset: int | None = None
    dwo_id: int | None = None
    abbrevs: dict[int, Abbrev] = field(default_factory=dict)
    # Decoded DIEs (filled by DwarfContext.load)
    offs: list[int] = field(default_factory=list)
    abbs: list[Abbrev | None] = field(default_factory=list)
    vals: list[tuple[Value, ...] | None] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    index: dict[int, int] | None = None
    # Unit attributes from the unit DIE
    str_offsets_base: int | None = None
    addr_base: int | None = None
    rnglists_base: int | None = None
    loclists_base: int | None = None
    low_pc: int = 0
    has_low_pc: bool = False
    ranges_base: int = 0  # GNU DWARF 4 split units: the skeleton's DW_AT_GNU_ranges_base
    comp_dir: str = ""
    stmt_list: int | None = None
    language: int | None = None
    contributions: dict[str, tuple[int, int]] | None = None
    """In a package (``.dwp``): the unit's contribution (offset, size) to each section, from its index row."""

    def base(self, section: str) -> int:
        """Where this unit's contribution to ``section`` starts (0 outside a package): list offsets are relative
        to it."""
        c = self.contributions
        return c[section][0] if c is not None and section in c else 0

    @property
    def is_type_unit(self) -> bool:
        return self.section == "debug_types" or self.unit_type in (2, 6)

    def die_index(self, offset: int) -> int | None:
        if self.index is None:
            self.index = {o: i for i, o in enumerate(self.offs)}
        return self.index.get(offset)

    def tag(self, i: int) -> int:
        """The tag of DIE number ``i``; 0 for a NULL entry."""
        ab = self.abbs[i]
        return ab.tag if ab is not None else 0

    def attr(self, i: int, at: int) -> Value | None:
        """Value of attribute ``at`` of DIE number ``i``, or None."""
        ab, values = self.abbs[i], self.vals[i]
        if ab is None or values is None:
            return None
        for (a, _f, _c), v in zip(ab.attrs, values, strict=True):
            if a == at:
                return v
        return None

    def attr_form(self, i: int, at: int) -> tuple[int, Value] | None:
        ab, values = self.abbs[i], self.vals[i]
        if ab is None or values is None:
            return None
        for (a, f, _c), v in zip(ab.attrs, values, strict=True):
            if a == at:
                return f, v
        return None

    def children(self, i: int) -> Iterator[int]:
        """Indices of the children of DIE ``i`` (NULL entries excluded)."""
        ab = self.abbs[i]
        if ab is None or not ab.has_children:
            return
        depth = self.depths[i] + 1
        j = i + 1
        n = len(self.offs)
        while j < n and self.depths[j] >= depth:
            if self.depths[j] == depth and self.abbs[j] is not None:
                yield j
            j += 1


class DwarfContext:
    """The DWARF of one file: unit headers, abbreviations, strings, and helpers that decode on demand."""

    def __init__(self, df: DebugFile):
        self.file = df
        self.order = df.byteorder
        self.e = "<" if df.byteorder == "little" else ">"
        self.info = df.section("debug_info")
        self.abbrev = df.section("debug_abbrev")
        self.str = df.section("debug_str")
        self.line_str = df.section("debug_line_str")
        self.str_offsets = df.section("debug_str_offsets")
        self.addr = df.section("debug_addr")
        self.problems: list[str] = []
        self._tables: dict[tuple, dict[int, Abbrev]] = {}
        self._units: dict[str, list[Unit]] = {}
        self._line_tables: dict[int, object] = {}
        self._signatures: dict[int, Unit] | None = None
        self.package: PackageIndex | None = read_package(df.sections, df.byteorder) if df.dwo else None
        if self.package is not None:
            self.problems += self.package.problems

    # --- unit headers -------------------------------------------------------------------------------------------
    def units(self, section: str = "debug_info") -> list[Unit]:
        if section not in self._units:
            self._units[section] = list(self._parse_headers(section))
            if self.package is not None:
                for unit in self._units[section]:
                    self._apply_index(unit)
        return self._units[section]

    def _apply_index(self, unit: Unit) -> None:
        """A package's unit: its contributions from the index row for where it starts; its abbreviation and
        string-offsets bases made absolute (the line table's in ``_unit_attributes``, lists in their readers)."""
        assert self.package is not None
        row = self.package.row_at(unit.section, unit.offset)
        name = "." + unit.section
        if row is None:
            self.problems.append(f"{name}[0x{unit.offset:x}]: unit is in no row of .debug_"
                                 f"{'tu' if unit.is_type_unit else 'cu'}_index")
            return
        unit.contributions = row.contributions
        unit.abbrev_offset += unit.base("debug_abbrev")
        if "debug_str_offsets" in row.contributions:
            header = (8 if unit.offset_size == 4 else 16) if unit.version >= 5 else 0
            unit.str_offsets_base = unit.base("debug_str_offsets") + header

    def _parse_headers(self, section: str) -> Iterator[Unit]:
        data = self.file.section(section)
        off = 0
        name = "." + section
        while off < len(data):
            start = off
            if len(data) - off < 4:
                self.problems.append(f"{name}[0x{start:x}]: {len(data) - off} trailing bytes, "
                                     "too few for a unit header")
                return
            length, offset_size, off = decode_initial_length(data, off, self.order)
            if off > len(data):
                self.problems.append(f"{name}[0x{start:x}]: DWARF64 unit length is truncated")
                return
            if offset_size == 4 and length >= 0xFFFFFFF0:
                self.problems.append(f"{name}[0x{start:x}]: unit length 0x{length:x} is a reserved value")
                return
            end = off + length
            if length < 2:   # not even a version: the next unit starts right after the length
                self.problems.append(f"{name}[0x{start:x}]: unit length {length} is too short for a unit header")
                off = end
                continue
            if end > len(data):
                self.problems.append(f"{name}[0x{start:x}]: unit length 0x{length:x} runs past the end of the section "
                                     f"(0x{len(data):x})")
                return
            try:
                unit = self._header(section, data, start, off, end, length, offset_size)
            except (IndexError, struct.error):
                self.problems.append(f"{name}[0x{start:x}]: unit header is truncated")
                unit = None
            if unit is not None:
                yield unit
            off = end

    def _header(self, section: str, data: bytes, start: int, off: int, end: int, length: int,
                offset_size: int) -> Unit | None:
        name = "." + section
        version = int.from_bytes(data[off:off + 2], self.order)
        off += 2
        osz = "I" if offset_size == 4 else "Q"
        unit_type = 1
        sig = toff = dwo = None
        if version not in (2, 3, 4, 5):
            self.problems.append(f"{name}[0x{start:x}]: unit version {version} is not 2, 3, 4 or 5")
            return None
        if version >= 5:
            unit_type, address_size = data[off], data[off + 1]
            off += 2
            abbrev_offset = struct.unpack_from(self.e + osz, data, off)[0]
            off += offset_size
            if unit_type in (2, 6):
                sig = struct.unpack_from(self.e + "Q", data, off)[0]
                toff = struct.unpack_from(self.e + osz, data, off + 8)[0]
                off += 8 + offset_size
            elif unit_type in (4, 5):
                dwo = struct.unpack_from(self.e + "Q", data, off)[0]
                off += 8
        else:
            abbrev_offset = struct.unpack_from(self.e + osz, data, off)[0]
            off += offset_size
            address_size = data[off]
            off += 1
            if section == "debug_types":
                unit_type = 2
                sig = struct.unpack_from(self.e + "Q", data, off)[0]
                toff = struct.unpack_from(self.e + osz, data, off + 8)[0]
                off += 8 + offset_size
        if off > end:
            self.problems.append(f"{name}[0x{start:x}]: unit header is longer than the unit")
            return None
        unit = Unit(section, start, length, offset_size, version, unit_type, abbrev_offset, address_size, off, end,
                    sig, toff, dwo)
        if address_size not in VALID_ADDRESS_SIZES:
            unit.problems.append(f"{name}[0x{start:x}]: address size {address_size} is invalid; the unit's DIEs "
                                 "are not decoded")
        return unit

    # --- abbreviations and DIEs --------------------------------------------------------------------------------
    def abbrevs_for(self, unit: Unit) -> dict[int, Abbrev]:
        key = (unit.abbrev_offset, unit.address_size, unit.offset_size, unit.version)
        table = self._tables.get(key)
        if table is None:
            if unit.abbrev_offset >= len(self.abbrev):
                raise ReadError(f".debug_abbrev: unit at 0x{unit.offset:x} names abbreviation table 0x"
                                f"{unit.abbrev_offset:x}, past the end of the section (0x{len(self.abbrev):x})")
            table = parse_abbrev_table(self.abbrev, unit.abbrev_offset)
            self._tables[key] = table
        return table

    def load(self, unit: Unit) -> Unit:
        """Decode all DIEs of the unit (idempotent). Problems go to unit.problems; what decodes is kept."""
        if unit.offs:
            return unit
        name = "." + unit.section
        try:
            table = self.abbrevs_for(unit)
        except ReadError as e:
            unit.problems.append(str(e))
            return unit
        unit.abbrevs = table
        if unit.address_size not in VALID_ADDRESS_SIZES:
            return unit  # the header's problem says why: addresses of other sizes cannot be read as numbers
        data = self.file.section(unit.section)
        offs, abbs, vals, parents, depths = unit.offs, unit.abbs, unit.vals, unit.parents, unit.depths
        # The hot loop of every reader: bound methods and the current parent/depth kept in locals.
        add_off, add_abb, add_val, add_parent, add_depth = (offs.append, abbs.append, vals.append, parents.append,
                                                            depths.append)
        enclosing: list[int] = []  # parents of the open DIEs with children
        parent, depth, count = -1, 0, 0
        off = unit.die_offset
        end = unit.end
        get = table.get
        start = off
        try:
            while off < end:
                start = off
                code = data[off]
                off += 1
                if code & 0x80:
                    code, off = uleb(data, start)
                if code == 0:
                    add_off(start)
                    add_abb(None)
                    add_val(None)
                    add_parent(parent)
                    add_depth(depth)
                    count += 1
                    if depth:
                        parent = enclosing.pop()
                        depth -= 1
                    continue
                ab = get(code)
                if ab is None:
                    unit.problems.append(f"{name}[0x{start:x}]: abbreviation code {code} is not in the table at "
                                         f".debug_abbrev[0x{unit.abbrev_offset:x}]")
                    break
                decode = ab.decode or compile_abbrev(ab, unit.address_size, unit.offset_size, unit.version,
                                                     self.order)
                off, v = decode(data, off)
                add_off(start)
                add_abb(ab)
                add_val(v)
                add_parent(parent)
                add_depth(depth)
                count += 1
                if ab.has_children:
                    enclosing.append(parent)
                    parent = count - 1
                    depth += 1
            if off > end:
                unit.problems.append(f"{name}[0x{start:x}]: DIE runs past the end of its unit (0x{end:x})")
                _drop_last(unit)
        except Leb128Error as e:
            unit.problems.append(f"{name}[0x{e.pos:x}]: in the DIE at 0x{start:x}: {e}")
        except (IndexError, ValueError, struct.error):
            unit.problems.append(f"{name}[0x{start:x}]: DIE is truncated (section ends at 0x{len(data):x})")
        except UnknownForm as e:
            unit.problems.append(f"{name}[0x{start:x}]: DIE uses an {e}; the rest of the unit cannot be decoded")
        self._unit_attributes(unit)
        return unit

    def _unit_attributes(self, unit: Unit) -> None:
        ab, values = (unit.abbs[0], unit.vals[0]) if unit.offs else (None, None)
        if ab is None or values is None:
            return
        for (at, form, _c), v in zip(ab.attrs, values, strict=True):
            if at == DW_AT_str_offsets_base:
                unit.str_offsets_base = v + unit.base("debug_str_offsets")
            elif at in (DW_AT_addr_base, DW_AT_GNU_addr_base):
                unit.addr_base = v
            elif at == DW_AT_rnglists_base:
                unit.rnglists_base = v
            elif at == DW_AT_loclists_base:
                unit.loclists_base = v
            elif at == DW_AT_low_pc and form == F["addr"]:
                unit.low_pc, unit.has_low_pc = v, True
            elif at == DW_AT_stmt_list and isinstance(v, int):
                unit.stmt_list = v + unit.base("debug_line")
            elif at == DW_AT_language and isinstance(v, int):
                unit.language = v
        for (at, form, _c), v in zip(ab.attrs, values, strict=True):
            if at == DW_AT_comp_dir:
                unit.comp_dir = self.string(unit, form, v) or ""
            elif at == DW_AT_low_pc and form in forms.ADDR_INDEX:
                low = self.address_index(unit, v)
                unit.low_pc, unit.has_low_pc = low or 0, low is not None

    def type_unit(self, signature: int) -> Unit | None:
        """The type unit (``.debug_types``, or DW_UT_type/split_type) with this signature."""
        if self._signatures is None:
            self._signatures = {u.type_signature: u for s in ("debug_info", "debug_types")
                                for u in self.units(s) if u.type_signature is not None}
        return self._signatures.get(signature)

    def unit_at(self, offset: int, section: str = "debug_info") -> Unit | None:
        units = self.units(section)
        starts = [u.offset for u in units]
        i = bisect.bisect_right(starts, offset) - 1
        if i >= 0 and units[i].die_offset <= offset < units[i].end:
            return units[i]
        return None

    # --- strings and addresses ---------------------------------------------------------------------------------
    def string(self, unit: Unit, form: int, value: Value) -> str | None:
        """The string an attribute names, or None when it cannot be found."""
        if form == F["string"]:
            return value.decode("utf-8", "surrogateescape")
        if form == F["strp"]:
            return cstring(self.str, value)
        if form == F["line_strp"]:
            return cstring(self.line_str, value)
        if form in forms.STRING_INDEX:
            off = self.string_offset(unit, value)
            return None if off is None else cstring(self.str, off)
        return None

    def string_offset(self, unit: Unit, index: int) -> int | None:
        base = unit.str_offsets_base
        if base is None:
            # The header of the only contribution (DWARF 5, and a split unit's implicit base); GNU's DWARF 4
            # split units (DW_FORM_GNU_str_index) index a .debug_str_offsets.dwo without a header.
            base = (8 if unit.offset_size == 4 else 16) if unit.version >= 5 else 0
        pos = base + index * unit.offset_size
        if pos + unit.offset_size > len(self.str_offsets):
            return None
        return int.from_bytes(self.str_offsets[pos:pos + unit.offset_size], self.order)

    def address_index(self, unit: Unit, index: int) -> int | None:
        base = unit.addr_base if unit.addr_base is not None else 8
        pos = base + index * unit.address_size
        if pos + unit.address_size > len(self.addr) or unit.address_size == 0:
            return None
        return int.from_bytes(self.addr[pos:pos + unit.address_size], self.order)


def cstring(data: bytes, off: int) -> str | None:
    if off >= len(data):
        return None
    end = data.find(b"\0", off)
    if end < 0:
        return None
    return data[off:end].decode("utf-8", "surrogateescape")


def forget(unit: Unit) -> None:
    """Drop a unit's decoded DIEs: memory stays at what a few units need."""
    unit.offs, unit.abbs, unit.vals, unit.parents, unit.depths, unit.index = [], [], [], [], [], None
    unit.problems = []


def _drop_last(unit: Unit) -> None:
    for lst in (unit.offs, unit.abbs, unit.vals, unit.parents, unit.depths):
        lst.pop()
