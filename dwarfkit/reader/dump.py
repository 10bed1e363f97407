"""``dwarfkit dump``: the sections of one file, in llvm-dwarfdump's order and layout."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import TextIO

from . import lists_text, parallel, tables
from .apple_text import dump_apple
from .cfi import FrameDumper
from .debugfile import DebugFile
from .gdb_index_text import dump_gdb_index
from .line_text import dump_line_table
from .lines import LineTable, parse_line_table
from .names_text import dump_names
from .package import dump_index_text, read_package
from .split import SplitFiles
from .split_lists import dump_split_loc_text
from .str_offsets_text import dump_str_offsets
from .text import DumpOptions, InfoDumper
from .units import DwarfContext, forget

# Section flags in the order llvm-dwarfdump prints sections.
SECTION_FLAGS = ["debug-abbrev", "debug-info", "debug-types", "debug-loc", "debug-loclists", "debug-frame",
                 "eh-frame", "debug-aranges", "debug-line", "debug-cu-index", "debug-tu-index", "debug-str",
                 "debug-line-str", "debug-addr", "debug-ranges", "debug-rnglists", "debug-pubnames",
                 "debug-pubtypes", "debug-gnu-pubnames", "debug-gnu-pubtypes", "debug-str-offsets", "gdb-index",
                 "apple-names", "apple-types", "apple-namespaces", "apple-objc", "debug-names"]


def dump_text(df: DebugFile, out: TextIO, sections: set[str], opts: DumpOptions) -> list[str]:
    """Write the chosen sections; return the problems found (one line each)."""
    out.write(f"{df.path}:\tfile format {df.file_format}\n\n")
    problems: list[str] = list(df.problems)
    problems += dump_sections(df, out, sections, opts)
    split = df.split_part()
    if split is not None:  # a .dwo or .dwp file: its .debug_*.dwo sections
        problems += dump_sections(split, out, sections, opts)
    return problems


def dump_sections(df: DebugFile, out: TextIO, sections: set[str], opts: DumpOptions) -> list[str]:
    """The chosen sections of one DebugFile (a split part's headings say ``.debug_info.dwo``)."""
    ctx = DwarfContext(df)
    problems: list[str] = []
    dwo = ".dwo" if df.dwo else ""
    if "debug-abbrev" in sections and df.section("debug_abbrev"):
        out.write(f".debug_abbrev{dwo} contents:\n")
        offsets = [u.abbrev_offset for s in ("debug_info", "debug_types") for u in ctx.units(s)]
        problems += tables.dump_abbrev(df.section("debug_abbrev"), out, offsets)
    for flag, section in (("debug-info", "debug_info"), ("debug-types", "debug_types")):
        if flag in sections and df.section(section):
            out.write(f".{section}{dwo} contents:\n")
            problems += dump_units(ctx, section, out, opts)
            out.write("\n")
    problems += _lists(ctx, out, sections & {"debug-loc", "debug-loclists"}, dwo)
    if "debug-frame" in sections or "eh-frame" in sections:
        # llvm-dwarfdump prints both call-frame sections for either flag, headings even when empty.
        for name in ("debug_frame", "eh_frame"):
            out.write(f"\n.{name} contents:\n\n")
            if df.section(name):
                arch = "mips64" if df.arch == "mips" and df.address_size == 8 else df.arch
                dumper = FrameDumper(df.section(name), name == "eh_frame", df.byteorder, df.address_size, arch,
                                     df.addresses.get(name, 0), name)
                problems += dumper.dump(out)
    if "debug-aranges" in sections and df.section("debug_aranges"):
        out.write(".debug_aranges contents:\n")
        problems += tables.dump_aranges(df.section("debug_aranges"), df.byteorder, out)
        out.write("\n")
    if "debug-line" in sections and df.section("debug_line"):
        out.write(f".debug_line{dwo} contents:\n")
        for t in line_tables(ctx):
            dump_line_table(t, out)
            problems += t.problems
    package = ctx.package if df.dwo else None
    if not df.dwo and df.split_part() is None:  # indexes without .dwo sections: shown, and their problems
        package = read_package(df.sections, df.byteorder)
        problems += package.problems if package else []
    for flag, index in ((("debug-cu-index", package.cu), ("debug-tu-index", package.tu)) if package else ()):
        if flag in sections and df.section(index.section):
            out.write(f"\n.{index.section} contents:\n")
            dump_index_text(index, out)
    for flag, name in (("debug-str", "debug_str"), ("debug-line-str", "debug_line_str")):
        if flag in sections and df.section(name):
            out.write(f".{name}{dwo} contents:\n")
            tables.dump_strings(df.section(name), out)
    if "debug-addr" in sections and df.section("debug_addr"):
        out.write("\n.debug_addr contents:\n")
        units = ctx.units()   # GNU split DWARF 4's .debug_addr has no header: as llvm-dwarfdump, by the units' version
        bare = max((u.address_size for u in units), default=0) if units and max(u.version for u in units) < 5 else 0
        problems += tables.dump_addr(df.section("debug_addr"), df.byteorder, out, bare)
    problems += _lists(ctx, out, sections & {"debug-ranges", "debug-rnglists"}, dwo)
    for flag in ("debug-pubnames", "debug-pubtypes", "debug-gnu-pubnames", "debug-gnu-pubtypes"):
        name = flag.replace("-", "_")
        if flag in sections and df.section(name):
            out.write(f"\n.{name} contents:\n")
            problems += tables.dump_pubnames(name, df.section(name), df.byteorder, out, gnu="gnu" in flag)
    if "debug-str-offsets" in sections and df.section("debug_str_offsets"):
        out.write(f"\n.debug_str_offsets{dwo} contents:\n")
        problems += dump_str_offsets(ctx, out)
    if "gdb-index" in sections and df.section("gdb_index"):
        out.write("\n.gdb_index contents:\n")
        problems += dump_gdb_index(df.section("gdb_index"), out)
    for flag in ("apple-names", "apple-types", "apple-namespaces", "apple-objc"):
        name = flag.replace("-", "_")
        if flag in sections and df.section(name):
            out.write(f"\n.{name} contents:\n")
            problems += dump_apple(name, df.section(name), df.byteorder, df.section("debug_str"), out)
    if "debug-names" in sections and df.section("debug_names"):
        out.write("\n.debug_names contents:\n")
        problems += dump_names(df.section("debug_names"), df.byteorder, df.section("debug_str"), out)
    problems += ctx.problems
    return problems


_worker_context: DwarfContext | None = None  # set before forking; each worker decodes its share of units


def dump_units(ctx: DwarfContext, section: str, out: TextIO, opts: DumpOptions) -> list[str]:
    """The units of one section as text, in order. A large section is formatted by worker processes
    (:mod:`.parallel`: forked, so they share the file's bytes) unit run by unit run, and copied here in order as
    runs arrive: wall time divides by the CPUs. Each worker streams its run's text to a temporary file, so that
    memory stays bounded however much text a run makes (a run of deeply nested 1-byte DIEs makes hundreds of times
    its size)."""
    units = ctx.units(section)
    if opts.dwo and section == "debug_info" and not ctx.file.dwo:
        return dump_with_split_units(ctx, out, opts)
    jobs = parallel.check_jobs(opts.jobs)
    if parallel.worth_it(jobs, len(ctx.file.section(section))):
        folder = tempfile.mkdtemp(prefix="dwarfkit-dump-")
        runs = [(section, first, last, os.path.join(folder, f"run{n}"))
                for n, (first, last) in enumerate(parallel.unit_runs(units))]
        global _worker_context, _worker_options
        _worker_context, _worker_options = ctx, opts
        problems: list[str] = []
        try:
            for result in parallel.in_order(_dump_run, runs, jobs):
                problems += _write_result(result, out)
        finally:
            _worker_context = None
            shutil.rmtree(folder, ignore_errors=True)
        return problems
    dumper = InfoDumper(ctx, out, opts)
    for unit in units:
        dumper.dump_unit(unit)
        forget(unit)
    return dumper.problems


def _write_result(result: tuple[str, list[str]], out: TextIO) -> list[str]:
    """Copy a worker's text file to ``out`` in pieces (as bytes when ``out`` has a byte buffer) and remove it."""
    path, problems = result
    binary = getattr(out, "buffer", None)
    try:
        if binary is not None:
            out.flush()
            with open(path, "rb") as f:
                while piece := f.read(COPY_BYTES):
                    binary.write(piece)
        else:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                while text := f.read(COPY_BYTES):
                    out.write(text)
    finally:
        os.unlink(path)
    return problems


COPY_BYTES = 1 << 20
_worker_dumper: InfoDumper | None = None


def _dump_run(run: tuple[str, int, int, str]) -> tuple[str, list[str]]:
    """In a worker: write the text of units [first, last) of a section to ``path``; return it and the problems."""
    global _worker_dumper
    section, first, last, path = run
    ctx = _worker_context
    assert ctx is not None
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as text:
        if _worker_dumper is None:
            _worker_dumper = InfoDumper(ctx, text, _worker_options)
        dumper = _worker_dumper
        dumper.out = text
        dumper.problems = []
        for unit in ctx.units(section)[first:last]:
            dumper.dump_unit(unit)
            forget(unit)
    return path, dumper.problems


_worker_options = DumpOptions()


def _lists(ctx: DwarfContext, out: TextIO, sections: set[str], dwo: str = "") -> list[str]:
    """The chosen list sections (.debug_loc, _loclists, _ranges, _rnglists) in llvm-dwarfdump's layout."""
    problems: list[str] = []
    if dwo and "debug-loc" in sections and ctx.file.section("debug_loc"):
        # GNU's DWARF 4 split lists: not .debug_loc's layout
        out.write("\n.debug_loc.dwo contents:\n")
        problems += dump_split_loc_text(ctx, out)
        sections = sections - {"debug-loc"}
    for flag, sec in lists_text.list_sections(ctx, sections):
        out.write(f"\n.{sec.name}{dwo} contents:\n")
        if flag in ("debug-loc", "debug-loclists"):
            lists_text.dump_loc_text(ctx, sec, out)
        elif flag == "debug-ranges":
            lists_text.dump_ranges_text(sec, out)
        else:
            lists_text.dump_rnglists_text(sec, out)
        problems += sec.problems
    return problems


def line_tables(ctx: DwarfContext) -> Iterator[LineTable]:
    """Every line table in ``.debug_line``, in section order, each parsed with its rows."""
    data = ctx.file.section("debug_line")
    off = 0
    while off < len(data):
        t = parse_line_table(data, off, ctx.order, ctx.file.address_size, ctx.str, ctx.line_str)
        yield t
        if t.end <= off:
            break
        off = t.end


def dump_with_split_units(ctx: DwarfContext, out: TextIO, opts: DumpOptions) -> list[str]:
    """``--dwo``: each unit of ``.debug_info``, and after a skeleton its split unit from the ``.dwo`` it names
    (addresses resolved through the skeleton's ``.debug_addr``); a split unit not found is a note."""
    files = SplitFiles(ctx)
    dumper = InfoDumper(ctx, out, opts)
    split_dumpers: dict[str, InfoDumper] = {}
    problems: list[str] = []
    for unit in ctx.units("debug_info"):
        dumper.dump_unit(unit)
        if files.is_skeleton(unit):
            found = files.split_unit(unit)
            if found.unit is None or found.ctx is None or found.path is None:
                problems.append(found.note or "")
            else:
                split = split_dumpers.get(found.path)
                if split is None:
                    split = split_dumpers[found.path] = InfoDumper(found.ctx, out, opts)
                out.write(f"\n{found.path}: .debug_info.dwo:\n")
                split.dump_unit(found.unit)
        forget(unit)
    return problems + dumper.problems + [p for d in split_dumpers.values() for p in d.problems]
