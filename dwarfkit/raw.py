"""Raw control: bytes and numbers written exactly as given where dwarfkit would compute them (deliberately broken or
unusual DWARF for testing consumers).

One mechanism over the ordinary objects, applied when the program is laid out; nothing here costs a program that
does not use it:

- a value: ``Raw(b"...", form="data4")`` (or ``pin(Raw(...), "data4")``) writes those bytes as an attribute's value,
  the abbreviation declaring the form; ``Raw(12345678, "ref4")`` a number in the form's encoding (a reference to
  an offset where no DIE starts); ``DieOffset(die, 3)`` where a DIE starts plus 3, resolved at layout (a reference
  into the middle of that DIE).
- a DIE: ``die.override(code=N)`` writes abbreviation code N; ``die.override(data=b"...")`` writes those bytes in
  place of the DIE's entry (its children, if any, follow as usual).
- a unit: ``unit.override(unit_length=..., version=..., unit_type=..., abbrev_offset=..., address_size=...,
  signature=..., type_offset=..., truncate=N, abbrev_table=TABLE)``: header fields written as given, the unit's bytes
  cut after N, its DIEs' codes taken from a hand-written abbreviation table (``DwarfBuilder.abbrev_table``).
- a line program: ``line.override(unit_length=..., version=..., header_length=..., minimum_instruction_length=...,
  line_base=..., line_range=..., opcode_base=..., standard_opcode_lengths=[...], ...)`` and
  ``line.raw_sequence(b"...")``.
- a unit's root attributes that the writer adds: ``unit.override(stmt_list=..., str_offsets_base=..., addr_base=...,
  rnglists_base=..., loclists_base=...)`` (numbers, no relocation).
- a section: ``DwarfBuilder.raw_section(".debug_x", b"...")`` in place of what dwarfkit writes (or beside it; None
  leaves it out), ``DwarfBuilder.patch(".debug_aranges", 4, b"\x09\x00")`` bytes over an emitted section (the
  header fields of aranges and list tables).

Every value is checked when it is given (a DescriptionError names where). This module holds the value type and the
checks that need only the foundations; ``tables.raw`` keeps the overrides of a program, ``info.raw_encode`` and
``line.raw`` apply them. Imports: ``names``, ``errors``, ``encoding``.
"""
from __future__ import annotations

from typing import Any

from . import names
from .errors import DescriptionError


class Raw:
    """Bytes written as they are: ``Raw(b"\x01\x02", form="data2")``, ``Raw("01 02", "data2")`` (hex text), or a
    number written in the form's own encoding: ``Raw(12345678, "ref4")`` (4 bytes in the program's byte order; a
    LEB128 for ``udata``, ``sdata``, ``ref_udata`` and the index forms), e.g. a reference where no DIE starts."""

    __slots__ = ("data", "form")

    def __init__(self, data: bytes | bytearray | str | int, form: str | int | None = None) -> None:
        self.data: bytes | int = data if isinstance(data, int) and not isinstance(data, bool) else \
            raw_bytes(data, "Raw")
        # A vendor form may be given by a number no table knows (the bytes say all a writer needs).
        self.form = form if isinstance(form, int) and not isinstance(form, bool) and 0 < form < 1 << 16 else \
            None if form is None else names.form(form)
        if isinstance(self.data, int) and self.form is None:
            raise DescriptionError(f"Raw({data!r}): a number is written in a form's encoding; give the form")

    def __repr__(self) -> str:
        form = f", {names.form_name(self.form)!r}" if self.form is not None else ""
        shown = repr(self.data) if isinstance(self.data, int) else repr(self.data.hex(" "))
        return f"Raw({shown}{form})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Raw and other.data == self.data and other.form == self.form

    def __hash__(self) -> int:
        return hash((self.data, self.form))


class DieOffset:
    """Where a DIE starts plus ``delta``, written in a reference form once the DIE is laid out:
    ``DieOffset(die, 3)`` (``ref4``: from its unit's start; ``ref_addr``: from the section's) is a reference into the
    middle of that DIE, as dwarf.exp's labels allow."""

    __slots__ = ("die", "delta", "form")

    def __init__(self, die: Any, delta: int = 0, form: str | int = "ref4") -> None:
        self.die = die
        self.delta = field_int(delta, 8, "DieOffset delta", signed=True)
        self.form = names.form(form)

    def __repr__(self) -> str:
        return f"DieOffset({self.die!r}, {self.delta}, {names.form_name(self.form)!r})"


RAW_TYPES = (Raw, DieOffset)
"""The values raw control stores as given (a DIE holding one is encoded field by field)."""


def raw_bytes(data: Any, where: str) -> bytes:
    """``data`` (bytes, bytearray or hex text) as bytes; DescriptionError naming ``where`` otherwise."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        try:
            return bytes.fromhex(data)
        except ValueError:
            raise DescriptionError(f"{where}: {data!r} is not hex bytes") from None
    raise DescriptionError(f"{where}: {data!r} is not bytes (bytes, bytearray or hex text)")


def field_int(value: Any, size: int | None, where: str, signed: bool = False) -> int:
    """``value`` checked as a number that fits a field of ``size`` bytes (None: any ULEB128)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise DescriptionError(f"{where}: {value!r} is not an integer")
    if size is None:
        if value < 0:
            raise DescriptionError(f"{where}: {value} is negative (an unsigned LEB128)")
        return value
    low, high = (-(1 << (8 * size - 1)), 1 << (8 * size - 1)) if signed else (0, 1 << (8 * size))
    if not low <= value < high:
        raise DescriptionError(f"{where}: {value} does not fit {size} byte{'s' if size > 1 else ''}"
                               f"{' (signed)' if signed else ''}")
    return value
