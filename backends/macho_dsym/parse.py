"""Decoding Mach-O files, once for all of its readers: fat headers, the header, load commands, segments and
sections, the symbol and string tables, LC_UUID, the ``__LINKEDIT`` data commands and relocation records, in either
byte order and width.

Its clients are the backend's `reader` (strict: 64-bit little-endian input of the writers and rewriters; the first
problem is an error), ``dwarfkit.reader.macho`` (tolerant: any width and byte order; it records a problem and
reads on) and ``dwarfkit.reader.container_check`` (`fat_arch_count`, `load_commands`, `decode_load_command`
tolerant: it judges the values itself, so that each problem of a file is a finding). `parse_thin` takes ``strict``
for that choice; everything else checks every offset against the bytes it has and raises `LayoutError` naming the
entry and its offset, and the caller decides what the error becomes (it adds the file's name). The records
themselves are the dataclasses of `commands`, which decode themselves. Imports only the standard library,
`constants` and `commands`.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from . import constants as C
from .commands import (
    DyldInfoCommand,
    LinkeditDataCommand,
    LoadCommand,
    MachHeader,
    Nlist64,
    RawCommand,
    RelocationInfo,
    Section64,
    SegmentCommand64,
    SymtabCommand,
    UuidCommand,
    decode_command,
)


class LayoutError(Exception):
    """An entry of the fat header or a load command that does not fit: ``what`` names it and says why."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class FatEntry:
    index: int
    cputype: int
    offset: int
    size: int


def is_fat(data: bytes) -> bool:
    return len(data) >= 8 and int.from_bytes(data[:4], "big") in (C.FAT_MAGIC, C.FAT_MAGIC_64)


def fat_arch_count(data: bytes) -> tuple[int, int]:
    """``(nfat_arch, size of one entry)`` of a fat header (FAT_MAGIC_64's entries have 64-bit offsets and sizes)."""
    return int.from_bytes(data[4:8], "big"), 32 if int.from_bytes(data[:4], "big") == C.FAT_MAGIC_64 else 20


def fat_entries(data: bytes) -> list[FatEntry]:
    """The architectures of a fat file (its header is big-endian). Slices are not checked against the file's size
    here: a reader may need only one of them."""
    count, entry = fat_arch_count(data)
    is64 = entry == 32
    out = []
    for i in range(count):
        off = 8 + i * entry
        if off + entry > len(data):
            raise LayoutError(f"fat header entry {i} is past the end of the file")
        cputype = int.from_bytes(data[off:off + 4], "big")
        start, size = struct.unpack_from(">QQ" if is64 else ">II", data, off + 8)
        out.append(FatEntry(i, cputype, start, size))
    return out


def load_commands(data: bytes, start: int, ncmds: int, sizeofcmds: int, e: str) -> Iterator[tuple[int, int, int]]:
    """``(offset, cmd, cmdsize)`` of each load command from ``start``, in byte order ``e`` (``<`` or ``>``).
    A command must lie inside both ``sizeofcmds`` and the file; the first that does not raises `LayoutError`
    after the ones before it were yielded."""
    end = min(start + sizeofcmds, len(data))
    off = start
    for i in range(ncmds):
        if off + 8 > end:
            raise LayoutError(f"load command {i} at 0x{off:x} is past the end of the commands")
        cmd, cmdsize = struct.unpack_from(e + "2I", data, off)
        if cmdsize < 8 or off + cmdsize > end:
            raise LayoutError(f"load command {i} at 0x{off:x} has a bad size {cmdsize}")
        yield off, cmd, cmdsize
        off += cmdsize


def thin_format(data: bytes) -> tuple[str, bool] | None:
    """``(byte order, is64)`` of a thin Mach-O file by its magic (``<`` or ``>`` for `struct`), or None."""
    for e in "<>":
        magic = int.from_bytes(data[:4], "little" if e == "<" else "big")
        if magic in (C.MH_MAGIC, C.MH_MAGIC_64):
            return e, magic == C.MH_MAGIC_64
    return None


@dataclass
class ThinFile:
    """A thin Mach-O file (or one slice of a fat file): its header and its load commands, decoded."""
    data: bytes
    e: str
    """Byte order for `struct`: ``<`` or ``>``."""
    is64: bool
    header: MachHeader
    commands: list[LoadCommand]
    problems: list[str]
    """What a tolerant parse read past (a strict one raises instead)."""

    @property
    def segments(self) -> list[SegmentCommand64]:
        return [c for c in self.commands if isinstance(c, SegmentCommand64)]

    @property
    def sections(self) -> list[Section64]:
        """Every section, in file order: ``sections[i - 1]`` has ordinal ``i`` (``n_sect``, ``r_symbolnum``)."""
        return [s for seg in self.segments for s in seg.sections]

    def command(self, cmd: int) -> LoadCommand | None:
        return next((c for c in self.commands if c.cmd == cmd), None)

    @property
    def uuid(self) -> bytes | None:
        return next((c.uuid for c in self.commands if isinstance(c, UuidCommand)), None)

    def read_symbols(self, strict: bool) -> list[tuple[str, Nlist64]]:
        """``(name, entry)`` of each symbol of ``LC_SYMTAB`` (none without one). Strict: a table past the end of
        the file or a name outside the string table is a `LayoutError`; else only the entries inside the file are
        read, and a name outside the string table reads as ``""``."""
        symtab = self.command(C.LC_SYMTAB)
        if not isinstance(symtab, SymtabCommand):
            return []
        data, size = self.data, C.NLIST_64_SIZE if self.is64 else 12
        nsyms = symtab.nsyms
        if strict and (symtab.symoff + nsyms * size > len(data) or symtab.stroff + symtab.strsize > len(data)):
            raise LayoutError(f"LC_SYMTAB: symbol table at {symtab.symoff:#x} ({nsyms} entries) or string table at "
                              f"{symtab.stroff:#x} ({symtab.strsize:#x} bytes) runs past the end of the file "
                              f"({len(data):#x})")
        if not strict:
            nsyms = min(nsyms, max(0, (len(data) - symtab.symoff) // size))
        strings = data[symtab.stroff:min(symtab.stroff + symtab.strsize, len(data))]
        out = []
        for i in range(nsyms):
            sym = Nlist64.decode(data, symtab.symoff + i * size, self.e, self.is64)
            if sym.strx >= len(strings):
                if strict and sym.strx:
                    raise LayoutError(f"symbol {i} has string index {sym.strx:#x} past the string table")
                out.append(("", sym))
                continue
            end = strings.find(b"\0", sym.strx)
            out.append((strings[sym.strx:end if end >= 0 else len(strings)].decode(errors="replace"), sym))
        return out

    def relocations(self, section: Section64) -> list[RelocationInfo]:
        """The relocation records of ``section``; a table past the end of the file is a `LayoutError`."""
        if section.reloff + C.RELOCATION_INFO_SIZE * section.nreloc > len(self.data):
            raise LayoutError(f"relocation table at 0x{section.reloff:x} is past the end of the file")
        return [RelocationInfo.decode(self.data, section.reloff + C.RELOCATION_INFO_SIZE * i, self.e)
                for i in range(section.nreloc)]


def parse_header(data: bytes) -> tuple[str, bool, MachHeader]:
    """``(byte order, is64, header)`` of a thin Mach-O file."""
    form = thin_format(data)
    if form is None:
        raise LayoutError(f"not a Mach-O file (magic {data[:4].hex()})")
    e, is64 = form
    if len(data) < (C.MACH_HEADER_64_SIZE if is64 else 28):
        raise LayoutError("Mach-O header is truncated")
    return e, is64, MachHeader.decode(data, 0, e)


def parse_thin(data: bytes, strict: bool) -> ThinFile:
    """The header and load commands of a thin Mach-O file.

    Strict (the writers' input, 64-bit little-endian): every command is decoded, and load commands past the file
    or a command that does not decode is a `LayoutError`. Tolerant: only what the DWARF reader uses is decoded
    (segments and their sections, LC_SYMTAB, LC_UUID; the rest stays `RawCommand`), a segment's section count is
    bounded by its size, never more commands are walked than ``sizeofcmds`` has room for, and the first command
    that does not fit ends the walk with a problem recorded. A header that is not there is an error either way."""
    e, is64, header = parse_header(data)
    start = C.MACH_HEADER_64_SIZE if is64 else 28
    if strict and start + header.sizeofcmds > len(data):
        raise LayoutError(f"load commands at {start:#x} ({header.sizeofcmds} bytes) run past the end of the file "
                          f"({len(data):#x})")
    count = header.ncmds if strict else min(header.ncmds, header.sizeofcmds // 8)
    out = ThinFile(data, e, is64, header, [], [])
    try:
        for i, (pos, cmd, cmdsize) in enumerate(load_commands(data, start, count, header.sizeofcmds, e)):
            try:
                out.commands.append(decode_load_command(data, pos, cmd, cmdsize, e, strict))
            except (struct.error, UnicodeDecodeError):
                raise LayoutError(f"load command {i} at {pos:#x} is truncated or corrupt") from None
    except LayoutError as err:
        if strict:
            raise
        out.problems.append(err.what)  # keep what came before; the rest of the file may still hold DWARF
    return out


def decode_load_command(data: bytes, pos: int, cmd: int, cmdsize: int, e: str, strict: bool) -> LoadCommand:
    """The load command at ``pos`` (``cmd`` and ``cmdsize`` from `load_commands`). Strict: 64-bit little-endian,
    every command the writers model. Tolerant: segments (only the sections that fit in ``cmdsize``), LC_SYMTAB,
    LC_UUID, the ``__LINKEDIT`` data commands and LC_DYLD_INFO[_ONLY], each only when ``cmdsize`` holds it; the rest
    stay `RawCommand`."""
    if cmd in (C.LC_SEGMENT_64, C.LC_SEGMENT):
        return SegmentCommand64.decode(data, pos, e, cmd == C.LC_SEGMENT_64, None if strict else cmdsize)
    if strict:
        return decode_command(data, pos)[0]
    if cmd == C.LC_SYMTAB and cmdsize >= 24:
        return SymtabCommand.decode(data, pos, e)
    if cmd == C.LC_UUID and cmdsize >= 24:
        return UuidCommand.decode(data, pos)
    if cmd in C.LINKEDIT_DATA_COMMANDS and cmdsize >= 16:
        return LinkeditDataCommand.decode(data, pos, e)
    if cmd in C.DYLD_INFO_COMMANDS and cmdsize >= 48:
        return DyldInfoCommand.decode(data, pos, e)
    return RawCommand(cmd, bytes(data[pos:pos + cmdsize]))
