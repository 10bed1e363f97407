"""An ELF executable whose debug info is updated one function at a time (:class:`IncrementalExecutable`).

The file is a static executable (``executable_bytes``) whose ``.text`` is a fixed code area (a JIT's arena) and whose
``.debug_abbrev``/``.debug_info``/``.debug_line`` come from :class:`dwarfkit.incremental.IncrementalDwarf`. Updates
are ``os.pwrite`` at the section's file offset. A section that outgrows its room is written again after the end of
the file and its section header (``sh_offset``, ``sh_size``) is patched (``sh_size`` also follows the line program's
visible end, with the reserved room after it); debug sections are not loaded, so no program
header changes. The old bytes stay behind as an unreferenced hole.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any, Iterable

from elftools.elf.enums import ENUM_SH_TYPE_BASE

from dwarfkit.arch import Arch
from dwarfkit.errors import ContainerError
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol
from dwarfkit.incremental.model import Function, UnitInfo
from dwarfkit.incremental.session import IncrementalFile
from dwarfkit.incremental.writer import IncrementalDwarf
from dwarfkit.output import write_atomically

from .executable import executable_bytes

_SHDR = struct.Struct("<IIQQQQIIQQ")
_SH_OFFSET = 24
_SHT_NOBITS = ENUM_SH_TYPE_BASE["SHT_NOBITS"]


class ElfSections:
    """Section headers of an open ELF64 little-endian file: name -> [header position, offset, size, room]."""

    def __init__(self, path: Path, rooms: dict[str, int]) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR)
        try:
            head = os.pread(self.fd, 64, 0)
            if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
                raise ContainerError(f"{path}: not an ELF64 little-endian file")
            shoff, = struct.unpack_from("<Q", head, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", head, 0x3A)
            headers = [_SHDR.unpack(os.pread(self.fd, _SHDR.size, shoff + i * shentsize)) for i in range(shnum)]
            names = os.pread(self.fd, headers[shstrndx][5], headers[shstrndx][4])
            self.sections: dict[str, list[int]] = {}
            phoff, = struct.unpack_from("<Q", head, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
            taken = {"the ELF header": (0, 64), "the program headers": (phoff, phoff + phentsize * phnum),
                     "the section headers": (shoff, shoff + shentsize * shnum)}
            for i, h in enumerate(headers):
                name = names[h[0]:names.index(b"\0", h[0])].decode()
                self.sections[name] = [shoff + i * shentsize, h[4], h[5], rooms.get(name, h[5])]
                if h[1] != _SHT_NOBITS:
                    taken[name] = (h[4], h[4] + self.sections[name][3])
        except (struct.error, ValueError, IndexError):
            os.close(self.fd)
            raise ContainerError(f"{path}: damaged ELF headers") from None
        self._check_rooms(taken, rooms)

    def _check_rooms(self, taken: dict[str, tuple[int, int]], rooms: dict[str, int]) -> None:
        """Each section written in place owns its room: it lies in the file and overlaps nothing else."""
        size = os.fstat(self.fd).st_size
        for name in sorted(rooms.keys() & self.sections.keys()):
            start, end = taken[name]
            clash = next((other for other, (a, b) in taken.items()
                          if other != name and a < b and a < end and start < b),
                         "the end of the file" if end > size else None)
            if clash is not None:
                os.close(self.fd)
                raise ContainerError(f"{self.path}: {name} has no room for {rooms[name]} bytes at {start:#x}: "
                                     f"they run into {clash}")

    def read(self, section: str, size: int | None = None) -> bytes | None:
        if section not in self.sections:
            return None
        _, offset, visible, _ = self.sections[section]
        return os.pread(self.fd, visible if size is None else size, offset)

    def write(self, section: str, offset: int, data: bytes) -> None:
        _, start, _, room = self.sections[section]
        assert offset + len(data) <= room, (section, offset, len(data), room)
        os.pwrite(self.fd, data, start + offset)

    def resize(self, section: str, size: int) -> None:
        header = self.sections[section]
        if header[2] != size:
            os.pwrite(self.fd, struct.pack("<Q", size), header[0] + _SH_OFFSET + 8)
            header[2] = size

    def replace(self, section: str, data: bytes) -> None:
        header = self.sections[section]
        end = os.fstat(self.fd).st_size
        offset = (end + 15) // 16 * 16
        os.pwrite(self.fd, bytes(offset - end) + data, end)
        os.pwrite(self.fd, struct.pack("<QQ", offset, len(data)), header[0] + _SH_OFFSET)
        header[1:] = [offset, len(data), len(data)]

    def close(self) -> None:
        os.close(self.fd)


class IncrementalExecutable(IncrementalFile):
    """``IncrementalExecutable.create(path, unit, functions)``, or ``.open(path)`` later; then the operations of
    :class:`~dwarfkit.incremental.session.IncrementalFile`."""

    @classmethod
    def create(cls, path: str | os.PathLike[str], unit: UnitInfo, functions: Iterable[Function] = (), *,
               text_address: int = 0x401000, text_size: int = 0x10000, arch: Arch = Arch.X86_64
               ) -> IncrementalExecutable:
        """Writes the whole file (atomically) with ``functions`` laid out with slack, and its state beside it:
        ``PATH.state.json`` and ``PATH.journal``."""
        return cls._create(Path(path), unit, functions,
                           {"text_address": text_address, "text_size": text_size, "arch": arch.name})

    @classmethod
    def _build(cls, path: Path, dwarf: IncrementalDwarf, params: dict[str, Any]) -> None:
        size = params["text_size"]
        code = ContentSection(".text", SectionKind.CODE, data=b"\xcc" * size, alignment=16)
        sections = dwarf.dwarf_sections()
        image = Image(Arch[params["arch"]], [code], [Symbol("_start", ".text", 0, 1)], sections, entry="_start")
        write_atomically(path, executable_bytes(image, addresses={".text": params["text_address"]}),
                         executable=True)

    @classmethod
    def _arena(cls, params: dict[str, Any]) -> tuple[tuple[int, int], ...]:
        return ((params["text_address"], params["text_address"] + params["text_size"]),)

    @classmethod
    def _open_target(cls, path: Path, params: dict[str, Any], rooms: dict[str, int]) -> ElfSections:
        return ElfSections(path, rooms)
