"""Queries over the DWARF of a file: ``--lookup ADDR``, ``--name NAME`` and ``--summary``."""
from __future__ import annotations

from typing import TextIO

from .forms import ADDR_INDEX, CONSTANTS
from .lines import END_SEQUENCE, LineTable, parse_line_table
from .ranges import attribute_ranges
from .split import SplitFiles
from .text import InfoDumper
from .typename import DieRef
from .units import DwarfContext, Unit, forget

A_NAME, A_LINKAGE, A_MIPS_LINKAGE, A_LOW_PC, A_HIGH_PC, A_RANGES = 0x03, 0x6e, 0x2007, 0x11, 0x12, 0x55
T_SUBPROGRAM, T_LEXICAL_BLOCK, T_INLINED = 0x2e, 0x0b, 0x1d


def die_ranges(ctx: DwarfContext, unit: Unit, i: int) -> list[tuple[int, int]]:
    """The address ranges of DIE ``i``: [low_pc, high_pc) or its DW_AT_ranges list. A low_pc or high_pc whose form
    is not an address, address index or constant (a block, data16) gives no range."""
    low = unit.attr_form(i, A_LOW_PC)
    high = unit.attr_form(i, A_HIGH_PC)
    if low is not None and high is not None:
        lv = ctx.address_index(unit, low[1]) if low[0] in ADDR_INDEX else low[1]
        hv = high[1]
        if high[0] in CONSTANTS:
            hv = (lv or 0) + hv if isinstance(lv, int) or lv is None else None
        elif high[0] in ADDR_INDEX:
            hv = ctx.address_index(unit, hv)
        if isinstance(lv, int) and isinstance(hv, int):
            return [(lv, hv)]
    rng = unit.attr_form(i, A_RANGES)
    if rng is not None and isinstance(rng[1], int):
        return attribute_ranges(ctx, unit, *rng)[1]
    return []


def lookup(ctx: DwarfContext, address: int, out: TextIO, dumper: InfoDumper,
           problems: list[str] | None = None) -> bool:
    """Print the unit, function, blocks and line of ``address``; False when no unit covers it. The problems of
    the units it decodes on the way go to ``problems``."""
    for unit in ctx.units():
        ctx.load(unit)
        if problems is not None:
            problems += unit.problems
        if not unit.offs or not any(a <= address < b for a, b in die_ranges(ctx, unit, 0)):
            forget(unit)
            continue
        dumper.dump_dies(unit, _chain(ctx, unit, address))
        files = SplitFiles(ctx)
        if files.is_skeleton(unit):  # the function and blocks are in its split unit
            found = files.split_unit(unit)
            if found.unit is None or found.ctx is None:
                if problems is not None:
                    problems.append(found.note or "")
            else:
                split = InfoDumper(found.ctx, out, dumper.opts)
                split.dump_dies(found.unit, _chain(found.ctx, found.unit, address))
                if problems is not None:
                    problems += split.problems
        row = line_row(ctx, unit, address)
        if row is not None:
            t, (addr, line, column, file, *_rest) = row
            path = t.file_path(file, unit.comp_dir) or str(file)
            out.write(f"Line info: file '{path}', line {line}, column {column}, address 0x{addr:x}\n")
        return True
    return False


def _chain(ctx: DwarfContext, unit: Unit, address: int) -> list[int]:
    """The unit DIE, and the function, inlined functions and blocks nested in it that cover ``address``."""
    chain = [0]
    i = 0
    while True:
        inner = next((j for j in unit.children(i) if unit.tag(j) in (T_SUBPROGRAM, T_LEXICAL_BLOCK, T_INLINED)
                      and any(a <= address < b for a, b in die_ranges(ctx, unit, j))), None)
        if inner is None:
            inner = _search_nested(ctx, unit, i, address)
        if inner is None:
            return chain
        chain.append(inner)
        i = inner


def _search_nested(ctx: DwarfContext, unit: Unit, i: int, address: int) -> int | None:
    """Functions can sit below other DIEs (namespaces, classes); look one level further down."""
    for j in unit.children(i):
        if unit.tag(j) in (T_SUBPROGRAM, T_LEXICAL_BLOCK, T_INLINED):
            continue
        for k in unit.children(j):
            if unit.tag(k) in (T_SUBPROGRAM, T_LEXICAL_BLOCK, T_INLINED) and \
                    any(a <= address < b for a, b in die_ranges(ctx, unit, k)):
                return k
    return None


def line_row(ctx: DwarfContext, unit: Unit, address: int) -> tuple[LineTable, tuple[int, ...]] | None:
    """The line-table row that covers ``address`` in the unit's table (last row at or before it in its sequence)."""
    if unit.stmt_list is None:
        return None
    t = parse_line_table(ctx.file.section("debug_line"), unit.stmt_list, ctx.order, unit.address_size, ctx.str,
                         ctx.line_str)
    best = None
    prev = None
    for row in t.rows:
        if prev is not None and prev[0] <= address < row[0]:
            best = prev
        prev = None if row[6] & END_SEQUENCE else row
    return (t, best) if best is not None else None


def find_name(ctx: DwarfContext, name: str, dumper: InfoDumper) -> int:
    """Print every DIE whose name or linkage name is ``name``; return how many."""
    count = 0
    for section in ("debug_info", "debug_types"):
        for unit in ctx.units(section):
            ctx.load(unit)
            hits = []
            for i, ab in enumerate(unit.abbs):
                if ab is None:
                    continue
                # As llvm-dwarfdump: the name or linkage name, also through abstract_origin/specification.
                d = DieRef(unit, i)
                if dumper.linkage_name(d, ((A_NAME,),)) == name or \
                        dumper.linkage_name(d, ((A_MIPS_LINKAGE, A_LINKAGE),)) == name:
                    hits.append(i)
            if hits:
                dumper.dump_dies(unit, hits)
                count += len(hits)
            forget(unit)
    return count


def summary(ctx: DwarfContext, out: TextIO) -> list[str]:
    """Sizes of sections, per unit its DIEs, and counts of the list and string-offset sections; returns the
    problems found."""
    df = ctx.file
    out.write(f"{df.path}: {df.file_format}\n\nsection               size\n")
    for name in sorted(df.sections):
        out.write(f".{name:<20} {len(df.sections[name]):>10}\n")
    out.write("\nunit        section      version format  addr  length      DIEs  tags\n")
    problems: list[str] = []
    for section in ("debug_info", "debug_types"):
        for unit in ctx.units(section):
            ctx.load(unit)
            dies = sum(1 for ab in unit.abbs if ab is not None)
            tags = len({ab.tag for ab in unit.abbs if ab is not None})
            fmt = "DWARF64" if unit.offset_size == 8 else "DWARF32"
            out.write(f"0x{unit.offset:08x}  .{section:<11} {unit.version:>7} {fmt}"
                      f" {unit.address_size:>5}  0x{unit.length:08x} {dies:>6} {tags:>5}\n")
            problems += unit.problems
            forget(unit)
    from .lists_text import write_summary
    return problems + write_summary(ctx, out)
