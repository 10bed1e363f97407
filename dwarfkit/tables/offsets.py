"""A section offset known late: the value of a ``sec_offset`` attribute that points into another section.

The unit bases (``DW_AT_str_offsets_base``, ``addr_base``, ``rnglists_base``, ``loclists_base``) and a compile unit's
``DW_AT_stmt_list`` are such offsets; list bases are filled in only when the builder emits, so the unit encoder
patches them late. Imports nothing of dwarfkit.
"""
from __future__ import annotations

from typing import Any


class SectionOffset:
    """An offset into another section, as the value of a sec_offset attribute; None while not final."""

    __slots__ = ("section", "value", "final")

    def __init__(self, section: str, value: int | None = None, final: Any = None) -> None:
        self.section, self.value, self.final = section, value, final

    def place(self) -> int | None:
        return self.value

    def section_name(self) -> str:
        return self.section
