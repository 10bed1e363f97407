"""``dwarfkit dump``: the sections of one file, in llvm-dwarfdump's order and layout."""
from __future__ import annotations

from typing import TextIO

from .container import DebugFile
from .lines import parse_line_table
from .text import DumpOptions, InfoDumper, dump_line_table
from .units import DwarfContext, forget

# Section flags in the order llvm-dwarfdump prints sections.
SECTION_FLAGS = ["debug-info", "debug-types", "debug-line"]


def dump_text(df: DebugFile, out: TextIO, sections: set[str], opts: DumpOptions) -> list[str]:
    """Write the chosen sections; return the problems found (one line each)."""
    ctx = DwarfContext(df)
    problems: list[str] = list(df.problems)
    out.write(f"{df.path}:\tfile format {df.file_format}\n\n")
    if "debug-info" in sections and df.section("debug_info"):
        out.write(".debug_info contents:\n")
        dumper = InfoDumper(ctx, out, opts)
        for unit in ctx.units("debug_info"):
            dumper.dump_unit(unit)
            forget(unit)
        problems += dumper.problems
        out.write("\n")
    if "debug-types" in sections and df.section("debug_types"):
        out.write(".debug_types contents:\n")
        dumper = InfoDumper(ctx, out, opts)
        for unit in ctx.units("debug_types"):
            dumper.dump_unit(unit)
            forget(unit)
        problems += dumper.problems
        out.write("\n")
    if "debug-line" in sections and df.section("debug_line"):
        out.write(".debug_line contents:\n")
        for t in line_tables(ctx):
            dump_line_table(t, out)
            problems += t.problems
    problems += ctx.problems
    return problems


def line_tables(ctx: DwarfContext):
    """Every line table in ``.debug_line``, in section order, each parsed with its rows."""
    data = ctx.file.section("debug_line")
    off = 0
    # The address size comes from the unit that names the table; fall back to the container's.
    sizes = {}
    for unit in ctx.units("debug_info"):
        pass
    while off < len(data):
        t = parse_line_table(data, off, ctx.order, ctx.file.address_size, ctx.str, ctx.line_str)
        yield t
        if t.end <= off:
            break
        off = t.end
