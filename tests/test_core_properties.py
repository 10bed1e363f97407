"""Writer properties (hypothesis), issue 13: random VALID descriptions (units, nested DIEs with attributes of many
classes and forms, expressions, lists, line rows; DWARF 2-5, 32/64-bit, 4/8-byte addresses) emit DWARF that
``llvm-dwarfdump --verify`` passes; the same descriptions with ONE invalid value are refused with a typed
DwarfkitError, never another exception, and nothing is emitted.

Example counts are small by default (the suite runs them in well under a minute); DWARFKIT_PROPERTY_EXAMPLES=N runs
N examples of each property instead.
"""
from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import verify, write_elf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dwarfkit import DwarfkitError
from dwarfkit.expr import Expr
from dwarfkit.info.die import pin
from dwarfkit.program import DwarfBuilder

EXAMPLES = int(os.environ.get("DWARFKIT_PROPERTY_EXAMPLES", "0"))
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# (version, offset size, address size, indexed forms)
CONFIGS = [(2, 4, 4, False), (2, 4, 8, False), (3, 4, 8, False), (3, 8, 4, False), (4, 4, 8, False),
           (4, 8, 8, False), (5, 4, 8, False), (5, 8, 4, False), (5, 4, 4, False), (5, 4, 8, True),
           (5, 8, 8, True)]
BASE, SIZE = 0x1000, 0x100   # function k lies at BASE + k * SIZE

names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1, max_size=8)
u8, u16, u32 = (st.integers(0, (1 << n) - 1) for n in (8, 16, 32))
s64 = st.integers(-(1 << 63), (1 << 63) - 1)
# Expression operations with valid operands: (method, operands).
operations = st.one_of(
    st.tuples(st.just("fbreg"), st.tuples(s64)),
    st.tuples(st.just("breg"), st.tuples(st.integers(0, 31), s64)),
    st.tuples(st.just("lit"), st.tuples(st.integers(0, 31))),
    st.tuples(st.just("constu"), st.tuples(st.integers(0, (1 << 64) - 1))),
    st.tuples(st.just("const2s"), st.tuples(st.integers(-(1 << 15), (1 << 15) - 1))),
    st.tuples(st.just("const4u"), st.tuples(u32)),
    st.tuples(st.just("plus_uconst"), st.tuples(u32)),
    st.tuples(st.just("addr"), st.tuples(u32)),
    st.tuples(st.just("regx"), st.tuples(st.integers(0, 200))),
    st.tuples(st.just("deref"), st.tuples()),
    st.tuples(st.just("stack_value"), st.tuples()),
)
# A constant and the form it is pinned to (None: dwarfkit chooses), each value fitting its form.
constants = st.one_of(
    st.tuples(st.integers(-(1 << 63), (1 << 64) - 1), st.none()),
    st.tuples(u8, st.just("data1")), st.tuples(u16, st.just("data2")), st.tuples(u32, st.just("data4")),
    st.tuples(st.integers(0, (1 << 64) - 1), st.sampled_from(["data8", "udata"])),
    st.tuples(s64, st.just("sdata")),
)
variable = st.fixed_dictionaries({
    "tag": st.sampled_from(["variable", "formal_parameter"]),
    "name": names,
    "type": st.integers(0, 99),                       # index into the unit's types, modulo their count
    "decl_line": st.none() | u32,
    "decl_column": st.none() | u16,
    "artificial": st.none() | st.booleans(),
    "const": st.none() | constants,
    "location": st.none() | st.lists(operations, min_size=1, max_size=4),
    "moving": st.none() | st.lists(st.integers(0, 31), min_size=1, max_size=3),   # a location list of registers
})
function = st.fixed_dictionaries({
    "name": names,
    "external": st.booleans(),
    "split": st.booleans(),                           # DW_AT_ranges instead of low_pc/high_pc
    "frame_base": st.booleans(),
    "accessibility": st.none() | st.sampled_from(["public", "private", "protected"]),
    "inline": st.none() | st.sampled_from(["not_inlined", "inlined", "declared_inlined"]),
    "calling_convention": st.none() | st.sampled_from(["normal", "nocall"]),
    "children": st.lists(variable, max_size=4),
    "rows": st.lists(st.tuples(st.integers(0, 8), st.integers(0, 30)), max_size=6),   # (address step, line step)
})
unit = st.fixed_dictionaries({
    "name": st.none() | names,
    "comp_dir": names,
    "language": st.sampled_from(["C99", "C11", "C_plus_plus", "Fortran90", 0x8001]),
    "types": st.lists(st.tuples(names, st.sampled_from([1, 2, 4, 8]), st.sampled_from(["signed", "unsigned",
                                                                                      "float", "boolean"])),
                      min_size=1, max_size=3),
    "struct": st.none() | st.lists(st.tuples(names, st.integers(0, 64)), min_size=1, max_size=3),
    "array": st.none() | st.lists(st.integers(0, 1000) | st.tuples(st.integers(-10, 0), st.integers(0, 10)),
                                  min_size=1, max_size=3),
    "enum": st.none() | st.lists(st.tuples(names, s64), min_size=1, max_size=3, unique_by=lambda e: e[0]),
    "virtuality": st.none() | st.sampled_from(["virtual", "pure_virtual", "none"]),
    "functions": st.lists(function, max_size=3),
})
descriptions = st.tuples(st.sampled_from(CONFIGS), st.lists(unit, min_size=1, max_size=2))


def expression(ops) -> Expr:
    expr = Expr()
    for method, operands in ops:
        getattr(expr, method)(*operands)
    return expr


def build(config, units) -> DwarfBuilder:
    """The program a description says; every value is passed on as described (a mutation may make it invalid)."""
    version, offset_size, address_size, indexed = config
    dw = DwarfBuilder(version=version, offset_size=offset_size, address_size=address_size, indexed=indexed)
    address = BASE
    for u in units:
        cu = dw.compile_unit(u["name"], comp_dir=u["comp_dir"], producer="hypothesis", language=u["language"])
        types = [cu.base_type(name, size, encoding) for name, size, encoding in u["types"]]
        types.append(cu.pointer_type(types[0], address_size))
        if u["struct"]:
            s = cu.struct_type("s", 8 * len(u["struct"]) + 64)
            for i, (name, offset) in enumerate(u["struct"]):
                member = s.die("member", name=name, type=types[0], data_member_location=offset)
                if i == 0 and u["virtuality"] is not None:
                    member.set("virtuality", u["virtuality"])
            types.append(s)
        if u["array"]:
            types.append(cu.array_type(types[0], u["array"]))
        if u["enum"]:
            types.append(cu.enumeration_type("e", 8, u["enum"]))
        start = address
        for f in u["functions"]:
            attributes = {"name": f["name"], "external": f["external"] or None, "type": types[0]}
            if f["split"]:
                attributes["ranges"] = [(address, 0x40), (address + 0x80, 0x80)]
            else:
                attributes["low_pc"] = address
                attributes["high_pc"] = SIZE
            for key in ("accessibility", "inline", "calling_convention"):
                if f[key] is not None:
                    attributes[key] = f[key]
            if f["frame_base"]:
                attributes["frame_base"] = Expr().call_frame_cfa()
            fn = cu.die("subprogram", **attributes)
            for v in f["children"]:
                add_variable(dw, fn, v, types, address)
            if u["name"] is not None or f["rows"]:
                file = cu.file(u["name"] or "other.c")
                seq = cu.line.sequence(address)
                offset, line = 0, 1
                for step, advance in f["rows"]:
                    offset, line = min(offset + step, SIZE - 1), line + advance
                    seq.row(offset, line, file=file)
                seq.end(SIZE)
            address += SIZE
        if address > start:
            cu.root.set("low_pc", start)
            cu.root.set("high_pc", address - start)
    return dw


def add_variable(dw, fn, v, types, address) -> None:
    attributes = {"name": v["name"], "type": types[v["type"] % len(types)]}
    for key in ("decl_line", "decl_column", "artificial"):
        if v[key] is not None:
            attributes[key] = v[key]
    if v["const"] is not None:
        value, form = v["const"]
        attributes["const_value"] = value if form is None else pin(value, form)
    elif v["location"] is not None:
        attributes["location"] = expression(v["location"])
    elif v["moving"] is not None:
        attributes["location"] = dw.location_list(
            [(address + 0x10 * i, 0x10, Expr().reg(r)) for i, r in enumerate(v["moving"])])
    fn.die(v["tag"], **attributes)


def settings_for(default: int):
    return settings(max_examples=EXAMPLES or default, **SETTINGS)


@settings_for(50)
@given(descriptions)
def test_valid_descriptions_verify(description):
    dwarfdump = require_tool("llvm-dwarfdump-14")
    config, units = description
    sections = build(config, units).emit()
    with tempfile.TemporaryDirectory() as tmp:
        verify(write_elf(Path(tmp) / "valid.o", sections), dwarfdump)


# One invalid value each: (where in the description, the bad value). A path walks dicts by key and lists by index
# (modulo their length); "*" stands for the first function / variable that exists.
MUTATIONS = [
    (("functions", "*", "name"), 5),
    (("functions", "*", "name"), b"main"),
    (("functions", "*", "name"), "bad\ud800"),
    (("functions", "*", "name"), "nul\0"),
    (("functions", "*", "external"), 1),
    (("functions", "*", "accessibility"), "friendly"),
    (("functions", "*", "inline"), "sometimes"),
    (("functions", "*", "children", "*", "decl_line"), "ten"),
    (("functions", "*", "children", "*", "decl_line"), -3),
    (("functions", "*", "children", "*", "decl_column"), 1 << 64),
    (("functions", "*", "children", "*", "artificial"), 1),
    (("functions", "*", "children", "*", "name"), b"x"),
    (("functions", "*", "children", "*", "const"), (1 << 100, "sdata")),
    (("functions", "*", "children", "*", "const"), (-(2 ** 70), None)),
    (("functions", "*", "children", "*", "const"), (1 << 200, "implicit_const")),
    (("functions", "*", "children", "*", "const"), (300, "data1")),
    (("functions", "*", "children", "*", "const"), (-1, "udata")),
    (("functions", "*", "children", "*", "location"), [("addr", (1 << 64,))]),
    (("functions", "*", "children", "*", "location"), [("fbreg", (1 << 63,))]),
    (("functions", "*", "children", "*", "location"), [("const2s", (1 << 15,))]),
    (("functions", "*", "children", "*", "location"), [("call_ref", (1 << 64,))]),
    (("functions", "*", "children", "*", "location"), [("implicit_pointer", ())]),
    (("functions", "*", "children", "*", "moving"), [-1]),
    (("functions", "*", "rows"), [(0, -5)]),
    (("types", 0, 1), -4),
    (("types", 0, 2), "imaginary"),
    (("struct",), [("m", -1)]),
    (("array",), [-5]),
    (("enum",), [("big", 1 << 64)]),
    (("virtuality",), "virtuall"),
    (("comp_dir",), "/src\udc80"),
    (("name",), "a\0.c"),
    (("language",), "Klingon"),
]


def mutate(units: list, path: tuple, bad) -> dict | None:
    """Sets the value at ``path`` (in the first unit where it exists) to ``bad``; returns the dict that holds it, or
    None if no unit has that place (no function, no variable)."""
    for u in units:
        node = u
        for key in path[:-1]:
            if key == "*":
                if not node:
                    break
                node = node[0]
            else:
                node = node[key]
        else:
            last = path[-1]
            if isinstance(last, int):   # a field of a type tuple (name, size, encoding)
                u["types"][0] = tuple(bad if i == last else item for i, item in enumerate(u["types"][0]))
            else:
                node[last] = bad
            return node
    return None


# A variable's value is its const, else its location, else its moving location: the bad one must be the one used.
SHADOWING = {"location": ("const",), "moving": ("const", "location")}


@settings_for(150)
@given(descriptions, st.sampled_from(MUTATIONS))
def test_invalid_descriptions_are_refused(description, mutation):
    config, units = description
    units = copy.deepcopy(units)
    path, bad = mutation
    node = mutate(units, path, bad)
    if node is None:
        event("no place for the mutation")
        return
    for key in SHADOWING.get(path[-1], ()):
        node[key] = None
    if path == ("virtuality",) and not node["struct"]:
        node["struct"] = [("m", 0)]   # virtuality is set on the struct's first member
    try:
        build(config, units).emit()
    except DwarfkitError as error:
        event(f"refused: {type(error).__name__}")
        return   # refused with a typed error (anything else fails the test as an error)
    pytest.fail(f"accepted {path} = {bad!r} in {config}")
