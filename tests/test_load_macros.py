"""Macro information through ``dwarfkit.load`` and ``dwarfkit convert``: objects of ``gcc -g3`` (GNU ``.debug_macro``
version 4 at -gdwarf-4, DWARF 5 ``.debug_macro`` at -gdwarf-5, also DWARF64; all with COMDAT sections of imported units;
``.debug_macinfo`` at -gdwarf-2 -gstrict-dwarf) and of ``clang-14 -fdebug-macro -g`` (DWARF 5, strx forms; also
Mach-O and COFF objects) convert to objects whose macros llvm-dwarfdump-14 prints the same (offsets masked) and
whose linked programs give gdb's ``info macro`` / ``macro expand`` answers of the original link; conversions between
versions and formats keep gdb's answers; the model holds the macro units as the writer's API builds them; bad macro
data is one error naming the section and offset."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, require_tool
from debuggers import gdb
from roundtrip import compare

import dwarfkit
from dwarfkit.errors import ReadError
from dwarfkit.reader.macros import parse_macinfo_unit, parse_macro_unit
from dwarfkit.tables.macros import MACINFO, MACRO, MacroUnit

SOURCE = """\
#include "inc.h"
#define ANSWER 42
#define SQUARE(x) ((x)*(x))
#undef INC_VALUE
#define INC_VALUE 8
#define EMPTY
int main(void) { return SQUARE(ANSWER) + INC_VALUE + INC_FN(1, 2) + NESTED - 1784; }
"""
HEADER = """\
#define INC_VALUE 7
#define INC_FN(a, b) ((a) + (b))
#include "nested.h"
"""
NESTED = "#define NESTED INC_VALUE\n"

BUILDS = {
    "gcc-dwarf4": ["gcc", "-g3", "-gdwarf-4"],
    "gcc-dwarf5": ["gcc", "-g3", "-gdwarf-5"],
    "gcc-dwarf5-64": ["gcc", "-g3", "-gdwarf-5", "-gdwarf64"],
    "gcc-dwarf2-macinfo": ["gcc", "-g3", "-gdwarf-2", "-gstrict-dwarf"],
    "clang-dwarf5": ["clang-14", "-fdebug-macro", "-g"],
}
# gcc's objects hold the imported units in COMDAT .debug_macro sections, which llvm-dwarfdump-14 cannot read in an
# object ("At most two relocations per offset are supported"): their macros are compared in the linked programs.
COMDAT_MACROS = {"gcc-dwarf4", "gcc-dwarf5", "gcc-dwarf5-64"}
GDB_COMMANDS = ["break main", "run", "info macro ANSWER", "info macro -a INC_VALUE", "info macro INC_FN",
                "info macro NESTED", "info macro EMPTY", "info macro __STDC__",
                "macro expand SQUARE(ANSWER) + INC_VALUE + INC_FN(1, 2) + NESTED"]


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("macros")
    (folder / "include").mkdir()
    (folder / "m.c").write_text(SOURCE)
    (folder / "include" / "inc.h").write_text(HEADER)
    (folder / "include" / "nested.h").write_text(NESTED)
    made = {}
    for label, command in BUILDS.items():
        require_tool(command[0])
        out = folder / f"{label}.o"
        subprocess.run([*command, "-O0", "-Iinclude", "-c", "m.c", "-o", out.name], cwd=folder, check=True)
        made[label] = out
    return made


def _link(obj: Path, exe: Path) -> Path:
    subprocess.run([require_tool("gcc"), str(obj), "-o", str(exe)], check=True)
    return exe


def _macros(path: Path, mask: bool = True) -> str:
    """llvm-dwarfdump-14 --debug-macro, without the file name; offsets masked unless ``mask`` is False."""
    text = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-macro", str(path)], capture_output=True,
                          text=True).stdout.split("\n", 1)[1]
    return re.sub(r"0x[0-9a-f]+", "0x_", text) if mask else text


def expanded_macros(path: Path) -> list[list[str]]:
    """What llvm-dwarfdump-14 --debug-macro shows, independent of layout: every unit no other imports (a compile
    unit's, in section order), its imports replaced by the imported unit's entries, headers without offsets."""
    units: dict[int, list[str]] = {}
    current: list[str] = []
    for line in _macros(path, mask=False).splitlines():
        if re.fullmatch(r"0x[0-9a-f]+:", line.strip()):
            current = units.setdefault(int(line.strip()[:-1], 16), [])
        elif line.strip() and not line.endswith("contents:"):
            current.append(re.sub(r"(, )?debug_line_offset = 0x[0-9a-f]+|flags = 0x[0-9a-f]+, ", "", line.strip()))
    imported = {int(m[1], 16) for unit in units.values() for entry in unit
                if (m := re.search(r"(?:import|include).* offset: (0x[0-9a-f]+)", entry))}

    def expand(offset: int, depth: int = 0) -> list[str]:
        out = []
        for entry in units[offset]:
            m = re.search(r"(?:import|include).* offset: (0x[0-9a-f]+)", entry)
            out += expand(int(m[1], 16), depth + 1) if m and depth < 20 else [entry]
        return out
    return [expand(offset) for offset in sorted(units) if offset not in imported]


def _session(exe: Path) -> str:
    return re.sub(r"process \d+", "process N", gdb(exe, GDB_COMMANDS).replace(str(exe), "EXE"))


@pytest.mark.parametrize("label", BUILDS)
def test_converted_object_has_the_same_macros(objects: dict[str, Path], label: str, tmp_path: Path) -> None:
    original = objects[label]
    converted = tmp_path / original.name
    dwarfkit.convert(original, converted)
    assert compare(original, converted) == []
    if label not in COMDAT_MACROS:
        assert _macros(converted) == _macros(original)
    linked = _macros(_link(original, tmp_path / "orig"))
    assert "ANSWER 42" in linked and "INC_FN(a,b) ((a) + (b))" in linked and "NESTED INC_VALUE" in linked
    assert _macros(_link(converted, tmp_path / "conv")) == linked
    assert expanded_macros(tmp_path / "conv") == expanded_macros(tmp_path / "orig")


@pytest.mark.parametrize("target", ["x86_64-apple-macos11", "x86_64-w64-windows-gnu"])
def test_macho_and_coff_objects_keep_their_macros(objects: dict[str, Path], target: str, tmp_path: Path) -> None:
    folder = objects["clang-dwarf5"].parent
    original = tmp_path / "m.o"
    subprocess.run([require_tool("clang-14"), "-target", target, "-fdebug-macro", "-g", "-O0", "-Iinclude", "-c",
                    "m.c", "-o", str(original)], cwd=folder, check=True)
    converted = tmp_path / "conv.o"
    dwarfkit.convert(original, converted)
    assert compare(original, converted) == []
    text = _macros(original, mask=False)
    assert "_define - lineno: 2 macro: ANSWER 42" in text or "define_strx - lineno: 2 macro: ANSWER 42" in text
    assert _macros(converted, mask=False) == text


@pytest.mark.parametrize("version", [4, 5])
def test_converted_program_of_two_units_has_the_same_macros(objects: dict[str, Path], version: int,
                                                            tmp_path: Path) -> None:
    """Linked, the compile units share the header's imported units (ld keeps one copy of each COMDAT group); the
    conversion puts the compile units' own units first, so only the expanded view compares."""
    folder = objects["gcc-dwarf4"].parent
    (folder / "other.c").write_text('#include "inc.h"\n#define OTHER 5\nint other(void) { return OTHER; }\n')
    exe = tmp_path / "two"
    subprocess.run([require_tool("gcc"), "-g3", "-O0", f"-gdwarf-{version}", "-Iinclude", "m.c", "other.c", "-o",
                    str(exe)], cwd=folder, check=True)
    converted = tmp_path / "two.conv"
    dwarfkit.convert(exe, converted)
    original = expanded_macros(exe)
    assert len(original) == 2 and any("OTHER 5" in entry for entry in original[1])
    assert expanded_macros(converted) == original
    # gdb's macro scope without a process is the last line listed.
    commands = ["list other", "info macro OTHER", "info macro -a INC_VALUE", "list main", "info macro -a INC_VALUE",
                "macro expand SQUARE(ANSWER) + INC_VALUE"]
    assert "#define OTHER 5" in gdb(exe, commands)
    assert gdb(converted, commands).replace(str(converted), "EXE") == gdb(exe, commands).replace(str(exe), "EXE")


@pytest.mark.parametrize("label", BUILDS)
def test_converted_object_links_to_the_same_gdb_macros(objects: dict[str, Path], label: str, tmp_path: Path) -> None:
    converted = tmp_path / "conv.o"
    dwarfkit.convert(objects[label], converted)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    original = _session(_link(objects[label], tmp_path / "a" / "m"))
    assert "#define ANSWER 42" in original and "expands to: ((42)*(42)) + 8 + ((1) + (2)) + 8" in original
    assert _session(_link(converted, tmp_path / "b" / "m")) == original


@pytest.mark.parametrize("label, options", [
    ("gcc-dwarf4", {"version": 5}), ("gcc-dwarf5", {"version": 4}), ("gcc-dwarf2-macinfo", {"version": 5}),
    ("clang-dwarf5", {"version": 4}), ("gcc-dwarf5", {"indexed": True}), ("gcc-dwarf4", {"offset_size": 8}),
    ("clang-dwarf5", {"offset_size": 8}),
], ids=lambda x: x if isinstance(x, str) else ",".join(f"{k}={v}" for k, v in x.items()))
def test_conversions_keep_gdbs_macros(objects: dict[str, Path], label: str, options: dict, tmp_path: Path) -> None:
    converted = tmp_path / "conv.o"
    dwarfkit.convert(objects[label], converted, **options)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    original = _session(_link(objects[label], tmp_path / "a" / "m"))
    assert _session(_link(converted, tmp_path / "b" / "m")) == original
    if "version" in options or options.get("indexed"):   # llvm-dwarfdump-14 reads no DWARF64 .debug_macro strx
        # The linked program's: of an object whose macro units sit in COMDAT groups (gcc's, and so the converted
        # one), llvm-dwarfdump-14 shows one .debug_macro section only.
        text = _macros(tmp_path / "b" / "m", mask=False)
        assert f"version = 0x000{options.get('version', 5)}" in text and "ANSWER 42" in text


def _entries(unit: MacroUnit) -> list[tuple]:
    return [(kind, line, operand, form) for kind, line, operand, form in unit.entries if kind != "import"]


def test_loaded_model_holds_the_macro_units(objects: dict[str, Path]) -> None:
    dw = dwarfkit.load(objects["gcc-dwarf5"])
    units = dw.tables.macros[MACRO].units
    own = [u for u in units if u.line is not None]
    assert len(own) == 1
    entries = _entries(own[0])
    assert ("define", 2, "ANSWER 42", "strp") in entries and ("undef", 4, "INC_VALUE", "strp") in entries
    assert ("define", 6, "EMPTY ", "strp") in entries and ("define", 1, "NESTED INC_VALUE", "strp") in entries
    imported = [operand for kind, _, operand, _ in own[0].entries if kind == "import"]
    assert imported and all(isinstance(u, MacroUnit) and u.line is None for u in imported)
    assert any(("define", 0, "__STDC__ 1", "strp") in _entries(u) for u in imported)
    assert any(("define", 2, "INC_FN(a,b) ((a) + (b))", "strp") in _entries(u) for u in imported)
    # The include structure: start_file of inc.h (line 1 of m.c) names a file of the unit's line table.
    starts = [(line, own[0].line.files[file].name) for kind, line, file, _ in own[0].entries if kind == "start_file"]
    assert (1, "inc.h") in starts

    dw = dwarfkit.load(objects["gcc-dwarf2-macinfo"])
    (unit,) = dw.tables.macros[MACINFO].units
    assert ("undef", 4, "INC_VALUE", "string") in unit.entries and ("define", 0, "__STDC__ 1", "string") in unit.entries

    dw = dwarfkit.load(objects["clang-dwarf5"])
    (unit,) = dw.tables.macros[MACRO].units
    texts = [dw.tables.str_offsets.text_at(operand) if form == "strx" else operand
             for kind, _, operand, form in unit.entries if kind == "define"]
    assert "SQUARE(x) ((x)*(x))" in texts


def test_bad_macro_units_are_errors_naming_section_and_offset() -> None:
    cases = [
        (lambda: parse_macro_unit(b"\x05\x00\x02\x00", 0, "little"), r"\.debug_macro\[0x0\]: the debug_line"),
        (lambda: parse_macro_unit(b"\x09\x00\x00\x00", 0, "little"), r"\.debug_macro\[0x0\]: macro unit version 9"),
        (lambda: parse_macro_unit(b"\x05\x00\x00\x01\x05ABC", 0, "little"), r"\[0x3\]: the text at 0x5 has no"),
        (lambda: parse_macro_unit(b"\x05\x00\x00\x0d", 0, "little"), r"\[0x3\]: opcode 0xd is neither standard"),
        (lambda: parse_macro_unit(b"\x05\x00\x00\x05\x01\x10\x00\x00\x00\x00", 0, "little", b"x\0"),
         r"\[0x3\]: define: \.debug_str offset 0x10 names no string"),
        (lambda: parse_macro_unit(b"\x05\x00\x00\x0b\x01\x03\x00", 0, "little"), r"\[0x3\]: string index 3"),
        (lambda: parse_macro_unit(b"\x05\x00\x04\x01\xe0\x01\x1e", 0, "little"), r"operand form 0x1e"),
        (lambda: parse_macinfo_unit(b"\x01\x02A", 0), r"\.debug_macinfo\[0x0\]: the text at 0x2 has no"),
        (lambda: parse_macinfo_unit(b"\x03\x01", 0), r"\.debug_macinfo\[0x0\]: the file index at 0x2 runs past"),
        (lambda: parse_macinfo_unit(b"\x00", 4), r"\.debug_macinfo\[0x4\]: no macro unit"),
    ]
    for call, message in cases:
        with pytest.raises(ReadError, match=message):
            call()
    # A vendor opcode declared in the header is decoded by its operand forms; the unit ends after its 0.
    unit = parse_macro_unit(b"\x05\x00\x04\x01\xe0\x02\x0f\x08\xe0\x05hi\x00\x00", 0, "little")
    assert [(e.kind, e.opcode, e.operands) for e in unit.entries] == [("vendor", 0xE0, (5, "hi"))]
    assert unit.end == 14


def _section(path: Path, name: str) -> tuple[int, int]:
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        section = ELFFile(f).get_section_by_name(name)
        return section["sh_offset"], section["sh_size"]


@pytest.mark.parametrize("label, section, patch, message", [
    ("clang-dwarf5", ".debug_macro", lambda start, size: (start, 9), r"\.debug_macro\[0x0\]: macro unit version 9"),
    ("gcc-dwarf2-macinfo", ".debug_macinfo", lambda start, size: (start + size - 1, 3),
     r"\.debug_macinfo\[0x[0-9a-f]+\]: the line at 0x[0-9a-f]+ runs past the end"),
])
def test_convert_of_bad_macros_is_one_error_line(objects: dict[str, Path], tmp_path: Path, label: str,
                                                 section: str, patch, message: str) -> None:
    data = bytearray(objects[label].read_bytes())
    at, value = patch(*_section(objects[label], section))
    data[at] = value
    bad = tmp_path / "bad.o"
    bad.write_bytes(bytes(data))
    out = tmp_path / "out.o"
    run = subprocess.run([sys.executable, "-m", "dwarfkit", "convert", str(bad), str(out)], capture_output=True,
                         text=True, cwd=REPO)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dwarfkit: error: ") and re.search(message, lines[0]), lines
    assert not out.exists()


def _load_with_macros(macro_section: bytes) -> None:
    """Loads a one-unit program (written by the builder) whose DW_AT_macros names offset 0 of ``macro_section``."""
    from dwarfkit import DwarfBuilder
    from dwarfkit.loading.dies import FileLoader, LoadOptions
    from dwarfkit.reader.debugfile import DebugFile

    dw = DwarfBuilder(version=5)
    cu = dw.compile_unit("a.c", comp_dir="/src")
    dw.macro_unit(cu).define(1, "A 1")
    emitted = dw.emit()
    sections = {s.name.lstrip("."): bytes(s.data) for s in emitted}
    sections["debug_macro"] = macro_section
    df = DebugFile(path="handmade", file_format="elf64-x86-64", arch="x86_64", byteorder="little", address_size=8,
                   sections=sections)
    FileLoader(df, LoadOptions()).run()


def test_hostile_imports_are_errors() -> None:
    def unit(target: int) -> bytes:   # a version 5 header without flags, an import, the end
        return b"\x05\x00\x00\x07" + target.to_bytes(4, "little") + b"\x00"
    _load_with_macros(unit(9) + b"\x05\x00\x00\x00")   # the builder's own layout is fine
    with pytest.raises(ReadError, match=r"import cycle"):
        _load_with_macros(unit(9) + unit(0))
    chain = b"".join(unit(9 * (i + 1)) for i in range(300)) + b"\x05\x00\x00\x00"
    with pytest.raises(ReadError, match=r"\.debug_macro\[0x[0-9a-f]+\]: imports nest deeper than 100"):
        _load_with_macros(chain)
    with pytest.raises(ReadError, match=r"handmade: \.debug_macro\[0x9\]: no macro unit"):
        _load_with_macros(unit(9))
