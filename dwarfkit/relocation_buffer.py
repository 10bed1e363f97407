"""Relocations stored compactly while a section is encoded, turned into :class:`Relocation` objects on demand.

A large program has a relocation for nearly every reference and string offset; building a million ``Relocation``
objects costs more than encoding the DIEs, and nobody needs them when the addresses are final. The section keeps them
in arrays and builds the list the first time ``section.relocations`` is read.
"""
from __future__ import annotations

from array import array

from .sections import Relocation, RelocKind, Section

KINDS = (RelocKind.ENTRY, RelocKind.UNIT, RelocKind.SECTION, RelocKind.ADDRESS, RelocKind.PCREL)
ENTRY, UNIT, SECTION, ADDRESS, PCREL = range(5)


class RelocationBuffer:
    """Parallel arrays: offset, size and kind, target, addend."""

    __slots__ = ("offsets", "shapes", "targets", "addends")

    def __init__(self) -> None:
        self.offsets = array("Q")
        self.shapes = array("B")        # size | kind << 4
        self.targets: list[str] = []
        self.addends = array("q")

    def add(self, offset: int, size: int, kind: int, target: str, addend: int) -> None:
        self.offsets.append(offset)
        self.shapes.append(size | kind << 4)
        self.targets.append(target)
        self.addends.append(addend)

    def __len__(self) -> int:
        return len(self.offsets)

    def build(self) -> list[Relocation]:
        return [Relocation(offset, shape & 15, KINDS[shape >> 4], target, addend)
                for offset, shape, target, addend in zip(self.offsets, self.shapes, self.targets, self.addends)]


class BufferedSection(Section):
    """A Section whose relocations are materialised from a RelocationBuffer when first read."""

    def __init__(self, name: str, data: bytearray, buffer: RelocationBuffer, extra: list[Relocation] | None = None,
                 alignment: int = 1) -> None:
        self._buffer: RelocationBuffer | None = buffer
        self._extra = extra or []
        super().__init__(name, data, [], alignment)

    @property  # type: ignore[override]
    def relocations(self) -> list[Relocation]:
        if self._buffer is not None:
            built = self.__dict__.get("_relocations", []) + self._buffer.build() + self._extra
            built.sort(key=lambda r: r.offset)
            self.__dict__["_relocations"] = built
            self._buffer = None
        return self.__dict__["_relocations"]

    @relocations.setter
    def relocations(self, value: list[Relocation]) -> None:
        self.__dict__["_relocations"] = list(value)
