"""A linked file's range and location lists and line rows, loaded in the file's encoding, stay undecoded until they
are looked at: unchanged, their bytes are copied into the new file; looked at, they are decoded and whatever the
caller made of them is written. Judged by llvm-dwarfdump-14's reading of the written file."""
from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import require_corpus, require_tool
from roundtrip import assert_same_dwarf

import dwarfkit
from dwarfkit import Expr
from dwarfkit.lists import LocationList
from dwarfkit.loading.convert import ConvertOptions, write

EXE = "elf/shapes-gcc-O2-x86_64"   # gcc -O2 -g: DWARF 5 location lists with views, range lists, line rows


def _dies(die):
    yield die
    for child in die:
        yield from _dies(child)


def _located(dw):
    """(DIE, its location list) of every DIE whose DW_AT_location is a list."""
    return [(d, d.get("location")) for u in dw.units for d in _dies(u.root)
            if isinstance(d.get("location"), LocationList)]


def test_unchanged_lists_and_rows_are_copied_and_mean_the_same(tmp_path: Path) -> None:
    require_tool("llvm-dwarfdump-14")
    src = require_corpus() / EXE
    out = tmp_path / "out"
    dw = dwarfkit.convert(src, out)
    lists = _located(dw)
    assert lists, f"{EXE} has location lists"
    # The copy path was taken: emitting looked at no list and no row.
    assert all(lst.source is not None for _, lst in lists)
    assert all(u.line.source is not None for u in dw.units if u.line is not None)
    assert_same_dwarf(src, out)


def test_what_the_caller_changes_after_a_look_is_written(tmp_path: Path) -> None:
    require_tool("llvm-dwarfdump-14")
    src = require_corpus() / EXE
    dw = dwarfkit.load(src)
    die, lst = _located(dw)[0]
    first = next(e for e in lst.entries if e.expr is not None)
    first.expr = Expr().reg(3)
    unit = next(u for u in dw.units if u.line is not None and u.line.sequences)
    rows = unit.line.sequences[0].rows
    changed = list(rows)
    changed[0] = (changed[0][0], changed[0][1] + 1000) + changed[0][2:]
    rows.clear()
    rows.extend(changed)
    out = tmp_path / "out"
    write(src, out, dw.emit(), ConvertOptions(), dw)
    shown = subprocess.run(["llvm-dwarfdump-14", f"--debug-info=0x{die.offset:x}", str(out)], capture_output=True,
                           text=True, check=True).stdout
    location = shown[shown.index("DW_AT_location"):]
    location = location[:location.index(")\n")]
    assert "DW_OP_reg3 RBX" in location.splitlines()[1], location
    lines = subprocess.run(["llvm-dwarfdump-14", "--debug-line", str(out)], capture_output=True, text=True,
                           check=True).stdout
    address = f"0x{changed[0][0] + unit.line.sequences[0].start.offset:016x}"
    row = next(r for r in lines.splitlines() if r.startswith(address))
    assert int(row.split()[1]) == changed[0][1], row
