#!/usr/bin/env python3
"""Speed and memory of `dwarfkit.load` and `dwarfkit convert --separate-debug` against `llvm-dwarfdump-14
--debug-info` of the same file, in one run, alternating, medians of the rounds.

    python3 benchmarks/bench_load.py [FILE] [--rounds N]

FILE defaults to this Python's libpython3.11 when it carries DWARF (see bench_dump.find_libpython). Each command
runs as its own process; wall time and peak RSS come from os.wait4 for that child. Two figures for load: the
``dwarfkit.load`` call as the child timed it, and the child's whole process, which also starts Python and frees the
model at exit (a few million objects; the ``dwarfkit`` command skips that by leaving with os._exit). The issue's
targets: load at most 3x and convert at most 5x llvm-dwarfdump's wall time, peak memory at most 1.5 GB.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dump import find_libpython, measure  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, help="an ELF file with DWARF (default: libpython3.11)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three commands (default 3)")
    args = parser.parse_args()
    target = args.file or find_libpython()
    if target is None or not target.is_file():
        parser.error(f"{target or 'libpython3.11 with DWARF'}: not found; give a file")
    # As installed: modules compiled once (a setting that stops Python writing .pyc files would add their
    # compilation, about 0.3 s, to every process measured).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-c", "import dwarfkit.loading.convert, dwarfkit.backends.elf.rewrite, "
                    "dwarfkit.cli"], check=True, cwd=Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as tmp:
        load_and_free = ("import sys, time, dwarfkit\n"
                         "start = time.perf_counter(); dw = dwarfkit.load(sys.argv[1])\n"
                         "print(time.perf_counter() - start, flush=True)\n")
        runs = {
            "llvm-dwarfdump-14 --debug-info": ["llvm-dwarfdump-14", "--debug-info", str(target)],
            "dwarfkit.load, freed at exit": [sys.executable, "-c", load_and_free, str(target)],
            "dwarfkit convert --separate-debug": [sys.executable, "-m", "dwarfkit", "convert", str(target),
                                                  f"{tmp}/out.so", "--separate-debug", f"{tmp}/out.so.debug",
                                                  "--quiet"],
        }
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
        calls: list[float] = []   # the load call alone, as the child timed it
        for round_ in range(args.rounds):
            for name, argv in runs.items():
                printed: list[str] | None = [] if name.startswith("dwarfkit.load") else None
                results[name].append(measure(argv, printed))
                if printed is not None:
                    calls.append(float(printed[0]))
            print(f"round {round_ + 1}: " + ", ".join(f"{n} {r[-1][0]:.2f} s" for n, r in results.items()) +
                  f", load call {calls[-1]:.2f} s", flush=True)
        print(f"file: {target}")
        median = {name: (statistics.median(r[0] for r in rs), max(r[1] for r in rs),
                         statistics.median(r[2] for r in rs)) for name, rs in results.items()}
        for name, (wall, rss, cpu) in median.items():
            print(f"{name:36} {wall:8.2f} s wall {cpu:8.2f} s CPU {rss:8.0f} MB peak")
        llvm = median["llvm-dwarfdump-14 --debug-info"][0]
        call = statistics.median(calls)
        print(f"{'dwarfkit.load call':36} {call:8.2f} s wall")
        print(f"load call / llvm-dwarfdump:      {call / llvm:.2f}x (target <= 3)")
        print(f"load + freeing / llvm-dwarfdump: {median['dwarfkit.load, freed at exit'][0] / llvm:.2f}x")
        print(f"convert / llvm-dwarfdump:        {median['dwarfkit convert --separate-debug'][0] / llvm:.2f}x "
              f"(target <= 5)")
        peak = max(median["dwarfkit.load, freed at exit"][1], median["dwarfkit convert --separate-debug"][1])
        print(f"dwarfkit peak RSS:               {peak:.0f} MB (target <= 1500)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
