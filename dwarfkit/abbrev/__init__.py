"""Abbreviation declarations, derived from the DIEs and shared.

A declaration is keyed by ``(tag, has_children, specs)`` where ``specs`` is a tuple of ``(attribute, form)`` pairs, or
``(attribute, DW_FORM_implicit_const, value)`` triples. Identical declarations get one code, across every unit that
uses the table; codes are handed out in first-use order, so the output is deterministic.

One :class:`AbbrevTable` serves every unit of a program (:class:`~dwarfkit.tables.shared.SharedTables` holds it);
the unit encoder asks it for a code the first time an abbreviation is used, and the builder asks it for
``.debug_abbrev`` when it emits. Imports only the foundations (``encoding`` for LEB128, ``sections``).
"""
from __future__ import annotations

from ..encoding import sleb128, uleb128
from ..sections import Section

DW_FORM_implicit_const = 0x21

AbbrevKey = tuple  # (tag, has_children, specs)


class AbbrevTable:
    """One ``.debug_abbrev`` contribution, shared by the units that point at it."""

    __slots__ = ("codes", "_keys")

    def __init__(self) -> None:
        self.codes: dict[AbbrevKey, int] = {}
        self._keys: list[AbbrevKey] = []

    def code(self, key: AbbrevKey) -> int:
        """The code of declaration ``key``, declaring it the first time."""
        code = self.codes.get(key)
        if code is None:
            self._keys.append(key)
            code = self.codes[key] = len(self._keys)
        return code

    def __len__(self) -> int:
        return len(self._keys)

    def encode(self) -> bytes:
        out = bytearray()
        for code, (tag, has_children, specs) in enumerate(self._keys, 1):
            out += uleb128(code)
            out += uleb128(tag)
            out.append(1 if has_children else 0)
            for spec in specs:
                out += uleb128(spec[0])
                out += uleb128(spec[1])
                if spec[1] == DW_FORM_implicit_const:
                    out += sleb128(spec[2])
            out += b"\0\0"
        out.append(0)
        return bytes(out)

    def to_section(self) -> Section:
        return Section(".debug_abbrev", bytearray(self.encode()))
