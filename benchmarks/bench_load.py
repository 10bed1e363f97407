#!/usr/bin/env python3
"""Speed and memory of `dwarfkit.load` and `dwarfkit convert --separate-debug` against `llvm-dwarfdump-14
--debug-info` of the same file, in one run, alternating, medians of the rounds.

    python3 benchmarks/bench_load.py [FILE] [--rounds N]

FILE defaults to this Python's libpython3.11 when it carries DWARF (see bench_dump.find_libpython). Each command
runs as its own process; wall time and peak RSS come from os.wait4 for that child. The issue's targets: load at
most 3x and convert at most 5x llvm-dwarfdump's wall time, peak memory at most 1.5 GB.
"""
from __future__ import annotations

import argparse
import statistics
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
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            "llvm-dwarfdump-14 --debug-info": ["llvm-dwarfdump-14", "--debug-info", str(target)],
            "dwarfkit.load": [sys.executable, "-c", "import sys, dwarfkit; dwarfkit.load(sys.argv[1])", str(target)],
            "dwarfkit convert --separate-debug": [sys.executable, "-m", "dwarfkit", "convert", str(target),
                                                  f"{tmp}/out.so", "--separate-debug", f"{tmp}/out.so.debug",
                                                  "--quiet"],
        }
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
        for round_ in range(args.rounds):
            for name, argv in runs.items():
                results[name].append(measure(argv))
            print(f"round {round_ + 1}: " + ", ".join(f"{n} {r[-1][0]:.2f} s" for n, r in results.items()),
                  flush=True)
        print(f"file: {target}")
        median = {name: (statistics.median(r[0] for r in rs), max(r[1] for r in rs),
                         statistics.median(r[2] for r in rs)) for name, rs in results.items()}
        for name, (wall, rss, cpu) in median.items():
            print(f"{name:36} {wall:8.2f} s wall {cpu:8.2f} s CPU {rss:8.0f} MB peak")
        llvm = median["llvm-dwarfdump-14 --debug-info"][0]
        print(f"load / llvm-dwarfdump:    {median['dwarfkit.load'][0] / llvm:.2f}x (target <= 3)")
        print(f"convert / llvm-dwarfdump: {median['dwarfkit convert --separate-debug'][0] / llvm:.2f}x (target <= 5)")
        peak = max(median["dwarfkit.load"][1], median["dwarfkit convert --separate-debug"][1])
        print(f"dwarfkit peak RSS:        {peak:.0f} MB (target <= 1500)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
