"""``dwarfkit dump --json``: the same content as the text dump, as one JSON document written unit by unit.

Structure (all offsets and addresses are integers)::

    {"file": path, "format": "elf64-x86-64", "arch": "x86_64",
     "units": [{"section": "debug_info", "offset": 0, "version": 5, "unit_type": "DW_UT_compile",
                "offset_size": 4, "address_size": 8, "abbrev_offset": 0, "length": 1231,
                "dies": [{"offset": 12, "depth": 0, "tag": "DW_TAG_compile_unit",
                          "attributes": [{"name": "DW_AT_name", "form": "DW_FORM_strp",
                                          "value": "\\"src/shapes.c\\"", "raw": 31}]},
                         {"offset": 125, "depth": 1, "tag": null}]}],          # null tag: a NULL entry
     "line_tables": [{"offset": 0, "version": 5, "include_directories": [...],
                      "files": [{"name": "shapes.c", "dir_index": 1}],
                      "rows": [{"address": 0, "line": 27, "column": 48, "file": 1, "isa": 0,
                                "discriminator": 0, "flags": ["is_stmt"]}]}],
     "lists": {"debug_loclists": {"address_size": 8, "tables": [
                   {"offset": 0, "header": {"length": 613, "format": "DWARF32", "version": 5, "addr_size": 8,
                                            "seg_size": 0, "offset_entry_count": 0},   # null in .debug_loc/_ranges
                    "offsets": [],
                    "lists": [{"offset": 14, "entries": [
                        {"kind": "DW_LLE_offset_pair", "values": [1511, 1528], "range": null,
                         "expression": "DW_OP_lit10, DW_OP_stack_value"}]}]}]}},
               # keys: debug_loc, debug_loclists, debug_ranges, debug_rnglists (those present and chosen);
               # "range" is [start, end) where llvm-dwarfdump resolves it without a unit, else null; "kind" is
               # the DW_LLE_/DW_RLE_ name ("pair" in .debug_ranges); "expression" only in location lists.
     "str_offsets": [{"offset": 0, "base": 8, "size": 28, "format": "DWARF32", "version": 5,
                      "entries": [{"offset": 8, "string_offset": 289, "string": "clang"}]}],  # string null: none
     "names": [{"offset": 0, "header": {"length": 180, "format": "DWARF32", "version": 5, "cu_count": 1,
                                        "local_tu_count": 0, "foreign_tu_count": 0, "bucket_count": 5,
                                        "name_count": 5, "abbrev_table_size": 25, "augmentation": "LLVM0700"},
                "cus": [0], "local_tus": [], "foreign_tus": [], "buckets": [0, 1, 0, 2, 3],
                "abbreviations": [{"code": 46, "tag": "DW_TAG_subprogram",
                                   "attributes": [["DW_IDX_die_offset", "DW_FORM_ref4"]]}],
                "names": [{"index": 1, "hash": 2090499946, "string_offset": 52, "string": "main",
                           "entries": [{"offset": 153, "abbrev": 46, "tag": "DW_TAG_subprogram",
                                        "values": [["DW_IDX_die_offset", 50]]}]}]}],   # .debug_names
     "problems": ["one line per problem found"]}

``value`` is exactly the text llvm-dwarfdump (and ``dwarfkit dump``) prints between the parentheses; ``raw`` is
the decoded integer when the form holds one (offsets of references are unit-relative as encoded).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from . import forms, lists_text, names, names_text
from .debugfile import DebugFile
from .dump import line_tables
from .expr import format_expr
from .lines import BASIC_BLOCK, END_SEQUENCE, EPILOGUE_BEGIN, IS_STMT, PROLOGUE_END
from .str_offsets_text import contributions
from .text import DumpOptions, InfoDumper
from .units import DW_UT, DwarfContext, Unit, forget

_FLAGS = [(IS_STMT, "is_stmt"), (BASIC_BLOCK, "basic_block"), (PROLOGUE_END, "prologue_end"),
          (EPILOGUE_BEGIN, "epilogue_begin"), (END_SEQUENCE, "end_sequence")]


def dump_json(df: DebugFile, out: TextIO, sections: set[str], opts: DumpOptions) -> list[str]:
    ctx = DwarfContext(df)
    problems = list(df.problems)
    dumper = InfoDumper(ctx, out, opts)
    w = out.write
    w("{" + f'"file": {json.dumps(df.path)}, "format": {json.dumps(df.file_format)}, "arch": {json.dumps(df.arch)}')
    w(', "units": [')
    first = True
    for section in ("debug_info", "debug_types"):
        if section.replace("_", "-") not in sections:
            continue
        for unit in ctx.units(section):
            ctx.load(unit)
            record: dict[str, object] = {"section": section, "offset": unit.offset, "version": unit.version,
                      "unit_type": DW_UT.get(unit.unit_type, unit.unit_type), "offset_size": unit.offset_size,
                      "address_size": unit.address_size, "abbrev_offset": unit.abbrev_offset,
                      "length": unit.length}
            # The same text as json.dumps of the record with its "dies" last, written DIE by DIE: a unit of a
            # million DIEs never sits in memory as dictionaries.
            w(("" if first else ",") + "\n" + json.dumps(record)[:-1] + ', "dies": [')
            _dies_json(dumper, unit, w)
            w("]}")
            problems += unit.problems
            forget(unit)
            first = False
    w('\n], "line_tables": [')
    first = True
    if "debug-line" in sections:
        for t in line_tables(ctx):
            record = {"offset": t.offset, "version": t.version, "include_directories": t.include_dirs,
                      "files": [{"name": f.name, "dir_index": f.dir_index} for f in t.files],
                      "rows": [{"address": a, "line": ln, "column": c, "file": f, "isa": isa, "discriminator": d,
                                "flags": [n for bit, n in _FLAGS if fl & bit]}
                               for a, ln, c, f, isa, d, fl in t.rows]}
            problems += t.problems
            w(("" if first else ",") + "\n" + json.dumps(record))
            first = False
    w("\n]")
    problems += _lists_json(ctx, out, sections)
    problems += dumper.problems + ctx.problems
    w(', "problems": ' + json.dumps(problems) + "}\n")
    return problems


def _dies_json(dumper: InfoDumper, unit: Unit, w: Callable[[str], object]) -> None:
    """The unit's DIEs as JSON objects separated by ", ", written a few thousand at a time."""
    fmts: dict = {}
    chunk: list[str] = []
    separator = ""
    for i, ab in enumerate(unit.abbs):
        values = unit.vals[i]
        die: dict[str, object]
        if ab is None or values is None:
            die = {"offset": unit.offs[i], "depth": unit.depths[i], "tag": None}
        else:
            attrs = []
            for (at, fm, _c), v in zip(ab.attrs, values, strict=True):
                fmt = fmts.get((at, fm))
                if fmt is None:
                    fmt = fmts[at, fm] = dumper.formatter(unit, at, fm)
                a: dict[str, object] = {"name": names.attr_name(at), "form": forms.form_name(fm),
                                        "value": fmt(i, v, unit.depths[i])}
                if isinstance(v, int):
                    a["raw"] = v
                attrs.append(a)
            die = {"offset": unit.offs[i], "depth": unit.depths[i], "tag": names.tag_name(ab.tag),
                   "attributes": attrs}
        chunk.append(json.dumps(die))
        if len(chunk) >= 4096:
            w(separator + ", ".join(chunk))
            chunk.clear()
            separator = ", "
    if chunk:
        w(separator + ", ".join(chunk))


def _lists_json(ctx: DwarfContext, out: TextIO, sections: set[str]) -> list[str]:
    """The "lists" and "str_offsets" members; returns the problems found reading them."""
    problems: list[str] = []
    lists = {}
    for _flag, sec in lists_text.list_sections(ctx, sections):
        lists[sec.name] = {"address_size": sec.address_size, "tables": [
            {"offset": t.offset, "header": t.header, "offsets": t.offsets,
             "lists": [{"offset": li.offset, "entries": [_entry(ctx, t, sec, e) for e in li.entries]}
                       for li in t.lists]} for t in sec.tables]}
        problems += sec.problems
    out.write(', "lists": ' + json.dumps(lists))
    records = []
    if "debug-str-offsets" in sections and ctx.str_offsets:
        found, problems_here = contributions(ctx)
        problems += problems_here
        records = [{"offset": c.header, "base": c.base, "size": c.size,
                    "format": "DWARF64" if c.offset_size == 8 else "DWARF32", "version": c.version,
                    "entries": [{"offset": pos, "string_offset": v, "string": text}
                                for pos, v, text in c.entries(ctx)]} for c in found]
    out.write(', "str_offsets": ' + json.dumps(records))
    indices = []
    if "debug-names" in sections and ctx.file.section("debug_names"):
        found_names, more = names_text.read_names(ctx.file.section("debug_names"), ctx.order, ctx.str)
        problems += more
        indices = [{"offset": x.offset, "header": x.header, "cus": x.cus, "local_tus": x.local_tus,
                    "foreign_tus": x.foreign_tus, "buckets": x.buckets,
                    "abbreviations": [{"code": a.code, "tag": names.tag_name(a.tag),
                                       "attributes": [[names_text.IDX.get(i, i), forms.form_name(f)]
                                                      for i, f in a.attrs]} for a in x.abbrevs.values()],
                    "names": [{"index": i, "hash": h, "string_offset": so, "string": text,
                               "entries": [{"offset": at, "abbrev": ab.code, "tag": names.tag_name(ab.tag),
                                            "values": [[names_text.IDX.get(k, k), v] for k, _f, v in values]}
                                           for at, ab, values in entries]}
                              for i, h, so, text, entries in x.names]} for x in found_names]
    out.write(', "names": ' + json.dumps(indices))
    return problems


def _entry(ctx: DwarfContext, table: lists_text.ListTable, sec: lists_text.ListSection,
           e: lists_text.Entry) -> dict[str, object]:
    record: dict[str, object] = {"kind": e.kind, "values": list(e.values), "range": list(e.range) if e.range else None}
    if e.expr is not None:
        asz = table.header["addr_size"] if table.header else sec.address_size
        record["expression"] = format_expr(e.expr, ctx.file.arch, asz, 4, ctx.order,
                                           lists_text.no_unit_base_type) or "<empty>"
    return record
