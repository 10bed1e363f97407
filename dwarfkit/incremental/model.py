"""What an incremental writer describes: its entries (functions, and DIEs of the unit without code) with their line
rows, and the one unit they live in.

An entry's DIEs are either a ``DW_TAG_subprogram`` made from ``variables`` and ``blocks`` (a convenience: dies.py
builds it with ``Unit.die`` like any front end would) or ``dies``, any subtree of the ordinary model as the JSON of
tree.py. Values are plain and immutable so that the writer can keep them as its state and the journal can store
them as JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from elftools.dwarf.enums import ENUM_DW_LANG

TYPES = ("long", "pointer")
"""The unit's types a variable can have (the unit defines them once, ahead of every function)."""


@dataclass(frozen=True)
class Variable:
    name: str
    line: int
    type: str = "long"
    """One of :data:`TYPES`."""
    frame_offset: int = -24
    """``DW_OP_fbreg`` operand: where the variable lives relative to the frame base (the CFA)."""
    parameter: bool = False


@dataclass(frozen=True)
class Block:
    """A lexical block: ``[low, high)`` offsets from the function's address, its variables and nested blocks."""

    low: int
    high: int
    variables: tuple[Variable, ...] = ()
    blocks: tuple[Block, ...] = ()

    def shifted(self, delta: int) -> Block:
        return Block(self.low, self.high, _shift(self.variables, delta), tuple(b.shifted(delta) for b in self.blocks))

    def to_json(self) -> list[Any]:
        return [self.low, self.high, [_variable_json(v) for v in self.variables], [b.to_json() for b in self.blocks]]

    @staticmethod
    def from_json(d: list[Any]) -> Block:
        low, high, variables, blocks = d
        return Block(low, high, tuple(Variable(*v) for v in variables), tuple(Block.from_json(b) for b in blocks))


@dataclass(frozen=True)
class Function:
    """One entry of the unit: its name (the writer's key), its code (none: ``size`` 0, a type or an abstract
    instance), its first line and its DIEs."""

    name: str
    address: int
    size: int
    line: int
    """First line (``DW_AT_decl_line``)."""
    rows: tuple[tuple[int, int], ...] = ()
    """``(offset from address, line)`` line rows, offsets ascending and below ``size``."""
    variables: tuple[Variable, ...] = ()
    blocks: tuple[Block, ...] = ()
    """Lexical blocks directly inside the function, ascending and not overlapping."""
    dies: str = ""
    """The entry's DIE subtree in the JSON of :mod:`.tree` (then ``variables`` and ``blocks`` are empty)."""

    def moved(self, address: int) -> Function:
        return Function(self.name, address, self.size, self.line, self.rows, self.variables, self.blocks,
                        _shift_tree(self.dies, address - self.address, 0))

    def shifted(self, line: int) -> Function:
        """The same function ``line - self.line`` lines further down the source: every line moves with it."""
        delta = line - self.line
        return Function(self.name, self.address, self.size, line, tuple((o, ln + delta) for o, ln in self.rows),
                        _shift(self.variables, delta), tuple(b.shifted(delta) for b in self.blocks),
                        _shift_tree(self.dies, 0, delta))

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "address": self.address, "size": self.size, "line": self.line,
               "rows": [list(r) for r in self.rows], "variables": [_variable_json(v) for v in self.variables],
               "blocks": [b.to_json() for b in self.blocks]}
        if self.dies:
            out["dies"] = self.dies
        return out

    @staticmethod
    def from_json(d: dict[str, Any]) -> Function:
        return Function(d["name"], d["address"], d["size"], d["line"], tuple((o, ln) for o, ln in d["rows"]),
                        tuple(Variable(*v) for v in d["variables"]),
                        tuple(Block.from_json(b) for b in d.get("blocks", ())), d.get("dies", ""))


def _shift_tree(dies: str, address_delta: int, line_delta: int) -> str:
    if not dies or (address_delta, line_delta) == (0, 0):
        return dies
    from .tree import dumps, loads, shifted  # (tree imports the ordinary model: only entries given as DIEs need it)
    return dumps(shifted(loads(dies), address_delta, line_delta))


def _shift(variables: tuple[Variable, ...], delta: int) -> tuple[Variable, ...]:
    return tuple(Variable(v.name, v.line + delta, v.type, v.frame_offset, v.parameter) for v in variables)


def _variable_json(v: Variable) -> list[Any]:
    return [v.name, v.line, v.type, v.frame_offset, v.parameter]


@dataclass(frozen=True)
class UnitInfo:
    """The one compile unit every function belongs to."""

    name: str = "jit.c"
    comp_dir: str = "/jit"
    producer: str = "dwarfkit incremental"
    language: int = ENUM_DW_LANG["DW_LANG_C99"]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "comp_dir": self.comp_dir, "producer": self.producer, "language": self.language}


@dataclass
class Program:
    """The whole state a file describes: the unit and its functions in the order they were added."""

    unit: UnitInfo = field(default_factory=UnitInfo)
    functions: dict[str, Function] = field(default_factory=dict)
