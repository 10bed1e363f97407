"""Interning of attribute lists (the keys of abbreviations) and of fixed expression blocks, shared by all units.

Every DIE carries a tuple of ``(attribute, form)`` or ``(attribute, DW_FORM_implicit_const, value)`` specs; the unit
encoder looks its abbreviation up by that tuple. One :class:`Specs` object per distinct list makes that lookup hash
by identity, and an attribute given twice is refused once, when the list is first seen. Imports only the Protocol of
what can report an error (a DIE), defined here.
"""
from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """What names an error's place: a DIE (:meth:`dwarfkit.info.die.Die.error`)."""

    def error(self, attribute: int, message: str) -> Exception: ...


class Specs(tuple):
    """An interned attribute list: one object per distinct list, so it hashes by identity (abbreviation lookups
    for every DIE stay cheap)."""

    __slots__ = ()
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other


class SpecTable:
    """The attribute lists and expression blocks met so far, one shared object each."""

    def __init__(self) -> None:
        self._specs: dict[tuple, tuple] = {}
        self._blocks: dict[bytes, tuple[bytes, tuple]] = {}

    def intern(self, specs: list[tuple], die: Reporter) -> tuple:
        """One shared tuple per distinct attribute list (they key the abbreviations); checked when first seen."""
        key = tuple(specs)
        shared = self._specs.get(key)
        if shared is None:
            seen: set[int] = set()
            for spec in key:
                if spec[0] in seen:
                    raise die.error(spec[0], "given twice")
                seen.add(spec[0])
            shared = self._specs[key] = Specs(key)
        return shared

    def block(self, data: bytes) -> tuple[bytes, tuple]:
        """One shared (bytes, no relocations) value per distinct expression: most DIEs repeat a few."""
        value = self._blocks.get(data)
        if value is None:
            value = self._blocks[data] = (data, ())
        return value
