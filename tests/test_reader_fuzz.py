"""Bounded fuzzing: corrupted corpus files never crash, hang or flood `dwarfkit dump`/`verify`."""
from __future__ import annotations

import io
import random
import signal
import subprocess
import sys

import pytest
from dump_compare import REPO, require_reader_corpus

from dwarfkit.errors import DwarfkitError
from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.dump import SECTION_FLAGS, dump_text
from dwarfkit.reader.text import DumpOptions
from dwarfkit.reader.verify import Verifier

SEEDS = ["elf/shapes-gcc-O2-dwarf5.o", "elf/shapes-clang-O2-dwarf5.o", "elf/shapes-gcc-O0-dwarf2.o",
         "macho/shapes-arm64.o", "coff/shapes-mingw-O0-dwarf5.obj", "elf/shapes-gcc-O0-dwarf64.o",
         "third_party/pyelftools/dwarf_debug_types.elf"]
CASES_PER_FILE = int(__import__("os").environ.get("DWARFKIT_FUZZ_CASES", "25"))
SECONDS_PER_CASE = 10


class Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise Hang


def mutate(data: bytes, df, rng: random.Random) -> bytes:
    """Flip bytes inside DWARF sections (where the decoder is exercised), or cut the file short."""
    out = bytearray(data)
    spans = [(off, len(df.sections[name])) for name, off in df.section_offsets.items()
             if off and df.sections[name]]
    kind = rng.random()
    if kind < 0.1:
        return bytes(out[:rng.randrange(len(out))])
    for _ in range(rng.choice([1, 2, 4, 16])):
        start, size = rng.choice(spans)
        pos = start + rng.randrange(size)
        if pos < len(out):
            out[pos] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256), out[pos] ^ (1 << rng.randrange(8))])
    return bytes(out)


@pytest.mark.parametrize("name", SEEDS)
def test_mutated_files_give_findings_not_crashes(name, tmp_path):
    src = require_reader_corpus() / name
    data = src.read_bytes()
    df = open_debug_file(src)
    rng = random.Random(f"dwarfkit-{name}")
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for case in range(CASES_PER_FILE):
            path = tmp_path / f"case{case}{src.suffix}"
            path.write_bytes(mutate(data, df, rng))
            signal.alarm(SECONDS_PER_CASE)
            try:
                try:
                    mutated = open_debug_file(path)
                except DwarfkitError:
                    continue  # a one-line container error is a fine answer
                out = io.StringIO()
                problems = dump_text(mutated, out, set(SECTION_FLAGS), DumpOptions())
                v = Verifier(mutated)
                v.run()
                assert all("\n" not in p for p in problems + v.findings)
                assert len(out.getvalue()) < 50 * len(data) + 100_000  # output bounded by the input
            except Hang:
                pytest.fail(f"{name} case {case}: no answer within {SECONDS_PER_CASE} s ({path})")
            except DwarfkitError:
                pass
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)


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
