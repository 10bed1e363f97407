"""How DWARF is encoded: version, 32/64-bit format, address size, byte order; and LEB128."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import EncodingError, ReadError

ByteOrder = Literal["little", "big"]


@dataclass(frozen=True)
class Encoding:
    """The parameters every unit and section of one emission shares.

    ``offset_size`` 4 is the 32-bit DWARF format, 8 is DWARF64.
    """

    version: int = 5
    offset_size: int = 4
    address_size: int = 8
    byteorder: ByteOrder = "little"

    def __post_init__(self) -> None:
        if self.version not in (2, 3, 4, 5):
            raise EncodingError(f"DWARF version {self.version} is not supported (use 2, 3, 4 or 5)")
        if self.offset_size not in (4, 8):
            raise EncodingError(f"offset size {self.offset_size} is not 4 (32-bit DWARF) or 8 (DWARF64)")
        if self.offset_size == 8 and self.version == 2:
            raise EncodingError("DWARF64 needs version 3 or later")
        if self.address_size not in (4, 8):
            raise EncodingError(f"address size {self.address_size} is not 4 or 8")
        if self.byteorder not in ("little", "big"):
            raise EncodingError(f"byte order {self.byteorder!r} is not 'little' or 'big'")

    @property
    def is_dwarf64(self) -> bool:
        return self.offset_size == 8

    def max_offset(self) -> int:
        return (1 << (8 * self.offset_size)) - 1

    def initial_length(self, length: int) -> bytes:
        """A unit or table length field, with the 0xffffffff escape for DWARF64."""
        if self.offset_size == 8:
            return b"\xff\xff\xff\xff" + length.to_bytes(8, self.byteorder)
        return length.to_bytes(4, self.byteorder)

    @property
    def initial_length_size(self) -> int:
        return 12 if self.offset_size == 8 else 4


def align_up(value: int, alignment: int) -> int:
    """``value`` rounded up to a multiple of ``alignment``; 0 and 1 mean no alignment (as ELF's ``sh_addralign``)."""
    return value + (-value % alignment) if alignment > 1 else value


def uleb128(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"ULEB128 of negative value {value}")
    if value < 0x80:
        return bytes((value,))
    # Two and three bytes without the loop: offsets and lengths of real files are mostly this size.
    if value < 0x4000:
        return bytes((value & 0x7F | 0x80, value >> 7))
    if value < 0x200000:
        return bytes((value & 0x7F | 0x80, value >> 7 & 0x7F | 0x80, value >> 14))
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb128(value: int) -> bytes:
    if -0x40 <= value < 0x40:
        return bytes((value & 0x7F,))
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def uleb128_padded(value: int, width: int) -> bytes:
    """ULEB128 stretched to exactly ``width`` bytes, so that it can be patched in place later."""
    if value < 0 or value >= 1 << (7 * width):
        raise ValueError(f"{value} does not fit a {width}-byte ULEB128")
    out = bytearray()
    for i in range(width):
        byte = (value >> (7 * i)) & 0x7F
        out.append(byte | 0x80 if i < width - 1 else byte)
    return bytes(out)


def uleb128_size(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


def sleb128_size(value: int) -> int:
    return max(1, (value.bit_length() + 7) // 7) if value >= 0 else max(1, ((~value).bit_length() + 7) // 7)


def decode_initial_length(data: bytes | bytearray | memoryview, pos: int, byteorder: str) -> tuple[int, int, int]:
    """A unit or table length at ``pos``: (length, offset size 4 or 8, position after it). Never raises: a
    truncated field reads short, and the caller's check of ``pos + length`` against the data reports it."""
    length = int.from_bytes(data[pos:pos + 4], byteorder)  # type: ignore[arg-type]
    if length == 0xFFFFFFFF:
        return int.from_bytes(data[pos + 4:pos + 12], byteorder), 8, pos + 12  # type: ignore[arg-type]
    return length, 4, pos + 4


# Every LEB128 in DWARF holds at most 64 bits, which take 10 bytes. A longer one (padding included) is refused at
# its offset: this bounds the work and the size of every decoded integer (a 1 MB run of 0x80 would otherwise be
# a 7-million-bit number, quadratic to build and beyond what Python will print).
MAX_LEB128_BYTES = 10


class Leb128Error(ReadError, IndexError):
    """A LEB128 longer than MAX_LEB128_BYTES. An IndexError too, so that every decoder that reports truncated data
    with its section and offset reports this as well."""

    def __init__(self, pos: int):
        super().__init__(f"LEB128 at offset 0x{pos:x} is longer than {MAX_LEB128_BYTES} bytes")
        self.pos = pos


def decode_uleb128(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """Returns (value, position after it). Raises IndexError past the end, Leb128Error when over-long."""
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    second = data[pos + 1]   # two and three bytes without the loop (the common longer sizes)
    if second < 0x80:
        return byte & 0x7F | second << 7, pos + 2
    third = data[pos + 2]
    if third < 0x80:
        return byte & 0x7F | (second & 0x7F) << 7 | third << 14, pos + 3
    start = pos
    result = byte & 0x7F
    shift = 7
    pos += 1
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 7 * MAX_LEB128_BYTES:
            raise Leb128Error(start)


def decode_sleb128(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """Returns (value, position after it). Raises IndexError past the end, Leb128Error when over-long."""
    start = pos
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            if byte & 0x40:
                result -= 1 << shift
            return result, pos
        if shift >= 7 * MAX_LEB128_BYTES:
            raise Leb128Error(start)
