"""Laying out and encoding one unit into ``.debug_info`` (or ``.debug_types``).

DIEs are written in tree order with one precomputed field encoder per form; the abbreviation code comes from the
shared :class:`~dwarfkit.abbrev.AbbrevTable`. Every form has a size that depends only on the value (references are
fixed width), so a DIE subtree, e.g. a function, occupies the same number of bytes wherever it is placed. References
to DIEs not laid out yet are patched when their target gets its offset.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol

from .. import names
from ..address import Address
from ..encoding import Encoding, sleb128, uleb128, uleb128_padded
from ..errors import DescriptionError, DwarfkitError, LayoutError
from ..expr import DieOperand, TlsOffset
from ..relocation_buffer import ADDRESS, ENTRY, SECTION, TLS_OFFSET, UNIT, RelocationBuffer
from ..tables.lists import LocationList, RangeList
from . import forms as F
from . import raw_encode
from .die import Die, UnitView

if TYPE_CHECKING:
    from ..tables.shared import SharedTables

Encoder = Callable[[bytearray, Any], None]


class EncodedUnit(UnitView, Protocol):
    """What the encoder needs of a unit beyond :class:`UnitView`: its header (:class:`dwarfkit.info.unit.Unit`)."""

    def write_header(self, encoder: "UnitEncoder", buf: bytearray) -> int | None: ...


# Forms of a fixed size whose value is a plain number.
_FIXED_SIZES = {F.DATA2: 2, F.STRX2: 2, F.STRX3: 3, F.STRX4: 4, F.ADDRX2: 2, F.ADDRX3: 3,
                F.ADDRX4: 4, F.REF_SIG8: 8}


class Fixup:
    """A reference field written before its target had an offset."""

    __slots__ = ("pos", "form", "size", "target", "source", "attribute", "unit_offset")

    def __init__(self, pos: int, form: int, size: int, target: Die, source: Die | None, attribute: int,
                 unit_offset: int) -> None:
        self.pos, self.form, self.size, self.target = pos, form, size, target
        self.source, self.attribute, self.unit_offset = source, attribute, unit_offset

    def value(self) -> int:
        assert self.target.offset is not None
        return self.target.offset - self.unit_offset if self.form != F.REF_ADDR else self.target.offset

    def error(self, message: str, kind: type[LayoutError] | type[DescriptionError] = LayoutError) -> DwarfkitError:
        source = self.source
        if source is None:
            return kind(message)
        attribute = next((spec[0] for spec, v in zip(source.specs, source.values, strict=True) if v is self.target),
                         None)
        if attribute is None:
            return kind(f"{source.path()}, an expression operand: {message}")
        return kind(f"{source.path()} / attribute {names.attribute_name(attribute)}: {message}")


class UnitEncoder:
    """Encodes units into one section buffer; shared by all units written to that section."""

    fixup_class = Fixup   # for raw_encode, which may not import this module

    def __init__(self, tables: "SharedTables", section: str, data: bytearray, relocs: RelocationBuffer) -> None:
        self.tables = tables
        self.section = section
        self.data = data
        self.relocs = relocs
        self.encoding = enc = tables.encoding
        self.order = enc.byteorder
        self.pending: list[Fixup] = []      # fixups whose target lies in a unit not laid out yet
        self.late: list[tuple[int, Any]] = []   # section offsets known only at emission (list bases)
        self._unit_fixups: list[Fixup] = []
        self._unit_offset = 0
        self._encoders = self._make_encoders()
        self._entries: dict[tuple, Callable[[bytearray, list, int], None]] = {}
        # Encoders of units whose address size is their own: size -> (encoding, field encoders, DIE encoders).
        self._by_address_size: dict[int, tuple] = {}
        self._die: Die | None = None         # the DIE being encoded, for messages of fixups
        self._list_base: Address | None = None   # the unit's base address, for its DWARF 2-4 lists
        self._release = False

    # -- per-form field encoders -----------------------------------------------------------------------------
    def _make_encoders(self) -> dict[int, Encoder]:
        order = self.order
        enc = self.encoding
        osize, asize = enc.offset_size, enc.address_size
        relocs = self.relocs
        add_reloc = relocs.add
        add_packed = relocs.packed.append

        def fixed(size: int) -> Encoder:
            mask = (1 << (8 * size)) - 1

            def encode(buf: bytearray, value: int) -> None:
                buf += (value & mask).to_bytes(size, order)
            return encode

        def data1(buf: bytearray, value: int) -> None:
            buf.append(value & 0xFF)

        def sdata(buf: bytearray, value: int) -> None:
            buf += sleb128(value)

        def udata(buf: bytearray, value: int) -> None:
            buf += uleb128(value)

        def raw(buf: bytearray, value: bytes) -> None:
            buf += value

        def offset_into(section: str) -> Encoder:
            cls = relocs.class_id(osize, SECTION, section)

            def encode(buf: bytearray, value: int) -> None:
                add_packed(len(buf) << 8 | cls)
                buf += value.to_bytes(osize, order)
            return encode

        def address(buf: bytearray, value: Any) -> None:
            if type(value) is int:   # a plain address, checked when it was set
                buf += value.to_bytes(asize, order)
            elif value.symbol is None:
                buf += value.offset.to_bytes(asize, order)
            else:
                add_reloc(len(buf), asize, ADDRESS, value.symbol, value.offset)
                buf += (value.offset & ((1 << (8 * asize)) - 1)).to_bytes(asize, order)

        def block(size: int | None) -> Encoder:
            def encode(buf: bytearray, value: tuple[bytes, list]) -> None:
                data, relocs = value
                buf += uleb128(len(data)) if size is None else len(data).to_bytes(size, order)
                if relocs:
                    start = len(buf)
                    for offset, rsize, addr in relocs:
                        if type(addr) is DieOperand:   # a DIE in the expression: filled in once it is laid out
                            form = (F.REF_UDATA if addr.leb else F.REF4 if rsize == 4 else F.REF2) \
                                if addr.relative else F.REF_ADDR
                            self._unit_fixups.append(Fixup(start + offset, form, rsize, addr.die, self._die, 0,
                                                           self._unit_offset if addr.relative else 0))
                        else:
                            add_reloc(start + offset, rsize, ADDRESS if type(addr) is not TlsOffset else TLS_OFFSET,
                                      addr.symbol, addr.offset)
                buf += data
            return encode

        def reference(form: int) -> Encoder:
            size = F.REF_SIZES[form]
            padded = form == F.REF_UDATA
            cls = relocs.class_id(size, ENTRY, self.section)
            limit = 1 << (8 * size)

            def encode(buf: bytearray, target: Die) -> None:
                pos = len(buf)
                offset = target.offset
                if offset is None or padded or offset - self._unit_offset >= limit:
                    self._unit_fixups.append(Fixup(pos, form, size, target, self._die, 0, self._unit_offset))
                    buf += bytes(size)
                    return
                add_packed(pos << 8 | cls)
                buf += (offset - self._unit_offset).to_bytes(size, order)
            return encode

        ref_addr_size = asize if enc.version == 2 else osize

        def ref_addr(buf: bytearray, target: Die) -> None:
            pos = len(buf)
            if target.offset is None:
                fixup = Fixup(pos, F.REF_ADDR, ref_addr_size, target, self._die, 0, 0)
                self._unit_fixups.append(fixup)
                buf += bytes(ref_addr_size)
                return
            if target.offset >= 1 << (8 * ref_addr_size):
                self._unit_fixups.append(Fixup(pos, F.REF_ADDR, ref_addr_size, target, self._die, 0, 0))
                buf += bytes(ref_addr_size)
                return
            add_reloc(pos, ref_addr_size, UNIT, ".debug_info", target.offset)
            buf += target.offset.to_bytes(ref_addr_size, order)

        def list_offset(buf: bytearray, value: Any) -> None:
            offset = value.place(self._list_base) if isinstance(value, (RangeList, LocationList)) else value.place()
            if offset is None:   # a base known only when the program is emitted
                self.late.append((len(buf), value))
                buf += bytes(osize)
                return
            if offset >> (8 * osize):
                raise LayoutError(f"{self._die.path() if self._die else '?'}: offset {offset:#x} into "
                                  f"{value.section_name()} does not fit 32-bit DWARF; DWARF64 (offset_size=8) is "
                                  f"needed")
            add_reloc(len(buf), osize, SECTION, value.section_name(), offset)
            buf += offset.to_bytes(osize, order)

        def list_index(buf: bytearray, value: Any) -> None:
            buf += uleb128(value.index())

        def data_or_offset(size: int) -> Encoder:
            plain = fixed(size)

            def encode(buf: bytearray, value: Any) -> None:
                if type(value) is int:
                    plain(buf, value)
                else:   # a section offset before DWARF 4 (stmt_list, ranges, location lists)
                    list_offset(buf, value)
            return encode

        encoders: dict[int, Encoder] = {
            F.DATA1: data1, F.DATA2: fixed(2), F.DATA4: data_or_offset(4), F.DATA8: data_or_offset(8), F.SDATA: sdata,
            F.UDATA: udata,
            F.FLAG: data1, F.STRING: raw, F.STRP: offset_into(".debug_str"),
            F.LINE_STRP: offset_into(".debug_line_str"), F.STRX: udata, F.STRX1: data1, F.STRX2: fixed(2),
            F.STRX3: fixed(3), F.STRX4: fixed(4), F.ADDR: address, F.ADDRX: udata, F.ADDRX1: data1,
            F.ADDRX2: fixed(2), F.ADDRX3: fixed(3), F.ADDRX4: fixed(4), F.REF_ADDR: ref_addr, F.REF_SIG8: fixed(8),
            F.EXPRLOC: block(None), F.BLOCK: block(None), F.BLOCK1: block(1), F.BLOCK2: block(2), F.BLOCK4: block(4),
            F.DATA16: raw, F.RNGLISTX: list_index, F.LOCLISTX: list_index,
            F.GNU_ADDR_INDEX: udata, F.GNU_STR_INDEX: udata,
        }
        for form in F.REF_SIZES:
            encoders[form] = reference(form)
        for form, size in {**F.FOREIGN_REFERENCES, **F.FOREIGN_STRINGS}.items():
            encoders[form] = fixed(size or osize)   # offsets into another file, kept as given

        def indirect(buf: bytearray, value: tuple[int, Any]) -> None:
            form, stored = value
            buf += uleb128(form)
            if form != F.FLAG_PRESENT:
                encoders[form](buf, stored)

        encoders[F.INDIRECT] = indirect
        # Automatic attributes and list offsets: sec_offset, or data4/data8 before DWARF 4.
        encoders[F.SEC_OFFSET] = list_offset
        return encoders

    def _entry(self, key: tuple, chosen: int | None = None) -> Callable[[bytearray, list, int], None]:
        """The encoder of one abbreviation: a function writing the code and every field of a DIE of that shape.

        It is generated as Python source so that the common fields (constants, strp offsets, inline strings, plain
        addresses, fixed expressions) are written in line; other forms call their encoder from ``_encoders``.
        ``chosen``: a code given by raw control, written instead of the table's (cached under ``(key, chosen)``).
        """
        code = self.tables.abbrevs.code(key) if chosen is None else chosen
        order, osize, asize = self.order, self.encoding.offset_size, self.encoding.address_size
        namespace: dict[str, Any] = {"CODE": uleb128(code), "add_packed": self.relocs.packed.append,
                                     "uleb128": uleb128}
        lines = ["def encode(buf, v, base):", "    buf += CODE"]
        for i, spec in enumerate(key[2]):
            form = spec[1]
            if form in (F.IMPLICIT_CONST, F.FLAG_PRESENT):
                continue
            if form in (F.DATA1, F.FLAG, F.STRX1, F.ADDRX1):
                lines.append(f"    buf.append(v[{i}] & 0xFF)")
            elif form in _FIXED_SIZES:
                size = _FIXED_SIZES[form]
                lines.append(f"    buf += (v[{i}] & {(1 << (8 * size)) - 1}).to_bytes({size}, {order!r})")
            elif form in (F.STRP, F.LINE_STRP):
                section = ".debug_str" if form == F.STRP else ".debug_line_str"
                namespace[f"CLASS{i}"] = self.relocs.class_id(osize, SECTION, section)
                lines.append(f"    add_packed(len(buf) << 8 | CLASS{i})")
                lines.append(f"    buf += v[{i}].to_bytes({osize}, {order!r})")
            elif form in (F.STRING, F.DATA16):
                lines.append(f"    buf += v[{i}]")
            elif form == F.EXPRLOC:
                namespace[f"field{i}"] = self._encoders[form]
                lines.append(f"    data, relocations = v[{i}]")
                lines.append("    if relocations or len(data) > 127:")
                lines.append(f"        field{i}(buf, v[{i}])")
                lines.append("    else:")
                lines.append("        buf.append(len(data))")
                lines.append("        buf += data")
            elif form == F.REF4:
                # A reference to a DIE laid out already (the usual case: types come first); else a fixup.
                namespace[f"field{i}"] = self._encoders[form]
                namespace[f"CLASS{i}"] = self.relocs.class_id(4, ENTRY, self.section)
                lines.append(f"    offset = v[{i}].offset")
                lines.append("    if offset is None or offset - base > 0xFFFFFFFF:")
                lines.append(f"        field{i}(buf, v[{i}])")
                lines.append("    else:")
                lines.append(f"        add_packed(len(buf) << 8 | CLASS{i})")
                lines.append(f"        buf += (offset - base).to_bytes(4, {order!r})")
            elif form in (F.ADDR, F.DATA4, F.DATA8):
                # An int is a plain address or constant; else a symbolic address or (before DWARF 4) a list offset.
                size = asize if form == F.ADDR else 4 if form == F.DATA4 else 8
                namespace[f"field{i}"] = self._encoders[form]
                lines.append(f"    if type(v[{i}]) is int:")
                lines.append(f"        buf += (v[{i}] & {(1 << (8 * size)) - 1}).to_bytes({size}, {order!r})")
                lines.append("    else:")
                lines.append(f"        field{i}(buf, v[{i}])")
            else:
                namespace[f"field{i}"] = self._encoders[form]
                lines.append(f"    field{i}(buf, v[{i}])")
        exec("\n".join(lines), namespace)
        encoder = namespace["encode"]
        self._entries[key if chosen is None else (key, chosen)] = encoder
        return encoder

    # -- units -----------------------------------------------------------------------------------------------
    def encode_unit(self, unit: EncodedUnit, release: bool = False) -> int:
        """Appends ``unit`` (header and DIEs); returns its offset. References into later units stay pending.

        With ``release``, every DIE is unlinked from its children once written, so that reference counting frees
        the tree (a DIE and its parent form a cycle otherwise); DIEs the caller holds keep their offsets.
        """
        self._release = release
        if unit.encoding.address_size != self.encoding.address_size:
            self._use_address_size(unit.encoding.address_size)
        buf = self.data
        enc = self.encoding
        start = len(buf)
        self._unit_offset = start
        self._list_base = _base_address(unit)
        self._unit_fixups = []
        unit.offset = start
        buf += enc.initial_length(0)
        buf += unit.encoding.version.to_bytes(2, self.order)   # a unit may have a version of its own
        type_offset_pos = unit.write_header(self, buf)
        raw = self.tables.raw
        if raw is None:
            self._encode_tree(unit.root)
        else:   # raw control: codes, entries and values as given
            raw_encode.encode_tree(self, unit, raw)
        length = len(buf) - start - enc.initial_length_size
        if enc.offset_size == 4 and length >= 0xFFFFFFF0:
            raise LayoutError(f"{unit.label()}: unit length {length:#x} does not fit 32-bit DWARF; DWARF64 "
                              f"(offset_size=8) is needed")
        buf[start:start + enc.initial_length_size] = enc.initial_length(length)
        if enc.offset_size == 4 and len(buf) > 0xFFFFFFFF:
            raise LayoutError(f"{unit.label()}: {self.section} grows past 4 GiB; DWARF64 (offset_size=8) is needed")
        if type_offset_pos is not None:
            type_die = unit.type_die   # checked by TypeUnit.write_header, and laid out by _encode_tree above
            assert type_die is not None and type_die.offset is not None
            self.patch(type_offset_pos, enc.offset_size, type_die.offset - start)
        for fixup in self._unit_fixups:
            if fixup.target.offset is None:
                self.pending.append(fixup)
            else:
                self.resolve(fixup)
        self._unit_fixups = []
        if raw is not None:
            raw_encode.finish_unit(self, unit, start, raw)
        return start

    def _use_address_size(self, size: int) -> None:
        """Switches to the encoders of units with ``size``-byte addresses (made on first use)."""
        enc = self.encoding
        self._by_address_size[enc.address_size] = (enc, self._encoders, self._entries)
        made = self._by_address_size.get(size)
        if made is None:
            self.encoding = Encoding(enc.version, enc.offset_size, size, enc.byteorder)
            self._encoders, self._entries = self._make_encoders(), {}
        else:
            self.encoding, self._encoders, self._entries = made

    def encode_subtree(self, root: Die, origin: int, unit_offset: int) -> bytes:
        """``root`` and its subtree on their own, as if laid out at section offset ``origin`` in the unit at
        ``unit_offset`` (an incremental writer's fragment): every DIE gets its offset, references inside the subtree
        are resolved, references out of it must have offsets already. Relocations go to :attr:`relocs` at
        positions relative to the fragment."""
        saved, self.data = self.data, bytearray()
        self._unit_offset, self._unit_fixups = unit_offset, []
        try:
            self._encode_tree(root, origin)
            for fixup in self._unit_fixups:
                if fixup.target.offset is None:
                    raise fixup.error(f"refers to {fixup.target.path()}, which is not laid out", DescriptionError)
                self.resolve(fixup)
            return bytes(self.data)
        finally:
            self.data, self._unit_fixups = saved, []

    def _encode_tree(self, root: Die, origin: int = 0) -> None:
        """Writes ``root`` and its subtree in tree order; leaves, the most DIEs, are written without a call each.
        ``origin``: the section offset of the buffer's start (0 but for :meth:`encode_subtree`)."""
        buf = self.data
        entries = self._entries
        new_entry = self._entry
        base = self._unit_offset
        release = self._release

        def walk(die: Die) -> None:
            children = die.children
            key = (die.tag, True, die.specs)
            encode = entries.get(key) or new_entry(key)
            die.offset = origin + len(buf)
            self._die = die
            encode(buf, die.values, base)
            for child in children:   # type: ignore[union-attr]
                if child.children:
                    walk(child)
                    continue
                key = (child.tag, False, child.specs)
                encode = entries.get(key) or new_entry(key)
                child.offset = origin + len(buf)
                self._die = child
                encode(buf, child.values, base)
            buf.append(0)
            if release:
                die.children = None

        if root.children:
            walk(root)
        else:
            key = (root.tag, False, root.specs)
            encode = entries.get(key) or new_entry(key)
            root.offset = origin + len(buf)
            self._die = root
            encode(buf, root.values, base)

    def patch(self, pos: int, size: int, value: int) -> None:
        self.data[pos:pos + size] = value.to_bytes(size, self.order)

    def resolve(self, fixup: Fixup) -> None:
        value = fixup.value()
        if fixup.form == F.REF_UDATA:
            if value >= 1 << 28:
                raise fixup.error(f"offset {value:#x} does not fit DW_FORM_ref_udata (4-byte padded ULEB128)")
            self.data[fixup.pos:fixup.pos + 4] = uleb128_padded(value, 4)
        else:
            if value >= 1 << (8 * fixup.size):
                if fixup.form == F.REF_ADDR and fixup.size == 4:
                    raise fixup.error(f"offset {value:#x} of {fixup.target.path()} does not fit 32-bit DWARF; DWARF64 "
                                      f"(offset_size=8) is needed")
                raise fixup.error(f"offset {value:#x} of {fixup.target.path()} does not fit "
                                  f"{names.form_name(fixup.form)}")
            self.patch(fixup.pos, fixup.size, value)
        if fixup.form == F.REF_ADDR:
            self.relocs.add(fixup.pos, fixup.size, UNIT, ".debug_info", value)
        else:
            self.relocs.add(fixup.pos, fixup.size, ENTRY, self.section, value)

    def finish(self) -> None:
        """Resolves references across units once every unit is laid out."""
        for fixup in self.pending:
            if fixup.target.offset is None:
                # a DIE left out of the tree (or its unit dropped): the description is wrong, not the layout
                raise fixup.error(f"refers to {fixup.target.path()}, which was never emitted", DescriptionError)
            self.resolve(fixup)
        self.pending = []

    def patch_late(self) -> None:
        """Writes the section offsets that became known at emission (``DW_AT_rnglists_base``, ...)."""
        size = self.encoding.offset_size
        for pos, value in self.late:
            offset = value.place()
            if offset >= 1 << (8 * size):
                raise LayoutError(f"{value.section_name()} offset {offset:#x} does not fit 32-bit DWARF; DWARF64 "
                                  f"(offset_size=8) is needed")
            self.patch(pos, size, offset)
            self.relocs.add(pos, size, SECTION, value.section_name(), offset)
        self.late = []


def _base_address(unit: Any) -> Address | None:
    """The base address of a DWARF 2-4 unit's lists: its DW_AT_low_pc, else 0 (None for DWARF 5, whose lists do not
    depend on it)."""
    if unit.encoding.version >= 5:
        return None
    low = unit.root.get("low_pc")
    if isinstance(low, Address):
        return low
    if isinstance(low, int) and not isinstance(low, bool):
        return Address(None, low)
    return Address(None, 0)
