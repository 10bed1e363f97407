"""What survives the process: a checkpoint of the whole program and a journal of the operations since.

``<file>.state.json`` holds the unit and the container's parameters, ``<file>.functions.json`` every function at the
last full write, ``<file>.journal`` one JSON line per operation started (``{"op": [...]}``) and one per operation
finished (``{"done": n}``) or refused before it changed anything (``{"cancel": 1}``). An operation started and not
finished means the process died while patching the file: the next open rebuilds the file instead of serving it.
Layout is deterministic, so replaying the finished operations on the checkpoint gives the writer exactly the state it
had. ``close`` also leaves ``<file>.snapshot`` (the writer's state, see state.py) so that reopening a large file does
not replay every operation since the checkpoint; it names the checkpoint and the journal it continues by their sha256.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ContainerError
from ..output import write_atomically
from .model import Function, UnitInfo
from .writer import IncrementalDwarf

Op = list[Any]


def snapshot_path(path: Path) -> Path:
    return path.with_name(path.name + ".snapshot")


def state_path(path: Path) -> Path:
    return path.with_name(path.name + ".state.json")


def journal_path(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


@dataclass
class Saved:
    unit: UnitInfo
    container: dict[str, Any]
    checkpoint: Path
    """The functions at the checkpoint (read by :meth:`functions` only when there is no snapshot)."""
    ops: list[Op] = field(default_factory=list)
    """Finished operations since the checkpoint."""
    interrupted: bool = False
    """An operation was started and never finished."""
    checkpoint_digest: str = ""
    journal_digest: str = ""
    """sha256 of ``PATH.state.json`` and ``PATH.journal``: a snapshot continues exactly these."""

    def functions(self) -> list[Function]:
        try:
            return [Function.from_json(f) for f in json.loads(self.checkpoint.read_text())]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ContainerError(f"{self.checkpoint}: unusable checkpoint ({e})") from None


def functions_path(path: Path) -> Path:
    return path.with_name(path.name + ".functions.json")


def write_checkpoint(path: Path, unit: UnitInfo, container: dict[str, Any], functions: list[Function]) -> None:
    """The functions go to a file of their own: an open with a snapshot does not need to decode them. Their sha256 is
    in ``PATH.state.json``, so that the checkpoint's identity is the digest of that one small file."""
    listed = json.dumps([f.to_json() for f in functions], separators=(",", ":")).encode()
    write_atomically(functions_path(path), listed)
    state = {"unit": unit.to_json(), "container": container, "functions": hashlib.sha256(listed).hexdigest()}
    write_atomically(state_path(path), json.dumps(state, separators=(",", ":")).encode())
    write_atomically(journal_path(path), b"")
    snapshot_path(path).unlink(missing_ok=True)


def read(path: Path) -> Saved:
    try:
        text = state_path(path).read_bytes()
        log = journal_path(path).read_bytes()
        state = json.loads(text)
        lines = log.decode(errors="replace").splitlines()  # a torn last line is an interrupted operation
    except (OSError, ValueError) as e:
        raise ContainerError(f"{path}: no usable incremental state ({e})") from None
    saved = Saved(UnitInfo(**state["unit"]), state["container"], functions_path(path),
                  checkpoint_digest=hashlib.sha256(text).hexdigest(), journal_digest=hashlib.sha256(log).hexdigest())
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
    """Appends operation records; each is flushed to the operating system before the file is touched."""

    def __init__(self, path: Path, done: int) -> None:
        self._file = open(journal_path(path), "a", encoding="utf-8")
        self.done = done

    def begin(self, op: Op) -> None:
        self._file.write(json.dumps({"op": op}, separators=(",", ":")) + "\n")
        self._file.flush()

    def finish(self) -> None:
        self._file.write(f'{{"done":{self.done}}}\n')
        self._file.flush()
        self.done += 1

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
