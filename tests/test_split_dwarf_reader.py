"""Split DWARF read back: gcc's and clang-14's ``-gsplit-dwarf`` ``.dwo`` files (DWARF 4 GNU and DWARF 5) dump
as llvm-dwarfdump-14 dumps them, and verify finds nothing in them but what is broken."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from dump_compare import CORPUS, first_difference, llvm_dump, normalise, our_dump

SRC = CORPUS / "src"
CXX = """// A class and a template, for type units (-fdebug-types-section).
template <typename T> struct Box { T value; T get() const { return value; } };
class Counter {
 public:
  explicit Counter(int start) : n_(start) {}
  int next() { return ++n_; }
 private:
  int n_;
};
int use(int k) {
  Box<int> b{k};
  Box<double> d{1.5};
  Counter c(k);
  return b.get() + c.next() + static_cast<int>(d.get());
}
"""
BUILDS = [(cc, v) for cc in ("gcc", "clang-14") for v in (4, 5)]


def _build(folder: Path, cc: str, version: int) -> dict[str, Path]:
    """shapes.c as an object (+ .dwo) and tu.cc with type units, built split in ``folder``."""
    require_tool(cc)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SRC / "shapes.c", folder / "shapes.c")
    (folder / "tu.cc").write_text(CXX)
    cxx = "g++" if cc == "gcc" else "clang++-14"
    require_tool(cxx)
    flags = ["-O1", "-g", f"-gdwarf-{version}", "-gsplit-dwarf", "-c"]
    subprocess.run([cc, *flags, "shapes.c", "-o", "shapes.o"], cwd=folder, check=True)
    subprocess.run([cxx, *flags, "-fdebug-types-section", "tu.cc", "-o", "tu.o"], cwd=folder, check=True)
    return {"shapes": folder / "shapes.dwo", "tu": folder / "tu.dwo"}


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[tuple[str, int], dict[str, Path]]:
    root = tmp_path_factory.mktemp("split")
    return {(cc, v): _build(root / f"{cc}-{v}", cc, v) for cc, v in BUILDS}


_OFFSET = re.compile(r"0x[0-9a-f]{8}\b")


@pytest.mark.parametrize("cc,version", BUILDS)
@pytest.mark.parametrize("what", ["shapes", "tu"])
def test_dwo_dies_agree_with_llvm_dwarfdump(builds, cc, version, what):
    require_tool("llvm-dwarfdump-14")
    path = str(builds[cc, version][what])
    flags = ("--debug-info", "--debug-types")
    result = our_dump(path, *flags)
    assert result.returncode == 0, result.stderr
    assert ".debug_info.dwo contents:" in result.stdout
    ours, llvm = normalise(result.stdout, True), normalise(llvm_dump(path, *flags), True)
    if cc == "gcc" and what == "tu":
        # gcc puts each type unit in a COMDAT .debug_info.dwo of its own; llvm-dwarfdump counts offsets in each
        # section, dwarfkit in the sections joined (as in an object's .debug_types): offsets are not compared.
        ours, llvm = [_OFFSET.sub("0x_", x) for x in ours], [_OFFSET.sub("0x_", x) for x in llvm]
    assert len(ours) > 20
    assert first_difference(ours, llvm) is None, first_difference(ours, llvm)


def _lines(text: str) -> list[str]:
    """Without the file line and blank lines (llvm-dwarfdump puts them between sections differently)."""
    return [line for line in text.splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("cc,version", BUILDS)
@pytest.mark.parametrize("flag", ["--debug-abbrev", "--debug-line", "--debug-str", "--debug-str-offsets",
                                  "--debug-loclists", "--debug-rnglists", "--debug-loc"])
def test_dwo_sections_agree_with_llvm_dwarfdump(builds, cc, version, flag):
    require_tool("llvm-dwarfdump-14")
    path = str(builds[cc, version]["shapes"])
    ours = our_dump(path, flag)
    llvm = llvm_dump(path, flag)
    if cc == "gcc" and flag in ("--debug-loclists", "--debug-loc"):
        # gcc's location views (DW_LLE_view_pair 0x9f in DWARF 5, view numbers before DWARF 4's lists) stop
        # llvm-dwarfdump-14's section dump; compare up to where it stops.
        llvm_lines = _lines(llvm)
        assert _lines(ours.stdout)[:len(llvm_lines)] == llvm_lines
        return
    assert _lines(ours.stdout) == _lines(llvm)


@pytest.mark.parametrize("cc,version", BUILDS)
def test_verify_finds_nothing_in_a_good_dwo(builds, cc, version):
    for path in builds[cc, version].values():
        result = subprocess.run(["python3", "-m", "dwarfkit", "verify", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no problems found" in result.stdout


def test_verify_reports_a_broken_dwo(builds, tmp_path):
    from elftools.elf.elffile import ELFFile
    bad = tmp_path / "bad.dwo"
    shutil.copy(builds["clang-14", 5]["shapes"], bad)
    with open(bad, "r+b") as f:
        offset = ELFFile(f).get_section_by_name(".debug_info.dwo")["sh_offset"]
        f.seek(offset + 0x30)
        f.write(b"\x7f")  # an abbreviation code the table does not have
    result = subprocess.run(["python3", "-m", "dwarfkit", "verify", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert ".debug_info.dwo[0x30]: abbreviation code 127 is not in the table at .debug_abbrev.dwo[0x0]" \
        in result.stdout
    assert "Traceback" not in result.stderr
