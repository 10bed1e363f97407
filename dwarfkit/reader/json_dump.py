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
     "problems": ["one line per problem found"]}

``value`` is exactly the text llvm-dwarfdump (and ``dwarfkit dump``) prints between the parentheses; ``raw`` is
the decoded integer when the form holds one (offsets of references are unit-relative as encoded).
"""
from __future__ import annotations

import json
from typing import TextIO

from . import forms, names
from .container import DebugFile
from .dump import line_tables
from .lines import BASIC_BLOCK, END_SEQUENCE, EPILOGUE_BEGIN, IS_STMT, PROLOGUE_END
from .text import DumpOptions, InfoDumper
from .units import DW_UT, DwarfContext, forget

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
            fmts = {}
            dies = []
            for i, ab in enumerate(unit.abbs):
                if ab is None:
                    dies.append({"offset": unit.offs[i], "depth": unit.depths[i], "tag": None})
                    continue
                attrs = []
                for (at, fm, _c), v in zip(ab.attrs, unit.vals[i]):
                    fmt = fmts.get((at, fm))
                    if fmt is None:
                        fmt = fmts[at, fm] = dumper.formatter(unit, at, fm)
                    a = {"name": names.attr_name(at), "form": forms.form_name(fm), "value": fmt(i, v, unit.depths[i])}
                    if isinstance(v, int):
                        a["raw"] = v
                    attrs.append(a)
                dies.append({"offset": unit.offs[i], "depth": unit.depths[i], "tag": names.tag_name(ab.tag),
                             "attributes": attrs})
            record = {"section": section, "offset": unit.offset, "version": unit.version,
                      "unit_type": DW_UT.get(unit.unit_type, unit.unit_type), "offset_size": unit.offset_size,
                      "address_size": unit.address_size, "abbrev_offset": unit.abbrev_offset,
                      "length": unit.length, "dies": dies}
            problems += unit.problems
            forget(unit)
            w(("" if first else ",") + "\n" + json.dumps(record))
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
    problems += dumper.problems + ctx.problems
    w('\n], "problems": ' + json.dumps(problems) + "}\n")
    return problems
