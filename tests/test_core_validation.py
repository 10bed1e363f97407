"""Issue 13, the writer's side: every invalid description is refused with a typed error naming where it is, and the
valid neighbours of each refused case still write DWARF that llvm-dwarfdump (or readelf, where llvm-dwarfdump 14 does
not know the operation) reads as meant."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from core_support import verify, write_elf

from dwarfkit import Address, DescriptionError, DwarfkitError, LayoutError
from dwarfkit.arch import Arch
from dwarfkit.expr import Expr
from dwarfkit.frame import CallFrames
from dwarfkit.info.die import pin
from dwarfkit.program import DwarfBuilder

WHERE = 'cu "a.c" / subprogram "main" / variable "v" / attribute '


def program(version=5, **kw):
    dw = DwarfBuilder(version=version, **kw)
    cu = dw.compile_unit("a.c", comp_dir="/src")
    fn = cu.die("subprogram", name="main")
    return dw, cu, fn


@pytest.mark.parametrize("attribute,value,words", [
    ("name", 5, "needs a str"),
    ("name", b"x", "needs a str"),
    ("type", 5, "needs a DIE"),
    ("external", 1, "is a flag: give True or False"),
    ("decl_line", "ten", "class constant"),
    ("const_value", True, "class block, constant, string"),
    ("location", 5, "class exprloc, loclist"),
    ("low_pc", Expr().lit(0), "class address"),
    ("ranges", 5, "class rnglist"),
    ("sibling", "x", "needs a DIE"),
    ("macros", 0, "section offset"),
    ("virtuality", "virtuall", "unknown value 'virtuall' (known: none, pure_virtual, virtual)"),
])
@pytest.mark.parametrize("version", [2, 4, 5])
def test_values_of_a_class_the_attribute_does_not_take(version, attribute, value, words):
    for how in ("die", "set"):   # the DIE-creating fast path and Die.set take the same decision
        dw, cu, fn = program(version)
        with pytest.raises(DescriptionError) as err:
            if how == "die":
                fn.die("variable", **{"name": "v", attribute: value})
            else:
                fn.die("variable", name="v").set(attribute, value)
        where = WHERE.replace(' "v"', "") if how == "die" and attribute == "name" else WHERE
        assert str(err.value).startswith(where + attribute + ": "), str(err.value)
        assert words in str(err.value)


def test_attributes_with_several_classes_keep_every_one(tmp_path):
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw, cu, fn = program(5)
    fn.set("low_pc", Address(None, 0x1000))
    fn.set("high_pc", 0x40)                                         # a length
    other = cu.die("subprogram", name="g", low_pc=0x2000, high_pc=Address(None, 0x2010))   # an address
    int_t = cu.base_type("int", 4, "signed")
    s = cu.struct_type("s", 8)
    s.die("member", name="a", type=int_t, data_member_location=4)                # a constant
    s.die("member", name="b", type=int_t, data_member_location=Expr().plus_uconst(0))   # an expression
    s.die("member", name="c", type=int_t, virtuality="virtual", accessibility="private")
    fn.die("variable", name="x", type=int_t, location=Expr().fbreg(-8))
    fn.die("variable", name="y", type=int_t, location=dw.location_list([(0x1000, 8, Expr().reg(0))]))
    fn.die("variable", name="z", type=int_t, const_value=pin(-1, "data16"))       # 128 bits
    cu.root.set(0x3fe1, b"\x01")   # a vendor attribute by number: any value, as before
    path = write_elf(tmp_path / "classes.o", dw.emit())
    verify(path, dwarfdump)
    dump = subprocess.run([dwarfdump, "--debug-info", str(path)], capture_output=True, text=True).stdout
    assert "DW_AT_virtuality\t(DW_VIRTUALITY_virtual)" in dump
    assert "DW_AT_accessibility\t(DW_ACCESS_private)" in dump
    assert "DW_AT_high_pc\t(0x0000000000001040)" in dump and "DW_AT_high_pc\t(0x0000000000002010)" in dump
    assert "DW_AT_data_member_location\t(0x04)" in dump and "DW_OP_plus_uconst 0x0" in dump
    assert "DW_AT_const_value\t(" + "ff" * 16 + ")" in dump
    assert other.get("high_pc") == Address(None, 0x2010)


@pytest.mark.parametrize("call,words", [
    (lambda fn: fn.die("variable", name="v", const_value=pin(1 << 100, "sdata")), "does not fit 64 bits"),
    (lambda fn: fn.die("variable", name="v", const_value=-(2 ** 70)), "does not fit 64 bits"),
    (lambda fn: fn.die("variable", name="v", const_value=pin(1 << 200, "implicit_const")), "does not fit 64 bits"),
    (lambda fn: fn.die("variable", name="v", const_value=pin(1 << 63, "sdata")), "signed 64 bits"),
    (lambda fn: fn.die("variable", name="v", const_value=pin(1 << 128, "data16")), "128 bits"),
    (lambda fn: fn.die("variable", name="v", decl_line=pin(-1, "udata")), "negative"),
    (lambda fn: fn.die("variable", name="v", const_value=pin(70000, "data2")), "does not fit form DW_FORM_data2"),
    (lambda fn: fn.die("variable", name="v", byte_size=-4), "-4 is negative"),
    (lambda fn: fn.die("variable", name="v", count=-5), "-5 is negative"),
    (lambda fn: fn.die("variable", name="v", decl_line=-3), "-3 is negative"),
    (lambda fn: fn.die("variable", name="v", const_value=pin(bytes(300), "block1")), "300-byte block does not fit"),
])
def test_integers_out_of_their_form_or_sign(call, words):
    dw, cu, fn = program(5)
    with pytest.raises(DescriptionError, match=re.escape(words)) as err:
        call(fn)
    assert str(err.value).startswith(WHERE), str(err.value)


def test_negative_length_and_size_in_each_version():
    for version in (2, 3, 4, 5):
        dw, cu, fn = program(version)
        fn.set("low_pc", Address("main"))
        with pytest.raises(DescriptionError, match='subprogram "main" / attribute high_pc: -16 is negative'):
            fn.set("high_pc", -16)
        with pytest.raises(DescriptionError, match="count"):
            cu.array_type(cu.base_type("int", 4, "signed"), [-5])
        cu.die("subrange_type", lower_bound=-5)   # a lower bound may be negative (Fortran, Ada)


def test_addresses_must_fit_the_address_size():
    dw, cu, fn = program(5, address_size=4)
    with pytest.raises(DescriptionError, match=r'variable "v" / attribute location: .*DW_OP_addr address '
                                               r'0x123456789 does not fit 4-byte addresses'):
        fn.die("variable", name="v", location=Expr().addr(0x123456789))
    with pytest.raises(DescriptionError, match="low_pc: address 0x100000000 does not fit 4 bytes"):
        fn.set("low_pc", 1 << 32)
    with pytest.raises(DescriptionError, match="does not fit 4-byte addresses"):
        dw.range_list([(0xFFFFFFF0, 0x20)])
    with pytest.raises(DescriptionError, match=".debug_loclists: .*0x123456789"):
        fn.die("variable", name="w", location=dw.location_list([(0, 4, Expr().addr(0x123456789))]))
    seq = cu.line.sequence(0xFFFFFF00)
    seq.row(0, 1)
    seq.end(0x200)
    with pytest.raises(DescriptionError, match="past the 4-byte address space"):
        dw.emit()


def test_expression_operands_are_checked_when_encoded():
    dw, cu, fn = program(5)   # 32-bit DWARF
    with pytest.raises(DescriptionError, match="DW_OP_call_ref offset 0x10000000000 does not fit 4 bytes"):
        fn.die("variable", name="v", location=Expr().call_ref(1 << 40))
    with pytest.raises(DescriptionError, match="64 unsigned bits"):
        Expr().constu(1 << 64)
    with pytest.raises(DescriptionError, match="64 signed bits"):
        Expr().fbreg(1 << 63)
    with pytest.raises(DescriptionError, match="does not fit 2 bytes"):
        Expr().call2(1 << 16)
    for refused in (lambda: Expr().implicit_pointer(), lambda: Expr().GNU_implicit_pointer(),
                    lambda: Expr().GNU_variable_value(), lambda: Expr().const_type(),
                    lambda: Expr().convert(), lambda: Expr().implicit_pointer("x", 0),
                    lambda: Expr().const_type(1, bytes(256)), lambda: Expr().WASM_location()):
        with pytest.raises(DescriptionError):
            refused()


def readelf_expressions(path) -> list[str]:
    readelf = require_tool("readelf")
    text = subprocess.run([readelf, "--debug-dump=info,loc", str(path)], capture_output=True, text=True).stdout
    return [line for line in text.splitlines() if "DW_OP_" in line]


@pytest.mark.parametrize("version,offset_size,address_size", [(5, 4, 8), (4, 4, 4), (5, 8, 8)])
def test_die_operands_are_laid_out_as_dwarf_says(tmp_path, version, offset_size, address_size):
    dw = DwarfBuilder(version=version, offset_size=offset_size, address_size=address_size)
    cu = dw.compile_unit("a.c", comp_dir="/src")
    fn = cu.die("subprogram", name="f", low_pc=0x1000, high_pc=0x10)
    ops = {}   # what readelf prints, once the DIE offsets are known
    late = []
    x = fn.die("variable", name="x", location=Expr().fbreg(-8))   # referred to before the types exist
    late.append(fn.die("variable", name="p", location=Expr().implicit_pointer(x, 4)))
    late.append(fn.die("variable", name="g", location=Expr().GNU_implicit_pointer(x, -2)))
    late.append(fn.die("variable", name="vv", location=Expr().GNU_variable_value(x)))
    int_t = cu.base_type("int", 4, "signed")
    late.append(fn.die("variable", name="c", location=Expr().const_type(int_t, b"\x07\0\0\0").stack_value()))
    late.append(fn.die("variable", name="k", location=Expr().breg(0, 0).convert(int_t).stack_value()))
    late.append(fn.die("variable", name="r", location=Expr().regval_type(0, int_t).stack_value()))
    late.append(fn.die("variable", name="d", location=Expr().breg(0, 0).deref_type(4, int_t).stack_value()))
    late.append(fn.die("variable", name="c2", location=Expr().call2(x).call4(x).call_ref(x)))
    other = dw.compile_unit("b.c")
    other.die("variable", name="ll", location=dw.location_list([(0x1000, 4, Expr().implicit_pointer(x, 8))]))
    with pytest.raises(DescriptionError, match="in another unit"):
        other.die("variable", name="bad", location=Expr().breg(0, 0).convert(int_t))
    path = write_elf(tmp_path / "ops.o", dw.emit())
    t = int_t.offset - cu.offset
    ops = [f"DW_OP_implicit_pointer: <{x.offset:#x}> 4", f"DW_OP_GNU_implicit_pointer: <{x.offset:#x}> -2",
           f"DW_OP_GNU_variable_value: <{x.offset:#x}>", f"DW_OP_const_type: <{t:#x}>  4 byte block: 7 0 0 0 ",
           f"DW_OP_convert <{t:#x}>", "DW_OP_regval_type: 0 (", f"DW_OP_deref_type: 4 <{t:#x}>",
           f"DW_OP_call2: <{x.offset - cu.offset:#x}>; DW_OP_call4: <{x.offset - cu.offset:#x}>; "
           f"DW_OP_call_ref: <{x.offset:#x}>", f"DW_OP_implicit_pointer: <{x.offset:#x}> 8"]
    printed = "\n".join(readelf_expressions(path))
    for want in ops:
        assert want in printed, (want, printed)
    if version == 5 and offset_size == 4:
        # llvm-dwarfdump 14 decodes convert, regval_type and the calls (not implicit_pointer or const_type).
        dump = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(path)], capture_output=True,
                              text=True).stdout
        assert f'DW_OP_convert ({int_t.offset:#010x}) "int"' in dump
        assert f"DW_OP_call_ref {x.offset:#x}" in dump


def test_names_with_lone_surrogates_or_nul():
    for attribute in ("name", "producer", "linkage_name"):
        for text in ("a\ud800", "a\0b", "\udfff" * 10):
            dw, cu, fn = program(5)
            with pytest.raises(DescriptionError) as err:
                fn.die("variable", name="v").set(attribute, text)
            assert str(err.value).startswith(WHERE + attribute), str(err.value)
            with pytest.raises(DescriptionError) as err:
                fn.die("variable", **{"name": "w", attribute: text})
            assert 'subprogram "main" / variable' in str(err.value) and f"/ attribute {attribute}: " in str(err.value)
            str(err.value).encode()   # the message itself can be printed
    dw = DwarfBuilder(version=5)
    with pytest.raises(DescriptionError, match="compilation directory"):
        dw.compile_unit("a.c", comp_dir="/s\ud800")
    with pytest.raises(DescriptionError, match="file name"):
        dw.compile_unit("a\0.c")
    cu = dw.compile_unit("a.c")
    with pytest.raises(DescriptionError, match="file name"):
        cu.file("x\udc80.c")
    with pytest.raises(DescriptionError, match="directory"):
        cu.file("x.c", "/d\0")
    dw = DwarfBuilder(version=5, indexed=True)
    with pytest.raises(DescriptionError, match="variable / attribute name: .*not valid text"):
        dw.compile_unit("a.c").die("variable", name="a\ud800")


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_a_unit_without_a_name(tmp_path, version):
    dw = DwarfBuilder(version=version)
    cu = dw.compile_unit(None, comp_dir="/src")
    f = cu.file("x.c")
    cu.die("subprogram", name="f", low_pc=0x1000, high_pc=0x10, decl_file=f)
    seq = cu.line.sequence(0x1000)
    seq.row(0, 3, file=f)
    seq.end(0x10)
    path = write_elf(tmp_path / "noname.o", dw.emit())
    verify(path, require_tool("llvm-dwarfdump-14"))
    lines = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-line", "--debug-info", str(path)],
                           capture_output=True, text=True).stdout
    assert 'name: "x.c"' in lines and "0x0000000000001000      3" in lines
    assert "DW_TAG_compile_unit" in lines and 'DW_AT_name\t("x.c")' not in lines.split("DW_TAG_subprogram")[0]


def test_frames_out_of_range():
    frames = CallFrames(Arch.X86_64, DwarfBuilder().encoding)
    fde = frames.fde(None, "f", 1 << 40)
    with pytest.raises(DescriptionError, match="advance_loc4 holds at most"):
        fde.advance_to(2 ** 33)
    with pytest.raises(DescriptionError, match="register 200 is not a DWARF register of x86_64"):
        fde.offset(200, -16)
    arm = CallFrames(Arch.AARCH64, DwarfBuilder().encoding).fde(None, "g", 64)
    with pytest.raises(DescriptionError, match="aarch64 has no register 'rbp'"):
        arm.offset("rbp", -16)
    with pytest.raises(DescriptionError, match="register 130 is not a DWARF register of aarch64"):
        arm.same_value(130)
    with pytest.raises(DescriptionError, match="does not fit 4 bytes"):
        CallFrames(Arch.X86_64, DwarfBuilder(address_size=4).encoding).fde(None, 1 << 32, 4)
    with pytest.raises(DescriptionError, match="64 bits"):
        fde.def_cfa_offset(1 << 64)


def test_line_rows_on_an_arch_with_a_minimum_instruction_length():
    dw = DwarfBuilder(version=5, arch="aarch64")
    cu = dw.compile_unit("a.c")
    seq = cu.line.sequence(Address("f"))
    seq.row(0, 1)
    seq.row(6, 2)
    seq.end(8)
    with pytest.raises(DescriptionError, match="row 1: address 0x6 is not a multiple of the minimum instruction "
                                               "length 4"):
        dw.emit()
    dw = DwarfBuilder(version=5)
    seq = dw.compile_unit("a.c").line.sequence(0)
    seq.row("ten", 1)
    seq.end(8)
    with pytest.raises(DescriptionError, match="a row field is not a non-negative integer"):
        dw.emit()


def test_two_type_units_with_one_signature():
    dw = DwarfBuilder(version=5)
    dw.type_unit(0x1234)
    with pytest.raises(DescriptionError, match="signature 0x0000000000001234 is already used"):
        dw.type_unit(0x1234)


def test_a_refused_value_leaves_nothing_half_written(tmp_path):
    dw, cu, fn = program(5)
    for bad in (dict(name=5), dict(type=5), dict(external=1), dict(const_value=-(2 ** 70))):
        with pytest.raises(DwarfkitError):
            fn.die("variable", **bad)
    fn.die("variable", name="ok", decl_line=3)
    path = write_elf(tmp_path / "after.o", dw.emit())
    verify(path, require_tool("llvm-dwarfdump-14"))
    assert isinstance(LayoutError("x"), DwarfkitError)


def test_addresses_that_are_no_addresses():
    for symbol, offset in ((None, 1.5), (5, 0), (None, True), ("f", "8")):
        with pytest.raises(DescriptionError, match="is not a"):
            Address(symbol, offset)
    dw, cu, fn = program(5)
    with pytest.raises(DescriptionError, match="start 1.5 is not an address"):
        dw.range_list([(1.5, 4)])
    with pytest.raises(DescriptionError, match="is not an address"):
        CallFrames(Arch.X86_64, dw.encoding).fde(None, 2.5, 4)


def test_nested_expressions_are_bounded_and_never_cyclic(tmp_path):
    e = Expr().reg(1)
    with pytest.raises(DescriptionError, match="nested 17 deep"):
        for _ in range(100):
            e = Expr().entry_value(e)
    a = Expr().breg(0, 0)
    a.entry_value(a)     # holds the expression as it was: no cycle
    dw, cu, fn = program(5)
    fn.die("variable", name="v", location=a.stack_value())
    path = write_elf(tmp_path / "nested.o", dw.emit())
    dump = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(path)], capture_output=True,
                          text=True).stdout
    assert "DW_OP_breg0 RAX+0, DW_OP_entry_value(DW_OP_breg0 RAX+0), DW_OP_stack_value" in dump
