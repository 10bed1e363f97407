"""What survives the process: a checkpoint of the whole program and a journal of the operations since.

The checkpoint has one commit point, ``<file>.state.json`` (the manifest): it holds the unit, the container's
parameters, the checkpoint's ``generation`` and the sha256 of ``<file>.functions.<generation>.json``, every function
at the last full write. A new checkpoint writes its functions file under the new generation's name, then the manifest
(atomically, fsynced: the commit), then a fresh ``<file>.journal`` whose first line names the generation it continues
(``{"checkpoint": g}``), then removes the other generations' functions files and the snapshot. A kill at any moment
leaves the old checkpoint in force (with its journal and functions file) or the new one: a journal that names another
generation (or none) belongs to an older checkpoint and is ignored, and :func:`read` checks the functions file against
the manifest's sha256.

After the header the journal holds one JSON line per operation started (``{"op": [...]}``) and one per operation
finished (``{"done": n}``) or refused before it changed anything (``{"cancel": 1}``). An operation started and not
finished means the process died while patching the file: the next open rebuilds the file instead of serving it.
Layout is deterministic, so replaying the finished operations on the checkpoint gives the writer exactly the state it
had. ``close`` also leaves ``<file>.snapshot`` (the writer's state, see state.py) so that reopening a large file does
not replay every operation since the checkpoint; it names the manifest and the journal it continues by their sha256.

The output file is never trusted: ``open`` compares its debug sections with the state (session.py) and rebuilds it
from the state when they differ. So the order of writes to the journal and to the file matters only for durability:
the operation record is written before the file is patched, and (``durable``, the default) the journal is fsynced
after the ``done`` record, once per operation, so that an update that returned survives a power loss.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ContainerError
from ..output import fsync_directory, remove_stale, write_atomically
from .model import Function, UnitInfo
from .writer import IncrementalDwarf

Op = list[Any]


def snapshot_path(path: Path) -> Path:
    return path.with_name(path.name + ".snapshot")


def state_path(path: Path) -> Path:
    """The manifest: the checkpoint's one commit point."""
    return path.with_name(path.name + ".state.json")


def journal_path(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


def functions_path(path: Path, generation: int) -> Path:
    return path.with_name(f"{path.name}.functions.{generation}.json")


def _header(generation: int) -> bytes:
    return json.dumps({"checkpoint": generation}).encode() + b"\n"


@dataclass
class Saved:
    unit: UnitInfo
    container: dict[str, Any]
    generation: int
    listed: bytes
    """The functions at the checkpoint, as JSON (decoded by :meth:`functions` only when there is no snapshot)."""
    ops: list[Op] = field(default_factory=list)
    """Finished operations since the checkpoint."""
    interrupted: bool = False
    """An operation was started and never finished."""
    journal_current: bool = True
    """False when the journal belongs to an older checkpoint (a kill right after a commit): it must be started
    again before anything is appended."""
    checkpoint_digest: str = ""
    journal_digest: str = ""
    """sha256 of ``PATH.state.json`` and ``PATH.journal``: a snapshot continues exactly these."""

    def functions(self) -> list[Function]:
        try:
            return [Function.from_json(f) for f in json.loads(self.listed)]
        except (ValueError, KeyError, TypeError) as e:
            raise ContainerError(f"unusable checkpoint ({e})") from None


def generation_of(path: Path) -> int:
    """The generation of the checkpoint in force, or -1 if there is none (or none that can be read)."""
    try:
        found = json.loads(state_path(path).read_bytes()).get("generation", -1)
        return found if type(found) is int else -1
    except (OSError, ValueError, AttributeError):
        return -1


def write_checkpoint(path: Path, unit: UnitInfo, container: dict[str, Any], functions: list[Function]) -> None:
    """A new checkpoint (see the module's docstring for the order of the writes and why)."""
    generation = generation_of(path) + 1
    listed = json.dumps([f.to_json() for f in functions], separators=(",", ":")).encode()
    write_atomically(functions_path(path, generation), listed)
    state = {"generation": generation, "unit": unit.to_json(), "container": container,
             "functions": hashlib.sha256(listed).hexdigest()}
    write_atomically(state_path(path), json.dumps(state, separators=(",", ":")).encode())  # the commit
    start_journal(path, generation)
    snapshot_path(path).unlink(missing_ok=True)
    _remove_other_generations(path, generation)


def start_journal(path: Path, generation: int) -> None:
    write_atomically(journal_path(path), _header(generation))


def _remove_other_generations(path: Path, generation: int) -> None:
    pattern = re.compile(rf"{re.escape(path.name)}\.functions\.(\d+)\.json")
    removed = False
    for entry in os.scandir(path.parent):
        found = pattern.fullmatch(entry.name)
        if found and int(found.group(1)) != generation:
            Path(entry.path).unlink(missing_ok=True)
            removed = True
    if removed:
        fsync_directory(path.parent)


def remove_stale_files(path: Path) -> None:
    """Temporaries that killed writers left of the file and of its state files (the caller holds the file's lock)."""
    names = "|".join(re.escape(path.name + suffix) for suffix in ("", ".state.json", ".journal", ".snapshot"))
    remove_stale(path.parent, rf"{names}|{re.escape(path.name)}\.functions\.\d+\.json", regex=True)


def read(path: Path) -> Saved:
    """The checkpoint in force and the operations finished since. Raises ContainerError if there is no checkpoint
    or its functions file is not the one the manifest names (sha256)."""
    try:
        text = state_path(path).read_bytes()
        state = json.loads(text)
        generation = state["generation"]
        listed = functions_path(path, generation).read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ContainerError(f"{path}: no usable incremental state ({e})") from None
    if hashlib.sha256(listed).hexdigest() != state.get("functions"):
        raise ContainerError(f"{functions_path(path, generation)}: not the functions the checkpoint "
                             f"{state_path(path)} names (sha256 differs)")
    try:
        log = journal_path(path).read_bytes()
    except FileNotFoundError:
        log = b""
    except OSError as e:
        raise ContainerError(f"{journal_path(path)}: cannot read ({e.strerror or e})") from None
    saved = Saved(UnitInfo(**state["unit"]), state["container"], generation, listed,
                  checkpoint_digest=hashlib.sha256(text).hexdigest(), journal_digest=hashlib.sha256(log).hexdigest())
    if not log.startswith(_header(generation)):
        saved.journal_current = False  # an older checkpoint's: none of its operations is part of this one
        return saved
    lines = log[len(_header(generation)):].decode(errors="replace").splitlines()  # a torn last line: interrupted
    pending: Op | None = None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            saved.interrupted = True  # a torn last line
            break
        if "op" in record:
            if pending is not None:
                saved.interrupted = True
            pending = record["op"]
        elif "cancel" in record:
            pending = None
        elif pending is not None and record.get("done") == len(saved.ops):
            saved.ops.append(pending)
            pending = None
    saved.interrupted = saved.interrupted or pending is not None
    return saved


class Journal:
    """Appends operation records; each is written to the operating system before the file is touched, and with
    ``durable`` the journal is fsynced once the operation is done."""

    def __init__(self, path: Path, done: int) -> None:
        self._file = open(journal_path(path), "a", encoding="utf-8")
        self.done = done
        self.durable = True

    def begin(self, op: Op) -> None:
        self._file.write(json.dumps({"op": op}, separators=(",", ":")) + "\n")
        self._file.flush()

    def finish(self) -> None:
        self._file.write(f'{{"done":{self.done}}}\n')
        self._file.flush()
        self.done += 1
        if self.durable:
            os.fsync(self._file.fileno())

    def cancel(self) -> None:
        """The operation begun last was refused before it changed anything."""
        self._file.write('{"cancel":1}\n')
        self._file.flush()

    def sync(self) -> None:
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def apply(dwarf: IncrementalDwarf, op: Op) -> None:
    """Performs one journalled operation."""
    kind = op[0]
    if kind == "add":
        dwarf.add(Function.from_json(op[1]))
    elif kind == "update":
        dwarf.update(Function.from_json(op[1]))
    elif kind == "move":
        dwarf.move(op[1], op[2])
    elif kind == "set_line":
        dwarf.set_line(op[1], op[2])
    elif kind == "remove":
        dwarf.remove(op[1])
    else:
        raise ContainerError(f"journal: unknown operation {kind!r}")
