"""Macro units against real tools: gcc -g3's sections as the reference shape (llvm-dwarfdump-14 --debug-macro),
readelf, llvm-dwarfdump-14 --verify, and gdb's ``info macro`` / ``macro expand`` on executables written with
``.debug_macro`` (DWARF 5, GNU version 4) and ``.debug_macinfo``.

The program is tests/programs.py's; its first unit (main.c) gets the macros below. Expectations come from the C
source gcc compiles and from what the macros mean, never from our own output.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import programs
import pytest
from conftest import require_tool
from debuggers import gdb
from elf_tools import run

import dwarfkit
from dwarfkit import Arch, Image
from dwarfkit.backends.elf import write_executable, write_object
from dwarfkit.program import DwarfBuilder

pytestmark = pytest.mark.debugger

HEADER = "#define INC_VALUE 42\n#undef INC_VALUE\n#define INC_OTHER(x) ((x)+1)\n"
SOURCE = ('#define ANSWER 42\n#define SQUARE(x) ((x)*(x))\n#include "inc.h"\n#undef ANSWER\n'
          "int main(void) { return SQUARE(3); }\n")


def _describe_like_gcc(dw: DwarfBuilder, section: str | None) -> None:
    """SOURCE's macros as gcc -g3 lays them out: predefined macros in a unit of their own, the header's too."""
    cu = dw.units[0]
    mu = dw.macro_unit(cu, section=section)
    if mu.table.name == ".debug_macinfo":   # gcc -gstrict-dwarf: everything inline in the unit's own list
        mu.define(0, "__STDC__ 1")
        header = mu
    else:
        predefined = dw.macro_unit(name="predefined")
        predefined.define(0, "__STDC__ 1")
        mu.import_(predefined)
        header = dw.macro_unit(name="inc.h")
    mu.start_file(0, cu.file(cu.line.name))
    mu.define(1, "ANSWER 42").define(2, "SQUARE(x) ((x)*(x))")
    mu.start_file(3, cu.file("inc.h"))
    header.define(1, "INC_VALUE 42").undef(2, "INC_VALUE").define(3, "INC_OTHER(x) ((x)+1)")
    if header is not mu:
        mu.import_(header)
    mu.end_file().undef(4, "ANSWER").end_file()


def _describe_for_gdb(dw: DwarfBuilder, section: str | None) -> None:
    """Macros of main.c in tests/programs.py: ANSWER until line 11, a header included at line 4."""
    cu = dw.units[0]
    mu = dw.macro_unit(cu, section=section)
    if mu.table.name == ".debug_macinfo":
        mu.define(0, "PREDEF 1")
    else:
        predefined = dw.macro_unit(name="predefined")
        predefined.define(0, "PREDEF 1")
        mu.import_(predefined)
    mu.start_file(0, cu.file("main.c"))
    mu.define(1, "ANSWER 42").define(3, "SQUARE(x) ((x)*(x))", form="string")
    mu.start_file(4, cu.file("defs.h")).define(1, "FROM_HEADER 7").end_file()
    mu.undef(11, "ANSWER").end_file()


def _build(tmp_path: Path, describe, version: int, section: str | None = None, offset_size: int = 4,
           indexed: bool = False) -> Image:
    """tests/programs.py's program (as programs.build makes it) with macros described just before emission."""

    class WithMacros(DwarfBuilder):
        def emit(self, aranges: bool = True):
            describe(self, section)
            return super().emit(aranges)

    for name, text in {**programs.SOURCES, "defs.h": "#define FROM_HEADER 7\n"}.items():
        (tmp_path / name).write_text(text)
    saved = programs.DwarfBuilder
    programs.DwarfBuilder = WithMacros   # build() makes its builder by this name
    try:
        program = programs.build(Arch.X86_64, comp_dir=str(tmp_path), version=version, offset_size=offset_size,
                                 indexed=indexed)
    finally:
        programs.DwarfBuilder = saved
    return program.image


def _units(dump: str) -> dict[str, list[str]]:
    """llvm-dwarfdump --debug-macro: the lines of each unit by offset, in the macro sections only."""
    units: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_section = False
    for line in dump.splitlines():
        if line.endswith("contents:"):
            current = None
            in_section = line in (".debug_macro contents:", ".debug_macinfo contents:")
        elif in_section and re.fullmatch(r"0x[0-9a-f]{8}:", line):
            current = units.setdefault(line[:-1], [])
        elif current is not None and line.strip():
            current.append(line)
    return units


def _shape(dump: str) -> list[str]:
    """The first unit with every import replaced by the imported unit's lines, without predefined (line 0)
    macros: what a consumer sees, independent of where units lie and of the host's predefined macros."""
    units = _units(dump)

    def expand(lines: list[str], indent: str) -> list[str]:
        out = []
        for line in lines:
            imported = re.search(r"(DW_MACRO_import|DW_MACRO_GNU_transparent_include) - import offset: (0x\w+)",
                                 line)
            if imported:
                target = f"0x{int(imported.group(2), 16):08x}"
                out.append(indent + line[:imported.start()] + imported.group(1))
                out += expand(units[target], indent + "  > ")
            elif "lineno: 0 macro:" not in line:
                out.append(indent + line)
        return out

    first = next(iter(units))
    return expand(units[first], "")


@pytest.mark.parametrize("flags, version, section", [
    (["-gdwarf-5"], 5, None), (["-gdwarf-4"], 4, ".debug_macro"), (["-gdwarf-4", "-gstrict-dwarf"], 4, None)])
def test_same_shape_as_gcc(tmp_path, flags, version, section):
    gcc, dwarfdump = require_tool("gcc"), require_tool("llvm-dwarfdump-14")
    (tmp_path / "a.c").write_text(SOURCE)
    (tmp_path / "inc.h").write_text(HEADER)
    reference = tmp_path / "gcc"
    run(gcc, "-g3", *flags, "-ffreestanding", "-nostdlib", "-static", "-Wl,-e,main", "-o", reference,
        tmp_path / "a.c")
    theirs = _shape(run(dwarfdump, "--debug-macro", reference).stdout)
    assert any("INC_OTHER(x) ((x)+1)" in line for line in theirs), theirs   # the reference holds what we compare

    image = _build(tmp_path, _describe_like_gcc, version, section)
    ours_path = tmp_path / "ours"
    write_executable(image, ours_path)
    ours = _shape(run(dwarfdump, "--debug-macro", ours_path).stdout)
    assert ours == theirs
    assert run(dwarfdump, "--verify", ours_path).stdout.rstrip().endswith("No errors.")
    # readelf reads the same entries (its own decoder): names and lines of every definition.
    readelf = run(require_tool("readelf"), "--debug-dump=macro", ours_path).stdout
    for text in ("ANSWER 42", "SQUARE(x) ((x)*(x))", "INC_VALUE 42", "INC_OTHER(x) ((x)+1)", "__STDC__ 1"):
        assert re.search(rf"lineno ?: \d+ macro ?: {re.escape(text)}\n", readelf), readelf
    assert len(re.findall(r"DW_MAC\w+_start_file - lineno: \d+ filenum: \d+", readelf)) == 2, readelf


def _gdb_session(exe: Path, tmp_path: Path, with_predefined: bool = True) -> None:
    out = gdb(exe, ["break main.c:9", "break main.c:12", "run", "info macro ANSWER", "info macro FROM_HEADER",
                    "macro expand ANSWER + SQUARE(2) + FROM_HEADER + PREDEF", "continue", "info macro ANSWER",
                    "macro expand ANSWER + FROM_HEADER"])
    before, after = out.split("Breakpoint 2, ", 1)
    assert f"Defined at {tmp_path}/main.c:1\n#define ANSWER 42\n" in before, out
    assert f"Defined at {tmp_path}/defs.h:1\n  included at {tmp_path}/main.c:4\n#define FROM_HEADER 7\n" in before, out
    assert "expands to: 42 + ((2)*(2)) + 7 + 1\n" in before, out
    assert ("The symbol `ANSWER' has no definition as a C/C++ preprocessor macro\n"
            f"at {tmp_path}/main.c:12\n") in after, out
    assert "expands to: ANSWER + 7" in after, out


@pytest.mark.parametrize("version, section, offset_size, indexed", [
    (5, None, 4, False), (5, None, 8, False), (5, None, 4, True), (4, None, 4, False), (4, ".debug_macro", 4, False),
    (4, ".debug_macro", 8, False), (3, None, 4, False), (2, ".debug_macro", 4, False)])
def test_gdb_sees_the_macros(tmp_path, version, section, offset_size, indexed):
    image = _build(tmp_path, _describe_for_gdb, version, section, offset_size, indexed)
    exe = tmp_path / "prog"
    write_executable(image, exe)
    info = run(require_tool("llvm-dwarfdump-14"), "--debug-info", exe).stdout
    expected = "DW_AT_macros" if version == 5 else "DW_AT_GNU_macros" if section else "DW_AT_macro_info"
    assert re.search(rf"{expected}\t\(0x0+\)", info), info
    assert run("llvm-dwarfdump-14", "--verify", exe).stdout.rstrip().endswith("No errors.")
    _gdb_session(exe, tmp_path)


@pytest.mark.parametrize("version", [5, 4])
def test_object_linked_by_ld(tmp_path, version):
    """In an object the section offsets are relocations (the line table, strings, imports, DW_AT_macros)."""
    image = _build(tmp_path, _describe_for_gdb, version, ".debug_macro")
    write_object(image, tmp_path / "prog.o")
    relocations = run(require_tool("readelf"), "-r", tmp_path / "prog.o").stdout
    macro_relocs = relocations.split("'.rela.debug_macro'")[1].split("Relocation section")[0]
    for target in (".debug_line + 0", ".debug_str + ", ".debug_macro + "):
        assert target in macro_relocs, relocations
    exe = tmp_path / "prog"
    run(require_tool("ld"), "-o", exe, tmp_path / "prog.o")
    assert run("llvm-dwarfdump-14", "--verify", exe).stdout.rstrip().endswith("No errors.")
    _gdb_session(exe, tmp_path)


def test_readelf_is_clean(tmp_path):
    image = _build(tmp_path, _describe_for_gdb, 4, None)
    exe = tmp_path / "prog"
    write_executable(image, exe)
    done = subprocess.run(["readelf", "--debug-dump=macro", str(exe)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert " DW_MACINFO_define - lineno : 1 macro : ANSWER 42\n" in done.stdout, done.stdout


def test_gdb_skips_a_vendor_entry_by_the_operand_table(tmp_path):
    """gdb skips an unknown opcode by the forms the header declares: a wrong encoding of the operands would make it
    misread every later entry (llvm-dwarfdump-14 and readelf 2.40 do not read opcode_operands_table at all)."""
    def describe(dw: DwarfBuilder, section: str | None) -> None:
        cu = dw.units[0]
        mu = dw.macro_unit(cu)
        mu.declare_opcode(0xE5, "udata", "string", "block", "data2", "strp", "sdata", "sec_offset")
        mu.start_file(0, cu.file("main.c")).define(1, "ANSWER 42")
        mu.vendor(0xE5, 1 << 40, "vendor text", bytes(range(200)), 0xBEEF, "a vendor string in .debug_str", -3,
                  0x1234)
        mu.define(3, "SQUARE(x) ((x)*(x))").define(3, "PREDEF 1")
        mu.start_file(4, cu.file("defs.h")).define(1, "FROM_HEADER 7").end_file()
        mu.undef(11, "ANSWER").end_file()

    exe = tmp_path / "prog"
    write_executable(_build(tmp_path, describe, 5), exe)
    _gdb_session(exe, tmp_path)
    # Loaded back, the entry keeps its forms and operands (a sec_offset operand as the number it holds).
    loaded = dwarfkit.load(exe)
    vendor = [e for mu in loaded.tables.macros[".debug_macro"].units for e in mu.entries if e[0] == "vendor"]
    assert vendor == [("vendor", 0xE5, (1 << 40, "vendor text", bytes(range(200)), 0xBEEF,
                                        "a vendor string in .debug_str", -3, 0x1234),
                       ("udata", "string", "block", "data2", "strp", "sdata", "sec_offset"))]


@pytest.mark.parametrize("backend", ["macho_dsym", "coff"])
def test_other_containers_hold_the_same_entries(tmp_path, backend):
    """Mach-O and COFF objects rename the sections (__debug_macro, long COFF names); llvm-dwarfdump-14 reads the
    same entries from them as from the ELF object, relocations applied."""
    import importlib
    dwarfdump = require_tool("llvm-dwarfdump-14")
    image = _build(tmp_path, _describe_for_gdb, 5)
    write_object(image, tmp_path / "prog.o")
    importlib.import_module(f"dwarfkit.backends.{backend}").write_object(image, tmp_path / "other.o")
    elf = _shape(run(dwarfdump, "--debug-macro", tmp_path / "prog.o").stdout)
    assert any("FROM_HEADER 7" in line for line in elf), elf
    assert _shape(run(dwarfdump, "--debug-macro", tmp_path / "other.o").stdout) == elf
    assert run(dwarfdump, "--verify", tmp_path / "other.o").stdout.rstrip().endswith("No errors.")
