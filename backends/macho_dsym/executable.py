"""A minimal ``MH_EXECUTE`` writer, so that the whole Mach-O flow runs without Apple's tools.

It writes the load commands ld64.lld writes for a static, self-contained program: ``__PAGEZERO``, ``__TEXT`` (code,
read-only data), ``__DATA`` (data, zero-fill) when the image has data, ``__LINKEDIT`` (export trie, function starts,
data-in-code, symbol and string tables, on arm64 an ad-hoc code signature), ``LC_DYLD_INFO_ONLY``, ``LC_SYMTAB``,
``LC_DYSYMTAB``, ``LC_LOAD_DYLINKER``, ``LC_UUID``, ``LC_BUILD_VERSION``, ``LC_MAIN``, ``LC_FUNCTION_STARTS``,
``LC_DATA_IN_CODE``. The DWARF does not go in here: :func:`~.dsym.write_dsym` puts it in the executable's dSYM.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from dwarfkit.arch import Arch
from dwarfkit.encoding import align_up, uleb128
from dwarfkit.errors import ContainerError, DescriptionError
from dwarfkit.image import ContentSection, Image, SectionKind, SymbolKind
from dwarfkit.output import write_atomically
from dwarfkit.sections import apply_relocations

from . import constants as C
from .codesign import ALIGNMENT as SIGNATURE_ALIGNMENT
from .codesign import code_signature, signature_size
from .commands import (
    BuildVersionCommand,
    DyldInfoCommand,
    DylinkerCommand,
    DysymtabCommand,
    EntryPointCommand,
    LinkeditDataCommand,
    LoadCommand,
    MachHeader,
    Section64,
    SegmentCommand64,
    SymtabCommand,
    UuidCommand,
)
from .exports import export_trie
from .layout import FileSpace
from .names import content_section_name, symbol_name
from .symtab import SymbolEntry, encode_symtab

BASE_ADDRESS = C.PAGEZERO_SIZE
HEADER_SYMBOL = "__mh_execute_header"
MACOS_11 = 0x000B0000

_SEGMENT_OF_KIND = {SectionKind.CODE: "__TEXT", SectionKind.RODATA: "__TEXT", SectionKind.DATA: "__DATA",
                    SectionKind.BSS: "__DATA"}
_KIND_ORDER = [SectionKind.CODE, SectionKind.RODATA, SectionKind.DATA, SectionKind.BSS]
_PROTECTION = {"__TEXT": C.VM_PROT_READ | C.VM_PROT_EXECUTE, "__DATA": C.VM_PROT_READ | C.VM_PROT_WRITE}


def write_executable(image: Image, path: str | Path) -> None:
    """Writes ``image`` as a macOS executable at ``path`` (atomically, mode 0755). Its entry point is
    ``image.entry``, or ``main``."""
    path = Path(path)
    write_atomically(path, build_executable(image, path.name), executable=True)


@dataclass
class _Placed:
    source: ContentSection
    header: Section64


def section_flags(kind: SectionKind) -> int:
    if kind is SectionKind.CODE:
        return C.S_REGULAR | C.S_ATTR_PURE_INSTRUCTIONS | C.S_ATTR_SOME_INSTRUCTIONS
    return C.S_ZEROFILL if kind is SectionKind.BSS else C.S_REGULAR


def build_executable(image: Image, identifier: str) -> bytes:
    """The bytes of the executable; ``identifier`` names it in the code signature."""
    image.validate()
    cputype, cpusubtype = C.CPU_TYPES[image.arch]
    page = C.PAGE_SIZES[image.arch]
    undefined = [s.name for s in image.symbols if s.section is None]
    if undefined:
        raise ContainerError(f"executable {identifier}: undefined symbols {', '.join(undefined)}; the Mach-O "
                             f"executable writer links no libraries")
    placed, segments = _section_headers(image, identifier)
    text, data = segments["__TEXT"], segments.get("__DATA")
    linkedit = SegmentCommand64("__LINKEDIT", maxprot=C.VM_PROT_READ, initprot=C.VM_PROT_READ)
    tables = _Linkedit(signature=LinkeditDataCommand(C.LC_CODE_SIGNATURE) if image.arch is Arch.AARCH64 else None)
    uuid, main = UuidCommand(bytes(16)), EntryPointCommand()
    commands: list[LoadCommand] = [
        SegmentCommand64("__PAGEZERO", vmsize=C.PAGEZERO_SIZE), text, *([data] if data else []), linkedit,
        tables.dyld_info, tables.symtab, tables.dysymtab, DylinkerCommand(), uuid,
        BuildVersionCommand(minos=MACOS_11, sdk=MACOS_11), main, tables.function_starts, tables.data_in_code,
        *([tables.signature] if tables.signature else [])]
    sizeofcmds = sum(len(c.encode()) for c in commands)
    file_end = _place_segments([s for s in (text, data) if s is not None], placed,
                               C.MACH_HEADER_64_SIZE + sizeofcmds, page)

    # Symbols and the code and data bytes, with their relocations applied.
    section_address = {p.source.name: p.header.addr for p in placed}
    addresses = {s.name: section_address[s.section] + s.value for s in image.symbols if s.section is not None}
    entry = image.entry or "main"
    if entry not in addresses or image.section(image.symbol(entry).section or "").kind is not SectionKind.CODE:
        raise DescriptionError(f"executable {identifier}: entry symbol {entry!r} is not defined in a code section")
    main.entryoff = addresses[entry] - text.vmaddr + text.fileoff
    contents: list[tuple[int, bytes]] = []
    for p in placed:
        if not p.header.is_zerofill:
            raw = bytearray(p.source.data)
            apply_relocations(raw, p.source.name, p.source.relocations, addresses, section_address, "little")
            contents.append((p.header.offset, bytes(raw)))

    linkedit.fileoff = file_end
    linkedit.vmaddr = max(s.vmaddr + s.vmsize for s in (text, data) if s is not None)
    space = tables.place(image, placed, addresses, text.vmaddr, file_end, identifier, contents)
    linkedit.filesize = space.end() - linkedit.fileoff
    linkedit.vmsize = align_up(linkedit.filesize, page)

    header = MachHeader(cputype, cpusubtype, C.MH_EXECUTE, len(commands), sizeofcmds,
                        C.MH_NOUNDEFS | C.MH_DYLDLINK | C.MH_TWOLEVEL | C.MH_PIE)
    out = bytearray(tables.signature.dataoff if tables.signature else space.end())
    for at, blob in contents:
        out[at:at + len(blob)] = blob
    # The UUID is a hash of everything else (with the UUID zero), so that equal inputs give equal files.
    _write_commands(out, header, commands)
    uuid.uuid = _uuid_of(bytes(out))
    _write_commands(out, header, commands)
    if tables.signature is not None:
        out += code_signature(bytes(out), identifier, text.fileoff, text.filesize)
    return bytes(out)


def _section_headers(image: Image, identifier: str) -> tuple[list[_Placed], dict[str, SegmentCommand64]]:
    """Segments and section headers, without offsets and addresses yet (they depend on the load commands' size)."""
    placed: list[_Placed] = []
    segments: dict[str, SegmentCommand64] = {}
    seen: set[tuple[str, str]] = set()
    for kind in _KIND_ORDER:
        for section in (s for s in image.sections if s.kind is kind):
            segname, sectname = content_section_name(section.name, kind)
            if (segname, sectname) in seen:
                raise DescriptionError(f"image sections map to the same Mach-O section {segname},{sectname}; "
                                       f"rename {section.name}")
            seen.add((segname, sectname))
            header = Section64(sectname, segname, align=max(section.alignment, 1).bit_length() - 1,
                               flags=section_flags(kind))
            segment = segments.setdefault(segname, SegmentCommand64(segname, maxprot=_PROTECTION[segname],
                                                                    initprot=_PROTECTION[segname]))
            segment.sections.append(header)
            placed.append(_Placed(section, header))
    if "__TEXT" not in segments:
        raise DescriptionError(f"executable {identifier}: the image has no code section")
    return placed, segments


def _place_segments(segments: list[SegmentCommand64], placed: list[_Placed], header_end: int, page: int) -> int:
    """Lays out __TEXT (from the end of the load commands) and __DATA on page boundaries, file offset and address
    in step (__TEXT maps the file from offset 0); returns where the file-backed segments end."""
    file_end = 0
    for segment in segments:
        segment.fileoff = file_end
        segment.vmaddr = BASE_ADDRESS + file_end
        space = FileSpace(max(file_end, header_end), slack=False)
        zerofill_at: int | None = None
        for p in (p for p in placed if p.header.segname == segment.segname):
            alignment = 1 << p.header.align
            if p.header.is_zerofill:  # memory only, after the file-backed part
                zerofill_at = align_up(space.end() if zerofill_at is None else zerofill_at, alignment)
                p.header.addr = segment.vmaddr + zerofill_at - segment.fileoff
                zerofill_at += p.source.byte_size
            else:
                p.header.offset = space.allocate(p.header.sectname, p.source.byte_size, alignment)
                p.header.addr = segment.vmaddr + p.header.offset - segment.fileoff
            p.header.size = p.source.byte_size
        file_used = space.end() - segment.fileoff if space.pieces else 0
        segment.filesize = align_up(file_used, page) if file_used else 0
        segment.vmsize = align_up(max(file_used, (zerofill_at or 0) - segment.fileoff), page)
        file_end = segment.fileoff + segment.filesize
    return file_end


@dataclass
class _Linkedit:
    """The load commands that describe __LINKEDIT's contents, and their placement in ld64.lld's order."""
    signature: LinkeditDataCommand | None
    dyld_info: DyldInfoCommand = field(default_factory=DyldInfoCommand)
    symtab: SymtabCommand = field(default_factory=SymtabCommand)
    dysymtab: DysymtabCommand = field(default_factory=DysymtabCommand)
    function_starts: LinkeditDataCommand = field(default_factory=lambda: LinkeditDataCommand(C.LC_FUNCTION_STARTS))
    data_in_code: LinkeditDataCommand = field(default_factory=lambda: LinkeditDataCommand(C.LC_DATA_IN_CODE))

    def place(self, image: Image, placed: list[_Placed], addresses: dict[str, int], text_vmaddr: int, start: int,
              identifier: str, contents: list[tuple[int, bytes]]) -> FileSpace:
        """Encodes the tables, places them from ``start`` on (appending them to ``contents``), fills the commands."""
        ordinal = {p.source.name: i + 1 for i, p in enumerate(placed)}
        section_of = {s.name: s.section for s in image.symbols if s.section is not None}  # all: undefined ones refused
        locals_ = [s for s in image.symbols if not s.is_global]
        globals_ = [s for s in image.symbols if s.is_global]
        entries = [SymbolEntry(symbol_name(s.name), C.N_SECT | (C.N_EXT if s.is_global else 0),
                               ordinal[section_of[s.name]], 0, addresses[s.name]) for s in locals_ + globals_]
        entries.append(SymbolEntry(HEADER_SYMBOL, C.N_SECT | C.N_EXT, 1, C.REFERENCED_DYNAMICALLY, BASE_ADDRESS))
        symbols, strings = encode_symtab(entries)
        exports = export_trie({symbol_name(s.name): addresses[s.name] - BASE_ADDRESS for s in globals_} |
                              {HEADER_SYMBOL: 0})
        starts = sorted({addresses[s.name] for s in image.symbols if s.kind is SymbolKind.FUNCTION
                         and image.section(section_of[s.name]).kind is SectionKind.CODE})
        starts_blob = _function_starts(starts, text_vmaddr)

        space = FileSpace(start, slack=False)
        for name, blob, alignment in (("exports", exports, 1), ("function starts", starts_blob, 8),
                                      ("symbols", symbols, 8), ("strings", strings, 8)):
            contents.append((space.allocate(name, len(blob), alignment), blob))
        self.dyld_info.export_off, self.dyld_info.export_size = space.pieces["exports"].offset, len(exports)
        self.function_starts.dataoff = space.pieces["function starts"].offset
        self.function_starts.datasize = len(starts_blob)
        self.data_in_code.dataoff = space.pieces["symbols"].offset  # empty, where the symbols start (as ld64.lld)
        self.symtab.symoff, self.symtab.nsyms = space.pieces["symbols"].offset, len(entries)
        self.symtab.stroff, self.symtab.strsize = space.pieces["strings"].offset, len(strings)
        self.dysymtab.ilocalsym, self.dysymtab.nlocalsym = 0, len(locals_)
        self.dysymtab.iextdefsym, self.dysymtab.nextdefsym = len(locals_), len(entries) - len(locals_)
        self.dysymtab.iundefsym = len(entries)
        if self.signature is not None:  # its size depends only on where it starts
            size = signature_size(align_up(space.end(), SIGNATURE_ALIGNMENT), identifier)
            self.signature.dataoff = space.allocate("signature", size, SIGNATURE_ALIGNMENT)
            self.signature.datasize = size
        return space


def _write_commands(out: bytearray, header: MachHeader, commands: list[LoadCommand]) -> None:
    blob = header.encode() + b"".join(c.encode() for c in commands)
    out[:len(blob)] = blob


def _uuid_of(data: bytes) -> bytes:
    digest = bytearray(hashlib.md5(data).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30  # RFC 4122 version 3 (MD5), variant 1
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)


def _function_starts(addresses: list[int], text_vmaddr: int) -> bytes:
    """ULEB128 deltas from the start of __TEXT, 0-terminated, padded to 8 bytes."""
    out = bytearray()
    previous = text_vmaddr
    for address in addresses:
        out += uleb128(address - previous)
        previous = address
    if out:
        out.append(0)
    out += bytes(-len(out) % 8)
    return bytes(out)
