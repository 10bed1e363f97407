"""``.debug_str_offsets`` (DWARF 5): the strings that ``DW_FORM_strx`` attributes name by index.

Each indexed string is stored once in ``.debug_str`` (the :class:`~dwarfkit.strings.StringTable` given) and gets the
next index the first time it is used. Imports the foundations only (strings, encoding, sections, the writer).
"""
from __future__ import annotations

from ..encoding import Encoding
from ..sections import RelocKind, Section
from ..strings import StringTable
from ..writer import SectionWriter
from .offsets import SectionOffset


class StringOffsets:
    """The indexed strings of one program and the ``DW_AT_str_offsets_base`` that points at their offsets."""

    def __init__(self, encoding: Encoding, strings: StringTable) -> None:
        self.encoding = encoding
        self.strings = strings
        self._indices: dict[str, int] = {}
        # DWARF 5's table has a header; GNU split DWARF 4's (.debug_str_offsets.dwo) is the bare offsets
        self.header = encoding.version >= 5
        self.base = SectionOffset(".debug_str_offsets", encoding.initial_length_size + 4 if self.header else 0)

    def __len__(self) -> int:
        return len(self._indices)

    def index(self, text: str) -> int:
        """The index of ``text``, adding it (and its bytes in ``.debug_str``) when new."""
        index = self._indices.get(text)
        if index is None:
            self.strings.add(text)
            index = self._indices[text] = len(self._indices)
        return index

    def text_at(self, index: int) -> str:
        """The string with index ``index``."""
        for text, i in self._indices.items():   # rare (reading a loaded attribute back): no reverse table kept
            if i == index:
                return text
        raise IndexError(index)

    def to_section(self) -> Section:
        w = SectionWriter(".debug_str_offsets", self.encoding)
        if not self.header:
            for text in self._indices:
                w.offset_field(self.strings.add(text), RelocKind.SECTION, ".debug_str")
            return w.section
        start = w.begin_length()
        w.u16(5)
        w.u16(0)
        for text in self._indices:
            w.offset_field(self.strings.add(text), RelocKind.SECTION, ".debug_str")
        w.end_length(start)
        return w.section
