"""Deliberately broken DWARF from gdb's own testsuite (binutils-gdb gdb/testsuite/gdb.dwarf2), written as
descriptions with raw control (tests/gdb_dwarf2_broken/*.yaml), built by `dwarfkit build` and run through
`dwarfkit.debuggers`: gdb must survive each and say what the .exp expects.

- corrupt.exp (PR gdb/15827): DW_AT_sibling values (DW_FORM_ref4 12345678) pointing past the section; gdb reads the
  rest ("print 1" gives "= 1") after complaining that debug info runs off the end of .debug_info.
- dw2-error.exp: a unit header with version 153; "Dwarf Error: wrong version in compilation unit header (is 153,
  should be 2, 3, 4 or 5)", then "break -q main" still sets a breakpoint from the minimal symbol.
- dw2-dummy-cu.exp: a DWARF 2 unit that ends after its header; "maint expand-symtab" prints nothing and
  "info fun main" lists main_end.
- a bad abbreviation (gdb's "Could not find abbrev number N in CU" of gdb/dwarf2/read.c; no .exp of its own) and a
  zero-length unit before a good one: gdb reports the error and goes on.

Each description's defect is also what `dwarfkit verify` reports about the built file, and lldb-14 survives the same
files (it stops at main by its symbol; for the bad abbreviation it says "invalid abbreviation code 77").
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit import debuggers
from dwarfkit.description import build_file
from dwarfkit.reader.verify import verify

HERE = Path(__file__).resolve().parent / "gdb_dwarf2_broken"


def built(tmp_path: Path, name: str, suffix: str = "") -> Path:
    require_tool("gdb")
    return build_file(HERE / f"{name}.yaml").write(tmp_path / f"{name}{suffix}")


def test_corrupt_siblings(tmp_path):
    exe = built(tmp_path, "corrupt")
    session = debuggers.gdb(exe, ["print 1", "ptype enum ENUM"])
    assert session.output("print 1").strip() == "$1 = 1"            # "recover from corrupt DWARF"
    assert "type = enum ENUM {A, B}" in session.output("ptype enum ENUM")
    assert any("debug info runs off end of .debug_info section" in c for c in session.complaints), session.complaints
    assert session.returncode == 0
    assert any("DW_AT_sibling refers to 0xbc614e, which is not the start of a DIE" in f for f in verify(str(exe)))


def test_wrong_version_in_the_unit_header(tmp_path):
    exe = built(tmp_path, "dw2-error")
    session = debuggers.gdb(exe, ["set breakpoint pending off", "break -q main"])
    assert "Dwarf Error: wrong version in compilation unit header (is 153, should be 2, 3, 4 or 5)" in \
        session.transcript
    assert session.output("break -q main").startswith("Breakpoint 1 at ")
    assert verify(str(exe)) == [".debug_info[0x0]: unit version 153 is not 2, 3, 4 or 5"]


def test_a_unit_with_no_die(tmp_path):
    obj = built(tmp_path, "dw2-dummy-cu", ".o")
    session = debuggers.gdb(obj, ["maint expand-symtab", "info fun main"])
    assert session.output("maint expand-symtab") == ""
    assert "main_end" in session.output("info fun main")
    assert session.returncode == 0
    assert verify(str(obj)) == [".debug_info[0x0]: unit has no DIE (it ends after its header)"]


@pytest.mark.xfail(strict=True, reason="gdb 13.1 crashes (SIGSEGV) in 'info fun main' when .debug_aranges names a "
                                       "unit that has no DIE; the .exp's .S writes no .debug_aranges, nor does "
                                       "dw2-dummy-cu.yaml")
def test_a_unit_with_no_die_named_by_aranges(tmp_path):
    require_tool("gdb")
    text = (HERE / "dw2-dummy-cu.yaml").read_text().replace("raw_sections: {.debug_aranges: null, ",
                                                           "raw_sections: {")
    (tmp_path / "dummy.yaml").write_text(text)
    obj = build_file(tmp_path / "dummy.yaml").write(tmp_path / "dummy.o")
    result = subprocess.run(["gdb", "-nx", "-batch", "-ex", "info fun main", str(obj)], capture_output=True,
                            text=True, timeout=60)
    assert "Fatal signal" not in result.stdout + result.stderr


def test_a_bad_abbreviation_code(tmp_path):
    exe = built(tmp_path, "bad-abbrev")
    session = debuggers.gdb(exe, ["maint expand-symtab", "print 1"])
    assert "Dwarf Error: Could not find abbrev number 77 in CU at offset 0x0" in session.transcript
    assert session.output("print 1").strip() == "$1 = 1"
    assert session.returncode == 0
    assert verify(str(exe)) == [".debug_info[0x1e]: abbreviation code 77 is not in the table at .debug_abbrev[0x0]"]


def test_a_zero_length_unit(tmp_path):
    exe = built(tmp_path, "zero-length-unit")
    session = debuggers.gdb(exe, ["break -q main", "run", "print 1"])
    assert "Dwarf Error: bad offset" in session.transcript and "in compilation unit header" in session.transcript
    assert session.output("break -q main").startswith("Breakpoint 1 at ")
    assert session.stops and session.stops[0].function == "main"
    assert verify(str(exe))[0] == ".debug_info[0x0]: unit length 0 is too short for a unit header"


@pytest.mark.parametrize("name, message", [("corrupt", None), ("dw2-error", None),
                                           ("bad-abbrev", "invalid abbreviation code 77"),
                                           ("zero-length-unit", None)])
def test_lldb_survives_the_same_files(tmp_path, name, message):
    """lldb-14 reads past each defect too: it stops at main by its symbol and evaluates an expression."""
    require_tool("lldb-14")
    exe = build_file(HERE / f"{name}.yaml").write(tmp_path / name)
    session = debuggers.lldb(exe, ["breakpoint set -n main", "run", "expression 1"])
    assert session.stops and session.stops[0].function == "main"
    assert "(int) $0 = 1" in session.output("expression 1")
    if message is not None:
        assert message in session.transcript


@pytest.mark.parametrize("name, suffix", [("bad-abbrev", ""), ("dw2-dummy-cu", ".o"), ("dw2-error", ""),
                                          ("zero-length-unit", ""), ("corrupt", "")])
def test_described_and_built_again_the_dwarf_is_the_same(tmp_path, name, suffix):
    """describe -> build of each broken file: the loader refuses four of them, described then by their DWARF
    sections' bytes (raw_sections); the same bytes come back. corrupt loads (its wrong siblings are dropped: see
    docs/description.md), so there llvm-dwarfdump's view of the rest is the same."""
    import io

    import yaml
    from elftools.elf.elffile import ELFFile

    from dwarfkit.description import build
    from dwarfkit.description.describe import describe
    first = build_file(HERE / f"{name}.yaml").write(tmp_path / f"{name}{suffix}")
    description = describe(first)
    again = build(yaml.safe_load(yaml.safe_dump(description))).write(tmp_path / f"again{suffix}")

    def dwarf(path: Path) -> dict[str, bytes]:
        elf = ELFFile(io.BytesIO(path.read_bytes()))
        return {s.name: s.data() for s in elf.iter_sections() if s.name.startswith(".debug")}
    if name == "corrupt":
        from roundtrip import compare
        assert "raw_sections" not in description and compare(first, again) == []
    else:
        assert description["note"].startswith("described as bytes: ")
        assert dwarf(first) == dwarf(again)
