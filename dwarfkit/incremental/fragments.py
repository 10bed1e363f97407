"""Bytes of the incremental layout around the DIEs: line sequences, padding, the unit's range tables.

DWARF 4, 32-bit offsets, 8-byte little-endian addresses. The DIEs themselves are the ordinary encoder's (dies.py):
its forms have sizes that depend only on the value, so a fragment's size never depends on where it is placed, and an
update encodes the function again and writes the bytes that differ. A line sequence starts with
``DW_LNS_advance_line`` whose operand is a 4-byte SLEB128 (the first line), followed by ``DW_LNE_set_address``; the
rows are encoded relative to that first line.

Padding (free room in a section, and the slack after a fragment in its slot):

* ``.debug_info``: one padding DIE per gap (codes 1 and 2 of every file's abbreviation table, :data:`PADDING`), tag
  ``DW_TAG_unspecified_type`` without a name, whose only attribute ``DW_AT_description`` is a ``DW_FORM_block`` of
  zeros (4-byte ULEB length, so the header is always 5 bytes); gaps of 1-4 bytes are 1-byte DIEs of the same tag
  with no attributes (the seed's ``abbrev_pad1``). Padding DIEs are siblings of the functions, so a gap is never read
  as a null entry (Zig's bug) and the unit stays one contiguous unit.
* ``.debug_line``: between sequences, pairs ``DW_LNS_advance_pc 0`` (``02 00``); every slot starts at an even
  distance from the first sequence, so any run of free room is a whole number of pairs. Inside a slot the sequence is
  padded by :meth:`LineProgram.encode_sequence`.

The unit's address ranges: one 16-byte entry per function at the same index in ``.debug_ranges`` (the unit's
``DW_AT_ranges`` list, ``begin, end`` relative to the unit's ``DW_AT_low_pc`` 0) and in ``.debug_aranges`` (``address,
length``); a free entry is :data:`FREE_RANGE` (an empty range, which DWARF says has no effect: (0, 0) would end the
list) and :data:`FREE_ARANGE` (a zero-length range at address 1: (0, 0) would end the set).

What readers do with them (``tests/test_incremental_elf.py``): llvm-dwarfdump lists a free range entry under
``DW_AT_ranges`` and a free arange as ``[0x1, 0x1)``, ``--verify`` stays clean and ``--lookup`` finds every function
and nothing where a removed one was; gdb 13 (``set complaints 1000``) and lldb 14 say nothing; readelf marks the free
range ``(start == end)``; pyelftools returns it with ``begin_offset == end_offset``. gdb complains about any opcode
after the last ``end_sequence``, so ``.debug_line`` ends with its last sequence and the room after it is reserved
file space outside the section's size (``.debug_str`` likewise ends after its last string).
"""
from __future__ import annotations

from dataclasses import dataclass

from elftools.dwarf.enums import ENUM_DW_AT, ENUM_DW_FORM, ENUM_DW_TAG

from ..address import Address
from ..encoding import Encoding, uleb128_padded
from ..line import LineProgram
from ..strings import StringTable
from ..writer import SectionWriter
from .model import Function, UnitInfo

ENCODING = Encoding(version=4, offset_size=4, address_size=8)
_TAG, _AT, _FORM = ENUM_DW_TAG, ENUM_DW_AT, ENUM_DW_FORM
_DW_OP_call_frame_cfa = 0x9C
_DW_OP_fbreg = 0x91
_DW_LNS_advance_line = 0x03

PAD1, PAD_BLOCK = 1, 2
"""The padding DIEs' abbreviation codes: the first two of the unit's table (:data:`PADDING`)."""
PADDING = ((ENUM_DW_TAG["DW_TAG_unspecified_type"], False, ()),
           (ENUM_DW_TAG["DW_TAG_unspecified_type"], False, ((ENUM_DW_AT["DW_AT_description"],
                                                             ENUM_DW_FORM["DW_FORM_block"]),)))
"""Their declarations, as :class:`~dwarfkit.abbrev.AbbrevTable` keys: 1 byte, and a 5-byte head and zeros."""
_PAD_HEAD = 5
LINE_FILL = b"\x02\x00"  # DW_LNS_advance_pc 0
LINE_BIAS = 1 << 20
"""Rows are encoded as ``line - first_line + LINE_BIAS`` after a prefix that advances by ``first_line - LINE_BIAS``."""
_LINE_PREFIX = 5


@dataclass
class Fragment:
    """A line sequence and where its patchable fields are, relative to its start."""

    data: bytes
    line_fields: list[int]
    address_fields: list[int]


def info_fill(size: int, start: int = 0, end: int | None = None) -> bytes:
    """Bytes ``start:end`` of the padding that fills a gap of ``size`` bytes (zeros after a 5-byte head)."""
    end = size if end is None else end
    if size < _PAD_HEAD:
        return bytes((PAD1,)) * (end - start)
    head = bytes((PAD_BLOCK,)) + uleb128_padded(size - _PAD_HEAD, 4)
    return head[start:end] + bytes(max(0, end - max(start, _PAD_HEAD)))


def line_fill(size: int) -> bytes:
    assert size % 2 == 0, size
    return LINE_FILL * (size // 2)


def line_program(unit: UnitInfo) -> LineProgram:
    return LineProgram(ENCODING, comp_dir=unit.comp_dir, name=unit.name)


def line_head(program: LineProgram) -> bytes:
    """The program header; its unit_length (first 4 bytes) is set by the writer."""
    writer = SectionWriter(".debug_line", ENCODING)
    program.emit_header(writer, StringTable(".debug_line_str"))
    return bytes(writer.data)


def line_sequence_size(program: LineProgram, fn: Function) -> int:
    return len(line_sequence(program, fn).data)


def line_sequence(program: LineProgram, fn: Function, size: int | None = None) -> Fragment:
    """The function's sequence, ``size`` bytes long if given (padded inside the sequence)."""
    if fn.size == 0:  # an entry without code (a type, an abstract instance): its slot holds padding only
        return Fragment(line_fill(size or 2), [], [])
    seq = program.sequence(Address("start", fn.address))  # symbolic only to learn where the address field is
    program.sequences.pop()
    seq.add_rows([(offset, line - fn.line + LINE_BIAS) for offset, line in fn.rows])
    seq.end(fn.size)
    body, relocations = program.encode_sequence(seq, None if size is None else size - _LINE_PREFIX)
    prefix = bytes((_DW_LNS_advance_line,)) + sleb128_padded(first_line_operand(fn), 4)
    return Fragment(prefix + body, [1], [_LINE_PREFIX + relocations[0].offset])


def first_line_operand(fn: Function) -> int:
    """The prefix's line advance; 0 without rows, so that the end_sequence row keeps line 1 as everywhere else."""
    return fn.line - LINE_BIAS if fn.rows else 0


def sleb128_padded(value: int, width: int) -> bytes:
    """SLEB128 stretched to exactly ``width`` bytes (patched in place by line-only updates)."""
    if not -(1 << (7 * width - 1)) <= value < 1 << (7 * width - 1):
        raise ValueError(f"{value} does not fit a {width}-byte SLEB128")
    bits = value & ((1 << (7 * width)) - 1)
    return bytes(((bits >> (7 * i)) & 0x7F) | (0x80 if i < width - 1 else 0) for i in range(width))


RANGES_LIST = 0
"""The unit's range list starts the ``.debug_ranges`` section."""
FREE_RANGE = (1).to_bytes(8, "little") * 2
FREE_ARANGE = (1).to_bytes(8, "little") + bytes(8)
ARANGES_HEAD = 16
"""Set header (12 bytes) and the padding that aligns the first tuple to 16 bytes from the set's start."""
ENTRY = 16


def range_entry(fn: Function) -> bytes:
    if fn.size == 0:  # an entry without code
        return FREE_RANGE
    return fn.address.to_bytes(8, "little") + (fn.address + fn.size).to_bytes(8, "little")


def arange_entry(fn: Function) -> bytes:
    if fn.size == 0:
        return FREE_ARANGE
    return fn.address.to_bytes(8, "little") + fn.size.to_bytes(8, "little")


def ranges_section(entries: list[bytes]) -> bytes:
    """The unit's one list: an entry per index, then the (0, 0) end of list."""
    return b"".join(entries) + bytes(ENTRY)


def aranges_section(entries: list[bytes]) -> bytes:
    """One set for the unit at ``.debug_info`` offset 0: an entry per index, then the (0, 0) terminator."""
    length = ARANGES_HEAD - 4 + ENTRY * (len(entries) + 1)
    head = _u32(length) + (2).to_bytes(2, "little") + _u32(0) + bytes((8, 0)) + bytes(4)
    return head + b"".join(entries) + bytes(ENTRY)


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "little")
