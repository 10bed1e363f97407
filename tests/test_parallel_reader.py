"""dump and verify with -j N: a large file's units go to forked workers in runs; the text and the findings are the
same, in the same order, as one process's. Here every section counts as large and a run is a unit or two, so the
corpus's few-unit files exercise the split; a file made hostile checks that findings keep their order."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, require_corpus

from dwarfkit.reader import parallel
from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.dump import SECTION_FLAGS, dump_text
from dwarfkit.reader.text import DumpOptions
from dwarfkit.reader.verify import verify

FILES = ["elf/shapes-gcc-x86_64", "elf/shapes-gcc-O2-x86_64", "macho/shapes-arm64.dSYM",
         "coff/shapes-mingw-O2-dwarf5.exe", "coff/shapes-mingw-O0-dwarf4.exe"]


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(parallel, "RUN_BYTES", 64)


def _dump(path: Path, jobs: int) -> tuple[str, list[str]]:
    out = io.StringIO()
    problems = dump_text(open_debug_file(path), out, set(SECTION_FLAGS), DumpOptions(jobs=jobs))
    return out.getvalue(), problems


@pytest.mark.parametrize("name", FILES)
def test_dump_and_verify_are_the_same_with_workers(name: str, small_runs: None) -> None:
    path = require_corpus() / name
    assert len(parallel.unit_runs(_units(path))) > 1
    assert _dump(path, 3) == _dump(path, 1)
    assert verify(str(path), jobs=3) == verify(str(path), jobs=1)


def _units(path: Path) -> list:
    from dwarfkit.reader.units import DwarfContext
    return DwarfContext(open_debug_file(path)).units("debug_info")


def test_findings_keep_their_order_with_workers(tmp_path: Path, small_runs: None) -> None:
    """Three units' DIEs broken in three places: the findings come in unit order either way."""
    path = tmp_path / "broken"
    data = bytearray((require_corpus() / "elf/shapes-gcc-x86_64").read_bytes())
    info = open_debug_file(require_corpus() / "elf/shapes-gcc-x86_64").section_offsets["debug_info"]
    for unit in _units(require_corpus() / "elf/shapes-gcc-x86_64"):
        data[info + unit.die_offset] = 0x7f   # the first DIE's abbreviation code: none such
    path.write_bytes(bytes(data))
    one = verify(str(path), jobs=1)
    assert len([f for f in one if "abbreviation code" in f]) >= 3, one
    assert verify(str(path), jobs=2) == one


def test_the_command_line_takes_jobs() -> None:
    path = require_corpus() / "elf/shapes-gcc-x86_64"
    one = subprocess.run([sys.executable, "-m", "dwarfkit", "dump", "--debug-info", "-j", "1", str(path)],
                         capture_output=True, text=True, cwd=REPO)
    two = subprocess.run([sys.executable, "-m", "dwarfkit", "dump", "--debug-info", "--jobs", "2", str(path)],
                         capture_output=True, text=True, cwd=REPO)
    assert one.returncode == two.returncode == 0 and one.stdout == two.stdout
    bad = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", "-j", "0", str(path)], capture_output=True,
                         text=True, cwd=REPO)
    assert bad.returncode == 2 and "not a positive number of jobs" in bad.stderr
    assert "Traceback" not in bad.stderr
