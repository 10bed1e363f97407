#!/usr/bin/env python3
"""Time to the first breakpoint in gdb and lldb-14 on the synthetic program (../shared/bench/SPEC.md), with and
without each accelerator table.

    python3 benchmarks/bench_index.py [FUNCTIONS] [--rounds N]

The program (default 100,000 functions, ``benchmarks/synth.py``) becomes a static x86_64 ELF executable: each
``fn_i`` is 63 ``nop`` and a ``ret``, and ``_start`` calls the last function, then exits. One executable per index:
none, ``.gdb_index``, ``.debug_names`` and the Apple tables (lldb reads them from any container; gdb ignores them).
Each debugger runs in batch mode: ``break fn_<N-1>``, ``run``, and the time is that of the whole debugger process
(start, reading the index or the DWARF, the stop), wall and CPU (user + system of the child, from os.wait4), the
median of the rounds, alternating the variants. Build times are printed too (dwarfkit's emit with the index).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's dwarfkit
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import build  # noqa: E402

from dwarfkit import ContentSection, Image, SectionKind, Symbol, SymbolKind  # noqa: E402
from dwarfkit.backends.elf.executable import write_executable  # noqa: E402

VARIANTS = {"none": None, "gdb_index": "gdb_index", "debug_names": "debug_names", "apple": "apple"}
DEBUGGERS = {"gdb": ("none", "gdb_index", "debug_names"), "lldb": ("none", "debug_names", "apple")}


def executable(n: int, names: str | None, out: Path) -> float:
    """Writes the program with ``names``; returns the seconds emit and the writer took."""
    started = time.perf_counter()
    sections = build(n, symbolic=True, names=names).emit(names=None)
    fns = (b"\x90" * 63 + b"\xc3") * n   # nops to the ret: the debuggers break after the first row
    call = (64 * (n - 1) - (64 * n + 5)).to_bytes(4, "little", signed=True)
    start = b"\xe8" + call + b"\xb8\x3c\x00\x00\x00\x31\xff\x0f\x05"   # call fn_{n-1}; exit(0)
    text = ContentSection(".text", SectionKind.CODE, fns + start, alignment=16)
    symbols = [Symbol(f"fn_{i}", ".text", 64 * i, 64, SymbolKind.FUNCTION) for i in range(n)]
    symbols.append(Symbol("_start", ".text", 64 * n, len(start), SymbolKind.FUNCTION))
    write_executable(Image("x86_64", [text], symbols, sections, entry="_start"), out)
    return time.perf_counter() - started


def session(debugger: str, exe: Path, target: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, output) of one debugger run to the breakpoint."""
    if debugger == "gdb":
        args = ["gdb", "-batch", "-nx", "-ex", f"break {target}", "-ex", "run", str(exe)]
    else:
        args = ["lldb-14", "-b", "-o", f"breakpoint set -n {target}", "-o", "run", "-o", "process kill", str(exe)]
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert child.stdout is not None
    output = child.stdout.read().decode(errors="replace")
    _, _, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("functions", nargs="?", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.functions
    if n < 1 or args.rounds < 1:
        parser.error("FUNCTIONS and --rounds must be positive")
    target = f"fn_{n - 1}"
    with tempfile.TemporaryDirectory(prefix="bench-index-") as folder:
        exes: dict[str, Path] = {}
        for variant, names in VARIANTS.items():
            exes[variant] = Path(folder) / f"synth-{variant}"
            seconds = executable(n, names, exes[variant])
            print(f"built {variant:12} {seconds:7.2f} s  {exes[variant].stat().st_size:>12,} bytes", flush=True)
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.rounds):
            for debugger, variants in DEBUGGERS.items():
                for variant in variants:
                    wall, cpu, output = session(debugger, exes[variant], target)
                    if target not in output or ("stop reason = breakpoint" not in output
                                                and f"Breakpoint 1, {target}" not in output):
                        print(f"{debugger} {variant}: no stop at {target}:\n{output[-2000:]}", file=sys.stderr)
                        return 1
                    times.setdefault((debugger, variant), []).append((wall, cpu))
    print(f"\ntime to the first breakpoint, synth-{n} ({args.rounds} rounds, medians)")
    print(f"{'debugger':8} {'index':12} {'wall s':>8} {'cpu s':>8} {'vs none':>8}")
    for debugger, variants in DEBUGGERS.items():
        base = statistics.median(w for w, _ in times[(debugger, "none")])
        for variant in variants:
            wall = statistics.median(w for w, _ in times[(debugger, variant)])
            cpu = statistics.median(c for _, c in times[(debugger, variant)])
            print(f"{debugger:8} {variant:12} {wall:8.2f} {cpu:8.2f} {wall / base:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
