"""Every DW_TAG_, DW_AT_ and enumerated-value name pyelftools knows is accepted, and reads back under the same number
through llvm-dwarfdump-14's printed name (its spelling, e.g. ``DW_TAG_template_type_parameter``, is accepted too).

A name LLVM 14 does not know is printed as a number (``DW_TAG_unknown_6``, ``0x26``): then the number must match.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import write_elf
from elftools.dwarf import enums

from dwarfkit import Address, DescriptionError, DwarfBuilder, Encoding, Expr, names
from dwarfkit.info import classes


def dump(path: Path) -> str:
    tool = require_tool("llvm-dwarfdump-14")
    return subprocess.run([tool, "--debug-info", str(path)], capture_output=True, text=True, check=True).stdout


def known(enum: dict, prefix: str) -> list[tuple[str, int]]:
    return [(k, v) for k, v in enum.items() if isinstance(v, int) and v and k.startswith(prefix)
            and not k.endswith(("_lo_user", "_hi_user"))]


def test_every_tag(tmp_path: Path) -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c")
    tags = {v for _, v in known(enums.ENUM_DW_TAG, "DW_TAG_")} - {names.tag("compile_unit")}
    for code in sorted(tags):
        cu.die(code, name=f"t{code:x}")
    for name, code in known(enums.ENUM_DW_TAG, "DW_TAG_"):   # every name is accepted, long and short
        assert names.tag(name) == names.tag(name[7:]) == code
    text = dump(write_elf(tmp_path / "tags.o", dw.emit()))
    printed = re.findall(r"(DW_TAG_\w+)\n\s+DW_AT_name\s+\(\"t([0-9a-f]+)\"\)", text)
    assert {int(n, 16) for _, n in printed} == tags
    for name, number in printed:
        code = int(number, 16)
        if name.startswith("DW_TAG_unknown_"):
            assert int(name[15:], 16) == code
        else:
            assert names.tag(name) == code, name


def test_standard_tag_spellings() -> None:
    assert names.tag("template_type_parameter") == names.tag("DW_TAG_template_type_param") == 0x2f
    assert names.tag("template_value_parameter") == 0x30
    assert names.tag("GNU_call_site") == 0x4109 and names.tag("call_site_parameter") == 0x49
    assert names.tag(0x5111) == 0x5111   # a vendor tag by number
    for bad in (0, "null", "template_type_parm", True):
        with pytest.raises(DescriptionError, match="unknown DWARF tag"):
            names.tag(bad)
    with pytest.raises(DescriptionError, match="unknown DWARF attribute"):
        names.attribute(0)


def value_for(dw: DwarfBuilder, at: int, int_t) -> object:
    bits = classes.CLASSES[5].get(at)
    if bits is None:
        return 7   # vendor: any value
    for bit, value in ((classes.CONSTANT, 1), (classes.FLAG, True), (classes.STRING, "s"),
                       (classes.REFERENCE, int_t), (classes.EXPRLOC, Expr().reg(0)),
                       (classes.ADDRESS, Address(None, 0x10)), (classes.BLOCK, b"\1")):
        if bits & bit:
            return value
    if bits & classes.RNGLIST:
        return dw.range_list([(0, 4)])
    if bits & classes.LOCLIST:
        return dw.location_list([(0, 4, Expr().reg(0))])
    return 0   # a section offset dwarfkit sets itself: refused


def test_every_attribute(tmp_path: Path) -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c")
    int_t = cu.base_type("int", 4, "signed")
    written = set()
    for name, code in known(enums.ENUM_DW_AT, "DW_AT_"):
        assert names.attribute(name) == names.attribute(name[6:]) == code
    for code in sorted({v for _, v in known(enums.ENUM_DW_AT, "DW_AT_")} - {names.attribute("name")}):
        value = value_for(dw, code, int_t)
        if classes.CLASSES[5].get(code, 0) & classes.POINTER and value == 0:
            with pytest.raises(DescriptionError, match="section offset"):
                cu.die("variable", name=f"a{code:x}", **{names.attribute_name(code): value})
            continue
        cu.die("variable", name=f"a{code:x}", **{names.attribute_name(code): value})
        written.add(code)
    assert len(written) > 180
    text = dump(write_elf(tmp_path / "attrs.o", dw.emit()))
    printed = re.findall(r'DW_AT_name\s+\("a([0-9a-f]+)"\)\n\s+(DW_AT_\w+)', text)
    assert {int(n, 16) for n, _ in printed} == written
    for number, name in printed:
        code = int(number, 16)
        if name.startswith("DW_AT_unknown_"):
            assert int(name[14:], 16) == code
        else:
            assert names.attribute(name) == code, name
    assert names.attribute("LLVM_sysroot") == 0x3e02 and names.attribute(0x3fe1) == 0x3fe1   # APPLE_optimized


def test_every_enumerated_value(tmp_path: Path) -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c")
    want = {}
    for at, table in names.VALUE_TABLES.items():
        for name, value in table.items():
            if name.startswith("DW_"):
                cu.die("variable", name=f"v{len(want)}", **{names.attribute_name(at): name.split("_", 2)[2]})
                want[len(want)] = (at, name, value)
    assert {names.attribute_name(at) for at in names.VALUE_TABLES} >= {
        "language", "encoding", "accessibility", "inline", "calling_convention", "virtuality", "visibility",
        "identifier_case", "ordering", "decimal_sign", "endianity", "defaulted", "address_class"}
    text = dump(write_elf(tmp_path / "values.o", dw.emit()))
    printed = re.findall(r'DW_AT_name\s+\("v(\d+)"\)\n\s+DW_AT_\w+\s+\((.*)\)', text)
    assert len(printed) == len(want)
    for number, shown in printed:
        at, name, value = want[int(number)]
        if shown.startswith("0x"):   # LLVM 14 has no name for it
            assert int(shown, 16) == value, name
        elif shown in names.VALUE_TABLES[at]:
            assert names.VALUE_TABLES[at][shown] == value, (name, shown)
        else:   # LLVM's name for a vendor value pyelftools names otherwise (DW_CC_GNU_renesas_sh = DW_CC_lo_user)
            assert name.endswith(("_lo_user", "_hi_user")), (name, shown)


def test_enumeration_strings_never_become_strings() -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c")
    for at in names.VALUE_TABLES:
        with pytest.raises(DescriptionError, match="unknown value 'no_such_value'"):
            cu.die("variable", name="x", **{names.attribute_name(at): "no_such_value"})
