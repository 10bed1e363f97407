"""Header fields of .debug_aranges sets and DWARF 5 .debug_rnglists/.debug_loclists contributions overridden by name
(issue 16, item 3), in the Python API (`DwarfBuilder.header_override`) and in descriptions (`aranges_override`,
`list_headers`): each writes exactly the bytes asked for (read back with pyelftools' ELF reader) and `dwarfkit verify`
reports the defect it makes."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from core_support import write_elf
from elftools.elf.elffile import ELFFile

from dwarfkit import Address, DescriptionError, DwarfBuilder, Expr
from dwarfkit.description import build_file
from dwarfkit.reader.verify import verify


def program() -> tuple[DwarfBuilder, object]:
    dw = DwarfBuilder(version=5)
    cu = dw.compile_unit("a.c", comp_dir="/s", low_pc=Address(None, 0x1000), high_pc=8)
    cu.root.die("variable", name="v", location=dw.location_list([(Address(None, 0x1000), 4, Expr().reg0())]))
    cu.root.die("lexical_block", ranges=dw.range_list([(Address(None, 0x1000), 4)]))
    return dw, cu


def sections(path: Path) -> dict[str, bytes]:
    elf = ELFFile(io.BytesIO(path.read_bytes()))
    return {s.name: s.data() for s in elf.iter_sections() if s.name.startswith(".debug")}


# (field, value, the bytes at its place: (offset after the 4-byte length, hex), verify's finding)
ARANGES = [("unit_length", 0x400, (-4, "00 04 00 00"), "length 0x400 does not fit the section"),
           ("version", 3, (0, "03 00"), "version 3 is not 2"),
           ("debug_info_offset", 7, (2, "07 00 00 00"), "debug_info_offset 0x7 is not the start of a unit"),
           ("address_size", 4, (6, "04"), "address size 4, its unit's is 8"),
           ("segment_selector_size", 1, (7, "01"), "segment selector size 1 is not 0")]
LISTS = [("unit_length", 0x400, (-4, "00 04 00 00"), "length 0x400 does not fit the section"),
         ("version", 4, (0, "04 00"), "version 4 is not 5"),
         ("address_size", 4, (2, "04"), "address size 4 is no unit's (8)"),
         ("segment_selector_size", 1, (3, "01"), "segment selector size 1 is not 0"),
         ("offset_entry_count", 9, (4, "09 00 00 00"), "offset_entry_count 9 does not fit the table")]
CASES = [(".debug_aranges", *case) for case in ARANGES] + \
    [(section, *case) for section in (".debug_rnglists", ".debug_loclists") for case in LISTS]


@pytest.mark.parametrize("section, field, value, place, finding", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_each_header_field_is_written_and_verify_reports_it(tmp_path, section, field, value, place, finding):
    dw, cu = program()
    dw.header_override(section, cu if section == ".debug_aranges" else 0, **{field: value})
    path = write_elf(tmp_path / "h.o", dw.emit())
    data = sections(path)[section]
    at, expected = place
    assert data[4 + at:4 + at + len(bytes.fromhex(expected))] == bytes.fromhex(expected)
    assert any(finding in line and line.startswith(f"{section}[0x0]") for line in verify(str(path))), \
        list(verify(str(path)))


def test_an_ordinary_program_verifies_clean(tmp_path):
    """The findings above come from the overrides alone."""
    dw, _ = program()
    assert list(verify(str(write_elf(tmp_path / "h.o", dw.emit())))) == []


DESCRIPTION = """\
dwarf: {version: 5}
output: elf-object
functions:
  main: |
    mov eax, 0
    ret
list_headers:
  .debug_rnglists: {version: 6, offset_entry_count: 3}
  .debug_loclists: [{segment_selector_size: 2}]
units:
  - name: h.c
    aranges_override: {version: 9, address_size: 2}
    dies:
      - tag: subprogram
        name: main
        ranges: [[main, main+2], [main+3, main+5]]
        children:
          - {tag: variable, name: v, location: {locations: [[main, main+2, [reg0]]]}}
"""


def test_header_overrides_in_a_description(tmp_path):
    (tmp_path / "h.yaml").write_text(DESCRIPTION)
    obj = build_file(tmp_path / "h.yaml").write(tmp_path / "h.o")
    data = sections(obj)
    assert data[".debug_aranges"][4:6] == b"\x09\x00" and data[".debug_aranges"][10] == 2
    assert data[".debug_rnglists"][4:6] == b"\x06\x00" and data[".debug_rnglists"][8:12] == b"\x03\x00\x00\x00"
    assert data[".debug_loclists"][7] == 2
    found = "\n".join(verify(str(obj)))
    assert ".debug_aranges[0x0]: version 9 is not 2" in found
    assert ".debug_rnglists[0x0]: version 6 is not 5" in found
    assert ".debug_loclists[0x0]: segment selector size 2 is not 0" in found


@pytest.mark.parametrize("change, message", [
    ("{version: 9, address_size: 2}", "h.yaml:12: units[0].aranges_override: header_override .debug_aranges: "
                                      "colour is not a field of its header"),
    ("{version: 0x10000}", "units[0].aranges_override: header_override .debug_aranges: version: 65536 does not fit 2"),
])
def test_bad_header_overrides_name_file_line_and_key(tmp_path, change, message):
    text = DESCRIPTION.replace("{version: 9, address_size: 2}", change.replace("version: 9", "colour: 1")
                               if "address_size" in change else change)
    (tmp_path / "h.yaml").write_text(text)
    with pytest.raises(DescriptionError) as error:
        build_file(tmp_path / "h.yaml")
    assert message in str(error.value)


def test_a_list_header_of_a_program_without_that_table_is_refused():
    dw = DwarfBuilder(version=4)
    dw.compile_unit("a.c")
    with pytest.raises(DescriptionError, match="headers of .debug_aranges, .debug_rnglists, .debug_loclists"):
        dw.header_override(".debug_ranges", 0, version=5)
    dw.header_override(".debug_rnglists", 0, version=5)
    with pytest.raises(DescriptionError, match="the program writes no .debug_rnglists"):
        dw.emit()
