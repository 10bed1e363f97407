"""Units: compile, partial and type units, each owning a tree of DIEs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import names
from ..address import Address, as_address
from ..errors import DescriptionError
from ..expr import Expr
from ..line import LineProgram
from ..raw import Raw
from ..tables.list_entries import resolve
from . import forms as F
from .classes import check as check_class
from .die import Die, DW_UT_compile, DW_UT_partial, DW_UT_type
from .forms import (
    ADDR,
    DATA1,
    DATA2,
    DATA4,
    EXPRLOC,
    FLAG_PRESENT,
    IMPLICIT_CONST,
    REF4,
    SPECIAL,
    STRING,
    STRP,
    AT_name,
    choose,
)
from .types import TypeHelpers

if TYPE_CHECKING:
    from ..encoding import Encoding
    from ..tables.shared import SharedTables
    from .encode import UnitEncoder

_new_object = object.__new__


class _Shape:
    """What a ``die(tag, **attributes)`` call resolves to by its tag and attribute names alone: the tag's code, per
    attribute name, in call order, ``(DW_AT code, needs forms.choose beyond the common cases, form decided by the
    unit or None)``, and the shared attribute lists met so far, keyed by the signature of forms the values took (see
    Unit._new_die). The plan is a dict because looking names up costs less than a zip() per DIE."""

    __slots__ = ("tag", "plan", "specs")

    def __init__(self, tag: int, plan: dict[str, tuple[int, bool, int | None]]) -> None:
        self.tag = tag
        self.plan = plan
        self.specs: dict[tuple[int, ...], tuple] = {}


def _specs_of(plan: dict, signature: "tuple[int, ...] | list[int]") -> list[tuple]:
    """The attribute list of a signature: each attribute's form (0 for an attribute not set, None), followed by its
    value for DW_FORM_implicit_const. The signature may cover only the first attributes of the plan."""
    specs: list[tuple] = []
    i = 0
    for at, _, _ in plan.values():
        if i >= len(signature):
            break
        form = signature[i]
        if form == IMPLICIT_CONST:
            specs.append((at, form, signature[i + 1]))
            i += 2
        else:
            if form:
                specs.append((at, form))
            i += 1
    return specs


class Unit(TypeHelpers):
    """What every unit has: a root DIE, and :meth:`die` to add DIEs under it."""

    unit_type = DW_UT_compile
    root_tag = "compile_unit"
    short = "cu"
    signature: int | None = None     # a type unit's 8-byte signature
    type_die: Die | None = None      # a type unit's type

    def __init__(self, tables: "SharedTables", attributes: dict[str, Any], encoding: "Encoding | None" = None) -> None:
        self.tables = tables   # the program's shared tables (never the builder: it lies above units)
        # A unit may have a version and an address size of its own (a loaded file's units can differ); the rest of
        # the encoding is the program's. Indexed forms need DWARF 5.
        self.encoding = encoding or tables.encoding
        # GNU split DWARF 4 units (.dwo) index strings and addresses too (DW_FORM_GNU_str_index/GNU_addr_index).
        self.indexed = tables.indexed and (self.encoding.version >= 5 or tables.gnu_split)
        self.offset: int | None = None
        self.uses_str_offsets = self.uses_addr = self.uses_rnglists = self.uses_loclists = False
        self.finished = False
        # Integer values of special attributes decided without forms.choose: plain addresses, high_pc lengths
        # (DWARF 4+; DATA1 means "the smallest data form"), file numbers as implicit constants (DWARF 5).
        self._fast: dict[int, int] = {}
        self._address_limit = min(1 << (8 * self.encoding.address_size), 1 << 32)
        self._address_room = 1 << (8 * self.encoding.address_size)   # a plain Address fits the addr form
        self._plain_addresses = not self.indexed
        if not self.indexed:
            self._fast.update({at: F.ADDR for at in F.ADDRESS_ATTRIBUTES})
        if self.encoding.version >= 4:
            self._fast[F.AT_high_pc] = F.DATA1
        if self.encoding.version >= 5 and tables.implicit_const:
            self._fast.update({at: F.IMPLICIT_CONST for at in F.FILE_ATTRIBUTES})
        # Strings: inline when shorter than an offset, else strp (choose() handles indexed forms and the root).
        self._plain_strings = False   # the root's name and comp_dir take line_strp in DWARF 5: see choose()
        self._inline_below = self.encoding.offset_size
        self._offset_limit = 1 << (8 * self.encoding.offset_size)
        self._exprloc = self.encoding.version >= 4
        self._shapes = tables.die_shapes.setdefault((self.encoding.version, self.indexed), {})
        self._inline = tables.inline_strings
        self._string_offset = tables.strings.offset_of
        self.root = self._new_die(None, self.root_tag, attributes)
        self._plain_strings = not self.indexed

    # -- building ---------------------------------------------------------------------------------------------
    def die(self, tag: str | int, **attributes: Any) -> Die:
        """A new DIE directly under the unit's root: ``cu.die("subprogram", name="main", low_pc=...)``."""
        return self._new_die(self.root, tag, attributes)

    def _new_die(self, parent: Die | None, tag: str | int, attributes: dict[str, Any]) -> Die:
        """Creates a DIE under ``parent`` (None: the root) with ``attributes``.

        The hot path of every description. What depends only on the call's shape (tag and attribute names) is
        resolved once per shape (:class:`_Shape`); per value, the common cases (small constants, references inside the
        unit, plain addresses, lengths, file numbers, names, fixed expressions) are decided here and noted as a
        signature of forms, which finds the shared attribute list; forms.choose does the rest, and every error.
        """
        if self.finished:
            raise DescriptionError(f"{self.label()}: already emitted, no DIE can be added")
        shape = self._shapes.get((tag, *attributes))
        if shape is None:
            shape = self._shape(parent, tag, attributes)
        die = _new_object(Die)
        die.unit = self
        die.parent = parent
        die.tag = shape.tag
        die.specs = ()
        die.values = values = []
        die.children = die.offset = die.name = None
        if attributes:
            signature: list[int] = []
            plan = shape.plan
            for name, value in attributes.items():
                at, special, decided = plan[name]
                kind = type(value)
                if kind is int:
                    if not special:
                        if 0 <= value < 0x10000:
                            signature.append(DATA1 if value < 0x100 else DATA2)
                            values.append(value)
                            continue
                    elif decided is not None and 0 <= value < self._address_limit:
                        if decided == IMPLICIT_CONST:
                            signature.append(IMPLICIT_CONST)
                            signature.append(value)
                        else:
                            signature.append(decided if decided != DATA1 or value < 0x100 else
                                             DATA2 if value < 0x10000 else DATA4)
                        values.append(value)
                        continue
                elif kind is str:
                    if self._plain_strings and not special and "\0" not in value:
                        if at == AT_name:
                            die.name = value
                        if len(value) < self._inline_below and value.isascii():
                            signature.append(STRING)    # shorter inline than as an offset
                            values.append(self._inline.get(value) or self._inline_string(value))
                            continue
                        offset = self._string_offset(value)
                        if offset is None:
                            try:
                                offset = self.tables.strings.add(value)
                            except DescriptionError as error:   # a lone surrogate
                                raise die.error(at, str(error)) from None
                        if offset < self._offset_limit:
                            signature.append(STRP)
                            values.append(offset)
                            continue
                elif kind is Die:
                    if value.unit is self and not special:
                        signature.append(REF4)
                        values.append(value)
                        continue
                elif kind is Expr:
                    if self._exprloc:
                        block = value.simple_block()
                        if block is not None:
                            signature.append(EXPRLOC)
                            values.append(block)
                            continue
                elif kind is Address:
                    if self._plain_addresses:
                        if value.symbol is not None:   # relocated: an object's address (the offset any int)
                            signature.append(ADDR)
                            values.append(value)
                            continue
                        if 0 <= value.offset < self._address_room:
                            signature.append(ADDR)
                            values.append(value.offset)
                            continue
                elif kind is bool:
                    if value and self._exprloc and not special:   # DWARF 4+: a true flag takes no bytes
                        signature.append(FLAG_PRESENT)
                        values.append(None)
                        continue
                elif value is None:
                    signature.append(0)   # not set
                    continue
                die.specs = _specs_of(shape.plan, signature)   # type: ignore[assignment]  # choose() may read them
                form, stored = choose(self, die, at, value)
                signature.append(form)
                if form == IMPLICIT_CONST:
                    signature.append(stored)
                values.append(stored)
            key = tuple(signature)
            specs = shape.specs.get(key)
            if specs is None:
                # A new signature of forms for this shape: check the values' classes (e.g. no int for DW_AT_type).
                # Each form of the common cases above comes from values of one class, and forms.choose checks its
                # own, so one check per shape and signature covers every DIE that shares them.
                version = self.encoding.version
                for name, value in attributes.items():
                    if value is not None:
                        check_class(die, plan[name][0], value, version)
                specs = shape.specs[key] = self.tables.intern_specs(_specs_of(shape.plan, key), die)
            die.specs = specs
        if parent is not None:
            children = parent.children
            if children is None:
                parent.children = [die]
            else:
                children.append(die)
        return die

    def _shape(self, parent: Die | None, tag: str | int, attributes: dict[str, Any]) -> "_Shape":
        """Resolves the tag and attribute names of a ``die(tag, **attributes)`` call; raises for unknown ones."""
        try:
            code = names.tag(tag)
        except DescriptionError as error:
            raise DescriptionError(f"{parent.path() if parent else self.label()}: {error}") from None
        plan = {}
        for key in attributes:
            try:
                at = names.attribute(key)
            except DescriptionError as error:
                where = f"{parent.path()} / " if parent else ""
                raise DescriptionError(f"{where}{names.tag_name(code)}: {error}") from None
            plan[key] = (at, at in SPECIAL, self._fast.get(at))
        shape = self._shapes[(tag, *attributes)] = _Shape(code, plan)
        return shape

    def _shell(self, parent: Die | None, tag: int) -> Die:
        """A DIE with no attributes yet, under ``parent`` (None: a second root is refused): the loader makes every
        DIE of a file first, so that references can name any of them, then gives each its attributes (:meth:`_fill`)."""
        if self.finished:
            raise DescriptionError(f"{self.label()}: already emitted, no DIE can be added")
        die = _new_object(Die)
        die.unit = self
        die.parent = parent
        die.tag = tag
        die.specs = die.values = ()   # type: ignore[assignment]  # set when filled (no list per DIE made twice)
        die.children = die.offset = die.name = None
        if parent is not None:
            if parent.children is None:
                parent.children = [die]
            else:
                parent.children.append(die)
        return die

    def _fill(self, die: Die, attributes: list[tuple[int, Any]]) -> None:
        """Sets ``attributes`` (``(DW_AT code, value)`` in order, values as for :meth:`Die.set`) on a DIE, choosing
        and checking each form as ``set`` does, and interning the attribute list once."""
        specs = list(die.specs)
        values = die.values = list(die.values)   # a shell's values are an empty tuple
        for at, value in attributes:
            die.specs = specs   # type: ignore[assignment]  # choose() may read the attributes set so far
            form, stored = F.choose(self, die, at, value)
            specs.append((at, form, stored) if form == F.IMPLICIT_CONST else (at, form))
            values.append(stored)
        die.specs = self.tables.intern_specs(specs, die)

    def _inline_string(self, text: str) -> bytes:
        """The bytes of a short ASCII string stored inline (DW_FORM_string), shared by every DIE that has it."""
        encoded = self._inline[text] = text.encode() + b"\0"
        return encoded

    def _set(self, die: Die, at: int, value: Any) -> None:
        if self.finished:
            raise DescriptionError(f"{self.label()}: already emitted, {die.path()} cannot change")
        form, stored = F.choose(self, die, at, value)
        spec = (at, form, stored) if form == F.IMPLICIT_CONST else (at, form)
        specs = list(die.specs)
        for i, old in enumerate(specs):
            if old[0] == at:
                specs[i] = spec
                die.values[i] = stored
                break
        else:
            specs.append(spec)
            die.values.append(stored)
        die.specs = self.tables.intern_specs(specs, die)

    def override(self, **fields: Any) -> "Unit":
        """Raw control (:mod:`dwarfkit.raw`): header fields written as given (``unit_length``, ``version``,
        ``unit_type``, ``abbrev_offset``, ``address_size``, a type unit's ``signature`` and ``type_offset``), the
        numbers of the root attributes the writer adds (``str_offsets_base``, ``addr_base``, ``rnglists_base``,
        ``loclists_base``, ``stmt_list``; added when the unit would have none), the
        unit's bytes cut after ``truncate`` (its unit_length then counts what is left unless given), and
        ``abbrev_table``: a table of ``DwarfBuilder.abbrev_table`` its header points at and its DIEs' codes come
        from."""
        if self.finished:
            raise DescriptionError(f"{self.label()}: already emitted, its header cannot change")
        self.tables.raw_control().unit(self, fields)
        return self

    def file(self, name: str, directory: str | int = 0) -> int:
        """The file index of ``name`` for ``DW_AT_decl_file`` and line rows."""
        raise DescriptionError(f"{self.label()}: has no line program, so file {name!r} has no index; give the "
                               f"number")

    def section_name(self) -> str:
        """The section the unit is written in (a DWARF 4 type unit's is ``.debug_types``)."""
        return ".debug_types" if self.signature is not None and self.encoding.version == 4 else ".debug_info"

    def label_position(self) -> tuple[str, int | None]:
        """Where the unit's header starts (for a :class:`dwarfkit.raw.Label`), once it is laid out."""
        return self.section_name(), self.offset

    def label(self) -> str:
        root = getattr(self, "root", None)   # None while the root DIE itself is refused
        name = root.name if root is not None else None
        if name is not None and not name.isprintable():
            name = repr(name)[1:-1]   # a message must print: escape control characters and lone surrogates
        return f'{self.short} "{name}"' if name is not None else self.short

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label()}>"

    # -- encoding ---------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Adds the attributes that depend on the rest of the program (stmt_list, bases) before encoding."""
        tables = self.tables
        enc = self.encoding
        extra: list[tuple[tuple, Any]] = []
        offset_form = F.SEC_OFFSET if enc.version >= 4 else (F.DATA8 if enc.offset_size == 8 else F.DATA4)
        if tables.dwo:   # a split unit's bases are implicit (its .dwo's contributions) or its skeleton's
            pass
        elif self.uses_str_offsets:
            extra.append(((names.ATTRIBUTES["str_offsets_base"], F.SEC_OFFSET), tables.str_offsets_base))
        if self.uses_addr:
            extra.append(((names.ATTRIBUTES["addr_base"], F.SEC_OFFSET), tables.addr_base))
        if self.uses_rnglists:
            extra.append(((names.ATTRIBUTES["rnglists_base"], F.SEC_OFFSET), tables.rnglists_base))
        if self.uses_loclists:
            extra.append(((names.ATTRIBUTES["loclists_base"], F.SEC_OFFSET), tables.loclists_base))
        stmt = self.stmt_list()
        if stmt is not None:
            extra.append(((names.ATTRIBUTES["stmt_list"], offset_form), stmt))
        if tables.raw is not None:   # raw control: numbers given in place of these
            extra = tables.raw.unit_attributes(self, extra, offset_form)
        root = self.root
        for spec, value in extra:
            root.specs = tables.intern_specs(list(root.specs) + [spec], root)
            root.values.append(value)

    def stmt_list(self) -> Any:
        return None

    def write_header(self, encoder: "UnitEncoder", buf: bytearray) -> int | None:
        """Writes the header after unit_length and version; returns where a type_offset must be patched."""
        enc = self.encoding
        if enc.version >= 5:
            buf.append(self.unit_type)
            buf.append(enc.address_size)
            encoder.relocs.add(len(buf), enc.offset_size, 2, ".debug_abbrev", 0)
            buf += bytes(enc.offset_size)
        else:
            encoder.relocs.add(len(buf), enc.offset_size, 2, ".debug_abbrev", 0)
            buf += bytes(enc.offset_size)
            buf.append(enc.address_size)
        return None

    def release(self) -> None:
        """Drops the DIE tree after emission (the encoder unlinked its inner DIEs already)."""
        self.finished = True
        self.root.children = None

    def address_ranges(self) -> list[tuple[Any, int]]:
        return []


class CompileUnit(Unit):
    """A compile unit; it owns the line program of its source file (:attr:`line`)."""

    def __init__(self, tables: "SharedTables", name: str | None, attributes: dict[str, Any],
                 line_options: dict[str, Any], encoding: "Encoding | None" = None) -> None:
        comp_dir = attributes.get("comp_dir")
        self.line = LineProgram(encoding or tables.encoding, comp_dir=comp_dir if isinstance(comp_dir, str) else "",
                                name=name, **line_options)
        """The unit's line program: ``cu.line.sequence(Address("main")).row(0, 3)``."""
        super().__init__(tables, {"name": name, **attributes}, encoding)

    def file(self, name: str, directory: str | int = 0) -> int:
        """The file index of ``name`` (in ``directory``, a path or an index) for decl_file and line rows."""
        if name == self.line.name and directory in (0, self.line.comp_dir):
            return self.line.primary_file
        if isinstance(directory, str):
            directory = self.line.add_directory(directory)
        return self.line.add_file(name, directory)

    has_line_program = True
    """False for a unit without DW_AT_stmt_list (a loaded unit that had none): no line program is written."""

    def stmt_list(self) -> Any:
        if not self.has_line_program:
            return None
        return self.tables.lines.add(self.line)

    def release(self) -> None:
        """Drops the DIE tree and the line rows after emission."""
        super().release()
        self.line.sequences = []

    def address_ranges(self) -> list[tuple[Any, int]]:
        """(start, length) pairs for .debug_aranges, from low_pc/high_pc or DW_AT_ranges of the root."""
        root = self.root
        low = root.get("low_pc")
        high = root.get("high_pc")
        ranges = root.get("ranges")
        if Raw in (type(low), type(high), type(ranges)):
            return []   # raw control: bytes as given, no range known
        low = as_address(low) if low is not None else None
        if ranges is not None:
            entries = resolve(ranges.entries, low, False) if ranges.explicit else ranges.entries
            return [(start, length) for start, length in entries if length]
        if low is not None and high is not None:
            if isinstance(high, int):
                return [(low, high)] if high else []
            if high.symbol == low.symbol:
                return [(low, high.offset - low.offset)] if high.offset > low.offset else []
        return []


class PartialUnit(Unit):
    """A partial unit (``DW_TAG_partial_unit``): DIEs shared by other units through imported_unit."""

    unit_type = DW_UT_partial
    root_tag = "partial_unit"
    short = "pu"


class TypeUnit(Unit):
    """A type unit: one type, referred to from other units by its 8-byte signature (``DW_FORM_ref_sig8``).

    DWARF 5 puts it in ``.debug_info``; DWARF 4 in ``.debug_types``. Set :attr:`type_die` to the type it describes.
    """

    unit_type = DW_UT_type
    root_tag = "type_unit"
    short = "tu"
    signature: int

    def __init__(self, tables: "SharedTables", signature: int, attributes: dict[str, Any],
                 encoding: "Encoding | None" = None) -> None:
        if not isinstance(signature, int) or isinstance(signature, bool) or not 0 <= signature < 1 << 64:
            raise DescriptionError(f"type unit signature {signature!r} does not fit 8 bytes (an integer "
                                   f"0..2**64-1)")
        version = (encoding or tables.encoding).version
        if version < 4:
            raise DescriptionError(f"type units need DWARF 4 or later (this is DWARF {version})")
        self.signature = signature
        self.type_die: Die | None = None
        self.line: LineProgram | None = None
        """A line program of the type unit's own (only its file table, for DW_AT_decl_file), as gcc writes one
        with -fdebug-types-section; None: none (``DW_AT_decl_file`` then names no file)."""
        super().__init__(tables, attributes, encoding)

    def stmt_list(self) -> Any:
        return None if self.line is None else self.tables.lines.add(self.line)

    def label(self) -> str:
        return f"tu {self.signature:#018x}"

    def write_header(self, encoder: "UnitEncoder", buf: bytearray) -> int | None:
        enc = self.encoding
        if self.type_die is None:
            raise DescriptionError(f"{self.label()}: type_die is not set (the type this unit describes)")
        if self.type_die.unit is not self:
            raise DescriptionError(f"{self.label()}: type_die {self.type_die.path()} belongs to another unit")
        super().write_header(encoder, buf)
        buf += self.signature.to_bytes(8, enc.byteorder)
        pos = len(buf)
        buf += bytes(enc.offset_size)
        return pos
