"""``.debug_aranges``: which address ranges each compile unit covers (a lookup table for debuggers).

``emit_aranges(writer, [(info_offset, [(start, length)])])`` writes version-2 sets, tuples aligned to twice the
address size, each set's ``.debug_info`` offset as a SECTION relocation and symbolic starts as ADDRESS ones. The
builder collects a compile unit's ranges from its root's low_pc/high_pc or ranges. Imports the foundations only.
Reader quirk met: pyelftools 0.33 cannot parse DWARF64 aranges.
"""
from __future__ import annotations

from typing import Sequence

from .address import as_address
from .errors import DescriptionError
from .sections import RelocKind
from .writer import SectionWriter

ARANGES_VERSION = 2  # the only version; DWARF 5 kept it


def emit_aranges(writer: SectionWriter, units: Sequence[tuple]) -> None:
    """Appends one address-range set per unit to the ``.debug_aranges`` writer.

    ``units`` holds ``(offset of the unit in .debug_info, [(start, length), ...])``, and as a third item the unit's
    address size when it is not the writer's; the info offset is a SECTION relocation against ``.debug_info``.
    Empty ranges describe nothing and are left out (a zero tuple would end the set early).
    """
    sets = [(unit[0], unit[1], unit[2] if len(unit) > 2 else writer.encoding.address_size) for unit in units]
    for info_offset, ranges, size in sets:  # check everything first: an error leaves the section untouched
        for index, (address, length) in enumerate(ranges):
            if length < 0 or length >= 1 << (8 * size):
                raise DescriptionError(f".debug_aranges: unit at .debug_info+{info_offset:#x}, range {index} "
                                       f"({as_address(address)}): length {length} does not fit {size} bytes")
    for info_offset, ranges, size in sets:
        start = writer.begin_length()
        writer.u16(ARANGES_VERSION)
        writer.offset_field(info_offset, RelocKind.SECTION, ".debug_info")
        writer.u8(size)
        writer.u8(0)  # segment selector size: flat address space
        # The first tuple starts at a multiple of the tuple size, counted from the start of the set.
        writer.raw(bytes(-(writer.pos - start) % (2 * size)))
        for address, length in ranges:
            if length == 0:
                continue
            writer.address(as_address(address), size)
            writer.uint(length, size)
        writer.raw(bytes(2 * size))  # terminating tuple
        writer.end_length(start)
