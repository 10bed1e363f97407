"""The data a ``DwarfView`` is made of (see ``dwarfdump_view``): plain, comparable, readable in messages."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Union


class Address(NamedTuple):
    """An address as llvm-dwarfdump resolves it: the number and, in objects and some images, the section."""
    value: int
    section: str = ""

    def __repr__(self) -> str:
        return f"0x{self.value:x}" + (f" {self.section}" if self.section else "")


class Ref(NamedTuple):
    """A reference to a DIE, by that DIE's path (``cu "a.c" / structure_type "point"``)."""
    path: str

    def __repr__(self) -> str:
        return f"-> {self.path}"


class Entry(NamedTuple):
    """One entry of a range or location list, resolved: [low, high) and, for a location list, the expression
    (``low``/``high`` are None for a default location; ``text`` keeps an entry llvm-dwarfdump prints otherwise)."""
    low: Address | None
    high: Address | None
    expr: str | None = None
    text: str | None = None

    def __repr__(self) -> str:
        if self.text is not None:
            return self.text
        where = f"[{self.low!r}, {self.high!r})" if self.low is not None else "<default>"
        return where + (f": {self.expr}" if self.expr is not None else "")


Value = Union[str, int, bool, Address, Ref, tuple, None]


class DieNode(NamedTuple):
    """(tag, [(attribute name, resolved value)], children); ``label`` is its step of the path
    (``subprogram "area"``, ``lexical_block``, ``variable "i" #2`` for the second sibling of that name)."""
    tag: str
    attributes: tuple[tuple[str, Value], ...]
    children: tuple[DieNode, ...]
    label: str


@dataclass
class UnitView:
    label: str
    header: dict[str, object]
    die: DieNode | None


class Row(NamedTuple):
    address: int
    line: int
    column: int
    file: str
    is_stmt: bool
    basic_block: bool
    end_sequence: bool
    prologue_end: bool
    epilogue_begin: bool
    isa: int
    discriminator: int

    def __repr__(self) -> str:
        flags = [f for f in ("is_stmt", "basic_block", "end_sequence", "prologue_end", "epilogue_begin")
                 if getattr(self, f)]
        return (f"(0x{self.address:x} {self.file}:{self.line}:{self.column} isa={self.isa} "
                f"discriminator={self.discriminator} {' '.join(flags)})")


class FrameEntry(NamedTuple):
    """One FDE: its section, pc range, CIE properties and unwind rows."""
    section: str
    pc: tuple[int, int]
    cie: tuple[str, ...]
    rows: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.section} FDE pc=0x{self.pc[0]:x}..0x{self.pc[1]:x}"


@dataclass
class DwarfView:
    """The meaning of one file's DWARF (see the module docstring). ``lines`` maps a unit's label to its line
    table's sequences; ``unparsed`` lists llvm-dwarfdump lines this parser did not understand (a test keeps it
    empty on the corpus, so a new layout is noticed instead of silently ignored)."""
    path: Path
    units: list[UnitView] = field(default_factory=list)
    lines: dict[str, list[tuple[Row, ...]]] = field(default_factory=dict)
    frames: list[FrameEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
