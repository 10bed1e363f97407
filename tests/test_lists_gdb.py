"""gdb reads location and range lists whose entry kinds the caller chose, in a linked x86-64 executable.

gdb 13 decodes DW_LLE_base_addressx, offset_pair, startx_length, base_address, start_end and start_length (and
DWARF 4 base address selection entries); it has no DW_LLE_startx_endx or default_location ("not supported yet" in
its loc.c) and reads DW_LLE_GNU_view_pair's operands as two addresses where GCC and readelf use two ULEB128s, so
those three are checked with llvm-dwarfdump and readelf in test_lists_entries.py instead. The executable's line
table puts file 0 in its own directory, as gcc 12 does; gdb's `info line` resolves through it.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require_tool
from debuggers import gdb

from dwarfkit import (
    Address,
    Arch,
    ContentSection,
    DwarfBuilder,
    Encoding,
    Expr,
    Image,
    Lle,
    Rle,
    SectionKind,
    Symbol,
    pin,
)
from dwarfkit.asm import encode
from dwarfkit.backends.elf import write_executable

pytestmark = pytest.mark.debugger


def a(offset: int) -> Address:
    return Address("f", offset)


def executable(path: Path, version: int, build: Path, src: Path) -> tuple[Path, int]:
    """The program and the offset of ``f`` in ``.text``: ``_start`` calls ``f``, 0x70 nops and ``ret``."""
    code = encode(Arch.X86_64, "_start:\ncall f\nmov eax, 60\nsyscall\nf:\n" + "nop\n" * 0x70 + "ret")
    f = 10
    image = Image(Arch.X86_64, entry="_start")
    image.sections = [ContentSection(".text", SectionKind.CODE, code)]
    image.symbols = [Symbol("_start", ".text", 0, f), Symbol("f", ".text", f, len(code) - f)]
    dw = DwarfBuilder(Encoding(version=version))
    cu = dw.compile_unit("a.c", comp_dir=str(build), low_pc=Address("_start"), high_pc=len(code), language="C99")
    if version >= 5:
        directory = cu.line.add_directory(str(src))
        cu.line.set_file(0, "a.c", directory)
        cu.line.set_file(1, "a.c", directory)
    seq = cu.line.sequence("f")
    seq.row(0, 3)
    seq.row(0x40, 4)
    seq.end(0x71)
    int_t = cu.base_type("int", 4, "signed")
    if version >= 5:
        ranges = [Rle.base_addressx("f"), Rle.offset_pair(0, 0x10), Rle.startx_length(a(0x10), 0x30),
                  Rle.start_end(a(0x40), a(0x60)), Rle.base_address(a(0x60)), Rle.offset_pair(0, 0x11)]
        locations = [Lle.base_addressx("f"), Lle.offset_pair(0, 0x10, Expr().reg(0)),
                     Lle.startx_length(a(0x30), 8, Expr().reg(2)), Lle.base_address(a(0x40)),
                     Lle.offset_pair(0, 4, Expr().reg(3)), Lle.start_end(a(0x50), a(0x58), Expr().reg(4)),
                     Lle.start_length(a(0x60), 2, Expr().reg(5))]
    else:
        ranges = [Rle.base_address("f"), Rle.offset_pair(0, 0x40), Rle.base_address(a(0x40)),
                  Rle.offset_pair(0, 0x31)]
        locations = [Lle.base_address("f"), Lle.offset_pair(0, 0x10, Expr().reg(0)),
                     Lle.offset_pair(0x30, 0x38, Expr().reg(2)), Lle.base_address(a(0x40)),
                     Lle.offset_pair(0, 4, Expr().reg(3))]
    fn = cu.die("subprogram", name="f", ranges=dw.range_list(ranges), external=True,
                frame_base=Expr().call_frame_cfa())
    fn.die("variable", name="x", type=int_t, location=dw.location_list(locations))
    moving = dw.location_list([(a(0), 0x10, Expr().reg(6)), (a(0x10), 0x10, Expr().reg(7))])
    fn.die("variable", name="y", type=int_t, location=pin(moving, "sec_offset"),
           GNU_locviews=moving.locviews([(0, 1), (1, 2)]))
    image.dwarf = dw.emit()
    write_executable(image, path)
    return path, f


@pytest.mark.parametrize("version", [4, 5])
def test_gdb_reads_chosen_entries(tmp_path: Path, version: int) -> None:
    require_tool("gdb")
    build, src = tmp_path / "build", tmp_path / "src"
    for directory in (build, src):   # two different a.c: gdb shows line 3 of the one the line table names
        directory.mkdir()
        (directory / "a.c").write_text("".join(f"/* {directory.name} line {n} */\n" for n in range(1, 10)))
    path, f = executable(tmp_path / "lists", version, build, src)
    out = gdb(path, ["info address f", "info scope f", "break *f+0x31", "run", "info symbol $pc",
                     "info line *$pc", "info source"])
    start = int(out.split('Symbol "f" is a function at address ')[1].split(".")[0], 16)

    def r(lo: int, hi: int) -> str:
        return f"Range {start + lo:#x}-{start + hi:#x}"

    expected = [f"Base address {start:#x}  {r(0, 0x10)}: a variable in $rax",
                f"{r(0x30, 0x38)}: a variable in $rcx",
                f"Base address {start + 0x40:#x}  {r(0x40, 0x44)}: a variable in $rbx"]
    if version >= 5:   # start_end, start_length
        expected += [f"{r(0x50, 0x58)}: a variable in $rsi", f"{r(0x60, 0x62)}: a variable in $rdi"]
    scope = out[out.index("Symbol x is multi-location:"):].splitlines()[1:1 + len(expected)]
    assert [line.strip() for line in scope] == expected, out
    y = out[out.index("Symbol y is multi-location:"):].splitlines()[1:3]   # has DW_AT_GNU_locviews too
    assert [line.strip().split("Range")[-1] for line in y] == [f"{r(0, 0x10)[5:]}: a variable in $rbp",
                                                              f"{r(0x10, 0x20)[5:]}: a variable in $rsp"], out
    assert "f + 49 in section .text" in out, out   # the breakpoint is inside f's ranges: gdb stopped in f
    assert f'starts at address {start:#x} <f> and ends at {start + 0x40:#x} <f+64>.' in out, out
    where = src if version >= 5 else build   # DWARF 5: file 0 and 1 in directory 1, not comp_dir
    assert f"Compilation directory is {build}" in out, out
    assert f"Located in {where / 'a.c'}" in out, out
    assert f"3\t/* {where.name} line 3 */" in out, out
