"""Forms as the caller pins them: DW_FORM_indirect with its inner form, and every form pyelftools knows either
written as pinned (llvm-dwarfdump-14 -v shows that form and the value, --verify finds nothing, pyelftools reads the
value) or refused with a DescriptionError naming the form.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import dwarfinfo, verify, write_elf

from dwarfkit import Address, DescriptionError, DwarfBuilder, Encoding, Expr, names, pin


def dump(path: Path, *options: str) -> str:
    tool = require_tool("llvm-dwarfdump-14")
    return subprocess.run([tool, *options, str(path)], capture_output=True, text=True, check=True).stdout


def attributes(path: Path) -> dict[str, dict[str, tuple[str, object]]]:
    """name -> {attribute: (form, value)} as pyelftools reads every named DIE."""
    out = {}
    for cu in dwarfinfo(path).iter_CUs():
        for die in cu.iter_DIEs():
            if "DW_AT_name" in die.attributes:
                out[die.attributes["DW_AT_name"].value.decode()] = {a.name: (a.form, a.value)
                                                                    for a in die.attributes.values()}
    return out


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_indirect(tmp_path: Path, version: int) -> None:
    dw = DwarfBuilder(Encoding(version=version))
    cu = dw.compile_unit("a.c", comp_dir="/tmp", language=pin("C99", "indirect", inner="udata"))
    int_t = cu.base_type("int", 4, "signed")
    cu.die("variable", name=pin("long_variable_name", "indirect", inner="strp"),
           type=pin(int_t, "indirect", inner="ref_udata"), decl_line=pin(7, "indirect"),
           external=pin(True, "indirect", inner="flag"),
           location=pin(Expr().addr(Address(None, 0x2000)), "indirect", inner="block1"))
    path = write_elf(tmp_path / "indirect.o", dw.emit())
    verify(path, require_tool("llvm-dwarfdump-14"))
    abbrevs = dump(path, "--debug-abbrev")
    assert abbrevs.count("DW_FORM_indirect") == 6
    info = dump(path, "-v", "--debug-info")
    assert "DW_AT_language [DW_FORM_udata]\t(DW_LANG_C99)" in info
    assert '= "long_variable_name")' in info and "DW_AT_name [DW_FORM_strp]" in info
    assert 'DW_AT_type [DW_FORM_ref_udata]' in info and '"int")' in info
    assert "DW_AT_decl_line [DW_FORM_data1]\t(7)" in info
    assert "DW_AT_external [DW_FORM_flag]\t(0x01)" in info
    assert "DW_AT_location [DW_FORM_block1]\t(DW_OP_addr 0x2000)" in info
    got = attributes(path)["long_variable_name"]
    assert got["DW_AT_decl_line"] == ("DW_FORM_data1", 7) and got["DW_AT_external"] == ("DW_FORM_flag", True)


def test_indirect_refusals() -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c")
    with pytest.raises(DescriptionError, match="cannot hold DW_FORM_implicit_const"):
        cu.die("variable", decl_line=pin(3, "indirect", inner="implicit_const"))
    with pytest.raises(DescriptionError, match="cannot hold DW_FORM_indirect"):
        cu.die("variable", decl_line=pin(3, "indirect", inner="indirect"))
    with pytest.raises(DescriptionError, match="only with DW_FORM_indirect"):
        cu.die("variable", decl_line=pin(3, "udata", inner="data1"))
    with pytest.raises(DescriptionError, match="does not fit form DW_FORM_data1"):
        cu.die("variable", decl_line=pin(300, "indirect", inner="data1"))
    with pytest.raises(DescriptionError, match="unknown DWARF form 'nope'"):
        pin(3, "indirect", inner="nope")


def pinned_value(dw: DwarfBuilder, cu, form: str):
    """(attribute, value) of a class that ``form`` holds, or None when no value can be written with it."""
    int_t = cu.base_type("int", 4, "signed")
    if form in ("addr", "addrx", "addrx1", "addrx2", "addrx3", "addrx4"):
        return "low_pc", Address(None, 0x1000)
    if form in ("data1", "data2", "data4", "data8", "sdata", "udata", "implicit_const", "data16"):
        return "decl_line", 9
    if form in ("string", "strp", "line_strp", "strx", "strx1", "strx2", "strx3", "strx4"):
        return "producer", "pinned producer"
    if form in ("ref1", "ref2", "ref4", "ref8", "ref_udata", "ref_addr"):
        return "type", int_t
    if form in ("ref_sig8", "ref_sup4", "ref_sup8", "GNU_ref_alt"):
        return "type", 0x40   # a signature or an offset into another file, by number
    if form in ("strp_sup", "GNU_strp_alt"):
        return "linkage_name", 0x80
    if form in ("block", "block1", "block2", "block4", "exprloc"):
        return "location", Expr().reg(3)
    if form in ("flag", "flag_present"):
        return "external", True
    if form in ("sec_offset", "rnglistx"):
        return "ranges", dw.range_list([(0x1000, 4)])
    if form == "loclistx":
        return "location", dw.location_list([(0x1000, 4, Expr().reg(0))])
    return None


REFUSED = {"ref": "reserved", "GNU_addr_index": "GNU split DWARF", "GNU_str_index": "GNU split DWARF"}


@pytest.mark.parametrize("form", sorted(n[8:] for n in names.FORM_NAMES.values() if n != "DW_FORM_indirect"))
def test_every_form_pins(tmp_path: Path, form: str) -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c", low_pc=0x1000, high_pc=0x10)
    if form in REFUSED:
        with pytest.raises(DescriptionError, match=f"DW_FORM_{form} .*{REFUSED[form]}"):
            cu.die("variable", name="v", decl_line=pin(1, form))
        return
    made = pinned_value(dw, cu, form)
    assert made is not None, f"no value class known for DW_FORM_{form}"
    attribute, value = made
    cu.die("variable", name="v", **{attribute: pin(value, form)})
    path = write_elf(tmp_path / "pinned.o", dw.emit())
    if form != "addrx3":   # llvm-dwarfdump-14 does not know DW_FORM_addrx3 (0x2b): pyelftools checks it below
        info = dump(path, "-v", "--debug-info")
        assert f"DW_AT_{attribute} [DW_FORM_{form}]" in info, info
    if form not in ("ref_sig8", "ref_sup4", "ref_sup8", "GNU_ref_alt", "strp_sup", "GNU_strp_alt", "addrx3"):
        verify(path, require_tool("llvm-dwarfdump-14"))   # the others name DIEs or strings of other files
    if form == "strx4":
        return   # pyelftools 0.33 reads DW_FORM_strx4 as 8 bytes (its structs.py); llvm-dwarfdump read it above
    got = attributes(path)["v"][f"DW_AT_{attribute}"]
    assert got[0] == f"DW_FORM_{form}"
    if attribute == "decl_line" and form != "data16":
        assert got[1] == 9
    if attribute == "producer":
        assert got[1] == b"pinned producer"
    if attribute == "low_pc":
        assert got[1] == 0x1000   # pyelftools resolves an index through .debug_addr


@pytest.mark.parametrize("form, value, message", [
    ("ref_sup4", 1 << 32, "does not fit form DW_FORM_ref_sup4"),
    ("ref_sig8", -1, "does not fit form DW_FORM_ref_sig8"),
    ("GNU_strp_alt", "text", "a string does not fit form DW_FORM_GNU_strp_alt"),
])
def test_by_number_refusals(form: str, value: object, message: str) -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c")
    attribute = "name" if form == "GNU_strp_alt" else "type"
    with pytest.raises(DescriptionError, match=message):
        cu.die("variable", **{attribute: pin(value, form)})


def test_supplementary_forms_need_dwarf5() -> None:
    dw = DwarfBuilder(Encoding(version=4))
    cu = dw.compile_unit("a.c")
    with pytest.raises(DescriptionError, match="DW_FORM_ref_sup4 needs DWARF 5"):
        cu.die("variable", type=pin(4, "ref_sup4"))
