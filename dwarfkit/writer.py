"""A growing section buffer that records relocations as fields are written."""
from __future__ import annotations

from .address import Address
from .encoding import Encoding, sleb128, uleb128, uleb128_padded
from .errors import LayoutError
from .sections import Relocation, RelocKind, Section


class SectionWriter:
    """Appends encoded values to one section; every symbolic field leaves a :class:`Relocation`."""

    __slots__ = ("section", "encoding", "_order")

    def __init__(self, section: Section | str, encoding: Encoding) -> None:
        self.section = section if isinstance(section, Section) else Section(section)
        self.encoding = encoding
        self._order = encoding.byteorder

    @property
    def data(self) -> bytearray:
        return self.section.data

    @property
    def pos(self) -> int:
        return len(self.section.data)

    def u8(self, value: int) -> None:
        self.section.data.append(value)

    def uint(self, value: int, size: int) -> None:
        self.section.data += value.to_bytes(size, self._order)

    def sint(self, value: int, size: int) -> None:
        self.section.data += value.to_bytes(size, self._order, signed=True)

    def u16(self, value: int) -> None:
        self.uint(value, 2)

    def u32(self, value: int) -> None:
        self.uint(value, 4)

    def u64(self, value: int) -> None:
        self.uint(value, 8)

    def uleb(self, value: int) -> None:
        self.section.data += uleb128(value)

    def sleb(self, value: int) -> None:
        self.section.data += sleb128(value)

    def uleb_padded(self, value: int, width: int) -> None:
        self.section.data += uleb128_padded(value, width)

    def raw(self, data: bytes | bytearray) -> None:
        self.section.data += data

    def cstr(self, text: str | bytes) -> None:
        self.section.data += (text.encode() if isinstance(text, str) else text) + b"\0"

    def align(self, alignment: int, fill: int = 0) -> None:
        pad = -self.pos % alignment
        self.section.data += bytes((fill,)) * pad

    # -- symbolic fields -------------------------------------------------------------------------------------
    def offset_field(self, value: int, kind: RelocKind, target: str, size: int | None = None) -> None:
        """An offset into section ``target`` (``.debug_str``, ``.debug_line``, ...), 4 or 8 bytes by format."""
        size = size or self.encoding.offset_size
        if value >= 1 << (8 * size):
            raise LayoutError(f"{self.section.name}+{self.pos:#x}: offset {value:#x} into {target} does not fit "
                              f"{size} bytes; DWARF64 (offset_size=8) is needed")
        self.section.relocations.append(Relocation(self.pos, size, kind, target, value))
        self.uint(value, size)

    def address_field(self, symbol: str, addend: int = 0, size: int | None = None) -> None:
        """The address of ``symbol`` plus ``addend``."""
        size = size or self.encoding.address_size
        self.section.relocations.append(Relocation(self.pos, size, RelocKind.ADDRESS, symbol, addend))
        self.uint(addend & ((1 << (8 * size)) - 1), size)

    def address(self, address: Address, size: int | None = None) -> None:
        """An address: relocated when symbolic, written as is when plain."""
        if address.symbol is None:
            self.uint(address.offset, size or self.encoding.address_size)
        else:
            self.address_field(address.symbol, address.offset, size)

    def pcrel_field(self, symbol: str, addend: int = 0, size: int = 4) -> None:
        self.section.relocations.append(Relocation(self.pos, size, RelocKind.PCREL, symbol, addend))
        self.uint(0, size)

    def patch_uint(self, pos: int, value: int, size: int) -> None:
        self.section.data[pos:pos + size] = value.to_bytes(size, self._order)

    def begin_length(self) -> int:
        """Writes a placeholder initial length; returns the handle for :meth:`end_length`."""
        start = self.pos
        self.raw(self.encoding.initial_length(0))
        return start

    def end_length(self, start: int) -> None:
        size = self.encoding.initial_length_size
        length = self.pos - start - size
        if length > self.encoding.max_offset() or (self.encoding.offset_size == 4 and length >= 0xFFFFFFF0):
            raise LayoutError(f"{self.section.name}+{start:#x}: unit length {length:#x} needs DWARF64")
        self.section.data[start:start + size] = self.encoding.initial_length(length)
