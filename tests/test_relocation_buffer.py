"""The packed relocation store's checks (RelocationBuffer.check) find what checking every materialised Relocation
finds, without materialising them: a field past its section's end, a reference into a section not written, a
field against a symbol; classes registered but never used are no error."""
from __future__ import annotations

import pytest

from dwarfkit.errors import RelocationError
from dwarfkit.relocation_buffer import ADDRESS, SECTION, BufferedSection, RelocationBuffer


def section(size: int, packed: list[tuple[int, int]], full: list[tuple[int, int, int, str]] = ()) -> BufferedSection:
    """A .debug_info of ``size`` bytes whose packed fields are (position, class) over two classes: 4-byte offsets
    into .debug_str (0) and into .debug_line (1); ``full`` records are (offset, size, kind, target)."""
    buffer = RelocationBuffer()
    buffer.class_id(4, SECTION, ".debug_str")
    buffer.class_id(4, SECTION, ".debug_line")
    for pos, cid in packed:
        buffer.packed.append(pos << 8 | cid)
    for offset, width, kind, target in full:
        buffer.add(offset, width, kind, target, 0)
    return BufferedSection(".debug_info", bytearray(size), buffer, "little")


def both_agree(s: BufferedSection, written: set[str]) -> str | None:
    """The fast check's error and the check over materialised relocations' error must both exist or both not."""
    errors = []
    for fresh in (s, section(len(s.data), [], [])):
        try:
            if fresh is s:
                s.check_relocations(written)
            else:
                fresh.relocations = s._buffer.build(s.data, "little")  # type: ignore[union-attr]
                fresh._buffer = None
                fresh.check_relocations(written)
            errors.append(None)
        except RelocationError as error:
            errors.append(str(error))
    assert (errors[0] is None) == (errors[1] is None), errors
    return errors[0]


WRITTEN = {".debug_info", ".debug_str"}


def test_fields_inside_and_an_unused_class_into_an_unwritten_section_pass() -> None:
    assert both_agree(section(64, [(0, 0), (20, 0), (60, 0)]), WRITTEN) is None


@pytest.mark.parametrize("pos", [61, 64, 200])
def test_a_packed_field_past_the_end_is_refused(pos: int) -> None:
    error = both_agree(section(64, [(0, 0), (pos, 0)]), WRITTEN)
    assert error is not None and f"+{pos:#x}" in error and "outside the section" in error


def test_a_used_class_into_an_unwritten_section_is_refused() -> None:
    error = both_agree(section(64, [(0, 0), (8, 1)]), WRITTEN)
    assert error is not None and ".debug_line" in error and "not written" in error


def test_full_records_are_checked_and_only_symbols_are_symbolic() -> None:
    s = section(64, [(0, 0)], [(8, 8, ADDRESS, "main"), (16, 4, SECTION, ".debug_str")])
    assert both_agree(s, WRITTEN) is None
    assert [(r.offset, r.target) for r in s.symbolic_relocations()] == [(8, "main")]
    error = both_agree(section(64, [], [(60, 8, ADDRESS, "main")]), WRITTEN)
    assert error is not None and "+0x3c" in error
