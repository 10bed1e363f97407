"""dwarfkit convert keeps the COMDAT groups of ELF objects' DWARF: -fdebug-types-section's type units each in
its own group (gcc: ``wt.``/``wi.<signature bytes>``, clang: the decimal signature), under the compiler's own
signature symbol when the unit keeps its section, under the new layout's name when a version change moves it
(``.debug_types`` for DWARF 4, ``.debug_info`` for 5); gcc -g3's imported macro units in their ``wm4.*`` groups.
Judged by readelf, llvm-dwarfdump-14 (same DIE trees, one type unit per signature and one copy of each macro unit
after GNU ld and ld.lld-14, --verify) and gdb sessions of the linked programs."""
from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from conftest import require_tool
from roundtrip import DwarfView, compare, dwarf_view, verify_findings
from sessions import Program, build, compare_transcripts, convert_transform, transcript

import dwarfkit

HEADER = """struct point { int x; double y; struct point *next; };
struct shape { struct point origin; int sides; unsigned char tag[3]; };
#define SIDES(s) ((s)->sides)
"""
# Static locals: gdb's first stop in a function shows them as set (an automatic one would show stack garbage).
MAIN = """#include "shared.h"
int use(struct shape *s);
int main(void) {
    static struct point p = {1, 2.0, 0};
    static struct shape s = {{3, 4.5, &p}, 4, {7, 8, 9}};
    return use(&s) == 7 ? 0 : 1;
}
"""
USE = """#include "shared.h"
int use(struct shape *s) {
    static struct point last;
    last = s->origin;
    return last.x + s->sides;
}
"""
# clang makes type units for C++ only (types with linkage); gcc for C too.
COMPILERS = {"gcc": ".c", "g++": ".cpp", "clang++-14": ".cpp"}
LABELS = {"same": lambda v: {}, "other": lambda v: dict(version=9 - v)}   # as read; DWARF 4 <-> 5
LINKERS = ("ld", "lld")


def _program(folder: Path, suffix: str) -> Program:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shared.h").write_text(HEADER)
    for stem, text in (("main", MAIN), ("use", USE)):
        (folder / f"{stem}{suffix}").write_text(text)
    return Program("comdat", "c" if suffix == ".c" else "c++", (folder / f"main{suffix}", folder / f"use{suffix}"),
                   ("main", "use"), ("struct point", "struct shape"), (), 20)


def _run(*argv: str | Path) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """(compiler, version, label, linker) -> the linked program, from objects as compiled ("orig") and converted
    at their version ("same") or to the other one ("other"); objects in ``<program folder>/obj``."""
    for tool in ("gcc", "g++", "clang++-14", "ld.lld-14", "readelf", "llvm-dwarfdump-14", "gdb"):
        require_tool(tool)
    root = tmp_path_factory.mktemp("comdat")
    out: dict = {}
    for compiler, suffix in COMPILERS.items():
        prog = _program(root / "src" / compiler, suffix)
        for version in (4, 5):
            flags = ("-O0", f"-gdwarf-{version}", "-fdebug-types-section")
            for linker in LINKERS:
                out[(compiler, version, "orig", linker)] = build(
                    prog, compiler, linker, root / f"{compiler}-{version}-orig-{linker}", extra_flags=flags)
                for label, options in LABELS.items():
                    out[(compiler, version, label, linker)] = build(
                        prog, compiler, linker, root / f"{compiler}-{version}-{label}-{linker}",
                        transform=convert_transform(**options(version)), extra_flags=flags)
            out[(compiler, "program")] = prog
    return out


def _groups(obj: Path) -> dict[str, list[str]]:
    """readelf -g: each COMDAT group's signature -> its members' names."""
    text = _run(require_tool("readelf"), "-g", "-W", obj)
    groups: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=COMDAT group section)", text):
        found = re.match(r"COMDAT group section \[\s*\d+\] `\.group' \[([^\]]+)\] contains \d+ sections", block)
        if found:
            groups[found[1]] = re.findall(r"^\s+\[\s*\d+\]\s+(\S+)$", block, re.M)
    return groups


def _signatures(path: Path) -> list[int]:
    """The type signatures of every type unit llvm-dwarfdump-14 finds (.debug_info and .debug_types)."""
    text = _run(require_tool("llvm-dwarfdump-14"), "--debug-info", "--debug-types", path)
    return [int(s, 16) for s in re.findall(r"Type Unit: .*type_signature = (0x[0-9a-f]+)", text)]


def _differences(original: Path, converted: Path, **options: bool) -> list[str]:
    """compare()'s differences in the DIE trees, and whether the line rows are the same ones: which unit's label a
    line table gets is layout (the compilers point a type unit's DW_AT_stmt_list at their compile unit's table, a
    converted type unit has a row-less table of its own for its DW_AT_decl_file)."""
    a, b = dwarf_view(original), dwarf_view(converted)
    out = compare(a, b, lines=False, **options)

    def rows(view: DwarfView) -> Counter:
        return Counter(sequence for sequences in view.lines.values() for sequence in sequences)

    if rows(a) != rows(b):
        out.append(f"line rows: {sorted(map(str, rows(a) - rows(b)))} against {sorted(map(str, rows(b) - rows(a)))}")
    return out


def _objects(builds: dict, compiler: str, version: int, label: str) -> list[tuple[Path, Path]]:
    """(original, converted) objects of one build."""
    obj = builds[(compiler, version, label, "ld")].parent / "obj"
    return [(obj / f"{stem}.o", obj / f"{stem}-converted.o") for stem in ("main", "use")]


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("version", [4, 5])
@pytest.mark.parametrize("compiler", COMPILERS)
def test_each_type_unit_in_its_own_group(builds: dict, compiler: str, version: int, label: str) -> None:
    new_version = version if label == "same" else 9 - version
    section = ".debug_types" if new_version == 4 else ".debug_info"
    for original, converted in _objects(builds, compiler, version, label):
        signatures = _signatures(converted)
        assert signatures and sorted(signatures) == sorted(_signatures(original))
        groups = _groups(converted)
        assert sorted(groups.values()) == [[section, f".rela{section}"]] * len(signatures), groups
        if label == "same":   # the compiler's own group names and symbols stay
            assert sorted(groups) == sorted(_groups(original))
        else:                 # gcc's names for the new layout: the signature's bytes in hex, in the unit's order
            prefix = "wt" if new_version == 4 else "wi"
            assert sorted(groups) == sorted(f"{prefix}.{s.to_bytes(8, 'little').hex()}" for s in signatures)
            if compiler != "clang++-14":
                assert sorted(g[3:] for g in groups) == sorted(g[3:] for g in _groups(original))
        symbols = _run(require_tool("readelf"), "-s", "-W", converted)
        for name in groups:
            assert re.search(rf"NOTYPE\s+LOCAL\s+DEFAULT\s+\d+ {re.escape(name)}$", symbols, re.M), symbols
        if label == "same" and version == 4:
            assert _differences(original, converted) == []
        assert [f for f in verify_findings(converted) if f not in verify_findings(original)] == []
    if version == 5 or label == "other":
        # A DWARF 5 object holds several .debug_info sections (one per group), each with units at offset 0, which
        # the DIE-tree view's references by offset cannot tell apart: the linked programs are compared.
        options = {} if label == "same" else dict(ignore_version=True, ignore_format=True, standard_names=True)
        differences = _differences(builds[(compiler, version, "orig", "ld")], builds[(compiler, version, label, "ld")],
                                   **options)
        if label == "other" and version == 5:
            # DWARF 4 type units have no DW_AT_comp_dir (gcc's neither): a file in the compilation directory reads
            # as its bare name, where DWARF 5's file table names the directory.
            differences = [d for d in differences if not re.fullmatch(
                r'tu 0x[0-9a-f]+ / .* / DW_AT_decl_file: "/[^"]*/(\w+\.\w+)" against "\1"', d)]
        assert differences == []


@pytest.mark.parametrize("linker", LINKERS)
@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("version", [4, 5])
@pytest.mark.parametrize("compiler", COMPILERS)
def test_linked_program_keeps_one_type_unit_per_signature(builds: dict, compiler: str, version: int, label: str,
                                                           linker: str) -> None:
    original = _signatures(builds[(compiler, version, "orig", linker)])
    assert original and set(Counter(original).values()) == {1}
    exe = builds[(compiler, version, label, linker)]
    assert Counter(_signatures(exe)) == Counter(original)
    verify = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(exe)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout[-3000:]


@pytest.mark.parametrize("version", [4, 5])
@pytest.mark.parametrize("compiler", COMPILERS)
def test_converted_object_links_with_the_compilers_own(builds: dict, compiler: str, version: int,
                                                       tmp_path: Path) -> None:
    """The groups keep the compiler's names, so a converted object and an unconverted one share their types."""
    (main, _), (use, use_converted) = _objects(builds, compiler, version, "same")
    exe = tmp_path / "mixed"
    _run(require_tool(compiler), main, use_converted, "-o", exe)
    signatures = _signatures(exe)
    assert signatures and Counter(signatures) == Counter(_signatures(builds[(compiler, version, "orig", "ld")]))


@pytest.mark.parametrize("linker", LINKERS)
@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("version", [4, 5])
@pytest.mark.parametrize("compiler", COMPILERS)
def test_gdb_session_is_the_same(builds: dict, compiler: str, version: int, label: str, linker: str) -> None:
    prog = builds[(compiler, "program")]
    original = transcript(builds[(compiler, version, "orig", linker)], "gdb", prog)
    assert "double y;" in original and "tag[3];" in original and "y = 4.5" in original, original
    assert compare_transcripts(original, transcript(builds[(compiler, version, label, linker)], "gdb", prog)) == []


def _macro_units(path: Path) -> int:
    text = _run(require_tool("llvm-dwarfdump-14"), "--debug-macro", path)
    return text.count("macro header:")


def _macro_session(exe: Path) -> str:
    argv = [require_tool("gdb"), "-nx", "-batch", "-ex", "break use", "-ex", "run", "-ex", "info macro SIDES",
            "-ex", "macro expand SIDES(s)", "-ex", "info macro __STDC_VERSION__", "-ex", "print SIDES(s)", str(exe)]
    text = subprocess.run(argv, capture_output=True, text=True, timeout=120).stdout
    return re.sub(r"process \d+|0x[0-9a-f]{6,}", "N", text)


@pytest.mark.parametrize("version", [4, 5])
def test_gcc_macro_units_keep_their_groups(tmp_path: Path, version: int) -> None:
    """gcc -g3 puts the .debug_macro units the compile units import (DW_MACRO_import) in COMDAT groups
    ``wm4.<file>.<line>.<md5>``: converted, they stay there under the same names, so linking keeps one copy."""
    gcc, lld = require_tool("gcc"), require_tool("ld.lld-14")
    prog = _program(tmp_path / "src", ".c")
    objects = []
    for source in prog.sources:
        obj, converted = tmp_path / f"{source.stem}.o", tmp_path / f"{source.stem}-converted.o"
        _run(gcc, "-g3", f"-gdwarf-{version}", "-c", source, "-o", obj)
        dwarfkit.convert(obj, converted)
        groups = _groups(obj)
        assert groups and all(name.startswith("wm4.") for name in groups), groups
        assert _groups(converted) == groups   # the same names, each with its .debug_macro and .rela.debug_macro
        objects.append((obj, converted))
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "ld.lld").symlink_to(lld)
    for linker in ("ld", "lld"):
        flags = ["-B", f"{tmp_path / 'bin'}/", "-fuse-ld=lld"] if linker == "lld" else []
        programs = []
        for k in (0, 1):
            exe = tmp_path / f"prog-{linker}-{k}"
            _run(gcc, *flags, *(pair[k] for pair in objects), "-o", exe)
            programs.append(exe)
        original, converted = programs
        assert _macro_units(converted) == _macro_units(original)
        verify = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(converted)], capture_output=True,
                                text=True)
        assert verify.returncode == 0, verify.stdout[-3000:]
        if linker == "lld":
            # ld.lld-14 resolves the second object's imports of its discarded copies to offset 0 (its tombstone;
            # GNU ld sends them to the kept copy), for gcc's objects as for ours: gdb then shows whatever unit
            # starts the section, so only GNU ld's programs are compared in gdb.
            continue
        session = _macro_session(original)
        assert "#define SIDES(s) ((s)->sides)" in session and "expands to: ((s)->sides)" in session, session
        assert _macro_session(converted).replace(str(converted), "") == session.replace(str(original), "")
