"""``dwarfkit dump``: the sections of one file, in llvm-dwarfdump's order and layout."""
from __future__ import annotations

from typing import TextIO

from .container import DebugFile
from . import tables
from .lines import parse_line_table
from .text import DumpOptions, InfoDumper, dump_line_table
from .units import DwarfContext, forget

# Section flags in the order llvm-dwarfdump prints sections.
SECTION_FLAGS = ["debug-abbrev", "debug-info", "debug-types", "debug-aranges", "debug-line", "debug-str",
                 "debug-line-str"]


def dump_text(df: DebugFile, out: TextIO, sections: set[str], opts: DumpOptions) -> list[str]:
    """Write the chosen sections; return the problems found (one line each)."""
    ctx = DwarfContext(df)
    problems: list[str] = list(df.problems)
    out.write(f"{df.path}:\tfile format {df.file_format}\n\n")
    if "debug-abbrev" in sections and df.section("debug_abbrev"):
        out.write(".debug_abbrev contents:\n")
        offsets = [u.abbrev_offset for s in ("debug_info", "debug_types") for u in ctx.units(s)]
        problems += tables.dump_abbrev(df.section("debug_abbrev"), out, offsets)
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
    if "debug-aranges" in sections and df.section("debug_aranges"):
        out.write(".debug_aranges contents:\n")
        problems += tables.dump_aranges(df.section("debug_aranges"), df.byteorder, out)
        out.write("\n")
    if "debug-line" in sections and df.section("debug_line"):
        out.write(".debug_line contents:\n")
        for t in line_tables(ctx):
            dump_line_table(t, out)
            problems += t.problems
    for flag, name in (("debug-str", "debug_str"), ("debug-line-str", "debug_line_str")):
        if flag in sections and df.section(name):
            out.write(f".{name} contents:\n")
            tables.dump_strings(df.section(name), out)
    problems += ctx.problems
    return problems


def line_tables(ctx: DwarfContext):
    """Every line table in ``.debug_line``, in section order, each parsed with its rows."""
    data = ctx.file.section("debug_line")
    off = 0
    while off < len(data):
        t = parse_line_table(data, off, ctx.order, ctx.file.address_size, ctx.str, ctx.line_str)
        yield t
        if t.end <= off:
            break
        off = t.end
