"""DWARF 5 line tables as gcc 12 and clang write them: file 0 in its own directory, MD5, vendor content types
(DW_LNCT_LLVM_source), rows at one address (DW_LNS_copy semantics) and every row flag, read by llvm-dwarfdump-14
(--debug-line, --verify) and llvm-symbolizer-14 (which resolves a row's file through its directory).
"""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import verify, write_elf
from elftools.elf.elffile import ELFFile

from dwarfkit import DescriptionError, DwarfBuilder, Encoding

MD5 = bytes(range(16))


def gcc12_program() -> DwarfBuilder:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c", comp_dir="/build", low_pc=0x1000, high_pc=0x20)
    line = cu.line
    src = line.add_directory("/src")
    line.set_file(0, "a.c", src, md5=MD5, content={"LLVM_source": "int main() {}"})
    line.set_file(1, "a.c", src, md5=MD5, content={0x2001: ("line_strp", "int main() {}")})
    header = line.add_file("b.h", src, md5=bytes(16), content={"DW_LNCT_LLVM_source": ""})
    seq = line.sequence(0x1000)
    seq.row(0, 3, file=0)
    seq.row(4, 4, file=0, prologue_end=True)
    seq.row(4, 5, file=header, basic_block=True)   # a second row at the same address
    seq.row(8, 6, file=header, is_stmt=False, discriminator=3)
    seq.row(0xc, 7, file=header, epilogue_begin=True, isa=2)
    seq.end(0x20)
    cu.die("subprogram", name="main", low_pc=0x1000, high_pc=0x20)
    return dw


def test_file0_in_its_own_directory(tmp_path: Path) -> None:
    path = write_elf(tmp_path / "line.o", gcc12_program().emit())
    tool = require_tool("llvm-dwarfdump-14")
    verify(path, tool)
    text = subprocess.run([tool, "--debug-line", str(path)], capture_output=True, text=True, check=True).stdout
    assert 'include_directories[  1] = "/src"' in text
    for index, name, md5, source in ((0, "a.c", MD5, "int main() {}"), (1, "a.c", MD5, "int main() {}"),
                                     (2, "b.h", bytes(16), "")):
        block = text[text.index(f"file_names[  {index}]:"):].splitlines()[1:5]
        assert [line.strip() for line in block] == [f'name: "{name}"', "dir_index: 1", f"md5_checksum: {md5.hex()}",
                                                   f'source: "{source}"']
    rows = [line.split() for line in text.splitlines() if line.startswith("0x00000000000010")]
    assert rows == [
        ["0x0000000000001000", "3", "0", "0", "0", "0", "is_stmt"],
        ["0x0000000000001004", "4", "0", "0", "0", "0", "is_stmt", "prologue_end"],
        ["0x0000000000001004", "5", "0", "2", "0", "0", "is_stmt", "basic_block"],
        ["0x0000000000001008", "6", "0", "2", "0", "3"],
        ["0x000000000000100c", "7", "0", "2", "2", "0", "is_stmt", "epilogue_begin"],
        ["0x0000000000001020", "7", "0", "2", "2", "0", "is_stmt", "end_sequence"],
    ]
    symbolizer = require_tool("llvm-symbolizer-14")
    out = subprocess.run([symbolizer, f"--obj={path}", "0x1000", "0x1008"], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["main", "/src/a.c:3:0", "main", "/src/b.h:6:0"]


def test_inline_strings_without_line_str(tmp_path: Path) -> None:
    dw = DwarfBuilder(Encoding(version=5), line_strings=False)
    cu = dw.compile_unit("a.c", comp_dir="/build")
    cu.line.set_file(0, "a.c", 0, content={"LLVM_source": "x", 0x2345: 7})
    cu.line.set_file(1, "a.c", 0, content={"LLVM_source": "x", 0x2345: 7})
    path = write_elf(tmp_path / "inline.o", dw.emit())
    tool = require_tool("llvm-dwarfdump-14")
    verify(path, tool)
    text = subprocess.run([tool, "--debug-line", str(path)], capture_output=True, text=True, check=True).stdout
    assert text.count('source: "x"') == 2
    # the file entry format (pyelftools cannot read a vendor content type): LLVM_source as DW_FORM_string (0x08),
    # 0x2345 as DW_FORM_udata (0x0f), both as ULEB128 type codes
    data = ELFFile(io.BytesIO(path.read_bytes())).get_section_by_name(".debug_line").data()
    assert b"\x04\x01\x08\x02\x0f\x81\x40\x08\xc5\x46\x0f" in data   # 4 formats: path, dir index, the two


@pytest.mark.parametrize("call, message", [
    (lambda line: line.set_file(5, "x.c"), "there is no file 5"),
    (lambda line: line.set_file(0, "x.c", 9), "refers to directory 9"),
    (lambda line: line.add_file("x.c", content={"path": "y"}), "other than path"),
    (lambda line: line.add_file("x.c", content={0x2001: 1.5}), "is not a str, int or bytes"),
    (lambda line: line.add_file("x.c", content={0x2001: ("data1", 300)}), "does not fit DW_FORM_data1"),
    (lambda line: line.add_file("x.c", content={0x2001: ("ref4", 3)}), "is not \\(form, value\\)"),
    (lambda line: line.add_file("x.c", content={"LLVM_nope": "a"}), "is not a DW_LNCT_"),
])
def test_refused(call, message: str) -> None:
    dw = DwarfBuilder(Encoding(version=5))
    with pytest.raises(DescriptionError, match=message):
        call(dw.compile_unit("a.c").line)


def test_refused_before_dwarf5_and_mixed_formats() -> None:
    dw = DwarfBuilder(Encoding(version=4))
    with pytest.raises(DescriptionError, match="content types need DWARF 5"):
        dw.compile_unit("a.c").line.add_file("b.c", content={"LLVM_source": ""})
    dw = DwarfBuilder(Encoding(version=5))
    dw.compile_unit("a.c").line.add_file("b.c", content={"LLVM_source": ""})
    with pytest.raises(DescriptionError, match="files give different content types"):
        dw.emit()


def decoded(path: Path) -> list[list[str]]:
    readelf = require_tool("readelf")
    text = subprocess.run([readelf, "--debug-dump=decodedline", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return [line.split()[1:] for line in text.splitlines() if line.startswith("a.c ")]


@pytest.mark.parametrize("version", [4, 5])
def test_vliw_op_index(tmp_path: Path, version: int) -> None:
    """readelf shows address[op_index]; llvm-dwarfdump-14 does not support maximum_operations_per_instruction > 1."""
    dw = DwarfBuilder(Encoding(version=version))
    cu = dw.compile_unit("a.c", comp_dir="/build",
                         line_options={"max_ops_per_instruction": 3, "min_instruction_length": 4})
    seq = cu.line.sequence(0x1000)
    seq.row(0, 1)
    seq.row(0, 2, op_index=1)
    seq.row(0, 3, op_index=2)
    seq.row(4, 4)
    seq.row(4, 5, op_index=2)
    seq.row(0x400, 6, op_index=1)   # far: advance_pc (never fixed_advance_pc, which resets op_index)
    seq.end(0x800)
    rows = decoded(write_elf(tmp_path / "vliw.o", dw.emit()))
    assert rows == [["1", "0x1000[0]", "x"], ["2", "0x1000[1]", "1", "x"], ["3", "0x1000[2]", "2", "x"],
                    ["4", "0x1004[0]", "x"], ["5", "0x1004[2]", "1", "x"], ["6", "0x1400[1]", "x"],
                    ["-", "0x1800[0]"]]


def test_rows_at_one_address_are_views(tmp_path: Path) -> None:
    """GCC's location views in the line table are implicit: each row at the address of the previous one is the
    next view there (readelf numbers them), so rows at one address are all the writer needs."""
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c", comp_dir="/build")
    seq = cu.line.sequence(0x1000)
    for line in (1, 2, 3):
        seq.row(0, line)
    seq.row(2, 4)
    seq.end(4)
    rows = decoded(write_elf(tmp_path / "views.o", dw.emit()))
    assert rows == [["1", "0x1000", "x"], ["2", "0x1000", "1", "x"], ["3", "0x1000", "2", "x"], ["4", "0x1002", "x"],
                    ["-", "0x1004"]]


@pytest.mark.parametrize("options, row, message", [
    ({}, {"op_index": 1}, "op_index 1 needs maximum_operations_per_instruction > 1 \\(it is 1\\)"),
    ({"max_ops_per_instruction": 2}, {"op_index": 2}, "op_index 2 needs maximum_operations_per_instruction > 2"),
])
def test_op_index_refused(options: dict, row: dict, message: str) -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c", line_options=options)
    seq = cu.line.sequence(0x1000)
    seq.row(0, 1, **row)
    seq.end(4)
    with pytest.raises(DescriptionError, match=message):
        dw.emit()


def test_max_ops_checked() -> None:
    with pytest.raises(DescriptionError, match="more than 1 needs DWARF 4"):
        DwarfBuilder(Encoding(version=3)).compile_unit("a.c", line_options={"max_ops_per_instruction": 2})
    with pytest.raises(DescriptionError, match="is not in 1..255"):
        DwarfBuilder(Encoding(version=5)).compile_unit("a.c", line_options={"max_ops_per_instruction": 0})
    dw = DwarfBuilder(Encoding(version=5))
    with pytest.raises(DescriptionError, match="op_index -1 is not an integer"):
        dw.compile_unit("a.c").line.sequence(0).row(0, 1, op_index=-1)


@pytest.mark.parametrize("name", ["elf/shapes-gcc-O2-dwarf5.o", "elf/shapes-gcc-x86_64"])
def test_gcc12_tables_reproduced(tmp_path: Path, name: str) -> None:
    """The directory and file tables of real gcc 12 output (read by pyelftools) written again: llvm-dwarfdump-14
    prints the same tables for both."""
    from conftest import require_corpus
    original = require_corpus() / name
    with open(original, "rb") as f:
        di = ELFFile(f).get_dwarf_info()
        cu = next(di.iter_CUs())
        header = di.line_program_for_CU(cu).header
        directories = [d.DW_LNCT_path.decode() for d in header.directories]
        files = [(e.DW_LNCT_path.decode(), e.DW_LNCT_directory_index) for e in header.file_names]
    dw = DwarfBuilder(Encoding(version=5))
    line = dw.compile_unit(files[0][0], comp_dir=directories[0]).line
    for directory in directories[1:]:
        line.add_directory(directory)
    line.set_file(0, *files[0])
    line.set_file(1, *files[1])
    for file, directory in files[2:]:
        assert line.add_file(file, directory) == len(line.files) - 1   # no duplicates in gcc's table
    path = write_elf(tmp_path / "again.o", dw.emit())
    tool = require_tool("llvm-dwarfdump-14")

    def tables(p: Path) -> str:
        text = subprocess.run([tool, "--debug-line", str(p)], capture_output=True, text=True).stdout
        start = text.index("include_directories[  0]")
        return text[start:text.index("\n\n", start)]

    assert tables(path) == tables(original)
    assert files[0][1] != 0   # the point: gcc 12 puts file 0 in a directory of its own


def test_directory_content(tmp_path: Path) -> None:
    """Directory entries take further content types too (readelf shows them; llvm-dwarfdump-14 skips them)."""
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c", comp_dir="/build")
    cu.line.add_directory("/build", content={0x2345: ("data2", 0x1234)})
    cu.line.add_directory("/src", content={0x2345: ("data2", 0x5678)})
    cu.line.add_file("b.h", 1)
    path = write_elf(tmp_path / "dirs.o", dw.emit())
    verify(path, require_tool("llvm-dwarfdump-14"))
    text = subprocess.run([require_tool("readelf"), "--debug-dump=rawline", str(path)], capture_output=True,
                          text=True, check=True).stdout
    table = text[text.index("The Directory Table"):text.index("The File Name Table")]
    assert "(Unknown format content type 9029)" in table
    rows = [line.split() for line in table.splitlines() if line.strip()[:1].isdigit()]
    assert [(r[0], r[1], r[-1]) for r in rows] == [("0", "4660", "/build"), ("1", "22136", "/src")]
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c", comp_dir="/build")
    cu.line.add_directory("/src", content={0x2345: 1})
    with pytest.raises(DescriptionError, match="directories give different content types"):
        dw.emit()
