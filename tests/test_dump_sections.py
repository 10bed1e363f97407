"""`dwarfkit dump` of the list, string-offset and GNU pubnames sections prints what llvm-dwarfdump-14 prints,
for every corpus file that has the section; damaged sections give one problem line each, the rest, exit 1."""
from __future__ import annotations

import functools
import io
import json
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, require_tool
from dump_compare import CORPUS, require_reader_corpus
from elftools.elf.elffile import ELFFile
from test_dump_llvm import corpus_files

from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.dump import dump_text
from dwarfkit.reader.lists_text import location_views
from dwarfkit.reader.text import DumpOptions
from dwarfkit.reader.units import DwarfContext

FLAGS = ["debug-loc", "debug-loclists", "debug-ranges", "debug-rnglists", "debug-str-offsets"]
# llvm-dwarfdump-14 learns string-offset contributions and the .debug_addr base of range lists only from decoded
# units, so it is asked for .debug_info too (and that part of its output is cut off).
WITH_INFO = {"debug-str-offsets", "debug-rnglists"}


@functools.lru_cache(maxsize=None)
def _sections(name: str) -> frozenset[str]:
    try:
        return frozenset(k for k, v in open_debug_file(str(CORPUS / name)).sections.items() if v)
    except Exception:  # noqa: BLE001 - a file the reader rejects has its own tests
        return frozenset()


def cases() -> list[tuple[str, str]]:
    return [(name, flag) for flag in FLAGS for name in corpus_files()
            if flag.replace("-", "_") in _sections(name)]


def section_lines(text: str, section: str) -> list[str]:
    """The non-blank lines under ``.section contents:`` up to the next heading (blank lines are incidental)."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.endswith(" contents:"):
            inside = line == f".{section} contents:"
        elif inside and line.strip():
            out.append(line.rstrip())
    return out


def llvm_section(path, flag: str) -> tuple[list[str], bool]:
    """llvm-dwarfdump-14's lines of one section, and whether it crashed part way."""
    flags = ["--debug-info", f"--{flag}"] if flag in WITH_INFO else [f"--{flag}"]
    run = subprocess.run([require_tool("llvm-dwarfdump-14"), *flags, str(path)], capture_output=True, text=True,
                         errors="surrogateescape", timeout=120)
    return section_lines(run.stdout, flag.replace("-", "_")), run.returncode != 0 and "Stack dump" in run.stderr


def ours(path, flags: set[str]) -> tuple[str, list[str]]:
    out = io.StringIO()
    problems = dump_text(open_debug_file(str(path)), out, flags, DumpOptions())
    return out.getvalue(), problems


@functools.lru_cache(maxsize=None)
def has_gnu_location_views(name: str) -> bool:
    context = DwarfContext(open_debug_file(str(CORPUS / name)))
    return bool(location_views(context, v5=True) or location_views(context, v5=False))


def view_files() -> list[str]:
    return sorted({name for name, flag in cases() if flag in ("debug-loc", "debug-loclists")
                   and has_gnu_location_views(name)})


@pytest.mark.parametrize("name,flag", cases())
def test_section_agrees_with_llvm_dwarfdump(name, flag):
    path = require_reader_corpus() / name
    if flag in ("debug-loc", "debug-loclists") and has_gnu_location_views(name):
        pytest.skip("llvm-dwarfdump-14 reads GCC's location views as lists; "
                    "test_gcc_location_views_are_stepped_over checks this file against llvm's DW_AT_location offsets "
                    "and objdump's view pairs")
    theirs, crashed = llvm_section(path, flag)
    text, _problems = ours(path, {flag})
    mine = section_lines(text, flag.replace("-", "_"))
    assert theirs, f"llvm-dwarfdump-14 printed nothing for --{flag}"
    if crashed:
        # llvm-dwarfdump-14 dereferences a null unit on DW_OP_regval_type in a unit-less list (mingw's files)
        # and dies mid-line: everything before that line must agree.
        theirs = theirs[:-1]
        mine = mine[:len(theirs)]
        assert len(theirs) > 100
    assert mine == theirs


def test_every_section_has_a_corpus_file():
    require_reader_corpus()
    assert {flag for _name, flag in cases()} == set(FLAGS)


@pytest.fixture(scope="module")
def clang_objects(tmp_path_factory):
    """Objects clang-14 writes with GNU pubnames (no corpus file has them)."""
    clang = require_tool("clang-14")
    d = tmp_path_factory.mktemp("pubnames")
    (d / "t.c").write_text("struct point { int x, y; };\nstatic int helper(int a) { return a * 2; }\n"
                           "int counter;\ntypedef struct point pt;\n"
                           "int main(void) { pt p = {1, 2}; return helper(p.x) + counter; }\n")
    subprocess.run([clang, "-g", "-O0", "-ggnu-pubnames", "-c", "t.c", "-o", "gnu.o"], cwd=d, check=True)
    subprocess.run([clang, "-g", "-O0", "-ggnu-pubnames", "-gdwarf-5", "t.c", "-o", "gnu5"], cwd=d, check=True)
    (d / "t.cpp").write_text("namespace ns { struct A { int f(); static int s; }; int A::f() { return s; }\n"
                             "int A::s = 3; enum E { e1, e2 }; }\n"
                             "template <class T> struct B { T t; T get() { return t; } };\n"
                             "int use() { B<int> b{4}; B<char> c{'a'}; ns::A a; return b.get() + c.get() + a.f(); }\n")
    for out, flags in (("names.o", ["-c", "t.c"]), ("names64.o", ["-gdwarf64", "-c", "t.cpp"]),
                       ("names-cpp.o", ["-c", "t.cpp"]), ("names-linked", ["t.c", "t.cpp", "-fuse-ld=lld"])):
        subprocess.run([clang, "-g", "-O1", "-gdwarf-5", "-gpubnames", *flags, "-o", out], cwd=d, check=True)
    return d


@pytest.mark.parametrize("file", ["gnu.o", "gnu5"])
@pytest.mark.parametrize("flag", ["debug-gnu-pubnames", "debug-gnu-pubtypes"])
def test_gnu_pubnames_agree_with_llvm_dwarfdump(clang_objects, file, flag):
    path = clang_objects / file
    theirs, _ = llvm_section(path, flag)
    assert any('"main"' in line or '"point"' in line for line in theirs)
    assert section_lines(ours(path, {flag})[0], flag.replace("-", "_")) == theirs


@pytest.mark.parametrize("file", ["names.o", "names64.o", "names-cpp.o", "names-linked"])
def test_debug_names_agree_with_llvm_dwarfdump(clang_objects, file):
    path = clang_objects / file
    theirs, _ = llvm_section(path, "debug-names")
    assert any("Entry @" in line for line in theirs)
    assert section_lines(ours(path, {"debug-names"})[0], "debug_names") == theirs


# --- damaged sections ---------------------------------------------------------------------------------------------
def damaged_copy(tmp_path, name: str, section: str, *, cut: int = 0, patch: tuple[int, bytes] | None = None):
    """A copy of a corpus ELF file whose ``section`` is ``cut`` bytes shorter (its header's sh_size) or has
    ``patch`` = (offset in the section, bytes) written over it."""
    src = name if isinstance(name, Path) else require_reader_corpus() / name
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        elf = ELFFile(f)
        index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == section)
        sec = elf.get_section(index)
        header = elf.header.e_shoff + index * elf.header.e_shentsize
        size_field = 32 if elf.elfclass == 64 else 20
        fmt = "<Q" if elf.elfclass == 64 else "<I"
        if cut:
            f.seek(header + size_field)
            f.write(struct.pack(fmt, sec.header.sh_size - cut))
        if patch:
            f.seek(sec.header.sh_offset + patch[0])
            f.write(patch[1])
    return dst


DAMAGE = [  # (file, section, flag, cut, patch)
    ("third_party/pyelftools/dwarf_v4cie.so.elf", ".debug_loc", "debug-loc", 3, None),
    ("third_party/pyelftools/dwarf_llpair.so.elf", ".debug_loclists", "debug-loclists", 0, (0x14, b"\x30")),
    ("third_party/pyelftools/dwarf_llpair.so.elf", ".debug_loclists", "debug-loclists", 100, None),
    ("third_party/pyelftools/dwarf_test_versions_mix.so.elf", ".debug_ranges", "debug-ranges", 4, None),
    ("third_party/pyelftools/dwarf_test_versions_mix.so.elf", ".debug_rnglists", "debug-rnglists", 0,
     (0xc, b"\x30")),
    ("third_party/pyelftools/dwarf_test_versions_mix.so.elf", ".debug_rnglists", "debug-rnglists", 10, None),
    ("elf/shapes-clang-aarch64", ".debug_str_offsets", "debug-str-offsets", 300, None),
]


@pytest.mark.parametrize("name,section,flag,cut,patch", DAMAGE)
def test_damaged_section_is_reported_and_the_rest_printed(tmp_path, name, section, flag, cut, patch):
    path = damaged_copy(tmp_path, name, section, cut=cut, patch=patch)
    run = subprocess.run([sys.executable, "-m", "dwarfkit", "dump", f"--{flag}", "--debug-line", str(path)],
                         capture_output=True, text=True, errors="surrogateescape", timeout=120, cwd=REPO)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert lines and all(line.startswith(f"dwarfkit: {path}: .") for line in lines), lines
    assert any(f"{section}[0x" in line for line in lines), lines
    assert f"{section} contents:" in run.stdout and ".debug_line contents:" in run.stdout  # the rest still printed
    # llvm-dwarfdump-14 finds the same section damaged.
    llvm = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", f"--{flag}", str(path)],
                          capture_output=True, text=True, errors="surrogateescape", timeout=120)
    assert "error:" in llvm.stderr or "warning:" in llvm.stderr


@pytest.mark.parametrize("cut,patch", [(40, None), (0, (0, b"\xff\x7f"))])
def test_damaged_debug_names(tmp_path, clang_objects, cut, patch):
    path = damaged_copy(tmp_path, clang_objects / "names-linked", ".debug_names", cut=cut, patch=patch)
    run = subprocess.run([sys.executable, "-m", "dwarfkit", "dump", "--debug-names", "--debug-line", str(path)],
                         capture_output=True, text=True, errors="surrogateescape", timeout=120, cwd=REPO)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert [line for line in run.stderr.splitlines() if ".debug_names[0x" in line] == run.stderr.splitlines()
    assert ".debug_names contents:" in run.stdout and ".debug_line contents:" in run.stdout
    # The linked file holds one index per unit: cutting the section's end damages the second, not the first.
    # (llvm-dwarfdump-14 reports neither damage; it prints what it can.)
    assert ("Name Index @ 0x0 {" in run.stdout) == (cut > 0)


@pytest.mark.parametrize("name", ["elf/shapes-clang-O2-dwarf5.o", "third_party/pyelftools/dwarf_gnuops4.so.elf"])
def test_json_holds_the_lists_llvm_dwarfdump_prints(name):
    """Every range --debug-rnglists/--debug-ranges prints is a resolved entry of --json's "lists"."""
    path = require_reader_corpus() / name
    run = subprocess.run([sys.executable, "-m", "dwarfkit", "dump", "--json", str(path)], capture_output=True,
                         text=True, timeout=120, cwd=REPO)
    doc = json.loads(run.stdout)
    for flag in ("debug-ranges", "debug-rnglists"):
        key = flag.replace("-", "_")
        if key not in doc["lists"]:
            continue
        theirs, _ = llvm_section(path, flag)
        entries = [e for t in doc["lists"][key]["tables"] for li in t["lists"] for e in li["entries"]]
        if key == "debug_ranges":
            assert len(entries) == len([x for x in theirs if "End of list" not in x])
        else:
            printed = [x for x in theirs if x.startswith("[")]
            width = 2 * doc["lists"][key]["tables"][0]["header"]["addr_size"]
            assert [f"[0x{a:0{width}x}, 0x{b:0{width}x})" for a, b in (e["range"] for e in entries if e["range"])] \
                == printed
    assert doc["lists"] or doc["str_offsets"]


MUTATED = {"debug_loc", "debug_loclists", "debug_ranges", "debug_rnglists", "debug_str_offsets", "debug_names",
           "debug_gnu_pubnames", "debug_gnu_pubtypes"}


@pytest.mark.parametrize("name", ["elf/shapes-clang-O2-dwarf5.o", "elf/shapes-gcc-O2-x86_64",
                                  "third_party/pyelftools/dwarf_test_versions_mix.so.elf", "elf/shapes-clang-aarch64",
                                  "names-linked", "gnu.o"])
def test_mutated_sections_give_problem_lines_not_crashes(clang_objects, name):
    """Bytes of these sections flipped or cut (seeded, bounded): text, JSON and summary answer with one-line
    problems, never an exception."""
    import random

    from dwarfkit.reader.json_dump import dump_json
    from dwarfkit.reader.lists_text import write_summary
    from dwarfkit.reader.units import DwarfContext
    path = clang_objects / name if "/" not in name else require_reader_corpus() / name
    rng = random.Random(name)
    flags = {f.replace("_", "-") for f in MUTATED}
    found_any = False
    for _case in range(30):
        df = open_debug_file(str(path))
        targets = [k for k in MUTATED if df.sections.get(k)]
        for _ in range(rng.choice([1, 2, 4, 16])):
            k = rng.choice(targets)
            data = bytearray(df.sections[k])
            if rng.random() < 0.1:
                data = data[:rng.randrange(len(data))]
            else:
                data[rng.randrange(len(data))] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
            df.sections[k] = bytes(data)
            if not data:
                targets.remove(k)
            if not targets:
                break
        problems = dump_text(df, io.StringIO(), flags, DumpOptions())
        problems += dump_json(df, io.StringIO(), flags, DumpOptions())
        problems += write_summary(DwarfContext(df), io.StringIO())
        assert all("\n" not in p and p.startswith(".") for p in problems)
        found_any = found_any or bool(problems)
    assert found_any


@pytest.mark.parametrize("name", view_files())
def test_gcc_location_views_are_stepped_over(name):
    """GCC puts location-view pairs (DW_AT_GNU_locviews) before their lists in .debug_loclists. A walk from the start
    must step over them: every list a DIE refers to (as llvm-dwarfdump prints DW_AT_location) is one of ours, none of
    ours starts at a view pair (as objdump, which knows views, prints them), and a valid file gives no finding."""
    path = require_reader_corpus() / name
    info = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(path)], capture_output=True,
                          text=True, errors="surrogateescape", timeout=120).stdout
    referenced = {int(m, 16) for m in re.findall(r"DW_AT_location\s+\(0x([0-9a-f]{8}):", info)}
    objdump = subprocess.run([require_tool("objdump"), "--dwarf=loc", str(path)], capture_output=True,
                             text=True, timeout=120).stdout
    views = {int(m, 16) for m in re.findall(r"^\s+([0-9a-f]{8}) v\S+ v\S+ location view pair", objdump, re.M)}
    assert referenced and views, (info[:2000], objdump[:2000])
    text, problems = ours(path, {"debug-loclists", "debug-loc"})  # a file may hold both, from DWARF 4 and 5 units
    assert problems == []
    found = {int(m, 16) for m in re.findall(r"^0x([0-9a-f]{8}): $", text, re.M)}
    assert referenced <= found, sorted(referenced - found)
    assert not found & views, sorted(found & views)


def test_some_corpus_files_have_gnu_location_views():
    require_reader_corpus()
    assert "elf/shapes-gcc-O2-dwarf5.o" in view_files()
