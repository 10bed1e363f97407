"""Macro units (``dw.macro_unit``): the bytes the DWARF standard prescribes, and every refusal naming unit and entry.

The expected bytes are worked out by hand from DWARF 5 section 6.3 (``.debug_macro``) and DWARF 4 section 6.3
(``.debug_macinfo``); tests/test_macros_tools.py checks the same sections with llvm-dwarfdump, readelf and gdb.
"""
from __future__ import annotations

import pytest

from dwarfkit.errors import DescriptionError
from dwarfkit.program import DwarfBuilder


def _unit(version: int = 5, **options):
    dw = DwarfBuilder(version=version, **options)
    cu = dw.compile_unit("a.c", comp_dir="/src")
    return dw, cu


def test_macinfo_bytes_and_attribute():
    dw, cu = _unit(4)
    mu = dw.macro_unit(cu)
    mu.start_file(0, cu.file("a.c")).define(1, "A 1").undef(2, "A").vendor_ext(7, "x").end_file()
    sections = dw.emit()
    assert bytes(sections[".debug_macinfo"].data) == (
        b"\x03\x00\x01" b"\x01\x01A 1\x00" b"\x02\x02A\x00" b"\xff\x07x\x00" b"\x04" b"\x00")
    assert cu.root.form("macro_info") == 0x17   # DW_FORM_sec_offset in DWARF 4
    assert cu.root.get("macro_info").value == 0


def test_macro_v5_header_strp_and_import_bytes():
    dw, cu = _unit(5)
    shared = dw.macro_unit(name="shared")
    shared.define(3, "B 2", form="string")
    mu = dw.macro_unit(cu)
    mu.import_(shared).define(1, "LONGER 1")    # 9 bytes > a 4-byte offset: strp by default
    sections = dw.emit()
    data = bytes(sections[".debug_macro"].data)
    # The unit's own first: version 5, flags 2 (debug_line_offset), its line table at 0, import, define_strp, end.
    own = b"\x05\x00\x02" + bytes(4) + b"\x07" + (19).to_bytes(4, "little") + b"\x05\x01" + \
        dw.strings.add("LONGER 1").to_bytes(4, "little") + b"\x00"
    assert data == own + b"\x05\x00\x00" + b"\x01\x03B 2\x00" + b"\x00"
    relocs = {(r.offset, r.target, r.addend) for r in sections[".debug_macro"].relocations}
    assert relocs == {(3, ".debug_line", 0), (8, ".debug_macro", 19),
                      (14, ".debug_str", dw.strings.add("LONGER 1"))}
    assert cu.root.form("macros") == 0x17 and cu.root.get("macros").value == 0


def test_gnu_v4_dwarf64_and_strx():
    dw, cu = _unit(4, offset_size=8)
    mu = dw.macro_unit(cu, section=".debug_macro")
    mu.define(1, "SHORT 1")     # 8 bytes: not longer than an 8-byte offset, inline
    dw.emit()
    assert cu.root.get("GNU_macros").value == 0
    dw, cu = _unit(5, indexed=True)
    mu = dw.macro_unit(cu)
    mu.define(1, "X 1").undef(2, "X", form="string")
    sections = dw.emit()
    data = bytes(sections[".debug_macro"].data)
    index = dw.tables.str_offsets.index("X 1")
    assert data[7:] == bytes([0x0B, 1, index, 0x02, 2]) + b"X\x00\x00"
    assert cu.root.get("str_offsets_base") is not None   # strx counts from the unit's base


@pytest.mark.parametrize("call, message", [
    (lambda mu, cu: mu.define(-1, "A 1"), "line -1 is not an integer"),
    (lambda mu, cu: mu.define(True, "A 1"), "line True is not an integer"),
    (lambda mu, cu: mu.define(1, "A\0B"), "holds a NUL character"),
    (lambda mu, cu: mu.define(1, "A\udc80"), "lone surrogate"),
    (lambda mu, cu: mu.define(1, ""), "does not start with a macro name"),
    (lambda mu, cu: mu.define(1, " A 1"), "does not start with a macro name"),
    (lambda mu, cu: mu.define(1, "(x) 1"), "does not start with a macro name"),
    (lambda mu, cu: mu.define(1, b"A 1"), "must be a str, not bytes"),
    (lambda mu, cu: mu.undef(1, "A 1"), "an undef gives the name alone"),
    (lambda mu, cu: mu.end_file(), "no start_file is open"),
    (lambda mu, cu: mu.start_file(1, -2), "file -2 is not a file index"),
    (lambda mu, cu: mu.define(1, "A 1", form="strx"), "form 'strx' is not one of string, strp"),
    (lambda mu, cu: mu.import_(cu), "which is no macro unit"),
])
def test_refusals_name_unit_and_entry(call, message):
    dw, cu = _unit(5)
    mu = dw.macro_unit(cu)
    mu.define(1, "FIRST 1")
    with pytest.raises(DescriptionError, match=message) as error:
        call(mu, cu)
    assert str(error.value).startswith('cu "a.c": .debug_macro entry 1 (')


def test_file_index_checked_against_the_line_table():
    dw, cu = _unit(4)
    mu = dw.macro_unit(cu)
    mu.start_file(0, cu.file("a.c")).start_file(2, 5).end_file().end_file()
    with pytest.raises(DescriptionError, match=r'cu "a.c": .debug_macinfo entry 1 \(start_file at line 2\): '
                                               r"file 5 is not in the unit's line table \(files 1..1\)"):
        dw.emit()


def test_open_file_at_emission():
    dw, cu = _unit(5)
    dw.macro_unit(cu).start_file(0, 1)
    with pytest.raises(DescriptionError, match=r'cu "a.c": .debug_macro: 1 start_file entries have no end_file'):
        dw.emit()


def test_import_cycles_and_sections():
    dw, cu = _unit(5)
    a, b = dw.macro_unit(name="a"), dw.macro_unit(name="b")
    a.import_(b)
    with pytest.raises(DescriptionError, match=r'macro unit "b": .debug_macro entry 0 \(import\): importing '
                                               r'macro unit "a" makes an import cycle'):
        b.import_(a)
    with pytest.raises(DescriptionError, match="import cycle"):
        a.import_(a)
    with pytest.raises(DescriptionError, match="has no line table"):
        a.start_file(0, 1)
    with pytest.raises(DescriptionError, match="vendor_ext is a .debug_macinfo entry"):
        a.vendor_ext(1, "x")
    with pytest.raises(DescriptionError, match="'.debug_macinfo'"):
        dw.macro_unit(cu, section=".debug_macinfo")    # removed in DWARF 5
    dw4, cu4 = _unit(4)
    info = dw4.macro_unit(cu4)
    with pytest.raises(DescriptionError, match="has no imports"):
        info.import_(dw4.macro_unit(name="x"))
    with pytest.raises(DescriptionError, match="form 'strp' is not one of string"):
        info.define(1, "LONG_NAME 1", form="strp")
    with pytest.raises(DescriptionError, match="has its macro unit already"):
        dw4.macro_unit(cu4)
    other = DwarfBuilder(version=4)
    with pytest.raises(DescriptionError, match="no compile unit of this program"):
        other.macro_unit(cu4)
    with pytest.raises(DescriptionError, match="no macro unit of this program"):
        a.import_(dw4.macro_unit(name="elsewhere"))


def test_finished_unit_and_emitted_unit():
    dw, first = _unit(5)
    dw.macro_unit(first).define(1, "A 1")    # laid out first: header 3 + 4, define 1 + 1 + 4 ("A 1" inline), end 1
    cu = dw.compile_unit("b.c")
    mu = dw.macro_unit(cu)
    mu.define(1, "A 1")
    dw.finish(cu)
    with pytest.raises(DescriptionError, match="has its macro unit already, or is finished"):
        dw.macro_unit(cu)
    sections = dw.emit()
    # DW_AT_macros of the finished unit was encoded before the offset was known: patched, with its relocation.
    assert [r.addend for r in sections[".debug_info"].relocations if r.target == ".debug_macro"] == [14, 0]
    assert cu.root.get("macros").value == 14
    with pytest.raises(DescriptionError, match="the unit was already emitted"):
        mu.define(2, "B 1")


def test_vendor_opcode_table_and_entry_bytes():
    dw, cu = _unit(5)
    mu = dw.macro_unit(cu)
    mu.declare_opcode(0xE0, "udata", "string", "block", "data2", "sdata", "flag")
    mu.vendor(0xE0, 300, "hi", b"\x01\x02", 0x1234, -2, True)
    sections = dw.emit()
    data = bytes(sections[".debug_macro"].data)
    # flags: debug_line_offset (2) | opcode_operands_table (4); one opcode, 6 forms: udata string block data2 sdata
    # flag; then the entry: 300 as ULEB128 (ac 02), "hi", a 2-byte block, 0x1234 little-endian, -2 as SLEB128 (7e), 1.
    assert data == (b"\x05\x00\x06" + bytes(4) + b"\x01\xe0\x06\x0f\x08\x09\x05\x0d\x0c"
                    + b"\xe0\xac\x02hi\x00\x02\x01\x02\x34\x12\x7e\x01" + b"\x00")


@pytest.mark.parametrize("call, message", [
    (lambda mu: mu.declare_opcode(0x10, "udata"), "a vendor opcode is 0xe0..0xff"),
    (lambda mu: mu.declare_opcode(0xE1, "ref4"), "operand form 'ref4' is not one of"),
    (lambda mu: mu.declare_opcode(0xE0, "udata"), "declared already"),
    (lambda mu: mu.vendor(0xE2), r"entry 0 \(vendor 226\): the opcode is not declared"),
    (lambda mu: mu.vendor(0xE0), r"takes 2 operands \(data1, string\), not 0"),
    (lambda mu: mu.vendor(0xE0, 256, "x"), "operand 256 does not fit form data1"),
    (lambda mu: mu.vendor(0xE0, 1, "x\0"), "holds a NUL character"),
    (lambda mu: mu.vendor(0xE0, True, "x"), "operand True does not fit form data1"),
])
def test_vendor_refusals(call, message):
    dw, cu = _unit(5)
    mu = dw.macro_unit(cu)
    mu.declare_opcode(0xE0, "data1", "string")
    with pytest.raises(DescriptionError, match=message):
        call(mu)
