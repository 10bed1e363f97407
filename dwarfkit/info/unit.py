"""Units: compile, partial and type units, each owning a tree of DIEs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import names
from ..address import Address, as_address
from ..errors import DescriptionError
from ..line import LineProgram
from . import forms as F
from .forms import (ADDR, AT_name, DATA1, DATA2, DATA4, EXPRLOC, FLAG_PRESENT, IMPLICIT_CONST, REF4, SPECIAL,
                    STRING, STRP, choose)
from ..expr import Expr
from .die import Die
from .types import TypeHelpers

if TYPE_CHECKING:
    from ..program import DwarfBuilder
    from .encode import UnitEncoder

DW_UT_compile, DW_UT_type, DW_UT_partial = 1, 2, 3
_TAGS: dict[Any, int] = {}
_SHAPES: dict[tuple, tuple] = {}   # keyword names of a die() call -> their attribute codes (None: unknown)


def _attribute_codes(keys: tuple) -> tuple:
    codes = []
    for key in keys:
        try:
            codes.append(names.attribute(key))
        except DescriptionError:
            codes.append(None)
    _SHAPES[keys] = result = tuple(codes)
    return result


def _attribute_error(key: Any) -> str:
    try:
        names.attribute(key)
    except DescriptionError as error:
        return str(error)
    raise AssertionError(f"{key!r} is a known attribute")


class Unit(TypeHelpers):
    """What every unit has: a root DIE, and :meth:`die` to add DIEs under it."""

    unit_type = DW_UT_compile
    root_tag = "compile_unit"
    short = "cu"

    def __init__(self, program: "DwarfBuilder", attributes: dict[str, Any]) -> None:
        self.program = program
        self.encoding = program.encoding
        self.offset: int | None = None
        self.uses_str_offsets = self.uses_addr = self.uses_rnglists = self.uses_loclists = False
        self.finished = False
        # Integer values of special attributes decided without forms.choose: plain addresses, high_pc lengths
        # (DWARF 4+; DATA1 means "the smallest data form"), file numbers as implicit constants (DWARF 5).
        self._fast: dict[int, int] = {}
        self._address_limit = min(1 << (8 * self.encoding.address_size), 1 << 32)
        self._address_room = 1 << (8 * self.encoding.address_size)   # a plain Address fits the addr form
        self._plain_addresses = not program.indexed
        if not program.indexed:
            self._fast.update({at: F.ADDR for at in F.ADDRESS_ATTRIBUTES})
        if self.encoding.version >= 4:
            self._fast[F.AT_high_pc] = F.DATA1
        if self.encoding.version >= 5 and program.implicit_const:
            self._fast.update({at: F.IMPLICIT_CONST for at in F.FILE_ATTRIBUTES})
        # Strings: inline when shorter than an offset, else strp (choose() handles indexed forms and the root).
        self._plain_strings = False   # the root's name and comp_dir take line_strp in DWARF 5: see choose()
        self._inline_below = self.encoding.offset_size
        self._offset_limit = 1 << (8 * self.encoding.offset_size)
        self._exprloc = self.encoding.version >= 4
        self._intern_block = program.intern_block
        self.root = self._new_die(None, self.root_tag, attributes)
        self._plain_strings = not program.indexed

    # -- building ---------------------------------------------------------------------------------------------
    def die(self, tag: str | int, **attributes: Any) -> Die:
        """A new DIE directly under the unit's root: ``cu.die("subprogram", name="main", low_pc=...)``."""
        return self._new_die(self.root, tag, attributes)

    def _new_die(self, parent: Die | None, tag: str | int, attributes: dict[str, Any]) -> Die:
        """Creates a DIE under ``parent`` (None: the root) with ``attributes``."""
        if self.finished:
            raise DescriptionError(f"{self.label()}: already emitted, no DIE can be added")
        code = _TAGS.get(tag)
        if code is None:
            try:
                code = _TAGS[tag] = names.tag(tag)
            except DescriptionError as error:
                raise DescriptionError(f"{parent.path() if parent else self.label()}: {error}") from None
        die = Die(self, parent, code)
        if attributes:
            self._apply(die, attributes)
        if parent is not None:
            if parent.children is None:
                parent.children = [die]
            else:
                parent.children.append(die)
        return die

    def _apply(self, die: Die, attributes: dict[str, Any]) -> None:
        # The hot path of every description. The most common values (small constants, references inside the unit,
        # plain addresses, lengths, file numbers, names, fixed expressions) are decided here; forms.choose does the
        # rest, and every error.
        special = SPECIAL
        fast = self._fast
        specs: list[tuple] = []
        values = die.values
        append_spec, append_value = specs.append, values.append
        die.specs = specs   # type: ignore[assignment]  # lets choose() see the attributes set so far
        keys = tuple(attributes)
        codes = _SHAPES.get(keys) or _attribute_codes(keys)
        if None in codes:   # an unknown attribute name is an error unless its value is None (not set)
            for key, at, value in zip(keys, codes, attributes.values()):
                if at is None and value is not None:
                    raise DescriptionError(f"{die.path()}: {_attribute_error(key)}")
        for at, value in zip(codes, attributes.values()):
            kind = type(value)
            if kind is int:
                if at not in special:
                    if 0 <= value < 0x10000:
                        append_spec((at, DATA1 if value < 0x100 else DATA2))
                        append_value(value)
                        continue
                else:
                    decided = fast.get(at)
                    if decided is not None and 0 <= value < self._address_limit:
                        if decided == IMPLICIT_CONST:
                            append_spec((at, decided, value))
                        else:
                            append_spec((at, decided if decided != DATA1 or value < 0x100 else
                                         DATA2 if value < 0x10000 else DATA4))
                        append_value(value)
                        continue
            elif kind is Die:
                if value.unit is self and at not in special:
                    append_spec((at, REF4))
                    append_value(value)
                    continue
            elif kind is str:
                if self._plain_strings and at not in special and "\0" not in value:
                    if at == AT_name:
                        die.name = value
                    if len(value) < self._inline_below and value.isascii():
                        append_spec((at, STRING))    # shorter inline than as an offset
                        append_value(value.encode() + b"\0")
                        continue
                    offset = self.program.strings.add(value)
                    if offset < self._offset_limit:
                        append_spec((at, STRP))
                        append_value(offset)
                        continue
            elif kind is Expr:
                if self._exprloc and value.simple is not None:
                    append_spec((at, EXPRLOC))
                    append_value(self._intern_block(bytes(value.simple)))
                    continue
            elif kind is Address:
                if value.symbol is None and self._plain_addresses and 0 <= value.offset < self._address_room:
                    append_spec((at, ADDR))
                    append_value(value.offset)
                    continue
            elif kind is bool:
                if value and self._exprloc and at not in special:   # DWARF 4+: a true flag takes no bytes
                    append_spec((at, FLAG_PRESENT))
                    append_value(None)
                    continue
            if value is None:
                continue
            form, stored = choose(self, die, at, value)
            append_spec((at, form, stored) if form == IMPLICIT_CONST else (at, form))
            append_value(stored)
        die.specs = self.program.intern_specs(specs, die)

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
        die.specs = self.program.intern_specs(specs, die)

    def file(self, name: str, directory: str | int = 0) -> int:
        """The file index of ``name`` for ``DW_AT_decl_file`` and line rows."""
        raise DescriptionError(f"{self.label()}: has no line program, so file {name!r} has no index; give the "
                               f"number")

    def label(self) -> str:
        name = self.root.name
        return f'{self.short} "{name}"' if name is not None else self.short

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label()}>"

    # -- encoding ---------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Adds the attributes that depend on the rest of the program (stmt_list, bases) before encoding."""
        program = self.program
        enc = self.encoding
        extra: list[tuple[tuple, Any]] = []
        offset_form = F.SEC_OFFSET if enc.version >= 4 else (F.DATA8 if enc.offset_size == 8 else F.DATA4)
        if self.uses_str_offsets:
            extra.append(((names.ATTRIBUTES["str_offsets_base"], F.SEC_OFFSET), program.str_offsets_base))
        if self.uses_addr:
            extra.append(((names.ATTRIBUTES["addr_base"], F.SEC_OFFSET), program.addr_base))
        if self.uses_rnglists:
            extra.append(((names.ATTRIBUTES["rnglists_base"], F.SEC_OFFSET), program.rnglists_base))
        if self.uses_loclists:
            extra.append(((names.ATTRIBUTES["loclists_base"], F.SEC_OFFSET), program.loclists_base))
        stmt = self.stmt_list()
        if stmt is not None:
            extra.append(((names.ATTRIBUTES["stmt_list"], offset_form), stmt))
        root = self.root
        for spec, value in extra:
            root.specs = program.intern_specs(list(root.specs) + [spec], root)
            root.values.append(value)

    def stmt_list(self) -> Any:
        return None

    def write_header(self, encoder: "UnitEncoder", buf: bytearray) -> int | None:
        """Writes the header after unit_length and version; returns where a type_offset must be patched."""
        enc = self.encoding
        order = enc.byteorder
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

    def __init__(self, program: "DwarfBuilder", name: str, attributes: dict[str, Any],
                 line_options: dict[str, Any]) -> None:
        comp_dir = attributes.get("comp_dir")
        self.line = LineProgram(program.encoding, comp_dir=comp_dir if isinstance(comp_dir, str) else "",
                                name=name, **line_options)
        """The unit's line program: ``cu.line.sequence(Address("main")).row(0, 3)``."""
        super().__init__(program, {"name": name, **attributes})

    def file(self, name: str, directory: str | int = 0) -> int:
        """The file index of ``name`` (in ``directory``, a path or an index) for decl_file and line rows."""
        if name == self.line.name and directory in (0, self.line.comp_dir):
            return self.line.primary_file
        if isinstance(directory, str):
            directory = self.line.add_directory(directory)
        return self.line.add_file(name, directory)

    def stmt_list(self) -> Any:
        return self.program.line_offset(self)

    def release(self) -> None:
        """Drops the DIE tree and the line rows after emission."""
        super().release()
        self.line.sequences = []

    def address_ranges(self) -> list[tuple[Any, int]]:
        """(start, length) pairs for .debug_aranges, from low_pc/high_pc or DW_AT_ranges of the root."""
        root = self.root
        low = root.get("low_pc")
        high = root.get("high_pc")
        low = as_address(low) if low is not None else None
        ranges = root.get("ranges")
        if ranges is not None:
            return [(start, length) for start, length in ranges.entries if length]
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

    def __init__(self, program: "DwarfBuilder", signature: int, attributes: dict[str, Any]) -> None:
        if not 0 <= signature < 1 << 64:
            raise DescriptionError(f"type unit signature {signature:#x} does not fit 8 bytes")
        if program.encoding.version < 4:
            raise DescriptionError(f"type units need DWARF 4 or later (this is DWARF {program.encoding.version})")
        self.signature = signature
        self.type_die: Die | None = None
        super().__init__(program, attributes)

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
