"""The symbol table of a rewritten COFF object or PE image: the input's, with section numbers moved to the output's.

Every input symbol keeps its index, so the relocations of the sections a rewrite keeps (``.text``, ``.pdata`` ...),
weak-external and function records, the ``.file`` chain and clang's ``.llvm_addrsig`` (a list of symbol indices) all
stay valid byte for byte. What changes:

* a symbol in a kept section gets the section's new number, and so does the Number of its section definition
  record (the associated section of an associative COMDAT; LLVM writes the section's own number there);
* the first section symbol of a dropped debug section becomes the section symbol of the new section of the same name
  (value 0, its definition record refilled with the new length and relocation count); any other symbol in a dropped
  debug section (linked images keep one per input object, at that object's offset) becomes an absolute symbol of
  value 0 with its auxiliary records cleared, and no relocation can name it any more;
* new debug sections without such a symbol get a static section symbol with a definition record, appended after the
  input's symbols, as MinGW's ``as`` writes one for every section.
"""
from __future__ import annotations

import struct

from dwarfkit.errors import ContainerError

from . import constants as C
from . import records
from .input_file import InputFile, InputSymbol

IMAGE_COMDAT_SELECT_ASSOCIATIVE = 5
_VALUE, _SECTION_NUMBER = 8, 12
_AUX_LENGTH, _AUX_RELOCATIONS, _AUX_NUMBER, _AUX_SELECTION = 0, 4, 12, 14


class SymbolEditor:
    def __init__(self, f: InputFile, numbers: dict[int, int], new_sections: dict[str, int],
                 strings: records.StringTable) -> None:
        """``numbers``: input section number -> output number for the kept sections; ``new_sections``: name ->
        output number of the new debug sections; ``strings``: the output string table (names of appended
        symbols go there)."""
        self.f = f
        self.strings = strings
        self.table = bytearray(f.symbol_records())
        self.section_symbol: dict[int, int] = {}
        """Output section number -> index of its section symbol."""
        self._by_name: dict[str, list[int]] = {}
        self.in_debug_sections: set[int] = set()
        """Indices of the input's symbols that were in a (dropped) debug section."""
        for sym in f.symbols:
            self._move(sym, numbers, new_sections)

    @property
    def count(self) -> int:
        return len(self.table) // C.SYMBOL_SIZE

    def _move(self, sym: InputSymbol, numbers: dict[int, int], new_sections: dict[str, int]) -> None:
        if sym.storage == C.IMAGE_SYM_CLASS_FILE:
            return
        if sym.section <= 0:
            self._by_name.setdefault(sym.name, []).append(sym.index)
            return
        old = self.f.sections[sym.section - 1]
        is_definition = sym.is_section_definition(self.f.sections)
        if not old.is_debug:
            number = numbers[sym.section]
            self._set(sym.index, _SECTION_NUMBER, "h", number)
            if is_definition:
                self.section_symbol.setdefault(number, sym.index)
                self._renumber_association(sym, numbers)
            self._by_name.setdefault(sym.name, []).append(sym.index)
            return
        self.in_debug_sections.add(sym.index)
        target = new_sections.get(old.name)
        if target is not None and is_definition and target not in self.section_symbol:
            self.section_symbol[target] = sym.index
            self._set(sym.index, _SECTION_NUMBER, "h", target)
            self._set(sym.index, _VALUE, "I", 0)
            self._by_name.setdefault(sym.name, []).append(sym.index)
            return
        self._set(sym.index, _SECTION_NUMBER, "h", C.IMAGE_SYM_ABSOLUTE)
        self._set(sym.index, _VALUE, "I", 0)
        start = (sym.index + 1) * C.SYMBOL_SIZE
        self.table[start:start + sym.aux * C.SYMBOL_SIZE] = bytes(sym.aux * C.SYMBOL_SIZE)

    def _renumber_association(self, sym: InputSymbol, numbers: dict[int, int]) -> None:
        # The Number of a section definition is the associated section of an associative COMDAT; LLVM writes the
        # section's own number there for every section, so any number of a kept section moves with it.
        aux = (sym.index + 1) * C.SYMBOL_SIZE
        number = int.from_bytes(self.table[aux + _AUX_NUMBER:aux + _AUX_NUMBER + 2], "little")
        if number in numbers:
            self._set(sym.index + 1, _AUX_NUMBER, "H", numbers[number])
        elif self.table[aux + _AUX_SELECTION] == IMAGE_COMDAT_SELECT_ASSOCIATIVE:
            raise self.f.fail(f"COMDAT section {sym.name} (symbol {sym.index}) is associated with section "
                              f"{number}, which is a debug section or does not exist")

    def _set(self, index: int, field: int, fmt: str, value: int) -> None:
        struct.pack_into("<" + fmt, self.table, index * C.SYMBOL_SIZE + field, value)

    def lookup(self, name: str, where: str) -> int | None:
        """The index of the one symbol called ``name`` (None if there is none); ambiguous names are an error, as
        a relocation against the wrong one would silently be wrong DWARF."""
        found = self._by_name.get(name, [])
        if len(found) > 1:
            raise ContainerError(f"{where}: relocation against {name!r}, which names {len(found)} symbols of "
                                 f"{self.f.path} (indices {', '.join(map(str, found[:5]))})")
        return found[0] if found else None

    def section_symbol_for(self, number: int, name: str) -> int:
        """The section symbol of output section ``number``, appended (with a definition record) if it has none."""
        index = self.section_symbol.get(number)
        if index is None:
            index = self.section_symbol[number] = self.count
            self.table += records.symbol(name, self.strings, 0, number, C.IMAGE_SYM_TYPE_NULL,
                                         C.IMAGE_SYM_CLASS_STATIC, 1)
            self.table += bytes(C.SYMBOL_SIZE)
        return index

    def define_section(self, number: int, name: str, length: int, relocations: int) -> None:
        """Fills the definition record of section ``number``'s symbol, if it has one (length, relocation count; no
        checksum or COMDAT selection: debug sections are not COMDAT here)."""
        index = self.section_symbol.get(number)
        if index is not None:
            start = (index + 1) * C.SYMBOL_SIZE
            self.table[start:start + C.SYMBOL_SIZE] = records.section_definition_aux(name, length, relocations)

    def encode(self) -> bytes:
        return bytes(self.table)
