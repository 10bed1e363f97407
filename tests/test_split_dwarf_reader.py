"""Split DWARF read back: gcc's and clang-14's ``-gsplit-dwarf`` ``.dwo`` files (DWARF 4 GNU and DWARF 5) dump
as llvm-dwarfdump-14 dumps them, and verify finds nothing in them but what is broken."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool
from dump_compare import CORPUS, REPO, first_difference, llvm_dump, normalise, our_dump

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
        result = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(path)], capture_output=True,
                                text=True, cwd=REPO)
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
    result = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(bad)], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 1
    assert ".debug_info.dwo[0x30]: abbreviation code 127 is not in the table at .debug_abbrev.dwo[0x0]" \
        in result.stdout
    assert "Traceback" not in result.stderr


# --- skeletons in objects and executables, their .dwo files beside them ------------------------------------------

def _link(folder: Path, cc: str, version: int) -> Path:
    """The corpus program linked static and freestanding (as MANIFEST.tsv's executables), split."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [str(SRC / n) for n in ("start_linux_x86_64.c", "shapes.c", "freestanding.c")]
    subprocess.run([cc, "-O1", "-g", f"-gdwarf-{version}", "-gsplit-dwarf", "-static", "-nostdlib", "-fno-pie",
                    *(["-no-pie"] if cc == "gcc" else []), *sources, "-o", "shapes"], cwd=folder, check=True)
    return folder / "shapes"


@pytest.fixture(scope="module")
def executables(tmp_path_factory) -> dict[tuple[str, int], Path]:
    root = tmp_path_factory.mktemp("split-exe")
    for cc, _v in BUILDS:
        require_tool(cc)
    return {(cc, v): _link(root / f"{cc}-{v}", cc, v) for cc, v in BUILDS}


def _functions(path: Path) -> dict[str, int]:
    """Function symbols -> address, by nm."""
    out = subprocess.run([require_tool("nm"), str(path)], capture_output=True, text=True, check=True).stdout
    return {f[2]: int(f[0], 16) for f in (line.split() for line in out.splitlines())
            if len(f) == 3 and f[1] in "Tt"}


_TAG_LINE = re.compile(r"^0x[0-9a-f]{8}: +(DW_TAG_\w+|NULL)")


@pytest.mark.parametrize("cc,version", BUILDS)
def test_skeletons_dump_as_llvm_dwarfdump_and_dwo_shows_split_units(executables, builds, cc, version):
    """Without --dwo, the skeletons as llvm-dwarfdump-14 prints them; with it, each split unit after its skeleton
    has the DIEs llvm-dwarfdump-14 prints for the .dwo alone, with addresses resolved."""
    require_tool("llvm-dwarfdump-14")
    exe, dwo = executables[cc, version], builds[cc, version]["shapes"]
    for path, dwos in ((exe, sorted(exe.parent.glob("*.dwo"))), (dwo.with_suffix(".o"), [dwo])):
        plain = our_dump(str(path), "--debug-info")
        assert plain.returncode == 0, plain.stderr
        assert normalise(plain.stdout, True) == normalise(llvm_dump(str(path), "--debug-info"), True)
        split = our_dump(str(path), "--debug-info", "--dwo")
        assert split.returncode == 0, split.stderr
        ours_tags = [m.group(0) for m in map(_TAG_LINE.match, split.stdout.splitlines()) if m]
        llvm_tags = [m.group(0) for m in map(_TAG_LINE.match, llvm_dump(str(path), "--debug-info").splitlines())
                     if m]
        for part in dwos:
            llvm_tags += [m.group(0) for m in map(_TAG_LINE.match, llvm_dump(str(part), "--debug-info").splitlines())
                          if m]
        assert sorted(ours_tags) == sorted(llvm_tags)
        assert "<unresolved>" not in split.stdout
    functions = _functions(executables[cc, version])
    text = our_dump(str(executables[cc, version]), "--debug-info", "--dwo").stdout
    for name in ("area", "fib", "_start"):
        assert f"DW_AT_low_pc\t(0x{functions[name]:016x})" in text, name


@pytest.mark.parametrize("cc,version", BUILDS)
def test_lookup_finds_the_function_in_the_split_unit(executables, cc, version):
    path = executables[cc, version]
    functions = _functions(path)
    for name in ("area", "area_rect", "fib", "sum_table", "run", "memset", "_start"):
        result = our_dump(str(path), "--lookup", hex(functions[name]))
        assert result.returncode == 0, result.stderr
        die = result.stdout.split("DW_TAG_subprogram", 1)
        assert len(die) == 2, result.stdout
        subprogram = die[1].split("\n\n")[0]
        assert f'DW_AT_name\t("{name}")' in subprogram or 'DW_AT_abstract_origin\t(0x' in subprogram and \
            subprogram.endswith(f' "{name}")'), result.stdout
        assert "Line info: file" in result.stdout


@pytest.mark.parametrize("cc,version", BUILDS)
def test_verify_checks_split_units_and_reports_missing_and_foreign_dwo(executables, builds, cc, version, tmp_path):
    path = executables[cc, version]
    result = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(path)], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    # A copy whose .dwo files are gone (one) or belong to another build (shapes'), with the originals moved away.
    moved = tmp_path / "moved"
    shutil.copytree(path.parent, moved)
    hidden = path.parent.with_name(path.parent.name + "-hidden")
    path.parent.rename(hidden)
    try:
        dwos = {p.name: p for p in moved.glob("*.dwo")}
        start = next(n for n in dwos if "start" in n)
        shape = next(n for n in dwos if n.endswith("shapes.dwo"))
        dwos[start].unlink()
        shutil.copy(builds[cc, version]["shapes"], dwos[shape])
        result = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(moved / "shapes")],
                                capture_output=True, text=True, cwd=REPO)
        dump = our_dump(str(moved / "shapes"), "--debug-info", "--dwo")
    finally:
        hidden.rename(path.parent)
    assert result.returncode == 1
    assert f"split unit '{start}' not found" in result.stdout
    assert f"{moved / shape} holds no split unit with DWO id" in result.stdout
    assert "Traceback" not in result.stderr + dump.stderr
    assert dump.returncode == 1 and f"split unit '{start}' not found" in dump.stderr
