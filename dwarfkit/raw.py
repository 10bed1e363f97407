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
- a position in any section: ``Label("Llines").bind(cu.line)`` (a unit's line program; also a DIE, a unit's header,
  a range or location list, a hand-written abbreviation table, a raw line sequence, or ``(".debug_str",
  dw.strings.add("x"))``-style section offsets: ``bind(".debug_x", 16)``), and its offset as a value:
  ``LabelOffset(label, plus=0, form="sec_offset")`` (or the label itself) in an attribute, or
  ``unit.override(stmt_list=label)``, like dwarf.exp's labels. A label bound to nothing is an error at emission.
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


class Position:
    """A place in ``section`` that its writer fills in when it lays the thing out (``offset``: None until then); the
    target of a :class:`Label` for things that have no offset of their own (a raw line sequence)."""

    __slots__ = ("section", "offset")

    def __init__(self, section: str, offset: int | None = None) -> None:
        self.section, self.offset = section, offset

    def label_position(self) -> tuple[str, int | None]:
        return self.section, self.offset


class Label:
    """A named position in a section, as gdb's dwarf.exp labels are: made first (``Label("Llines")``), used as a
    value (:class:`LabelOffset`), bound once to what it names with :meth:`bind`, resolved when the program is laid
    out."""

    __slots__ = ("name", "target", "plus")

    def __init__(self, name: str | None = None, target: Any = None, plus: int = 0) -> None:
        if name is not None and not isinstance(name, str):
            raise DescriptionError(f"Label({name!r}): a label's name is text")
        self.name = name
        self.target: Any = None
        self.plus = 0
        if target is not None:
            self.bind(target, plus)

    def bind(self, target: Any, plus: int = 0) -> "Label":
        """Names ``plus`` bytes after where ``target`` starts: a section name (``".debug_str"``: that offset in the
        section, raw sections included), a DIE, a unit (its header), a line program (``unit.line``), a range or
        location list used by offset, a hand-written abbreviation table, a :class:`Position`."""
        where = f"label {self.name or '(unnamed)'}"
        if self.target is not None:
            raise DescriptionError(f"{where}: is bound already (to {self.target!r})")
        if isinstance(target, str):
            if not target.startswith("."):
                raise DescriptionError(f"{where}: {target!r} is not a section name ('.debug_line', ...)")
        elif not callable(getattr(target, "label_position", None)):
            raise DescriptionError(f"{where}: {target!r} has no position a label can name (a section name, DIE, "
                                   f"unit, line program, list, abbreviation table)")
        self.plus = field_int(plus, 8, f"{where}: plus", signed=True)
        self.target = target
        return self

    def position(self) -> tuple[str, int | None]:
        """The section and offset (None while not laid out); DescriptionError if the label is bound to nothing."""
        target = self.target
        if target is None:
            raise DescriptionError(f"label {self.name or '(unnamed)'}: is used but never bound to a position")
        if isinstance(target, str):
            return target, self.plus
        section, offset = target.label_position()
        return section, None if offset is None else offset + self.plus

    def __repr__(self) -> str:
        return f"Label({self.name!r})"


# Forms a label's offset is written in: offset-sized ones (data4/data8 only when they are the offset size).
LABEL_FORMS = ("sec_offset", "strp", "line_strp", "ref_addr", "strp_sup", "GNU_strp_alt", "GNU_ref_alt", "data4",
               "data8")


class LabelOffset:
    """A label's offset (plus ``delta``) as an attribute's value, in an offset-sized ``form`` (default
    ``sec_offset``), with a relocation against the label's section: ``DW_AT_stmt_list`` pointing at another unit's
    line program, a ``DW_AT_location`` at a list, a ``strp`` at a chosen string."""

    __slots__ = ("label", "delta", "form")

    def __init__(self, label: Label, delta: int = 0, form: str | int = "sec_offset") -> None:
        if not isinstance(label, Label):
            raise DescriptionError(f"LabelOffset: {label!r} is not a Label")
        self.label = label
        self.delta = field_int(delta, 8, "LabelOffset delta", signed=True)
        self.form = names.form(form)
        if names.form_name(self.form).removeprefix("DW_FORM_") not in LABEL_FORMS:
            raise DescriptionError(f"LabelOffset({label.name or '(unnamed)'}): a label's offset is written in an "
                                   f"offset-sized form ({', '.join(LABEL_FORMS)}), not {names.form_name(self.form)}")

    # What the unit encoder's late patching asks of an offset known only at emission.
    def place(self) -> int:
        section, offset = self.label.position()
        if offset is None:
            raise DescriptionError(f"label {self.label.name or '(unnamed)'}: names a position in {section} that was "
                                   f"never laid out")
        if offset + self.delta < 0:
            raise DescriptionError(f"label {self.label.name or '(unnamed)'}: offset {offset} + {self.delta} is "
                                   f"negative")
        return offset + self.delta

    def section_name(self) -> str:
        return self.label.position()[0]

    def __repr__(self) -> str:
        return f"LabelOffset({self.label!r}, {self.delta}, {names.form_name(self.form)!r})"


RAW_TYPES = (Raw, DieOffset, LabelOffset)
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
