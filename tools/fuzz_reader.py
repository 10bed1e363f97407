#!/usr/bin/env python3
"""Structure-aware fuzzer for dwarfkit's readers: hostile files must give findings or one clear error line, in
bounded time and memory, never a traceback.

Seeds are the real compiler output in the shared corpus (ELF, Mach-O, COFF; objects and executables). Each case
takes one seed, applies one structure-aware mutation (`fuzz_mutations.MUTATIONS`: unit and line-program headers,
abbreviation codes and forms, attribute values by form, LEB128 runs, relocations, section headers, truncation,
appended synthetic units, compressed sections) and runs the reader modes of `MODES` on the result, each through
``dwarfkit.cli.main`` in a forked child (imports are paid once, in this process), stdout to /dev/null, under a
timeout, with its peak RSS measured by ``os.wait4``. Every run is classified:

  ok         exit 0
  finding    exit 1 with only ``dwarfkit: ...`` lines on stderr (dump) or findings on stdout (verify)
  clear      exit 2 with exactly one stderr line, starting ``dwarfkit: error:``
  TRACEBACK  an uncaught exception
  HANG       more than the timeout of CPU time, or no exit within 3 times the timeout of wall time (then the
             child's process group is killed)
  MEMORY     peak RSS above the limit (default 1 GiB), or MemoryError
  UNCLEAR    anything else (other exit codes, extra stderr lines, death by a signal); for ``load`` and
             ``convert`` also an error line that names no place (section and offset, DIE path), and for
             ``convert`` an OUT (or temporary file) left after a failure, or an OUT that does not load again

Failing inputs are saved to --save-dir with a note (case, mutation, command, stderr) for reproduction; a case is
deterministic for a given --seed and case number (``--first N --cases 1`` reruns case N). A new reader entry point
is one more entry in MODES: ``load`` runs ``dwarfkit.load`` and ``emit`` on the file, ``convert`` the command
``dwarfkit convert FILE OUT`` (neither is in the default ``rotate`` choice: ``--modes load,convert``).

    python3 tools/fuzz_reader.py --cases 10000 --seed 1 --save-dir /tmp/fuzz-failures
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from fuzz_mutations import mutate  # noqa: E402
from fuzz_structs import Seed, load_seed  # noqa: E402

SKIP_SUFFIXES = {".c", ".h", ".md", ".tsv", ".sh", ".plist", ".txt"}
CLASSES = ["ok", "finding", "clear", "TRACEBACK", "HANG", "MEMORY", "UNCLEAR"]
BAD = {"TRACEBACK", "HANG", "MEMORY", "UNCLEAR"}
RC_TRACEBACK, RC_MEMORY, RC_PARTIAL = 70, 71, 72
# What a clear error of ``load``/``convert`` must name: a section and offset (``.debug_info[0x2e]``, ``section
# .debug_line offset 0x10``), a DIE path (``cu "a.c" / subprogram "f"``) or a container structure and where it is.
PLACE = re.compile(r"\[0x[0-9a-f]+\]|\b(at|offset) (0x[0-9a-f]+|\d+)|\b(cu|tu|pu) [\"0-9]| / |"
                   r"\b(header|relocation|symbol|load command) \d+|\(magic [0-9a-f]*\)|\barchitecture \w+")
WALL_FACTOR = 3


def _cli(argv: list[str]) -> int:
    from dwarfkit.cli import main
    return main(argv)


def _load(argv: list[str]) -> int:
    """``dwarfkit.load`` and ``emit`` of the model, reported as the command line reports errors."""
    import dwarfkit
    from dwarfkit.errors import DwarfkitError
    try:
        dwarfkit.load(argv[0], progress=lambda *_: None).emit()
    except DwarfkitError as e:
        print(f"dwarfkit: error: {e}", file=sys.stderr)
        return 2
    return 0


def _convert(argv: list[str]) -> int:
    """``dwarfkit convert IN OUT``, then OUT checked: after exit 0 it must load again (its DWARF is readable);
    after any other exit it must not exist, nor any temporary file next to it."""
    out = Path(argv[2])
    rc = _cli(argv)
    left = sorted(p.name for p in out.parent.iterdir() if p.name.endswith(".tmp") or p == out)
    if rc != 0:
        if left:
            print(f"fuzz_reader: exit {rc} left {left} behind", file=sys.stderr)
            return RC_PARTIAL
        return rc
    import dwarfkit
    from dwarfkit.errors import DwarfkitError
    if left != [out.name]:
        print(f"fuzz_reader: exit 0 left {left}", file=sys.stderr)
        return RC_PARTIAL
    try:
        dwarfkit.load(out, progress=lambda *_: None)
    except DwarfkitError as e:
        print(f"fuzz_reader: OUT does not load: {e}", file=sys.stderr)
        return RC_PARTIAL
    return 0


@dataclass(frozen=True)
class Mode:
    """One way of reading a file: the arguments for ``entry`` given the file and an address inside it."""
    name: str
    args: Callable[[str, int], list[str]]
    entry: Callable[[list[str]], int] = _cli


MODES: dict[str, Mode] = {m.name: m for m in [
    Mode("dump", lambda p, a: ["dump", p]),
    Mode("dump-v", lambda p, a: ["dump", "-v", p]),
    Mode("json", lambda p, a: ["dump", "--json", p]),
    Mode("show-form", lambda p, a: ["dump", "--show-form", p]),
    Mode("lookup", lambda p, a: ["dump", "--lookup", hex(a), "--summary", p]),
    Mode("verify", lambda p, a: ["verify", p]),
    Mode("load", lambda p, a: [p], _load),
    Mode("convert", lambda p, a: ["convert", p, str(Path(p).with_name("out" + Path(p).suffix))], _convert),
]}
DUMP_MODES = ["dump", "dump-v", "json", "show-form", "lookup"]


@dataclass
class Run:
    mode: str
    cls: str
    rc: int
    seconds: float
    rss: int  # bytes
    stderr: str


@dataclass
class Summary:
    cases: int = 0
    runs: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {c: 0 for c in CLASSES})
    peak_rss: int = 0
    peak_case: str = ""
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    """The ``dwarfkit: error:`` lines of clear exits, numbers and the file name masked, for auditing wording."""

    @property
    def bad(self) -> int:
        return sum(self.counts[c] for c in BAD)

    def text(self) -> str:
        counts = ", ".join(f"{c} {n}" for c, n in self.counts.items())
        return (f"{self.cases} cases, {self.runs} runs in {self.seconds:.0f} s: {counts}; "
                f"peak RSS {self.peak_rss / (1 << 20):.0f} MiB ({self.peak_case})")


def find_seeds(corpus: Path, max_size: int) -> list[str]:
    out = []
    for p in sorted(corpus.rglob("*")):
        if p.is_file() and p.suffix not in SKIP_SUFFIXES and p.name not in ("LICENSE",) and \
                p.stat().st_size <= max_size:
            out.append(str(p))
    return out


def _preload() -> None:
    """Import everything a reader run touches, so that forked children start warm."""
    import dwarfkit.cli
    dwarfkit.cli._load_commands()
    import dwarfkit.loading.convert  # noqa: F401
    import dwarfkit.reader.json_dump  # noqa: F401
    import dwarfkit.reader.query  # noqa: F401
    import dwarfkit.reader.verify  # noqa: F401
    from dwarfkit.backends.coff import rewrite as _coff  # noqa: F401
    from dwarfkit.backends.elf import rewrite as _elf  # noqa: F401
    from dwarfkit.backends.macho_dsym import rewrite as _macho  # noqa: F401
    try:
        import capstone  # noqa: F401
    except ImportError:
        pass


class _Timeout(Exception):
    pass


def _on_alarm(_signum, _frame):
    raise _Timeout


def run_one(mode: Mode, path: str, address: int, timeout: float, memory_limit: int, err_path: str) -> Run:
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        rc = RC_TRACEBACK
        try:
            os.setpgid(0, 0)
            # A hard ceiling well above the limit we flag, so that a runaway child cannot take the machine down.
            cap = 3 * memory_limit
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            null = os.open(os.devnull, os.O_WRONLY)
            err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(null, 1)
            os.dup2(err, 2)
            # Python-level streams onto the fds (under pytest, sys.stderr is a capture object, not fd 2)
            sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
            sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            try:
                rc = mode.entry(mode.args(path, address))
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 2
            except MemoryError:
                rc = RC_MEMORY
            except BaseException:  # noqa: BLE001 - this is what we are looking for
                traceback.print_exc()
                rc = RC_TRACEBACK
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(rc if isinstance(rc, int) else RC_TRACEBACK)
    old = signal.signal(signal.SIGALRM, _on_alarm)
    hung = False
    # The machine may be shared: a run is killed after WALL_FACTOR times the timeout of wall time, and counts as
    # a hang when killed or when it used more than the timeout of CPU time.
    signal.setitimer(signal.ITIMER_REAL, WALL_FACTOR * timeout)
    try:
        _, status, usage = os.wait4(pid, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        hung = True
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status, usage = os.wait4(pid, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    try:  # workers of a parallel dump sit in the same process group
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    seconds = time.monotonic() - start
    cpu = usage.ru_utime + usage.ru_stime
    hung = hung or cpu > timeout
    rss = usage.ru_maxrss * 1024
    with open(err_path, "rb") as f:
        stderr = f.read(1 << 16).decode("utf-8", "replace")
    rc = os.waitstatus_to_exitcode(status)
    return Run(mode.name, classify(mode.name, rc, stderr, hung, rss, memory_limit), rc, seconds, rss, stderr)


def classify(mode: str, rc: int, stderr: str, hung: bool, rss: int, memory_limit: int) -> str:
    if hung:
        return "HANG"
    if rc == RC_MEMORY or rss > memory_limit or "MemoryError" in stderr:
        return "MEMORY"
    if rc == RC_TRACEBACK or "Traceback (most recent call last)" in stderr:
        return "TRACEBACK"
    lines = stderr.splitlines()
    if rc == 0:
        return "ok" if all(line.startswith("dwarfkit: ") for line in lines) else "UNCLEAR"
    if rc == 1:
        return "finding" if all(line.startswith("dwarfkit: ") for line in lines) else "UNCLEAR"
    if rc == 2:
        if len(lines) != 1 or not lines[0].startswith("dwarfkit: error:"):
            return "UNCLEAR"
        if mode in ("load", "convert") and not PLACE.search(lines[0]):
            return "UNCLEAR"   # the error must say where
        return "clear"
    return "UNCLEAR"


def modes_for(case: int, choice: str) -> list[Mode]:
    """``rotate``: verify and two dump modes, rotating so that every mode runs on a fifth of the cases (as the
    issue's 3 runs per case); ``all``; or a comma-separated list of mode names."""
    if choice == "all":
        return list(MODES.values())
    if choice == "rotate":
        return [MODES["verify"], MODES[DUMP_MODES[case % 5]], MODES[DUMP_MODES[(case + 2) % 5]]]
    return [MODES[n] for n in choice.split(",")]


def fuzz(seeds: list[Seed], cases: int, seed: int, *, first: int = 0, modes: str = "rotate", timeout: float = 10.0,
         memory_limit: int = 1 << 30, save_dir: Path | None = None, progress: bool = False,
         time_budget: float | None = None) -> Summary:
    summary = Summary()
    start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="dwarfkit-fuzz-"))
    err_path = str(work / "stderr")
    try:
        for case in range(first, first + cases):
            if time_budget is not None and time.monotonic() - start > time_budget:
                break
            rng = random.Random(f"{seed}-{case}")
            s = rng.choice(seeds)
            data, what = mutate(s, rng)
            suffix = Path(s.path).suffix
            path = str(work / f"case{suffix}")
            Path(path).write_bytes(data)
            address = rng.choice(s.addresses) if s.addresses and rng.random() < 0.8 else rng.getrandbits(32)
            summary.cases += 1
            for mode in modes_for(case, modes):
                for p in work.iterdir():   # a converted file of the last run, or what a killed run left
                    if p.name not in (Path(path).name, "stderr"):
                        shutil.rmtree(p) if p.is_dir() else p.unlink()
                run = run_one(mode, path, address, timeout, memory_limit, err_path)
                summary.runs += 1
                summary.counts[run.cls] += 1
                if run.rss > summary.peak_rss:
                    summary.peak_rss, summary.peak_case = run.rss, f"case {case} {mode.name}"
                if run.cls == "clear":
                    message = run.stderr.strip().replace(path, "FILE")
                    summary.errors[re.sub(r"0x[0-9a-f]+|\d+", "N", message)] += 1
                if run.cls in BAD:
                    note = (f"{run.cls}: case {case} (seed {seed}) {mode.name} on {s.path}: {what}; exit {run.rc}, "
                            f"{run.seconds:.1f} s, {run.rss >> 20} MiB")
                    summary.failures.append(note)
                    print(note, file=sys.stderr)
                    if save_dir is not None:
                        _save(save_dir, case, run, data, suffix, note, mode.args(f"case{case}{suffix}", address))
            if progress and (case - first + 1) % 250 == 0:
                summary.seconds = time.monotonic() - start
                print(f"[{case - first + 1}] {summary.text()}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work)
    summary.seconds = time.monotonic() - start
    return summary


def _save(save_dir: Path, case: int, run: Run, data: bytes, suffix: str, note: str, argv: list[str]) -> None:
    save_dir.mkdir(parents=True, exist_ok=True)
    target = save_dir / f"case{case}{suffix}"
    if not target.exists():
        target.write_bytes(data)
    with open(save_dir / f"case{case}.txt", "a") as f:
        command = (f"python3 -c 'import dwarfkit; dwarfkit.load(\"{argv[0]}\").emit()'" if run.mode == "load" else
                   f"python3 -m dwarfkit {' '.join(argv)}")
        f.write(f"{note}\ncommand: {command}\n{run.stderr[-4000:]}\n\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = Path(os.environ.get("DWARFKIT_SHARED", HERE.parent.parent.parent / "shared"))
    if not (shared / "corpus").is_dir():
        shared = Path("/work/shared")
    p.add_argument("--corpus", type=Path, default=shared / "corpus")
    p.add_argument("--cases", type=int, default=1000)
    p.add_argument("--first", type=int, default=0, help="number of the first case (to rerun one case)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--modes", default="rotate", help=f"rotate, all, or some of {','.join(MODES)}")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds of CPU time per run (3 times as many of wall "
                   "time)")
    p.add_argument("--memory-limit", type=int, default=1 << 30, help="bytes of peak RSS flagged as MEMORY")
    p.add_argument("--max-seed-size", type=int, default=256 << 10, help="skip larger corpus files")
    p.add_argument("--save-dir", type=Path, help="where failing inputs and notes go")
    p.add_argument("--time-budget", type=float, help="stop starting cases after this many seconds")
    p.add_argument("--show-errors", action="store_true", help="list the distinct error lines of clear exits")
    args = p.parse_args(argv)
    _preload()
    seeds = []
    for path in find_seeds(args.corpus, args.max_seed_size):
        try:
            seeds.append(load_seed(path))
        except Exception as e:  # noqa: BLE001 - a seed we cannot take apart is skipped, not fatal
            print(f"fuzz_reader: skipping seed {path}: {type(e).__name__}: {e}", file=sys.stderr)
    print(f"fuzz_reader: {len(seeds)} seeds from {args.corpus}", file=sys.stderr)
    summary = fuzz(seeds, args.cases, args.seed, first=args.first, modes=args.modes, timeout=args.timeout,
                   memory_limit=args.memory_limit, save_dir=args.save_dir, progress=True,
                   time_budget=args.time_budget)
    if args.show_errors:
        for message, n in summary.errors.most_common():
            print(f"{n:6}  {message}")
    print(summary.text())
    return 1 if summary.bad else 0


if __name__ == "__main__":
    sys.exit(main())
