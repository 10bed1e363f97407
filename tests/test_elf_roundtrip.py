"""Debugger round trips: gdb, lldb-14 and gdb-multiarch + qemu-aarch64 on ELF files holding the core's DWARF.

The program (tests/programs.py) is real code with two compile units; every expectation below comes from its model
(line rows, variable values the code computes), never from our own output.
"""
from __future__ import annotations

import re
from pathlib import Path

import programs
import pytest
from conftest import require_tool
from debuggers import debug, frames, lldb
from elf_tools import execute, run, verify_clean

from dwarfkit import Arch
from dwarfkit.backends.elf import write_executable, write_object

pytestmark = pytest.mark.debugger

LD = {Arch.X86_64: {"ld": "ld", "gold": "ld.gold", "lld": "ld.lld-14"},
      Arch.AARCH64: {"ld": "aarch64-linux-gnu-ld", "gold": "aarch64-linux-gnu-ld.gold", "lld": "ld.lld-14"}}


def _symbols(path: Path) -> dict[str, int]:
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        return {s.name: s["st_value"] for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols() if s.name}


def _make(tmp_path: Path, arch: Arch, how: str, version: int = 5, offset_size: int = 4,
          compress: bool = False) -> tuple["programs.Program", Path]:
    """The program written as a static executable (``how="exe"``) or as an object linked by ``how``."""
    for name, text in programs.SOURCES.items():
        (tmp_path / name).write_text(text)
    program = programs.build(arch, comp_dir=str(tmp_path), version=version, offset_size=offset_size)
    exe = tmp_path / "prog"
    if how == "exe":
        write_executable(program.image, exe, compress=compress)
    else:
        write_object(program.image, tmp_path / "prog.o", compress=compress)
        verify_clean(tmp_path / "prog.o")
        extra = ["-m", "aarch64linux"] if how == "lld" and arch is Arch.AARCH64 else []
        run(require_tool(LD[arch][how]), *extra, "-o", exe, tmp_path / "prog.o")
    verify_clean(exe)
    assert execute(arch, exe) == programs.EXIT_STATUS
    return program, exe


SESSION = ["break util.c:13 if i == 3", "break compute", "run", "info args", "next", "next", "step", "info args",
           "p *p", "ptype p", "bt", "finish", "continue", "bt", "info args", "info locals", "finish", "next",
           "info locals", "p total", "info scope main.c:15", "info line util.c:13", "continue"]


def _check_gdb_session(out: str, program: "programs.Program", symbols: dict[str, int]) -> None:
    text = symbols["_start"] - program.ranges["_start"][0]  # where .text starts in this file
    at = lambda unit, line: program.line_address(unit, line, text)  # noqa: E731
    # Breakpoints: by file:line on the row, by name on the first row after the prologue's line.
    assert f"Breakpoint 1 at {at('util.c', 13):#x}: file util.c, line 13." in out, out
    assert f"Breakpoint 2 at {at('main.c', 9):#x}: file main.c, line 9." in out, out
    assert "Breakpoint 2, compute (a=3, b=4) at main.c:9\n9\t    pt.x = a;\na = 3\nb = 4\n" in out, out
    # next follows the line table, step enters the callee in the other unit.
    assert "\n10\t    pt.y = b;\n12\t        long t = scale(&pt, 2);\n" in out, out
    assert re.search(r"\nscale \(p=0x[0-9a-f]+, factor=2\) at util.c:5\n5\t    long sum = p->x \+ p->y;\n"
                     r"p = 0x[0-9a-f]+\nfactor = 2\n", out), out
    assert "= {x = 3, y = 4}\ntype = struct point {\n    long x;\n    long y;\n} *\n" in out, out
    backtraces = frames(out)
    assert re.fullmatch(r"scale \(p=0x[0-9a-f]+, factor=2\) at util.c:5", backtraces[0]), out
    assert re.fullmatch(r"0x[0-9a-f]+ in compute \(a=3, b=4\) at main.c:12", backtraces[1]), out
    assert re.fullmatch(r"0x[0-9a-f]+ in _start \(\) at main.c:22", backtraces[2]), out
    assert "Value returned is $2 = 14\n" in out, out
    # leaf keeps no frame pointer and moves the stack pointer: only its CFI lets gdb find compute and _start.
    assert "Breakpoint 1, leaf (n=4) at util.c:13\n13\t        acc += i;\n" in out, out
    assert backtraces[3] == "leaf (n=4) at util.c:13", out
    assert re.fullmatch(r"0x[0-9a-f]+ in compute \(a=3, b=4\) at main.c:14", backtraces[4]), out
    assert re.fullmatch(r"0x[0-9a-f]+ in _start \(\) at main.c:22", backtraces[5]), out
    assert len(backtraces) == 6, out
    # Locals of the innermost lexical block come first: registers (i, acc) in leaf ...
    assert "\nn = 4\ni = 3\nacc = 3\n" in out, out
    # ... and the stack in compute, two nested blocks deep, once u is set.
    assert "Value returned is $3 = 6\n" in out, out
    assert "\n15\t            return t + u;\nu = 6\nt = 14\npt = {x = 3, y = 4}\n" in out, out
    assert f"= {programs.TOTAL}\n" in out, out
    scope = out[out.index("Scope for main.c:15:"):out.index('Line 13 of "util.c"')]
    assert re.findall(r"Symbol (\w+) is .*?length (\d+)\.", scope, re.S) == \
        _scope(program, "compute", program.line_address("main.c", 15, 0)), scope
    leaf_rows = [offset for offset, line in program.rows["leaf"] if line == 13]
    row_end = min(o for o, _ in program.rows["leaf"] if o > leaf_rows[0]) + text
    assert f'Line 13 of "util.c" starts at address {at("util.c", 13):#x} <leaf+' \
           f'{at("util.c", 13) - symbols["leaf"]}> and ends at {row_end:#x} <leaf+{row_end - symbols["leaf"]}>.' \
        in out, out
    assert "exited with code 024]" in out, out  # gdb prints the status in octal: 20


SIZES = {"long": "8", "struct point": "16", "struct point *": "8"}


def _scope(program: "programs.Program", function: str, offset: int) -> list[tuple[str, str]]:
    """(name, size) of the variables visible at ``offset`` in the model, innermost block first, as gdb lists them."""
    f = program.functions[function]
    chain, blocks = [], f.blocks
    while blocks:
        inside = [b for b in blocks if program.labels[b.start] <= offset < program.labels[b.end]]
        if not inside:
            break
        chain.insert(0, inside[0])
        blocks = inside[0].blocks
    variables = [v for block in chain for v in block.variables] + f.params + f.locals
    return [(v.name, SIZES[v.type]) for v in variables]


@pytest.mark.parametrize("how, version, offset_size, compress", [
    ("exe", 5, 4, False), ("exe", 4, 4, True), ("exe", 5, 8, False), ("ld", 5, 4, False), ("gold", 4, 8, False),
    ("lld", 5, 4, True)], ids=["exe-v5", "exe-v4-zlib", "exe-dwarf64", "ld-v5", "gold-v4-dwarf64", "lld-v5-zlib"])
def test_gdb_x86_64(tmp_path: Path, how: str, version: int, offset_size: int, compress: bool) -> None:
    program, exe = _make(tmp_path, Arch.X86_64, how, version, offset_size, compress)
    _check_gdb_session(debug(Arch.X86_64, exe, SESSION), program, _symbols(exe))


@pytest.mark.parametrize("how", ["exe", "lld"])
def test_gdb_multiarch_qemu_aarch64(tmp_path: Path, how: str) -> None:
    program, exe = _make(tmp_path, Arch.AARCH64, how)
    out = debug(Arch.AARCH64, exe, SESSION)
    _check_gdb_session(out, program, _symbols(exe))


def test_lldb_x86_64(tmp_path: Path) -> None:
    program, exe = _make(tmp_path, Arch.X86_64, "exe")
    symbols = _symbols(exe)
    text = symbols["_start"] - program.ranges["_start"][0]
    line13 = program.line_address("util.c", 13, text)
    out = lldb(exe, ["breakpoint set -f util.c -l 13", "breakpoint set -n scale", "run", "frame variable", "bt",
                     "finish", "continue", "bt", "frame variable", "breakpoint delete 1", "finish",
                     "thread step-over", "frame variable", "target variable total", "image lookup -t point",
                     "image lookup -a " + hex(line13)])
    assert f"Breakpoint 1: where = prog`leaf + {line13 - symbols['leaf']} at util.c:13, address = {line13:#018x}" \
        in out, out
    scale_body = program.line_address("util.c", 5, text)
    assert f"Breakpoint 2: where = prog`scale + {scale_body - symbols['scale']} at util.c:5" in out, out
    assert re.search(r"\(point \*\) p = 0x[0-9a-f]+\n\(long\) factor = 2\n\(long\) sum = ", out), out
    assert re.search(r"frame #0: 0x[0-9a-f]+ prog`scale\(p=0x[0-9a-f]+, factor=2\) at util.c:5\n"
                     r"\s+frame #1: 0x[0-9a-f]+ prog`compute\(a=3, b=4\) at main.c:12\n"
                     r"\s+frame #2: 0x[0-9a-f]+ prog`_start at main.c:22\n", out), out
    assert "Return value: (long) $0 = 14" in out, out
    assert re.search(r"frame #0: 0x[0-9a-f]+ prog`leaf\(n=4\) at util.c:13\n"
                     r"\s+frame #1: 0x[0-9a-f]+ prog`compute\(a=3, b=4\) at main.c:14\n"
                     r"\s+frame #2: 0x[0-9a-f]+ prog`_start at main.c:22\n", out), out
    assert "(long) n = 4\n(long) acc = 0\n(long) i = 0\n" in out, out  # first iteration
    assert "Return value: (long) $1 = 6" in out, out
    assert "(long) a = 3\n(long) b = 4\n(point) pt = (x = 3, y = 4)\n(long) t = 14\n(long) u = 6\n" in out, out
    assert f"(long) total = {programs.TOTAL}" in out, out
    assert 'name = "point", byte-size = 16' in out and "struct point {\n    long x;\n    long y;\n}" in out, out
    assert "Summary: prog`leaf + " in out and "at util.c:13" in out, out
