"""A container-neutral program image: code and data sections, symbols, and the emitted DWARF.

Every backend takes an :class:`Image` and writes it in its container (ELF, Mach-O, COFF/PE). Nothing here knows a
container; section names use ELF spelling (``.text``) and backends map them.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .arch import Arch
from .errors import DescriptionError
from .sections import DwarfSections, Relocation


class SectionKind(enum.Enum):
    CODE = "code"
    DATA = "data"
    RODATA = "rodata"
    BSS = "bss"


class SymbolKind(enum.Enum):
    FUNCTION = "function"
    OBJECT = "object"
    NOTYPE = "notype"


@dataclass
class ContentSection:
    """Code or data. A BSS section has ``size`` and no bytes."""

    name: str
    kind: SectionKind
    data: bytes = b""
    alignment: int = 16
    size: int | None = None
    relocations: list[Relocation] = field(default_factory=list)
    """ADDRESS and PCREL fields in code or data that refer to symbols."""

    @property
    def byte_size(self) -> int:
        return self.size if self.size is not None else len(self.data)


@dataclass
class Symbol:
    name: str
    section: str | None
    """Name of the defining section; None for an undefined (external) symbol."""
    value: int = 0
    """Offset inside the section."""
    size: int = 0
    kind: SymbolKind = SymbolKind.FUNCTION
    is_global: bool = True


@dataclass
class Image:
    arch: Arch
    sections: list[ContentSection] = field(default_factory=list)
    symbols: list[Symbol] = field(default_factory=list)
    dwarf: DwarfSections | None = None
    entry: str | None = None
    """Entry symbol, for executables."""

    def section(self, name: str) -> ContentSection:
        for s in self.sections:
            if s.name == name:
                return s
        raise DescriptionError(f"image has no section {name!r}")

    def symbol(self, name: str) -> Symbol:
        for s in self.symbols:
            if s.name == name:
                return s
        raise DescriptionError(f"image has no symbol {name!r}")

    def validate(self) -> None:
        """Checks that symbols lie inside their sections and names are unique."""
        names = {s.name for s in self.sections}
        if len(names) != len(self.sections):
            raise DescriptionError("image has two sections of the same name")
        seen: set[str] = set()
        for sym in self.symbols:
            if sym.name in seen:
                raise DescriptionError(f"symbol {sym.name!r} is defined twice")
            seen.add(sym.name)
            if sym.section is None:
                continue
            if sym.section not in names:
                raise DescriptionError(f"symbol {sym.name!r} refers to missing section {sym.section!r}")
            size = self.section(sym.section).byte_size
            if not 0 <= sym.value <= size or sym.value + sym.size > size:
                raise DescriptionError(f"symbol {sym.name!r} [{sym.value:#x}, {sym.value + sym.size:#x}) lies outside "
                                       f"section {sym.section} of size {size:#x}")
