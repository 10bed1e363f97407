"""Descriptions (issue 16, first step): a hand-written YAML/JSON file built by ``dwarfkit build`` into an ELF
executable or object, a Mach-O or COFF object, judged by gdb, lldb-14, llvm-dwarfdump-14 and GNU ld; errors name the
file, line and path in the description."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import require_tool
from roundtrip import compare, dwarf_view

import dwarfkit
from dwarfkit import Address, Arch, ContentSection, Encoding, Image, SectionKind, Symbol, debuggers
from dwarfkit.asm import assemble
from dwarfkit.backends.elf import write_executable
from dwarfkit.description import build_file
from dwarfkit.errors import DescriptionError
from dwarfkit.expr import Expr
from dwarfkit.program import DwarfBuilder

pytestmark = pytest.mark.debugger

# main() { long x = 7; return x; }: a local in the frame, three line rows; _start is the default one.
DEMO = """\
functions:
  main: |
    push rbp
    mov rbp, rsp
    body:
    mov qword ptr [rbp-8], 7
    ret_line:
    mov rax, qword ptr [rbp-8]
    pop rbp
    ret
units:
  - name: demo.c
    comp_dir: /src
    producer: example 1.0
    language: C11
    dies:
      - tag: subprogram
        name: main
        type: long
        external: true
        decl_line: 1
        low_pc: main
        frame_base: [[breg6, 0]]
        children:
          - {tag: variable, name: x, type: long, decl_line: 2, location: [[fbreg, -8]]}
      - {tag: base_type, label: long, name: long, byte_size: 8, encoding: signed}
    lines:
      - function: main
        rows:
          - [0, 1]
          - {at: body, line: 2, prologue_end: true}
          - [ret_line, 3]
"""


def _build(tmp_path: Path, text: str, name: str = "demo.yaml", out: str = "demo") -> Path:
    desc = tmp_path / name
    desc.write_text(text)
    done = subprocess.run([sys.executable, "-m", "dwarfkit", "build", str(desc), "-o", str(tmp_path / out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return tmp_path / out


def _api_demo(path: Path) -> None:
    """The same program written through the Python API (the README's example without its call frames)."""
    code = assemble(Arch.X86_64, [
        ("main", "push rbp\nmov rbp, rsp\nbody:\nmov qword ptr [rbp-8], 7\nret_line:\nmov rax, qword ptr [rbp-8]\n"
                 "pop rbp\nret"),
        ("_start", "call main\nmov rdi, rax\nmov eax, 60\nsyscall"),
    ])
    start, end = code.functions["main"]
    dw = DwarfBuilder(Encoding(version=5, address_size=8), arch=Arch.X86_64)
    cu = dw.compile_unit("demo.c", comp_dir="/src", producer="example 1.0", language="C11",
                         low_pc=Address("main"), high_pc=len(code.code))
    main = cu.die("subprogram", name="main", external=True, decl_line=1, low_pc=Address("main"),
                  high_pc=end - start, frame_base=Expr().breg(6, 0))
    variable = main.die("variable", name="x", decl_line=2, location=Expr().fbreg(-8))
    long_t = cu.base_type("long", 8, "signed")
    main.set("type", long_t)
    variable.set("type", long_t)
    rows = cu.line.sequence(Address("main"))
    rows.row(0, 1)
    rows.row(code.labels["body"] - start, 2, prologue_end=True)
    rows.row(code.labels["ret_line"] - start, 3)
    rows.end(end - start)
    image = Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, code.code)],
                  [Symbol(n, ".text", s, e - s) for n, (s, e) in code.functions.items()], dwarf=dw.emit(),
                  entry="_start")
    write_executable(image, path)


def test_described_program_debugs_in_gdb_and_lldb(tmp_path: Path) -> None:
    exe = _build(tmp_path, DEMO)
    gdb = debuggers.gdb(exe, breakpoints=["demo.c:3"], commands_per_stop=["ptype x"])
    stop = gdb.stops[0]
    assert (stop.function, stop.file, stop.line) == ("main", "demo.c", 3)
    assert stop.variable("x").value == "7" and stop.ptype("x") == "long"
    assert gdb.exit_code == 7   # the default _start exits with main's result
    lldb = debuggers.lldb(exe, breakpoints=["demo.c:3"])
    assert lldb.stops[0].line == 3 and lldb.stops[0].variable("x").value == "7"
    verified = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(exe)], capture_output=True,
                              text=True)
    assert verified.returncode == 0 and "No errors." in verified.stdout, verified.stdout
    ours = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(exe)], capture_output=True, text=True)
    assert ours.returncode == 0, ours.stdout


def test_yaml_json_dict_and_api_mean_the_same(tmp_path: Path) -> None:
    """The description read from YAML, from JSON and given as a dict means what the API calls mean, in
    llvm-dwarfdump-14's reading (DIE trees and line rows)."""
    from_yaml = _build(tmp_path, DEMO)
    data = yaml.safe_load(DEMO)
    from_json = _build(tmp_path, json.dumps(data, indent=1), "demo.json", "demo-json")
    from_dict = tmp_path / "demo-dict"
    dwarfkit.build(data).write(from_dict)
    from_api = tmp_path / "demo-api"
    _api_demo(from_api)
    view = dwarf_view(from_api)
    for other in (from_yaml, from_json, from_dict):
        assert compare(view, dwarf_view(other)) == []


def test_object_output_links_with_ld(tmp_path: Path) -> None:
    """An object: its addresses are relocations against the functions, which GNU ld resolves."""
    text = DEMO.replace("functions:\n", "output: elf-object\nfunctions:\n  _start: |\n    call main\n"
                                       "    mov rdi, rax\n    mov eax, 60\n    syscall\n")
    obj = _build(tmp_path, text, out="demo.o")
    relocations = subprocess.run([require_tool("readelf"), "-r", str(obj)], capture_output=True, text=True).stdout
    assert ".rela.debug_info" in relocations and "main" in relocations
    exe = tmp_path / "linked"
    subprocess.run([require_tool("ld"), "-o", str(exe), str(obj)], check=True)
    session = debuggers.gdb(exe, breakpoints=["demo.c:3"])
    assert session.stops[0].variable("x").value == "7" and session.exit_code == 7


@pytest.mark.parametrize("output, magic", [("macho-object", b"\xcf\xfa\xed\xfe"), ("coff-object", b"\x64\x86")])
def test_other_containers(tmp_path: Path, output: str, magic: bytes) -> None:
    obj = _build(tmp_path, f"output: {output}\n" + DEMO, out="demo.obj")
    assert obj.read_bytes()[:len(magic)] == magic
    verified = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(obj)], capture_output=True,
                              text=True)
    assert verified.returncode == 0 and "No errors." in verified.stdout, verified.stdout
    names = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(obj)], capture_output=True,
                           text=True).stdout
    assert '("x")' in names and '("main")' in names and '("long")' in names


def test_code_as_hex_bytes_and_forward_references(tmp_path: Path) -> None:
    """``{hex: ...}`` code (mov eax, 42; ret), a type described after its use, a pointer type referring to it."""
    text = """\
functions:
  main: {hex: "b8 2a 00 00 00 c3"}
units:
  - name: answer.c
    dies:
      - {tag: subprogram, name: main, type: int_p, low_pc: main}
      - {tag: pointer_type, label: int_p, byte_size: 8, type: int}
      - {tag: base_type, label: int, name: int, byte_size: 4, encoding: signed}
    lines:
      - {function: main, rows: [[0, 7]]}
"""
    exe = _build(tmp_path, text, out="answer")
    session = debuggers.gdb(exe, ["break main", "run", "ptype main", "info line *$pc", "continue"])
    assert "type = int *(void)" in session.transcript and 'Line 7 of "answer.c"' in session.transcript
    assert session.exit_code == 42


@pytest.mark.parametrize("old, new, message", [
    ("type: long\n        external", "type: lng\n        external",
     "demo.yaml:19: units[0].dies[0].type: no DIE is labelled 'lng' (labels: long)"),
    ("decl_line: 1", "decl_lyne: 1",
     "demo.yaml:21: units[0].dies[0].decl_lyne: unknown attribute 'decl_lyne'"),
    ("mov rbp, rsp", "mov rbp, rspp", "demo.yaml:2: functions.main: function 'main': 'mov rbp, rspp' does not "
                                      "assemble"),
    ("[[fbreg, -8]]", "[[fbregx, -8]]",
     "demo.yaml:25: units[0].dies[0].children[0].location[0]: 'fbregx' is not a DWARF expression operation"),
    ("[ret_line, 3]", "[retline, 3]", "demo.yaml:32: units[0].lines[0].rows[2].at: 'retline' is no label of main"),
    ("decl_line: 2", "decl_line: two", "demo.yaml:25: units[0].dies[0].children[0].decl_line: "),
    ("name: main\n", "name: main\n        name: again\n", "demo.yaml:19: units[0].dies[0]: 'name' is given twice"),
    ("low_pc: main", "low_pc: mian", "demo.yaml:22: units[0].dies[0].low_pc: 'mian' names no function or label"),
])
def test_errors_name_file_line_and_path(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in DEMO
    desc = tmp_path / "demo.yaml"
    desc.write_text(DEMO.replace(old, new, 1))
    with pytest.raises(DescriptionError) as error:
        build_file(desc)
    assert str(error.value).startswith(f"{tmp_path}/{message}"), str(error.value)
    done = subprocess.run([sys.executable, "-m", "dwarfkit", "build", str(desc), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"dwarfkit: error: {tmp_path}/{message}")
    assert not (tmp_path / "out").exists()


def test_dict_errors_name_the_path() -> None:
    with pytest.raises(DescriptionError, match=r"^units\[0\]\.dies\[0\]\.type: no DIE is labelled 'nothing'"):
        dwarfkit.build({"units": [{"name": "a.c", "dies": [{"tag": "variable", "name": "v", "type": "nothing"}]}]})
    with pytest.raises(DescriptionError, match=r"^output: 'elf' is not one of elf-executable"):
        dwarfkit.build({"output": "elf"})


def test_readme_description_builds_and_debugs(tmp_path: Path) -> None:
    """The README's description example, as printed there: it builds, gdb shows x = 7 at line 3, and the error the
    README quotes is the one a misspelt label gives."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Describing a program by hand"):]
    text = section[section.index("```yaml\n") + len("```yaml\n"):section.index("```\n", section.index("```yaml"))]
    exe = _build(tmp_path, text)
    session = debuggers.gdb(exe, breakpoints=["demo.c:3"])
    assert session.stops[0].line == 3 and session.stops[0].variable("x").value == "7"
    quoted = section[section.index("(`demo.yaml:") + 2:section.index("'lng'`)") + len("'lng'")]
    desc = tmp_path / "demo.yaml"
    desc.write_text(text.replace("type: long, low_pc", "type: lng, low_pc"))
    with pytest.raises(DescriptionError) as error:
        build_file(desc)
    assert str(error.value).startswith(f"{tmp_path}/{' '.join(quoted.split())}"), (str(error.value), quoted)


# DWARF 4: lldb-14 reads .debug_ranges entries relative to the unit's base address and follows no base address
# selection entry; dwarfkit writes them relative to the unit's low_pc, as compilers do (the block is then found).
FRAMES_AND_LISTS = """\
functions:
  f: |
    push rbp
    pushed:
    mov rbp, rsp
    body:
    mov qword ptr [rbp-8], 7
    ret_line:
    mov rax, qword ptr [rbp-8]
    done:
    pop rbp
    ret
  main: |
    call f
    ret
frames:
  f:
    - [advance_to, pushed]
    - [def_cfa_offset, 16]
    - [offset, rbp, -16]
    - [advance_to, body]
    - [def_cfa_register, rbp]
    - [advance_to, done]
    - [def_cfa, rsp, 16]
  main:
    - [advance_to, 5]
    - [def_cfa_offset, 8]
units:
  - name: demo.c
    dies:
      - tag: subprogram
        name: f
        type: long
        low_pc: f
        frame_base: [call_frame_cfa]
        children:
          - tag: lexical_block
            ranges: [[f.body, f.done]]
            children:
              - {tag: variable, name: x, type: long, location: {locations: [[f.body, f.done, [[fbreg, -24]]]]}}
      - {tag: subprogram, name: main, type: long, low_pc: main}
      - {tag: base_type, label: long, name: long, byte_size: 8, encoding: signed}
    lines:
      - function: f
        rows: [[0, 1], [body, 2], [ret_line, 3], [done, 4]]
      - function: main
        rows: [[0, 7]]
"""


@pytest.mark.parametrize("version", [4, 5])
def test_call_frames_and_lists(tmp_path: Path, version: int) -> None:
    """CFI instructions per function (finish returns through them), a range list on a block and a location list
    on its variable (DW_AT_frame_base is the CFA: rbp-8 is CFA-24)."""
    exe = _build(tmp_path, f"dwarf: {{version: {version}}}\n" + FRAMES_AND_LISTS)
    frames = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-frame", str(exe)], capture_output=True,
                            text=True).stdout
    assert "DW_CFA_def_cfa_offset: +16" in frames and "DW_CFA_def_cfa_register: RBP" in frames, frames
    gdb = debuggers.gdb(exe, ["break demo.c:3", "run", "info locals", "bt", "finish"])
    assert "x = 7" in gdb.transcript and "Value returned is $1 = 7" in gdb.transcript, gdb.transcript
    assert "#1  0x" in gdb.transcript and "in main () at demo.c:7" in gdb.transcript, gdb.transcript
    verified = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(exe)], capture_output=True,
                              text=True)
    assert verified.returncode == 0 and "No errors." in verified.stdout, verified.stdout
    lldb = debuggers.lldb(exe, breakpoints=["demo.c:3"])
    assert lldb.stops[0].variable("x") is not None and lldb.stops[0].variable("x").value == "7"


TYPE_UNIT = """\
functions:
  main: |
    push rbp
    mov rbp, rsp
    body:
    mov dword ptr [rbp-16], 3
    mov dword ptr [rbp-12], 4
    ret_line:
    mov eax, dword ptr [rbp-16]
    pop rbp
    ret
units:
  - tag: type_unit
    signature: 0x1234567890abcdef
    type: point
    language: C11
    dies:
      - tag: structure_type
        label: point
        name: point
        byte_size: 8
        children:
          - {tag: member, name: x, type: int, data_member_location: 0}
          - {tag: member, name: y, type: int, data_member_location: 4}
      - {tag: base_type, label: int, name: int, byte_size: 4, encoding: signed}
  - name: tu.c
    language: C11
    low_pc: main
    dies:
      - tag: subprogram
        name: main
        type: int2
        low_pc: main
        frame_base: [[breg6, 0]]
        children:
          - {tag: variable, name: p, type: point, location: [[fbreg, -16]]}
      - {tag: base_type, label: int2, name: int, byte_size: 4, encoding: signed}
    lines:
      - {function: main, rows: [[0, 1], [body, 2], [ret_line, 3]]}
"""


@pytest.mark.parametrize("version, section", [(4, ".debug_types"), (5, ".debug_info")])
def test_type_unit(tmp_path: Path, version: int, section: str) -> None:
    """A type unit (signature, the type it holds by label) that a compile unit's variable refers to."""
    exe = _build(tmp_path, f"dwarf: {{version: {version}}}\n" + TYPE_UNIT, out="tu")
    dwarfdump = require_tool("llvm-dwarfdump-14")
    units = subprocess.run([dwarfdump, "--debug-info", "--debug-types", str(exe)], capture_output=True,
                           text=True).stdout
    assert "type_signature = 0x1234567890abcdef" in units and f"{section} contents:" in units, units
    assert "DW_FORM_ref_sig8" in subprocess.run([dwarfdump, "-v", "--debug-info", str(exe)], capture_output=True,
                                                text=True).stdout
    verified = subprocess.run([dwarfdump, "--verify", str(exe)], capture_output=True, text=True)
    assert verified.returncode == 0 and "No errors." in verified.stdout, verified.stdout
    gdb = debuggers.gdb(exe, ["break tu.c:3", "run", "ptype p", "print p"])
    assert "type = struct point {\n    int x;\n    int y;\n}" in gdb.transcript and "= {x = 3, y = 4}" in gdb.transcript
    lldb = debuggers.lldb(exe, breakpoints=["tu.c:3"])
    assert lldb.stops[0].variable("p").value == "(x = 3, y = 4)"


def test_files_by_name_and_a_partial_unit(tmp_path: Path) -> None:
    """decl_file by name (a file of the unit's line table) and a partial unit imported by the compile unit."""
    text = DEMO.replace("{tag: variable, name: x, type: long, decl_line: 2,",
                        "{tag: variable, name: x, type: long, decl_file: include/defs.h, decl_line: 2,")
    text = text.replace("      - {tag: base_type, label: long, name: long, byte_size: 8, encoding: signed}\n",
                        "      - {tag: imported_unit, import: shared}\n")
    text += """\
  - tag: partial_unit
    label: shared
    language: C11
    dies:
      - {tag: base_type, label: long, name: long, byte_size: 8, encoding: signed}
"""
    exe = _build(tmp_path, text)
    info = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(exe)], capture_output=True,
                          text=True).stdout
    assert 'DW_AT_decl_file\t("/src/include/defs.h")' in info and "DW_TAG_partial_unit" in info, info
    verified = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(exe)], capture_output=True,
                              text=True)
    assert verified.returncode == 0 and "No errors." in verified.stdout, verified.stdout
    gdb = debuggers.gdb(exe, breakpoints=["demo.c:3"], commands_per_stop=["ptype x", "info scope demo.c:3"])
    assert gdb.stops[0].variable("x").value == "7" and gdb.stops[0].ptype("x") == "long"
