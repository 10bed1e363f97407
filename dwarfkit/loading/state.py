"""What one load shares between its modules: the file, the reader's view of it, the options, the DIEs by offset."""
from __future__ import annotations

import sys
from typing import Any, Callable

from ..info.die import Die
from ..info.unit import Unit
from ..reader.debugfile import DebugFile
from ..reader.units import DwarfContext


class LoadState:
    """The state of one load (:class:`~.dies.FileLoader` fills it; the value, list, line and frame loaders read
    it)."""

    def __init__(self, df: DebugFile, options: Any) -> None:
        self.df = df
        self.options = options
        self.ctx = DwarfContext(df)
        self.dies: dict[str, dict[int, Die]] = {}
        """section -> offset -> the DIE made for it."""
        self.type_units: dict[int, Unit] = {}
        self.made: dict[int, list[Die | None]] = {}
        """id(model unit) -> its DIEs by the reader's index (NULL entries None), until pass two is done."""
        self.models: dict[int, Unit] = {}
        """id(reader unit) -> its model unit."""
        self.file_maps: dict[int, dict[int, int]] = {}
        """id(model unit) -> new file numbers, when a conversion renumbers the unit's file table."""
        self.renames: dict[int, Any] = {}
        """id(reader unit) -> the GNU <-> DWARF 5 renames (:mod:`.gnu`) of a unit converted across DWARF 5."""
        self.values: Any = None
        """The :class:`~.values.ValueLoader` of pass two (lists decode their expressions with it)."""
        self.progress: Callable[[str, int, int], None] | None = options.progress
        if self.progress is None and sys.stderr.isatty():
            self.progress = _stderr_progress

    def report(self, what: str, done: int, total: int) -> None:
        if self.progress is not None and total > 20:
            self.progress(what, done, total)


def _stderr_progress(what: str, done: int, total: int) -> None:
    end = "\n" if done == total else ""
    print(f"\r{what}: {done}/{total}", end=end, file=sys.stderr, flush=True)
