"""The incremental ELF writer against a from-scratch write of the same program, after every step of random edits.

Judges: llvm-dwarfdump (DIE trees and line rows with offsets and padding taken out, --verify), readelf, pyelftools,
gdb. The from-scratch file is written by DwarfBuilder and the ordinary ELF backend, not by the incremental code.
"""
from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, require_tool
from debuggers import gdb, lldb
from elftools.elf.elffile import ELFFile
from incremental_oracle import assert_lookups, assert_same_program, scratch_executable, verify, views

from dwarfkit.backends.elf.incremental import IncrementalExecutable
from dwarfkit.errors import DescriptionError
from dwarfkit.incremental import Block, Function, UnitInfo, Variable

TEXT = 0x401000
SLOT = 0x100  # every function owns one 256-byte piece of .text
TEXT_SIZE = 64 * SLOT
UNIT = UnitInfo("jit.c", "/jit", "dwarfkit test")


def random_function(rng: random.Random, name: str, slot: int, text: int = TEXT) -> Function:
    size = rng.randrange(4, SLOT + 1, 4)
    line = rng.randrange(1, 5000)
    offsets = sorted(rng.sample(range(0, size, 4), rng.randrange(0, min(40, size // 4) + 1)))
    rows = tuple((o, max(0, line + rng.randrange(-3, 30))) for o in offsets)
    variables = random_variables(rng, line, "v", rng.randrange(0, 7), parameters=True)
    return Function(name, text + SLOT * slot, size, line, rows, variables, random_blocks(rng, line, 0, size, 2))


def random_variables(rng: random.Random, line: int, prefix: str, count: int, parameters: bool = False
                     ) -> tuple[Variable, ...]:
    """Names from a growing pool (``prefix`` + a number up to 10,000), so new strings keep arriving."""
    return tuple(Variable(f"{prefix}{rng.randrange(10_000) if rng.random() < 0.3 else k}",
                          line + rng.randrange(0, 20), rng.choice(("long", "pointer")), -8 * rng.randrange(1, 40),
                          parameter=parameters and rng.random() < 0.4) for k in range(count))


def random_blocks(rng: random.Random, line: int, low: int, high: int, depth: int) -> tuple[Block, ...]:
    """Up to three lexical blocks in ``[low, high)`` (4-byte aligned, apart), each with variables and nested
    blocks down to ``depth`` levels."""
    cuts = sorted(rng.sample(range(low, high + 1, 4), min(rng.randrange(0, 7) // 2 * 2, (high - low) // 4 + 1)))
    blocks = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        if start < end:
            inner = random_blocks(rng, line, start, end, depth - 1) if depth > 1 else ()
            blocks.append(Block(start, end, random_variables(rng, line, f"b{depth}_", rng.randrange(0, 3)), inner))
    return tuple(blocks)


class Script:
    """Random adds, updates, moves, line shifts and removes on the writer, with the same program kept as a model."""

    def __init__(self, rng: random.Random, text: int = TEXT) -> None:
        self.rng = rng
        self.text = text
        self.functions: dict[str, Function] = {}
        self.count = 0

    def free_slot(self) -> int:
        used = {(f.address - self.text) // SLOT for f in self.functions.values()}
        return self.rng.choice([s for s in range(TEXT_SIZE // SLOT) if s not in used])

    def initial(self, n: int) -> list[Function]:
        for _ in range(n):
            self.add_model()
        return list(self.functions.values())

    def add_model(self) -> Function:
        fn = random_function(self.rng, f"fn_{self.count}", self.free_slot(), self.text)
        self.count += 1
        self.functions[fn.name] = fn
        return fn

    def step(self, writer: IncrementalExecutable, kind: str | None = None) -> str:
        rng, fns = self.rng, self.functions
        if kind is None:
            kind = rng.choice(["add", "update", "update", "move", "line", "remove"]) if len(fns) > 2 else "add"
        if kind == "add" and len(fns) < 40:
            writer.add(self.add_model())
            return "add"
        name = rng.choice(sorted(fns))
        old = fns[name]
        if kind in ("add", "update"):
            new = random_function(rng, name, (old.address - self.text) // SLOT, self.text)
            writer.update(new)
        elif kind == "move":
            new = old.moved(self.text + SLOT * self.free_slot())
            writer.move(name, new.address)
        elif kind == "line":
            new = old.shifted(rng.randrange(1, 5000))
            writer.set_line(name, new.line)
        else:
            writer.remove(name)
            del fns[name]
            return "remove"
        fns[name] = new
        return kind


def check_same(incremental: Path, scratch: Path, functions: dict[str, Function], where: str) -> None:
    scratch_executable(scratch, UNIT, list(functions.values()), TEXT, TEXT_SIZE)
    assert_same_program(*views(incremental, scratch), where)


def check_debuggers(path: Path, fresh: Path, functions: dict[str, Function]) -> None:
    """gdb and lldb print the same for our file and for the fresh one (``fresh`` is up to date), no complaints."""
    names = sorted(functions)[:6]
    gdb_commands = ["info functions fn_", *(f"info scope {n}" for n in names),
                    *(f"info line *{functions[n].address + o:#x}" for n in names for o, _ in functions[n].rows[-2:])]
    ours = gdb(path, gdb_commands, before=["set complaints 1000"])
    assert "During symbol reading" not in ours and "warning" not in ours.lower(), ours
    assert ours.replace(str(path), "F") == gdb(fresh, gdb_commands).replace(str(fresh), "F")
    lldb_commands = ["image dump line-table jit.c", *(f"image lookup -v -n {n}" for n in names)]
    ours = lldb(path, lldb_commands)
    assert "warning" not in ours.lower() and "error" not in ours.lower(), ours
    theirs = lldb(fresh, lldb_commands)
    # lldb's DIE ids are offsets in .debug_info; the rest must be equal.
    ids = re.compile(r"id = \{0x[0-9a-f]+\}")
    assert ids.sub("", ours.replace(str(path), "F")) == ids.sub("", theirs.replace(str(fresh), "F"))


def check_tools(path: Path, functions: dict[str, Function], lookups: bool = True) -> None:
    assert verify(path) == ""
    if lookups:
        starts = {f.address for f in functions.values()}
        assert_lookups(path, sorted(functions.values(), key=lambda f: f.name)[:8],
                       [TEXT + SLOT * s for s in range(TEXT_SIZE // SLOT) if TEXT + SLOT * s not in starts][:4])
    run = subprocess.run([require_tool("readelf"), "--debug-dump=info,line,aranges,Ranges,str", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    run = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(path)], capture_output=True, text=True,
                         cwd=REPO)
    assert run.returncode == 0 and "no problems found" in run.stdout, run.stdout + run.stderr
    with open(path, "rb") as f:
        info = ELFFile(f).get_dwarf_info()
        for cu in info.iter_CUs():
            assert cu.get_top_DIE().tag == "DW_TAG_compile_unit"
            names = {die.attributes["DW_AT_name"].value.decode(): die.attributes["DW_AT_low_pc"].value
                     for die in cu.get_top_DIE().iter_children() if die.tag == "DW_TAG_subprogram"}
            assert names == {f.name: f.address for f in functions.values()}
            starts = {e.state.address for e in info.line_program_for_CU(cu).get_entries()
                      if e.state is not None and not e.state.end_sequence}
            assert starts == {f.address + o for f in functions.values() for o, _ in f.rows}
            ranges = info.range_lists().get_range_list_at_offset(cu.get_top_DIE().attributes["DW_AT_ranges"].value,
                                                                 cu)
            spans = {(f.address, f.address + f.size) for f in functions.values()}
            assert {(r.begin_offset, r.end_offset) for r in ranges if r.begin_offset != r.end_offset} == spans
        aranges = info.get_aranges()
        assert {(e.begin_addr, e.begin_addr + e.length) for e in aranges.entries if e.length} == spans
        assert all(aranges.cu_offset_at_addr(f.address + f.size - 1) == 0 for f in functions.values())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_match_a_fresh_write(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    script = Script(rng)
    (tmp_path / "fresh").mkdir()
    path, scratch = tmp_path / "jit", tmp_path / "fresh" / "jit"
    writer = IncrementalExecutable.create(path, UNIT, script.initial(3), text_address=TEXT, text_size=TEXT_SIZE)
    places = {name: writer.target.sections[name][1] for name in writer.dwarf.sections}
    with writer:
        for step in range(60):
            # a run of adds, so that the unit outgrows its room for range entries too
            kind = script.step(writer, "add" if 12 <= step < 36 else None)
            check_same(path, scratch, script.functions, f"seed {seed}, step {step} ({kind})")
            if step % 20 == 19:
                check_tools(path, script.functions, lookups=False)
            if step % 30 == 29:
                check_debuggers(path, scratch, script.functions)
        moved = {name for name, offset in places.items() if writer.target.sections[name][1] != offset}
    check_tools(path, script.functions)
    # Every section the writer grows outgrew its room and moved.
    assert moved == set(places) - {".debug_abbrev", ".debug_loc"}, moved  # (no new abbreviations, no lists)
    # A fresh open (from the snapshot close left) serves the file as it is.
    with IncrementalExecutable.open(path) as again:
        assert (again.restored, again.rebuilt) == ("snapshot", False)
        again.update(random_function(rng, sorted(script.functions)[0], 0).moved(TEXT))
        script.functions[sorted(script.functions)[0]] = again.dwarf.functions[sorted(script.functions)[0]].fn
    check_same(path, scratch, script.functions, "after reopening")


def _changed(before: bytes, after: bytes) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]


def test_line_and_address_changes_touch_only_the_function(tmp_path: Path) -> None:
    """set_line and move encode the function again: only bytes inside its own slots (and its two range entries)
    change, fewer than its slots hold."""
    rng = random.Random(7)
    script = Script(rng)
    fns = script.initial(10)
    path = tmp_path / "jit"
    with IncrementalExecutable.create(path, UNIT, fns, text_address=TEXT, text_size=TEXT_SIZE) as writer:
        fn = next(f for f in fns if f.rows and f.variables and any(b.variables for b in f.blocks))
        placed = writer.dwarf.functions[fn.name]
        own = placed.info[1] + placed.line[1]
        before = path.read_bytes()
        writer.set_line(fn.name, fn.line + 1000)
        after = path.read_bytes()
        assert 0 < writer.bytes_written <= own
        changed = _changed(before, after)
        assert len(after) == len(before) and 0 < len(changed) <= writer.bytes_written
        writer.move(fn.name, TEXT + SLOT * script.free_slot())
        assert writer.dwarf.functions[fn.name].info == placed.info  # the same size: in place
        assert writer.bytes_written <= 2 * own + 16 + 16
        script.functions[fn.name] = fn.shifted(fn.line + 1000).moved(writer.dwarf.functions[fn.name].fn.address)
    check_same(path, tmp_path / "scratch", script.functions, "after set_line and move")


_CRASH = """
import os, sys
sys.path.insert(0, {repo!r})
from dwarfkit.backends.elf.incremental import IncrementalExecutable
from dwarfkit.incremental import Function
writer = IncrementalExecutable.open({path!r})
real = os.pwrite
def dying(fd, data, offset):
    real(fd, data[:len(data) // 2], offset)
    os._exit(3)
os.pwrite = dying
writer.update(Function("fn_0", {address}, 200, 77, ((0, 77), (8, 80)), ()))
"""


def test_an_interrupted_update_is_rebuilt_on_next_open(tmp_path: Path) -> None:
    script = Script(random.Random(11))
    fns = script.initial(8)
    path = tmp_path / "jit"
    IncrementalExecutable.create(path, UNIT, fns, text_address=TEXT, text_size=TEXT_SIZE).close()
    run = subprocess.run(["python3", "-c", _CRASH.format(repo=str(Path(__file__).parent.parent), path=str(path),
                                                         address=fns[0].address)])
    assert run.returncode == 3
    with IncrementalExecutable.open(path) as writer:
        assert writer.rebuilt
    # The interrupted update never happened; the file is the program before it.
    check_same(path, tmp_path / "scratch", script.functions, "after recovery")
    check_tools(path, script.functions)


def test_a_file_changed_behind_the_writers_back_is_rebuilt(tmp_path: Path) -> None:
    script = Script(random.Random(12))
    path = tmp_path / "jit"
    with IncrementalExecutable.create(path, UNIT, script.initial(5), text_address=TEXT, text_size=TEXT_SIZE) as w:
        w.remove("fn_1")
        del script.functions["fn_1"]
        offset = w.target.sections[".debug_info"][1]
    with open(path, "r+b") as f:
        f.seek(offset + 20)
        f.write(b"\xff")
    with IncrementalExecutable.open(path) as writer:
        assert writer.rebuilt
    check_same(path, tmp_path / "scratch", script.functions, "after rebuild")


def test_bad_operations_raise_and_leave_the_file_alone(tmp_path: Path) -> None:
    script = Script(random.Random(13))
    path = tmp_path / "jit"
    with IncrementalExecutable.create(path, UNIT, script.initial(3), text_address=TEXT, text_size=TEXT_SIZE) as w:
        before = path.read_bytes()
        with pytest.raises(DescriptionError, match="no function 'nope'"):
            w.remove("nope")
        with pytest.raises(DescriptionError, match="already exists"):
            w.add(script.functions["fn_0"])
        with pytest.raises(DescriptionError, match="fn_0.*row"):
            w.update(Function("fn_0", TEXT, 16, 3, ((8, 1), (4, 2))))
        with pytest.raises(DescriptionError, match=r"'fn_0', block \[4, 12\), block \[8, 16\): not .*inside \[4, 12\)"):
            w.update(Function("fn_0", TEXT, 16, 3, blocks=(Block(4, 12, blocks=(Block(8, 16),)),)))
        with pytest.raises(DescriptionError, match=r"block \[4, 8\): .*after its sibling"):
            w.update(Function("fn_0", TEXT, 16, 3, blocks=(Block(0, 8), Block(4, 8))))
        with pytest.raises(DescriptionError, match=r"block \[0, 8\), variable 'q': type 'int'"):
            w.add(Function("fn_new", TEXT, 16, 3, blocks=(Block(0, 8, (Variable("q", 3, "int"),)),)))
        assert path.read_bytes() == before
    with IncrementalExecutable.open(path) as again:
        assert not again.rebuilt


def test_gdb_resolves_functions_and_lines_after_edits(tmp_path: Path) -> None:
    rng = random.Random(21)
    script = Script(rng)
    path = tmp_path / "jit"
    with IncrementalExecutable.create(path, UNIT, script.initial(6), text_address=TEXT, text_size=TEXT_SIZE) as w:
        for _ in range(30):
            script.step(w)
    named = [f for f in script.functions.values() if f.rows and f.variables][:4]
    assert named
    commands = []
    for fn in named:
        offset, line = fn.rows[-1]
        commands += [f"info address {fn.name}", f"info line *{fn.address + offset:#x}", f"info scope {fn.name}"]
    starting = [f for f in named if f.rows[0][0] == 0]  # rows from the first instruction: gdb has a line there
    assert starting
    commands += [f"info line {fn.name}" for fn in starting] + [f"break {fn.name}" for fn in starting]
    out = gdb(path, commands, before=["set complaints 1000"])
    assert "warning" not in out.lower() and "during symbol reading" not in out.lower(), out
    for fn in named:
        offset, line = fn.rows[-1]
        assert f'Symbol "{fn.name}" is a function at address {fn.address:#x}.' in out
        assert f'Line {line} of "jit.c" starts at address' in out
        for v in fn.variables:
            assert f"Symbol {v.name} is " in out
    for n, fn in enumerate(starting):
        assert f'Line {fn.rows[0][1]} of "jit.c" starts at address {fn.address:#x} <{fn.name}>' in out
        assert f"Breakpoint {n + 1} at {fn.address:#x}: file jit.c, line {fn.rows[0][1]}." in out
    # A variable of a block is in scope inside the block, and not before it.
    fn, block = next((f, b) for f in script.functions.values() for b in f.blocks
                     if b.low > 0 and {v.name for v in b.variables} - {v.name for v in f.variables})
    inner = sorted({v.name for v in block.variables} - {v.name for v in fn.variables})
    inside = gdb(path, [f"info scope *{fn.address + block.low:#x}"])
    before = gdb(path, [f"info scope *{fn.address:#x}"])
    assert all(f"Symbol {name} is " in inside for name in inner), inside
    assert not any(f"Symbol {name} is " in before for name in inner), before


def test_padding_is_read_silently_by_every_consumer(tmp_path: Path) -> None:
    """Free blocks between, inside and after functions (removed, grown and moved functions)."""
    script = Script(random.Random(41))
    path = tmp_path / "jit"
    with IncrementalExecutable.create(path, UNIT, script.initial(16), text_address=TEXT, text_size=TEXT_SIZE) as w:
        for name in sorted(script.functions)[::2]:
            w.remove(name)
            del script.functions[name]
        for name in sorted(script.functions)[:3]:
            old = script.functions[name]
            grown = Function(name, old.address, SLOT, old.line, tuple((4 * k, old.line + k) for k in range(60)),
                             old.variables + tuple(Variable(f"w{k}", old.line, "long", -8 * k) for k in range(9)))
            w.update(grown)
            script.functions[name] = grown
    check_tools(path, script.functions)
    (tmp_path / "fresh").mkdir()
    fresh = tmp_path / "fresh" / "jit"
    check_same(path, fresh, script.functions, "with padding")
    # The debuggers see the same program in both files, and say nothing about the padding.
    gdb_commands = ["maint expand-symtabs", "info functions fn_", "info scope fn_1", "info line *0x401104"]
    out = gdb(path, gdb_commands, before=["set complaints 1000"])
    assert "During symbol reading" not in out and "warning" not in out.lower(), out
    assert all(f"{fn.line}:\tlong {fn.name}(" in out for fn in script.functions.values()), out
    assert out.replace(str(path), "F") == gdb(fresh, gdb_commands).replace(str(fresh), "F")
    lldb_commands = ["image dump line-table jit.c", *(f"image lookup -n {name}" for name in script.functions)]
    out = lldb(path, lldb_commands)
    assert "warning" not in out.lower() and "error" not in out.lower(), out
    assert all(f"jit`{name}" in out or "Summary: \n" in out for name in script.functions)
    assert out.replace(str(path), "F") == lldb(fresh, lldb_commands).replace(str(fresh), "F")


def test_reopening_with_or_without_the_snapshot_gives_the_same_state(tmp_path: Path) -> None:
    script = Script(random.Random(51))
    path = tmp_path / "jit"
    with IncrementalExecutable.create(path, UNIT, script.initial(6), text_address=TEXT, text_size=TEXT_SIZE) as w:
        for _ in range(20):
            script.step(w)
    snapshot = path.with_name("jit.snapshot")
    assert snapshot.exists()
    with IncrementalExecutable.open(path) as from_snapshot:
        assert (from_snapshot.restored, from_snapshot.rebuilt) == ("snapshot", False)
        for _ in range(10):
            script.step(from_snapshot)
        state = ({n: bytes(d) for n, d in from_snapshot.dwarf.sections.items()},
                 {n: (p.info, p.line) for n, p in from_snapshot.dwarf.functions.items()})
    snapshot.unlink()
    with IncrementalExecutable.open(path) as replayed:  # checkpoint + every journalled operation
        assert (replayed.restored, replayed.rebuilt) == ("journal", False)
        assert state == ({n: bytes(d) for n, d in replayed.dwarf.sections.items()},
                         {n: (p.info, p.line) for n, p in replayed.dwarf.functions.items()})
        for _ in range(5):
            script.step(replayed)
    check_same(path, tmp_path / "scratch", script.functions, "after reopening")
