"""One file owned by an incremental writer across processes: create, reopen (or rebuild), update, close.

A container (ELF executable, dSYM) subclasses :class:`IncrementalFile` with two hooks: ``_build`` writes the whole
file for an :class:`IncrementalDwarf` (atomically), ``_open_target`` opens it for in-place updates and returns a
:class:`FileTarget` (the writer's :class:`Target` plus ``read(section)`` and ``close()``). The container's parameters
are JSON, kept in the checkpoint so that :meth:`IncrementalFile.open` can rebuild the file on its own.

``open`` takes the writer's state from the snapshot ``close`` left (state.py) when it continues the checkpoint and the
journal exactly and the file's debug sections are the bytes it describes; otherwise it replays the journal on the
checkpoint and compares the file with the result. Either way a file that is not what the state says is rebuilt, from
the committed checkpoint and journal alone (journal.py): a kill at any moment, of an update or of this recovery,
leaves a state the next ``open`` completes.

``create`` and ``open`` take the file's lock (:func:`dwarfkit.output.lock_file`, an ``flock`` on ``PATH.lock``) and
``close`` releases it: one process at a time updates a file, the second gets :class:`~dwarfkit.output.LockedError`
naming the file and the holder's pid. A container may name its code arena (``_arena``): every function must lie in
it, and no two functions may overlap (DescriptionError naming the function).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Protocol, TypeVar

from ..errors import ContainerError, DwarfkitError
from ..output import lock_file
from . import journal, state
from .model import Function, UnitInfo
from .writer import IncrementalDwarf, Target

Self = TypeVar("Self", bound="IncrementalFile")


class FileTarget(Target, Protocol):
    def read(self, section: str, size: int | None = None) -> bytes | None:
        """The section's visible bytes, or its first ``size`` bytes (its room may be larger than what is visible)."""

    def close(self) -> None: ...


class IncrementalFile:
    """``add``/``update``/``move``/``set_line``/``remove``, each journalled before the file is touched.

    ``rebuilt`` tells whether :meth:`open` found an interrupted update (or bytes that differ from the state) and
    wrote the whole file again; ``restored`` whether it took the state from the snapshot or from the journal, and
    ``snapshot_problem`` why a snapshot it found was not used (a ContainerError's message, naming the file).
    """

    def __init__(self, path: Path, dwarf: IncrementalDwarf, params: dict[str, Any], done: int, lock: int) -> None:
        self.path = path
        self._lock = lock
        self.dwarf = dwarf
        self.params = params
        self.rebuilt = False
        self.restored = "created"
        self.snapshot_problem: str | None = None
        self._broken = False
        self.target = self._open_target(path, params, {n: len(d) for n, d in dwarf.sections.items()})
        dwarf.target = self.target
        self._journal = journal.Journal(path, done)

    @property
    def durable(self) -> bool:
        """Whether each operation's journal record is fsynced before the operation returns (default True): then an
        update that returned survives a power loss. Without it a power loss may forget the last updates (the file is
        then rebuilt from the state that survived), never mix them up."""
        return self._journal.durable

    @durable.setter
    def durable(self, value: bool) -> None:
        self._journal.durable = value

    # -- container hooks ---------------------------------------------------------------------------------------
    @classmethod
    def _build(cls, path: Path, dwarf: IncrementalDwarf, params: dict[str, Any]) -> None:
        raise NotImplementedError

    @classmethod
    def _open_target(cls, path: Path, params: dict[str, Any], rooms: dict[str, int]) -> FileTarget:
        """``rooms``: how many bytes each section owns in the file (its visible size may be smaller)."""
        raise NotImplementedError

    @classmethod
    def _arena(cls, params: dict[str, Any]) -> tuple[tuple[int, int], ...] | None:
        """The code areas (start, end) the functions must lie in; None: no limit."""
        return None

    # -- files ---------------------------------------------------------------------------------------------------
    @classmethod
    def _create(cls: type[Self], path: Path, unit: UnitInfo, functions: Iterable[Function],
                params: dict[str, Any], lock: int | None = None) -> Self:
        own = lock is None  # from create; open passes the lock it holds (and releases it if this fails)
        if lock is None:
            lock = lock_file(path)
        try:
            functions = list(functions)
            dwarf = IncrementalDwarf(unit, functions, arena=cls._arena(params))
            journal.write_checkpoint(path, unit, params, functions)
            cls._build(path, dwarf, params)  # every section with all its room; then the visible sizes
            writer = cls(path, dwarf, params, 0, lock)
        except BaseException:
            if own:
                os.close(lock)
            raise
        for name, size in dwarf.sizes.items():
            writer.target.resize(name, size)
        return writer

    @classmethod
    def open(cls: type[Self], path: str | os.PathLike[str]) -> Self:
        """Reopens a file made by ``create``; rebuilds it if an update was interrupted or its bytes differ."""
        path = Path(path)
        lock = lock_file(path)
        try:
            return cls._open_locked(path, lock)
        except BaseException:
            os.close(lock)
            raise

    @classmethod
    def _open_locked(cls: type[Self], path: Path, lock: int) -> Self:
        journal.remove_stale_files(path)
        saved = journal.read(path)
        arena = cls._arena(saved.container)
        dwarf, problem = None, None
        if not saved.interrupted and journal.snapshot_path(path).exists():
            try:
                dwarf = state.load(path, saved.unit, saved.checkpoint_digest, saved.journal_digest, len(saved.ops),
                                   lambda rooms: cls._read_rooms(path, saved.container, rooms))
            except ContainerError as e:  # the snapshot is only a cache: the journal says the same, slower
                problem = str(e)
        if dwarf is not None:
            dwarf.arena = arena
            writer = cls(path, dwarf, saved.container, len(saved.ops), lock)
            writer.restored = "snapshot"
            return writer
        dwarf = IncrementalDwarf(saved.unit, saved.functions(), arena=arena)
        for op in saved.ops:
            journal.apply(dwarf, op)
        if not saved.interrupted and cls._matches(path, dwarf, saved.container):
            if not saved.journal_current:  # killed between a checkpoint's commit and its new journal
                journal.start_journal(path, saved.generation)
            writer = cls(path, dwarf, saved.container, len(saved.ops), lock)
        else:
            writer = cls._create(path, saved.unit, [p.fn for p in dwarf.functions.values()], saved.container, lock)
            writer.rebuilt = True
        writer.restored, writer.snapshot_problem = "journal", problem
        return writer

    @classmethod
    def _read_rooms(cls, path: Path, params: dict[str, Any], rooms: dict[str, int]) -> dict[str, tuple[int, bytes]]:
        """Each debug section's visible size and the first ``rooms[name]`` bytes of it, from the file."""
        try:
            target = cls._open_target(path, params, rooms)
        except (OSError, ValueError) as e:
            raise ContainerError(f"{path}: cannot open ({e})") from None
        try:
            found = {}
            for name, room in rooms.items():
                visible = target.read(name)
                if visible is not None:
                    found[name] = (len(visible), visible if len(visible) == room else target.read(name, room) or b"")
            return found
        except (OSError, ValueError) as e:
            raise ContainerError(f"{path}: cannot read its debug sections ({e})") from None
        finally:
            target.close()

    @classmethod
    def _matches(cls, path: Path, dwarf: IncrementalDwarf, params: dict[str, Any]) -> bool:
        """Whether the file's debug sections hold exactly what the replayed state says."""
        try:
            target = cls._open_target(path, params, {n: len(d) for n, d in dwarf.sections.items()})
        except (DwarfkitError, OSError, ValueError):
            return False
        try:
            return all(target.read(name) == dwarf.visible(name) for name in dwarf.sections)
        finally:
            target.close()

    def close(self) -> None:
        """Closes the file and leaves the snapshot of the state for the next open (none after a failed update)."""
        if self._lock < 0:
            return
        try:
            self._journal.close()
            self.target.close()
            if self._broken:
                journal.snapshot_path(self.path).unlink(missing_ok=True)
            else:
                state.save(self.path, self.dwarf, self._journal.done)
        finally:
            os.close(self._lock)  # last: nobody else may touch the files before the snapshot is written
            self._lock = -1

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ----------------------------------------------------------------------------------------------
    def add(self, fn: Function) -> None:
        self._run(["add", fn.to_json()])

    def update(self, fn: Function) -> None:
        """New code size, rows or variables: rewritten in its slots, or moved to free room if it outgrew them."""
        self._run(["update", fn.to_json()])

    def move(self, name: str, address: int) -> None:
        """The function's code moved; its DIEs and rows move with it (two address fields change)."""
        self._run(["move", name, address])

    def set_line(self, name: str, line: int) -> None:
        """The function starts at ``line`` now; every line of it moves by the same amount (fixed-width fields)."""
        self._run(["set_line", name, line])

    def remove(self, name: str) -> None:
        self._run(["remove", name])

    @property
    def bytes_written(self) -> int:
        return self.dwarf.bytes_written

    def _run(self, op: journal.Op) -> None:
        self._journal.begin(op)
        written = self.dwarf.bytes_written
        try:
            journal.apply(self.dwarf, op)
        except DwarfkitError:
            if self.dwarf.bytes_written == written:  # refused before touching the file: nothing to recover
                self._journal.cancel()
            raise
        except OSError as e:  # the operation stays unfinished in the journal: the next open rebuilds the file
            self._broken = True  # and the state in memory is half-updated: no snapshot of it
            raise ContainerError(f"{self.path}: {op[0]} {op[1] if isinstance(op[1], str) else op[1]['name']!r} "
                                 f"failed half-way ({e.strerror or e}); reopen to rebuild the file") from None
        self._journal.finish()
