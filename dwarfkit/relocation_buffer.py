"""Relocations stored compactly while a section is encoded, turned into :class:`Relocation` objects on demand.

A large program has a relocation for nearly every reference and string offset; building a million ``Relocation``
objects costs more than encoding the DIEs, and nobody needs them when the addresses are final. So a section keeps
them in arrays and builds the list the first time ``section.relocations`` is read.

Most fields hold their own addend (a reference, a string offset; see :mod:`dwarfkit.sections`): those are stored as
one integer, ``position << 8 | class``, where the class names (size, kind, target) and the addend is read back from
the section bytes. Others (symbol addresses) keep every part.
"""
from __future__ import annotations

from array import array

from .sections import Relocation, RelocKind, Section

KINDS = (RelocKind.ENTRY, RelocKind.UNIT, RelocKind.SECTION, RelocKind.ADDRESS, RelocKind.PCREL,
         RelocKind.TLS_OFFSET)
ENTRY, UNIT, SECTION, ADDRESS, PCREL, TLS_OFFSET = range(6)


class RelocationBuffer:
    """The relocations of one section: packed self-describing fields plus full records."""

    __slots__ = ("packed", "classes", "_class_ids", "offsets", "shapes", "targets", "addends")

    def __init__(self) -> None:
        self.packed = array("Q")                 # position << 8 | class
        self.classes: list[tuple[int, int, str]] = []
        self._class_ids: dict[tuple[int, int, str], int] = {}
        self.offsets = array("Q")
        self.shapes = array("B")                 # size | kind << 4
        self.targets: list[str] = []
        self.addends = array("q")

    def class_id(self, size: int, kind: int, target: str) -> int:
        """The class of fields of ``size`` bytes, ``kind``, against ``target`` whose bytes hold the addend."""
        key = (size, kind, target)
        cid = self._class_ids.get(key)
        if cid is None:
            cid = self._class_ids[key] = len(self.classes)
            if cid > 255:
                raise OverflowError("more than 256 relocation classes")
            self.classes.append(key)
        return cid

    def add(self, offset: int, size: int, kind: int, target: str, addend: int) -> None:
        self.offsets.append(offset)
        self.shapes.append(size | kind << 4)
        self.targets.append(target)
        self.addends.append(addend)

    def __len__(self) -> int:
        return len(self.offsets) + len(self.packed)

    def build(self, data: bytes | bytearray, byteorder: str) -> list[Relocation]:
        out = [Relocation(offset, shape & 15, KINDS[shape >> 4], target, addend)
               for offset, shape, target, addend in zip(self.offsets, self.shapes, self.targets, self.addends,
                                                        strict=True)]
        classes = [(size, KINDS[kind], target) for size, kind, target in self.classes]
        for word in self.packed:
            pos = word >> 8
            size, kind, target = classes[word & 255]
            out.append(Relocation(pos, size, kind, target,
                                  int.from_bytes(data[pos:pos + size], byteorder)))  # type: ignore[arg-type]
        return out


class BufferedSection(Section):
    """A Section whose relocations are materialised from a RelocationBuffer when first read."""

    def __init__(self, name: str, data: bytearray, buffer: RelocationBuffer, byteorder: str,
                 alignment: int = 1) -> None:
        self._buffer: RelocationBuffer | None = buffer
        self._byteorder = byteorder
        super().__init__(name, data, [], alignment)

    @property
    def relocations(self) -> list[Relocation]:
        if self._buffer is not None:
            built = self.__dict__.get("_relocations", []) + self._buffer.build(self.data, self._byteorder)
            built.sort(key=lambda r: r.offset)
            self.__dict__["_relocations"] = built
            self._buffer = None
        return self.__dict__["_relocations"]

    @relocations.setter
    def relocations(self, value: list[Relocation]) -> None:
        self.__dict__["_relocations"] = list(value)
