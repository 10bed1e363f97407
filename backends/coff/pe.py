"""PE32+ executables: the image's code and data, an import table, base relocations, and the DWARF sections.

Sections follow each other as MinGW ld lays them out: the image's code and data in their order, ``.idata``,
``.reloc``, then the DWARF sections with long names (``/4``) resolved through the COFF string table, which follows the
symbol table at the end of the file. Every section starts on a 4 KiB page in memory and on a 512-byte boundary in
the file. The DWARF sections get addresses too (MinGW does the same) but are marked discardable.

Relocations are resolved here: code and data addresses become virtual addresses (``image_base`` + RVA) with a
``.reloc`` entry each, so the loader can move the image; PC-relative fields become distances; debug sections get
final addresses and keep their section offsets.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

from dwarfkit.encoding import align_up
from dwarfkit.errors import ContainerError, RelocationError
from dwarfkit.image import Image, SectionKind, check_final_addresses
from dwarfkit.output import write_atomically
from dwarfkit.sections import RelocKind, apply_relocations

from . import constants as C
from . import records
from .base_relocations import base_relocation_table
from .contents import OutputSection, collect_sections
from .imports import IMPORT_PREFIX, ImportTable
from .machine import Machine, machine_for
from .pe_headers import PE_SIGNATURE, OptionalHeader, dos_header, with_checksum
from .thunks import code_fill, encode_thunk, thunk_size

DEFAULT_IMAGE_BASE = 0x140000000
"""Where MinGW ld and lld put 64-bit executables."""
SECTION_ALIGNMENT = 0x1000
FILE_ALIGNMENT = 0x200
_IMAGE_BASE_ALIGNMENT = 0x10000
_MAX_RVA = 0xFFFFFFFF
_IMPORT_FLAGS = C.IMAGE_SCN_CNT_INITIALIZED_DATA | C.IMAGE_SCN_MEM_READ | C.IMAGE_SCN_MEM_WRITE
_RELOC_FLAGS = C.IMAGE_SCN_CNT_INITIALIZED_DATA | C.IMAGE_SCN_MEM_DISCARDABLE | C.IMAGE_SCN_MEM_READ


def write_pe(image: Image, path: str | os.PathLike[str], *, imports: Mapping[str, Sequence[str]] | None = None,
             image_base: int = DEFAULT_IMAGE_BASE) -> None:
    """Writes ``image`` as a PE32+ executable at ``path``, atomically.

    ``imports`` maps a DLL to the functions taken from it, e.g. ``{"kernel32.dll": ["ExitProcess"]}``. Code calls
    an imported function through its IAT slot, the symbol ``__imp_ExitProcess``, or directly by its name, which
    then resolves to a jump thunk appended to the first code section. ``image.entry`` names the entry point.
    """
    write_atomically(path, pe_bytes(image, imports=imports, image_base=image_base), executable=True)


def pe_bytes(image: Image, *, imports: Mapping[str, Sequence[str]] | None = None,
             image_base: int = DEFAULT_IMAGE_BASE) -> bytes:
    """The bytes of the PE image; raises before producing anything if the image cannot be written."""
    return _PeLayout(image, imports or {}, image_base).encode()


@dataclass
class _Placed:
    section: OutputSection
    rva: int = 0
    raw_pointer: int = 0
    raw_size: int = 0


class _PeLayout:
    def __init__(self, image: Image, imports: Mapping[str, Sequence[str]], image_base: int) -> None:
        self.machine: Machine = machine_for(image.arch)
        image.validate()
        if image_base % _IMAGE_BASE_ALIGNMENT or not 0 < image_base < 1 << 64:
            raise ContainerError(f"PE image base {image_base:#x} is not a positive multiple of 64 KiB")
        self.image = image
        self.base = image_base
        self.table = ImportTable(imports) if imports else None
        sections = collect_sections(image)
        # Loaded sections (code, data, and emitted ones like .eh_frame) come first: their absolute addresses need
        # base relocations, which .reloc can only list once they are placed. Debug sections follow .reloc.
        self.content = [s for s in sections if not s.is_debug]
        self.debug = [s for s in sections if s.is_debug]
        self.sources = {s.source for s in sections}
        self.defined = {s.name: s for s in image.symbols if s.section is not None}
        self._check_entry()
        self.thunks = self._thunk_names()
        self.thunk_offset = 0
        self.code = self._code_with_thunk_space()
        self.idata = (OutputSection(".idata", ".idata", _IMPORT_FLAGS, 8, bytes(self.table.size), self.table.size)
                      if self.table else None)
        has_fixups = any(r.kind is RelocKind.ADDRESS for s in self.content for r in s.relocations)
        self.reloc = OutputSection(".reloc", ".reloc", _RELOC_FLAGS, 4, b"", 0) if has_fixups else None
        for added in (self.idata, self.reloc):
            if added is not None and added.source in self.sources:
                raise ContainerError(f"PE image: the image has a section {added.name}, which the PE writer makes "
                                     f"itself")
        count = len(sections) + (self.idata is not None) + (self.reloc is not None)
        if count > C.MAX_IMAGE_SECTIONS:
            raise ContainerError(f"PE image: {count} sections, more than the {C.MAX_IMAGE_SECTIONS} the Windows "
                                 f"loader accepts")
        self.headers_size = align_up(len(dos_header()) + len(PE_SIGNATURE) + C.FILE_HEADER_SIZE
                                     + C.OPTIONAL_HEADER64_SIZE + C.SECTION_HEADER_SIZE * count, FILE_ALIGNMENT)
        self.placed: dict[str, _Placed] = {}
        self._next_rva = align_up(self.headers_size, SECTION_ALIGNMENT)
        self._next_file = self.headers_size

    # -- preparation ------------------------------------------------------------------------------------------------
    def _check_entry(self) -> None:
        entry = self.image.entry
        if entry is None:
            raise ContainerError("PE image: Image.entry names no entry point")
        symbol = self.defined.get(entry)
        if symbol is None:
            raise ContainerError(f"PE image: entry point {entry!r} is not a symbol defined in the image")
        if self.image.section(symbol.section or "").kind is not SectionKind.CODE:
            raise ContainerError(f"PE image: entry point {entry!r} lies in {symbol.section}, which is not code")

    def _thunk_names(self) -> list[str]:
        """Imported functions that code refers to by name rather than through ``__imp_``."""
        if self.table is None:
            return []
        wanted = {r.target for s in self.content for r in s.relocations
                  if r.kind in (RelocKind.ADDRESS, RelocKind.PCREL)}
        return [f for f in self.table.functions if f in wanted and f not in self.defined]

    def _code_with_thunk_space(self) -> OutputSection | None:
        code = next((s for s in self.content if s.flags & C.IMAGE_SCN_CNT_CODE), None)
        if self.thunks and code is not None:
            assert code.data is not None
            self.thunk_offset = align_up(len(code.data), 16)
            code.data += code_fill(self.machine) * (self.thunk_offset - len(code.data))
            code.data += bytes(thunk_size(self.machine) * len(self.thunks))
            code.size = len(code.data)
        return code

    def _place(self, section: OutputSection) -> _Placed:
        placed = _Placed(section, self._next_rva)
        if self._next_rva + section.size > _MAX_RVA:
            raise ContainerError(f"PE image: section {section.name} of {section.size:#x} bytes would end at RVA "
                                 f"{self._next_rva + section.size:#x}, beyond the 4 GiB an image can span")
        if section.data:
            placed.raw_size = align_up(len(section.data), FILE_ALIGNMENT)
            placed.raw_pointer = self._next_file
            self._next_file += placed.raw_size
        self._next_rva = align_up(self._next_rva + max(section.size, 1), SECTION_ALIGNMENT)
        self.placed[section.source] = placed
        return placed

    # -- addresses ----------------------------------------------------------------------------------------------------
    def _symbol_addresses(self) -> dict[str, int]:
        addresses = {name: self.base + self.placed[s.section].rva + s.value  # type: ignore[index]
                     for name, s in self.defined.items()}
        if self.table is not None:
            assert self.idata is not None
            idata = self.base + self.placed[self.idata.source].rva
            for f in self.table.functions:
                addresses.setdefault(IMPORT_PREFIX + f, idata + self.table.slot_offset(f))
        if self.thunks:
            assert self.code is not None
            start = self.base + self.placed[self.code.source].rva + self.thunk_offset
            for i, f in enumerate(self.thunks):
                addresses[f] = start + i * thunk_size(self.machine)
        return addresses

    def _resolve(self, section: OutputSection, addresses: dict[str, int]) -> list[tuple[int, int]]:
        """Writes final values into ``section.data``; returns the base relocations (RVA, type) it needs."""
        rva = self.placed[section.source].rva
        for r in section.relocations:
            if r.kind in (RelocKind.SECTION, RelocKind.UNIT) and r.target not in self.sources:
                raise RelocationError(f"{section.name}+{r.offset:#x}: offset into section {r.target!r}, which the "
                                      f"image does not have")
        wanted = [r for r in section.relocations if r.kind in (RelocKind.ADDRESS, RelocKind.PCREL)]
        if not wanted:
            return []
        if section.data is None:
            raise RelocationError(f"{section.name}: uninitialised data cannot hold relocations")
        for r in wanted:
            if r.target not in addresses:
                raise RelocationError(f"{section.name}+{r.offset:#x}: relocation against undefined symbol "
                                      f"{r.target!r}: neither defined in the image nor imported")
            if not 0 <= r.offset <= len(section.data) - r.size:
                raise RelocationError(f"{section.name}+{r.offset:#x}: {r.size}-byte relocated field lies outside "
                                      f"the section (size {len(section.data):#x})")
        data = bytearray(section.data)
        apply_relocations(data, section.name, wanted, addresses, {section.source: self.base + rva}, "little")
        section.data = bytes(data)
        if section.is_debug:
            return []  # debuggers relocate debug information themselves
        return [(rva + r.offset, C.IMAGE_REL_BASED_DIR64 if r.size == 8 else C.IMAGE_REL_BASED_HIGHLOW)
                for r in wanted if r.kind is RelocKind.ADDRESS]

    # -- output -------------------------------------------------------------------------------------------------------
    def encode(self) -> bytes:
        for s in self.content:
            self._place(s)
        if self.idata is not None:
            self._place(self.idata)
        addresses = self._symbol_addresses()
        fixups = [f for s in self.content for f in self._resolve(s, addresses)]
        self._write_thunks(addresses)
        if self.idata is not None and self.table is not None:
            self.idata.data = self.table.encode(self.placed[self.idata.source].rva)
        if self.reloc is not None:
            self.reloc.data = base_relocation_table(fixups)
            self.reloc.size = len(self.reloc.data)
            self._place(self.reloc)
        for d in self.debug:
            self._place(d)
        if self.image.dwarf is not None:
            loaded = [(p.section.name, self.base + p.rva, p.section.size) for p in self.placed.values()
                      if not p.section.is_debug]
            check_final_addresses(self.image.dwarf, addresses, loaded, "the PE image")
        for d in self.debug:
            self._resolve(d, addresses)
        return self._file()

    def _write_thunks(self, addresses: dict[str, int]) -> None:
        if not self.thunks:
            return
        assert self.code is not None and self.code.data is not None
        data = bytearray(self.code.data)
        for f in self.thunks:
            offset = addresses[f] - self.base - self.placed[self.code.source].rva
            data[offset:offset + thunk_size(self.machine)] = encode_thunk(self.machine, addresses[f],
                                                                          addresses[IMPORT_PREFIX + f])
        self.code.data = bytes(data)

    def _file(self) -> bytes:
        placed = list(self.placed.values())
        strings = records.StringTable()
        headers = b"".join(
            records.SectionHeader(p.section.name, p.section.flags, p.section.size, p.rva, p.raw_size,
                                  p.raw_pointer).encode(strings) for p in placed)
        body = bytearray()
        for p in placed:
            if p.raw_size:
                assert p.section.data is not None
                body += p.section.data.ljust(p.raw_size, b"\0")
        numbers = {p.section.source: i for i, p in enumerate(placed, start=1)}
        symbols = b"".join(records.image_symbol(s, numbers[s.section], strings)  # type: ignore[index]
                           for s in self.defined.values())
        symbol_count = sum(1 + records.image_symbol_aux_count(s) for s in self.defined.values())
        symbol_pointer = self.headers_size + len(body)
        file_header = records.file_header(
            self.machine.machine, len(placed), symbol_pointer, symbol_count, C.OPTIONAL_HEADER64_SIZE,
            C.IMAGE_FILE_EXECUTABLE_IMAGE | C.IMAGE_FILE_LINE_NUMS_STRIPPED | C.IMAGE_FILE_LARGE_ADDRESS_AWARE)
        head = dos_header() + PE_SIGNATURE + file_header + self._optional_header(placed).encode() + headers
        out = bytearray(head.ljust(self.headers_size, b"\0"))
        out += body + symbols + strings.encode()
        return with_checksum(out)

    def _optional_header(self, placed: list[_Placed]) -> OptionalHeader:
        def total(flag: int) -> int:
            return sum(p.raw_size for p in placed if p.section.flags & flag)
        code = [p for p in placed if p.section.flags & C.IMAGE_SCN_CNT_CODE]
        directories: dict[int, tuple[int, int]] = {}
        if self.table is not None and self.idata is not None:
            rva = self.placed[self.idata.source].rva
            directories[C.IMAGE_DIRECTORY_ENTRY_IMPORT] = self.table.directory(rva)
            directories[C.IMAGE_DIRECTORY_ENTRY_IAT] = self.table.iat(rva)
        if self.reloc is not None:
            directories[C.IMAGE_DIRECTORY_ENTRY_BASERELOC] = (self.placed[self.reloc.source].rva, self.reloc.size)
        entry = self.defined[self.image.entry]  # type: ignore[index]
        return OptionalHeader(
            entry=self.placed[entry.section].rva + entry.value,  # type: ignore[index]
            image_base=self.base, section_alignment=SECTION_ALIGNMENT, file_alignment=FILE_ALIGNMENT,
            size_of_code=total(C.IMAGE_SCN_CNT_CODE), size_of_initialized_data=total(C.IMAGE_SCN_CNT_INITIALIZED_DATA),
            size_of_uninitialized_data=sum(align_up(p.section.size, FILE_ALIGNMENT) for p in placed
                                             if p.section.flags & C.IMAGE_SCN_CNT_UNINITIALIZED_DATA),
            base_of_code=code[0].rva if code else 0, size_of_image=self._next_rva, size_of_headers=self.headers_size,
            directories=directories)
