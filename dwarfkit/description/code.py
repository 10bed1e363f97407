"""The code a description's addresses name: its own functions, assembled, or a file compiled by someone else.

Both answer the same questions: which functions there are (start and end), where a label is, and the
:class:`~dwarfkit.Address` of ``name+N``. Assembled code and a relocatable object give symbolic addresses (relocated
when written); a linked executable gives numbers, its symbols' values.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..address import Address
from ..arch import Arch
from ..asm import Assembly
from ..errors import DescriptionError

_MACHINES = {"EM_X86_64": Arch.X86_64, "EM_AARCH64": Arch.AARCH64}


@dataclass
class Code:
    """Functions as ``name -> (start, end)`` and labels as ``name -> position``, in one address space."""

    functions: dict[str, tuple[int, int]]
    labels: dict[str, int]
    symbolic: bool = True
    """Addresses are relocations against the names (False: the numbers of a linked file)."""
    sections: dict[str, str] = field(default_factory=dict)
    """A relocatable file's symbols -> their sections (positions are offsets in them)."""

    def address(self, name: str, addend: int = 0) -> Address | None:
        """``name`` (a function or label) plus ``addend``, or None when the code has no such name."""
        position = self.labels.get(name)
        if position is None:
            return None
        if not self.symbolic:
            return Address(None, position + addend)
        function = self.function_at(name, position)
        return Address(function, position - self.functions[function][0] + addend) if function is not None \
            else Address(name, addend)

    def function_at(self, name: str, position: int) -> str | None:
        """The function a label lies in (the label itself when it names a function)."""
        if name in self.functions:
            return name
        for function, (start, end) in self.functions.items():
            if start <= position <= end and self.sections.get(function) == self.sections.get(name):
                return function
        return None

    def offset(self, function: str, label: str) -> int | None:
        """Where ``label`` (``function.label``, a label, or a symbol in the same section) lies in ``function``."""
        start = self.functions[function][0]
        for name in (f"{function}.{label}", label):
            position = self.labels.get(name)
            if position is not None and self.sections.get(name) == self.sections.get(function):
                return position - start
        return None


def assembled(assembly: Assembly) -> Code:
    return Code(dict(assembly.functions), dict(assembly.labels))


@dataclass
class CompiledFile:
    """An ELF object or executable the description's DWARF is for (``gcc -g0`` output, say)."""

    path: Path
    arch: Arch
    relocatable: bool
    code: Code
    symbols: set[str] = field(default_factory=set)
    """Every name an address in it may use (symbols, relocations' section symbols): see ``described.read_file``."""
    elf: bool = True
    """False for a Mach-O or COFF file (``described.read_file``): ``output`` names no ELF kind then."""


def read_compiled(path: str | os.PathLike[str]) -> CompiledFile:
    """The symbols of the ELF file at ``path``: functions (``STT_FUNC`` with their sizes) and every other named
    symbol as a label (asm labels, static functions and objects included)."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            arch = _MACHINES.get(elf["e_machine"])
            if arch is None:
                raise DescriptionError(f"{path}: machine {elf['e_machine']} is not x86_64 or aarch64")
            relocatable = elf["e_type"] == "ET_REL"
            functions: dict[str, tuple[int, int]] = {}
            labels: dict[str, int] = {}
            sections: dict[str, str] = {}
            symtab = elf.get_section_by_name(".symtab")
            if not isinstance(symtab, SymbolTableSection):
                raise DescriptionError(f"{path}: has no symbol table (.symtab) to name its code by")
            for symbol in symtab.iter_symbols():
                kind, index = symbol["st_info"]["type"], symbol["st_shndx"]
                if not symbol.name or kind in ("STT_SECTION", "STT_FILE") or not isinstance(index, int):
                    continue
                value = symbol["st_value"]
                labels.setdefault(symbol.name, value)
                sections.setdefault(symbol.name, elf.get_section(index).name)
                if kind == "STT_FUNC":
                    functions.setdefault(symbol.name, (value, value + symbol["st_size"]))
    except (OSError, ELFError) as error:
        raise DescriptionError(f"{path}: cannot read it as an ELF file: {error}") from None
    return CompiledFile(Path(path), arch, relocatable, Code(functions, labels, relocatable, sections))
