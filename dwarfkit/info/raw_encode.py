"""Raw control applied to a unit as it is encoded (see :mod:`dwarfkit.raw`): the slow walk that writes chosen
abbreviation codes, raw entries and raw values, then the header fields as given and the cut of a truncated unit.

The unit encoder (:mod:`dwarfkit.info.encode`) calls :func:`encode_tree` instead of its own walk, and
:func:`finish_unit` after the unit, only when the program has raw control; nothing here runs otherwise. It takes the
encoder untyped (it may not import ``encode``, which imports it). Imports the foundations and ``tables.raw``.
"""
from __future__ import annotations

from typing import Any

from .. import names
from ..encoding import uleb128
from ..errors import DescriptionError, LayoutError
from ..raw import DieOffset, LabelOffset, Raw
from ..relocation_buffer import SECTION
from ..tables.raw import RawControl

_F = names.FORMS
_IMPLICIT_CONST, _FLAG_PRESENT, _INDIRECT = (names.FORMS["implicit_const"], names.FORMS["flag_present"],
                                             names.FORMS["indirect"])


def encode_tree(encoder: Any, unit: Any, control: RawControl) -> None:
    """Writes the unit's DIEs in tree order as the encoder's ordinary walk does, with the overrides given."""
    buf = encoder.data
    base = encoder._unit_offset
    release = encoder._release
    entries = encoder._entries
    overrides = control.dies
    raw_values = control.raw_values
    unit_override = control.units.get(unit)
    table = unit_override.abbrev_table if unit_override is not None else None

    def write(die: Any, has_children: bool) -> None:
        key = (die.tag, has_children, die.specs)
        die.offset = len(buf)
        encoder._die = die
        override = overrides.get(die)
        if override is not None and override.data is not None:
            buf.extend(override.data)
            return
        code = override.code if override is not None else None
        if code is None and table is not None:
            code = table.code(key)
            if code is None:
                raise DescriptionError(f"{die.path()}: no declaration of the unit's abbreviation table has its tag, "
                                       f"children and attributes with their forms; give its code "
                                       f"(die.override(code=N))")
        if die in raw_values:
            buf.extend(uleb128(control.abbrevs.code(key) if code is None else code))
            _fields(encoder, die, buf)
        elif code is None:
            (entries.get(key) or encoder._entry(key))(buf, die.values, base)
        else:
            (entries.get((key, code)) or encoder._entry(key, code))(buf, die.values, base)

    def walk(die: Any) -> None:
        children = die.children
        write(die, bool(children))
        if children:
            for child in children:
                walk(child)
            buf.append(0)
            if release:
                die.children = None

    walk(unit.root)


def _fields(encoder: Any, die: Any, buf: bytearray) -> None:
    """A DIE's attribute values one by one: Raw ones as their bytes, the others by their form's encoder."""
    encoders = encoder._encoders
    for spec, value in zip(die.specs, die.values, strict=True):
        form = spec[1]
        if form in (_IMPLICIT_CONST, _FLAG_PRESENT):
            continue
        if type(value) is Raw:
            buf += _stored(value)
        elif type(value) is DieOffset:
            _die_offset(encoder, die, form, value, buf)
        elif type(value) is LabelOffset:
            _label_offset(encoder, value, buf)
        elif form == _INDIRECT and type(value[1]) is Raw:
            buf += uleb128(value[0])
            buf += _stored(value[1])
        else:
            encoders[form](buf, value)


def _die_offset(encoder: Any, die: Any, form: int, value: DieOffset, buf: bytearray) -> None:
    """A DIE's offset plus a delta: a fixup like any reference's, resolved once the DIE is laid out."""
    enc = encoder.encoding
    size = {_F["ref1"]: 1, _F["ref2"]: 2, _F["ref4"]: 4, _F["ref8"]: 8, _F["ref_udata"]: 4}.get(form)
    relative = size is not None
    if size is None:   # ref_addr
        size = enc.address_size if die.unit.encoding.version == 2 else enc.offset_size
    global _DeltaFixup
    if _DeltaFixup is None:
        _DeltaFixup = _delta_fixup(encoder.fixup_class)
    fixup = _DeltaFixup(len(buf), form, size, value.die, die, 0, encoder._unit_offset if relative else 0)
    fixup.delta = value.delta
    encoder._unit_fixups.append(fixup)
    buf += bytes(size)


_DeltaFixup: Any = None


_OTHER_FILE = {_F["GNU_ref_alt"], _F["GNU_strp_alt"], _F["strp_sup"]}


def _label_offset(encoder: Any, value: LabelOffset, buf: bytearray) -> None:
    """A label's offset, relocated against its section: now if it is laid out, else when the program is emitted
    (the encoder's late patching, as for list bases). In a form that points into another file (dwz's alternate
    file, a DWARF 5 supplementary file) the label names a position of that file's program, emitted before: the
    number as it is, no relocation."""
    size = encoder.encoding.offset_size
    section, offset = value.label.position()
    if value.form in _OTHER_FILE:
        if offset is None:
            raise DescriptionError(f"label {value.label.name}: {names.form_name(value.form)} points into another "
                                   f"file; emit that file's program first")
        buf += value.place().to_bytes(size, encoder.encoding.byteorder)
        return
    if offset is None:
        encoder.late.append((len(buf), value))
        buf += bytes(size)
        return
    offset = value.place()
    if offset >> (8 * size):
        raise LayoutError(f"label {value.label.name}: offset {offset:#x} into {section} does not fit {size} bytes")
    encoder.relocs.add(len(buf), size, SECTION, section, offset)
    buf += offset.to_bytes(size, encoder.encoding.byteorder)


def _delta_fixup(base: Any) -> Any:
    class DeltaFixup(base):
        """A reference fixup whose value is the target's offset plus ``delta``."""

        __slots__ = ("delta",)

        def value(self) -> int:
            value = super().value() + self.delta
            if value < 0:
                raise self.error(f"DieOffset: offset {value} of {self.target.path()} + {self.delta} is negative")
            return int(value)
    return DeltaFixup


def _stored(value: Raw) -> bytes:
    data = value.data
    assert isinstance(data, bytes), "a number is made bytes when the value is set (tables.raw)"
    return data


def finish_unit(encoder: Any, unit: Any, start: int, control: RawControl) -> None:
    """The unit's header fields as given, its abbreviation table's offset, and its cut when truncated."""
    override = control.units.get(unit)
    if override is None:
        return
    enc = unit.encoding
    order = enc.byteorder
    buf = encoder.data
    relocs = encoder.relocs
    length_size = 4 if enc.offset_size == 4 else 12
    offset_size = enc.offset_size
    here = start + length_size + 2          # after unit_length and version
    if enc.version >= 5:
        positions = {"unit_type": (here, 1), "address_size": (here + 1, 1), "abbrev_offset": (here + 2, offset_size)}
        after = here + 2 + offset_size
    else:
        positions = {"abbrev_offset": (here, offset_size), "address_size": (here + offset_size, 1)}
        after = here + offset_size + 1
    positions.update({"version": (here - 2, 2), "signature": (after, 8), "type_offset": (after + 8, offset_size)})
    end = len(buf)
    fields = dict(override.fields)
    if override.truncate is not None:
        cut = start + override.truncate
        if cut < end:
            del buf[cut:]
            relocs.drop(cut, end)
            encoder.pending = [f for f in encoder.pending if f.pos < cut]
            encoder.late = [(pos, value) for pos, value in encoder.late if pos < cut]
            end = cut
        fields.setdefault("unit_length", max(end - start - length_size, 0))
    abbrev_at, _ = positions["abbrev_offset"]
    if "abbrev_offset" in fields or override.abbrev_table is not None:
        relocs.drop(abbrev_at, abbrev_at + offset_size)   # an offset as given, or the table's once it is placed
        if "abbrev_offset" not in fields and abbrev_at + offset_size <= end:
            encoder.late.append((abbrev_at, override.abbrev_table))
    if "type_offset" in fields:
        relocs.drop(*_span(positions["type_offset"]))
    if "unit_length" in fields:
        positions["unit_length"] = (start + length_size - offset_size, offset_size)
    for name, value in fields.items():
        pos, size = positions[name]
        if pos + size <= end:   # a field cut off by truncate stays cut off
            buf[pos:pos + size] = value.to_bytes(size, order)


def _span(position: tuple[int, int]) -> tuple[int, int]:
    return position[0], position[0] + position[1]
