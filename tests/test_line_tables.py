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
