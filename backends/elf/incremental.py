"""An ELF executable that owns its debug info incrementally: one function changes, a few bytes of the file change.

The file is a static executable (``executable_bytes``) whose ``.text`` is a fixed code area (a JIT's arena) and whose
``.debug_abbrev``/``.debug_info``/``.debug_line`` come from :class:`dwarfkit.incremental.IncrementalDwarf`. Updates
are ``os.pwrite`` at the section's file offset. A section that outgrows its room is written again after the end of
the file and its section header (``sh_offset``, ``sh_size``) is patched; debug sections are not loaded, so no program
header changes. The old bytes stay behind as an unreferenced hole.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Iterable

from dwarfkit.arch import Arch
from dwarfkit.errors import ContainerError, DwarfkitError
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol
from dwarfkit.incremental import journal
from dwarfkit.incremental.model import Function, UnitInfo
from dwarfkit.incremental.writer import IncrementalDwarf
from dwarfkit.incremental.fragments import ENCODING
from dwarfkit.output import write_atomically
from dwarfkit.sections import DwarfSections, Section

from .executable import executable_bytes

_SHDR = struct.Struct("<IIQQQQIIQQ")
_SH_OFFSET, _SH_SIZE = 24, 32


class _ElfSections:
    """Section headers of an open ELF64 little-endian file: name -> [header position, offset, size]."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd, self.path = fd, path
        head = os.pread(fd, 64, 0)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            raise ContainerError(f"{path}: not an ELF64 little-endian file")
        shoff, = struct.unpack_from("<Q", head, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", head, 0x3A)
        headers = [_SHDR.unpack(os.pread(fd, _SHDR.size, shoff + i * shentsize)) for i in range(shnum)]
        names = os.pread(fd, headers[shstrndx][5], headers[shstrndx][4])
        self.sections: dict[str, list[int]] = {}
        for i, h in enumerate(headers):
            name = names[h[0]:names.index(b"\0", h[0])].decode()
            self.sections[name] = [shoff + i * shentsize, h[4], h[5]]

    def read(self, name: str) -> bytes:
        _, offset, size = self.sections[name]
        return os.pread(self.fd, size, offset)

    def write(self, section: str, offset: int, data: bytes) -> None:
        _, start, size = self.sections[section]
        assert offset + len(data) <= size, (section, offset, len(data), size)
        os.pwrite(self.fd, data, start + offset)

    def replace(self, section: str, data: bytes) -> None:
        header = self.sections[section]
        end = os.fstat(self.fd).st_size
        offset = (end + 15) // 16 * 16
        os.pwrite(self.fd, bytes(offset - end) + data, end)
        os.pwrite(self.fd, struct.pack("<QQ", offset, len(data)), header[0] + _SH_OFFSET)
        header[1:] = [offset, len(data)]


class IncrementalExecutable:
    """Create with :meth:`create`, reopen with :meth:`open`; then ``add``/``update``/``move``/``set_line``/``remove``.

    ``rebuilt`` tells whether :meth:`open` found the file interrupted or changed and wrote it again.
    """

    def __init__(self, path: Path, dwarf: IncrementalDwarf, container: dict, done: int) -> None:
        self.path = path
        self.dwarf = dwarf
        self.container = container
        self.rebuilt = False
        self._fd = os.open(path, os.O_RDWR)
        self._elf = _ElfSections(self._fd, path)
        dwarf.target = self._elf
        self._journal = journal.Journal(path, done)

    # -- files ---------------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], unit: UnitInfo, functions: Iterable[Function] = (), *,
               text_address: int = 0x401000, text_size: int = 0x10000, arch: Arch = Arch.X86_64
               ) -> IncrementalExecutable:
        """Writes the whole file (atomically) for ``functions`` laid out with slack, and its state beside it."""
        path = Path(path)
        container = {"text_address": text_address, "text_size": text_size, "arch": arch.name}
        functions = list(functions)
        dwarf = IncrementalDwarf(unit, functions)
        journal.write_checkpoint(path, unit, container, functions)
        write_atomically(path, _image_bytes(dwarf, container), executable=True)
        return cls(path, dwarf, container, 0)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> IncrementalExecutable:
        """Reopens a file made by :meth:`create`; rebuilds it if an update was interrupted or its bytes differ."""
        path = Path(path)
        saved = journal.read(path)
        dwarf = IncrementalDwarf(saved.unit, saved.functions)
        for op in saved.ops:
            journal.apply(dwarf, op)
        if not saved.interrupted and _matches(path, dwarf):
            return cls(path, dwarf, saved.container, len(saved.ops))
        functions = [p.fn for p in dwarf.functions.values()]
        writer = cls.create(path, saved.unit, functions, text_address=saved.container["text_address"],
                            text_size=saved.container["text_size"], arch=Arch[saved.container["arch"]])
        writer.rebuilt = True
        return writer

    def close(self) -> None:
        self._journal.close()
        os.close(self._fd)

    def __enter__(self) -> IncrementalExecutable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ----------------------------------------------------------------------------------------------
    def add(self, fn: Function) -> None:
        self._run(["add", fn.to_json()])

    def update(self, fn: Function) -> None:
        self._run(["update", fn.to_json()])

    def move(self, name: str, address: int) -> None:
        self._run(["move", name, address])

    def set_line(self, name: str, line: int) -> None:
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
        self._journal.finish()


def _image_bytes(dwarf: IncrementalDwarf, container: dict) -> bytes:
    arch = Arch[container["arch"]]
    size = container["text_size"]
    code = ContentSection(".text", SectionKind.CODE, data=b"\xcc" * size, alignment=16)
    sections = DwarfSections(ENCODING)
    for name, data in dwarf.sections.items():
        sections.add(Section(name, bytearray(data)))
    image = Image(arch, [code], [Symbol("_start", ".text", 0, 1)], sections, entry="_start")
    return executable_bytes(image, addresses={".text": container["text_address"]})


def _matches(path: Path, dwarf: IncrementalDwarf) -> bool:
    """Whether the file's debug sections hold exactly what the replayed state says (else it is rebuilt)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        elf = _ElfSections(fd, path)
        return all(name in elf.sections and elf.read(name) == data for name, data in dwarf.sections.items())
    except (ContainerError, struct.error, ValueError, IndexError):
        return False
    finally:
        os.close(fd)
