"""Random DIE trees (hypothesis): what pyelftools reads back equals what was described; llvm-dwarfdump agrees."""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from conftest import require_tool
from core_support import dwarfinfo, verify, write_elf
from elftools.dwarf.dwarf_expr import DWARFExprParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_core_roundtrip import CONFIGS

from dwarfkit import Encoding
from dwarfkit.expr import Expr
from dwarfkit.program import DwarfBuilder

BASE = 0x10000
names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1, max_size=10)
s64 = st.integers(-(1 << 63), (1 << 63) - 1)
u32 = st.integers(0, (1 << 32) - 1)
# (method, operand strategies, how pyelftools names it, how it shows the operands)
OPERATIONS = [
    st.tuples(st.just("fbreg"), st.tuples(s64)),
    st.tuples(st.just("breg"), st.tuples(st.integers(0, 31), s64)),
    st.tuples(st.just("lit"), st.tuples(st.integers(0, 31))),
    st.tuples(st.just("constu"), st.tuples(st.integers(0, (1 << 64) - 1))),
    st.tuples(st.just("consts"), st.tuples(s64)),
    st.tuples(st.just("const1u"), st.tuples(st.integers(0, 255))),
    st.tuples(st.just("const2s"), st.tuples(st.integers(-(1 << 15), (1 << 15) - 1))),
    st.tuples(st.just("const4u"), st.tuples(u32)),
    st.tuples(st.just("const8s"), st.tuples(s64)),
    st.tuples(st.just("plus_uconst"), st.tuples(u32)),
    st.tuples(st.just("addr"), st.tuples(st.integers(0, 0xFFFFFFFF))),
    st.tuples(st.just("deref"), st.tuples()),
    st.tuples(st.just("stack_value"), st.tuples()),
    st.tuples(st.just("piece"), st.tuples(st.integers(1, 64))),
    st.tuples(st.just("regx"), st.tuples(st.integers(0, 200))),
]
variable = st.fixed_dictionaries({
    "tag": st.sampled_from(["variable", "formal_parameter"]),
    "name": names,
    "decl_line": st.none() | u32,
    "external": st.none() | st.just(True),
    "type": st.integers(0, 1000),            # index into every type of the program, modulo its count
    "value": st.none() | st.integers(-(1 << 63), (1 << 64) - 1) | st.lists(st.one_of(*OPERATIONS), min_size=1,
                                                                            max_size=4),
})


def blocks(depth: int):
    children = st.lists(variable if depth == 0 else st.one_of(variable, blocks(depth - 1)), max_size=4)
    return st.fixed_dictionaries({"tag": st.just("lexical_block"), "children": children})


function = st.fixed_dictionaries({
    "name": names,
    "children": st.lists(st.one_of(variable, blocks(1)), max_size=5),
    "split": st.booleans(),                                  # DW_AT_ranges (two pieces) instead of low/high_pc
    "moving": st.none() | st.lists(st.integers(0, 31), min_size=1, max_size=3),   # a location list: registers
})
unit = st.fixed_dictionaries({
    "name": names,
    "types": st.lists(st.tuples(names, st.sampled_from([1, 2, 4, 8]), st.sampled_from(["signed", "unsigned"])),
                      min_size=1, max_size=3),
    "pointers": st.integers(0, 2),
    "functions": st.lists(function, max_size=3),
})
# (version, offset size, address size, indexed forms)
configs = st.sampled_from([c + (False,) for c in CONFIGS] + [(5, 4, 8, True), (5, 8, 4, True)])
programs = st.tuples(configs, st.lists(unit, min_size=1, max_size=3))


def build(config, units):
    version, offset_size, address_size, indexed = config
    dw = DwarfBuilder(Encoding(version=version, offset_size=offset_size, address_size=address_size), indexed=indexed)
    built = []   # (description, Die)
    all_types = []
    cus = []
    for u in units:
        cu = dw.compile_unit(u["name"], comp_dir="/r", producer="hypothesis")
        cus.append(cu)
        for name, size, encoding in u["types"]:
            all_types.append(cu.base_type(name, size, encoding))
        for _ in range(u["pointers"]):
            all_types.append(cu.pointer_type(all_types[-1]))
    address = BASE
    for u, cu in zip(units, cus, strict=True):
        start = address
        for f in u["functions"]:
            if f["split"]:
                fn = cu.die("subprogram", name=f["name"], ranges=[(address, 0x40), (address + 0x80, 0x80)])
            else:
                fn = cu.die("subprogram", name=f["name"], low_pc=address, high_pc=0x100)
            built.append(({"tag": "subprogram", "name": f["name"], "start": address, "split": f["split"]}, fn))
            if f["moving"]:
                pieces = [(address + 0x10 * i, 0x10, Expr().reg(r)) for i, r in enumerate(f["moving"])]
                var = fn.die("variable", name="moving", location=dw.location_list(pieces))
                built.append(({"tag": "moving", "start": address, "registers": f["moving"]}, var))
            add_children(cu, fn, f["children"], all_types, built)
            address += 0x100
        if address > start:
            cu.root.set("low_pc", start)
            cu.root.set("high_pc", address - start)
    return dw, built


def add_children(cu, parent, children, all_types, built):
    for child in children:
        if child["tag"] == "lexical_block":
            die = parent.die("lexical_block")
            built.append((child, die))
            add_children(cu, die, child["children"], all_types, built)
            continue
        value = child["value"]
        attributes = {"name": child["name"], "decl_line": child["decl_line"], "external": child["external"],
                      "type": all_types[child["type"] % len(all_types)]}
        if isinstance(value, int):
            attributes["const_value"] = value
        elif value is not None:
            expr = Expr()
            for method, operands in value:
                getattr(expr, method)(*operands)
            attributes["location"] = expr
        built.append((child, parent.die(child["tag"], **attributes)))


def expected_ops(operations):
    out = []
    for method, operands in operations:
        if method in ("breg", "lit"):
            out.append((f"DW_OP_{method}{operands[0]}", list(operands[1:])))
        else:
            out.append((f"DW_OP_{method}", list(operands)))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs)
def test_random_die_trees_round_trip(program):
    dwarfdump = require_tool("llvm-dwarfdump-14")
    config, units = program
    dw, built = build(config, units)
    sections = dw.emit()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_elf(Path(tmp) / "random.o", sections)
        verify(path, dwarfdump)
        di = dwarfinfo(path)
        dump = subprocess.run([dwarfdump, "--debug-info", str(path)], capture_output=True, text=True).stdout
    read = {d.offset: (cu, d) for cu in di.iter_CUs() for d in cu.iter_DIEs()}
    width = 2 * config[2]
    for description, die in built:
        cu, got = read[die.offset]
        if description["tag"] == "moving":   # location lists: llvm-dwarfdump resolves them in every format
            for i, register in enumerate(description["registers"]):
                begin = description["start"] + 0x10 * i
                entry = f"[0x{begin:0{width}x}, 0x{begin + 0x10:0{width}x}): DW_OP_reg{register}"
                assert re.search(re.escape(entry) + r"\b", dump), entry
            continue
        if description["tag"] == "subprogram" and description["split"]:
            start = description["start"]
            assert f"[0x{start:0{width}x}, 0x{start + 0x40:0{width}x})" in dump
            assert f"[0x{start + 0x80:0{width}x}, 0x{start + 0x100:0{width}x})" in dump
        assert got.tag == f"DW_TAG_{description['tag']}"
        if description["tag"] == "lexical_block":
            assert [c.offset for c in got.iter_children()] == [c.offset for c in die]
            continue
        assert got.attributes["DW_AT_name"].value.decode() == description["name"]
        if description["tag"] == "subprogram":
            continue
        assert got.get_DIE_from_attribute("DW_AT_type").offset == die.get("type").offset
        line = description["decl_line"]
        assert (got.attributes["DW_AT_decl_line"].value if "DW_AT_decl_line" in got.attributes else None) == line
        assert bool(got.attributes.get("DW_AT_external")) == bool(description["external"])
        value = description["value"]
        if isinstance(value, int):
            attribute = got.attributes["DW_AT_const_value"]
            decoded = attribute.value
            if attribute.form != "DW_FORM_sdata" and value < 0:
                decoded -= 1 << (8 * int(attribute.form[-1]))
            assert decoded == value
        elif value is not None:
            parser = DWARFExprParser(cu.structs)
            parsed = [(op.op_name, list(op.args)) for op in parser.parse_expr(got.attributes["DW_AT_location"].value)]
            assert parsed == expected_ops(value)
