"""Verify checks of shape: a unit without DIEs or with its DIE tree left open, a DW_AT_sibling that skips to the
wrong place, aranges and list-table headers, and line-table headers whose fields disagree with the standard or with
their own tables (what raw control writes on purpose, and what broken producers write by accident). Each returns
findings as ``.section[0xOFFSET]: message`` lines; :class:`dwarfkit.reader.verify.Verifier` calls them.

Imports ``units`` and ``lines`` of this package and ``encoding`` (initial lengths).
"""
from __future__ import annotations

from ..encoding import decode_initial_length
from .lines import LineTable
from .units import DwarfContext, Unit

A_SIBLING = 0x01


def unit_tree_findings(unit: Unit) -> list[str]:
    """A unit with no DIE after its header, one whose DIEs with children are not all closed by a null entry before
    the unit ends, a type unit whose type_offset names no DIE."""
    sec = "." + unit.section
    if not unit.offs:
        if not unit.problems and unit.die_offset >= unit.end:
            return [f"{sec}[0x{unit.offset:x}]: unit has no DIE (it ends after its header)"]
        return []
    out = []
    if unit.type_offset is not None and unit.die_index(unit.offset + unit.type_offset) is None:
        out.append(f"{sec}[0x{unit.offset:x}]: type_offset 0x{unit.type_offset:x} does not point at a DIE of the "
                   f"type unit")
    opened = sum(1 for ab in unit.abbs if ab is not None and ab.has_children)
    closed = sum(1 for ab, depth in zip(unit.abbs, unit.depths, strict=True) if ab is None and depth > 0)
    if opened > closed and not unit.problems:
        out.append(f"{sec}[0x{unit.end:x}]: DIEs run to the end of the unit: {opened - closed} DIE(s) with children "
                   f"are not closed by a null entry")
    return out


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
    if t.default_is_stmt not in (0, 1):
        out.append(f"{where}: default_is_stmt {t.default_is_stmt} is not 0 or 1")
    if t.tables_end is not None and t.version < 5:
        program = t.offset + (4 if t.offset_size == 4 else 12) + 2 + t.offset_size + t.header_length
        if t.tables_end != program:
            out.append(f"{where}: header_length 0x{t.header_length:x} puts the program at 0x{program:x}, the file "
                       f"table ends at 0x{t.tables_end:x}")
    return out


def table_header_findings(ctx: DwarfContext) -> list[str]:
    """The headers of ``.debug_aranges`` sets and of ``.debug_rnglists``/``.debug_loclists`` tables: each length
    inside the section, the version its section has, an aranges set naming a unit of ``.debug_info`` with that
    unit's address size, a list table's address size one of the units', no segment selectors (no target has them),
    a list table's offset array inside the table."""
    order = ctx.order
    out: list[str] = []
    units = {u.offset: u for u in ctx.units("debug_info")}
    starts = set()   # every unit's start, its header readable or not (that is reported on its own)
    info, off = ctx.file.section("debug_info"), 0
    while off + 4 <= len(info):
        starts.add(off)
        length, _size, body = decode_initial_length(info, off, order)
        off = body + length
    for section, version in (("debug_aranges", 2), ("debug_rnglists", 5), ("debug_loclists", 5)):
        data = ctx.file.section(section)
        off = 0
        while off + 4 <= len(data):
            where = f".{section}[0x{off:x}]"
            length, offset_size, body = decode_initial_length(data, off, order)
            end = body + length
            if end > len(data) or length < 2:
                out.append(f"{where}: length 0x{length:x} does not fit the section (0x{len(data):x} bytes)")
                break
            found = int.from_bytes(data[body:body + 2], order)
            # the address and segment selector sizes: after the info offset in aranges, after the version in lists
            sizes_at = body + 2 + (offset_size if section == "debug_aranges" else 0)
            if found == version and sizes_at + 2 <= end and data[sizes_at + 1]:
                out.append(f"{where}: segment selector size {data[sizes_at + 1]} is not 0 (no target uses "
                           f"segmented addresses)")
            if found == version and section != "debug_aranges" and sizes_at + 2 <= end and units and \
                    data[sizes_at] not in {u.address_size for u in units.values()}:
                sizes = sorted({u.address_size for u in units.values()})
                out.append(f"{where}: address size {data[sizes_at]} is no unit's ({', '.join(map(str, sizes))})")
            if found != version:
                out.append(f"{where}: version {found} is not {version}")
            elif section == "debug_aranges" and body + 4 + offset_size <= end:
                info_offset = int.from_bytes(data[body + 2:body + 2 + offset_size], order)
                address_size = data[body + 2 + offset_size]
                unit = units.get(info_offset)
                if info_offset not in starts:
                    out.append(f"{where}: debug_info_offset 0x{info_offset:x} is not the start of a unit")
                elif unit is not None and address_size != unit.address_size:
                    out.append(f"{where}: address size {address_size}, its unit's is {unit.address_size}")
            elif section != "debug_aranges" and body + 8 <= end:
                count = int.from_bytes(data[body + 4:body + 8], order)
                if body + 8 + count * offset_size > end:
                    out.append(f"{where}: offset_entry_count {count} does not fit the table (0x{length:x} bytes)")
            off = end
    return out
