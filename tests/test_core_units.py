"""Type units, partial units, per-function fragments and the public names of the core."""
from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import dwarfinfo, verify, write_elf

import dwarfkit
from dwarfkit import Address, Encoding
from dwarfkit.expr import Expr
from dwarfkit.program import DwarfBuilder


@pytest.mark.parametrize("version", [4, 5])
def test_type_units_are_referred_to_by_signature(tmp_path, version):
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw = DwarfBuilder(Encoding(version=version))
    tu = dw.type_unit(0x1122334455667788, language="C11")
    int_t = tu.base_type("int", 4, "signed")
    tu.type_die = tu.struct_type("point", 8, [("x", int_t, 0), ("y", int_t, 4)])
    cu = dw.compile_unit("p.c", comp_dir="/p", language="C11")
    v = cu.die("variable", name="origin", type=tu.type_die, external=True)
    sections = dw.emit()
    assert (".debug_types" in sections) == (version == 4)
    path = write_elf(tmp_path / "tu.o", sections)
    verify(path, dwarfdump)
    di = dwarfinfo(path)
    dies = {d.offset: d for c in di.iter_CUs() for d in c.iter_DIEs()}
    attribute = dies[v.offset].attributes["DW_AT_type"]
    assert attribute.form == "DW_FORM_ref_sig8" and attribute.value == 0x1122334455667788
    dump = subprocess.run([dwarfdump, "--debug-info", "--debug-types", str(path)], capture_output=True,
                          text=True).stdout
    assert "type_signature = 0x1122334455667788" in dump
    assert 'DW_AT_name\t("point")' in dump


def test_partial_unit_imported_by_a_compile_unit(tmp_path):
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw = DwarfBuilder(Encoding(version=5))
    pu = dw.partial_unit(language="C11")
    shared = pu.base_type("shared_t", 4, "unsigned")
    cu = dw.compile_unit("m.c", comp_dir="/m", language="C11")
    imported = cu.die("imported_unit", import_=pu.root)
    v = cu.die("variable", name="v", type=shared)
    path = write_elf(tmp_path / "pu.o", dw.emit())
    verify(path, dwarfdump)
    di = dwarfinfo(path)
    units = list(di.iter_CUs())
    assert units[0].get_top_DIE().tag == "DW_TAG_partial_unit" and units[0].header["unit_type"] == "DW_UT_partial"
    dies = {d.offset: d for c in units for d in c.iter_DIEs()}
    assert dies[imported.offset].attributes["DW_AT_import"].form == "DW_FORM_ref_addr"
    assert dies[v.offset].get_DIE_from_attribute("DW_AT_type").offset == shared.offset


def function(cu, types, name, address):
    fn = cu.die("subprogram", name=name, low_pc=Address(name), high_pc=32, type=types[0], external=True,
                decl_file=1, decl_line=address)
    fn.die("formal_parameter", name="argument", type=types[1], location=Expr().fbreg(-8))
    fn.die("variable", name="local", type=types[0], location=Expr().fbreg(-16))
    return fn


def subtree_size(die, info):
    """Bytes from the DIE to the end of its subtree: up to the next sibling (its parent's next child)."""
    siblings = list(die.parent)
    following = siblings.index(die) + 1
    end = siblings[following].offset if following < len(siblings) else None
    return (end or len(info)) - die.offset


def test_a_functions_fragment_has_the_same_size_wherever_it_is_placed():
    """Per-function fragments: the encoded size of a subtree never depends on its position."""
    sizes = []
    for padding in (0, 3, 300, 70000):
        dw = DwarfBuilder(Encoding(version=5))
        cu = dw.compile_unit("f.c", comp_dir="/f")
        types = [cu.base_type("int", 4, "signed"), cu.base_type("long", 8, "signed")]
        for i in range(padding // 30):
            cu.die("variable", name=f"filler_variable_{i}", type=types[i % 2])
        fn = function(cu, types, "moved", 12)
        cu.die("variable", name="after", type=types[0])
        sections = dw.emit()
        sizes.append(subtree_size(fn, sections[".debug_info"].data))
    assert len(set(sizes)) == 1, sizes


def test_public_names():
    assert dwarfkit.DwarfBuilder is DwarfBuilder and dwarfkit.Expr is Expr
    for name in ("pin", "Die", "CompileUnit", "TypeUnit", "PartialUnit", "RangeList", "LocationList"):
        assert hasattr(dwarfkit, name), name


def test_every_dw_op_method_is_declared_for_type_checkers():
    """Expr's DW_OP methods are made at import; the list declared for mypy in its class body must match them."""
    tree = ast.parse(Path(dwarfkit.expr.__file__).read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Expr")
    declared = {stmt.target.id for node in cls.body if isinstance(node, ast.If) for stmt in node.body
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)}
    made = {name for name in dir(Expr) if (getattr(Expr, name).__doc__ or "").startswith("Appends DW_OP_")}
    assert len(made) > 150 and declared == made
    assert Expr().and_().fbreg(-8).call_frame_cfa() == Expr().op("and").op("fbreg", -8).op("call_frame_cfa")


def test_readme_example_with_symbols(tmp_path):
    """The README's example, with symbolic addresses resolved as a linker would: gdb-style consumers see it all."""
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw = DwarfBuilder(version=5, address_size=8)
    cu = dw.compile_unit("a.c", comp_dir="/src", producer="mycc 1.0", language="C11",
                         low_pc=Address("main"), high_pc=64)
    int_t = cu.base_type("int", 4, "signed")
    fn = cu.die("subprogram", name="main", type=int_t, low_pc=Address("main"), high_pc=64, external=True,
                decl_file=cu.line.primary_file, decl_line=2)
    fn.die("variable", name="x", type=int_t, decl_line=3, location=Expr().fbreg(-20))
    seq = cu.line.sequence(Address("main"))
    seq.row(0, 2)
    seq.row(8, 3)
    seq.end(64)
    sections = dw.emit()
    path = write_elf(tmp_path / "readme.o", sections, {"main": 0x401000})
    verify(path, dwarfdump)
    lookup = subprocess.run([dwarfdump, "--lookup=0x401008", str(path)], capture_output=True, text=True).stdout
    assert 'DW_AT_name\t("main")' in lookup and "Line info: file 'a.c', line 3" in lookup


@pytest.mark.parametrize("form", ["ref1", "ref2", "ref4", "ref8", "ref_udata", "ref_addr"])
def test_pinned_reference_forms(tmp_path, form):
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw = DwarfBuilder(Encoding(version=4))
    cu = dw.compile_unit("r.c", comp_dir="/r")
    v = cu.die("variable", name="v")
    int_t = cu.base_type("int", 4, "signed")   # after its user: a forward reference
    v.set("type", int_t, form=form)
    path = write_elf(tmp_path / "ref.o", dw.emit())
    verify(path, dwarfdump)
    dies = {d.offset: d for c in dwarfinfo(path).iter_CUs() for d in c.iter_DIEs()}
    assert dies[v.offset].attributes["DW_AT_type"].form == f"DW_FORM_{form}"
    assert dies[v.offset].get_DIE_from_attribute("DW_AT_type").offset == int_t.offset
