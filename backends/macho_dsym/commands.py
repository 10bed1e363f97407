"""Mach-O header, load commands, symbols and relocations: each one a dataclass that encodes and decodes itself.

Only little-endian 64-bit files (x86_64, arm64) are written. The header, segments, sections, ``LC_SYMTAB``,
``LC_UUID``, symbols and relocation records also decode from 32-bit and big-endian files (``e``: the struct byte
order, ``<`` or ``>``; ``is64``: the width), for the DWARF reader (see `parse`); a 32-bit section or symbol is held
widened in the 64-bit dataclass. Load commands we do not model are kept as :class:`RawCommand` so that a file read
and written back keeps them.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Union

from . import constants as C


def pack_name(name: str) -> bytes:
    raw = name.encode()
    if len(raw) > C.NAME_LENGTH:
        raise ValueError(f"Mach-O name {name!r} is longer than {C.NAME_LENGTH} bytes")
    return raw.ljust(C.NAME_LENGTH, b"\0")


def unpack_name(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def _pad8(data: bytes) -> bytes:
    """Load commands of 64-bit files are multiples of 8 bytes long."""
    return data + bytes(-len(data) % 8)


@dataclass
class MachHeader:
    FORMAT: ClassVar[str] = "<IiiIIIII"
    cputype: int
    cpusubtype: int
    filetype: int
    ncmds: int = 0
    sizeofcmds: int = 0
    flags: int = 0

    def encode(self) -> bytes:
        return struct.pack(self.FORMAT, C.MH_MAGIC_64, self.cputype, self.cpusubtype, self.filetype, self.ncmds,
                           self.sizeofcmds, self.flags, 0)

    @classmethod
    def decode(cls, data: bytes, pos: int = 0, e: str = "<") -> "MachHeader":
        """The fields common to both widths (a 64-bit header has 4 reserved bytes more)."""
        _, cpu, sub, ftype, ncmds, size, flags = struct.unpack_from(e + cls.FORMAT[1:-1], data, pos)
        return cls(cpu, sub, ftype, ncmds, size, flags)


@dataclass
class Section64:
    FORMAT: ClassVar[str] = "<16s16sQQIIIIIIII"
    sectname: str
    segname: str
    addr: int = 0
    size: int = 0
    offset: int = 0
    align: int = 0
    """log2 of the alignment."""
    reloff: int = 0
    nreloc: int = 0
    flags: int = 0
    reserved1: int = 0
    reserved2: int = 0
    reserved3: int = 0

    @property
    def type(self) -> int:
        return self.flags & C.SECTION_TYPE_MASK

    @property
    def is_zerofill(self) -> bool:
        return self.type == C.S_ZEROFILL

    def encode(self) -> bytes:
        return struct.pack(self.FORMAT, pack_name(self.sectname), pack_name(self.segname), self.addr, self.size,
                           self.offset, self.align, self.reloff, self.nreloc, self.flags, self.reserved1,
                           self.reserved2, self.reserved3)

    @classmethod
    def decode(cls, data: bytes, pos: int, e: str = "<", is64: bool = True) -> "Section64":
        """A ``section_64``, or a 32-bit ``section`` (no ``reserved3``)."""
        sect, seg, *rest = struct.unpack_from(e + (cls.FORMAT[1:] if is64 else "16s16s9I"), data, pos)
        return cls(unpack_name(sect), unpack_name(seg), *rest)


@dataclass
class SegmentCommand64:
    FORMAT: ClassVar[str] = "<II16sQQQQiiII"
    segname: str
    vmaddr: int = 0
    vmsize: int = 0
    fileoff: int = 0
    filesize: int = 0
    maxprot: int = 0
    initprot: int = 0
    flags: int = 0
    sections: list[Section64] = field(default_factory=list)
    cmd: int = C.LC_SEGMENT_64
    declared_nsects: int | None = field(default=None, compare=False, repr=False)
    """The section count the command read from a file declares (a tolerant decode keeps only those that fit)."""

    @property
    def cmdsize(self) -> int:
        return C.SEGMENT_COMMAND_64_SIZE + C.SECTION_64_SIZE * len(self.sections)

    @staticmethod
    def sizes(is64: bool) -> tuple[int, int]:
        """The sizes of the command without its sections and of one section: ``LC_SEGMENT_64`` or ``LC_SEGMENT``."""
        return (C.SEGMENT_COMMAND_64_SIZE, C.SECTION_64_SIZE) if is64 else (56, 68)

    def encode(self) -> bytes:
        head = struct.pack(self.FORMAT, C.LC_SEGMENT_64, self.cmdsize, pack_name(self.segname), self.vmaddr,
                           self.vmsize, self.fileoff, self.filesize, self.maxprot, self.initprot, len(self.sections),
                           self.flags)
        return head + b"".join(s.encode() for s in self.sections)

    @classmethod
    def decode(cls, data: bytes, pos: int, e: str = "<", is64: bool = True,
               cmdsize: int | None = None) -> "SegmentCommand64":
        """An ``LC_SEGMENT_64`` or (``is64`` false) ``LC_SEGMENT``; with ``cmdsize``, only the sections that fit
        in it (a tolerant reader's choice: the count may be damaged)."""
        head, size = cls.sizes(is64)
        _, _, name, vmaddr, vmsize, fileoff, filesize, maxprot, initprot, declared, flags = struct.unpack_from(
            e + (cls.FORMAT[1:] if is64 else "II16s4IiiII"), data, pos)
        nsects = declared if cmdsize is None else max(0, min(declared, (cmdsize - head) // size))
        sections = [Section64.decode(data, pos + head + i * size, e, is64) for i in range(nsects)]
        return cls(unpack_name(name), vmaddr, vmsize, fileoff, filesize, maxprot, initprot, flags, sections,
                   C.LC_SEGMENT_64 if is64 else C.LC_SEGMENT, declared)


@dataclass
class SymtabCommand:
    symoff: int = 0
    nsyms: int = 0
    stroff: int = 0
    strsize: int = 0
    cmd: int = C.LC_SYMTAB

    def encode(self) -> bytes:
        return struct.pack("<IIIIII", C.LC_SYMTAB, 24, self.symoff, self.nsyms, self.stroff, self.strsize)

    @classmethod
    def decode(cls, data: bytes, pos: int, e: str = "<") -> "SymtabCommand":
        return cls(*struct.unpack_from(e + "IIII", data, pos + 8))


@dataclass
class DysymtabCommand:
    """Local, defined external and undefined symbols are three consecutive runs of the symbol table."""
    ilocalsym: int = 0
    nlocalsym: int = 0
    iextdefsym: int = 0
    nextdefsym: int = 0
    iundefsym: int = 0
    nundefsym: int = 0
    cmd: int = C.LC_DYSYMTAB

    def encode(self) -> bytes:
        return struct.pack("<8I12I", C.LC_DYSYMTAB, 80, self.ilocalsym, self.nlocalsym, self.iextdefsym,
                           self.nextdefsym, self.iundefsym, self.nundefsym, *([0] * 12))

    @classmethod
    def decode(cls, data: bytes, pos: int) -> "DysymtabCommand":
        return cls(*struct.unpack_from("<6I", data, pos + 8))


@dataclass
class UuidCommand:
    uuid: bytes
    cmd: int = C.LC_UUID

    def encode(self) -> bytes:
        return struct.pack("<II", C.LC_UUID, 24) + self.uuid

    @classmethod
    def decode(cls, data: bytes, pos: int) -> "UuidCommand":
        return cls(bytes(data[pos + 8:pos + 24]))


@dataclass
class BuildVersionCommand:
    platform: int = C.PLATFORM_MACOS
    minos: int = 0x000B0000
    """Version as xxxx.yy.zz nibbles: 11.0 is 0x000B0000."""
    sdk: int = 0x000B0000
    tools: list[tuple[int, int]] = field(default_factory=list)
    cmd: int = C.LC_BUILD_VERSION

    def encode(self) -> bytes:
        body = b"".join(struct.pack("<II", tool, version) for tool, version in self.tools)
        return struct.pack("<6I", C.LC_BUILD_VERSION, 24 + len(body), self.platform, self.minos, self.sdk,
                           len(self.tools)) + body

    @classmethod
    def decode(cls, data: bytes, pos: int) -> "BuildVersionCommand":
        platform, minos, sdk, ntools = struct.unpack_from("<4I", data, pos + 8)
        tools = [struct.unpack_from("<II", data, pos + 24 + 8 * i) for i in range(ntools)]
        return cls(platform, minos, sdk, [tuple(t) for t in tools])


@dataclass
class DylinkerCommand:
    name: str = "/usr/lib/dyld"
    cmd: int = C.LC_LOAD_DYLINKER

    def encode(self) -> bytes:
        name = _pad8(bytes(12) + self.name.encode() + b"\0")[12:]
        return struct.pack("<III", C.LC_LOAD_DYLINKER, 12 + len(name), 12) + name

    @classmethod
    def decode(cls, data: bytes, pos: int) -> "DylinkerCommand":
        size, offset = struct.unpack_from("<II", data, pos + 4)
        return cls(unpack_name(bytes(data[pos + offset:pos + size]) + b"\0"))


@dataclass
class EntryPointCommand:
    entryoff: int = 0
    """File offset of the entry point (LC_MAIN)."""
    stacksize: int = 0
    cmd: int = C.LC_MAIN

    def encode(self) -> bytes:
        return struct.pack("<IIQQ", C.LC_MAIN, 24, self.entryoff, self.stacksize)

    @classmethod
    def decode(cls, data: bytes, pos: int) -> "EntryPointCommand":
        return cls(*struct.unpack_from("<QQ", data, pos + 8))


@dataclass
class LinkeditDataCommand:
    """LC_FUNCTION_STARTS, LC_DATA_IN_CODE, LC_CODE_SIGNATURE: a blob in __LINKEDIT."""
    cmd: int
    dataoff: int = 0
    datasize: int = 0

    def encode(self) -> bytes:
        return struct.pack("<IIII", self.cmd, 16, self.dataoff, self.datasize)

    @classmethod
    def decode(cls, data: bytes, pos: int, e: str = "<") -> "LinkeditDataCommand":
        cmd, _, off, size = struct.unpack_from(e + "IIII", data, pos)
        return cls(cmd, off, size)


@dataclass
class DyldInfoCommand:
    """LC_DYLD_INFO_ONLY. A static executable has no rebases or binds, only the export trie."""
    rebase_off: int = 0
    rebase_size: int = 0
    bind_off: int = 0
    bind_size: int = 0
    weak_bind_off: int = 0
    weak_bind_size: int = 0
    lazy_bind_off: int = 0
    lazy_bind_size: int = 0
    export_off: int = 0
    export_size: int = 0
    cmd: int = C.LC_DYLD_INFO_ONLY

    def encode(self) -> bytes:
        return struct.pack("<12I", C.LC_DYLD_INFO_ONLY, 48, self.rebase_off, self.rebase_size, self.bind_off,
                           self.bind_size, self.weak_bind_off, self.weak_bind_size, self.lazy_bind_off,
                           self.lazy_bind_size, self.export_off, self.export_size)

    @classmethod
    def decode(cls, data: bytes, pos: int, e: str = "<") -> "DyldInfoCommand":
        """``LC_DYLD_INFO_ONLY`` or ``LC_DYLD_INFO`` (the same layout)."""
        cmd, _, *fields = struct.unpack_from(e + "12I", data, pos)
        out = cls(*fields)
        out.cmd = cmd
        return out


@dataclass
class RawCommand:
    """A load command we do not interpret, kept byte for byte."""
    cmd: int
    data: bytes

    def encode(self) -> bytes:
        return self.data


LoadCommand = Union[SegmentCommand64, SymtabCommand, DysymtabCommand, UuidCommand, BuildVersionCommand,
                    DylinkerCommand, EntryPointCommand, LinkeditDataCommand, DyldInfoCommand, RawCommand]

_DECODERS: dict[int, Callable[[bytes, int], LoadCommand]] = {
    C.LC_SEGMENT_64: SegmentCommand64.decode, C.LC_SYMTAB: SymtabCommand.decode,
    C.LC_DYSYMTAB: DysymtabCommand.decode, C.LC_UUID: UuidCommand.decode,
    C.LC_BUILD_VERSION: BuildVersionCommand.decode, C.LC_LOAD_DYLINKER: DylinkerCommand.decode,
    C.LC_MAIN: EntryPointCommand.decode, C.LC_FUNCTION_STARTS: LinkeditDataCommand.decode,
    C.LC_DATA_IN_CODE: LinkeditDataCommand.decode, C.LC_CODE_SIGNATURE: LinkeditDataCommand.decode,
    C.LC_DYLD_INFO_ONLY: DyldInfoCommand.decode,
}


def decode_command(data: bytes, pos: int) -> tuple[LoadCommand, int]:
    """One load command at ``pos``; returns it and its size."""
    cmd, size = struct.unpack_from("<II", data, pos)
    decoder = _DECODERS.get(cmd)
    command = decoder(data, pos) if decoder else RawCommand(cmd, bytes(data[pos:pos + size]))
    return command, size


@dataclass
class Nlist64:
    FORMAT: ClassVar[str] = "<IBBHQ"
    strx: int
    type: int
    sect: int
    desc: int
    value: int

    @property
    def is_stab(self) -> bool:
        return bool(self.type & C.N_STAB)

    def encode(self) -> bytes:
        return struct.pack(self.FORMAT, self.strx, self.type, self.sect, self.desc, self.value)

    @classmethod
    def decode(cls, data: bytes, pos: int, e: str = "<", is64: bool = True) -> "Nlist64":
        """An ``nlist_64``, or a 32-bit ``nlist`` (4-byte value)."""
        return cls(*struct.unpack_from(e + (cls.FORMAT[1:] if is64 else "IBBHI"), data, pos))


@dataclass
class RelocationInfo:
    address: int
    """Offset of the field from the start of its section."""
    symbolnum: int
    """Symbol index when ``extern``, else the 1-based ordinal of the section the value points into."""
    pcrel: bool
    length: int
    """log2 of the field size: 2 for 4 bytes, 3 for 8."""
    extern: bool
    type: int

    def encode(self) -> bytes:
        word = (self.symbolnum & 0xFFFFFF) | (int(self.pcrel) << 24) | (self.length << 25) | \
            (int(self.extern) << 27) | (self.type << 28)
        return struct.pack("<iI", self.address, word)

    @classmethod
    def decode(cls, data: bytes, pos: int, e: str = "<") -> "RelocationInfo":
        """A negative ``address`` is a scattered record (32-bit files only), whose other fields mean other things.
        A big-endian file lays the bit fields out from the top bit: ``r_symbolnum`` first, ``r_type`` last."""
        address, word = struct.unpack_from(e + "iI", data, pos)
        if e == ">":
            return cls(address, word >> 8, bool((word >> 7) & 1), (word >> 5) & 3, bool((word >> 4) & 1), word & 15)
        return cls(address, word & 0xFFFFFF, bool((word >> 24) & 1), (word >> 25) & 3, bool((word >> 27) & 1),
                   word >> 28)
