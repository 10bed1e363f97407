"""ELF symbol tables: ``.symtab`` with its ``.strtab``, local symbols first as the format requires.

An object's section symbols (``STT_SECTION``) are the targets of its section-offset relocations (UNIT, SECTION)."""
from __future__ import annotations

import struct
from dataclasses import dataclass

from elftools.elf.enums import ENUM_SH_TYPE_BASE, ENUM_ST_INFO_BIND, ENUM_ST_INFO_TYPE

from dwarfkit.image import SymbolKind

from .elffile import ElfSection

_SYM = struct.Struct("<IBBHQQ")
STT = ENUM_ST_INFO_TYPE
STB = ENUM_ST_INFO_BIND
SYMBOL_TYPES = {SymbolKind.FUNCTION: STT["STT_FUNC"], SymbolKind.OBJECT: STT["STT_OBJECT"],
                SymbolKind.NOTYPE: STT["STT_NOTYPE"], SymbolKind.TLS: STT["STT_TLS"]}


@dataclass
class ElfSymbol:
    name: str
    value: int
    size: int
    type: int
    bind: int
    section: int
    """Section header index (0: undefined)."""


class SymbolTable:
    """Collects symbols, then lays them out with the locals first. Indices are final only after :meth:`sections`."""

    def __init__(self) -> None:
        self._symbols: list[ElfSymbol] = []

    def add(self, symbol: ElfSymbol) -> None:
        self._symbols.append(symbol)

    def ordered(self) -> list[ElfSymbol]:
        # Stable: locals keep their order, then globals keep theirs.
        return sorted(self._symbols, key=lambda s: s.bind != STB["STB_LOCAL"])

    def indices(self) -> dict[tuple[bool, str], int]:
        """Symbol table index by (is a section symbol, name); section symbols are named after their section."""
        return {(s.type == STT["STT_SECTION"], s.name): i + 1 for i, s in enumerate(self.ordered())}

    def sections(self) -> tuple[ElfSection, ElfSection]:
        """``.symtab`` and ``.strtab``."""
        strtab = bytearray(b"\0")
        symtab = bytearray(_SYM.size)  # the null symbol
        ordered = self.ordered()
        for s in ordered:
            name = 0
            if s.type != STT["STT_SECTION"]:  # section symbols take their name from the section header
                name = len(strtab)
                strtab += s.name.encode() + b"\0"
            symtab += _SYM.pack(name, (s.bind << 4) | s.type, 0, s.section, s.value, s.size)
        first_global = 1 + sum(1 for s in ordered if s.bind == STB["STB_LOCAL"])
        return (ElfSection(".symtab", ENUM_SH_TYPE_BASE["SHT_SYMTAB"], data=bytes(symtab), align=8, link=".strtab",
                           info=first_global, entsize=_SYM.size),
                ElfSection(".strtab", ENUM_SH_TYPE_BASE["SHT_STRTAB"], data=bytes(strtab)))
