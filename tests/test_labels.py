"""Labels of positions in any section (issue 16, item 3; gdb's dwarf.exp labels): a line program, a list, a string,
a raw line sequence, a unit header, a fixed offset in a raw section, used as attribute values and as a unit's
DW_AT_stmt_list, in the Python API and in descriptions. llvm-dwarfdump-14 reads what the labels point at; the
bytes are read back with pyelftools' ELF reader."""
from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import write_elf
from elftools.elf.elffile import ELFFile

from dwarfkit import Address, DescriptionError, DwarfBuilder, Expr, Label, LabelOffset, pin
from dwarfkit.description import build_file


def sections(path: Path) -> dict[str, bytes]:
    elf = ELFFile(io.BytesIO(path.read_bytes()))
    return {s.name: s.data() for s in elf.iter_sections() if s.name.startswith(".debug")}


def dwarfdump(path: Path, *options: str) -> str:
    tool = require_tool("llvm-dwarfdump-14")
    return subprocess.run([tool, *options, str(path)], capture_output=True, text=True, check=True).stdout


def test_labels_through_the_api(tmp_path):
    dw = DwarfBuilder(version=5)
    a = dw.compile_unit("a.c", comp_dir="/s", low_pc=Address(None, 0x1000), high_pc=8)
    b = dw.compile_unit("b.c", comp_dir="/s")
    seq = a.line.sequence(Address(None, 0x1000))
    seq.row(0, 1)
    seq.end(8)
    lines_a = Label("Llines").bind(a.line)
    raw = Label("Lraw")
    a.line.raw_sequence("00 09 02 00 20 00 00 00 00 00 00 00 01 01", label=raw)   # set_address 0x2000, end
    text = Label("Lstr").bind(".debug_str", dw.strings.add("named by a label"))
    locations = dw.location_list([(Address(None, 0x1000), 4, Expr().reg0())])
    b.override(stmt_list=lines_a)   # b's rows are a's
    b.root.die("variable", name=pin(text, "strp"), location=locations)
    b.root.die("variable", name="y", location=Label("Lloc").bind(locations))
    b.root.die("variable", name="z").set(0x3e01, LabelOffset(raw, 1))   # vendor attributes: any offset
    b.root.die("variable", name="u").set(0x3e02, LabelOffset(Label("Lunit").bind(b), 0))
    path = write_elf(tmp_path / "labels.o", dw.emit())
    data = sections(path)
    second = int.from_bytes(data[".debug_info"][:4], "little") + 4
    info = dwarfdump(path, "--debug-info")
    # b's stmt_list is a's program; the strp names the labelled string; both location lists are the one list
    assert info.count("DW_AT_stmt_list\t(0x00000000)") == 2
    assert '("named by a label")' in info
    assert len(re.findall(r"DW_AT_location\t\(0x0000000c: \n\s+\[0x0+1000, 0x0+1004\): DW_OP_reg0 RAX\)", info)) == 2
    line = data[".debug_line"]
    start = line.index(bytes.fromhex("00 09 02 00 20"))
    assert f"DW_AT_LLVM_config_macros\t(0x{start + 1:08x})" in info
    assert f"DW_AT_LLVM_sysroot\t(0x{second:08x})" in info   # the unit's own header
    assert "0x0000000000002000      1      0      1   0             0  is_stmt end_sequence" in \
        dwarfdump(path, "--debug-line")


DESCRIPTION = """\
dwarf: {version: 4}
functions:
  main: |
    mov eax, 0
    ret
labels:
  shared: {string: a shared name}
  first: {section: .debug_loc, offset: 0}
units:
  - name: a.c
    line_label: Lines_a
    dies:
      - {tag: base_type, label: int, name: int, byte_size: 4, encoding: signed}
      - tag: subprogram
        name: main
        type: int
        low_pc: main
        children:
          - {tag: variable, name: x, type: int, location: {locations: [[main, main+3, [reg0]]], label: Lx}}
          - {tag: variable, name: y, type: int, location: {offset_of: Lx}}
          - {tag: variable, name: {offset_of: shared, form: strp}, type: int}
          - {tag: variable, name: r, type: int, location: {offset_of: first}}
          - {tag: variable, name: z, type: int, 0x3e01: {offset_of: Lraw, form: sec_offset}}
    lines:
      - {function: main, rows: [[0, 1], [5, 2]]}
      - {raw: "00 01 01", label: Lraw}
  - name: b.c
    header_label: Unit_b
    override: {stmt_list: {offset_of: Lines_a}}
    dies:
      - {tag: variable, name: w, type: {offset_of: int, form: ref_addr}, 0x3e02: {offset_of: Unit_b, plus: 4}}
"""


def test_labels_in_a_description(tmp_path):
    (tmp_path / "labels.yaml").write_text(DESCRIPTION)
    exe = build_file(tmp_path / "labels.yaml").write(tmp_path / "labels")
    data = sections(exe)
    info = dwarfdump(exe, "--debug-info")
    assert info.count("DW_AT_stmt_list\t(0x00000000)") == 2
    assert '("a shared name")' in info
    # x, y (the list's label) and r (the section's first byte) read the one list
    listed = re.findall(r"DW_AT_location\t\((0x[0-9a-f]+): \n\s+(\[.*)", info)
    assert listed == [("0x00000000", "[0x00000000004000b0, 0x00000000004000b3): DW_OP_reg0 RAX)")] * 3
    line = data[".debug_line"]
    end_a = int.from_bytes(line[:4], "little") + 4   # the raw sequence ends a's program
    assert line[end_a - 3:end_a] == b"\x00\x01\x01"
    assert f"DW_AT_LLVM_config_macros\t(0x{end_a - 3:08x})" in info
    second = int.from_bytes(data[".debug_info"][:4], "little") + 4
    assert f"DW_AT_LLVM_sysroot\t(0x{second + 4:08x})" in info
    assert 'DW_AT_type\t(0x000000000000001c "int")' in info


@pytest.mark.parametrize("change, message", [
    (("location: {offset_of: Lx}", "location: {offset_of: nowhere}"),
     "labels.yaml:20: units[0].dies[1].children[1].location.offset_of: no DIE is labelled 'nowhere', nor any "
     "position"),
    (("label: Lx}", "label: int}"), "units[0].dies[1].children[0].location.label: label 'int' is a DIE's label"),
    (("header_label: Unit_b", "header_label: Lines_a"), "units[1].header_label: label 'Lines_a' is defined twice"),
    (("{offset_of: Lx}", "{offset_of: Lx, form: data2}"),
     "a label's offset is written in an offset-sized form"),
    (("first: {section: .debug_loc, offset: 0}", "first: {section: debug_loc, offset: 0}"),
     "labels.yaml:8: labels.first: label first: 'debug_loc' is not a section name"),
])
def test_bad_labels_name_file_line_and_key(tmp_path, change, message):
    assert change[0] in DESCRIPTION
    (tmp_path / "labels.yaml").write_text(DESCRIPTION.replace(change[0], change[1], 1))
    with pytest.raises(DescriptionError) as error:
        build_file(tmp_path / "labels.yaml")
    assert message in str(error.value)


def test_a_label_never_bound_is_an_error_at_emission():
    dw = DwarfBuilder(version=4)
    cu = dw.compile_unit("a.c")
    cu.root.die("variable", name="v", location=Label("Lnowhere"))
    with pytest.raises(DescriptionError, match="label Lnowhere: is used but never bound"):
        dw.emit()
