"""A PE32+ image whose DWARF is updated one function at a time (:class:`IncrementalImage`).

The whole file is what :func:`pe_bytes` writes for a fixed code arena (``.text`` at RVA :data:`TEXT_RVA`, a JIT's
code area that starts with the caller's entry code) and the sections of :class:`IncrementalDwarf`: as MinGW ld lays
them out, the DWARF sections follow the code as mapped, discardable sections whose long names (``/4``) live in the
COFF string table after the symbol table. Updates are ``os.pwrite`` into a section's raw data; the PE fields that
depend on the debug sections follow every change:

* ``VirtualSize`` is the section's visible size (``Target.resize``); the raw data (``SizeOfRawData``, a multiple of
  ``FileAlignment``) holds its whole room. Readers take the smaller of the two, as they do for any linker's padding.
* The debug sections' ``VirtualAddress`` are laid out again after each change, adjacent pages in section table order
  as the loader requires, and ``SizeOfImage`` ends after the last one. DWARF holds section offsets and code
  addresses, never a debug section's own address, so no byte inside a section changes with it.
* A section that outgrows its raw data moves to the first free run of the file that holds it (its own old place
  counts as free, so a section at the end grows in place); ``PointerToRawData``, ``SizeOfRawData`` and
  ``SizeOfInitializedData`` follow, the place it left is zeroed, and the file ends after its last piece.
* ``CheckSum`` stays right, as ``pe_bytes`` writes it, so an updated image and one written from scratch read the same
  in every header dump. It is a one's-complement sum of 16-bit words plus the file length, so each write adds its
  new words and takes away the old ones (read back first) instead of summing the whole file again.
"""
from __future__ import annotations

import itertools
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from dwarfkit.arch import Arch
from dwarfkit.encoding import align_up
from dwarfkit.errors import ContainerError
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol
from dwarfkit.incremental.fragments import ENCODING
from dwarfkit.incremental.model import Function, UnitInfo
from dwarfkit.incremental.session import IncrementalFile
from dwarfkit.incremental.writer import IncrementalDwarf
from dwarfkit.output import write_atomically
from dwarfkit.sections import DwarfSections

from . import constants as C
from .machine import machine_for
from .pe import DEFAULT_IMAGE_BASE, pe_bytes
from .pe_headers import PE_SIGNATURE, word_sum
from .thunks import code_fill

TEXT_RVA = 0x1000
"""Where the code arena starts, relative to the image base: the first page after the headers."""

# Fields of the PE32+ optional header, by offset from its start.
_SIZE_OF_INITIALIZED_DATA = 8
_SECTION_ALIGNMENT = 32
_SIZE_OF_IMAGE = 56
_SIZE_OF_HEADERS = 60
_CHECKSUM = 64
_SECTION = struct.Struct("<8sIIIIIIHHI")
_FOLD = 0xFFFF
"""Folding a sum of 16-bit words with end-around carries is arithmetic modulo 0xFFFF."""


@dataclass
class _Header:
    """One section table entry."""

    name: str
    raw_name: bytes
    """The 8-byte Name field as the file has it (``/4`` for a long name)."""
    virtual_size: int
    virtual_address: int
    raw_size: int
    raw_pointer: int
    unused: tuple[int, ...]
    """PointerToRelocations ... NumberOfLinenumbers (zeros in an image), kept as read."""
    flags: int

    def extent(self) -> tuple[int, int]:
        return self.raw_pointer, self.raw_pointer + self.raw_size

    def encode(self) -> bytes:
        return _SECTION.pack(self.raw_name, self.virtual_size, self.virtual_address, self.raw_size, self.raw_pointer,
                             *self.unused, self.flags)


class PeSections:
    """The sections of an open PE32+ image: ``read``/``write``/``resize``/``replace`` for the incremental writer,
    each leaving the section table, ``SizeOfImage``, ``SizeOfInitializedData`` and ``CheckSum`` right."""

    def __init__(self, path: Path, rooms: dict[str, int]) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR)
        try:
            self._read_headers()
            for name, room in rooms.items():
                header = self.sections.get(name)
                if header is not None and header.raw_size < room:
                    raise ContainerError(f"{path}: section {name} has {header.raw_size} bytes of raw data, the "
                                         f"writer's state needs {room}")
        except (struct.error, ValueError, IndexError, UnicodeDecodeError):
            os.close(self.fd)
            raise ContainerError(f"{path}: damaged PE headers") from None
        except ContainerError:
            os.close(self.fd)
            raise

    def _read_headers(self) -> None:
        fd = self.fd
        dos = os.pread(fd, 64, 0)
        if dos[:2] != b"MZ":
            raise ContainerError(f"{self.path}: not a PE image (no MZ header)")
        pe_at, = struct.unpack_from("<I", dos, 0x3C)
        head = os.pread(fd, len(PE_SIGNATURE) + C.FILE_HEADER_SIZE, pe_at)
        if head[:4] != PE_SIGNATURE:
            raise ContainerError(f"{self.path}: not a PE image (no PE signature at {pe_at:#x})")
        _, count, _, symbols_at, symbol_count, optional_size, _ = struct.unpack_from("<HHIIIHH", head, 4)
        self.optional = pe_at + len(head)
        optional = os.pread(fd, optional_size, self.optional)
        if struct.unpack_from("<H", optional)[0] != C.IMAGE_NT_OPTIONAL_HDR64_MAGIC:
            raise ContainerError(f"{self.path}: not a PE32+ image")
        self.section_alignment, self.file_alignment = struct.unpack_from("<II", optional, _SECTION_ALIGNMENT)
        headers_size, checksum = struct.unpack_from("<II", optional, _SIZE_OF_HEADERS)
        self.table = self.optional + optional_size
        strings_at = symbols_at + C.SYMBOL_SIZE * symbol_count
        strings = b""
        if symbols_at:
            strings = os.pread(fd, struct.unpack("<I", os.pread(fd, 4, strings_at))[0], strings_at)
        # Pieces of the file no section owns: the headers, the symbol and string tables.
        self.fixed = [(0, headers_size)] + ([(symbols_at, strings_at + len(strings))] if symbols_at else [])
        self.headers: list[_Header] = []
        for i in range(count):
            raw_name, *sizes, flags = _SECTION.unpack(os.pread(fd, _SECTION.size, self.table + i * _SECTION.size))
            name = raw_name.rstrip(b"\0")
            if name.startswith(b"/"):
                at = int(name[1:])
                name = strings[at:strings.index(b"\0", at)]
            virtual_size, virtual_address, raw_size, raw_pointer = sizes[:4]
            self.headers.append(_Header(name.decode(), raw_name, virtual_size, virtual_address, raw_size, raw_pointer,
                                        tuple(sizes[4:]), flags))
        self.sections = {h.name: h for h in self.headers}
        first_debug = next((i for i, h in enumerate(self.headers) if h.name.startswith(".debug_")), count)
        if any(not h.name.startswith(".debug_") for h in self.headers[first_debug:]):
            raise ContainerError(f"{self.path}: the debug sections are not the last ones in the section table")
        self.length = os.fstat(fd).st_size
        self.checksum_at = self.optional + _CHECKSUM
        # The file's checksum is the folded word sum plus the length: the sum is known without reading the file
        # (pe_bytes wrote it right, and so does every update).
        self._sum = (checksum - self.length) % _FOLD

    # -- the writer's target ---------------------------------------------------------------------------------------
    def read(self, section: str, size: int | None = None) -> bytes | None:
        """The visible bytes, or the first ``size`` bytes of the room (never more than the raw data)."""
        header = self.sections.get(section)
        if header is None:
            return None
        return os.pread(self.fd, min(header.virtual_size if size is None else size, header.raw_size),
                        header.raw_pointer)

    def write(self, section: str, offset: int, data: bytes) -> None:
        header = self.sections[section]
        assert offset + len(data) <= header.raw_size, (section, offset, len(data), header.raw_size)
        self._patch(header.raw_pointer + offset, data)
        self._store_checksum()

    def resize(self, section: str, size: int) -> None:
        header = self.sections[section]
        if header.virtual_size != size:
            header.virtual_size = size
            self._write_headers()

    def replace(self, section: str, data: bytes) -> None:
        """The section's new bytes (its whole room) go to the first free run of the file that holds them."""
        header = self.sections[section]
        size = align_up(len(data), self.file_alignment)
        start = self._free_run(size, header)
        old_start, old_end = header.extent()
        self._patch(start, data + bytes(size - len(data)))
        for a, b in ((old_start, min(old_end, start)), (max(old_start, start + size), old_end)):
            if a < b:
                self._patch(a, bytes(b - a))
        header.virtual_size, header.raw_size, header.raw_pointer = len(data), size, start
        end = max(b for _, b in self._taken())
        if end < self.length:  # what lies after the last piece is zeros now (the place the section left)
            self._patch(end, bytes(self.length - end))
            os.ftruncate(self.fd, end)
            self.length = end
        self._write_headers()

    def close(self) -> None:
        os.close(self.fd)

    # -- layout ------------------------------------------------------------------------------------------------------
    def _taken(self, leave_out: _Header | None = None) -> list[tuple[int, int]]:
        return sorted(self.fixed + [h.extent() for h in self.headers if h is not leave_out and h.raw_size])

    def _free_run(self, size: int, header: _Header) -> int:
        """First fit among the gaps between the pieces of the file (the section's own place is free), else the end."""
        at = 0
        for start, end in self._taken(header):
            if align_up(at, self.file_alignment) + size <= start:
                return align_up(at, self.file_alignment)
            at = max(at, end)
        return align_up(at, self.file_alignment)

    def _write_headers(self) -> None:
        """Section table and optional header after a size or place changed (debug sections in table order)."""
        def end(header: _Header) -> int:
            return align_up(header.virtual_address + max(header.virtual_size, 1), self.section_alignment)
        for before, header in itertools.pairwise(self.headers):
            header.virtual_address = end(before)
        image_size = end(self.headers[-1])
        initialized = sum(h.raw_size for h in self.headers if h.flags & C.IMAGE_SCN_CNT_INITIALIZED_DATA)
        self._patch(self.table, b"".join(h.encode() for h in self.headers))
        self._patch(self.optional + _SIZE_OF_INITIALIZED_DATA, struct.pack("<I", initialized))
        self._patch(self.optional + _SIZE_OF_IMAGE, struct.pack("<I", image_size))
        self._store_checksum()

    # -- checksum ----------------------------------------------------------------------------------------------------
    def _patch(self, offset: int, data: bytes) -> None:
        """Writes ``data`` at ``offset``, keeping the word sum of the file (checksum field excluded) up to date."""
        end = offset + len(data)
        low, high = offset & ~1, end + (end & 1)
        old = os.pread(self.fd, high - low, low).ljust(high - low, b"\0")
        new = old[:offset - low] + data + old[end - low:]
        self._sum = (self._sum + self._words(new, low) - self._words(old, low)) % _FOLD
        os.pwrite(self.fd, data, offset)
        self.length = max(self.length, end)

    def _words(self, block: bytes, at: int) -> int:
        """Word sum of ``block`` (at the even offset ``at``), the checksum field counted as zeros."""
        low, high = max(self.checksum_at, at) - at, min(self.checksum_at + 4, at + len(block)) - at
        if low < high:
            block = block[:low] + bytes(high - low) + block[high:]
        return word_sum(block)

    def _store_checksum(self) -> None:
        folded = self._sum or _FOLD  # a non-zero sum folds to 1..0xFFFF
        os.pwrite(self.fd, struct.pack("<I", (folded + self.length) & 0xFFFFFFFF), self.checksum_at)


class IncrementalImage(IncrementalFile):
    """``IncrementalImage.create(path, unit, functions, code=...)``, or ``.open(path)`` later; then the operations of
    :class:`~dwarfkit.incremental.session.IncrementalFile`. Functions live in the code arena, from
    :meth:`text_address` on; its first bytes are ``code``, the entry point ``_start``."""

    @staticmethod
    def text_address(image_base: int = DEFAULT_IMAGE_BASE) -> int:
        return image_base + TEXT_RVA

    @classmethod
    def create(cls, path: str | os.PathLike[str], unit: UnitInfo, functions: Iterable[Function] = (), *,
               code: bytes = b"", text_size: int = 0x10000, arch: Arch = Arch.X86_64,
               image_base: int = DEFAULT_IMAGE_BASE) -> IncrementalImage:
        """Writes the whole image (atomically) with ``functions`` laid out with slack, and its state beside it.
        The rest of the arena after ``code`` is traps (``int3``, ``udf``)."""
        params = {"text_size": text_size, "code": bytes(code).hex(), "arch": arch.name, "image_base": image_base}
        pe_bytes(_image(params, DwarfSections(ENCODING)), image_base=image_base)  # refuses bad parameters first
        return cls._create(Path(path), unit, functions, params)

    @classmethod
    def _build(cls, path: Path, dwarf: IncrementalDwarf, params: dict[str, Any]) -> None:
        sections = dwarf.dwarf_sections()
        write_atomically(path, pe_bytes(_image(params, sections), image_base=params["image_base"]), executable=True)

    @classmethod
    def _arena(cls, params: dict[str, Any]) -> tuple[tuple[int, int], ...]:
        start = cls.text_address(params["image_base"])
        return ((start, start + params["text_size"]),)

    @classmethod
    def _open_target(cls, path: Path, params: dict[str, Any], rooms: dict[str, int]) -> PeSections:
        target = PeSections(path, rooms)
        text = target.sections.get(".text")
        if text is None or text.virtual_address != TEXT_RVA:
            target.close()
            raise ContainerError(f"{path}: the code arena .text is not at RVA {TEXT_RVA:#x}")
        return target


def _image(params: dict[str, Any], sections: DwarfSections) -> Image:
    arch, code, size = Arch[params["arch"]], bytes.fromhex(params["code"]), params["text_size"]
    if not 0 < size < 1 << 32 or len(code) > size:
        raise ContainerError(f"PE image: a code arena of {size:#x} bytes cannot hold {len(code)} bytes of entry code")
    arena = code + code_fill(machine_for(arch)) * (size - len(code))
    return Image(arch, [ContentSection(".text", SectionKind.CODE, arena, alignment=16)],
                 [Symbol("_start", ".text", 0, max(len(code), 1))], sections, entry="_start")
