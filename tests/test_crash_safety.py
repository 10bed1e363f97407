"""Crash safety (README "Crash safety"): fsync order, stale temporaries, the dSYM exchange, executable + dSYM pairs,
the incremental checkpoint's one commit point, the lock, and the incremental writer's placement checks.

Kills at random moments are tools/killtest.py's (test_crash_killtest.py); here each state a kill can leave is made on
purpose, by a real process that dies or by the files it would leave, and the next write or open is checked.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit import Arch
from dwarfkit.backends.coff.incremental import IncrementalImage
from dwarfkit.backends.elf.incremental import IncrementalExecutable
from dwarfkit.backends.macho_dsym import read_macho, write_dsym, write_executable, write_executable_and_dsym
from dwarfkit.backends.macho_dsym.bundle import write_directory_atomic
from dwarfkit.backends.macho_dsym.incremental import IncrementalDsym
from dwarfkit.errors import ContainerError, DescriptionError
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol
from dwarfkit.incremental import Function, IncrementalDwarf, UnitInfo, Variable, journal
from dwarfkit.output import LockedError, locked_temporary, write_atomically
from dwarfkit.reader.verify import verify
from dwarfkit.sections import DwarfSections

ROOT = Path(__file__).resolve().parent.parent
UNIT = UnitInfo("jit.c", "/jit")
TEXT, ARENA = 0x401000, 0x4000


def fn(i: int, line: int = 10, size: int = 32, address: int | None = None) -> Function:
    return Function(f"f{i}", TEXT + 0x100 * i if address is None else address, size, line,
                    ((0, line), (8, line + 1)), (Variable("x", line, "long", -8),))


def create(path: Path, functions: list[Function]) -> IncrementalExecutable:
    return IncrementalExecutable.create(path, UNIT, functions, text_address=TEXT, text_size=ARENA)


def temporaries(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if re.fullmatch(r"\..*\.\d+\.[0-9a-f]{8}\.(tmp|old)", n))


def _die_holding_a_temporary(folder: str, name: str, directory: bool) -> None:
    fd, temp = locked_temporary(Path(folder), name, directory=directory)
    if not directory:
        os.write(fd, b"x" * 100_000)
    os.kill(os.getpid(), signal.SIGKILL)


def dead_writers_temporary(folder: Path, name: str, directory: bool = False) -> None:
    """A real writer process SIGKILLed while it held its temporary."""
    child = multiprocessing.get_context("fork").Process(target=_die_holding_a_temporary,
                                                        args=(str(folder), name, directory))
    child.start()
    child.join()
    assert child.exitcode == -signal.SIGKILL


# -- whole-file writes ----------------------------------------------------------------------------------------------
def test_data_is_fsynced_before_the_rename_and_the_folder_after_it(tmp_path: Path) -> None:
    strace = require_tool("strace")
    target = tmp_path / "out"
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from dwarfkit.output import write_atomically; " \
           f"write_atomically({str(target)!r}, b'new bytes')"
    log = tmp_path / "trace"
    subprocess.run([strace, "-f", "-o", str(log), "-e", "trace=openat,fsync,rename,renameat,renameat2",
                    sys.executable, "-c", code], check=True)
    calls = log.read_text().splitlines()
    temp_fd = next(re.search(r"= (\d+)$", c).group(1) for c in calls if ".out." in c and "O_CREAT" in c)
    rename = next(i for i, c in enumerate(calls) if re.search(r"rename\w*\(.*\.out\..*\.tmp", c))
    fsyncs = [i for i, c in enumerate(calls) if re.search(rf"fsync\({temp_fd}\)", c)]
    assert fsyncs and fsyncs[0] < rename, calls
    folder_fd = next(re.search(r"= (\d+)$", c).group(1) for c in calls[rename:]
                     if f'"{tmp_path}"' in c and "O_DIRECTORY" in c)
    assert any(re.search(rf"fsync\({folder_fd}\)", c) for c in calls[rename:]), calls
    assert target.read_bytes() == b"new bytes"


def test_the_next_write_removes_a_dead_writers_temporary_and_keeps_a_live_ones(tmp_path: Path) -> None:
    dead_writers_temporary(tmp_path, "prog")
    assert len(temporaries(tmp_path)) == 1
    live_fd, live = locked_temporary(tmp_path, "prog")  # a writer of this process, still writing
    (tmp_path / ".prog.notours.tmp").write_bytes(b"a user's file")  # not our name pattern: never touched
    (tmp_path / ".prog2.1.deadbeef.tmp").write_bytes(b"another target's")
    try:
        write_atomically(tmp_path / "prog", b"data")
        assert temporaries(tmp_path) == sorted([live.name, ".prog2.1.deadbeef.tmp"])
        assert (tmp_path / ".prog.notours.tmp").exists()
    finally:
        os.close(live_fd)
    write_atomically(tmp_path / "prog", b"data")
    assert temporaries(tmp_path) == [".prog2.1.deadbeef.tmp"]
    assert (tmp_path / "prog").read_bytes() == b"data"


# -- dSYM bundles and executable + dSYM pairs --------------------------------------------------------------------
def dwarf(functions: list[Function]) -> DwarfSections:
    return IncrementalDwarf(UNIT, functions).dwarf_sections(visible=True)


def macho_image(functions: list[Function], tail: int = 0) -> Image:
    code = b"\xc3" + b"\xcc" * (ARENA - 1 - tail) + b"\x90" * tail
    return Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, code, 16)], [Symbol("main", ".text", 0, 1)],
                 dwarf(functions), entry="main")


def text_of(path: Path) -> int:
    section = read_macho(path).section("__TEXT", "__text")
    assert section is not None
    return section.addr


def test_a_bundle_is_exchanged_never_missing_and_leaves_nothing_behind(tmp_path: Path) -> None:
    bundle = tmp_path / "prog.dSYM"

    def fill(version: int):
        return lambda root: (root / "Contents").mkdir() or (root / "Contents" / "v").write_text(str(version))

    write_directory_atomic(bundle, fill(0))
    dead_writers_temporary(tmp_path, "prog.dSYM", directory=True)  # a killed writer's half-built bundle
    (tmp_path / f".prog.dSYM.{os.getpid() + 1}.0123abcd.old").mkdir()  # and a killed fallback's old bundle
    writer = multiprocessing.get_context("fork").Process(
        target=lambda: [write_directory_atomic(bundle, fill(v)) for v in range(1, 200)])
    writer.start()
    missing = looks = 0
    while writer.is_alive():  # the name: a lookup that walks into the old bundle may see it being deleted
        missing += not os.path.isdir(bundle)
        looks += 1
    writer.join()
    assert looks > 100
    assert writer.exitcode == 0
    assert missing == 0
    assert (bundle / "Contents" / "v").read_text() == "199"
    assert temporaries(tmp_path) == []


def test_a_pair_cut_between_its_writes_is_reported_by_verify_and_repaired_by_the_next(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    write_executable(macho_image([]), probe)
    text = text_of(probe)
    old = [fn(i, address=text + 0x100 * (i + 1)) for i in range(3)]
    new = old + [fn(7, address=text + 0x800)]
    exe = tmp_path / "prog"
    bundle = write_executable_and_dsym(macho_image(old), exe)
    assert bundle == tmp_path / "prog.dSYM" and verify(str(bundle)) == []
    # A crash after the dSYM, before the executable: what write_executable_and_dsym writes first, alone.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    write_executable(macho_image(new, 1), scratch / "prog")
    write_dsym(scratch / "prog", dwarf(new), out_dir=tmp_path)
    cli = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(bundle)], capture_output=True, text=True,
                         cwd=ROOT)
    assert cli.returncode != 0 and "UUID" in cli.stdout + cli.stderr, cli
    write_executable_and_dsym(macho_image(new, 1), exe)
    assert verify(str(bundle)) == []
    assert read_macho(exe).uuid == read_macho(bundle / "Contents/Resources/DWARF/prog").uuid
    assert temporaries(tmp_path) == []



def test_a_pair_without_dwarf_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    image = macho_image([])
    image.dwarf = None
    with pytest.raises(ContainerError, match="no DWARF"):
        write_executable_and_dsym(image, tmp_path / "prog")
    assert list(tmp_path.iterdir()) == []
    write_executable(image, tmp_path / "prog")   # an executable alone needs no DWARF

# -- the incremental checkpoint ----------------------------------------------------------------------------------
def functions_of(writer: IncrementalExecutable) -> dict[str, Function]:
    return {name: placed.fn for name, placed in writer.dwarf.functions.items()}


def test_a_checkpoint_committed_beside_the_old_journal_is_in_force_alone(tmp_path: Path) -> None:
    """The reported failure: a kill during recovery left a new checkpoint beside the old journal, and every later
    open replayed the old operations on it ("no function 'f3'", "already exists; use update")."""
    path = tmp_path / "jit"
    with create(path, [fn(0), fn(1)]) as writer:
        writer.add(fn(3))
        writer.remove("f0")
    old_journal = journal.journal_path(path).read_bytes()
    expected = {f.name: f for f in [fn(1), fn(3)]}
    # The commit of a new checkpoint of the same functions, then the kill: the journal is the old one.
    journal.write_checkpoint(path, UNIT, json.loads(journal.state_path(path).read_text())["container"],
                             list(expected.values()))
    journal.journal_path(path).write_bytes(old_journal)
    with IncrementalExecutable.open(path) as again:
        assert functions_of(again) == expected
        again.add(fn(5))
    with IncrementalExecutable.open(path) as third:
        assert set(functions_of(third)) == {"f1", "f3", "f5"}
        assert not third.rebuilt
    assert verify(str(path)) == []


def test_a_kill_before_the_commit_leaves_the_old_checkpoint_and_its_journal(tmp_path: Path) -> None:
    path = tmp_path / "jit"
    with create(path, [fn(0)]) as writer:
        writer.add(fn(2))
    generation = journal.generation_of(path)
    stray = journal.functions_path(path, generation + 1)
    stray.write_bytes(b'[{"half": ')  # the next checkpoint's functions file, torn: nothing names it yet
    with IncrementalExecutable.open(path) as again:
        assert set(functions_of(again)) == {"f0", "f2"}
    with create(path, [fn(4)]):  # the next checkpoint writes its own in its place, and leaves no other
        pass
    assert journal.generation_of(path) == generation + 1
    assert sorted(tmp_path.glob("jit.functions.*.json")) == [stray]
    assert json.loads(stray.read_text())[0]["name"] == "f4"


def test_a_functions_file_that_is_not_the_committed_one_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "jit"
    create(path, [fn(0)]).close()
    listed = journal.functions_path(path, journal.generation_of(path))
    listed.write_bytes(listed.read_bytes().replace(b'"f0"', b'"g0"'))
    with pytest.raises(ContainerError, match=re.escape(str(listed)) + ".*sha256"):
        IncrementalExecutable.open(path)


@pytest.mark.parametrize("container", ["elf", "pe"])
def test_a_zeroed_debug_info_is_rebuilt_from_the_committed_state(tmp_path: Path, container: str) -> None:
    """As a kill once left a PE image: all of .debug_info zeros, which nothing could open or rebuild."""
    path = tmp_path / "jit"
    if container == "pe":
        kind: type = IncrementalImage
        start = IncrementalImage.text_address()
        writer = IncrementalImage.create(path, UNIT, [fn(0, address=start + 0x100), fn(1, address=start + 0x200)],
                                         code=b"\xc3", text_size=ARENA)
        header = writer.target.sections[".debug_info"]
        offset, size = header.raw_pointer, header.raw_size
    else:
        kind = IncrementalExecutable
        writer = create(path, [fn(0), fn(1)])
        offset, size = writer.target.sections[".debug_info"][1:3]
    writer.close()
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(bytes(size))
    with kind.open(path) as again:
        assert again.rebuilt and set(functions_of(again)) == {"f0", "f1"}
    assert verify(str(path)) == []


# -- the lock ---------------------------------------------------------------------------------------------------------
def _try_open(path: str, queue: multiprocessing.Queue) -> None:
    try:
        IncrementalExecutable.open(path).close()
        queue.put(("opened", ""))
    except LockedError as e:
        queue.put(("locked", str(e)))


def test_a_second_process_is_refused_at_once_naming_the_file_and_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "jit"
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with create(path, [fn(0)]) as writer:
        other = context.Process(target=_try_open, args=(str(path), queue))
        other.start()
        other.join(20)
        kind, message = queue.get(timeout=5)
        assert kind == "locked" and str(path) in message and f"pid {os.getpid()}" in message
        with pytest.raises(LockedError):  # a second open in the same process too
            IncrementalExecutable.open(path)
        writer.add(fn(1))
    other = context.Process(target=_try_open, args=(str(path), queue))
    other.start()
    other.join(20)
    assert queue.get(timeout=5)[0] == "opened"


def test_a_dead_holders_lock_is_free(tmp_path: Path) -> None:
    path = tmp_path / "jit"
    create(path, [fn(0)]).close()
    child = multiprocessing.get_context("fork").Process(
        target=lambda: (IncrementalExecutable.open(path), os.kill(os.getpid(), signal.SIGKILL)))
    child.start()
    child.join()
    assert child.exitcode == -signal.SIGKILL
    with IncrementalExecutable.open(path) as again:
        assert set(functions_of(again)) == {"f0"}


# -- placement checks -------------------------------------------------------------------------------------------------
def test_functions_outside_the_arena_or_overlapping_are_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "jit"
    with pytest.raises(DescriptionError, match=r"function 'f1'.*overlaps function 'f0'"):
        create(path, [fn(0, size=0x120), fn(1)])
    with pytest.raises(DescriptionError, match=r"function 'f9'.*outside the code arena \(\[0x401000, 0x405000\)\)"):
        create(path, [fn(0), fn(9, address=TEXT + ARENA - 16)])
    with create(path, [fn(0), fn(1)]) as writer:
        before = path.read_bytes()
        with pytest.raises(DescriptionError, match=r"function 'f2'.*overlaps function 'f1'"):
            writer.add(fn(2, address=TEXT + 0x110))
        with pytest.raises(DescriptionError, match=r"function 'f0'.*overlaps function 'f1'"):
            writer.update(fn(0, size=0x104))
        with pytest.raises(DescriptionError, match=r"function 'f1'.*overlaps function 'f0'"):
            writer.move("f1", TEXT + 0x10)
        with pytest.raises(DescriptionError, match=r"function 'f1'.*outside the code arena"):
            writer.move("f1", TEXT - 0x100)
        assert path.read_bytes() == before
        writer.move("f1", TEXT + 0x20)  # just after f0 (32 bytes): adjacent is not overlapping
        writer.update(fn(1, size=0x40, address=TEXT + 0x20))
        writer.move("f0", TEXT + ARENA - 32)  # the arena's last bytes
    with IncrementalExecutable.open(path) as again:  # the checks hold after a reopen from the snapshot too
        with pytest.raises(DescriptionError, match=r"function 'f3'.*overlaps function 'f1'"):
            again.add(fn(3, address=TEXT + 0x50))


def test_a_dsym_writer_keeps_functions_in_the_executables_code(tmp_path: Path) -> None:
    exe = tmp_path / "jit"
    write_executable(macho_image([]), exe)
    text = text_of(exe)
    with IncrementalDsym.create(exe, UNIT, [fn(0, address=text + 0x100)]) as writer:
        with pytest.raises(DescriptionError, match=r"function 'f1'.*outside the code arena"):
            writer.add(fn(1, address=text + ARENA + 0x100))
        writer.add(fn(1, address=text + 0x200))
