"""Runs dwarfkit's and gimli::write's writers of ../shared/bench/SPEC.md in one run, alternating, and prints the
median wall time, peak memory and DWARF bytes of each, with ratios.

    python3 benchmarks/compare_writers.py [--functions 100000] [--rounds 3] [--object]

Wall time and peak memory are the operating system's accounting for each child process (os.wait4), as
/usr/bin/time -v reports them. Bytes count .debug_info + .debug_abbrev + .debug_line + .debug_str + .debug_line_str;
.debug_aranges is reported separately.

``--object`` compares the relocatable ELF objects instead (SPEC.md's obj mode: dwarfkit's
``dwarfkit.backends.elf.write_object`` against gimli + the ``object`` crate, both relocating every address against
its function's symbol), then checks both with ``llvm-dwarfdump-14 --verify`` and links dwarfkit's with ``ld.lld-14``
to check that ``--lookup`` finds ``fn_7`` and its line 141, as SPEC.md does for the peer.
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
    parser.add_argument("--object", action="store_true", help="compare relocatable ELF objects (SPEC.md obj mode)")
    args = parser.parse_args()
    if args.object:
        compare_objects(args.functions, args.rounds)
        return

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


def compare_objects(functions: int, rounds: int) -> None:
    subprocess.run(["bash", str(PEER), "obj", "10", tempfile.mkdtemp(), "symbol"], check=True,
                   stdout=subprocess.DEVNULL)
    peer_binary = Path(os.environ.get("CARGO_TARGET_DIR", "/tmp/gimli-peer-target")) / "release" / "gimli-peer"
    with tempfile.TemporaryDirectory() as tmp:
        outs = {"dwarfkit": Path(tmp, "dwarfkit"), "gimli+object": Path(tmp, "gimli")}
        commands = {
            "dwarfkit": [sys.executable, str(HERE / "synth.py"), "obj", str(functions), str(outs["dwarfkit"])],
            "gimli+object": [str(peer_binary), "obj", str(functions), str(outs["gimli+object"]), "symbol"],
        }
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, argv in commands.items():  # alternate the writers: the machine is noisy
                results[name].append(measure(argv))
        print(f"synth-{functions} as a relocatable object, {rounds} rounds, medians:")
        print(f"{'writer':13} {'wall s':>8} {'peak MB':>9} {'object bytes':>13}")
        summary = {}
        for name, runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            peak = statistics.median(r[1] for r in runs)
            size = (outs[name] / "synth.o").stat().st_size
            summary[name] = (wall, peak)
            print(f"{name:13} {wall:8.2f} {peak / 1e6:9.1f} {size:13,}")
        (dw, dp), (gw, gp) = summary["dwarfkit"], summary["gimli+object"]
        print(f"ratio dwarfkit/(gimli+object): wall {dw / gw:.2f}x, peak memory {dp / gp:.2f}x")
        for name, out in outs.items():
            verify = subprocess.run(["llvm-dwarfdump-14", "--verify", str(out / "synth.o")], capture_output=True,
                                    text=True)
            print(f"llvm-dwarfdump-14 --verify {name}: {'no errors' if verify.returncode == 0 else 'ERRORS'}")
        linked = Path(tmp, "synth")
        subprocess.run(["ld.lld-14", "-e", "fn_0", str(outs["dwarfkit"] / "synth.o"), "-o", str(linked)], check=True)
        nm = subprocess.run(["llvm-nm-14", str(linked)], capture_output=True, text=True, check=True).stdout
        fn7 = next(int(line.split()[0], 16) for line in nm.splitlines() if line.endswith(" fn_7"))
        lookup = subprocess.run(["llvm-dwarfdump-14", f"--lookup=0x{fn7:x}", str(linked)], capture_output=True,
                                text=True, check=True).stdout
        found = 'DW_AT_name\t("fn_7")' in lookup and ", line 141," in lookup
        print(f"ld.lld-14 link of dwarfkit's object, --lookup fn_7: {'found, line 141' if found else 'NOT FOUND'}")


if __name__ == "__main__":
    main()
