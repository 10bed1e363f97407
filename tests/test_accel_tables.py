"""Accelerator tables (``emit(names=...)``): ``.debug_names``, ``.gdb_index`` and the Apple tables, judged by
llvm-dwarfdump-14 (``--verify`` checks .debug_names and the Apple tables against the DIEs; our dump of each table
equals its dump), gdb 13 (``maint print objfiles`` names the index it read; with the ELF symbol table removed it finds
functions through the index alone, and ``maint info symtabs`` shows it expanded only the units it needed) and lldb-14
(its ``log timers`` show it parsed the DIEs of fewer units than without an index). Hostile tables give findings.
"""
from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from index_program import NAMES, describe, image

from dwarfkit import Arch, debuggers
from dwarfkit.backends.coff.pe import write_pe
from dwarfkit.backends.elf.executable import write_executable
from dwarfkit.backends.macho_dsym import write_executable_and_dsym
from dwarfkit.errors import LayoutError
from dwarfkit.reader.apple_text import dump_apple
from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.dump import dump_text
from dwarfkit.reader.gdb_index_text import dump_gdb_index
from dwarfkit.reader.text import DumpOptions

APPLE = ["apple-names", "apple-types", "apple-namespaces", "apple-objc"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The program with each index: ELF executables, a PE image, a Mach-O executable and its dSYM."""
    folder = tmp_path_factory.mktemp("index")
    out = {}
    for names in ("debug_names", "gdb_index", None):
        img = image()
        img.dwarf = describe(names).emit()
        out[f"elf-{names}"] = folder / f"prog-{names}"
        write_executable(img, out[f"elf-{names}"])
    img = image()
    img.dwarf = describe("debug_names").emit()
    out["pe"] = folder / "prog.exe"
    write_pe(img, out["pe"])
    img = image()
    img.dwarf = describe("apple", line_strings=False).emit()
    out["macho"] = folder / "progm"
    out["dsym"] = write_executable_and_dsym(img, out["macho"])
    return out


def section_lines(text: str, section: str) -> list[str]:
    """The non-blank lines under ``.section contents:`` up to the next heading."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.endswith(" contents:"):
            inside = line == f".{section} contents:"
        elif inside and line.strip():
            lines.append(line.rstrip())
    return lines


def llvm(path: Path, *flags: str) -> str:
    run = subprocess.run([require_tool("llvm-dwarfdump-14"), *flags, str(path)], capture_output=True, text=True,
                         timeout=120)
    return run.stdout + run.stderr


def ours(path: Path, flags: set[str]) -> str:
    out = io.StringIO()
    assert dump_text(open_debug_file(str(path)), out, flags, DumpOptions()) == []
    return out.getvalue()


@pytest.mark.parametrize("key", ["elf-debug_names", "pe", "dsym"])
def test_llvm_dwarfdump_verify_finds_nothing(built, key):
    report = llvm(built[key], "--verify")
    assert "No errors." in report, report
    assert ("Verifying .apple_names" if key == "dsym" else "Verifying .debug_names") in report


@pytest.mark.parametrize("key", ["elf-debug_names", "pe"])
def test_debug_names_dump_equals_llvm_dwarfdump(built, key):
    theirs = section_lines(llvm(built[key], "--debug-names"), "debug_names")
    assert section_lines(ours(built[key], {"debug-names"}), "debug_names") == theirs
    found = {m.group(1) for m in re.finditer(r'String: 0x[0-9a-f]+ "(.*)"', "\n".join(theirs))}
    assert found == set(NAMES)
    assert any("DW_IDX_parent" in line for line in theirs)   # Circle, Kind, Radius, count in namespace shapes


def test_apple_dumps_equal_llvm_dwarfdump(built):
    text = llvm(built["dsym"], *(f"--{flag}" for flag in APPLE))
    mine = ours(built["dsym"], set(APPLE))
    for flag in APPLE:
        section = flag.replace("-", "_")
        assert section_lines(mine, section) == section_lines(text, section)
    names = set(re.findall(r'String: 0x[0-9a-f]+ "(.*)"', text))
    assert names == set(NAMES)


def test_apple_qualified_hash_is_dsymutils(corpus):
    """A dsymutil-made dSYM's .apple_types: our dump equals llvm's, and our hash of "::name" is its qual hash."""
    from dwarfkit.tables.debug_names import djb_hash
    dsym = corpus / "macho/shapes-x86_64.dSYM"
    text = llvm(dsym, "--apple-types")
    assert section_lines(ours(dsym, {"apple-types"}), "apple_types") == section_lines(text, "apple_types")
    shape = re.search(r'"shape"\n.*\n.*\n.*\n.*\n *Atom\[3\]: (0x[0-9a-f]+)', text)
    assert shape and int(shape.group(1), 16) == djb_hash("::shape")


def test_gdb_index_dump_equals_llvm_dwarfdump(built, tmp_path):
    """llvm-dwarfdump-14 reads version 7 only; version 8 has the same layout, so it reads a copy marked 7."""
    data = bytearray(built["elf-gdb_index"].read_bytes())
    section = open_debug_file(str(built["elf-gdb_index"])).section("gdb_index")
    at = bytes(data).find(bytes(section))
    data[at:at + 4] = (7).to_bytes(4, "little")
    copy = tmp_path / "v7"
    copy.write_bytes(data)
    theirs = section_lines(llvm(copy, "--gdb-index"), "gdb_index")
    assert "  Version = 7" in theirs and any("String name: shapes::Circle::area" in x for x in theirs)
    assert section_lines(ours(copy, {"gdb-index"}), "gdb_index") == theirs


@pytest.mark.parametrize("kind, says", [("gdb_index", ".gdb_index: version 8"),
                                        ("debug_names", ".debug_names: exists")])
def test_gdb_uses_the_index(built, tmp_path, kind, says):
    """Without the ELF symbol table gdb finds the functions through the index alone, and expands only the units
    that hold them (not _start.c)."""
    stripped = tmp_path / "nosym"
    subprocess.run([require_tool("objcopy"), "--remove-section=.symtab", "--remove-section=.strtab",
                    str(built[f"elf-{kind}"]), str(stripped)], check=True)
    session = debuggers.gdb(stripped, ["maint print objfiles", "break shapes::Circle::area", "break helper",
                                       "break c_function", "maint info symtabs"])
    text = session.transcript
    assert says in text
    assert "file shapes.cpp, line 12." in text and "file shapes.cpp, line 14." in text
    assert "file c_function.c, line 3." in text
    assert "name c_function.c" in text and "name _start.c" not in text


def test_gdb_breaks_and_runs_with_each_index(tmp_path):
    """The runnable two-unit program: gdb breaks in leaf and shows the same backtrace with either index."""
    import programs
    transcripts = []
    for names in (None, "gdb_index", "debug_names"):
        program = programs.build(Arch.X86_64, names=names)
        exe = tmp_path / f"prog-{names}"
        write_executable(program.image, exe)
        session = debuggers.gdb(exe, breakpoints=["leaf"], commands_per_stop=["bt"], max_stops=1)
        assert session.stops and session.stops[0].function == "leaf"
        assert not [c for c in session.complaints if "index" in c or "names" in c]   # (its CFI ones are known)
        transcripts.append([f.function for f in session.stops[0].frames])
    assert transcripts[0] == transcripts[1] == transcripts[2] == ["leaf", "compute", "_start"]


def _units_parsed(path: Path) -> int:
    session = debuggers.lldb(path, ["log timers enable", "breakpoint set -n c_function", "log timers dump"],
                             stop_on_error=False)
    found = re.search(r"count: (\d+)\) for void DWARFUnit::ExtractDIEsRWLocked", session.transcript)
    assert found, session.transcript
    return int(found.group(1))


def test_lldb_uses_debug_names_and_apple_tables(built):
    """lldb-14 parses the DIEs of the one unit it needs with an index, of all three without one."""
    assert _units_parsed(built["elf-None"]) == 3
    assert _units_parsed(built["elf-debug_names"]) == 1
    dwarf = built["dsym"] / "Contents/Resources/DWARF/progm"   # lldb-14 on Linux does not look for the bundle
    assert _units_parsed(dwarf) == 1
    session = debuggers.lldb(dwarf, ["breakpoint set -n helper"])
    assert "shapes.cpp:14" in session.transcript


def test_gdb_index_refuses_dwarf5_type_units():
    from dwarfkit.program import DwarfBuilder
    dw = DwarfBuilder(names="gdb_index")
    tu = dw.type_unit(0x1234)
    tu.type_die = tu.root.die("structure_type", name="T", byte_size=1)
    dw.compile_unit("a.c")
    with pytest.raises(LayoutError, match="type units"):
        dw.emit()


def test_names_given_after_units_were_released():
    from dwarfkit.program import DwarfBuilder
    dw = DwarfBuilder()
    dw.finish(dw.compile_unit("a.c"))
    with pytest.raises(LayoutError, match="DwarfBuilder\\(names=...\\)"):
        dw.emit(names="debug_names")
    with pytest.raises(Exception, match="choose among"):
        DwarfBuilder(names="pubnames")


# --- hostile tables -----------------------------------------------------------------------------------------------
def _apple(buckets: int, hashes: int, body: bytes = b"") -> bytes:
    header = b"HSAH" + (1).to_bytes(2, "little") + bytes(2) + buckets.to_bytes(4, "little")
    return header + hashes.to_bytes(4, "little") + (12).to_bytes(4, "little") + bytes(4) + (1).to_bytes(4, "little") \
        + (1).to_bytes(2, "little") + (6).to_bytes(2, "little") + body


@pytest.mark.parametrize("data, message", [
    (b"HSAH", "shorter than its header"),
    (_apple(0xFFFFFFF, 1), "do not fit"),
    (_apple(1, 1, (0).to_bytes(4, "little") + (5).to_bytes(4, "little") + (0x1000).to_bytes(4, "little")),
     "past the table's end"),
    (_apple(1, 1, bytes(4) + (5).to_bytes(4, "little") + (44).to_bytes(4, "little") + (1).to_bytes(4, "little")
            + (0xFFFFFF).to_bytes(4, "little")), "do not fit the table"),
])
def test_hostile_apple_table_gives_findings(data, message):
    problems = dump_apple("apple_names", data, "little", b"\0main\0", io.StringIO())
    assert any(message in p for p in problems), problems
    assert all(p.startswith(".apple_names[0x") for p in problems)


@pytest.mark.parametrize("data, message", [
    (b"\x08\0\0\0", "shorter than its 24-byte header"),
    ((9).to_bytes(4, "little") + bytes(20), "only versions 7 and 8"),
    (b"".join(v.to_bytes(4, "little") for v in (8, 24, 24, 24, 0x1000, 24)), "out of order"),
    (b"".join(v.to_bytes(4, "little") for v in (8, 24, 24, 24, 24, 32)) + (1).to_bytes(4, "little")
     + (0x100).to_bytes(4, "little"), "runs past the table's end"),
    (b"".join(v.to_bytes(4, "little") for v in (8, 24, 24, 24, 24, 32)) + (0x50).to_bytes(4, "little") + bytes(4)
     + bytes(4), "not a string"),
])
def test_hostile_gdb_index_gives_findings(data, message):
    problems = dump_gdb_index(data, io.StringIO())
    assert any(message in p for p in problems), problems


def test_hostile_tables_through_the_cli(built, tmp_path):
    """A damaged .gdb_index in a file: dump exits 1 with findings, no traceback."""
    data = bytearray(built["elf-gdb_index"].read_bytes())
    at = bytes(data).find(bytes(open_debug_file(str(built["elf-gdb_index"])).section("gdb_index")))
    data[at + 4:at + 24] = b"\xff" * 20
    bad = tmp_path / "bad"
    bad.write_bytes(data)
    run = subprocess.run(["python3", "-m", "dwarfkit", "dump", "--gdb-index", str(bad)], capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parent.parent)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert ".gdb_index[0x4]" in run.stdout + run.stderr


# --- convert --index on real compilers' programs --------------------------------------------------------------------
@pytest.mark.parametrize("compiler, linker", [("gcc", "ld"), ("clang-14", "lld")])
def test_convert_with_an_index_keeps_the_gdb_session(tmp_path, compiler, linker):
    """The C program from gcc and clang, converted with each index: gdb reads the index (maint print objfiles) and
    shows the same session as on the original."""
    from sessions import build, compare_transcripts, program, transcript

    import dwarfkit
    require_tool(compiler)
    prog = program("c")
    exe = build(prog, compiler, linker, tmp_path)
    original = transcript(exe, "gdb", prog)
    for kind, says in (("gdb_index", ".gdb_index: version 8"), ("debug_names", ".debug_names: exists")):
        out = tmp_path / f"{prog.name}-{kind}"
        dwarfkit.convert(exe, out, index=kind)
        assert says in debuggers.gdb(out, ["maint print objfiles"]).transcript
        assert compare_transcripts(original, transcript(out, "gdb", prog)) == []
