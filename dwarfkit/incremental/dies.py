"""The unit's DIEs through the ordinary model: a :class:`~dwarfkit.program.DwarfBuilder` compile unit whose
functions are encoded one subtree at a time (:meth:`dwarfkit.info.encode.UnitEncoder.encode_subtree`).

:class:`UnitDies` owns the builder, its compile unit (root and unit-level types: the unit's head) and the encoder.
A function's fragment is its ``DW_TAG_subprogram`` subtree built with ``Unit.die`` like any other DIE (forms chosen
by the value, names in the shared ``.debug_str``, abbreviations interned in the shared table), encoded at its slot's
offset, then detached from the root so that the tree does not keep every function ever written. References out of
a fragment go to unit-level DIEs laid out in the head, whose offsets never change.

The shared tables are append-only: a string or an abbreviation, once given an offset or a code, keeps it, so the
writer patches ``.debug_str`` and ``.debug_abbrev`` by appending. A writer restored from a snapshot makes its tables
again from the sections' bytes (:meth:`UnitDies.__init__` with ``strings`` and ``abbrevs``), so that the codes and
offsets stay those of the file.
"""
from __future__ import annotations

from ..address import Address
from ..encoding import decode_uleb128
from ..errors import DescriptionError
from ..expr import Expr
from ..info import forms as F
from ..info.die import Die
from ..info.encode import UnitEncoder
from ..info.unit import CompileUnit
from ..names import ATTRIBUTES
from ..program import DwarfBuilder
from ..relocation_buffer import RelocationBuffer
from ..strings import StringTable
from ..tables.offsets import SectionOffset
from .fragments import ENCODING, PADDING, RANGES_LIST
from .model import Block, Function, UnitInfo, Variable

_DW_FORM_implicit_const = 0x21


class _AbbrevTable:
    """Names the place of an error in a declaration read back from ``.debug_abbrev``."""

    def error(self, attribute: int, message: str) -> Exception:
        return DescriptionError(f".debug_abbrev: attribute {attribute:#x} {message}")


_TABLE = _AbbrevTable()


class UnitDies:
    """The unit's head (header, root, types) and each function's DIE subtree, through the ordinary encoder."""

    def __init__(self, unit: UnitInfo, strings: bytes = b"", abbrevs: bytes = b"") -> None:
        self.builder = dw = DwarfBuilder(ENCODING)
        self.strings = StringTable()
        if strings:
            self.strings.preload(strings)
        dw.strings = self.strings
        # (specs interned as the DIEs' are: the table's keys match by identity)
        for tag, children, specs in parse_abbrevs(abbrevs) or PADDING:
            dw.tables.abbrevs.code((tag, children, dw.tables.intern_specs(list(specs), _TABLE)))
        self.cu: CompileUnit = dw.compile_unit(unit.name, comp_dir=unit.comp_dir, producer=unit.producer,
                                               language=unit.language, low_pc=Address(None, 0))
        self.cu.has_line_program = False  # stmt_list is the writer's: its one program at offset 0
        root = self.cu.root
        root.specs = dw.tables.intern_specs(list(root.specs) + [(ATTRIBUTES["ranges"], F.SEC_OFFSET),
                                                                (ATTRIBUTES["stmt_list"], F.SEC_OFFSET)], root)
        root.values.append(SectionOffset(".debug_ranges", RANGES_LIST))
        root.values.append(SectionOffset(".debug_line", 0))
        long_t = self.cu.base_type("long", 8, "signed")
        self.types: dict[str, Die] = {"long": long_t, "pointer": self.cu.pointer_type(long_t, 8)}
        self._encoder = UnitEncoder(dw.tables, ".debug_info", bytearray(), RelocationBuffer())
        self._encoder.encode_unit(self.cu)
        self.head = bytes(self._encoder.data[:-1])  # the root's children run on: the functions follow
        """Unit header, root DIE and the type DIEs (unit_length as a whole write would give it)."""

    def encode(self, die: Die, at: int) -> bytes:
        """``die`` (a child of the unit's root) encoded at section offset ``at``, then detached from the root."""
        try:
            return self._encoder.encode_subtree(die, at, 0)
        finally:
            children = self.cu.root.children
            if children and children[-1] is die:
                children.pop()
            self._encoder.relocs.clear()  # values are final in the bytes: an executable's, a dSYM's, an image's

    def function(self, fn: Function, at: int) -> bytes:
        """The convenience model's function as general DIEs, encoded at ``at``."""
        return self.encode(function_die(self.cu, self.types, fn), at)

    def abbrev_section(self) -> bytes:
        return self.builder.tables.abbrevs.encode()


def function_die(cu: CompileUnit, types: dict[str, Die], fn: Function) -> Die:
    """A :class:`Function` of the convenience model as the ``DW_TAG_subprogram`` any front end would build."""
    sub = cu.die("subprogram", external=True, name=fn.name, decl_file=1, decl_line=fn.line, type=types["long"],
                 low_pc=fn.address, high_pc=fn.size, frame_base=Expr().op("call_frame_cfa"))
    _scope(sub, types, fn.address, fn.variables, fn.blocks)
    return sub


def _scope(parent: Die, types: dict[str, Die], address: int, variables: tuple[Variable, ...],
           blocks: tuple[Block, ...]) -> None:
    for v in variables:
        parent.die("formal_parameter" if v.parameter else "variable", name=v.name, decl_file=1, decl_line=v.line,
                   type=types[v.type], location=Expr().fbreg(v.frame_offset))
    for b in blocks:
        block = parent.die("lexical_block", low_pc=address + b.low, high_pc=b.high - b.low)
        _scope(block, types, address, b.variables, b.blocks)


def parse_abbrevs(data: bytes) -> list[tuple]:
    """The declarations of an abbreviation table in code order, as :class:`~dwarfkit.abbrev.AbbrevTable` keys.
    Raises DescriptionError on a table the writer cannot have written (codes not 1, 2, 3, ...)."""
    keys: list[tuple] = []
    pos = 0
    try:
        while pos < len(data):
            code, pos = decode_uleb128(data, pos)
            if code == 0:
                break
            if code != len(keys) + 1:
                raise DescriptionError(f".debug_abbrev: code {code} where {len(keys) + 1} was expected")
            tag, pos = decode_uleb128(data, pos)
            children = data[pos] == 1
            pos += 1
            specs: list[tuple] = []
            while True:
                at, pos = decode_uleb128(data, pos)
                form, pos = decode_uleb128(data, pos)
                if at == 0 and form == 0:
                    break
                if form == _DW_FORM_implicit_const:
                    raise DescriptionError(".debug_abbrev: implicit_const is not written by the incremental writer")
                specs.append((at, form))
            keys.append((tag, children, tuple(specs)))
    except IndexError:
        raise DescriptionError(".debug_abbrev: truncated declaration") from None
    return keys
