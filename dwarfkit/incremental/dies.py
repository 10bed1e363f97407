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

from typing import Any, Callable

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
from .tree import Tree, build, dumps, encode_location_list, list_offsets, loads, location_lists, preorder, to_tree

Locate = Callable[[str], tuple[Function, int]]
"""An entry's model and its ``.debug_info`` offset, by name (the writer's; DescriptionError if there is none)."""

_DW_FORM_implicit_const = 0x21
_DW_OP_nop = b"\x96"


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
        self._live: dict[str, list[Die]] = {}  # entries laid out to be referred to: their DIEs in tree order
        self._given: dict[int, tuple[str, Die]] = {}  # the caller's DIEs made into entries, by id of the top DIE

    def entry(self, die: Die, *, name: str | None, address: int, size: int, line: int,
              rows: tuple[tuple[int, int], ...]) -> Function:
        """The caller's DIE (a child of :attr:`cu`'s root, built with ``Unit.die``) as an entry named ``name`` (else
        its DW_AT_name): its subtree in the JSON of tree.py, references out of it by entry name and index."""
        if die.unit is not self.cu or die.parent is not self.cu.root:
            raise DescriptionError(f"{die.path()}: an entry must be a DIE made with this file's compile_unit.die")
        name = name if name is not None else die.name
        if not name:
            raise DescriptionError(f"{die.path()}: an entry needs a name (give name=, or DW_AT_name)")
        tree = to_tree(die, self._outside)
        children = self.cu.root.children or []
        for i in range(len(children) - 1, -1, -1):  # made by cu.die: it is no child of the unit's root in the file
            if children[i] is die:
                del children[i]
                break
        self._given[id(die)] = (name, die)
        return Function(name, address, size, line, rows, dies=dumps(tree))

    def _outside(self, target: Die) -> Any:
        top = target
        while top.parent is not None and top.parent is not self.cu.root:
            top = top.parent
        for key, die in self.types.items():
            if target is die:
                return {"t": key}
        given = self._given.get(id(top))
        if top.parent is not self.cu.root or given is None or given[1] is not top:
            raise DescriptionError(f"{target.path()}: referred to, but not in an entry of this file (add its entry "
                                   f"first)")
        return {"r": [given[0], next(i for i, d in enumerate(preorder(top)) if d is target)]}

    def fragment(self, fn: Function, at: int, lists_at: int, locate: Locate) -> bytes:
        """The entry's DIEs encoded at ``at``, its location lists laid out from ``lists_at``."""
        if not fn.dies:
            return self.function(fn, at)
        tree = loads(fn.dies)
        die = build(self.cu.root, tree, lambda raw: self._resolve(raw, locate), list_offsets(tree, lists_at))
        return self.encode(die, at)

    def forget(self, name: str) -> None:
        """The entry changed or went: DIEs referring into it find its new offsets."""
        self._live.pop(name, None)

    def _resolve(self, raw: Any, locate: Locate) -> Die:
        if "t" in raw:
            return self.types[raw["t"]]
        name, index = raw["r"]
        dies = self._live.get(name)
        if dies is None:
            fn, at = locate(name)
            if fn.dies:  # laid out for its offsets only: what it refers to and its lists do not change them
                tree: Tree = loads(fn.dies)
                top = build(self.cu.root, tree, lambda _: self.types["long"], [0] * len(list_offsets(tree, 0)))
            else:
                top = function_die(self.cu, self.types, fn)
            self.encode(top, at)
            dies = self._live[name] = preorder(top)
        if not 0 <= index < len(dies):
            raise DescriptionError(f"a reference to DIE {index} of entry {name!r}, which has {len(dies)}")
        return dies[index]

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


def location_bytes(fn: Function) -> bytes:
    """The entry's location lists, one after another (its ``.debug_loc`` slot's content)."""
    if '"loc"' not in fn.dies:
        return b""
    data = b"".join(encode_location_list(entries) for entries in location_lists(loads(fn.dies)))
    if not data:
        return b""
    # A whole number of 16-byte pieces, so that a reader walking the section (llvm-dwarfdump, dwarfkit dump) finds
    # lists and, in the zeros of slack and free room, empty lists: after the entry's lists, a list no DIE refers to
    # (debuggers never see it) with one entry of an empty range (1, 1) whose expression is k DW_OP_nop, 34 + k bytes.
    pad = -len(data) % 16
    if pad:
        k = (pad - 2) % 16
        data += (1).to_bytes(8, "little") * 2 + k.to_bytes(2, "little") + _DW_OP_nop * k + bytes(16)
    return data


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
