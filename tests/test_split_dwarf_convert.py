"""``dwarfkit convert`` and ``dwarfkit.load`` on split DWARF (issue 17): gcc and clang-14 ``-gsplit-dwarf`` executables
(DWARF 4 and 5, with their .dwo files) converted as they are (skeletons and .dwo files written again), ``--unsplit``
(one file) and, for an unsplit build, ``--split-dwarf``; judged by llvm-dwarfdump-14 (--verify, and the DIEs of the
split units against the originals' with tests/roundtrip.py) and gdb sessions; a missing .dwo or one of another DWO id
is a clear error naming the file.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sessions
from conftest import require_tool
from roundtrip import compare

import dwarfkit
from dwarfkit import ReadError
from dwarfkit.loading.convert import convert

SOURCE = """struct S { int a; long b; };
static int helper(int x) { int y = x * 2; return y + 1; }
int g;
int f(struct S *s) { int t = s->a; for (int i = 0; i < 3; i++) t += helper(i); return t; }
int main(void) { struct S s = {1, 2}; g = f(&s); return g - 10; }
"""
BUILDS = [(cc, v) for cc in ("gcc", "clang-14") for v in (4, 5)]
PROGRAM = sessions.Program("prog", "c", (), ("main", "f", "helper"), ("struct S",), ("S",), 50)


def _verify(path: Path) -> None:
    result = subprocess.run(["llvm-dwarfdump-14", "--verify", str(path)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert "No errors." in result.stdout, result.stdout[-2000:]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Path]:
    """(compiler, version) -> a -O0 -gsplit-dwarf executable with its .dwo, in a folder of its own."""
    out = {}
    for cc, version in BUILDS:
        require_tool(cc)
        folder = tmp_path_factory.mktemp(f"{cc}-{version}")
        (folder / "prog.c").write_text(SOURCE)
        subprocess.run([cc, "-g", f"-gdwarf-{version}", "-gsplit-dwarf", "-O0", "prog.c", "-o", "prog"], cwd=folder,
                       check=True, timeout=120)
        out[cc, version] = folder / "prog"
    return out


def _dwo(exe: Path) -> Path:
    return next(p for p in exe.parent.iterdir() if p.suffix == ".dwo")


@pytest.mark.parametrize(("cc", "version"), BUILDS)
def test_convert_as_is_and_unsplit(builds: dict[tuple[str, int], Path], cc: str, version: int,
                                   tmp_path: Path) -> None:
    require_tool("llvm-dwarfdump-14")
    exe = builds[cc, version]
    same, whole = tmp_path / "same" / "prog", tmp_path / "whole" / "prog"
    same.parent.mkdir()
    whole.parent.mkdir()
    convert(exe, same)
    convert(exe, whole, split=False)
    new_dwo = same.parent / _dwo(exe).name
    assert new_dwo.is_file() and not any(p.suffix == ".dwo" for p in whole.parent.iterdir())
    for path in (same, new_dwo, whole):
        _verify(path)
    # the split unit's DIEs as llvm-dwarfdump reads them: the same in the new .dwo, and in the unsplit file
    assert compare(_dwo(exe), new_dwo, lines=False, frames=False) == []
    original = dwarfkit.load(exe, split=False)
    folded = dwarfkit.load(whole)
    assert [u.root.get("name") for u in original.units] == [u.root.get("name") for u in folded.units]
    text = subprocess.run(["llvm-dwarfdump-14", "--debug-info", str(whole)], capture_output=True, text=True,
                          check=True).stdout
    assert "DW_TAG_subprogram" in text and "dwo_name" not in text and "DW_UT_skeleton" not in text


@pytest.mark.parametrize(("cc", "version"), BUILDS)
def test_gdb_sessions_of_converted(builds: dict[tuple[str, int], Path], cc: str, version: int,
                                   tmp_path: Path) -> None:
    require_tool("gdb")
    exe = builds[cc, version]
    texts = [sessions.transcript(exe, "gdb", PROGRAM)]
    for name, split in (("same", None), ("whole", False)):
        out = tmp_path / name / "prog"
        out.parent.mkdir()
        convert(exe, out, split=split)
        # The skeleton names its .dwo relative to comp_dir, the original's folder: gdb would look there first (and
        # find the original, of another DWO id); hidden, it finds the new one beside the converted file.
        original = _dwo(exe)
        original.rename(original.with_suffix(".hidden"))
        try:
            texts.append(sessions.transcript(out, "gdb", PROGRAM))
        finally:
            original.with_suffix(".hidden").rename(original)
    assert "t = " in texts[0]
    assert sessions.compare_transcripts(texts[0], texts[1]) == []
    assert sessions.compare_transcripts(texts[0], texts[2]) == []


def test_split_dwarf_of_an_unsplit_build(tmp_path: Path) -> None:
    require_tool("gcc")
    (tmp_path / "prog.c").write_text(SOURCE)
    subprocess.run(["gcc", "-g", "-O0", "prog.c", "-o", "prog"], cwd=tmp_path, check=True, timeout=120)
    out = tmp_path / "out" / "prog"
    out.parent.mkdir()
    convert(tmp_path / "prog", out, split=True)
    assert (out.parent / "prog.dwo").is_file()
    _verify(out)
    _verify(out.parent / "prog.dwo")
    assert sessions.compare_transcripts(sessions.transcript(tmp_path / "prog", "gdb", PROGRAM),
                                        sessions.transcript(out, "gdb", PROGRAM)) == []


def test_missing_or_foreign_dwo(builds: dict[tuple[str, int], Path], tmp_path: Path) -> None:
    exe = builds["gcc", 5]
    moved = tmp_path / "prog"
    shutil.copy(exe, moved)
    dwo = _dwo(exe)
    hidden = dwo.with_suffix(".hidden")
    dwo.rename(hidden)
    try:
        with pytest.raises(ReadError, match=f"split unit '{dwo.name}' not found"):
            dwarfkit.load(moved)
        result = subprocess.run([sys.executable, "-m", "dwarfkit", "convert", str(moved), str(tmp_path / "out")],
                                capture_output=True, text=True, check=False,
                                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        assert result.returncode != 0 and "Traceback" not in result.stderr and dwo.name in result.stderr
        assert not (tmp_path / "out").exists()
        other = builds["clang-14", 5]
        shutil.copy(_dwo(other), dwo)
        with pytest.raises(ReadError, match="holds no split unit with DWO id"):
            dwarfkit.load(moved)
    finally:
        dwo.unlink(missing_ok=True)
        hidden.rename(dwo)


@pytest.mark.xfail(strict=True, reason="llvm-dwp-14 does not finish on gcc 12's DWARF 5 -gsplit-dwarf .dwo files "
                   "(llvm-dwarfdump-14 --verify finds nothing in them); on ours it does, see "
                   "test_split_dwarf_writer.test_llvm_dwp_accepts")
def test_llvm_dwp_on_gccs_dwarf5_dwo(builds: dict[tuple[str, int], Path], tmp_path: Path) -> None:
    require_tool("llvm-dwp-14")
    try:
        result = subprocess.run(["llvm-dwp-14", "-e", str(builds["gcc", 5]), "-o", str(tmp_path / "prog.dwp")],
                                capture_output=True, timeout=10, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("llvm-dwp-14 did not finish in 10 s")
    assert result.returncode == 0
