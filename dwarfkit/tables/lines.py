"""``.debug_line`` of a program: every compile unit's line program, appended when its unit is finished.

The offset where a unit's program starts is the unit's ``DW_AT_stmt_list``. DWARF 5 paths go to ``.debug_line_str``
unless the builder was made with ``line_strings=False`` (then inline, and the unit's name in ``.debug_str``).
Imports the foundations and, for its type only, :class:`dwarfkit.line.LineProgram`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..encoding import Encoding
from ..sections import Section
from ..strings import StringTable
from ..writer import SectionWriter
from .offsets import SectionOffset

if TYPE_CHECKING:
    from ..line import LineProgram


class LineTable:
    """The ``.debug_line`` section being written, with the string tables its headers use."""

    def __init__(self, encoding: Encoding, line_strings: StringTable | None, strings: StringTable) -> None:
        self.writer = SectionWriter(".debug_line", encoding)
        self.line_strings = line_strings
        self.strings = strings

    def add(self, program: "LineProgram") -> SectionOffset:
        """Emits ``program`` into ``.debug_line``; its offset is the unit's DW_AT_stmt_list."""
        return SectionOffset(".debug_line", program.emit(self.writer, self.line_strings, self.strings))

    def to_section(self) -> Section | None:
        """The section, or None when no unit had a line program."""
        return self.writer.section if len(self.writer.data) else None
