"""The state an incremental writer keeps between processes (``PATH.snapshot``, dwarfkit/incremental/state.py).

A writer closed and reopened must go on exactly as one that never stopped: the judge is a second writer given the
same operations without closing, whose file must be byte for byte the same (and llvm-dwarfdump --verify clean). A
snapshot that is damaged, stale, from another file, or well-formed but hostile is refused with a ContainerError naming
it, and ``open`` falls back to replaying the journal: no traceback, no damaged file.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import shutil
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from incremental_oracle import scratch_dwarf, verify, views
from macho_tools import dsym_dwarf_file
from test_incremental_dsym import executable
from test_incremental_elf import TEXT, TEXT_SIZE, UNIT, Script
from test_incremental_pe import TEXT as PE_TEXT
from test_incremental_pe import create as create_pe

from dwarfkit.backends.coff.incremental import IncrementalImage
from dwarfkit.backends.elf.incremental import IncrementalExecutable
from dwarfkit.backends.macho_dsym import write_dsym
from dwarfkit.backends.macho_dsym.incremental import IncrementalDsym
from dwarfkit.errors import ContainerError
from dwarfkit.incremental import journal, state
from dwarfkit.incremental.session import IncrementalFile
from dwarfkit.incremental.writer import INFO, LINE, STR, IncrementalDwarf


class Elf:
    def setup(self, folder: Path) -> int:
        folder.mkdir()
        return TEXT

    def create(self, folder: Path, functions: list) -> IncrementalFile:
        return IncrementalExecutable.create(folder / "jit", UNIT, functions, text_address=TEXT, text_size=TEXT_SIZE)

    def open(self, path: Path) -> IncrementalFile:
        return IncrementalExecutable.open(path)

    def dwarf_file(self, path: Path) -> Path:
        return path

    def offset(self, writer: IncrementalFile, section: str) -> int:
        """Where the section starts in :meth:`dwarf_file`."""
        return writer.target.sections[section][1]


class Dsym(Elf):
    def setup(self, folder: Path) -> int:
        folder.mkdir()
        return executable(folder)[1]

    def create(self, folder: Path, functions: list) -> IncrementalFile:
        return IncrementalDsym.create(folder / "jit", UNIT, functions)

    def open(self, path: Path) -> IncrementalFile:
        return IncrementalDsym.open(path)

    def dwarf_file(self, path: Path) -> Path:
        return dsym_dwarf_file(path)

    def offset(self, writer: IncrementalFile, section: str) -> int:
        return writer.target.sections[section][0]


class Pe(Elf):
    def setup(self, folder: Path) -> int:
        folder.mkdir()
        return PE_TEXT

    def create(self, folder: Path, functions: list) -> IncrementalFile:
        return create_pe(folder / "jit.exe", functions)

    def open(self, path: Path) -> IncrementalFile:
        return IncrementalImage.open(path)

    def offset(self, writer: IncrementalFile, section: str) -> int:
        return writer.target.sections[section].raw_pointer


CONTAINERS = pytest.mark.parametrize("container", [Elf(), Dsym(), Pe()], ids=["elf", "dsym", "pe"])


def state_of(dwarf: IncrementalDwarf) -> dict:
    """Everything the writer keeps, as comparable values (the dataclasses compare by field; the address index is a
    cache made when first needed; the shared tables by the bytes they give)."""
    state = {name: value for name, value in vars(dwarf).items()
             if name not in ("target", "_program", "_by_address", "_dies", "_refs")}
    state["_dies"] = (dwarf._dies.head, dwarf._dies.abbrev_section(), dwarf._dies.strings.bytes_from(0))
    return state


@CONTAINERS
def test_a_reopened_writer_goes_on_byte_for_byte_like_one_that_never_stopped(tmp_path: Path, container: Elf) -> None:
    base = container.setup(tmp_path / "a")
    container.setup(tmp_path / "b")
    one, two = Script(random.Random(5), base), Script(random.Random(5), base)
    reopened = container.create(tmp_path / "a", one.initial(6))
    steady = container.create(tmp_path / "b", two.initial(6))
    rooms = set()
    for _ in range(3):
        for _ in range(15):
            one.step(reopened)
            two.step(steady)
        reopened.close()
        reopened = container.open(reopened.path)
        assert (reopened.restored, reopened.rebuilt, reopened.snapshot_problem) == ("snapshot", False, None)
        assert state_of(reopened.dwarf) == state_of(steady.dwarf)
        rooms.add(tuple(len(d) for d in steady.dwarf.sections.values()))
    for _ in range(15):
        one.step(reopened)
        two.step(steady)
    reopened.close()
    steady.close()
    assert len(rooms) > 1, "no section grew: the script does not test a snapshot after a section moved"
    ours, theirs = container.dwarf_file(reopened.path), container.dwarf_file(steady.path)
    assert ours.read_bytes() == theirs.read_bytes()
    assert verify(ours) == ""
    # Without the snapshot, the journal replayed on the checkpoint gives the same state.
    journal.snapshot_path(reopened.path).unlink()
    with container.open(reopened.path) as replayed:
        assert (replayed.restored, replayed.rebuilt, replayed.snapshot_problem) == ("journal", False, None)
        assert state_of(replayed.dwarf) == state_of(steady.dwarf)


# -- damaged snapshots ------------------------------------------------------------------------------------------------
def _rewrite(snapshot: Path, header_edit: Callable[[dict], object] | None = None, text: bytes | None = None,
             blobs: bytes | None = None) -> None:
    """Re-packs a snapshot with a changed header (or packed arrays) and a correct checksum: damage that only a reader
    that checks the content (not the checksum) can see."""
    data = snapshot.read_bytes()
    payload = data[state._HEAD.size:]
    size, = struct.unpack_from("<I", payload)
    header = json.loads(payload[4:4 + size])
    if header_edit is not None:
        header_edit(header)
    text = text if text is not None else json.dumps(header).encode()
    payload = struct.pack("<I", len(text)) + text + (payload[4 + size:] if blobs is None else blobs)
    snapshot.write_bytes(state._HEAD.pack(state.MAGIC, state.VERSION, len(payload), hashlib.sha256(payload).digest())
                         + payload)


def _save_changed(path: Path, change: Callable[[IncrementalDwarf], object]) -> None:
    """A well-formed snapshot (right checksum, journal, checkpoint and section digests) of a changed state."""
    writer = IncrementalExecutable.open(path)
    writer.close()
    change(writer.dwarf)
    state.save(path, writer.dwarf, len(journal.read(path).ops))


def _first(dwarf: IncrementalDwarf):
    return next(iter(dwarf.functions.values()))


def _second(dwarf: IncrementalDwarf):
    return list(dwarf.functions.values())[1]


class Evil:
    """A pickle that would leave a file behind if anything unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _flip(at: Callable[[int], int]) -> Callable[[Path, Path], None]:
    def damage(snapshot: Path, tmp: Path) -> None:
        data = bytearray(snapshot.read_bytes())
        data[at(len(data))] ^= 0x40
        snapshot.write_bytes(data)
    return damage


def _another_file(snapshot: Path, tmp: Path) -> None:
    script = Script(random.Random(99))
    other = tmp / "other"
    other.mkdir()
    IncrementalExecutable.create(other / "jit", UNIT, script.initial(5), text_address=TEXT,
                                 text_size=TEXT_SIZE).close()
    shutil.copy(other / "jit.snapshot", snapshot)


def _in_header(edit: Callable[[dict], object]) -> Callable[[Path, Path], None]:
    return lambda snapshot, tmp: _rewrite(snapshot, edit)


def _state_change(change: Callable[[IncrementalDwarf], object]) -> Callable[[Path, Path], None]:
    return lambda snapshot, tmp: _save_changed(snapshot.with_name("jit"), change)


def _set(obj: object, **values: object) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


DAMAGE: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "truncated": (lambda s, t: s.write_bytes(s.read_bytes()[:len(s.read_bytes()) // 2]), "header says"),
    "truncated head": (lambda s, t: s.write_bytes(s.read_bytes()[:20]), "truncated"),
    "empty": (lambda s, t: s.write_bytes(b""), "truncated"),
    "flipped payload byte": (_flip(lambda n: n // 2), "checksum"),
    "flipped magic": (_flip(lambda n: 0), "magic"),
    "other version": (lambda s, t: s.write_bytes(s.read_bytes()[:8] + struct.pack("<I", 99) + s.read_bytes()[12:]),
                      "format version 99"),
    "pickle": (lambda s, t: s.write_bytes(pickle.dumps(Evil(t / "unpickled"))), "magic"),
    "another file": (_another_file, "another checkpoint"),
    "header not json": (lambda s, t: _rewrite(s, text=b"{not json"), "malformed"),
    "deep nesting": (lambda s, t: _rewrite(s, text=b"[" * 100_000 + b"]" * 100_000), "malformed"),
    "unknown class": (_in_header(lambda h: h["state"]["functions"][3].__setitem__(1, "Popen")), "functions"),
    "field added to a class": (_in_header(lambda h: h["state"]["functions"][3][2].append("extra")), "functions"),
    "writer field missing": (_in_header(lambda h: h["state"].pop("sizes")), "fields"),
    "wrong type": (_in_header(lambda h: h["state"].__setitem__("bytes_written", ["str", ["x"], 0])),
                   "bytes_written"),
    "blob out of place": (_in_header(lambda h: h["blobs"][0].__setitem__(1, 1 << 40)), "out of place"),
    "blob of other length": (_in_header(lambda h: h["blobs"][0].__setitem__(2, h["blobs"][0][2] + 1)), "holds"),
    "slot outside the section": (_state_change(lambda d: _set(_first(d), info=(len(d.sections[INFO]) + 64, 64))),
                                 "overlap or leave a gap"),
    "slot past the room": (_state_change(lambda d: _set(d._line_space, end=len(d.sections[LINE]) + 2)),
                           "outside the section"),
    "overlapping slots": (_state_change(lambda d: _set(_second(d), info=_first(d).info)), "overlap"),
    "free block over a slot": (_state_change(lambda d: d._info_space.release(*_first(d).info)), "overlap"),
    "filed under another name": (_state_change(lambda d: _set(_first(d), fn=replace(_first(d).fn, name="other"))),
                                 "another name"),
    "range index used twice": (_state_change(lambda d: _set(_second(d), entry=_first(d).entry)), "each of"),
    "range index past the tables": (_state_change(lambda d: _set(_first(d), entry=1 << 20)), "each of"),
    "free range indices not a heap": (_state_change(lambda d: d._free_entries.reverse()), "heap"),
    "strings cut short": (_state_change(lambda d: d.sizes.__setitem__(STR, d.sizes[STR] - 2)),
                          ".debug_str is not the one it describes"),
    "visible size beyond the room": (_state_change(lambda d: d.sizes.__setitem__(LINE, len(d.sections[LINE]) + 2)),
                                     "not the one it describes"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_bad_snapshot_is_refused_and_the_journal_replayed(tmp_path: Path, damage: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = Script(random.Random(8)), Script(random.Random(8))
    path = tmp_path / "a" / "jit"
    with IncrementalExecutable.create(path, UNIT, one.initial(5), text_address=TEXT, text_size=TEXT_SIZE) as w:
        for _ in range(12):
            one.step(w)
    steady = IncrementalExecutable.create(tmp_path / "b" / "jit", UNIT, two.initial(5), text_address=TEXT,
                                          text_size=TEXT_SIZE)
    for _ in range(12):
        two.step(steady)
    snapshot = journal.snapshot_path(path)
    harm, reason = DAMAGE[damage]
    harm(snapshot, tmp_path)
    saved = journal.read(path)
    with pytest.raises(ContainerError) as refused:
        state.load(path, saved.unit, saved.checkpoint_digest, saved.journal_digest, len(saved.ops),
                   lambda rooms: IncrementalExecutable._read_rooms(path, saved.container, rooms))
    assert str(refused.value).startswith(f"{snapshot}: ") and reason in str(refused.value), str(refused.value)
    with IncrementalExecutable.open(path) as writer:
        assert (writer.restored, writer.rebuilt) == ("journal", False)
        assert writer.snapshot_problem == str(refused.value)
        assert state_of(writer.dwarf) == state_of(steady.dwarf)
        for _ in range(10):
            one.step(writer)
            two.step(steady)
    steady.close()
    assert path.read_bytes() == steady.path.read_bytes()
    assert not (tmp_path / "unpickled").exists()
    with IncrementalExecutable.open(path) as again:  # and the snapshot it left is good again
        assert again.restored == "snapshot"


@CONTAINERS
@pytest.mark.parametrize("section", [INFO, LINE])
def test_a_snapshot_claiming_more_room_than_the_file_gives_is_refused(tmp_path: Path, container: Elf,
                                                                      section: str) -> None:
    """Consistent in itself (free room at the end of the section, digests of the bytes the file has there), but
    the room would run into what follows the section in the file. (Room that only takes unused padding, such as
    the rest of a Mach-O page before __LINKEDIT, harms nothing and is not refused.)"""
    script = Script(random.Random(16), container.setup(tmp_path / "a"))
    with container.create(tmp_path / "a", script.initial(5)) as writer:
        offset = container.offset(writer, section)
    dwarf, end = writer.dwarf, offset + len(writer.dwarf.sections[section])
    extra = container.dwarf_file(writer.path).read_bytes()[end:]  # up to the end of the file
    extra = extra[:len(extra) // 2 * 2]
    dwarf.sections[section] += extra
    room = dwarf._space(section)
    room.grow(room.end + len(extra))
    state.check_layout(dwarf)  # nothing wrong as far as the state alone can tell
    state.save(writer.path, dwarf, 0)
    before = container.dwarf_file(writer.path).read_bytes()
    with container.open(writer.path) as again:
        assert (again.restored, again.rebuilt) == ("journal", False)
        assert again.snapshot_problem.startswith(f"{journal.snapshot_path(writer.path)}: ")
        assert "its rooms do not fit the output file" in again.snapshot_problem
    assert container.dwarf_file(writer.path).read_bytes() == before


def test_new_writer_state_is_carried_and_a_changed_writer_refuses_old_snapshots(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script(random.Random(17))
    path = tmp_path / "jit"
    original = IncrementalDwarf.__init__

    def with_more_state(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        self.generations = {"info": (1, [2, 3], True)}
        self.note = None

    monkeypatch.setattr(IncrementalDwarf, "__init__", with_more_state)
    with IncrementalExecutable.create(path, UNIT, script.initial(4), text_address=TEXT, text_size=TEXT_SIZE) as w:
        w.dwarf.generations["line"] = (-5, [], False)
        w.dwarf.note = "kept"
    again = IncrementalExecutable.open(path)
    assert again.restored == "snapshot"
    assert again.dwarf.generations == {"info": (1, [2, 3], True), "line": (-5, [], False)}
    assert again.dwarf.note == "kept"
    again.dwarf.note = object()  # a programming error, said at close (the snapshot of the last close stays valid)
    with pytest.raises(TypeError, match="no snapshot column for builtins.object"):
        again.close()
    monkeypatch.undo()  # the writer as it is: the snapshot has fields it does not know
    with IncrementalExecutable.open(path) as plain:
        assert plain.restored == "journal" and "fields" in plain.snapshot_problem


def test_a_stale_snapshot_is_refused(tmp_path: Path) -> None:
    script = Script(random.Random(9))
    path = tmp_path / "jit"
    with IncrementalExecutable.create(path, UNIT, script.initial(5), text_address=TEXT, text_size=TEXT_SIZE) as w:
        script.step(w)
    old = path.with_name("old.snapshot")
    shutil.copy(journal.snapshot_path(path), old)
    with IncrementalExecutable.open(path) as w:
        for _ in range(5):
            script.step(w)
        expected = state_of(w.dwarf)
    shutil.copy(old, journal.snapshot_path(path))
    with IncrementalExecutable.open(path) as writer:
        assert (writer.restored, writer.rebuilt) == ("journal", False)
        assert "stale" in writer.snapshot_problem and str(journal.snapshot_path(path)) in writer.snapshot_problem
        assert state_of(writer.dwarf) == expected
    # A process that dies between updates (no close) leaves the snapshot of its open behind: stale too.
    writer = IncrementalExecutable.open(path)
    assert writer.restored == "snapshot"
    script.step(writer)
    expected = state_of(writer.dwarf)
    writer._journal.close()
    writer.target.close()
    os.close(writer._lock)  # its death releases the lock
    with IncrementalExecutable.open(path) as again:
        assert (again.restored, again.rebuilt) == ("journal", False) and "stale" in again.snapshot_problem
        assert state_of(again.dwarf) == expected


def test_a_file_changed_after_close_is_rebuilt_not_served_from_the_snapshot(tmp_path: Path) -> None:
    script = Script(random.Random(10))
    path = tmp_path / "jit"
    with IncrementalExecutable.create(path, UNIT, script.initial(5), text_address=TEXT, text_size=TEXT_SIZE) as w:
        offset = w.target.sections[".debug_info"][1]
    with open(path, "r+b") as f:
        f.seek(offset + 40)
        f.write(b"\xff")
    with IncrementalExecutable.open(path) as writer:
        assert (writer.restored, writer.rebuilt) == ("journal", True)
        assert "not the one it describes" in writer.snapshot_problem
    assert verify(path) == ""


_CRASH = """
import os, sys
sys.path.insert(0, {repo!r})
from dwarfkit.backends.macho_dsym.incremental import IncrementalDsym
from dwarfkit.incremental import Function
writer = IncrementalDsym.open({path!r})
assert writer.restored == "snapshot"
real = os.pwrite
def dying(fd, data, offset):
    real(fd, data[:len(data) // 2], offset)
    os._exit(3)
os.pwrite = dying
writer.update(Function({name!r}, {address}, 200, 77, ((0, 77), (8, 80)), ()))
"""


def test_a_dsym_update_interrupted_after_a_reopen_is_rebuilt(tmp_path: Path) -> None:
    exe, base = executable(tmp_path)
    script = Script(random.Random(14), base)
    with IncrementalDsym.create(exe, UNIT, script.initial(6)) as writer:
        for _ in range(10):
            script.step(writer)
    fn = script.functions[sorted(script.functions)[0]]
    run = subprocess.run([sys.executable, "-c", _CRASH.format(repo=str(Path(__file__).parent.parent),
                                                              path=str(writer.path), name=fn.name,
                                                              address=fn.address)])
    assert run.returncode == 3
    with IncrementalDsym.open(writer.path) as again:
        assert (again.restored, again.rebuilt) == ("journal", True)
    (tmp_path / "fresh").mkdir()
    write_dsym(exe, scratch_dwarf(UNIT, list(script.functions.values())), out_dir=tmp_path / "fresh")
    ours, theirs = views(dsym_dwarf_file(writer.path), dsym_dwarf_file(tmp_path / "fresh" / "jit.dSYM"))
    assert ours == theirs
    assert verify(dsym_dwarf_file(writer.path)) == ""


class _Failing:
    """A target whose writes fail as a full disk would."""

    def __init__(self, real) -> None:
        self.real = real

    def write(self, section: str, offset: int, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    def __getattr__(self, name: str):
        return getattr(self.real, name)


def test_no_snapshot_of_a_half_done_update(tmp_path: Path) -> None:
    script = Script(random.Random(15))
    path = tmp_path / "jit"
    IncrementalExecutable.create(path, UNIT, script.initial(5), text_address=TEXT, text_size=TEXT_SIZE).close()
    assert journal.snapshot_path(path).exists()
    with IncrementalExecutable.open(path) as w:
        w.dwarf.target = _Failing(w.target)
        with pytest.raises(ContainerError, match="failed half-way"):
            w.set_line("fn_0", 4000)
    assert not journal.snapshot_path(path).exists()
    with IncrementalExecutable.open(path) as writer:
        assert (writer.restored, writer.rebuilt) == ("journal", True)
    assert verify(path) == ""


@pytest.fixture(scope="module")
def closed_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A file with a snapshot (and the snapshot's bytes), for mutations."""
    path = tmp_path_factory.mktemp("mutated") / "jit"
    script = Script(random.Random(18))
    with IncrementalExecutable.create(path, UNIT, script.initial(6), text_address=TEXT, text_size=TEXT_SIZE) as w:
        for _ in range(15):
            script.step(w)
    return path, journal.snapshot_path(path).read_bytes()


def _walk_ints(value: object, found: list) -> None:
    """Every (container, key) of an int in a JSON value."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if type(item) is int:
            found.append((value, key))
        _walk_ints(item, found)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_snapshots_with_good_checksums_load_or_are_refused_never_crash(closed_file, data) -> None:
    """Bytes of the packed arrays and numbers of the header changed, the checksum made right again: the reader
    either accepts a state that passes every check or raises ContainerError, and open never fails."""
    path, original = closed_file
    snapshot = journal.snapshot_path(path)
    snapshot.write_bytes(original)
    payload = original[state._HEAD.size:]
    size, = struct.unpack_from("<I", payload)
    blobs = bytearray(payload[4 + size:])
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(blobs) - 1))
        blobs[at] ^= data.draw(st.integers(1, 255))
    numbers: list = []

    def edit(header: dict) -> None:
        _walk_ints(header, numbers)
        for _ in range(data.draw(st.integers(0 if blobs != payload[4 + size:] else 1, 3))):
            container, key = numbers[data.draw(st.integers(0, len(numbers) - 1))]
            container[key] = data.draw(st.sampled_from([-1, 0, 1, 2, 7, 1 << 20, 1 << 64, container[key] + 1]))

    _rewrite(snapshot, edit, blobs=bytes(blobs))
    saved = journal.read(path)
    try:
        state.load(path, saved.unit, saved.checkpoint_digest, saved.journal_digest, len(saved.ops),
                   lambda rooms: IncrementalExecutable._read_rooms(path, saved.container, rooms))
    except ContainerError as e:
        assert str(e).startswith(f"{snapshot}: ")
    writer = IncrementalExecutable.open(path)
    assert not writer.rebuilt
    writer._journal.close()  # no close(): the next example starts from the same files
    writer.target.close()
    os.close(writer._lock)
