"""Verify checks of shape: a unit without DIEs or with its DIE tree left open, a DW_AT_sibling that skips to the
wrong place, and line-table headers whose fields disagree with the standard or with their own tables (what raw
control writes on purpose, and what broken producers write by accident). Each returns findings as
``.section[0xOFFSET]: message`` lines; :class:`dwarfkit.reader.verify.Verifier` calls them.

Imports ``units`` and ``lines`` of this package (for types) only.
"""
from __future__ import annotations

from .lines import LineTable
from .units import Unit

A_SIBLING = 0x01


def unit_tree_findings(unit: Unit) -> list[str]:
    """A unit with no DIE after its header, or one whose DIEs with children are not all closed by a null entry
    before the unit ends."""
    sec = "." + unit.section
    if not unit.offs:
        if not unit.problems and unit.die_offset >= unit.end:
            return [f"{sec}[0x{unit.offset:x}]: unit has no DIE (it ends after its header)"]
        return []
    opened = sum(1 for ab in unit.abbs if ab is not None and ab.has_children)
    closed = sum(1 for ab, depth in zip(unit.abbs, unit.depths, strict=True) if ab is None and depth > 0)
    if opened > closed and not unit.problems:
        return [f"{sec}[0x{unit.end:x}]: DIEs run to the end of the unit: {opened - closed} DIE(s) with children "
                f"are not closed by a null entry"]
    return []


def sibling_finding(unit: Unit, i: int, where: str, target: int) -> str | None:
    """DW_AT_sibling of DIE ``i`` must name the entry after its subtree (its next sibling, or the null entry that
    ends its parent's children)."""
    depth = unit.depths[i]
    j = i + 1
    while j < len(unit.offs) and unit.depths[j] > depth:
        j += 1
    expected = unit.offs[j] if j < len(unit.offs) else unit.end
    if target == expected or unit.die_index(target) is None:
        return None   # right, or not a DIE at all (reported as such)
    return (f"{where}: DW_AT_sibling refers to 0x{target:x}, not to the DIE that follows this one's children "
            f"(0x{expected:x})")


def line_header_findings(t: LineTable) -> list[str]:
    """Header fields no consumer can use as written: a zero minimum instruction length, line_range or opcode_base,
    and (DWARF 2-4) file tables that end elsewhere than header_length says (a standard_opcode_lengths list of
    another length than opcode_base - 1 shows so). Standard opcode lengths other than the standard's are no
    finding: consumers use them only to skip opcodes they do not know, and TI's compilers write 0 for
    DW_LNS_fixed_advance_pc."""
    if t.version not in (2, 3, 4, 5) or t.problems and not t.rows:
        return []
    where = f".debug_line[0x{t.offset:x}]"
    out = []
    for name, value in (("minimum_instruction_length", t.min_inst_length), ("line_range", t.line_range),
                        ("opcode_base", t.opcode_base)):
        if value == 0:
            out.append(f"{where}: {name} is 0")
    if t.tables_end is not None and t.version < 5:
        program = t.offset + (4 if t.offset_size == 4 else 12) + 2 + t.offset_size + t.header_length
        if t.tables_end != program:
            out.append(f"{where}: header_length 0x{t.header_length:x} puts the program at 0x{program:x}, the file "
                       f"table ends at 0x{t.tables_end:x}")
    return out
