"""The debugger-session instrument (tests/sessions.py) itself: our programs have what issue 15 asks the round trips
to cover (inlining, call sites, optimised-out variables, location lists; templates, namespaces, virtuals, references,
lambdas; a multi-file program of a few thousand lines), two identical builds give identical gdb and lldb transcripts,
and a transform that breaks the objects' debug info (strip it, rename a function in .debug_str) changes them."""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_tool
from elftools.elf.elffile import ELFFile
from roundtrip import compare, dwarf_view
from sessions import Program, build, compare_transcripts, program, program_from_dwarf, transcript

_transcripts: dict[tuple[Path, str], str] = {}


def cached_transcript(exe: Path, debugger: str, prog: Program) -> str:
    """One transcript per executable and debugger for the whole run (they take seconds each)."""
    require_tool({"gdb": "gdb", "lldb": "lldb-14"}[debugger])
    key = (exe, debugger)
    if key not in _transcripts:
        _transcripts[key] = transcript(exe, debugger, prog)
    return _transcripts[key]


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Program, Path]]:
    """Our programs, each built once per combination the tests use."""
    for tool in ("gcc", "g++", "clang-14", "clang++-14", "ld.lld-14"):
        require_tool(tool)
    root = tmp_path_factory.mktemp("sessions")
    c, cpp = program("c"), program("cpp")
    return {
        "c-gcc-ld": (c, build(c, "gcc", "ld", root / "c-gcc-ld")),
        "c-gcc-ld-again": (c, build(c, "gcc", "ld", root / "c-gcc-ld-again")),
        "c-clang-lld": (c, build(c, "clang-14", "lld", root / "c-clang-lld")),
        "cpp-g++-lld": (cpp, build(cpp, "g++", "lld", root / "cpp-g++-lld")),
        "cpp-clang++-ld": (cpp, build(cpp, "clang++-14", "ld", root / "cpp-clang++-ld")),
        "cpp-clang++-ld-again": (cpp, build(cpp, "clang++-14", "ld", root / "cpp-clang++-ld-again")),
    }


def _dies(view) -> Iterator[tuple[object, object]]:
    """(DIE, its parent) over every unit of ours (not the C library's)."""
    def walk(die, parent):
        yield die, parent
        for child in die.children:
            yield from walk(child, die)
    for unit in view.units:
        if unit.die is not None and unit.label.endswith(('features.c"', 'features.cpp"', '.c"')) \
                and "glibc" not in unit.label:
            yield from walk(unit.die, None)


def _features(exe: Path) -> dict[str, int]:
    found = {"inlined": 0, "call sites": 0, "location lists": 0, "optimised out": 0, "namespaces": 0,
             "template parameters": 0, "references": 0, "virtuals": 0, "local classes": 0}
    for die, parent in _dies(dwarf_view(exe)):
        names = dict(die.attributes)
        found["inlined"] += die.tag == "inlined_subroutine"
        found["call sites"] += die.tag in ("call_site", "GNU_call_site")
        found["location lists"] += isinstance(names.get("DW_AT_location"), tuple)
        if die.tag in ("variable", "formal_parameter") and parent is not None:
            found["optimised out"] += _optimised_out(names, dict(parent.attributes))
        found["namespaces"] += die.tag == "namespace"
        found["template parameters"] += die.tag in ("template_type_parameter", "template_value_parameter")
        found["references"] += die.tag in ("reference_type", "rvalue_reference_type")
        found["virtuals"] += "DW_AT_virtuality" in names
        found["local classes"] += die.tag in ("class_type", "structure_type") and parent is not None and \
            parent.tag in ("subprogram", "lexical_block")
    return found


def _optimised_out(attributes: dict, scope: dict) -> bool:
    """Whether a variable of a concrete scope has no value where its scope begins (gdb: ``<optimized out>``):
    no location at all, or a location list that does not cover that address."""
    if "DW_AT_low_pc" in scope:
        start = scope["DW_AT_low_pc"].value
    elif isinstance(scope.get("DW_AT_ranges"), tuple) and scope["DW_AT_ranges"]:
        start = min(e.low.value for e in scope["DW_AT_ranges"] if e.low is not None)
    else:
        return False  # an abstract or declaration-only scope
    location = attributes.get("DW_AT_location")
    if location is None:
        return "DW_AT_const_value" not in attributes
    return isinstance(location, tuple) and not any(e.low is not None and e.low.value <= start < e.high.value
                                                   for e in location)


@pytest.mark.parametrize("name", ["c-gcc-ld", "c-clang-lld", "cpp-g++-lld", "cpp-clang++-ld"])
def test_our_programs_have_what_the_round_trips_must_cover(builds, name: str) -> None:
    require_tool("llvm-dwarfdump-14")
    prog, exe = builds[name]
    found = _features(exe)
    wanted = ["inlined", "call sites", "location lists", "optimised out"]
    if prog.language == "c++":
        wanted += ["namespaces", "template parameters", "references", "virtuals", "local classes"]  # lambdas
    assert all(found[w] > 0 for w in wanted), found
    if name == "c-gcc-ld":  # gcc keeps every function in the DWARF: our list is all of them
        assert set(program_from_dwarf(exe).functions) == set(prog.functions)
    assert subprocess.run([str(exe)], capture_output=True, timeout=10).returncode == 0


@pytest.mark.parametrize("name, debugger", [("c-gcc-ld", "gdb"), ("c-gcc-ld", "lldb"),
                                            ("cpp-clang++-ld", "gdb"), ("cpp-clang++-ld", "lldb")])
def test_two_identical_builds_give_the_same_transcript(builds, name: str, debugger: str) -> None:
    prog, exe = builds[name]
    _, again = builds[name + "-again"]
    first = cached_transcript(exe, debugger, prog)
    assert compare_transcripts(first, cached_transcript(again, debugger, prog)) == []
    if debugger == "gdb":
        assert compare(exe, again) == []  # and the DWARF instrument agrees
    # The transcript is a real session: types, line information, a stop in each function the debugger could find.
    run = first.split(" stops\n", 1)[1]
    stopped = [f for f in prog.functions if f.split("::")[-1] + " (" in run or f.split("::")[-1] + "<" in run
               or f"`{f.split('::')[-1]}" in run or f"::{f.split('::')[-1]}(" in run]
    assert len(stopped) >= len(prog.functions) - 3, (set(prog.functions) - set(stopped), run[:3000])
    assert "optimized out" in run.lower() or "<variable not available>" in run


def strip_debug(obj: Path) -> Path:
    out = obj.with_name(obj.stem + "-stripped.o")
    subprocess.run(["objcopy", "--strip-debug", str(obj), str(out)], check=True)
    return out


def rename_in_debug_str(old: bytes, new: bytes):
    """A transform that renames the DWARF's string ``old`` (a function's DW_AT_name) to ``new`` of the same
    length in ``.debug_str``; the symbol table keeps the old name."""
    assert len(old) == len(new)

    def transform(obj: Path) -> Path:
        data = bytearray(obj.read_bytes())
        with obj.open("rb") as f:
            section = ELFFile(f).get_section_by_name(".debug_str")
            start, size = section["sh_offset"], section["sh_size"]
        at = bytes(data[start:start + size]).find(b"\0" + old + b"\0")
        if at >= 0:
            data[start + at + 1:start + at + 1 + len(old)] = new
        out = obj.with_name(obj.stem + "-renamed.o")
        out.write_bytes(data)
        return out
    return transform


@pytest.mark.parametrize("debugger", ["gdb", "lldb"])
def test_a_transform_that_breaks_debug_info_changes_the_transcript(builds, tmp_path: Path, debugger: str) -> None:
    require_tool("objcopy")
    prog, exe = builds["c-gcc-ld"]
    original = cached_transcript(exe, debugger, prog)
    stripped = build(prog, "gcc", "ld", tmp_path / "stripped", transform=strip_debug)
    assert compare_transcripts(original, transcript(stripped, debugger, prog)) != []

    renamed = build(prog, "gcc", "ld", tmp_path / "renamed", transform=rename_in_debug_str(b"perimeter2",
                                                                                          b"perimeterX"))
    differences = compare_transcripts(original, transcript(renamed, debugger, prog))
    assert any(line.startswith("+") and "perimeterX" in line for line in differences), differences[:40]
    # The same break seen by the DWARF instrument, at its place.
    if debugger == "gdb":
        assert any('subprogram "perimeter2" / DW_AT_name: "perimeter2" against "perimeterX"' in x
                   for x in compare(exe, renamed, lines=False, frames=False))


def compress_debug(obj: Path) -> Path:
    out = obj.with_name(obj.stem + "-compressed.o")
    subprocess.run(["objcopy", "--compress-debug-sections=zlib", str(obj), str(out)], check=True)
    return out


def test_a_transform_that_only_re_encodes_the_dwarf_keeps_the_transcript(builds, tmp_path: Path) -> None:
    """No false alarm: objects whose debug sections are compressed (every byte differs, the meaning does not)
    link to a program with the same gdb session."""
    require_tool("objcopy")
    prog, exe = builds["c-gcc-ld"]
    compressed = build(prog, "gcc", "ld", tmp_path / "compressed", transform=compress_debug)
    assert compare_transcripts(cached_transcript(exe, "gdb", prog), transcript(compressed, "gdb", prog)) == []


def test_the_multi_file_program(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A few thousand lines in nine files; gdb stops in every part and the program ends."""
    require_tool("gcc")
    require_tool("ld.lld-14")
    root = tmp_path_factory.mktemp("multi")
    prog = program("multi", root / "src")
    lines = sum(len(p.read_text().splitlines()) for p in prog.folder.glob("*.[ch]"))
    assert len(prog.sources) >= 9 and lines >= 2500, (len(prog.sources), lines)
    assert len(prog.functions) >= 300
    again = program("multi", root / "src-again")  # deterministic: the same text again
    assert [p.read_text() for p in prog.sources] == [p.read_text() for p in again.sources]
    exe = build(prog, "gcc", "lld", root / "gcc-lld")
    text = cached_transcript(exe, "gdb", prog)
    assert all(f"run_{n} (seed=" in text for n in range(8)), text[-2000:]
    assert text.count("\nBreakpoint ") > 300
    shutil.rmtree(root / "src-again")
