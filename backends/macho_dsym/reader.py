"""Reading an input Mach-O file (thin or fat): header, load commands, sections and symbols.

Only what the writers need, e.g. what a dSYM copies from its executable. Errors name the file and what is wrong.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from dwarfkit.arch import Arch
from dwarfkit.errors import ContainerError, ReadError

from . import constants as C
from .commands import (
    LoadCommand,
    MachHeader,
    Nlist64,
    Section64,
    SegmentCommand64,
    SymtabCommand,
    UuidCommand,
    decode_command,
)
from .parse import LayoutError, fat_entries, load_commands

MAX_ALIGN_LOG2 = 24   # a larger section alignment is corrupt (real ones are pages at most)


@dataclass
class MachOFile:
    path: Path
    arch: Arch
    header: MachHeader
    commands: list[LoadCommand]
    data: bytes
    """The bytes of this file (the selected slice of a fat file)."""
    symbols: list[tuple[str, Nlist64]]

    @property
    def segments(self) -> list[SegmentCommand64]:
        return [c for c in self.commands if isinstance(c, SegmentCommand64)]

    @property
    def sections(self) -> list[Section64]:
        """Every section, in file order: ``sections[i - 1]`` has ordinal ``i`` (``n_sect``)."""
        return [s for seg in self.segments for s in seg.sections]

    def section(self, segname: str, sectname: str) -> Section64 | None:
        return next((s for s in self.sections if s.segname == segname and s.sectname == sectname), None)

    def section_data(self, section: Section64) -> bytes:
        if section.is_zerofill:
            return bytes(section.size)
        return self.data[section.offset:section.offset + section.size]

    @property
    def uuid(self) -> bytes | None:
        return next((c.uuid for c in self.commands if isinstance(c, UuidCommand)), None)

    def command(self, cmd: int) -> LoadCommand | None:
        return next((c for c in self.commands if c.cmd == cmd), None)

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
    if len(data) < C.MACH_HEADER_64_SIZE:
        raise ReadError(f"{path}: Mach-O header at 0x0 is truncated ({len(data)} bytes of "
                        f"{C.MACH_HEADER_64_SIZE})")
    header = MachHeader.decode(data)
    arch = next((a for a, (cpu, _) in C.CPU_TYPES.items() if cpu == header.cputype), None)
    if arch is None:
        raise ContainerError(f"{path}: unsupported CPU type {header.cputype:#x}")
    if wanted is not None and arch is not wanted:
        raise ContainerError(f"{path}: is {C.CPU_NAMES[header.cputype]}, not {wanted.info.name}")
    if C.MACH_HEADER_64_SIZE + header.sizeofcmds > len(data):
        raise ReadError(f"{path}: load commands at {C.MACH_HEADER_64_SIZE:#x} ({header.sizeofcmds} bytes) run past "
                        f"the end of the file ({len(data):#x})")
    commands: list[LoadCommand] = []
    try:
        for i, (pos, _cmd, _size) in enumerate(load_commands(data, C.MACH_HEADER_64_SIZE, header.ncmds,
                                                            header.sizeofcmds, "<")):
            try:
                command, _ = decode_command(data, pos)
            except (struct.error, UnicodeDecodeError):
                raise ReadError(f"{path}: load command {i} at {pos:#x} is truncated or corrupt") from None
            for section in command.sections if isinstance(command, SegmentCommand64) else ():   # padded to 2**align
                if section.align > MAX_ALIGN_LOG2:
                    raise ReadError(f"{path}: load command {i} at {pos:#x}: section {section.segname},"
                                    f"{section.sectname} has align 2**{section.align}, more than 2**{MAX_ALIGN_LOG2}")
            commands.append(command)
    except LayoutError as e:
        raise ReadError(f"{path}: {e.what}") from None
    macho = MachOFile(path, arch, header, commands, data, [])
    symtab = macho.command(C.LC_SYMTAB)
    if isinstance(symtab, SymtabCommand):
        macho.symbols = _read_symbols(path, data, symtab)
    return macho


def _read_symbols(path: Path, data: bytes, symtab: SymtabCommand) -> list[tuple[str, Nlist64]]:
    end = symtab.symoff + symtab.nsyms * C.NLIST_64_SIZE
    if end > len(data) or symtab.stroff + symtab.strsize > len(data):
        raise ReadError(f"{path}: LC_SYMTAB: symbol table at {symtab.symoff:#x} ({symtab.nsyms} entries) or string "
                        f"table at {symtab.stroff:#x} ({symtab.strsize:#x} bytes) runs past the end of the file "
                        f"({len(data):#x})")
    strings = data[symtab.stroff:symtab.stroff + symtab.strsize]
    out = []
    for i in range(symtab.nsyms):
        sym = Nlist64.decode(data, symtab.symoff + i * C.NLIST_64_SIZE)
        if sym.strx >= len(strings) and sym.strx:
            raise ReadError(f"{path}: symbol {i} has string index {sym.strx:#x} past the string table")
        end = strings.find(b"\0", sym.strx)
        name = strings[sym.strx:end if end >= 0 else len(strings)]
        out.append((name.decode(errors="replace"), sym))
    return out
