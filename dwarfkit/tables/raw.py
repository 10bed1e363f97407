"""The raw control of one program (see :mod:`dwarfkit.raw`): what its DIEs, units and sections are to hold instead of
what dwarfkit computes, checked when given and applied when the program is laid out.

:class:`SharedTables` makes a :class:`RawControl` the first time a program asks for raw control; until then it is
None and the unit encoder takes its ordinary path, so a program that never uses it pays nothing. Imports the
foundations (``names``, ``errors``, ``encoding``, ``raw``, ``abbrev``).
"""
from __future__ import annotations

from typing import Any

from .. import names
from ..abbrev import AbbrevTable, DW_FORM_implicit_const
from ..encoding import Encoding, sleb128, uleb128
from ..errors import DescriptionError
from ..raw import DieOffset, Label, LabelOffset, Raw, field_int, raw_bytes
from ..sections import DwarfSections, Section
from . import raw_headers

_F = names.FORMS
_REF_FORMS = {_F[f] for f in ("ref1", "ref2", "ref4", "ref8", "ref_udata", "ref_addr")}
# Forms whose value is a number of fixed size (None: the offset size; 0: the address size), or a LEB128.
_FIXED = {**{_F[f]: 1 for f in ("data1", "ref1", "flag", "strx1", "addrx1")},
          **{_F[f]: 2 for f in ("data2", "ref2", "strx2", "addrx2")}, _F["strx3"]: 3, _F["addrx3"]: 3,
          **{_F[f]: 4 for f in ("data4", "ref4", "strx4", "addrx4", "ref_sup4")},
          **{_F[f]: 8 for f in ("data8", "ref8", "ref_sig8", "ref_sup8")},
          **{_F[f]: None for f in ("sec_offset", "strp", "line_strp", "strp_sup", "GNU_ref_alt", "GNU_strp_alt")},
          _F["addr"]: 0}
_ULEB = {_F[f] for f in ("udata", "ref_udata", "strx", "addrx", "rnglistx", "loclistx", "GNU_str_index",
                         "GNU_addr_index")}
# The unit's root attributes the writer adds itself (Unit.prepare), given as numbers instead.
ATTRIBUTE_FIELDS = ("str_offsets_base", "addr_base", "rnglists_base", "loclists_base", "stmt_list")
UNIT_FIELDS = ("unit_length", "version", "unit_type", "abbrev_offset", "address_size", "signature", "type_offset",
               "truncate", "abbrev_table", *ATTRIBUTE_FIELDS)


def _number(enc: Encoding, form: int, value: int, where: str) -> bytes:
    """``value`` in ``form``'s encoding for a unit of encoding ``enc``."""
    if form in _ULEB:
        return uleb128(field_int(value, None, where))
    if form == _F["sdata"]:
        return sleb128(field_int(value, 8, where, signed=True))
    if form == _F["ref_addr"]:
        size = enc.address_size if enc.version == 2 else enc.offset_size
    elif form in _FIXED:
        fixed = _FIXED[form]
        size = enc.offset_size if fixed is None else enc.address_size if fixed == 0 else fixed
    else:
        raise DescriptionError(f"{where}: form {names.form_name(form)} holds no plain number; give its bytes")
    return field_int(value, size, where).to_bytes(size, enc.byteorder)


def _given(enc: Encoding, form: int, value: "int | LabelOffset") -> "Raw | LabelOffset":
    """A unit root attribute's value as given: a number in the form's size, or a label's offset (written in the
    offset size, as its form is)."""
    if isinstance(value, LabelOffset):
        return value
    return Raw(value.to_bytes(_size(enc, form), enc.byteorder))


def _label_offset(label: Label, form: int, where: str) -> LabelOffset:
    try:
        return LabelOffset(label, 0, form)
    except DescriptionError as error:
        raise DescriptionError(f"{where}: {error}") from None


def _size(enc: Encoding, form: int) -> int:
    return 4 if form == _F["data4"] else 8 if form == _F["data8"] else enc.offset_size


class DieOverride:
    """A DIE's abbreviation code as given (``code``), or bytes in place of its entry (``data``)."""

    __slots__ = ("code", "data")

    def __init__(self) -> None:
        self.code: int | None = None
        self.data: bytes | None = None


class AbbrevDeclarations:
    """A hand-written abbreviation table: declarations as given (codes chosen, unused or duplicated ones kept), or
    raw bytes. It is written in ``.debug_abbrev`` after the table dwarfkit derives; units given it
    (``unit.override(abbrev_table=table)``) point at it and take each DIE's code from the declaration that matches
    the DIE (the first one with its tag, children flag and attributes with their forms)."""

    def __init__(self, control: "RawControl", entries: Any) -> None:
        self.control = control
        self.keys: dict[tuple, int] = {}
        if isinstance(entries, (Raw, bytes, bytearray, str)):
            self.data = raw_bytes(entries.data if isinstance(entries, Raw) else entries, "abbrev_table")
            return
        if not isinstance(entries, (list, tuple)):
            raise DescriptionError(f"abbrev_table: {entries!r} is not a list of declarations (code, tag, "
                                   f"children, [(attribute, form), ...]) or raw bytes")
        out = bytearray()
        for n, entry in enumerate(entries):
            where = f"abbrev_table[{n}]"
            if not isinstance(entry, (list, tuple)) or len(entry) != 4:
                raise DescriptionError(f"{where}: a declaration is (code, tag, children, [(attribute, form), ...])")
            code, tag, children, attributes = entry
            code = field_int(code, None, f"{where}: code")
            try:
                tag_code = names.tag(tag)
            except DescriptionError as error:
                raise DescriptionError(f"{where}: {error}") from None
            if not isinstance(children, bool):
                raise DescriptionError(f"{where}: children {children!r} is not true or false")
            specs = tuple(self._spec(a, f"{where}: attribute {k}") for k, a in enumerate(attributes))
            self.keys.setdefault((tag_code, children, specs), code)
            out += uleb128(code) + uleb128(tag_code) + bytes([children])
            for spec in specs:
                out += uleb128(spec[0]) + uleb128(spec[1])
                if spec[1] == DW_FORM_implicit_const:
                    out += sleb128(spec[2])
            out += b"\0\0"
        out.append(0)
        self.data = bytes(out)

    @staticmethod
    def _spec(attribute: Any, where: str) -> tuple:
        if not isinstance(attribute, (list, tuple)) or len(attribute) not in (2, 3):
            raise DescriptionError(f"{where}: {attribute!r} is not (attribute, form) or (attribute, implicit_const, "
                                   f"value)")
        try:
            at, form = names.attribute(attribute[0]), names.form(attribute[1])
        except DescriptionError as error:
            raise DescriptionError(f"{where}: {error}") from None
        if (form == DW_FORM_implicit_const) != (len(attribute) == 3):
            raise DescriptionError(f"{where}: DW_FORM_implicit_const and only it takes a value")
        if len(attribute) == 3:
            return (at, form, field_int(attribute[2], 8, f"{where}: value", signed=True))
        return (at, form)

    def code(self, key: tuple) -> int | None:
        """The code declared for an abbreviation key of the unit encoder (its specs are an interned Specs)."""
        return self.keys.get((key[0], key[1], tuple(key[2])))

    def label_position(self) -> tuple[str, int]:
        return ".debug_abbrev", self.place()

    # What the unit encoder's late patching asks of an offset known only at emission.
    def place(self) -> int:
        return self.control.table_offset(self)

    def section_name(self) -> str:
        return ".debug_abbrev"


class UnitOverride:
    """A unit's header fields as given, where its bytes end (``truncate``), and its abbreviation table."""

    __slots__ = ("fields", "truncate", "abbrev_table", "attributes")

    def __init__(self) -> None:
        self.fields: dict[str, int] = {}
        self.attributes: dict[int, int | LabelOffset] = {}   # DW_AT code -> the number its field holds
        self.truncate: int | None = None
        self.abbrev_table: AbbrevDeclarations | None = None


class RawControl:
    """Every override of one program (see the module's docstring)."""

    def __init__(self, abbrevs: AbbrevTable) -> None:
        self.abbrevs = abbrevs
        self.dies: dict[Any, DieOverride] = {}
        self.raw_values: set[Any] = set()      # DIEs with a Raw value (encoded field by field)
        self.units: dict[Any, UnitOverride] = {}
        self.tables: list[AbbrevDeclarations] = []
        self.sections: dict[str, bytes | None] = {}   # None: the section is left out
        self.patches: list[tuple[str, int, bytes]] = []
        self.headers: list[raw_headers.HeaderOverride] = []
        self.entries: dict[tuple, Any] = {}    # the unit encoder's entry functions with a code of our choosing

    # -- what callers give ------------------------------------------------------------------------------------
    def die(self, die: Any, code: Any = None, data: Any = None) -> None:
        where = f"{die.path()}: override"
        if code is None and data is None:
            raise DescriptionError(f"{where}: give code or data")
        over = self.dies.get(die) or DieOverride()
        if code is not None:
            over.code = field_int(code, None, f"{where} code")
        if data is not None:
            over.data = raw_bytes(data, f"{where} data")
        self.dies[die] = over

    def unit(self, unit: Any, fields: dict[str, Any]) -> None:
        enc: Encoding = unit.encoding
        over = self.units.get(unit) or UnitOverride()
        for name, value in fields.items():
            where = f"{unit.label()}: override {name}"
            if name not in UNIT_FIELDS:
                raise DescriptionError(f"{where}: not a unit header field (known: {', '.join(UNIT_FIELDS)})")
            if name == "abbrev_table":
                if not isinstance(value, AbbrevDeclarations) or value.control is not self:
                    raise DescriptionError(f"{where}: {value!r} is not an abbreviation table of this program "
                                           f"(DwarfBuilder.abbrev_table)")
                over.abbrev_table = value
            elif name == "truncate":
                over.truncate = field_int(value, None, where)
            elif name in ATTRIBUTE_FIELDS and isinstance(value, (Label, LabelOffset)):
                over.attributes[names.ATTRIBUTES[name]] = value if isinstance(value, LabelOffset) else \
                    LabelOffset(value)
            elif name in ATTRIBUTE_FIELDS:
                over.attributes[names.ATTRIBUTES[name]] = field_int(value, enc.offset_size, where)
            else:
                if name == "unit_type" and enc.version < 5:
                    raise DescriptionError(f"{where}: a DWARF {enc.version} unit header has no unit_type")
                if name in ("signature", "type_offset") and unit.signature is None:
                    raise DescriptionError(f"{where}: only a type unit's header has a {name}")
                size = {"version": 2, "unit_type": 1, "address_size": 1, "signature": 8}.get(name, enc.offset_size)
                over.fields[name] = field_int(value, size, where)
        self.units[unit] = over

    def abbrev_table(self, entries: Any) -> AbbrevDeclarations:
        table = AbbrevDeclarations(self, entries)
        self.tables.append(table)
        return table

    def section(self, name: Any, data: Any) -> None:
        if not isinstance(name, str) or not name.startswith("."):
            raise DescriptionError(f"raw_section: {name!r} is not a section name ('.debug_info', ...)")
        self.sections[name] = None if data is None else raw_bytes(data, f"raw_section {name}")

    def header(self, encoding: Encoding, section: Any, which: Any, fields: dict[str, Any]) -> None:
        self.headers.append(raw_headers.HeaderOverride(encoding, section, which, fields))

    def patch(self, name: Any, offset: Any, data: Any) -> None:
        if not isinstance(name, str) or not name.startswith("."):
            raise DescriptionError(f"patch: {name!r} is not a section name ('.debug_aranges', ...)")
        where = f"patch {name}"
        self.patches.append((name, field_int(offset, None, f"{where} offset"), raw_bytes(data, where)))

    def value(self, unit: Any, die: Any, at: int, value: Any, pinned: int | None) -> tuple[int, Any]:
        """The form and stored value of a Raw value, pinned or not (a number: in the form's encoding; with
        DW_FORM_indirect, the bytes are the whole field, inner form included); the DIE is encoded field by field
        from now on."""
        where = f"{die.path()} / attribute {names.attribute_name(at)}"
        if type(value) is DieOffset:
            return self._die_offset(unit, die, value, where)
        if type(value) is Label:
            value = LabelOffset(value)
        elif type(value) not in (Raw, LabelOffset) and type(value.value) is Label:   # pin(label, form)
            value = _label_offset(value.value, value.form, where)
        if type(value) is LabelOffset:
            self._label_form(unit.encoding, value, where)
            self.raw_values.add(die)
            return value.form, value
        if type(value) is not Raw:   # pin(Raw(...), form)
            pinned, value = value.form, value.value
        form = pinned if pinned is not None else value.form
        if form is None:
            raise DescriptionError(f"{where}: raw bytes need the form the abbreviation declares "
                                   f"(Raw(data, form=...) or pin(Raw(data), form))")
        stored = value
        if at == names.ATTRIBUTES["name"]:
            die.name = None   # its text is what the bytes say
        if isinstance(value.data, int):
            stored = Raw(_number(unit.encoding, form, value.data, where))
        self.raw_values.add(die)
        return form, stored

    @staticmethod
    def _label_form(enc: Encoding, value: LabelOffset, where: str) -> None:
        """A label's offset is written in the offset size: data4/data8 only when that is it, no DWARF 2 ref_addr."""
        form = value.form
        if form in (_F["data4"], _F["data8"]) and _size(enc, form) != enc.offset_size or \
                form == _F["ref_addr"] and enc.version == 2:
            raise DescriptionError(f"{where}: a label's offset is {enc.offset_size} bytes (the offset size); form "
                                   f"{names.form_name(form)} is not")

    def _die_offset(self, unit: Any, die: Any, value: DieOffset, where: str) -> tuple[int, Any]:
        target = value.die
        if getattr(getattr(target, "unit", None), "tables", None) is not unit.tables or not hasattr(target, "specs"):
            raise DescriptionError(f"{where}: DieOffset({target!r}) does not name a DIE of this program")
        if value.form not in _REF_FORMS:
            raise DescriptionError(f"{where}: DieOffset is written in a reference form (ref1, ref2, ref4, ref8, "
                                   f"ref_udata, ref_addr), not {names.form_name(value.form)}")
        if value.form != _F["ref_addr"] and target.unit is not unit:
            raise DescriptionError(f"{where}: {target.path()} is in another unit; a unit-relative form cannot reach "
                                   f"it (use ref_addr)")
        self.raw_values.add(die)
        return value.form, value

    # -- what the encoder and the builder ask ------------------------------------------------------------------
    def unit_attributes(self, unit: Any, extra: list[tuple[tuple, Any]], stmt_form: int) -> list[tuple[tuple, Any]]:
        """The attributes ``Unit.prepare`` adds (``(spec, value)``), with the numbers given in their place; one given
        for an attribute the unit would not have is added (``sec_offset``, or stmt_list's form)."""
        override = self.units.get(unit)
        if override is None or not override.attributes:
            return extra
        given = dict(override.attributes)
        enc = unit.encoding
        out = []
        for spec, value in extra:
            if spec[0] in given:
                value = _given(enc, spec[1], given.pop(spec[0]))
            out.append((spec, value))
        for at, number in given.items():
            form = stmt_form if at == names.ATTRIBUTES["stmt_list"] else _F["sec_offset"]
            out.append(((at, form), _given(enc, form, number)))
        self.raw_values.add(unit.root)
        return out

    def table_offset(self, table: AbbrevDeclarations) -> int:
        """Where ``table`` starts in ``.debug_abbrev``: after the derived table (left out when empty and every
        unit has a table of its own) and the hand-written tables before it."""
        offset = len(self.derived())
        for other in self.tables:
            if other is table:
                return offset
            offset += len(other.data)
        raise AssertionError("a table of another program")

    def derived(self) -> bytes:
        return self.abbrevs.encode() if len(self.abbrevs) or not self.tables else b""

    def apply_sections(self, out: DwarfSections, aranges_units: list[int] | None = None) -> None:
        """The emitted sections with the hand-written abbreviation tables appended, header fields as given, raw
        sections in place and patches over them (``aranges_units``: each aranges set's unit offset, in order)."""
        if self.headers:
            raw_headers.apply(self.headers, out, aranges_units or [])
        if self.tables:
            out.sections[".debug_abbrev"] = Section(".debug_abbrev", bytearray(
                self.derived() + b"".join(table.data for table in self.tables)))
        for name, data in self.sections.items():
            if data is None:
                out.sections.pop(name, None)
            else:
                out.sections[name] = Section(name, bytearray(data))
        for name, offset, data in self.patches:
            section = out.sections.get(name)
            if section is None:
                raise DescriptionError(f"patch {name}+{offset:#x}: the program writes no {name}")
            if offset + len(data) > len(section.data):
                raise DescriptionError(f"patch {name}+{offset:#x}: {len(data)} bytes run past the end of the section "
                                       f"({len(section.data):#x})")
            section.data[offset:offset + len(data)] = data
