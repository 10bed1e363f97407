"""Raw control through the Python API (issue 16, item 3): each override writes exactly the bytes asked for (read back
from the file with pyelftools' ELF reader), and `dwarfkit verify` reports the defect it makes (llvm-dwarfdump-14
--verify too, where it notices). Ordinary programs keep their bytes: the override mechanism is off until asked for.
"""
from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Callable

import pytest
from conftest import require_tool
from core_support import write_elf
from elftools.elf.elffile import ELFFile

from dwarfkit import Address, DescriptionError, DieOffset, DwarfBuilder, Raw, pin
from dwarfkit.reader.verify import verify

START = 0x1000


def program(version: int = 4, indexed: bool = False):
    """A unit with a function, a variable and three line rows; returns the builder and its pieces. ``indexed``
    (DWARF 5): strx and addrx forms, and the function in a range list."""
    dw = DwarfBuilder(version=version, address_size=8, indexed=indexed)
    cu = dw.compile_unit("a.c", comp_dir="/src", low_pc=Address(None, START), high_pc=0x20)
    int_t = cu.base_type("int", 4, "signed")
    extent = {"ranges": [(Address(None, START), 8), (Address(None, START + 16), 16)]} if indexed else \
        {"low_pc": Address(None, START), "high_pc": 0x20}
    main = cu.die("subprogram", name="main", type=int_t, **extent)
    x = main.die("variable", name="x", type=int_t)
    seq = cu.line.sequence(Address(None, START))
    seq.row(0, 1)
    seq.row(4, 2)
    seq.end(0x20)
    return dw, cu, int_t, main, x


def written(tmp_path: Path, dw: DwarfBuilder, name: str = "raw.o") -> tuple[Path, dict[str, bytes]]:
    path = write_elf(tmp_path / name, dw.emit())
    elf = ELFFile(io.BytesIO(path.read_bytes()))
    return path, {s.name: s.data() for s in elf.iter_sections() if s.name.startswith(".debug")}


def llvm_verify(path: Path) -> str:
    tool = require_tool("llvm-dwarfdump-14")
    result = subprocess.run([tool, "--verify", str(path)], capture_output=True, text=True)
    return result.stdout + result.stderr


def findings(path: Path) -> str:
    return "\n".join(verify(str(path)))


# Each case: (build the defect, the bytes it must write, what dwarfkit verify says, what llvm-dwarfdump says or None).
Case = tuple[Callable[[], DwarfBuilder], Callable[[dict[str, bytes]], None], str, str | None]


def _info(start: int, expected: str) -> Callable[[dict[str, bytes]], None]:
    def check(sections: dict[str, bytes]) -> None:
        data = bytes.fromhex(expected)
        assert sections[".debug_info"][start:start + len(data)] == data, sections[".debug_info"].hex(" ")
    return check


def _line(start: int, expected: str) -> Callable[[dict[str, bytes]], None]:
    def check(sections: dict[str, bytes]) -> None:
        data = bytes.fromhex(expected)
        assert sections[".debug_line"][start:start + len(data)] == data, sections[".debug_line"].hex(" ")
    return check


def _with(change: Callable, version: int = 4, indexed: bool = False) -> Callable[[], DwarfBuilder]:
    def make() -> DwarfBuilder:
        dw, cu, int_t, main, x = program(version, indexed)
        change(dw, cu, int_t, main, x)
        return dw
    return make


CASES: dict[str, Case] = {
    "version": (_with(lambda dw, cu, *_: cu.override(version=153)), _info(4, "99 00"),
                "unit version 153 is not 2, 3, 4 or 5", "has unsupported version 153"),
    "unit_length": (_with(lambda dw, cu, *_: cu.override(unit_length=0x1000)), _info(0, "00 10 00 00"),
                    "unit length 0x1000 runs past the end of the section", "extends past section size"),
    "unit_type": (_with(lambda dw, cu, *_: cu.override(unit_type=0x42), 5), _info(6, "42"),
                  "unit type 0x42 is not a DW_UT_* value", "do not match"),
    "abbrev_offset": (_with(lambda dw, cu, *_: cu.override(abbrev_offset=0x500)), _info(6, "00 05 00 00"),
                      "names abbreviation table 0x500, past the end of the section", "without DIE"),
    "address_size": (_with(lambda dw, cu, *_: cu.override(address_size=3)), _info(10, "03"),
                     "address size 3 is invalid", "unsupported address size: 3"),
    "code": (_with(lambda dw, cu, t, m, x: x.override(code=77)), _info(0x3a, "4d"),
             "abbreviation code 77 is not in the table", "invalid abbreviation 77"),
    "die_data": (_with(lambda dw, cu, t, m, x: x.override(data="63 01 02")), _info(0x3a, "63 01 02"),
                 "abbreviation code 99 is not in the table", "invalid abbreviation 99"),
    "sibling_nowhere": (_with(lambda dw, cu, t, m, x: m.set("sibling", Raw(12345678, "ref4"))),
                        _info(0x3a, "4e 61 bc 00"), "DW_AT_sibling refers to 0xbc614e, which is not the start of a DIE",
                        "CU offset 0x00bc614e is invalid"),
    "reference_between_dies": (_with(lambda dw, cu, t, m, x: x.set("type", Raw(3, "ref4"))), _info(0x3d, "03 00 00 00"),
                               "DW_AT_type refers to 0x3, which is not the start of a DIE",
                               "Offset is in between DIEs"),
    "raw_value_too_short": (_with(lambda dw, cu, t, m, x: x.set("decl_line", Raw("ff ff", "data4"))),
                            lambda s: s[".debug_info"].endswith(bytes.fromhex("78 00 21 00 00 00 ff ff 00 00")),
                            "DIEs run to the end of the unit", "tries to read DIEs"),
    "strp_to_nowhere": (_with(lambda dw, cu, t, m, x: x.set("name", Raw(0x9999, "strp"))),
                        lambda s: bytes.fromhex("99 99 00 00") in s[".debug_info"],
                        "DW_FORM_strp offset 0x9999 is past the end of .debug_str", None),
    "stmt_list": (_with(lambda dw, cu, *_: cu.override(stmt_list=0x9999)), _info(0x1d, "99 99 00 00"),
                  "DW_AT_stmt_list 0x9999 is past the end of .debug_line", "beyond .debug_line bounds: 0x00009999"),
    "str_offsets_base": (_with(lambda dw, cu, *_: cu.override(str_offsets_base=0x777), 5, True),
                         lambda s: b"\x72\x17" in s[".debug_abbrev"] and b"\x77\x07\0\0" in s[".debug_info"],
                         "string index 0 is past the end of .debug_str_offsets",
                         "used without a valid string offsets table"),
    "rnglists_base": (_with(lambda dw, cu, *_: cu.override(rnglists_base=0x777), 5, True),
                      lambda s: bytes.fromhex("77 07 00 00") in s[".debug_info"],
                      "DW_AT_ranges index 0 is past the end of .debug_rnglists", None),
    "aranges_version": (_with(lambda dw, *_: dw.patch(".debug_aranges", 4, "09 00")),
                        lambda s: s[".debug_aranges"][4:6] == b"\x09\0",
                        ".debug_aranges[0x0]: version 9 is not 2", None),
    "aranges_length": (_with(lambda dw, *_: dw.patch(".debug_aranges", 0, "ff 00 00 00")),
                       lambda s: s[".debug_aranges"][:4] == b"\xff\0\0\0",
                       ".debug_aranges[0x0]: length 0xff does not fit the section", None),
    "aranges_unit": (_with(lambda dw, *_: dw.patch(".debug_aranges", 6, "05 00 00 00")),
                     lambda s: s[".debug_aranges"][6:10] == b"\x05\0\0\0",
                     "debug_info_offset 0x5 is not the start of a unit", None),
    "rnglists_version": (_with(lambda dw, *_: dw.patch(".debug_rnglists", 4, "07 00"), 5, True),
                         lambda s: s[".debug_rnglists"][4:6] == b"\x07\0", ".debug_rnglists[0x0]: version 7 is not 5",
                         None),
    "rnglists_offset_count": (_with(lambda dw, *_: dw.patch(".debug_rnglists", 8, "09 00 00 00"), 5, True),
                              lambda s: s[".debug_rnglists"][8:12] == b"\x09\0\0\0",
                              "offset_entry_count 9 does not fit the table", None),
    "inside_a_die": (_with(lambda dw, cu, t, m, x: x.set("type", DieOffset(t, 3))), _info(0x3d, "24 00 00 00"),
                     "DW_AT_type refers to 0x24, which is not the start of a DIE", "Offset is in between DIEs"),
    "inside_a_later_die": (_with(lambda dw, cu, t, m, x: m.set("sibling", DieOffset(x, 1, "ref_addr"))),
                           _info(0x3a, "3f 00 00 00"), "DW_AT_sibling DW_FORM_ref_addr 0x3f is not the start of a DIE",
                           None),
    "truncated": (_with(lambda dw, cu, *_: cu.override(truncate=20)), _info(0, "10 00 00 00 04 00"),
                  "DIE is truncated", "tries to read DIEs"),
    "unit_length_and_truncate": (_with(lambda dw, cu, *_: cu.override(truncate=20, unit_length=0x40)),
                                 _info(0, "40 00 00 00 04 00"), "unit length 0x40 runs past the end", None),
    "line_version": (_with(lambda dw, cu, *_: cu.line.override(version=77)), _line(4, "4d 00"),
                     "line table version 77 is not 2, 3, 4 or 5", None),
    "line_unit_length": (_with(lambda dw, cu, *_: cu.line.override(unit_length=0x4000)), _line(0, "00 40 00 00"),
                         "table length 0x4000 runs past the end of the section", None),
    "line_header_length": (_with(lambda dw, cu, *_: cu.line.override(header_length=3)), _line(6, "03 00 00 00"),
                           "header_length 0x3 puts the program at 0xd, the file table ends at", None),
    "line_default_is_stmt": (_with(lambda dw, cu, *_: cu.line.override(default_is_stmt=7)), _line(12, "07"),
                             ".debug_line[0x0]: default_is_stmt 7 is not 0 or 1", None),
    "line_range": (_with(lambda dw, cu, *_: cu.line.override(line_range=0)), _line(13, "fb 00 0d"),
                   "with line_range 0", None),
    "opcode_base": (_with(lambda dw, cu, *_: cu.line.override(opcode_base=1)), _line(15, "01 00 01 01"),
                    "header_length 0x1b puts the program at 0x25, the file table ends at", None),
    "raw_sequence": (_with(lambda dw, cu, *_: cu.line.raw_sequence("00 09 02 00 20 00 00 00 00 00 00 01")),
                     lambda s: s[".debug_line"].endswith(bytes.fromhex("00 09 02 00 20 00 00 00 00 00 00 01")),
                     "last sequence is not terminated by DW_LNE_end_sequence", None),
    "raw_section": (_with(lambda dw, *_: dw.raw_section(".debug_info", "07 00 00 00 04 00 00 00 00 00 08")),
                    _info(0, "07 00 00 00 04 00 00 00 00 00 08"), "has no DIE", "Compilation unit without DIE"),
    "header_only": (_with(lambda dw, cu, *_: cu.override(truncate=11)), _info(0, "07 00 00 00 04 00"), "has no DIE",
                    "Compilation unit without DIE"),
    "zero_length": (_with(lambda dw, cu, *_: cu.override(truncate=4)), _info(0, "00 00 00 00"),
                    "unit length 0 is too short for a unit header", "cannot be parsed"),
    "sibling_backwards": (_with(lambda dw, cu, t, m, x: m.set("sibling", t)), _info(0x3a, "21 00 00 00"),
                          "DW_AT_sibling refers to 0x21, not to the DIE that follows", None),
}


@pytest.mark.parametrize("name", CASES)
def test_each_override_writes_its_bytes_and_verify_reports_it(tmp_path, name):
    make, check_bytes, ours, llvm = CASES[name]
    path, sections = written(tmp_path, make())
    assert check_bytes(sections) is not False, {name: data.hex(" ") for name, data in sections.items()}
    assert ours in findings(path)
    if llvm is not None:
        assert llvm in llvm_verify(path)


def test_an_ordinary_program_keeps_its_bytes_when_raw_control_is_used_elsewhere(tmp_path):
    """Raw control switches the encoder to its slow walk; DIEs without overrides come out byte for byte the same."""
    plain, _cu, *_ = program()
    ruled, cu, *_ = program()
    cu.override(version=4)   # the value it has anyway
    assert {s.name: bytes(s.data) for s in plain.emit()} == {s.name: bytes(s.data) for s in ruled.emit()}


def test_a_hand_written_abbreviation_table_shared_by_two_units_with_unused_and_duplicate_entries(tmp_path):
    dw = DwarfBuilder(version=4, address_size=8)
    table = dw.abbrev_table([
        (5, "compile_unit", True, [("name", "string")]),
        (9, "base_type", False, [("name", "string"), ("byte_size", "data1"), ("encoding", "data1")]),
        (9, "variable", False, [("name", "string")]),        # a duplicate code
        (40, "subprogram", False, []),                        # never used
    ])
    for name in ("a.c", "b.c"):
        cu = dw.compile_unit(None)
        cu.root.set("name", pin(name, "string"))
        cu.die("base_type", name=pin("int", "string"), byte_size=4, encoding="signed")
        cu.override(abbrev_table=table)
        cu.has_line_program = False
    path, sections = written(tmp_path, dw)
    abbrev = sections[".debug_abbrev"]
    assert abbrev == bytes.fromhex("05 11 01 03 08 00 00  09 24 00 03 08 0b 0b 3e 0b 00 00  09 34 00 03 08 00 00"
                                   "28 2e 00 00 00  00")
    info = sections[".debug_info"]
    unit = bytes.fromhex("14 00 00 00 04 00 00 00 00 00 08  05 61 2e 63 00  09 69 6e 74 00 04 05  00")
    assert info[:len(unit)] == unit
    assert info[len(unit) + 6:len(unit) + 10] == bytes(4)   # both units name the table at offset 0
    assert "abbreviation code 9 is defined twice" in findings(path)


def test_a_unit_pointing_at_a_hand_written_table_after_the_derived_one(tmp_path):
    dw, cu, int_t, main, x = program()
    other = dw.compile_unit("b.c")
    other.die("base_type", name=pin("char", "string"), byte_size=1, encoding="signed_char").override(code=2)
    table = dw.abbrev_table([(1, "compile_unit", True, [("name", "string"), ("stmt_list", "sec_offset")]),
                             (2, "base_type", False, [("name", "string"), ("byte_size", "data1"),
                                                      ("encoding", "data1")])])
    other.override(abbrev_table=table)
    path, sections = written(tmp_path, dw)
    hand = bytes.fromhex("01 11 01 03 08 10 17 00 00  02 24 00 03 08 0b 0b 3e 0b 00 00  00")
    abbrev = sections[".debug_abbrev"]
    assert abbrev.endswith(hand) and abbrev[:len(abbrev) - len(hand)].endswith(b"\0\0\0")
    second_unit = int.from_bytes(sections[".debug_info"][:4], "little") + 4
    assert int.from_bytes(sections[".debug_info"][second_unit + 6:second_unit + 10], "little") == \
        len(abbrev) - len(hand)
    assert findings(path) == ""
    assert "No errors." in llvm_verify(path)


def test_dw_form_indirect_with_raw_bytes_and_a_raw_value_of_a_chosen_form(tmp_path):
    dw, cu, int_t, main, x = program()
    x.set("decl_line", pin(Raw("2a"), "indirect", inner="data1"))
    x.set("decl_column", Raw("07 00", form="data2"))
    path, sections = written(tmp_path, dw)
    assert bytes.fromhex("0b 2a 07 00") in sections[".debug_info"]
    assert findings(path) == ""
    assert "No errors." in llvm_verify(path)


def test_line_header_fields_as_given(tmp_path):
    dw, cu, *_ = program()
    cu.line.override(minimum_instruction_length=4, line_base=-3, standard_opcode_lengths=[0, 1, 1])
    path, sections = written(tmp_path, dw)
    line = sections[".debug_line"]
    # v4: unit_length(4) version(2) header_length(4) min_inst max_ops default_is_stmt line_base line_range opcode_base
    assert line[10:19] == bytes.fromhex("04 01 01 fd 0e 0d 00 01 01")
    header_length = int.from_bytes(line[6:10], "little")
    assert line[10 + header_length - 1] == 0   # the file table still ends where header_length says
    assert "header_length 0x12 puts the program at 0x1c, the file table ends at" in findings(path)


@pytest.mark.parametrize("call,message", [
    (lambda dw, cu, x: cu.override(version="4"), "cu \"a.c\": override version: '4' is not an integer"),
    (lambda dw, cu, x: cu.override(version=70000), "override version: 70000 does not fit 2 bytes"),
    (lambda dw, cu, x: cu.override(unit_type=1), "a DWARF 4 unit header has no unit_type"),
    (lambda dw, cu, x: cu.override(colour=1), "colour: not a unit header field"),
    (lambda dw, cu, x: cu.override(abbrev_table=[1]), "is not an abbreviation table of this program"),
    (lambda dw, cu, x: x.override(code=-1), "variable \"x\": override code: -1 is negative"),
    (lambda dw, cu, x: x.override(data=3), "override data: 3 is not bytes"),
    (lambda dw, cu, x: x.set("decl_line", Raw("01")), "raw bytes need the form the abbreviation declares"),
    (lambda dw, cu, x: x.set("type", Raw(1 << 40, "ref4")), "attribute type: 1099511627776 does not fit 4"),
    (lambda dw, cu, x: Raw("zz"), "Raw: 'zz' is not hex bytes"),
    (lambda dw, cu, x: cu.line.override(line_base=200), "override line_base: 200 does not fit 1 byte (signed)"),
    (lambda dw, cu, x: cu.line.override(standard_opcode_lengths=[1, 300]), "standard_opcode_lengths[1]: 300"),
    (lambda dw, cu, x: dw.abbrev_table([(1, "no_such_tag", False, [])]), "abbrev_table[0]: "),
    (lambda dw, cu, x: dw.raw_section("debug_info", b""), "is not a section name"),
    (lambda dw, cu, x: cu.override(stmt_list=-1), "override stmt_list: -1 does not fit 4 bytes"),
    (lambda dw, cu, x: x.set("type", DieOffset(x, 1, "data4")), "DieOffset is written in a reference form"),
    (lambda dw, cu, x: x.set("type", DieOffset(dw.compile_unit("b.c").root, 1)), "is in another unit"),
    (lambda dw, cu, x: x.set("type", DieOffset("x", 1)), "DieOffset('x') does not name a DIE of this program"),
    (lambda dw, cu, x: dw.patch(".debug_info", "0", "00"), "patch .debug_info offset: '0' is not an integer"),
    (lambda dw, cu, x: (dw.patch(".debug_aranges", 0x100, "00"), dw.emit()),
     "patch .debug_aranges+0x100: 1 bytes run past the end of the section"),
])
def test_every_override_value_is_checked(call, message):
    dw, cu, int_t, main, x = program()
    with pytest.raises(DescriptionError) as error:
        call(dw, cu, x)
    assert message in str(error.value)


def test_a_die_missing_from_the_hand_written_table_is_named():
    dw, cu, int_t, main, x = program()
    cu.override(abbrev_table=dw.abbrev_table([(1, "compile_unit", True, [])]))
    with pytest.raises(DescriptionError, match=r'cu "a.c": no declaration of the unit.s abbreviation table'):
        dw.emit()


def test_vendor_tag_attribute_and_form_by_number(tmp_path):
    dw, cu, int_t, main, x = program()
    main.die(0x4090).set(0x3e00, Raw("01 02", form=0x1f99))
    path, sections = written(tmp_path, dw)
    assert bytes.fromhex("90 81 01 00 80 7c 99 3f 00 00") in sections[".debug_abbrev"]
    assert "unknown form 0x1f99" in findings(path)   # no reader can size a form it does not know


def test_type_unit_signature_and_type_offset(tmp_path):
    dw = DwarfBuilder(version=5, address_size=8)
    tu = dw.type_unit(0x1122334455667788)
    tu.type_die = tu.die("base_type", name="int", byte_size=4, encoding="signed")
    tu.override(signature=0x99, type_offset=0x7777)
    path, sections = written(tmp_path, dw)
    assert sections[".debug_info"][12:24] == bytes.fromhex("99 00 00 00 00 00 00 00 77 77 00 00")
    assert ".debug_info[0x0]: type_offset 0x7777 does not point at a DIE of the type unit" in findings(path)


def test_raw_values_where_the_writer_reads_its_own_attributes(tmp_path):
    """A unit's low_pc/high_pc and name as raw bytes: aranges know no range for it, messages no name."""
    dw = DwarfBuilder(version=4, address_size=8)
    cu = dw.compile_unit("a.c", low_pc=Raw("00 10 00 00 00 00 00 00", "addr"), high_pc=Raw("20 00 00 00", "data4"))
    cu.root.set("name", Raw("78 00", "string"))
    path, sections = written(tmp_path, dw)
    assert sections[".debug_info"][11:] == bytes.fromhex("01 78 00 00 10 00 00 00 00 00 00 20 00 00 00 00 00 00 00")
    assert cu.root.get("name") is None and cu.label() == "cu"
    assert findings(path) == ""
