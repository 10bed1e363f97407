"""dwarfkit.load: real compilers' DWARF in the writer's own model, checked against llvm-dwarfdump-14's view of the
same files, edited with the ordinary API and written back."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, require_corpus, require_tool

import dwarfkit
from dwarfkit import Address, CompileUnit, Die, DwarfBuilder, Expr
from dwarfkit.backends.elf import write_debug_file
from dwarfkit.errors import DwarfkitError, ReadError
from dwarfkit.frame import CallFrames
from dwarfkit.lists import LocationList

DWARF_FILES = ["elf/shapes-gcc-O0-dwarf5.o", "elf/shapes-gcc-O2-dwarf5.o", "elf/shapes-gcc-O0-dwarf4.o",
               "elf/shapes-gcc-O0-dwarf2.o", "elf/shapes-gcc-O0-dwarf64.o", "elf/shapes-clang-O0-dwarf5.o",
               "elf/shapes-clang-O2-dwarf5.o", "elf/shapes-clang-O0-dwarf4.o", "elf/shapes-gcc-x86_64",
               "elf/shapes-gcc-O2-x86_64", "elf/shapes-clang-aarch64.o", "elf/shapes-clang-aarch64",
               "macho/shapes-x86_64.o", "macho/shapes-arm64.o", "macho/shapes-x86_64.dSYM",
               "coff/shapes-mingw-O0-dwarf5.obj", "coff/shapes-mingw-O0-dwarf4.obj", "coff/shapes-clang-x86_64.obj",
               "coff/shapes-clang-arm64.obj", "coff/shapes-mingw-O2-dwarf5.exe"]


def _walk(die: Die):
    yield die
    for child in die:
        yield from _walk(child)


def _llvm_tags(path: Path) -> list[tuple[str, str | None]]:
    """(tag, name) of every DIE in llvm-dwarfdump-14's order (NULL entries left out)."""
    out = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(path)], capture_output=True,
                         text=True, check=True).stdout
    dies: list[tuple[str, str | None]] = []
    for line in out.splitlines():
        m = re.match(r"0x[0-9a-f]+:\s+(DW_TAG_\w+)", line)
        if m:
            dies.append((m.group(1), None))
        elif dies and dies[-1][1] is None:
            n = re.match(r'\s+DW_AT_name\s+\("(.*)"\)', line)
            if n:
                dies[-1] = (dies[-1][0], n.group(1))
    return dies


@pytest.mark.parametrize("name", DWARF_FILES)
def test_every_die_loads_with_its_tag_and_name(name: str) -> None:
    path = require_corpus() / name
    dw = dwarfkit.load(path)
    assert isinstance(dw, DwarfBuilder)
    ours = [("DW_TAG_" + dwarfkit.names.tag_name(d.tag), d.name) for unit in dw.units for d in _walk(unit.root)]
    assert ours == _llvm_tags(path)


def test_object_addresses_keep_their_symbols() -> None:
    """In an object, low_pc, DW_OP_addr and line sequences name what the relocations name."""
    dw = dwarfkit.load(require_corpus() / "elf/shapes-gcc-O0-dwarf5.o")
    cu = dw.units[0]
    assert isinstance(cu, CompileUnit)
    assert cu.root.get("low_pc") == Address(".text", 0)
    functions = {d.name: d for d in _walk(cu.root) if d.tag == 0x2e}
    out = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", "--name=area", "--show-form",
                          str(CORPUS / "elf/shapes-gcc-O0-dwarf5.o")], capture_output=True, text=True).stdout
    low = int(re.search(r"DW_AT_low_pc\s+\[DW_FORM_addr\]\s+\((0x[0-9a-f]+)", out).group(1), 16)
    assert functions["area"].get("low_pc") == Address(".text", low)
    assert functions["area"].form("low_pc") == dwarfkit.names.form("addr")   # the form as read
    globals_ = {d.name: d for d in cu.root if d.tag == 0x34}
    location = globals_["greeting"].get("location")
    assert location == Expr().addr(Address("greeting", 0))
    assert functions["area"].get("frame_base") == Expr().call_frame_cfa()
    assert functions["area"].get("external") is True
    assert [s.start for s in cu.line.sequences] == [Address(".text", 0)]


def test_optimised_code_loads_lists_views_and_die_operands() -> None:
    dw = dwarfkit.load(require_corpus() / "elf/shapes-gcc-O2-x86_64")
    lists = [d.values[i] for u in dw.units for d in _walk(u.root) for i, spec in enumerate(d.specs)
             if isinstance(d.values[i], LocationList)]
    assert lists and any(lst.views for lst in lists), "gcc -O2 location lists with their GNU_locviews"
    assert isinstance(dw.frames, CallFrames) or dw.frames is None


def test_edited_model_writes_back(tmp_path: Path) -> None:
    """Rename a function, drop a variable, add an attribute: llvm-dwarfdump sees exactly those changes."""
    exe = require_corpus() / "elf/shapes-gcc-x86_64"
    dw = dwarfkit.load(exe)
    unit = next(u for u in dw.units if u.root.name == "src/shapes.c")
    main = next(d for d in _walk(unit.root) if d.name == "area")
    main.set("name", "area_renamed")
    main.set("description", "edited by dwarfkit")
    victim = next(d for d in _walk(unit.root) if d.tag == 0x34 and d.name == "greeting")
    assert victim.parent is not None and victim.parent.children is not None
    victim.parent.children.remove(victim)
    write_debug_file(exe, dw.emit(), tmp_path / "out.debug", tmp_path / "out")
    llvm = require_tool("llvm-dwarfdump-14")
    text = subprocess.run([llvm, "--debug-info", str(tmp_path / "out.debug")], capture_output=True, text=True).stdout
    assert '"area_renamed"' in text and '"edited by dwarfkit"' in text
    assert '("greeting")' not in text
    verify = subprocess.run([llvm, "--verify", str(tmp_path / "out.debug")], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout[-2000:]


def test_truncated_info_is_one_error_naming_the_section(tmp_path: Path) -> None:
    src = require_corpus() / "elf/shapes-gcc-x86_64"
    data = bytearray(src.read_bytes())
    out = subprocess.run(["readelf", "-S", "-W", str(src)], capture_output=True, text=True).stdout
    m = re.search(r"\.debug_info\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)", out)
    start = int(m.group(1), 16)
    data[start:start + 4] = (0xFFFFFF00).to_bytes(4, "little")   # a unit length past the section
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(data))
    with pytest.raises(ReadError, match=r"\.debug_info\[0x0\]"):
        dwarfkit.load(bad)


def test_not_a_file_with_dwarf(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello, world\n")
    with pytest.raises(DwarfkitError, match="not an ELF, Mach-O or COFF file"):
        dwarfkit.load(junk)


@pytest.mark.parametrize("name", ["elf/shapes-gcc-x86_64", "elf/shapes-gcc-O2-x86_64", "elf/shapes-clang-aarch64"])
def test_eh_frame_loads_with_the_same_unwind_rows(name: str, tmp_path: Path) -> None:
    """.eh_frame as CallFrames: written again (at address 0, its pointers PC-relative to there), llvm-dwarfdump-14
    computes the same FDE ranges and unwind rows as from the original."""
    from core_support import elf_bytes
    path = require_corpus() / name
    dw = dwarfkit.load(path)
    assert dw.eh_frame is not None and dw.eh_frame.fdes
    section = dw.eh_frame.eh_frame(address=0)
    ours = tmp_path / "eh.o"
    ours.write_bytes(elf_bytes({".eh_frame": bytes(section.data)}))
    machine = {"elf/shapes-clang-aarch64": b"\xb7\x00"}.get(name)
    if machine:   # elf_bytes writes x86_64; the registers' names follow the machine
        data = bytearray(ours.read_bytes())
        data[18:20] = machine
        ours.write_bytes(bytes(data))

    def rows(file: Path) -> list[str]:
        text = subprocess.run([require_tool("llvm-dwarfdump-14"), "--eh-frame", str(file)], capture_output=True,
                              text=True, check=True).stdout
        keep = []
        for line in text.splitlines():
            fde = re.search(r"FDE cie=\w+ (pc=\w+\.\.\.\w+)", line)
            if fde:
                keep.append(fde.group(1))
            elif re.match(r"\s+0x[0-9a-f]+: CFA=", line):
                keep.append(line.strip())
        return keep

    original = rows(path)
    assert original and rows(ours) == original


def test_expression_operands_are_the_loaded_dies() -> None:
    """DW_OP_implicit_pointer, DW_OP_convert, DW_OP_regval_type (gcc -O2: MinGW's C runtime has them) name the DIE
    objects of the model, in DIE attributes and in location lists alike."""
    dw = dwarfkit.load(require_corpus() / "coff/shapes-mingw-O2-dwarf5.exe")
    operands = []
    for unit in dw.units:
        for die in _walk(unit.root):
            value = die.get("location")
            exprs = [e.expr for e in value.entries] if isinstance(value, LocationList) else [value]
            for expr in exprs:
                if isinstance(expr, Expr):
                    operands += [v for _, _, values in expr._ops for v in values if isinstance(v, Die)]
    assert operands and all(target.unit.tables is dw.tables for target in operands)
    assert {dwarfkit.names.tag_name(t.tag) for t in operands} >= {"variable", "base_type"}


def test_get_gives_back_what_set_took() -> None:
    dw = DwarfBuilder(version=5)
    cu = dw.compile_unit("a.c", producer="me")
    double = cu.base_type("double", 8, "float")
    var = cu.die("variable", name="x", type=double, external=True,
                 location=Expr().breg(7, 8).regval_type(17, double).convert(double).stack_value())
    assert var.get("location") == Expr().breg(7, 8).regval_type(17, double).convert(double).stack_value()
    assert var.get("type") is double and var.get("external") is True and cu.root.get("producer") == "me"
