"""Runs dwarfkit's and gimli::write's writers of ../shared/bench/SPEC.md in one run, alternating, and prints the
median wall time, peak memory and DWARF bytes of each, with ratios.

    python3 benchmarks/compare_writers.py [--functions 100000] [--rounds 3]

Wall time and peak memory are the operating system's accounting for each child process (os.wait4), as
/usr/bin/time -v reports them. Bytes count .debug_info + .debug_abbrev + .debug_line + .debug_str + .debug_line_str;
.debug_aranges is reported separately.
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

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# shared/ lies beside the clone (or further up, for a nested git worktree), or where DWARFKIT_SHARED says.
SHARED = Path(os.environ["DWARFKIT_SHARED"]) if os.environ.get("DWARFKIT_SHARED") else next(
    (p / "shared" for p in REPO.parents if (p / "shared" / "bench").is_dir()), REPO.parent / "shared")
PEER = SHARED / "bench" / "gimli-peer" / "run.sh"
COUNTED = (".debug_info", ".debug_abbrev", ".debug_line", ".debug_str", ".debug_line_str")


def measure(argv: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark: {' '.join(argv)} failed with status {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss * 1024


def section_sizes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in out.iterdir() if p.name.startswith(".debug")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    # Build the peer once, outside the measurement.
    subprocess.run(["bash", str(PEER), "10", tempfile.mkdtemp()], check=True, stdout=subprocess.DEVNULL)
    peer_binary = Path(os.environ.get("CARGO_TARGET_DIR", "/tmp/gimli-peer-target")) / "release" / "gimli-peer"

    with tempfile.TemporaryDirectory() as tmp:
        outs = {"dwarfkit": Path(tmp, "dwarfkit"), "gimli": Path(tmp, "gimli")}
        commands = {
            "dwarfkit": [sys.executable, str(HERE / "synth.py"), str(args.functions), str(outs["dwarfkit"])],
            "gimli": [str(peer_binary), str(args.functions), str(outs["gimli"])],
        }
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():  # alternate the writers: the machine is noisy
                results[name].append(measure(argv))
        sizes = {name: section_sizes(out) for name, out in outs.items()}

    print(f"synth-{args.functions}, {args.rounds} rounds, medians:")
    print(f"{'writer':10} {'wall s':>8} {'peak MB':>9} {'DWARF bytes':>12}  per section")
    summary = {}
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        peak = statistics.median(r[1] for r in runs)
        counted = sum(v for k, v in sizes[name].items() if k in COUNTED)
        summary[name] = (wall, peak, counted)
        detail = ", ".join(f"{k} {v}" for k, v in sorted(sizes[name].items()))
        print(f"{name:10} {wall:8.2f} {peak / 1e6:9.1f} {counted:12,}  {detail}")
    (dw, dp, db), (gw, gp, gb) = summary["dwarfkit"], summary["gimli"]
    print(f"ratio dwarfkit/gimli: wall {dw / gw:.2f}x, peak memory {dp / gp:.2f}x, bytes {db / gb:.3f}x")


if __name__ == "__main__":
    main()
