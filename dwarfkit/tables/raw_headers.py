"""Raw control of the headers dwarfkit writes whole (see :mod:`dwarfkit.raw`): a ``.debug_aranges`` set's and a DWARF 5
``.debug_rnglists``/``.debug_loclists`` contribution's fields by name, written over the emitted section.

``DwarfBuilder.header_override(section, which, **fields)`` checks the fields when given; :func:`apply` runs at the end
of emission, finds the contribution (an aranges set by its compile unit or its index, a list table's contribution
by index: the one used by offset comes first, then the indexed one) from the lengths the writer wrote, and writes
each field as given. A field under a relocation (an aranges set's ``debug_info_offset``) loses it: the number is
the value. Imports the foundations (``raw``, ``errors``, ``encoding``, ``sections``).
"""
from __future__ import annotations

from typing import Any

from ..encoding import ByteOrder, Encoding
from ..errors import DescriptionError
from ..raw import field_int
from ..sections import DwarfSections

# Field -> (size: None is the offset size, position after the initial length: None is computed per section).
ARANGES_FIELDS = {"unit_length": None, "version": 2, "debug_info_offset": None, "address_size": 1,
                  "segment_selector_size": 1}
LIST_FIELDS = {"unit_length": None, "version": 2, "address_size": 1, "segment_selector_size": 1,
               "offset_entry_count": 4}
SECTIONS = {".debug_aranges": ARANGES_FIELDS, ".debug_rnglists": LIST_FIELDS, ".debug_loclists": LIST_FIELDS}


class HeaderOverride:
    """The fields of one contribution's header as given."""

    __slots__ = ("section", "which", "fields")

    def __init__(self, encoding: Encoding, section: Any, which: Any, fields: dict[str, Any]) -> None:
        where = f"header_override {section}"
        table = SECTIONS.get(section) if isinstance(section, str) else None
        if table is None:
            raise DescriptionError(f"{where}: headers of {', '.join(SECTIONS)} are overridden by name (other "
                                   f"sections: patch)")
        is_unit = hasattr(which, "root") and hasattr(which, "offset")
        if is_unit and section != ".debug_aranges":
            raise DescriptionError(f"{where}: a list table's contribution is named by its index (0, 1), not a unit")
        if not is_unit:
            field_int(which, None, f"{where}: index")
        if not fields:
            raise DescriptionError(f"{where}: give fields ({', '.join(table)})")
        self.section, self.which = section, which
        self.fields: dict[str, tuple[int, int]] = {}   # name -> (value, size)
        for name, value in fields.items():
            if name not in table:
                raise DescriptionError(f"{where}: {name} is not a field of its header (known: {', '.join(table)})")
            size = table[name] or encoding.offset_size
            self.fields[name] = (field_int(value, size, f"{where}: {name}"), size)


def _starts(data: bytes | bytearray, order: ByteOrder) -> list[tuple[int, int]]:
    """``(start, initial length size)`` of every contribution, from the lengths as written."""
    out, off = [], 0
    while off + 4 <= len(data):
        length = int.from_bytes(data[off:off + 4], order)
        size = 4
        if length == 0xFFFFFFFF:
            length, size = int.from_bytes(data[off + 4:off + 12], order), 12
        out.append((off, size))
        off += size + length
    return out


def apply(overrides: list[HeaderOverride], out: DwarfSections, aranges_units: list[int]) -> None:
    """Every header override written over the emitted sections (``aranges_units``: the ``.debug_info`` offset of
    each aranges set's unit, in order)."""
    order = out.encoding.byteorder
    osize = out.encoding.offset_size
    starts = {name: _starts(out.sections[name].data, order) for name in SECTIONS if name in out.sections}
    for over in overrides:
        where = f"header_override {over.section}"
        section = out.sections.get(over.section)
        if section is None:
            raise DescriptionError(f"{where}: the program writes no {over.section}")
        if isinstance(over.which, int):
            index = over.which
        elif over.which.offset in aranges_units:
            index = aranges_units.index(over.which.offset)
        else:
            raise DescriptionError(f"{where}: {over.which.label()} has no aranges set")
        if index >= len(starts[over.section]):
            raise DescriptionError(f"{where}: contribution {index}: the section has {len(starts[over.section])}")
        start, length_size = starts[over.section][index]
        body = start + length_size
        if over.section == ".debug_aranges":
            positions = {"version": body, "debug_info_offset": body + 2, "address_size": body + 2 + osize,
                         "segment_selector_size": body + 3 + osize}
        else:
            positions = {"version": body, "address_size": body + 2, "segment_selector_size": body + 3,
                         "offset_entry_count": body + 4}
        positions["unit_length"] = body - osize
        for name, (value, size) in over.fields.items():
            pos = positions[name]
            if pos + size > len(section.data):
                raise DescriptionError(f"{where}: {name} at 0x{pos:x} runs past the end of the section")
            section.data[pos:pos + size] = value.to_bytes(size, order)
            section.relocations = [r for r in section.relocations if not pos <= r.offset < pos + size]
