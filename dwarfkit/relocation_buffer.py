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
from operator import itemgetter

from .errors import RelocationError
from .sections import FIELD_SIZES, SYMBOLIC, Relocation, RelocKind, Section, check_relocations

KINDS = (RelocKind.ENTRY, RelocKind.UNIT, RelocKind.SECTION, RelocKind.ADDRESS, RelocKind.PCREL,
         RelocKind.TLS_OFFSET)
ENTRY, UNIT, SECTION, ADDRESS, PCREL, TLS_OFFSET = range(6)
_offset = itemgetter(0)
_SYMBOLIC_CODES = frozenset(code for code, kind in enumerate(KINDS) if kind in SYMBOLIC)


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

    def clear(self) -> None:
        """Forgets every field, in place (an incremental writer's fragments need their bytes only)."""
        del self.packed[:], self.offsets[:], self.shapes[:], self.targets[:], self.addends[:]

    def drop(self, start: int, end: int) -> None:
        """Forgets the fields that start in ``[start, end)`` (raw control: bytes there are written as given). In
        place: the unit encoder holds the arrays' ``append``."""
        keep = [i for i, offset in enumerate(self.offsets) if not start <= offset < end]
        if len(keep) != len(self.offsets):
            self.offsets[:] = array("Q", (self.offsets[i] for i in keep))
            self.shapes[:] = array("B", (self.shapes[i] for i in keep))
            self.targets[:] = [self.targets[i] for i in keep]
            self.addends[:] = array("q", (self.addends[i] for i in keep))
        self.packed[:] = array("Q", (w for w in self.packed if not start <= w >> 8 < end))

    def full(self) -> list[Relocation]:
        """The fields stored with every part (symbol addresses among them; packed fields are never symbolic)."""
        return [Relocation(offset, shape & 15, KINDS[shape >> 4], target, addend)
                for offset, shape, target, addend in zip(self.offsets, self.shapes, self.targets, self.addends,
                                                         strict=True)]

    def symbolic(self) -> list[Relocation]:
        """The fields against symbols (only full records can be), made into objects."""
        codes = _SYMBOLIC_CODES
        return [Relocation(offset, shape & 15, KINDS[shape >> 4], target, addend)
                for offset, shape, target, addend in zip(self.offsets, self.shapes, self.targets, self.addends,
                                                         strict=True) if shape >> 4 in codes]

    def of_kind(self, kind: RelocKind) -> list[Relocation]:
        """The full records of one kind, made into objects (packed fields are never symbolic: ask for those with
        :meth:`build`)."""
        assert kind in SYMBOLIC
        code = KINDS.index(kind)
        return [Relocation(offset, shape & 15, kind, target, addend)
                for offset, shape, target, addend in zip(self.offsets, self.shapes, self.targets, self.addends,
                                                         strict=True) if shape >> 4 == code]

    def check(self, name: str, size: int, sections: set[str] | None) -> None:
        """:func:`~dwarfkit.sections.check_relocations` of every field without making an object per field: full
        records field by field, packed ones per class (width, target) and, near the section's end, one by one."""
        codes = _SYMBOLIC_CODES
        for offset, shape, target in zip(self.offsets, self.shapes, self.targets, strict=True):
            width = shape & 15
            if width not in FIELD_SIZES or not 0 <= offset <= size - width or \
                    sections is not None and target not in sections and shape >> 4 not in codes:
                check_relocations(name, size, [Relocation(offset, width, KINDS[shape >> 4], target, 0)], sections)
        if not self.packed:
            return
        for cid, (width, kind, target) in enumerate(self.classes):
            if width in FIELD_SIZES and (sections is None or target in sections):
                continue
            # An encoder registers its classes when it is made: only a field of the class is wrong.
            first = next((w >> 8 for w in self.packed if w & 255 == cid), None)
            if first is not None:
                check_relocations(name, size, [Relocation(first, width, KINDS[kind], target, 0)], sections)
        if (max(self.packed) >> 8) + 8 <= size:
            return   # every field starts at least 8 bytes before the end
        threshold = max(size - 8, -1) << 8 | 255
        classes = self.classes
        for word in [w for w in self.packed if w > threshold]:
            pos, (width, _kind, target) = word >> 8, classes[word & 255]
            if pos + width > size:
                raise RelocationError(f"{name}+{pos:#x}: {width}-byte relocation against {target!r} lies outside "
                                      f"the section (size {size:#x})")

    def fields(self, data: bytes | bytearray, byteorder: str) -> list[tuple[int, int, RelocKind, str, int]]:
        """Every field as ``(offset, size, kind, target, addend)`` (:meth:`build` without the objects)."""
        out = [(offset, shape & 15, KINDS[shape >> 4], target, addend)
               for offset, shape, target, addend in zip(self.offsets, self.shapes, self.targets, self.addends,
                                                        strict=True)]
        classes = [(size, KINDS[kind], target) for size, kind, target in self.classes]
        for word in self.packed:
            pos = word >> 8
            size, kind, target = classes[word & 255]
            out.append((pos, size, kind, target, int.from_bytes(data[pos:pos + size], byteorder)))  # type: ignore
        return out

    def build(self, data: bytes | bytearray, byteorder: str) -> list[Relocation]:
        out = self.full()
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

    def check_relocations(self, sections: set[str] | None = None) -> None:
        buffer = self._buffer
        if buffer is None:
            return super().check_relocations(sections)
        check_relocations(self.name, len(self.data), self.__dict__.get("_relocations", []), sections)
        buffer.check(self.name, len(self.data), sections)

    def relocation_fields(self) -> list[tuple[int, int, RelocKind, str, int]]:
        if self._buffer is None:
            return super().relocation_fields()
        fields = [(r.offset, r.size, r.kind, r.target, r.addend) for r in self.__dict__.get("_relocations", [])] + \
            self._buffer.fields(self.data, self._byteorder)
        fields.sort(key=_offset)   # as relocations are ordered (stable: fields at one offset keep their order)
        return fields

    def relocations_of(self, kind: RelocKind) -> list[Relocation]:
        if self._buffer is None or kind not in SYMBOLIC:   # packed fields may be of this kind: build them all
            return super().relocations_of(kind)
        return [r for r in self.__dict__.get("_relocations", []) if r.kind is kind] + self._buffer.of_kind(kind)

    def symbolic_relocations(self) -> list[Relocation]:
        if self._buffer is None:
            return super().symbolic_relocations()
        return [r for r in self.__dict__.get("_relocations", []) if r.kind in SYMBOLIC] + self._buffer.symbolic()
