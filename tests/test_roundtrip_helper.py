"""The round-trip instrument (tests/roundtrip.py) itself: it reads every corpus file, it is clean on equal DWARF
(a file against itself, a relinked identical build), and it FAILS, naming the place, when one byte of a DIE's string
or of a line row changes, or a file index turns invalid (then the verifiers find something new).

Corrupted copies are made by patching bytes located with pyelftools (the oracle: it also says which line rows the
patch must change) and with llvm-dwarfdump-14 -v (which prints each line-program opcode's offset)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import require_corpus, require_tool
from elftools.elf.elffile import ELFFile
from roundtrip import assert_same_dwarf, compare, dwarf_view, new_findings, verify_findings

SKIP_NAMES = {"README.md", "MANIFEST.tsv", "build.sh", "LICENSE", "SOURCE.md", "Info.plist"}


def corpus_files() -> list[Path]:
    corpus = require_corpus()
    files = [p for p in corpus.rglob("*") if p.is_file() and p.name not in SKIP_NAMES
             and "src" not in p.relative_to(corpus).parts and ".dSYM" not in str(p)]
    return sorted(files) + sorted(corpus.rglob("*.dSYM"))



def test_every_corpus_file_is_read_whole_and_equals_itself() -> None:
    require_tool("llvm-dwarfdump-14")
    files = corpus_files()
    kinds = {p.suffix or p.parent.name for p in files}
    assert {".o", ".obj", ".exe", ".dSYM", "elf", "macho"} <= kinds, kinds  # ELF, Mach-O, dSYM, COFF, PE
    dies = rows = 0
    for path in files:
        view = dwarf_view(path)
        assert view.unparsed == [], f"{path}: lines the parser does not understand: {view.unparsed[:5]}"
        assert compare(view, view) == []
        dies += sum(_count(u.die) for u in view.units if u.die is not None)
        rows += sum(len(s) for seqs in view.lines.values() for s in seqs)
    assert dies > 30_000 and rows > 10_000, (dies, rows)


def _count(die) -> int:
    return 1 + sum(_count(c) for c in die.children)


@pytest.mark.parametrize("name", ["elf/shapes-gcc-O2-dwarf5.o", "elf/shapes-clang-O2-dwarf5.o",
                                  "elf/shapes-gcc-O0-dwarf2.o"])
def test_view_agrees_with_pyelftools_on_dies_and_rows(name: str) -> None:
    """The parser loses no DIE and no row: the counts and names are pyelftools' (an independent reader)."""
    require_tool("llvm-dwarfdump-14")
    path = require_corpus() / name
    view = dwarf_view(path)
    with path.open("rb") as f:
        dwarf = ELFFile(f).get_dwarf_info()
        tags, names, rows = [], set(), 0
        for cu in dwarf.iter_CUs():
            for die in cu.iter_DIEs():
                if die.tag:
                    tags.append(die.tag.removeprefix("DW_TAG_"))
                    if "DW_AT_name" in die.attributes:
                        names.add(die.attributes["DW_AT_name"].value.decode())
            rows += sum(1 for e in dwarf.line_program_for_CU(cu).get_entries() if e.state is not None)
    ours: list[str] = []
    our_names: set[str] = set()

    def walk(die) -> None:
        ours.append(die.tag)
        our_names.update(v[1:-1] for k, v in die.attributes if k == "DW_AT_name")
        for c in die.children:
            walk(c)
    for unit in view.units:
        walk(unit.die)
    assert sorted(ours) == sorted(tags)
    assert our_names == names
    assert sum(len(s) for seqs in view.lines.values() for s in seqs) == rows


def _section(path: Path, name: str) -> tuple[int, bytes]:
    with path.open("rb") as f:
        section = ELFFile(f).get_section_by_name(name)
        return section["sh_offset"], section.data()


def _patch(source: Path, target: Path, offset: int, new: bytes) -> None:
    shutil.copyfile(source, target)
    with target.open("r+b") as f:
        f.seek(offset)
        f.write(new)


def test_one_changed_byte_of_a_die_name_is_exactly_one_difference(tmp_path: Path) -> None:
    require_tool("llvm-dwarfdump-14")
    original = require_corpus() / "elf/shapes-gcc-O0-dwarf5.o"
    start, data = _section(original, ".debug_str")
    at = data.index(b"\0greeting\0") + 1
    assert data.count(b"greeting\0") == 1  # no other string ends in it: one DIE changes
    broken = tmp_path / "broken.o"
    _patch(original, broken, start + at + 7, b"G")
    assert compare(original, broken) == [
        'cu "src/shapes.c" / variable "greeting" / DW_AT_name: "greeting" against "greetinG"']
    assert compare(original, original) == []
    with pytest.raises(AssertionError, match=r'variable "greeting" / DW_AT_name'):
        assert_same_dwarf(original, broken)


def test_one_changed_column_byte_is_exactly_the_rows_pyelftools_sees_change(tmp_path: Path) -> None:
    require_tool("llvm-dwarfdump-14")
    original = require_corpus() / "elf/shapes-gcc-O0-dwarf5.o"
    verbose = subprocess.run(["llvm-dwarfdump-14", "-v", "--debug-line", str(original)], capture_output=True,
                             text=True, check=True).stdout
    # A DW_LNS_set_column with a one-byte operand whose column holds for exactly one row.
    lines = verbose.splitlines()
    target = None
    for n, line in enumerate(lines):
        m = re.match(r"^0x([0-9a-f]+): 05 DW_LNS_set_column \((\d+)\)$", line)
        if m and 10 < int(m[2]) < 120 and n + 3 < len(lines) and lines[n + 3].startswith("0x") and \
                "DW_LNS_set_column" in lines[n + 3] and lines[n + 2].startswith("            0x"):
            target = (int(m[1], 16), int(m[2]))
            break
    assert target is not None
    start, _ = _section(original, ".debug_line")
    broken = tmp_path / "broken.o"
    _patch(original, broken, start + target[0] + 1, bytes([target[1] + 1]))

    def rows(path: Path) -> list[tuple]:
        with path.open("rb") as f:
            dwarf = ELFFile(f).get_dwarf_info()
            cu = next(dwarf.iter_CUs())
            return [(e.state.address, e.state.line, e.state.column)
                    for e in dwarf.line_program_for_CU(cu).get_entries() if e.state is not None]
    changed = [(a, b) for a, b in zip(rows(original), rows(broken), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1][2] == target[1] + 1  # the oracle: one row, one column more
    found = compare(original, broken)
    assert len(found) == 1, found
    assert re.fullmatch(rf'line table of cu "src/shapes.c" / sequence at 0x0 / row \d+: '
                        rf'\(0x{changed[0][0][0]:x} /corpus/src/shapes.c:{changed[0][0][1]}:{target[1]} .*\) against '
                        rf'\(0x{changed[0][0][0]:x} /corpus/src/shapes.c:{changed[0][0][1]}:{target[1] + 1} .*\)',
                        found[0]), found
    assert compare(original, broken, lines=False) == []


def test_options_leave_out_what_a_conversion_may_change() -> None:
    """gcc's DWARF64 and DWARF32 builds of one source differ in the unit format and the producer string only."""
    require_tool("llvm-dwarfdump-14")
    corpus = require_corpus()
    dwarf32, dwarf64 = corpus / "elf/shapes-gcc-O0-dwarf5.o", corpus / "elf/shapes-gcc-O0-dwarf64.o"
    found = compare(dwarf32, dwarf64)
    assert 'cu "src/shapes.c": unit format \'DWARF32\' against \'DWARF64\'' in found
    rest = compare(dwarf32, dwarf64, ignore_format=True)
    assert len(rest) == 1 and rest[0].startswith('cu "src/shapes.c" / DW_AT_producer: '), rest
    versions = compare(corpus / "elf/shapes-gcc-O0-dwarf5.o", corpus / "elf/shapes-gcc-O0-dwarf4.o")
    assert any("unit version 5 against 4" in x for x in versions)
    assert not any("unit version" in x for x in compare(corpus / "elf/shapes-gcc-O0-dwarf5.o",
                                                        corpus / "elf/shapes-gcc-O0-dwarf4.o", ignore_version=True))


def test_a_relinked_identical_build_is_clean_and_a_different_build_is_not(tmp_path: Path) -> None:
    require_tool("llvm-dwarfdump-14")
    gcc = require_tool("gcc")
    src = require_corpus() / "src"
    objects = []
    for name in ("start_linux_x86_64.c", "shapes.c", "freestanding.c"):
        obj = tmp_path / name.replace(".c", ".o")
        subprocess.run([gcc, "-O2", "-g", f"-fdebug-prefix-map={src.parent}=/corpus", "-fno-pie", "-c", str(src / name),
                        "-o", str(obj)], check=True, cwd=src.parent)
        objects.append(str(obj))
    first, second, reordered = tmp_path / "first", tmp_path / "second", tmp_path / "reordered"
    for exe, objs in ((first, objects), (second, objects), (reordered, objects[::-1])):
        subprocess.run([gcc, "-static", "-nostdlib", "-no-pie", *objs, "-o", str(exe)], check=True)
    assert_same_dwarf(first, second)
    # Linking in another order moves code: the instrument sees the addresses change.
    assert any("DW_AT_low_pc" in x for x in compare(first, reordered))


def test_verifiers_find_nothing_new_in_a_copy_and_a_broken_file_index_in_a_broken_one(tmp_path: Path) -> None:
    require_tool("llvm-dwarfdump-14")
    original = require_corpus() / "elf/shapes-gcc-O0-dwarf5.o"
    copy = tmp_path / "copy.o"
    shutil.copyfile(original, copy)
    assert new_findings(original, copy) == []
    with original.open("rb") as f:
        elf = ELFFile(f)
        cu = next(elf.get_dwarf_info().iter_CUs())
        die = next(d for d in cu.get_top_DIE().iter_children() if "DW_AT_name" in d.attributes and
                   d.attributes.get("DW_AT_decl_file") and d.attributes["DW_AT_decl_file"].form == "DW_FORM_data1")
        attribute = die.attributes["DW_AT_decl_file"]
        at = elf.get_section_by_name(".debug_info")["sh_offset"] + attribute.offset
        where = f'cu "src/shapes.c" / {die.tag.removeprefix("DW_TAG_")} "{die.attributes["DW_AT_name"].value.decode()}"'
    broken = tmp_path / "broken.o"
    _patch(original, broken, at, b"\x63")
    found = new_findings(original, broken)
    assert any(x.startswith("dwarfkit: ") and "decl_file" in x for x in found), found
    assert any(x.startswith("llvm: ") for x in found), found
    assert verify_findings(broken) != verify_findings(original)
    assert f"{where} / DW_AT_decl_file" in "\n".join(compare(original, broken))


@pytest.mark.parametrize("name", ["elf/shapes-gcc-O0-dwarf5.o", "elf/shapes-gcc-x86_64"])  # -O2: --verify hangs
def test_the_same_dwarf_re_encoded_is_clean(tmp_path: Path, name: str) -> None:
    """Compressing the debug sections (what ``convert --compress`` does) changes every byte and no meaning."""
    require_tool("llvm-dwarfdump-14")
    objcopy = require_tool("objcopy")
    original = require_corpus() / name
    compressed = tmp_path / "compressed"
    subprocess.run([objcopy, "--compress-debug-sections=zlib", str(original), str(compressed)], check=True)
    assert original.read_bytes() != compressed.read_bytes()
    assert compare(original, compressed) == []
    assert new_findings(original, compressed) == []
