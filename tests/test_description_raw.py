"""Raw control in descriptions (docs/description.md, "Raw control"): each key writes exactly the bytes asked for
(read back from the built file with pyelftools' ELF reader), `dwarfkit verify` reports the defect, and a bad value
is one error naming the description's file, line and key."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool
from elftools.elf.elffile import ELFFile

from dwarfkit.description import build_file
from dwarfkit.errors import DescriptionError
from dwarfkit.reader.verify import verify

HEAD = """\
dwarf: {version: 4}
functions:
  main: |
    mov eax, 0
    ret
"""
UNIT = """\
units:
  - name: raw.c
{unit}    dies:
      - {{tag: base_type, label: int, name: int, byte_size: 4, encoding: signed}}
      - tag: subprogram
        name: main
        type: int
        low_pc: main
{die}    lines:
      - {{function: main, rows: [[0, 1], [5, 2]]}}
{lines}"""


def description(unit: str = "", die: str = "", lines: str = "", top: str = "") -> str:
    return HEAD + top + UNIT.format(unit=unit, die=die, lines=lines)


def built(tmp_path: Path, text: str) -> tuple[Path, dict[str, bytes]]:
    (tmp_path / "raw.yaml").write_text(text)
    exe = build_file(tmp_path / "raw.yaml").write(tmp_path / "raw")
    elf = ELFFile(io.BytesIO(exe.read_bytes()))
    return exe, {s.name: s.data() for s in elf.iter_sections() if s.name.startswith(".debug")}


def findings(exe: Path) -> str:
    return "\n".join(verify(str(exe)))


CASES = {
    # key: (description, bytes that must be in the section, section, verify finding)
    "attribute raw hex": (description(die="        decl_line: {raw: 'ff 00 00 00', form: data4}\n"),
                          "11 01 3b 06 12 0b", ".debug_abbrev", None),
    "attribute raw number": (description(die="        sibling: {raw: 12345678, form: ref4}\n"), "4e 61 bc 00",
                             ".debug_info", "DW_AT_sibling refers to 0xbc614e, which is not the start of a DIE"),
    "vendor numbers": (description(die="        children:\n"
                                       "          - {tag: 0x4090, 0x3e00: {raw: '01 02', form: 0x1f99}}\n"),
                       "90 81 01 00 80 7c 99 3f 00 00", ".debug_abbrev", "unknown form 0x1f99"),
    "offset inside a DIE": (description(die="        sibling: {offset_of: int, plus: 3}\n"), "20 00 00 00",
                            ".debug_info", "DW_AT_sibling refers to 0x20, which is not the start of a DIE"),
    "die code": (description(die="        code: 77\n"), "4d", ".debug_info",
                 "abbreviation code 77 is not in the table"),
    "die raw": (description(die="        raw: '63 01'\n"), "63 01 00", ".debug_info",
                "abbreviation code 99 is not in the table"),
    "attribute raw indirect": (description(die="        decl_line: {raw: '0b 2a', form: indirect}\n"), "16 12 0b",
                               ".debug_abbrev", None),
    "unit version": (description(unit="    override: {version: 153}\n"), "99 00", ".debug_info",
                     "unit version 153 is not 2, 3, 4 or 5"),
    "unit length": (description(unit="    override: {unit_length: 0x1000}\n"), "00 10 00 00 04 00", ".debug_info",
                    "unit length 0x1000 runs past the end of the section"),
    "abbrev_offset": (description(unit="    override: {abbrev_offset: 0x700}\n"), "04 00 00 07 00 00 08",
                      ".debug_info", "names abbreviation table 0x700, past the end of the section"),
    "address_size": (description(unit="    override: {address_size: 3}\n"), "04 00 00 00 00 00 03", ".debug_info",
                     "address size 3 is invalid"),
    "truncate": (description(unit="    override: {truncate: 11}\n"), "07 00 00 00 04 00 00 00 00 00 08",
                 ".debug_info", "unit has no DIE"),
    "zero length": (description(unit="    override: {truncate: 4}\n"), "00 00 00 00", ".debug_info",
                    "unit length 0 is too short for a unit header"),
    "stmt_list": (description(unit="    override: {stmt_list: 0x9999}\n"), "99 99 00 00", ".debug_info",
                  "DW_AT_stmt_list 0x9999 is past the end of .debug_line"),
    "patch": (description(top="patches: [{section: .debug_aranges, offset: 4, hex: '09 00'}]\n"), "09 00",
              ".debug_aranges", ".debug_aranges[0x0]: version 9 is not 2"),
    "line version": (description(unit="    line_override: {version: 77}\n"), "4d 00", ".debug_line",
                     "line table version 77 is not 2, 3, 4 or 5"),
    "line fields": (description(unit="    line_override: {minimum_instruction_length: 0, line_base: -3, "
                                     "line_range: 12, opcode_base: 10}\n"),
                    "00 01 01 fd 0c 0a", ".debug_line", "minimum_instruction_length is 0"),
    "line raw sequence": (description(lines="      - {raw: '00 09 02 00 00 00 00 00 00 00 00 02'}\n"),
                          "00 09 02 00 00 00 00 00 00 00 00 02", ".debug_line",
                          "table is truncated"),   # advance_pc without its operand
    "raw section": (description(top="raw_sections: {.debug_info: '07 00 00 00 04 00 00 00 00 00 08'}\n"),
                    "07 00 00 00 04 00 00 00 00 00 08", ".debug_info", "unit has no DIE"),
}


@pytest.mark.parametrize("name", CASES)
def test_each_raw_key_writes_its_bytes_and_verify_reports_it(tmp_path, name):
    text, data, section, finding = CASES[name]
    exe, sections = built(tmp_path, text)
    assert bytes.fromhex(data) in sections[section], sections[section].hex(" ")
    if finding is None:
        assert findings(exe) == ""
    else:
        assert finding in findings(exe)


def test_a_left_out_section(tmp_path):
    exe, sections = built(tmp_path, description(top="raw_sections: {.debug_aranges: null}\n"))
    assert ".debug_aranges" not in sections and ".debug_info" in sections
    assert findings(exe) == ""


def test_hand_written_abbreviation_tables_shared_by_units(tmp_path):
    text = HEAD + """\
abbrev_tables:
  mine:
    - {code: 3, tag: compile_unit, children: false, attributes: [[name, string], [stmt_list, sec_offset]]}
    - {code: 3, tag: base_type, attributes: [[name, string]]}
    - {code: 9, tag: subprogram, children: true, attributes: []}
units:
  - {name: a.c, override: {abbrev_table: mine}}
  - {name: b.c, override: {abbrev_table: mine}}
"""
    text = text.replace("functions:", "output: elf-object\nfunctions:")
    (tmp_path / "raw.yaml").write_text(text)
    obj = build_file(tmp_path / "raw.yaml").write(tmp_path / "raw.o")
    elf = ELFFile(io.BytesIO(obj.read_bytes()))
    abbrev = elf.get_section_by_name(".debug_abbrev").data()
    assert abbrev == bytes.fromhex("03 11 00 03 08 10 17 00 00  03 24 00 03 08 00 00  09 2e 01 00 00  00")
    info = elf.get_section_by_name(".debug_info").data()
    second = int.from_bytes(info[:4], "little") + 4
    assert info[11:16] == b"\x03a.c\0" and info[second + 11:second + 16] == b"\x03b.c\0"
    assert info[6:10] == info[second + 6:second + 10] == bytes(4)   # both name the one table
    assert "abbreviation code 3 is defined twice" in findings(obj)


@pytest.mark.parametrize("yaml_text, message", [
    (description(unit="    override: {colour: 1}\n"),
     "raw.yaml:8: units[0].override.colour: cu \"raw.c\": override colour: not a unit header field"),
    (description(unit="    override: {abbrev_table: nope}\n"),
     "raw.yaml:8: units[0].override.abbrev_table: 'nope' is not one of abbrev_tables (none)"),
    (description(die="        decl_line: {raw: 'zz', form: data1}\n"),
     "raw.yaml:14: units[0].dies[1].decl_line.raw: Raw: 'zz' is not hex bytes"),
    (description(die="        decl_line: {raw: 7}\n"),
     "units[0].dies[1].decl_line.raw: Raw(7): a number is written in a form's encoding; give the form"),
    (description(die="        sibling: {offset_of: nope}\n"),
     "raw.yaml:14: units[0].dies[1].sibling.offset_of: no DIE is labelled 'nope'"),
    (description(die="        code: -1\n"), "raw.yaml:14: units[0].dies[1].code: cu \"raw.c\" / subprogram \"main\": "
     "override code: -1 is negative"),
    (description(unit="    line_override: {line_base: 300}\n"),
     "raw.yaml:8: units[0].line_override.line_base: line program 'raw.c': override line_base: 300 does not fit"),
    (description(lines="      - {raw: '00', function: main}\n"),
     "raw.yaml:16: units[0].lines[1].function: unknown key"),
    (description(top="abbrev_tables: {t: [{code: 1, tag: nope}]}\n"), "raw.yaml:6: abbrev_tables.t: abbrev_table[0]"),
    (description(top="patches: [{section: .debug_aranges, offset: 0x400, hex: '09'}]\n"),
     "raw.yaml:1: patch .debug_aranges+0x400: 1 bytes run past the end of the section"),   # known at emission
])
def test_bad_raw_keys_name_file_line_and_key(tmp_path, yaml_text, message):
    (tmp_path / "raw.yaml").write_text(yaml_text)
    with pytest.raises(DescriptionError) as error:
        build_file(tmp_path / "raw.yaml")
    assert message in str(error.value)
    result = subprocess.run([sys.executable, "-m", "dwarfkit", "build", str(tmp_path / "raw.yaml"), "-o",
                             str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_llvm_dwarfdump_notices_a_bad_abbreviation_code(tmp_path):
    exe, _ = built(tmp_path, description(die="        code: 77\n"))
    tool = require_tool("llvm-dwarfdump-14")
    result = subprocess.run([tool, "--verify", str(exe)], capture_output=True, text=True)
    assert "invalid abbreviation 77" in result.stdout + result.stderr


def test_the_readme_example_builds_and_verify_reports_its_defects(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("DWARF broken on purpose"):]
    text = section[section.index("```yaml\n") + len("```yaml\n"):section.index("```\n", section.index("```yaml"))]
    (tmp_path / "broken.yaml").write_text(text)
    obj = build_file(tmp_path / "broken.yaml").write(tmp_path / "broken.o")
    assert ".debug_info[0x0]: unit version 153 is not 2, 3, 4 or 5" in findings(obj)
