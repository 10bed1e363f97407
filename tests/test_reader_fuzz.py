"""Bounded fuzzing: mutated corpus files never crash, hang or flood `dwarfkit dump`/`verify`, and never crash `load` or
leave a partial OUT from `convert` (tools/fuzz_reader.py)."""
from __future__ import annotations

import os
import subprocess
import sys

from dump_compare import REPO, require_reader_corpus

from dwarfkit.reader.container import open_debug_file

sys.path.insert(0, str(REPO / "tools"))

import fuzz_reader  # noqa: E402
from fuzz_structs import load_seed  # noqa: E402

# A short, deterministic run of tools/fuzz_reader.py (the long runs are reported in the notes of issue 13).
CASES = int(os.environ.get("DWARFKIT_FUZZ_CASES", "150"))


def test_structure_aware_fuzzing_gives_no_traceback_hang_or_unclear_exit():
    corpus = require_reader_corpus()
    fuzz_reader._preload()
    seeds = [load_seed(p) for p in fuzz_reader.find_seeds(corpus, 256 << 10)]
    assert len(seeds) >= 40 and {s.fmt for s in seeds} == {"elf", "macho", "coff"}
    summary = fuzz_reader.fuzz(seeds, CASES, seed=20261204, timeout=10.0)
    print(summary.text())
    assert summary.cases == CASES and summary.runs == 3 * CASES
    assert summary.bad == 0, "\n".join(summary.failures)
    assert summary.peak_rss < 1 << 30
    # the mutations reach the readers: some runs find problems, some are refused with a clear error
    assert summary.counts["finding"] > CASES // 2 and summary.counts["clear"] > 0


LOAD_CASES = int(os.environ.get("DWARFKIT_FUZZ_LOAD_CASES", "120"))


def test_load_and_convert_of_mutated_files_give_a_model_or_one_error_naming_where():
    """``dwarfkit.load`` + ``emit`` and ``dwarfkit convert`` of the same mutated files: exit 0 (and for convert an
    OUT that loads again) or one error line naming a section and offset or DIE path, and no OUT left behind."""
    corpus = require_reader_corpus()
    fuzz_reader._preload()
    seeds = [load_seed(p) for p in fuzz_reader.find_seeds(corpus, 256 << 10)]
    summary = fuzz_reader.fuzz(seeds, LOAD_CASES, seed=20261205, modes="load,convert", timeout=10.0)
    print(summary.text())
    assert summary.cases == LOAD_CASES and summary.runs == 2 * LOAD_CASES
    assert summary.bad == 0, "\n".join(summary.failures)
    assert summary.peak_rss < 1 << 30
    # both outcomes are reached: mutations the model takes, and mutations refused with a clear error
    assert summary.counts["ok"] > LOAD_CASES // 4 and summary.counts["clear"] > LOAD_CASES // 4


def test_fuzzer_classifies_runs_as_the_issue_defines():
    c = fuzz_reader.classify
    assert c("dump", 0, "", False, 1 << 20, 1 << 30) == "ok"
    assert c("dump", 1, "dwarfkit: f: .debug_info[0x0]: bad\n", False, 0, 1 << 30) == "finding"
    assert c("dump", 2, "dwarfkit: error: f: bad\n", False, 0, 1 << 30) == "clear"
    assert c("dump", 2, "dwarfkit: error: f: bad\nmore\n", False, 0, 1 << 30) == "UNCLEAR"
    assert c("dump", 1, "Traceback (most recent call last):\n", False, 0, 1 << 30) == "TRACEBACK"
    assert c("dump", -9, "", True, 0, 1 << 30) == "HANG"
    assert c("dump", 0, "", False, 2 << 30, 1 << 30) == "MEMORY"
    assert c("dump", -11, "", False, 0, 1 << 30) == "UNCLEAR"
    # load and convert: the one error line must say where
    assert c("load", 2, "dwarfkit: error: f: .debug_info[0x2e]: name: bad\n", False, 0, 1 << 30) == "clear"
    assert c("convert", 2, 'dwarfkit: error: cu "a.c" / variable "x" / attribute type: bad\n', False, 0,
             1 << 30) == "clear"
    assert c("convert", 2, "dwarfkit: error: f: section header 3 at 0x1c0: bad\n", False, 0, 1 << 30) == "clear"
    assert c("load", 2, "dwarfkit: error: address size 2 is not 4 or 8\n", False, 0, 1 << 30) == "UNCLEAR"
    assert c("convert", fuzz_reader.RC_PARTIAL, "fuzz_reader: exit 2 left ['out.o']\n", False, 0,
             1 << 30) == "UNCLEAR"


def test_command_line_prints_one_line_per_problem_and_exits_1(tmp_path):
    src = require_reader_corpus() / "elf/shapes-gcc-O0-dwarf5.o"
    df = open_debug_file(src)
    data = bytearray(src.read_bytes())
    info = df.section_offsets["debug_info"]
    data[info + 0x2e] = 0x7F  # the DIE at 0x2e (llvm-dwarfdump: a DW_TAG_base_type) gets an unknown code
    path = tmp_path / "broken.o"
    path.write_bytes(bytes(data))
    r = subprocess.run([sys.executable, "-m", "dwarfkit", "dump", "--debug-info", str(path)], capture_output=True,
                       text=True, cwd=REPO, timeout=60)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "0x0000000c: DW_TAG_compile_unit" in r.stdout  # what can be read is printed
    assert "abbreviation code 127 is not in the table" in r.stderr and ".debug_info[0x" in r.stderr
