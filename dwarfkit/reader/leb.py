"""LEB128 decoding from a bytes object at an offset, bounded by the data."""
from __future__ import annotations


def uleb(data: bytes, off: int) -> tuple[int, int]:
    """(value, offset after it). Raises IndexError when the data ends inside the number."""
    result = 0
    shift = 0
    while True:
        b = data[off]
        off += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, off
        shift += 7


def sleb(data: bytes, off: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = data[off]
        off += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, off
