"""A dSYM whose DWARF is updated one function at a time (:class:`IncrementalDsym`), for an existing executable.

The whole file is written by :func:`write_dsym`. Updates are ``os.pwrite`` into the ``__DWARF`` sections of the
bundle's DWARF file. A section that outgrows its room goes through :meth:`DsymFile.grow_section` (the seed's
``growSection``: it stays within its slack or moves to free space, and ``__LINKEDIT`` follows the end of the
``__DWARF`` pieces); then the header and load commands, the section and the symbol and string tables are written at
their new places.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Iterable

from dwarfkit.errors import ContainerError
from dwarfkit.incremental.model import Function, UnitInfo
from dwarfkit.incremental.session import IncrementalFile
from dwarfkit.incremental.writer import IncrementalDwarf

from . import constants as C
from .dsym import DsymFile, write_dsym
from .layout import Piece
from .names import elf_section_name
from .reader import read_macho


def dwarf_file(bundle: Path) -> Path:
    return bundle / "Contents" / "Resources" / "DWARF" / bundle.name.removesuffix(".dSYM")


class DsymSections:
    """The ``__DWARF`` sections of an open dSYM DWARF file, with the layout that places them when they grow."""

    def __init__(self, path: Path, executable: Path, rooms: dict[str, int]) -> None:
        self.path = path
        dsym = read_macho(path)
        exe = read_macho(executable)
        if dsym.uuid != exe.uuid or exe.uuid is None:
            raise ContainerError(f"{path}: its UUID is not the one of {executable}")
        self.fd = os.open(path, os.O_RDWR)
        self.sections = {elf_section_name(s.sectname): [s.offset, s.size] for s in dsym.sections
                         if s.segname == "__DWARF"}
        debug = {name: os.pread(self.fd, size, offset) for name, (offset, size) in self.sections.items()}
        # The layout as the file has it now (a section may have moved since the file was first written).
        self.layout = DsymFile(exe, exe.uuid, debug)
        for name, (offset, size) in self.sections.items():
            self.layout.dwarf_space.pieces[name] = Piece(offset, max(size, rooms.get(name, size)), 1)
        self.layout._place_linkedit()
        self._check_rooms(dsym.command(C.LC_SYMTAB), rooms)
        self._set_sizes()

    def _check_rooms(self, symtab: Any, rooms: dict[str, int]) -> None:
        """Each section written in place owns its room: the rooms do not overlap and leave the symbol table where
        the file has it."""
        pieces = sorted((p.offset, p.offset + p.size, n) for n, p in self.layout.dwarf_space.pieces.items())
        clash = next((f"{n} and {m} overlap"
                      for (_, end, n), (start, _, m) in itertools.pairwise(pieces) if end > start), None)
        if symtab is None or (symtab.symoff, symtab.stroff) != (self.layout.symtab.symoff, self.layout.symtab.stroff):
            clash = "the __DWARF rooms run into the symbol table"
        if clash is not None:
            os.close(self.fd)
            raise ContainerError(f"{self.path}: no room for the debug sections ({rooms}): {clash}")

    def read(self, section: str, size: int | None = None) -> bytes | None:
        if section not in self.sections:
            return None
        offset, visible = self.sections[section]
        return os.pread(self.fd, visible if size is None else size, offset)

    def write(self, section: str, offset: int, data: bytes) -> None:
        start = self.sections[section][0]
        room = self.layout.dwarf_space.pieces[section].size
        assert offset + len(data) <= room, (section, offset, len(data), room)
        os.pwrite(self.fd, data, start + offset)

    def resize(self, section: str, size: int) -> None:
        """The section's visible size (the room after it stays reserved in the __DWARF segment)."""
        if self.sections[section][1] != size:
            self.sections[section][1] = size
            self._set_sizes()
            self._write_commands()

    def _set_sizes(self) -> None:
        for header, name in zip(self.layout.dwarf.sections, self.layout.debug, strict=True):
            header.size = self.sections[name][1]

    def _write_commands(self) -> None:
        layout = self.layout
        os.pwrite(self.fd, layout.header.encode() + b"".join(c.encode() for c in layout.commands), 0)

    def replace(self, section: str, data: bytes) -> None:
        layout = self.layout
        layout.grow_section(section, data)
        piece = layout.dwarf_space.pieces[section]
        self.sections[section][0] = piece.offset
        self.sections[section][1] = piece.size
        self._set_sizes()
        os.pwrite(self.fd, data, piece.offset)
        os.pwrite(self.fd, layout.symbols, layout.symtab.symoff)
        os.pwrite(self.fd, layout.strings, layout.symtab.stroff)
        self._write_commands()
        os.ftruncate(self.fd, max(layout.symtab.stroff + len(layout.strings),
                                  max(p.offset + p.size for p in layout.dwarf_space.pieces.values())))

    def close(self) -> None:
        os.close(self.fd)


class IncrementalDsym(IncrementalFile):
    """``IncrementalDsym.create(executable, unit, functions)`` writes ``EXECUTABLE.dSYM`` (next to it unless
    ``out_dir`` is given); ``IncrementalDsym.open(bundle)`` later; then the operations of
    :class:`~dwarfkit.incremental.session.IncrementalFile`. Function addresses are the executable's."""

    @classmethod
    def create(cls, executable: str | os.PathLike[str], unit: UnitInfo, functions: Iterable[Function] = (), *,
               out_dir: str | os.PathLike[str] | None = None) -> IncrementalDsym:
        executable = Path(executable).resolve()
        folder = Path(out_dir) if out_dir is not None else executable.parent
        if read_macho(executable).header.filetype != C.MH_EXECUTE:
            raise ContainerError(f"{executable}: a dSYM describes an executable (MH_EXECUTE)")
        return cls._create(folder / f"{executable.name}.dSYM", unit, functions, {"executable": str(executable)})

    @classmethod
    def _build(cls, path: Path, dwarf: IncrementalDwarf, params: dict[str, Any]) -> None:
        sections = dwarf.dwarf_sections()
        write_dsym(params["executable"], sections, out_dir=path.parent)

    @classmethod
    def _arena(cls, params: dict[str, Any]) -> tuple[tuple[int, int], ...]:
        """The executable's code sections (those with instructions)."""
        code = C.S_ATTR_PURE_INSTRUCTIONS | C.S_ATTR_SOME_INSTRUCTIONS
        return tuple((s.addr, s.addr + s.size) for s in read_macho(params["executable"]).sections
                     if s.flags & code and not s.is_zerofill)

    @classmethod
    def _open_target(cls, path: Path, params: dict[str, Any], rooms: dict[str, int]) -> DsymSections:
        return DsymSections(dwarf_file(path), Path(params["executable"]), rooms)
