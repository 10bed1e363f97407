"""The input of a Mach-O rewrite: the file as the backend's reader decodes it, each load command's raw bytes, and
where each command points into the file; plus what both rewriters (object, dSYM) do with it.

Load commands other than segments are kept as their raw bytes; only their file-offset fields are patched when the
pieces they point to move. A command that may point into the file but is not listed in `POINTERS` is refused (its
data would be lost or left pointing at the wrong bytes); commands listed in `NO_POINTERS` are copied as they are.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from dwarfkit.errors import ContainerError, ReadError
from dwarfkit.sections import DwarfSections, RelocKind, Section

from . import constants as C
from .commands import Nlist64, Section64
from .dsym import check_encoding
from .names import debug_section_name, symbol_name
from .parse import LayoutError, load_commands
from .reader import MachOFile, read_macho_bytes

# cmd -> (offset field, count field, bytes per count) of each table the command points to, within the command.
POINTERS: dict[int, tuple[tuple[int, int, int], ...]] = {
    C.LC_SYMTAB: ((8, 12, C.NLIST_64_SIZE), (16, 20, 1)),
    C.LC_DYSYMTAB: ((32, 36, 8), (40, 44, 56), (48, 52, 4), (56, 60, 4), (64, 68, 8), (72, 76, 8)),
    **{cmd: ((8, 12, 1),) for cmd in (
        0x1D,  # LC_CODE_SIGNATURE
        0x1E,  # LC_SEGMENT_SPLIT_INFO
        0x26,  # LC_FUNCTION_STARTS
        0x29,  # LC_DATA_IN_CODE
        0x2B,  # LC_DYLIB_CODE_SIGN_DRS
        0x2E,  # LC_LINKER_OPTIMIZATION_HINT
    )},
}
NO_POINTERS = frozenset((
    C.LC_UUID, C.LC_BUILD_VERSION,
    0x24, 0x25, 0x2F, 0x30,  # LC_VERSION_MIN_MACOSX, _IPHONEOS, _TVOS, _WATCHOS
    0x2A,  # LC_SOURCE_VERSION
    0x2D,  # LC_LINKER_OPTION
))

DWARF_SEGMENT = "__DWARF"


@dataclass
class RawLoadCommand:
    offset: int
    """Where the command starts in the input."""
    cmd: int
    data: bytearray


@dataclass
class Input:
    path: str
    data: bytes
    macho: MachOFile
    commands: list[RawLoadCommand]

    @property
    def filetype(self) -> int:
        return self.macho.header.filetype

    def tables(self) -> Iterator[tuple[RawLoadCommand, int, int, int]]:
        """(command, position of its offset field, file offset, size) of every table a non-segment command points
        to (empty tables left out)."""
        for command in self.commands:
            for at, count_at, unit in POINTERS.get(command.cmd, ()):
                offset, count = struct.unpack_from("<II", command.data, at)[0], \
                    struct.unpack_from("<I", command.data, count_at)[0]
                if count:
                    yield command, at, offset, count * unit


def parse(path: str, data: bytes) -> Input:
    """The input as the backend's reader decodes it (thin, 64-bit little-endian); any problem is a ContainerError."""
    if len(data) >= 4 and int.from_bytes(data[:4], "big") in (C.FAT_MAGIC, C.FAT_MAGIC_64):
        raise ContainerError(f"{path}: is a fat (universal) file; rewrite each architecture's thin file "
                             f"(lipo -thin) and join them again")
    if len(data) < C.MACH_HEADER_64_SIZE:
        raise ContainerError(f"{path}: not a Mach-O file ({len(data)} bytes, shorter than a Mach-O header)")
    try:
        macho = read_macho_bytes(path, data)
    except ReadError as e:
        raise ContainerError(str(e)) from None
    except struct.error:  # a field past the end the reader did not bound
        raise ContainerError(f"{path}: a load command or table runs past the end of the file") from None
    raw: list[RawLoadCommand] = []
    try:
        for offset, cmd, size in load_commands(data, C.MACH_HEADER_64_SIZE, macho.header.ncmds,
                                               macho.header.sizeofcmds, "<"):
            raw.append(RawLoadCommand(offset, cmd, bytearray(data[offset:offset + size])))
    except LayoutError as e:  # the reader walked the same commands and would have refused: kept for safety
        raise ContainerError(f"{path}: {e.what}") from None
    return Input(path, data, macho, raw)


def check_layout(parsed: Input) -> None:
    """Before moving pieces: every piece lies inside the file, and every command is one whose pointers are known."""
    path, size = parsed.path, len(parsed.data)

    def inside(what: str, offset: int, length: int) -> None:
        if offset + length > size:
            raise ContainerError(f"{path}: {what} at 0x{offset:x}+0x{length:x} runs past the end of the file "
                                 f"(0x{size:x} bytes)")

    segments = iter(parsed.macho.segments)
    for command in parsed.commands:
        where = f"load command at 0x{command.offset:x} (cmd 0x{command.cmd:x})"
        if command.cmd == C.LC_SEGMENT_64:
            segment = next(segments)
            if len(command.data) != C.SEGMENT_COMMAND_64_SIZE + C.SECTION_64_SIZE * len(segment.sections):
                raise ContainerError(f"{path}: {where}: segment {segment.segname!r} has {len(segment.sections)} "
                                     f"sections, which do not fit its size {len(command.data)}")
            try:  # the rewrite re-encodes segment commands: only those that encode back to their bytes
                same = segment.encode() == bytes(command.data)
            except ValueError:
                same = False
            if not same:
                raise ContainerError(f"{path}: {where}: segment {segment.segname!r} does not read back as written "
                                     f"(a name that is not UTF-8, or a count that disagrees)")
            inside(f"segment {segment.segname!r}", segment.fileoff, segment.filesize)
            for s in segment.sections:
                if not s.is_zerofill and s.offset:
                    inside(f"section {s.segname},{s.sectname}", s.offset, s.size)
                inside(f"relocations of {s.segname},{s.sectname}", s.reloff, s.nreloc * C.RELOCATION_INFO_SIZE)
        elif command.cmd in POINTERS:
            needed = max(count_at for _at, count_at, _unit in POINTERS[command.cmd]) + 4
            if len(command.data) < needed:
                raise ContainerError(f"{path}: {where} is {len(command.data)} bytes long, shorter than its "
                                     f"{needed} bytes of fields")
        elif command.cmd not in NO_POINTERS:
            raise ContainerError(f"{path}: {where} is one this rewriter does not know; it may point into the file, "
                                 f"and the rewrite moves things")
    for command, _at, offset, length in parsed.tables():
        inside(f"table of load command 0x{command.cmd:x}", offset, length)


def check_dwarf(parsed: Input, dwarf: DwarfSections, compress: bool | None) -> None:
    if compress:
        raise ContainerError(f"{parsed.path}: Mach-O debug sections are not compressed (neither clang nor dsymutil "
                             f"writes them so, and lldb-14 does not read them); convert without --compress")
    check_encoding(dwarf, parsed.macho.arch, parsed.path)
    for section in dwarf:  # an offset into a section that is not written would be silently wrong DWARF
        for r in section.relocations:
            if r.kind in (RelocKind.SECTION, RelocKind.UNIT) and r.target not in dwarf.sections:
                raise ContainerError(f"{parsed.path}: {section.name}+0x{r.offset:x} is an offset into {r.target}, "
                                     f"which the DWARF to write does not have")


def debug_sections(dwarf: DwarfSections) -> list[Section]:
    """The sections of ``dwarf`` that go to ``__DWARF`` (an ``.eh_frame`` stays the input's ``__TEXT,__eh_frame``)."""
    return [s for s in dwarf if s.name != ".eh_frame"]


class Symbols:
    """Names -> symbol table entries of the input, and the name rule of a rewrite: a symbol of exactly that name,
    else a section named ``SEGNAME,sectname``, else the symbol ``_name`` (the source-level spelling the writers
    of this backend take, ``main`` for ``_main``)."""

    def __init__(self, parsed: Input) -> None:
        self.entries = parsed.macho.symbols
        self.index: dict[str, int] = {}
        for i, (name, sym) in enumerate(self.entries):
            if not sym.is_stab and name:
                self.index.setdefault(name, i)
        self.sections: dict[str, tuple[int, Section64]] = {}
        for number, s in enumerate(parsed.macho.sections, 1):
            self.sections.setdefault(f"{s.segname},{s.sectname}", (number, s))

    def find(self, name: str) -> tuple[int, Nlist64] | tuple[None, Section64] | None:
        """(symbol index, entry) or (None, section) for ``name``, or None."""
        if name in self.index:
            return self.index[name], self.entries[self.index[name]][1]
        if name in self.sections and self.sections[name][1].segname != DWARF_SEGMENT:
            return None, self.sections[name][1]
        if symbol_name(name) in self.index:
            i = self.index[symbol_name(name)]
            return i, self.entries[i][1]
        return None

    def address(self, name: str) -> int | None:
        """The address a relocation against ``name`` adds (a linked file's final one), or None when unknown
        (or undefined)."""
        found = self.find(name)
        if found is None:
            return None
        index, entry = found
        if isinstance(entry, Section64):
            return entry.addr
        if entry.type & C.N_TYPE in (C.N_SECT, C.N_ABS):
            return entry.value
        return None


def dwarf_segment_section(name: str, size: int, alignment: int) -> Section64:
    """The header of new debug section ``name`` (ELF spelling), address and offset to be set."""
    if not (isinstance(alignment, int) and 0 < alignment <= 1 << 15 and alignment & (alignment - 1) == 0):
        raise ContainerError(f"{name}: alignment {alignment!r} is not a power of two up to 32768")
    return Section64(debug_section_name(name), DWARF_SEGMENT, size=size, align=max(alignment, 1).bit_length() - 1,
                     flags=C.S_ATTR_DEBUG)


def check_unique_names(sections: list[Section64], path: str) -> None:
    if len(sections) > 255:
        raise ContainerError(f"{path}: {len(sections)} sections; a Mach-O symbol numbers its section in one byte")
    names = [(s.segname, s.sectname) for s in sections]
    twice = sorted({f"{seg},{sect}" for seg, sect in names if names.count((seg, sect)) > 1})
    if twice:
        raise ContainerError(f"{path}: the new debug sections map to Mach-O sections that exist already: "
                             f"{', '.join(twice)}")
