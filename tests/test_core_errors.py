"""Invalid descriptions raise a dwarfkit error naming the unit, the DIE path and the attribute."""
from __future__ import annotations

import pytest

from dwarfkit import Address, DescriptionError, DwarfkitError, Encoding, EncodingError, LayoutError
from dwarfkit.expr import Expr
from dwarfkit.info.die import pin
from dwarfkit.program import DwarfBuilder
from dwarfkit.strings import StringTable


def program(version=5, **kw):
    dw = DwarfBuilder(Encoding(version=version, **kw))
    cu = dw.compile_unit("a.c", comp_dir="/src")
    fn = cu.die("subprogram", name="main")
    return dw, cu, fn


def test_value_that_does_not_fit_the_pinned_form_names_die_and_attribute():
    dw, cu, fn = program()
    with pytest.raises(DescriptionError) as err:
        fn.die("variable", name="x", decl_line=pin(300, "data1"))
    message = str(err.value)
    assert 'cu "a.c" / subprogram "main" / variable "x" / attribute decl_line' in message
    assert "data1" in message and "300" in message


@pytest.mark.parametrize("call,what", [
    (lambda cu, fn: fn.die("no_such_tag"), 'cu "a.c" / subprogram "main": unknown DWARF tag'),
    (lambda cu, fn: fn.die("variable", no_such_attribute=1), 'subprogram "main" / variable: unknown DWARF attribute'),
    (lambda cu, fn: fn.set("decl_line", 1, form="no_such_form"), 'subprogram "main": unknown DWARF form'),
    (lambda cu, fn: Expr().op("no_such_op"), "unknown DWARF expression operation 'no_such_op'"),
    (lambda cu, fn: Expr().op(0x01), "opcode 0x1"),
])
def test_unknown_names_are_refused(call, what):
    dw, cu, fn = program()
    with pytest.raises(DescriptionError) as err:
        call(cu, fn)
    assert what in str(err.value)


def test_expression_operands_are_checked():
    with pytest.raises(DescriptionError, match="DW_OP_const1u operand 256 does not fit 1 unsigned byte"):
        Expr().const1u(256)
    with pytest.raises(DescriptionError, match="DW_OP_fbreg takes 1 operand"):
        Expr().fbreg()
    with pytest.raises(DescriptionError, match="negative"):
        Expr().plus_uconst(-1)
    with pytest.raises(DescriptionError, match="integer"):
        Expr().fbreg("x")


def test_reference_to_a_die_of_another_program():
    _, _, other = program()
    dw, cu, fn = program()
    with pytest.raises(DescriptionError) as err:
        fn.die("variable", name="v", type=other)
    assert 'subprogram "main" / variable "v" / attribute type' in str(err.value)
    assert "another program" in str(err.value)


@pytest.mark.parametrize("form", ["strx", "strx1", "addrx", "rnglistx", "line_strp"])
def test_indexed_forms_before_version_5(form):
    dw, cu, fn = program(version=4)
    value = {"strx": "s", "strx1": "s", "addrx": Address(None, 1), "rnglistx": dw.range_list([(0, 4)]),
             "line_strp": "s"}[form]
    attribute = {"addrx": "low_pc", "rnglistx": "ranges"}.get(form, "name")
    with pytest.raises(DescriptionError, match="needs DWARF 5") as err:
        fn.set(attribute, value, form=form)
    assert f'cu "a.c" / subprogram "main" / attribute {attribute}' in str(err.value)


def test_indexed_builder_needs_version_5():
    with pytest.raises(EncodingError):
        DwarfBuilder(Encoding(version=4), indexed=True)


def test_reference_with_wrong_form_kind():
    dw, cu, fn = program()
    other = dw.compile_unit("b.c").die("base_type", name="int", byte_size=4, encoding="signed")
    with pytest.raises(DescriptionError, match="another unit"):
        fn.die("variable", name="v", type=pin(other, "ref4"))
    with pytest.raises(DescriptionError, match="needs a DIE"):
        fn.die("variable", name="v", type=pin(5, "ref4"))


class HugeStringTable(StringTable):
    """A .debug_str that already holds 4 GiB, without allocating them."""

    def add(self, text: str) -> int:
        return super().add(text) + (1 << 32)


def test_overflowing_32_bit_offset_asks_for_dwarf64():
    dw, cu, fn = program()
    dw.strings = HugeStringTable()
    with pytest.raises(LayoutError, match="DWARF64") as err:
        fn.die("variable", name="a long enough name")
    assert 'subprogram "main" / variable "a long enough name" / attribute name' in str(err.value)
    dw, cu, fn = program(offset_size=8)
    dw.strings = HugeStringTable()
    fn.die("variable", name="a long enough name")   # fine in DWARF64


def test_ref1_that_cannot_reach_its_target():
    dw, cu, fn = program()
    far = cu.die("variable", name="far")
    for i in range(100):
        cu.die("variable", name=f"filler_{i}")
    target = cu.die("base_type", name="int", byte_size=4, encoding="signed")
    far.set("type", target, form="ref1")
    with pytest.raises(LayoutError) as err:
        dw.emit()
    assert 'variable "far" / attribute type' in str(err.value) and "DW_FORM_ref1" in str(err.value)


def test_other_bad_values():
    dw, cu, fn = program(version=3)
    with pytest.raises(DescriptionError, match="low_pc"):
        fn.set("high_pc", 16)   # a length before DWARF 4 needs low_pc to make an address
    with pytest.raises(DescriptionError, match="set automatically"):
        fn.set("stmt_list", 0)
    with pytest.raises(DescriptionError, match="unknown value"):
        cu.root.set("language", "Klingon")
    with pytest.raises(DescriptionError, match="given twice"):
        fn.die("variable", name="a", DW_AT_name="b")
    with pytest.raises(DescriptionError, match="cannot encode"):
        fn.die("variable", name="a", const_value=1.5)
    with pytest.raises(DescriptionError, match="does not fit 8 bytes"):
        DwarfBuilder(Encoding()).type_unit(1 << 64)
    with pytest.raises(DescriptionError, match="NUL"):
        fn.die("variable", name="a\0b")


def test_nothing_is_emitted_for_an_invalid_program():
    dw, cu, fn = program()
    tu = dw.type_unit(0x1234)   # its type_die is never set
    tu.base_type("int", 4, "signed")
    with pytest.raises(DwarfkitError, match="type_die"):
        dw.emit()
