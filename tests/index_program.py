"""A program whose DWARF has what accelerator tables index, as a C++ compiler describes it, for the index tests.

Code: a few functions of ``ret`` instructions (the tables and their checks need addresses, not behaviour). DWARF 5:
a C++ unit with a namespace ``shapes`` holding a class ``Circle`` (a member function declared in the class and
defined out of line with ``DW_AT_specification`` and a linkage name), an enumeration, a typedef, a global and a static
variable, an anonymous namespace with a function, an inline function (abstract, ``DW_AT_inline``) inlined into
``main`` (``DW_TAG_inlined_subroutine`` with ``DW_AT_abstract_origin``), a struct local to a function, a label and
locals on the stack (not indexed); and a C unit with a function and a struct. ``NAMES`` lists what llvm-dwarfdump
--verify expects each table to find.
"""
from __future__ import annotations

from dwarfkit import Address, Arch, ContentSection, Encoding, Image, SectionKind, Symbol, SymbolKind
from dwarfkit.expr import Expr
from dwarfkit.program import DwarfBuilder

FUNCTIONS = ["main", "_ZN6shapes6Circle4areaEv", "_ZN12_GLOBAL__N_16helperEv", "c_function", "_start"]
SIZE = 32


def image(arch: Arch = Arch.X86_64) -> Image:
    """The code and data, without DWARF."""
    text = bytes([0xC3]) * (SIZE * len(FUNCTIONS))
    img = Image(arch, entry="_start", sections=[ContentSection(".text", SectionKind.CODE, text),
                                                ContentSection(".data", SectionKind.DATA, bytes(16), alignment=8)])
    img.symbols = [Symbol(name, ".text", SIZE * i, SIZE) for i, name in enumerate(FUNCTIONS)]
    img.symbols += [Symbol("shapes_count", ".data", 0, 4, SymbolKind.OBJECT),
                    Symbol("_ZL7counter", ".data", 8, 4, SymbolKind.OBJECT)]
    return img


def describe(names: object, *, line_strings: bool = True, version: int = 5) -> DwarfBuilder:
    """The program's DWARF, not emitted yet."""
    dw = DwarfBuilder(Encoding(version=version, address_size=8), names=names, line_strings=line_strings)
    cu = dw.compile_unit("shapes.cpp", comp_dir="/src", producer="dwarfkit index tests", language="C_plus_plus_14",
                         low_pc=Address("main"), high_pc=SIZE * 3)
    f = cu.file("shapes.cpp")
    int_t = cu.base_type("int", 4, "signed")
    double = cu.base_type("double", 8, "float")
    ns = cu.die("namespace", name="shapes")
    circle = ns.die("class_type", name="Circle", byte_size=8, decl_file=f, decl_line=3)
    circle.die("member", name="radius", type=double, data_member_location=0, decl_file=f, decl_line=4)
    decl = circle.die("subprogram", name="area", linkage_name="_ZN6shapes6Circle4areaEv", type=double,
                      declaration=True, external=True, decl_file=f, decl_line=5)
    decl.die("formal_parameter", type=cu.pointer_type(circle), artificial=True)
    ns.die("enumeration_type", name="Kind", type=int_t, byte_size=4, decl_file=f, decl_line=7).die(
        "enumerator", name="Round", const_value=0)
    ns.die("typedef", name="Radius", type=double, decl_file=f, decl_line=8)
    ns.die("variable", name="count", linkage_name="shapes_count", type=int_t, external=True, decl_file=f,
           decl_line=9, location=Expr().addr(Address("shapes_count")))
    cu.die("variable", name="counter", linkage_name="_ZL7counter", type=int_t, decl_file=f, decl_line=10,
           location=Expr().addr(Address("_ZL7counter")))
    area = cu.die("subprogram", specification=decl, low_pc=Address("_ZN6shapes6Circle4areaEv"), high_pc=SIZE,
                  frame_base=Expr().call_frame_cfa())
    area.die("formal_parameter", name="this", type=cu.pointer_type(circle), location=Expr().fbreg(-8))
    anonymous = cu.die("namespace")
    anonymous.die("subprogram", name="helper", linkage_name="_ZN12_GLOBAL__N_16helperEv", type=int_t,
                  decl_file=f, decl_line=14, low_pc=Address("_ZN12_GLOBAL__N_16helperEv"), high_pc=SIZE,
                  frame_base=Expr().call_frame_cfa())
    square = cu.die("subprogram", name="square", type=int_t, decl_file=f, decl_line=16, inline="declared_inlined",
                    external=True)
    x = square.die("formal_parameter", name="x", type=int_t, decl_file=f, decl_line=16)
    main = cu.die("subprogram", name="main", type=int_t, external=True, decl_file=f, decl_line=18,
                  low_pc=Address("main"), high_pc=SIZE, frame_base=Expr().call_frame_cfa())
    main.die("variable", name="local", type=int_t, decl_file=f, decl_line=19, location=Expr().fbreg(-4))
    main.die("structure_type", name="Local", byte_size=4, decl_file=f, decl_line=20).die(
        "member", name="v", type=int_t, data_member_location=0)
    main.die("label", name="done", low_pc=Address("main", 8), decl_file=f, decl_line=24)
    inlined = main.die("inlined_subroutine", abstract_origin=square, low_pc=Address("main", 4), high_pc=4,
                       call_file=f, call_line=21)
    inlined.die("formal_parameter", abstract_origin=x, const_value=3)
    for name, line in (("c_function", 3), ("_start", 9)):
        c = dw.compile_unit(f"{name}.c", comp_dir="/src", producer="dwarfkit index tests", language="C99",
                            low_pc=Address(name), high_pc=SIZE)
        c_int = c.base_type("int", 4, "signed")
        c.struct_type(f"{name}_data", 4, [("value", c_int, 0)])
        c.die("subprogram", name=name, type=c_int, external=True, decl_file=c.file(f"{name}.c"), decl_line=line,
              low_pc=Address(name), high_pc=SIZE, frame_base=Expr().call_frame_cfa())
        for row in (c.line.sequence(Address(name)),):
            row.row(0, line)
            row.end(SIZE)
    for fn, line in (("main", 18), ("_ZN6shapes6Circle4areaEv", 12), ("_ZN12_GLOBAL__N_16helperEv", 14)):
        seq = cu.line.sequence(Address(fn))
        seq.row(0, line)
        seq.end(SIZE)
    return dw


# What each table holds (name -> tags), from the DIEs above by DWARF 5's rules.
NAMES = {
    "int": {"DW_TAG_base_type"}, "double": {"DW_TAG_base_type"}, "shapes": {"DW_TAG_namespace"},
    "Circle": {"DW_TAG_class_type"}, "Kind": {"DW_TAG_enumeration_type"}, "Radius": {"DW_TAG_typedef"},
    "count": {"DW_TAG_variable"}, "shapes_count": {"DW_TAG_variable"}, "counter": {"DW_TAG_variable"},
    "_ZL7counter": {"DW_TAG_variable"}, "area": {"DW_TAG_subprogram"},
    "_ZN6shapes6Circle4areaEv": {"DW_TAG_subprogram"}, "(anonymous namespace)": {"DW_TAG_namespace"},
    "helper": {"DW_TAG_subprogram"}, "_ZN12_GLOBAL__N_16helperEv": {"DW_TAG_subprogram"},
    "square": {"DW_TAG_inlined_subroutine"}, "main": {"DW_TAG_subprogram"}, "Local": {"DW_TAG_structure_type"},
    "done": {"DW_TAG_label"}, "c_function": {"DW_TAG_subprogram"}, "_start": {"DW_TAG_subprogram"},
    "c_function_data": {"DW_TAG_structure_type"}, "_start_data": {"DW_TAG_structure_type"},
}
