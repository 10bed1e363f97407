"""Reading an input Mach-O file (thin or fat) for the writers: header, load commands, sections and symbols.

Only what the writers need, e.g. what a dSYM copies from its executable, and only 64-bit little-endian files. The
decoding is `parse`'s (shared with ``dwarfkit.reader.macho``), in its strict mode: the first problem is an error that
names the file and what is wrong. This module adds the choice of a fat file's slice, the CPU type -> `Arch` check and
the ``path`` to every message.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from dwarfkit.arch import Arch
from dwarfkit.errors import ContainerError, ReadError

from . import constants as C
from .commands import Nlist64, Section64
from .parse import LayoutError, ThinFile, fat_entries, parse_header, parse_thin

MAX_ALIGN_LOG2 = 24   # a larger section alignment is corrupt (real ones are pages at most)


@dataclass
class MachOFile(ThinFile):
    """A thin file as `parse_thin` decodes it (``data``: the selected slice of a fat file), with its path, its
    architecture and its symbols."""
    path: Path
    arch: Arch
    symbols: list[tuple[str, Nlist64]]

    def section(self, segname: str, sectname: str) -> Section64 | None:
        return next((s for s in self.sections if s.segname == segname and s.sectname == sectname), None)

    def section_data(self, section: Section64) -> bytes:
        if section.is_zerofill:
            return bytes(section.size)
        return self.data[section.offset:section.offset + section.size]

    def symbol_addresses(self) -> dict[str, int]:
        """Defined, non-debugging symbols by Mach-O name (``_main``)."""
        return {name: sym.value for name, sym in self.symbols
                if not sym.is_stab and sym.type & C.N_TYPE == C.N_SECT}


def read_macho(path: str | Path, arch: Arch | str | None = None) -> MachOFile:
    """Reads ``path``; for a fat file, the slice of ``arch`` (required when the file has more than one)."""
    path = Path(path)
    wanted = Arch.parse(arch) if isinstance(arch, str) else arch
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ContainerError(f"{path}: cannot read: {e.strerror}") from None
    if len(data) < 4:
        raise ContainerError(f"{path}: not a Mach-O file ({len(data)} bytes)")
    magic_be = struct.unpack_from(">I", data)[0]
    if magic_be in (C.FAT_MAGIC, C.FAT_MAGIC_64):
        data = _fat_slice(path, data, wanted)
    return _read_thin(path, data, wanted)


def read_macho_bytes(path: str | Path, data: bytes) -> MachOFile:
    """A thin Mach-O file given as bytes (one about to be written at ``path``)."""
    return _read_thin(Path(path), data, None)


def _fat_slice(path: Path, data: bytes, wanted: Arch | None) -> bytes:
    try:
        entries = fat_entries(data)
    except LayoutError as e:
        raise ReadError(f"{path}: {e.what}") from None
    slices: dict[str, tuple[int, int]] = {}
    for entry in entries:
        slices[C.CPU_NAMES.get(entry.cputype, f"cputype {entry.cputype:#x}")] = (entry.offset, entry.size)
    if wanted is None:
        if len(slices) != 1:
            raise ContainerError(f"{path}: fat file with architectures {', '.join(sorted(slices))}: say which one")
        offset, size = next(iter(slices.values()))
    else:
        name = C.CPU_NAMES[C.CPU_TYPES[wanted][0]]
        if name not in slices:
            raise ContainerError(f"{path}: fat file has no {name} slice (it has {', '.join(sorted(slices)) or 'none'})")
        offset, size = slices[name]
    if offset + size > len(data):
        raise ReadError(f"{path}: fat slice at {offset:#x}+{size:#x} runs past the end of the file")
    return data[offset:offset + size]


def _read_thin(path: Path, data: bytes, wanted: Arch | None) -> MachOFile:
    magic = struct.unpack_from("<I", data)[0]
    if magic in (C.MH_MAGIC, C.MH_CIGAM, C.MH_CIGAM_64):
        raise ContainerError(f"{path}: 32-bit or big-endian Mach-O files are not supported")
    if magic != C.MH_MAGIC_64:
        raise ContainerError(f"{path}: not a Mach-O file (magic {data[:4].hex()})")
    try:
        _, _, header = parse_header(data)
        arch = next((a for a, (cpu, _) in C.CPU_TYPES.items() if cpu == header.cputype), None)
        if arch is None:
            raise ContainerError(f"{path}: unsupported CPU type {header.cputype:#x}")
        if wanted is not None and arch is not wanted:
            raise ContainerError(f"{path}: is {C.CPU_NAMES[header.cputype]}, not {wanted.info.name}")
        thin = parse_thin(data, strict=True)
        for section in thin.sections:   # padded to 2**align: a corrupt value would make the layout huge
            if section.align > MAX_ALIGN_LOG2:
                raise ReadError(f"{path}: section {section.segname},{section.sectname} has align "
                                f"2**{section.align}, more than 2**{MAX_ALIGN_LOG2}")
        return MachOFile(data, "<", True, header, thin.commands, [], path, arch, thin.read_symbols(strict=True))
    except LayoutError as e:
        raise ReadError(f"{path}: {e.what}") from None
