"""DWARF packages (``.dwp``): gcc's and clang-14's ``-gsplit-dwarf`` programs (DWARF 4 with ``-fdebug-types-section``
and DWARF 5, C and C++ with type units) packaged by ``llvm-dwp-14`` and by ``dwarfkit dwp``. Our dump of both shows
what llvm-dwarfdump-14 shows (DIEs and the unit indexes), llvm-dwarfdump-14 reads and verifies our package, the
executable finds its package beside it when its ``.dwo`` files are gone (dump --dwo, --lookup, verify; gdb and
lldb-14 sessions the same as with the ``.dwo`` files), and broken packages give findings, never a traceback."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool
from dump_compare import REPO, first_difference, llvm_dump, normalise, our_dump
from sessions import Program, compare_transcripts, transcript

from dwarfkit.loading.dwp import DwpError, write_dwp

SOURCES = {
    "shapes.h": """#ifdef __cplusplus
extern "C" {
#endif
struct point { int x; int y; };
int scale(struct point *p, int k);
#ifdef __cplusplus
}
#endif
""",
    "scale.c": """#include "shapes.h"
int scale(struct point *p, int k) {
  int before = p->x + p->y;
  p->x *= k;
  p->y *= k;
  return before;
}
""",
    "box.h": """template <typename T> struct Box {
  T value;
  T get() const { return value; }
};
class Counter {
 public:
  explicit Counter(int start) : n_(start) {}
  int next() { return ++n_; }
 private:
  int n_;
};
int use(int k);
""",
    "use.cc": """#include "box.h"
#include "shapes.h"
int use(int k) {
  Box<int> b{k};
  Box<double> d{1.5};
  Counter c(k);
  struct point p = {k, 2};
  int s = scale(&p, 3);
  return b.get() + c.next() + static_cast<int>(d.get()) + s;
}
""",
    "main.cc": """#include "box.h"
int main() {
  Box<int> b{3};
  Counter c(1);
  int r = use(b.get()) + c.next();
  return r == 15 ? 0 : 1;
}
""",
}
BUILDS = [(cc, v) for cc in ("gcc", "clang") for v in (4, 5)]
PROGRAM_FUNCTIONS = ("main", "use", "scale", "Counter::next")


def _build(folder: Path, cc: str, version: int) -> Path:
    """prog from scale.c, use.cc and main.cc, split (-O0: the sessions compare locals)."""
    c, cxx = ("gcc", "g++") if cc == "gcc" else ("clang-14", "clang++-14")
    for tool in (c, cxx):
        require_tool(tool)
    folder.mkdir(parents=True)
    for name, text in SOURCES.items():
        (folder / name).write_text(text)
    flags = ["-O0", "-g", f"-gdwarf-{version}", "-gsplit-dwarf", "-c"]
    subprocess.run([c, *flags, "scale.c", "-o", "scale.o"], cwd=folder, check=True)
    for name in ("use", "main"):
        subprocess.run([cxx, *flags, "-fdebug-types-section", f"{name}.cc", "-o", f"{name}.o"], cwd=folder,
                       check=True)
    subprocess.run([cxx, "scale.o", "use.o", "main.o", "-o", "prog"], cwd=folder, check=True)
    return folder / "prog"


def _llvm_dwp(exe: Path, out: Path, timeout: float = 60) -> None:
    subprocess.run([require_tool("llvm-dwp-14"), "-e", str(exe), "-o", str(out)], check=True, timeout=timeout,
                   capture_output=True)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[tuple[str, int], Path]:
    """Per build its folder: prog, its .dwo files, llvm.dwp (llvm-dwp-14's) and ours.dwp (dwarfkit dwp's)."""
    root = tmp_path_factory.mktemp("dwp")
    out = {}
    for cc, version in BUILDS:
        exe = _build(root / f"{cc}{version}", cc, version)
        _llvm_dwp(exe, exe.parent / "llvm.dwp")
        write_dwp(exe.parent / "ours.dwp", [exe])
        out[cc, version] = exe.parent
    return out


def _dwarfkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dwarfkit", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120)


_OFFSET = re.compile(r"0x[0-9a-f]{8}\b")
# llvm-dwarfdump-14 does not follow DW_AT_signature into a version 2 package's .debug_types: it names such a type
# "structure " or "class " where the .dwo alone (and dwarfkit) give its name.
_UNNAMED = re.compile(r'"[^"]*\b(structure|class|union) (?=[^\w]|")')


def _die_lines(text: str) -> list[str]:
    return normalise(text, True)


def _as_llvm_names_them(ours: list[str], llvm: list[str]) -> list[str]:
    """Our lines, with the types llvm-dwarfdump-14 leaves unnamed (``_UNNAMED``: "structure *") as it shows them."""
    fixed = list(ours)
    for i, (a, b) in enumerate(zip(ours, llvm, strict=False)):
        m = _UNNAMED.search(b)
        if m and a.startswith(b[:m.start()] + '"'):
            fixed[i] = b
    return fixed


@pytest.mark.parametrize("cc,version", BUILDS)
@pytest.mark.parametrize("package", ["llvm", "ours"])
def test_package_dies_agree_with_llvm_dwarfdump(builds, cc, version, package):
    require_tool("llvm-dwarfdump-14")
    path = str(builds[cc, version] / f"{package}.dwp")
    flags = ("--debug-info", "--debug-types")
    result = our_dump(path, *flags)
    assert result.returncode == 0, result.stderr
    ours, llvm = _die_lines(result.stdout), _die_lines(llvm_dump(path, *flags))
    ours = _as_llvm_names_them(ours, llvm)
    assert len(ours) > 100
    assert first_difference(ours, llvm) is None, first_difference(ours, llvm)


@pytest.mark.parametrize("cc,version", BUILDS)
@pytest.mark.parametrize("flag", ["--debug-cu-index", "--debug-tu-index", "--debug-abbrev", "--debug-line",
                                  "--debug-str"])
def test_package_sections_agree_with_llvm_dwarfdump(builds, cc, version, flag):
    require_tool("llvm-dwarfdump-14")
    for package in ("llvm", "ours"):
        path = str(builds[cc, version] / f"{package}.dwp")
        ours, llvm = our_dump(path, flag), llvm_dump(path, flag)
        assert ours.returncode == 0, ours.stderr
        lines = [x for x in ours.stdout.splitlines()[1:] if x.strip()]
        assert lines == [x for x in llvm.splitlines()[1:] if x.strip()]
        assert len(lines) > 3


@pytest.mark.parametrize("cc,version", BUILDS)
def test_our_package_is_llvm_dwps_package(builds, cc, version):
    """The same units under the same signatures, each with the same DIEs, and llvm-dwarfdump-14 --verify (and
    ours) find nothing in it; type units are there once per signature."""
    require_tool("llvm-dwarfdump-14")
    folder = builds[cc, version]
    ours, llvm = folder / "ours.dwp", folder / "llvm.dwp"
    index = ("--debug-cu-index", "--debug-tu-index")
    signatures = [sorted(re.findall(r"^ +\d+ (0x[0-9a-f]{16})", llvm_dump(str(p), f), re.M)) for p in (ours, llvm)
                  for f in index]
    assert signatures[:2] == signatures[2:]
    assert len(signatures[1]) == len(set(signatures[1])) >= 3  # Box<int>, Box<double>, Counter: once each
    dies = [sorted(_OFFSET.sub("0x_", x) for x in _die_lines(llvm_dump(str(p), "--debug-info", "--debug-types")))
            for p in (ours, llvm)]
    assert dies[0] == dies[1]
    checked = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(ours)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0 and "No errors." in checked.stdout, checked.stdout[-2000:]
    for p in (ours, llvm):
        result = _dwarfkit("verify", str(p))
        assert result.returncode == 0 and "no problems found" in result.stdout, result.stdout + result.stderr


def test_packages_from_dwo_files_and_packages(builds, tmp_path):
    """The .dwo files named directly give the package the executable gives; a package packaged again keeps every
    unit (its own contributions found through its index)."""
    folder = builds["gcc", 5]
    direct, again = tmp_path / "direct.dwp", tmp_path / "again.dwp"
    write_dwp(direct, sorted(folder.glob("*.dwo")))
    write_dwp(again, [folder / "ours.dwp"])
    want = sorted(_OFFSET.sub("0x_", x) for x in _die_lines(our_dump(str(folder / "ours.dwp"), "--debug-info").stdout))
    for path in (direct, again):
        result = our_dump(str(path), "--debug-info")
        assert result.returncode == 0, result.stderr
        assert sorted(_OFFSET.sub("0x_", x) for x in _die_lines(result.stdout)) == want
        assert _dwarfkit("verify", str(path)).returncode == 0


@pytest.fixture(scope="module")
def packaged(builds, tmp_path_factory) -> dict[tuple[str, int], Path]:
    """Copies of prog with only our package beside them (no .dwo files anywhere: the originals hidden while a
    test runs, see ``hidden_dwo``)."""
    root = tmp_path_factory.mktemp("packaged")
    out = {}
    for key, folder in builds.items():
        target = root / f"{key[0]}{key[1]}"
        target.mkdir()
        shutil.copy(folder / "prog", target / "prog")
        shutil.copy(folder / "ours.dwp", target / "prog.dwp")
        out[key] = target / "prog"
    return out


class hidden_dwo:
    """The .dwo files of a build moved away (and back)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.away = folder / "away"

    def __enter__(self) -> None:
        self.away.mkdir(exist_ok=True)
        for dwo in self.folder.glob("*.dwo"):
            dwo.rename(self.away / dwo.name)

    def __exit__(self, *exc: object) -> None:
        for dwo in self.away.glob("*.dwo"):
            dwo.rename(self.folder / dwo.name)


def _functions(path: Path) -> dict[str, int]:
    out = subprocess.run([require_tool("nm"), "-C", str(path)], capture_output=True, text=True, check=True).stdout
    return {" ".join(f[2:]).split("(")[0]: int(f[0], 16) for f in (line.split() for line in out.splitlines())
            if len(f) >= 3 and f[1] in "TtW"}


@pytest.mark.parametrize("cc,version", BUILDS)
def test_executable_finds_its_package_beside_it(builds, packaged, cc, version):
    """With the .dwo files gone, dump --dwo shows each split unit from prog.dwp with addresses resolved, --lookup
    finds functions in it, verify checks it; without the package, each is a note or finding."""
    exe = packaged[cc, version]
    with hidden_dwo(builds[cc, version]):
        split = _dwarfkit("dump", "--debug-info", "--dwo", str(exe))
        functions = _functions(exe)
        lookups = {name: _dwarfkit("dump", "--lookup", hex(functions[name]), str(exe))
                   for name in ("main", "use", "scale")}
        checked = _dwarfkit("verify", str(exe))
        package = exe.with_name("prog.dwp")
        package.rename(exe.with_name("elsewhere.dwp"))
        try:
            missing = _dwarfkit("verify", str(exe))
            refused = _dwarfkit("dwp", str(exe.with_name("new.dwp")), str(exe))
        finally:
            exe.with_name("elsewhere.dwp").rename(package)
    assert split.returncode == 0, split.stderr
    assert split.stdout.count(f"{package}: .debug_info.dwo:") == 3
    for name in ("main", "use", "scale"):
        assert f"DW_AT_low_pc\t(0x{functions[name]:016x})" in split.stdout, name
        assert lookups[name].returncode == 0, lookups[name].stderr
        assert f'DW_AT_name\t("{name}")' in lookups[name].stdout
    assert "<unresolved>" not in split.stdout
    assert checked.returncode == 0, checked.stdout
    assert missing.returncode == 1 and "not found" in missing.stdout
    assert refused.returncode == 2 and refused.stderr.startswith("dwarfkit: error: ") and "not found" in refused.stderr
    assert refused.stderr.count("\n") == 1 and not exe.with_name("new.dwp").exists()


# gdb 13.1 crashes on every DWARF 5 package (llvm-dwp-14's as well as ours, with or without type units): gdb
# is held to the DWARF 4 (index version 2) packages, lldb-14 to the DWARF 5 ones.
SESSIONS = [("gdb", "gcc", 4), ("gdb", "clang", 4), ("lldb", "gcc", 5), ("lldb", "clang", 5)]


def _program(folder: Path) -> Program:
    return Program("prog", "c++", tuple(folder / n for n in ("main.cc", "use.cc", "scale.c")), PROGRAM_FUNCTIONS,
                   ("Counter", "struct point", "Box<int>"), ("Counter", "point", "Box<int>"), 50)


@pytest.mark.parametrize("debugger,cc,version", SESSIONS)
def test_debugger_sessions_with_our_package_equal_those_with_dwo_files(builds, packaged, debugger, cc, version):
    require_tool("gdb" if debugger == "gdb" else "lldb-14")
    prog = _program(builds[cc, version])
    folder, exe = builds[cc, version], packaged[cc, version]
    with hidden_dwo(folder):
        with_package = transcript(exe, debugger, prog, timeout=120)
        if (debugger, cc, version) == ("lldb", "gcc", 5):
            # lldb-14 does not read gcc's DWARF 5 .dwo files with type units (no C++ type, no local of main) but
            # reads a package of them: the reference is llvm-dwp-14's package.
            shutil.copy(folder / "llvm.dwp", exe.with_name("prog.dwp"))
            try:
                reference = transcript(exe, debugger, prog, timeout=120)
            finally:
                shutil.copy(folder / "ours.dwp", exe.with_name("prog.dwp"))
    if (debugger, cc, version) != ("lldb", "gcc", 5):
        reference = transcript(folder / "prog", debugger, prog, timeout=120)
    assert "n_ = " in with_package and "Box<int>" in with_package  # the split units were read
    assert compare_transcripts(reference, with_package) == []


@pytest.mark.xfail(strict=True, reason="gdb 13.1 crashes reading a DWARF 5 package, llvm-dwp-14's as well as ours")
def test_gdb_reads_a_dwarf5_package(builds, packaged):
    require_tool("gdb")
    with hidden_dwo(builds["clang", 5]):
        shutil.copy(builds["clang", 5] / "llvm.dwp", packaged["clang", 5].with_name("prog.dwp"))
        try:
            session = transcript(packaged["clang", 5], "gdb", _program(builds["clang", 5]), timeout=60)
        finally:
            shutil.copy(builds["clang", 5] / "ours.dwp", packaged["clang", 5].with_name("prog.dwp"))
    assert "n_ = " in session


# --- llvm-dwp-14 on gcc's DWARF 5 location lists ------------------------------------------------------------------

@pytest.mark.xfail(strict=True, raises=subprocess.TimeoutExpired,
                   reason="llvm-dwp-14 loops forever on gcc 12's -gdwarf-5 -O1 .dwo with location lists (shapes.c); "
                          "dwarfkit dwp packages it")
def test_llvm_dwp_on_gccs_dwarf5_location_lists(tmp_path):
    require_tool("gcc")
    from dump_compare import CORPUS
    shutil.copy(CORPUS / "src" / "shapes.c", tmp_path / "shapes.c")
    subprocess.run(["gcc", "-O1", "-g", "-gdwarf-5", "-gsplit-dwarf", "-c", "shapes.c", "-o", "shapes.o"],
                   cwd=tmp_path, check=True)
    write_dwp(tmp_path / "ours.dwp", [tmp_path / "shapes.o"])
    assert _dwarfkit("verify", str(tmp_path / "ours.dwp")).returncode == 0
    assert "DW_TAG_subprogram" in our_dump(str(tmp_path / "ours.dwp"), "--debug-info").stdout
    subprocess.run([require_tool("llvm-dwp-14"), str(tmp_path / "shapes.dwo"), "-o", str(tmp_path / "llvm.dwp")],
                   timeout=5, capture_output=True)


# --- broken packages and inputs ---------------------------------------------------------------------------------

def _section(path: Path, name: str) -> tuple[int, int]:
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        s = ELFFile(f).get_section_by_name(name)
        return s["sh_offset"], s["sh_size"]


def _patched(source: Path, target: Path, section: str, at: int, data: bytes) -> Path:
    shutil.copy(source, target)
    offset, _size = _section(target, section)
    with open(target, "r+b") as f:
        f.seek(offset + at)
        f.write(data)
    return target


def _row_offsets(path: Path) -> int:
    """Where the offsets of .debug_cu_index's first row are, in the section."""
    offset, _ = _section(path, ".debug_cu_index")
    head = path.read_bytes()[offset:offset + 16]
    n, _units, slots = (int.from_bytes(head[k:k + 4], "little") for k in (4, 8, 12))
    return 16 + 12 * slots + 4 * n


def test_broken_packages_give_findings(builds, tmp_path):
    good = builds["clang", 5] / "ours.dwp"
    cases = {
        # the index header says more slots than the section holds
        "truncated": (_patched(good, tmp_path / "a.dwp", ".debug_cu_index", 12, b"\xff\x00\x00\x00"),
                      ".debug_cu_index[0x0]: index of 3 units, 255 slots"),
        # the first row's INFO contribution starts far past .debug_info.dwo
        "past": (_patched(good, tmp_path / "b.dwp", ".debug_cu_index", _row_offsets(good), b"\x00\x00\x01\x00"),
                 "runs past the end of .debug_info.dwo"),
        # the first slot's signature changed
        "signature": (_patched(good, tmp_path / "c.dwp", ".debug_tu_index", 16 + 8 * _first_slot(good), b"\x01"),
                      "has type signature"),
    }
    for what, (path, message) in cases.items():
        checked = _dwarfkit("verify", str(path))
        assert checked.returncode == 1, (what, checked.stdout, checked.stderr)
        assert message in checked.stdout, (what, checked.stdout)
        dumped = _dwarfkit("dump", str(path))
        assert "Traceback" not in checked.stderr + dumped.stderr, what
        assert dumped.returncode in (0, 1), (what, dumped.stderr)
    shutil.copy(good, tmp_path / "short.dwp")
    offset, size = _section(tmp_path / "short.dwp", ".debug_cu_index")
    data = bytearray((tmp_path / "short.dwp").read_bytes())
    data[offset + 4:offset + 16] = bytes(12)   # no sections, units or slots: the DWARF 5 units are in no row
    (tmp_path / "short.dwp").write_bytes(bytes(data))
    checked = _dwarfkit("verify", str(tmp_path / "short.dwp"))
    assert checked.returncode == 1 and "is in no row of .debug_cu_index" in checked.stdout


def _first_slot(path: Path) -> int:
    offset, _ = _section(path, ".debug_tu_index")
    data = path.read_bytes()[offset:]
    slots = int.from_bytes(data[12:16], "little")
    return next(k for k in range(slots) if int.from_bytes(data[16 + 8 * slots + 4 * k:][:4], "little"))


def test_bad_inputs_are_refused_on_one_line(builds, tmp_path):
    folder = builds["gcc", 4]
    cases = [
        ([str(tmp_path / "nothing.dwo")], "no such file"),
        ([str(folder / "scale.c")], "not an ELF"),
        ([str(folder / "main.dwo"), str(folder / "main.dwo")], None),  # the same file twice: read once
        ([str(folder / "main.dwo"), str(builds["gcc", 5] / "main.dwo")], "cannot join DWARF"),
        ([str(folder / "ours.dwp"), str(folder / "main.dwo")], "DWO id 0x"),
    ]
    for inputs, message in cases:
        out = tmp_path / "out.dwp"
        result = _dwarfkit("dwp", str(out), *inputs)
        if message is None:
            assert result.returncode == 0, result.stderr
            out.unlink()
            continue
        assert result.returncode == 2, (inputs, result.stderr)
        assert result.stderr.startswith("dwarfkit: error: ") and result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr, result.stderr
        assert not out.exists()
    with pytest.raises(DwpError, match="list of one or more"):
        write_dwp(tmp_path / "x.dwp", [])
