"""The program of the split DWARF writer's tests (issue 17): 24 functions compiled by minic (real x86_64 code,
assembled with keystone through dwarfkit.asm) and described with the ordinary API, plus C++-like types added to the
same unit: a namespace ``geo`` with a class ``Shape`` (members and a method), an enum ``Color``, a struct, a typedef.

:func:`build` writes it as a static ELF executable, split (its ``.dwo`` beside it) or not, into a folder of its own,
with the source beside it (the unit's comp_dir) so that debuggers show lines.
"""
from __future__ import annotations

from pathlib import Path

from dwarfkit import Arch
from dwarfkit.backends.elf import write_executable
from examples.minic import syntax
from examples.minic.compiler import compile_to
from examples.minic.debuginfo import _Describer

NAME = "split"
SOURCE_NAME = "split.mc"
_LEAVES = 18   # step0 .. step17


def source() -> str:
    """A minic program of 24 functions: a chain of small steps with locals and loops, structs through pointers."""
    lines = ["struct Pair {", "    int left;", "    int right;", "};", "", "int counter = 0;",
             "struct Pair seed = {2, 5};", ""]
    for i in range(_LEAVES):
        lines += [f"int step{i}(int n) {{",
                  f"    int scaled = n * {i + 2};",
                  f"    int bias = scaled % {i + 3};",
                  "    counter = counter + 1;",
                  "    return scaled - bias;",
                  "}", ""]
    lines += ["int sum_pair(struct Pair* p) {",
              "    int total = p->left + p->right;",
              "    return total;",
              "}", "",
              "int loop_to(int n) {",
              "    int acc = 0;",
              "    int i = 0;",
              "    while (i < n) {",
              "        acc = acc + i;",
              "        i = i + 1;",
              "    }",
              "    return acc;",
              "}", "",
              "int swap_pair(struct Pair* p) {",
              "    int held = p->left;",
              "    p->left = p->right;",
              "    p->right = held;",
              "    return held;",
              "}", "",
              "int chain(int n) {",
              "    int value = n;"]
    lines += [f"    value = step{i}(value) % 97;" for i in range(_LEAVES)]
    lines += ["    return value;",
              "}", "",
              "int mix(int a, int b) {",
              "    int both = a * 3 + b;",
              "    return both % 50;",
              "}", "",
              "int main() {",
              "    int first = chain(3);",
              "    int second = sum_pair(&seed);",
              "    int third = loop_to(5);",
              "    int fourth = swap_pair(&seed);",
              "    int result = mix(first + second, third + fourth);",
              "    return result - result + counter - 18;",
              "}", ""]
    return "\n".join(lines)


FUNCTIONS = ("main", "chain", "mix", "sum_pair", "loop_to", "swap_pair", *(f"step{i}" for i in range(_LEAVES)))
TYPES = ("geo::Shape", "geo::Color", "ShapeAlias", "Pair")   # ptype / type lookup


def build(folder: Path, *, version: int, split: bool) -> Path:
    """The executable ``folder/split`` (and ``folder/split.dwo`` when ``split``); the source is written beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    text = source()
    (folder / SOURCE_NAME).write_text(text)
    result = compile_to(text, Arch.X86_64, SOURCE_NAME, comp_dir=str(folder), debug_info=False)
    describer = _Describer(result, str(folder), version, True, True, split, language="C_plus_plus")
    _cplusplus_types(describer)
    result.image.dwarf = describer.run()
    exe = folder / NAME
    write_executable(result.image, exe)
    return exe


def _cplusplus_types(d: _Describer) -> None:
    """namespace geo { class Shape { int width; int height; public: int area(); }; enum Color {...}; }
    typedef geo::Shape ShapeAlias;"""
    cu = d.cu
    int_t = d.type(syntax.INT)
    primary = cu.line.primary_file
    geo = cu.die("namespace", name="geo", decl_file=primary, decl_line=1)
    shape = geo.die("class_type", name="Shape", byte_size=16, decl_file=primary, decl_line=1)
    shape.die("member", name="width", type=int_t, data_member_location=0, decl_file=primary, decl_line=2)
    shape.die("member", name="height", type=int_t, data_member_location=8, decl_file=primary, decl_line=3)
    this_t = cu.pointer_type(shape)
    area = shape.die("subprogram", name="area", type=int_t, declaration=True, external=True,
                     accessibility="public", decl_file=primary, decl_line=4)
    area.die("formal_parameter", type=this_t, artificial=True)
    cu.enumeration_type("Color", 4, [("RED", 0), ("GREEN", 1), ("BLUE", 7)], parent=geo)
    cu.typedef("ShapeAlias", shape)
