"""Debugging information entries: a tree of tags with typed attribute values, and what a DIE needs of its unit.

A :class:`Die` knows its unit only through :class:`UnitView`, a Protocol that :class:`dwarfkit.info.unit.Unit`
fulfils, so that this module (and forms, classes, encode, which use it) stays below the units. Imports the
foundations (names, addresses, errors) and, for types only, :mod:`dwarfkit.tables`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Protocol

from .. import names
from ..address import Address
from ..errors import DescriptionError
from ..raw import RAW_TYPES

if TYPE_CHECKING:
    from ..encoding import Encoding
    from ..tables.shared import SharedTables

DW_UT_compile, DW_UT_type, DW_UT_partial = 1, 2, 3


class UnitView(Protocol):
    """What DIEs, forms and the encoder use of a unit (:class:`dwarfkit.info.unit.Unit` has it all)."""

    tables: "SharedTables"
    encoding: "Encoding"
    unit_type: int
    offset: int | None
    finished: bool
    uses_str_offsets: bool
    uses_addr: bool
    uses_rnglists: bool
    uses_loclists: bool
    indexed: bool              # DWARF 5 indexed forms (the program's choice, in a unit of version 5)
    root: "Die"
    type_die: "Die | None"     # type units only

    @property
    def signature(self) -> int | None: ...   # type units only (read-only here: TypeUnit narrows it to int)

    def _new_die(self, parent: "Die | None", tag: str | int, attributes: dict[str, Any]) -> "Die": ...

    def _set(self, die: "Die", at: int, value: Any) -> None: ...

    def label(self) -> str: ...

    def section_name(self) -> str: ...

    def file(self, name: str, directory: str | int = 0) -> int: ...

DW_AT_name = names.ATTRIBUTES["name"]
DW_FORM_addr = names.FORMS["addr"]
DW_FORM_flag, DW_FORM_flag_present, DW_FORM_exprloc, DW_FORM_indirect = (
    names.FORMS["flag"], names.FORMS["flag_present"], names.FORMS["exprloc"], names.FORMS["indirect"])
BLOCK_FORMS = {names.FORMS[f] for f in ("block", "block1", "block2", "block4")}
STRING_FORMS = {names.FORMS[f] for f in ("string", "strp", "line_strp", "strx", "strx1", "strx2", "strx3", "strx4",
                                      "GNU_str_index")}
ADDRX_FORMS = {names.FORMS[f] for f in ("addrx", "addrx1", "addrx2", "addrx3", "addrx4", "GNU_addr_index")}


class Pinned:
    """An attribute value with the form chosen by the caller: ``decl_line=pin(12, "udata")``."""

    __slots__ = ("value", "form", "inner")

    def __init__(self, value: Any, form: str | int, inner: str | int | None = None) -> None:
        self.value = value
        self.form = names.form(form)
        self.inner = None if inner is None else names.form(inner)   # the form after DW_FORM_indirect


def pin(value: Any, form: str | int, inner: str | int | None = None) -> Pinned:
    """``value`` to be encoded with ``form`` (``"udata"``, ``"DW_FORM_strx1"``, ...) instead of the chosen one;
    ``pin(v, "indirect", inner="udata")`` writes DW_FORM_indirect and then the inner form in the DIE (no ``inner``:
    the writer chooses it)."""
    return Pinned(value, form, inner)


class Die:
    """One DIE. Create it with :meth:`Unit.die` or :meth:`Die.die`; attributes by short name or ``DW_AT_*`` value.

    Attribute values are typed: ``int`` (a constant), ``bool`` (a flag), ``str`` (a string, or a named constant for
    ``language``, ``encoding``, ...), :class:`~dwarfkit.Address`, another ``Die`` (a reference),
    :class:`~dwarfkit.expr.Expr` (a location expression), ``bytes`` (a block), a range or location list, or
    :func:`pin` to fix the form.
    """

    # Unit._new_die makes every Die and fills all its slots (without an __init__ call: a DIE is the most frequent
    # object a program makes). specs: ((attribute, form) | (attribute, DW_FORM_implicit_const, value), ...), part of
    # the abbreviation key; values: the encoded-ready value of each spec, same order; offset: the section offset,
    # known once the unit is laid out; name: DW_AT_name's text, for messages.
    __slots__ = ("unit", "parent", "tag", "specs", "values", "children", "offset", "name")
    unit: UnitView
    parent: "Die | None"
    tag: int
    specs: tuple
    values: list[Any]
    children: "list[Die] | None"
    offset: int | None
    name: str | None

    def die(self, tag: str | int, **attributes: Any) -> "Die":
        """A new child of this DIE with ``attributes``."""
        return self.unit._new_die(self, tag, attributes)

    def set(self, attribute: str | int, value: Any, form: str | int | None = None) -> "Die":
        """Sets (or replaces) one attribute, with an optional pinned form. Returns the DIE."""
        try:
            at = names.attribute(attribute)
            if form is not None:
                value = Pinned(value, form)
        except DescriptionError as error:
            raise DescriptionError(f"{self.path()}: {error}") from None
        self.unit._set(self, at, value)
        return self

    def override(self, *, code: int | None = None, data: bytes | str | None = None) -> "Die":
        """Raw control (:mod:`dwarfkit.raw`): ``code`` is the abbreviation code written for this DIE (declared or
        not); ``data`` the bytes written in place of its entry (code and attributes; children follow as usual)."""
        self.unit.tables.raw_control().die(self, code, data)
        return self

    def label_position(self) -> tuple[str, int | None]:
        """Where this DIE starts (for a :class:`dwarfkit.raw.Label`): its section and offset once laid out."""
        return self.unit.section_name(), self.offset

    def get(self, attribute: str | int) -> Any:
        """The value of ``attribute`` as :meth:`set` takes it (a DIE, an int, a bool, an Address, text, an Expr, a
        list, bytes for a block) or None when the DIE has no such attribute."""
        at = names.attribute(attribute)
        for spec, value in zip(self.specs, self.values, strict=True):
            if spec[0] == at:
                if at == DW_AT_name:
                    return self.name
                if type(value) in RAW_TYPES:
                    return value   # raw control: the bytes (or DIE offset) as given
                if spec[1] == DW_FORM_addr and type(value) is int:
                    return Address(None, value)
                if spec[1] in ADDRX_FORMS:
                    return self.unit.tables.address_at(value)
                form = spec[1]
                if form in STRING_FORMS:
                    return self.unit.tables.string_at(form, value)
                if form == DW_FORM_flag_present:
                    return True
                if form == DW_FORM_flag:
                    return bool(value)
                if form == DW_FORM_indirect:
                    form, value = value
                if form == DW_FORM_exprloc:
                    return self._expression(value)
                if form in BLOCK_FORMS:
                    return value[0]   # the block's bytes (an expression of DWARF 2-3 too: decode_expr reads it)
                return spec[2] if len(spec) == 3 else value
        return None

    def _expression(self, stored: tuple) -> Any:
        """The Expr an exprloc value holds: its bytes decoded, relocated operands (symbolic addresses, DIEs) put back
        from what the value records for them."""
        from ..expr_decode import decode_expr
        data, fields = stored
        at = {position: operand for position, _size, operand in fields}

        def relocation(position: int) -> Any:
            operand = at.get(position)
            return getattr(operand, "die", operand)   # a DieOperand's DIE, or the Address

        return decode_expr(bytes(data), self.unit.encoding, relocation=relocation,
                           die=lambda kind, offset: offset)

    def form(self, attribute: str | int) -> int | None:
        """The form ``attribute`` is encoded with."""
        at = names.attribute(attribute)
        return next((spec[1] for spec in self.specs if spec[0] == at), None)

    def __iter__(self) -> Iterator["Die"]:
        return iter(self.children or ())

    def path(self) -> str:
        """Where this DIE is, for messages: ``cu "a.c" / subprogram "main" / variable "x"``."""
        parts = []
        die: Die | None = self
        while die is not None and die.parent is not None:
            parts.append(die.label())
            die = die.parent
        parts.append(self.unit.label())
        return " / ".join(reversed(parts))

    def label(self) -> str:
        label = names.tag_name(self.tag)
        name = self.name
        if name is not None and not name.isprintable():
            name = repr(name)[1:-1]   # a message must print: escape control characters and lone surrogates
        return f'{label} "{name}"' if name is not None else label

    def error(self, attribute: int | None, message: str) -> DescriptionError:
        where = self.path()
        if attribute is not None:
            where += f" / attribute {names.attribute_name(attribute)}"
        return DescriptionError(f"{where}: {message}")

    def __repr__(self) -> str:
        return f"<Die {self.path()}>"
