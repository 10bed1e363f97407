"""Kill test: writers SIGKILLed at random moments, then what is on disk is checked (README "Crash safety").

    python3 tools/killtest.py [--seed N] [--kills N] [--scenarios elf,pe,dsym,pair,inc-elf,inc-dsym,inc-pe] [--dir D]

Each scenario runs its writer in a forked child and kills it after a random delay (uniform over the time a whole run
takes, half of the trials over its second half, where the file is written), ``--kills`` times:

* whole-file writes (``elf``: ELF executable, ``pe``: PE image, ``dsym``: dSYM bundle, ``pair``: Mach-O executable
  and its dSYM through ``write_executable_and_dsym``), alternating between two versions of the program: after each
  kill the target is the old or the new file, byte for byte (sha256 against a from-scratch write of each, which
  ``dwarfkit verify`` accepts); a pair is never a new executable beside an old dSYM, and an old executable beside a
  new dSYM is reported by ``verify`` (UUID). Then a write that is not killed leaves the new file and no temporary;
* incremental updates (``inc-elf``, ``inc-dsym``, ``inc-pe``) of entries of the general model (each function's DIEs
  made with ``Unit.die``: variables, a structure type of its own, a location list): the child opens the file and
  makes 1-6 random
  operations (add, update, move, set_line, remove), durable (journal fsynced per operation) or not, half and half;
  after the kill, the recovery (open + close) is itself killed at a
  random moment with probability 1/2 (up to twice), then an open must succeed and hold the functions as they were
  after some prefix of the child's operations, the file must verify and show the same program as a file created
  from scratch with those functions (DIE subtrees of the functions and line rows, from ``dwarfkit dump --json``),
  and no temporary may remain.

Deterministic with ``--seed`` (the random choices; where a kill lands depends on the machine). Prints per scenario:
``trials``; ``killed`` (the rest finished before the kill came); ``changed`` (the target was already the new file, or
some operations were kept); ``tmp_left`` (a kill left a temporary, which the next write removed); ``flagged`` (a new
dSYM beside the old executable, which verify reported); ``torn`` (a kill left an operation unfinished in the journal,
or a checkpoint without its journal); ``rec_killed`` (recoveries killed); ``rebuilt`` (the final open rebuilt the
file); ``failures``. Exits 1 if any check failed.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dwarfkit import Arch, Expr  # noqa: E402
from dwarfkit.backends.coff import write_pe  # noqa: E402
from dwarfkit.backends.coff.incremental import IncrementalImage  # noqa: E402
from dwarfkit.backends.elf import write_executable as write_elf  # noqa: E402
from dwarfkit.backends.elf.incremental import IncrementalExecutable  # noqa: E402
from dwarfkit.backends.macho_dsym import read_macho, write_dsym, write_executable_and_dsym  # noqa: E402
from dwarfkit.backends.macho_dsym import write_executable as write_macho  # noqa: E402
from dwarfkit.backends.macho_dsym.incremental import IncrementalDsym  # noqa: E402
from dwarfkit.cli import main as dwarfkit_main  # noqa: E402
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol  # noqa: E402
from dwarfkit.incremental import (  # noqa: E402
    Function,
    IncrementalDwarf,
    UnitInfo,
    Variable,
    journal,
)
from dwarfkit.incremental.dies import function_die  # noqa: E402
from dwarfkit.incremental.session import IncrementalFile  # noqa: E402
from dwarfkit.reader.verify import verify  # noqa: E402
from dwarfkit.sections import DwarfSections  # noqa: E402

UNIT = UnitInfo("jit.c", "/jit", "killtest")
SLOT = 0x100
SLOTS = 256
ARENA = SLOT * SLOTS
ELF_TEXT = 0x401000
TEMPORARY = re.compile(r"\..*\.\d+\.[0-9a-f]{8}\.(tmp|old)")


# -- programs ---------------------------------------------------------------------------------------------------
def function(rng: random.Random, name: str, address: int) -> Function:
    line = rng.randrange(1, 5000)
    size = rng.randrange(16, SLOT, 4)
    rows = tuple(sorted({(4 * k, line + k) for k in range(rng.randrange(0, 8)) if 4 * k < size}))
    variables = tuple(Variable(f"v{k}_{rng.randrange(99)}", line + k, rng.choice(["long", "pointer"]), -8 * (k + 1))
                      for k in range(rng.randrange(0, 4)))
    return general(Function(name, address, size, line, rows, variables), rng.randrange(4, size, 4))


_MAKER = IncrementalDwarf(UNIT)  # the unit in which the general model's DIEs are made (as JSON they go anywhere)


def general(fn: Function, split: int) -> Function:
    """``fn`` as an entry of the general model: its DIEs made with ``Unit.die``, with a structure type of its own
    and a variable whose location is a list (two registers, changing at ``split``)."""
    cu, long_t = _MAKER.compile_unit, _MAKER.types["long"]
    die = function_die(cu, _MAKER.types, fn)
    own = die.die("structure_type", name=f"{fn.name}_t", byte_size=8)
    own.die("member", name="m", type=long_t, data_member_location=0)
    die.die("variable", name="record", type=own, location=Expr().fbreg(-64))
    die.die("variable", name="counter", type=long_t, location=_MAKER.builder.location_list(
        [(fn.address, split, Expr().reg(0)), (fn.address + split, fn.size - split, Expr().reg(3))]))
    return _MAKER.entry(die, address=fn.address, size=fn.size, line=fn.line, rows=fn.rows)


def program(seed: int, count: int, base: int) -> list[Function]:
    rng = random.Random(seed)
    return [function(rng, f"fn_{i}", base + SLOT * slot) for i, slot in enumerate(rng.sample(range(SLOTS), count))]


def dwarf_of(functions: list[Function]) -> DwarfSections:
    return IncrementalDwarf(UNIT, functions).dwarf_sections(visible=True)


def image(arch: Arch, functions: list[Function], entry: str = "_start", version: int = 0) -> Image:
    """A code arena (``version`` changes its last bytes, so that two versions differ in code too) and the DWARF."""
    code = ContentSection(".text", SectionKind.CODE, b"\xc3" + b"\xcc" * (ARENA + SLOT - 1 - version)
                          + b"\x90" * version, 16)
    return Image(arch, [code], [Symbol(entry, ".text", 0, 1)], dwarf_of(functions), entry=entry)


def macho_text(exe: Path) -> int:
    """Where the functions go in a Mach-O executable: one slot after the start of its __text."""
    text = read_macho(exe).section("__TEXT", "__text")
    assert text is not None
    return text.addr + SLOT


# -- what is on disk --------------------------------------------------------------------------------------------
def digest(path: Path) -> str | None:
    """sha256 of a file, or of a bundle's files by relative name; None if it does not exist."""
    if path.is_dir():
        h = hashlib.sha256()
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(item.relative_to(path)).encode() + b"\0" + item.read_bytes())
        return h.hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def temporaries(folder: Path) -> list[str]:
    return sorted(e.name for e in os.scandir(folder) if TEMPORARY.fullmatch(e.name))


def dump_json(path: Path) -> dict[str, Any]:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")  # the dump writes to sys.stdout.buffer
    with contextlib.redirect_stdout(out):
        code = dwarfkit_main(["dump", "--json", str(path)])
    out.flush()
    if code != 0:
        raise AssertionError(f"dwarfkit dump --json {path} exited {code}")
    return json.loads(raw.getvalue())


def program_view(path: Path) -> tuple[list[Any], list[Any]]:
    """The functions' DIE subtrees (tags and attribute values, references left out) and the line sequences, sorted:
    what a debugger sees, whatever the layout."""
    data = dump_json(path)
    subtrees: list[Any] = []
    for unit in data["units"]:
        current: list[Any] | None = None
        for die in unit["dies"]:
            if die["depth"] == 1:
                current = [] if die["tag"] == "DW_TAG_subprogram" else None
                if current is not None:
                    subtrees.append(current)
            if current is not None and die["tag"] is not None:
                current.append((die["depth"], die["tag"], tuple((a["name"], _list_value(a)) for a in die["attributes"]
                                                                if not a["form"].startswith("DW_FORM_ref"))))
    sequences: list[Any] = []
    for table in data.get("line_tables", []):
        sequence: list[Any] = []
        for row in table["rows"]:
            sequence.append((row["address"], row["line"], tuple(row["flags"])))
            if "end_sequence" in row["flags"]:
                sequences.append(tuple(sequence))
                sequence = []
    return sorted(map(tuple, subtrees)), sorted(sequences)


def _list_value(attribute: dict[str, Any]) -> Any:
    """A location list's entries without its offset and without entries of empty ranges (padding); other values
    as they are."""
    value = attribute["value"]
    if attribute["form"] != "DW_FORM_sec_offset" or not isinstance(value, str):
        return value
    return [line.strip() for line in value.splitlines()[1:] if not re.match(r"\s*\[(0x[0-9a-f]+), \1\)", line)]


# -- killing ------------------------------------------------------------------------------------------------------
def run_child(work: Callable[[], object], delay: float | None, marked: bool = False) -> tuple[bool, float]:
    """Runs ``work`` in a forked child; kills it ``delay`` seconds after the work starts (None: lets it finish), or
    with ``marked`` after the work calls :func:`mark` (the phase worth hitting begins). Returns whether it was
    killed, and how long it ran (from the start of the work)."""
    ready, started = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready)
        code = 0
        try:
            _MARK[:] = [started]
            os.write(started, b"!")
            work()
        except BaseException as e:  # noqa: BLE001 - reported through the exit status
            print(f"child: {type(e).__name__}: {e}", file=sys.stderr)
            code = 3
        os._exit(code)
    os.close(started)
    os.read(ready, 1)  # the child is running the work: the delay counts from here, not from the fork
    if marked:
        os.read(ready, 1)
    start = time.perf_counter()
    if delay is not None:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(ready)  # after the child: its mark must not hit a closed pipe
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0:
        raise AssertionError(f"the writer failed on its own (exit {os.WEXITSTATUS(status)})")
    return os.WIFSIGNALED(status), time.perf_counter() - start


_MARK: list[int] = []


def mark() -> None:
    """In a child of :func:`run_child`: the moment a marked delay counts from."""
    if _MARK:
        os.write(_MARK[0], b"!")


def timed(work: Callable[[], object]) -> float:
    return run_child(work, None)[1]


def delay_in(rng: random.Random, duration: float) -> float:
    """Anywhere in the run, or (half of the time) in its second half, where the bytes are written."""
    return duration * (rng.uniform(0, 1.05) if rng.random() < 0.5 else rng.uniform(0.5, 1.05))


@dataclass
class Tally:
    trials: int = 0
    killed: int = 0
    changed: int = 0
    """Kills after which the target was already the new version (or a later prefix of operations)."""
    left_temporaries: int = 0
    """Kills that left a temporary behind (removed by the next write, checked)."""
    flagged_pairs: int = 0
    recoveries_killed: int = 0
    torn: int = 0
    """Kills that left an operation unfinished in the journal (or a checkpoint without its journal)."""
    rebuilt: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, text: str) -> None:
        self.failures.append(text)
        print(f"  FAILED: {text}", file=sys.stderr)


# -- whole-file writes --------------------------------------------------------------------------------------------
def whole_file(name: str, folder: Path, rng: random.Random, kills: int, count: int) -> Tally:
    tally = Tally()
    ref = folder / "reference"
    work = folder / "work"
    ref.mkdir()
    work.mkdir()
    versions = [program(1, count, 0), program(2, count + 3, 0)]
    writers = _whole_file_writers(name, versions)
    target = writers[0][1]
    expected = []
    for write, _ in writers:
        expected.append(_digests(name, write(ref), ref))
        for finding_file in _verifiable(name, ref):
            findings = verify(str(finding_file))
            if findings:
                tally.fail(f"{name}: the from-scratch file {finding_file} has findings: {findings[:3]}")
    writers[0][0](work)
    duration = timed(lambda: writers[1][0](work))
    writers[0][0](work)
    current = 0
    for trial in range(kills):
        new = 1 - current
        tally.trials += 1
        killed = run_child(partial(writers[new][0], work), delay_in(rng, duration))[0]
        tally.killed += killed
        duration *= 1.05 if killed else 0.85  # an estimate that was too long: most kills come after the end
        found = _digests(name, work / target, work)
        where = f"{name} trial {trial}"
        if name == "pair":
            exe_d, dsym_d = found
            states = {(expected[current][0], expected[current][1]): "old", (expected[new][0], expected[new][1]): "new",
                      (expected[current][0], expected[new][1]): "dsym-first"}
            state = states.get((exe_d, dsym_d))
            if state is None:
                tally.fail(f"{where}: executable and dSYM are neither old, new nor new dSYM beside old executable")
            elif state == "dsym-first":
                findings = verify(str(work / f"{target}.dSYM"))
                if any("UUID" in f for f in findings):
                    tally.flagged_pairs += 1
                else:
                    tally.fail(f"{where}: verify does not report the mismatched pair: {findings}")
            tally.changed += state == "new"
        elif found not in (expected[current], expected[new]):
            tally.fail(f"{where}: the target is neither the old nor the new file")
        else:
            tally.changed += found == expected[new]
        tally.left_temporaries += bool(temporaries(work))
        writers[new][0](work)
        if _digests(name, work / target, work) != expected[new]:
            tally.fail(f"{where}: the write after the kill did not leave the new file")
        if temporaries(work):
            tally.fail(f"{where}: temporaries remain after the next write: {temporaries(work)}")
        current = new
    return tally


def _whole_file_writers(name: str, versions: list[list[Function]]
                        ) -> list[tuple[Callable[[Path], Path], str]]:
    """(write into a folder -> the written path, the target's name) per version."""
    def elf(functions: list[Function]) -> Callable[[Path], Path]:
        moved = [f.moved(ELF_TEXT + SLOT + f.address) for f in functions]
        return lambda d: (write_elf(image(Arch.X86_64, moved), d / "prog", addresses={".text": ELF_TEXT}),
                          d / "prog")[1]

    def pe(functions: list[Function]) -> Callable[[Path], Path]:
        base = IncrementalImage.text_address() + SLOT
        moved = [f.moved(base + f.address) for f in functions]
        return lambda d: (write_pe(image(Arch.X86_64, moved, "main"), d / "prog.exe"), d / "prog.exe")[1]

    def dsym(functions: list[Function]) -> Callable[[Path], Path]:
        def write(d: Path) -> Path:
            exe = d / "prog"
            if not exe.exists():
                write_macho(image(Arch.X86_64, [], "main"), exe)
            text = macho_text(exe)
            return write_dsym(exe, dwarf_of([f.moved(text + f.address) for f in functions]))
        return write

    def pair(functions: list[Function]) -> Callable[[Path], Path]:
        version = versions.index(functions) + 1  # new code: a new UUID (the same code keeps its UUID)

        def write(d: Path) -> Path:
            probe = d / ".probe"  # where __text starts does not depend on the DWARF: learn it once
            if not probe.exists():
                write_macho(image(Arch.X86_64, [], "main"), probe)
            text = macho_text(probe)
            write_executable_and_dsym(image(Arch.X86_64, [f.moved(text + f.address) for f in functions], "main",
                                            version), d / "prog")
            return d / "prog"
        return write

    make = {"elf": (elf, "prog"), "pe": (pe, "prog.exe"), "dsym": (dsym, "prog.dSYM"), "pair": (pair, "prog")}[name]
    return [(make[0](v), make[1]) for v in versions]


def _digests(name: str, path: Path, folder: Path) -> Any:
    if name == "pair":
        return digest(folder / "prog"), digest(folder / "prog.dSYM")
    return digest(path)


def _verifiable(name: str, folder: Path) -> list[Path]:
    return {"elf": [folder / "prog"], "pe": [folder / "prog.exe"], "dsym": [folder / "prog.dSYM"],
            "pair": [folder / "prog.dSYM"]}[name]


# -- incremental updates ------------------------------------------------------------------------------------------
@dataclass
class Incremental:
    kind: type[IncrementalFile]
    create: Callable[[Path, list[Function]], IncrementalFile]
    base: int
    path: Path


def incremental_setup(name: str, folder: Path) -> Incremental:
    if name == "inc-elf":
        return Incremental(IncrementalExecutable, lambda p, fns: IncrementalExecutable.create(
            p, UNIT, fns, text_address=ELF_TEXT, text_size=ARENA + SLOT), ELF_TEXT + SLOT, folder / "jit")
    if name == "inc-pe":
        return Incremental(IncrementalImage, lambda p, fns: IncrementalImage.create(
            p, UNIT, fns, code=b"\xc3", text_size=ARENA + SLOT), IncrementalImage.text_address() + SLOT,
            folder / "jit.exe")
    exe = folder / "jit"
    write_macho(image(Arch.X86_64, [], "main"), exe)
    return Incremental(IncrementalDsym, lambda p, fns: IncrementalDsym.create(exe, UNIT, fns, out_dir=p.parent),
                       macho_text(exe), folder / "jit.dSYM")


def operations(rng: random.Random, model: dict[str, Function], base: int, serial: list[int]
               ) -> tuple[list[tuple[Any, ...]], list[dict[str, Function]]]:
    """1-6 random operations on ``model`` and the model after each prefix of them."""
    states = [dict(model)]
    ops: list[tuple[Any, ...]] = []
    current = dict(model)
    for _ in range(rng.randrange(1, 7)):
        used = {(f.address - base) // SLOT for f in current.values()}
        free = [s for s in range(SLOTS) if s not in used]
        kind = rng.choice(["add", "update", "move", "set_line", "remove"] if current and free else ["add"])
        if kind == "add":
            serial[0] += 1
            fn = function(rng, f"fn_{serial[0]}", base + SLOT * rng.choice(free))
            ops.append(("add", fn))
            current[fn.name] = fn
        else:
            name = rng.choice(sorted(current))
            old = current[name]
            if kind == "update":
                fn = function(rng, name, old.address)
                ops.append(("update", fn))
                current[name] = fn
            elif kind == "move":
                address = base + SLOT * rng.choice(free)
                ops.append(("move", name, address))
                current[name] = old.moved(address)
            elif kind == "set_line":
                line = rng.randrange(1, 5000)
                ops.append(("set_line", name, line))
                current[name] = old.shifted(line)
            else:
                ops.append(("remove", name))
                del current[name]
        states.append(dict(current))
    return ops, states


def apply_all(kind: type[IncrementalFile], path: Path, ops: list[tuple[Any, ...]], durable: bool = True) -> None:
    with kind.open(path) as writer:
        writer.durable = durable
        mark()
        for op in ops:
            getattr(writer, op[0])(*op[1:])


def incremental(name: str, folder: Path, rng: random.Random, kills: int, count: int) -> Tally:
    tally = Tally()
    setup = incremental_setup(name, folder)
    serial = [count]
    model = {f.name: f for f in program(3, count, setup.base)}
    setup.create(setup.path, list(model.values())).close()
    scratch = folder / "scratch"
    scratch.mkdir()
    duration = timed(lambda: apply_all(setup.kind, setup.path, []))  # an open and a close
    ops: list[tuple[Any, ...]] = []
    while len(ops) < 6:
        more, states = operations(random.Random(len(ops)), model, setup.base, serial)
        ops += more
        model = states[-1]
    per_op = max(0.0, timed(lambda: apply_all(setup.kind, setup.path, ops)) - duration) / len(ops)
    scale = 1.0
    for trial in range(kills):
        where = f"{name} trial {trial}"
        tally.trials += 1
        ops, states = operations(rng, model, setup.base, serial)
        # Anywhere, or (half of the time) while the operations patch the file and the journal.
        within = rng.random() < 0.5
        delay = scale * rng.uniform(0, per_op * len(ops) + (0 if within else duration))
        durable = rng.random() < 0.5  # both modes; without the fsync a kill lands mid-operation more often
        killed = run_child(partial(apply_all, setup.kind, setup.path, ops, durable), delay, marked=within)[0]
        tally.killed += killed
        scale *= 1.05 if killed else 0.85  # the estimates were too long: most kills came after the end
        saved = journal.read(setup.path)
        tally.torn += saved.interrupted or not saved.journal_current
        for _ in range(2):
            if rng.random() < 0.5:
                tally.recoveries_killed += run_child(lambda: apply_all(setup.kind, setup.path, []),
                                                     rng.uniform(0, 2 * duration))[0]
        try:
            writer = setup.kind.open(setup.path)
        except Exception as e:  # noqa: BLE001 - the point is that this never happens
            tally.fail(f"{where}: open after the kill failed: {type(e).__name__}: {e}")
            return tally
        found = {n: p.fn for n, p in writer.dwarf.functions.items()}
        tally.rebuilt += writer.rebuilt
        writer.close()
        prefix = next((i for i in range(len(states) - 1, -1, -1) if states[i] == found), None)
        if prefix is None:
            tally.fail(f"{where}: the reopened functions are no prefix of the {len(ops)} operations")
            return tally
        tally.changed += prefix > 0
        model = found
        if temporaries(folder):
            tally.fail(f"{where}: temporaries remain after the next open: {temporaries(folder)}")
        if trial % 5 == 0 or trial == kills - 1:
            _check_program(setup, scratch, list(found.values()), where, tally)
    return tally


def _check_program(setup: Incremental, scratch: Path, functions: list[Function], where: str, tally: Tally) -> None:
    findings = verify(str(setup.path))
    if findings:
        tally.fail(f"{where}: verify reports {findings[:3]}")
    fresh = scratch / setup.path.name
    setup.create(fresh, functions).close()
    if program_view(setup.path) != program_view(fresh):
        tally.fail(f"{where}: the file does not show the program a from-scratch write of its functions shows")


# -- main -----------------------------------------------------------------------------------------------------------
SCENARIOS = ["elf", "pe", "dsym", "pair", "inc-elf", "inc-dsym", "inc-pe"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=100, help="kills per scenario (default 100)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--functions", type=int, default=40, help="functions in each program (default 40)")
    parser.add_argument("--dir", help="work folder (default: a new temporary one)")
    args = parser.parse_args(argv)
    names = args.scenarios.split(",")
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {SCENARIOS}")
    root = Path(args.dir or tempfile.mkdtemp(prefix="killtest."))
    failed = 0
    print(f"seed {args.seed}, {args.kills} kills per scenario, {args.functions} functions, in {root}")
    print(f"{'scenario':10} {'trials':>6} {'killed':>6} {'changed':>7} {'tmp_left':>8} {'flagged':>7} "
          f"{'torn':>5} {'rec_killed':>10} {'rebuilt':>7} {'failures':>8} {'seconds':>7}")
    for index, name in enumerate(names):
        folder = root / name
        folder.mkdir(parents=True)
        rng = random.Random(args.seed * 1000 + index)
        start = time.perf_counter()
        run = incremental if name.startswith("inc-") else whole_file
        tally = run(name, folder, rng, args.kills, args.functions)
        print(f"{name:10} {tally.trials:6} {tally.killed:6} {tally.changed:7} {tally.left_temporaries:8} "
              f"{tally.flagged_pairs:7} {tally.torn:5} {tally.recoveries_killed:10} {tally.rebuilt:7} "
              f"{len(tally.failures):8} "
              f"{time.perf_counter() - start:7.1f}", flush=True)
        failed += len(tally.failures)
    print("FAILED" if failed else "all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
