"""Relocatable ``MH_OBJECT`` files with ``__DWARF`` sections, in the shape clang writes them, for the Apple flow:
ld64.lld links them and writes a debug map (STABS naming each object), dsymutil reads the DWARF from the objects.

Relocations follow clang-14 (``llvm-objdump --macho -r`` on the corpus objects):

* an address (``DW_AT_low_pc``, ``DW_OP_addr``, ``DW_LNE_set_address``) of a defined symbol is a section-based
  ``*_RELOC_UNSIGNED`` (not extern, ``r_symbolnum`` = section ordinal) whose field holds the symbol's address in the
  object; of an undefined symbol, an extern one whose field holds the addend;
* section offsets (``strp``, ``stmt_list``, ``sec_offset``) and references across units carry no relocation: each
  debug section is one piece starting at offset 0, and dsymutil reads them as they are;
* an ``.eh_frame`` goes to ``__TEXT,__eh_frame`` (clang's flags); its FDEs' PC-relative starts are resolved in the
  object with no record, as clang leaves them (they name functions of the same object);
* in code on x86_64, a 4-byte PC-relative field is an extern ``X86_64_RELOC_BRANCH`` (to a function) or
  ``X86_64_RELOC_SIGNED``, its field holding ``addend + 4`` (Mach-O counts from the end of the field).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dwarfkit.arch import Arch
from dwarfkit.encoding import align_up
from dwarfkit.errors import ContainerError, DescriptionError
from dwarfkit.image import Image, SectionKind, SymbolKind
from dwarfkit.output import write_atomically
from dwarfkit.sections import Relocation, RelocKind, encode_field

from . import constants as C
from .commands import (
    BuildVersionCommand,
    DysymtabCommand,
    LoadCommand,
    MachHeader,
    RelocationInfo,
    Section64,
    SegmentCommand64,
    SymtabCommand,
)
from .dsym import check_encoding
from .executable import MACOS_11, section_flags
from .layout import FileSpace
from .names import content_section_name, debug_section_name, symbol_name
from .symtab import SymbolEntry, encode_symtab

_KIND_ORDER = [SectionKind.CODE, SectionKind.RODATA, SectionKind.DATA, SectionKind.BSS]
UNSIGNED = {Arch.X86_64: C.X86_64_RELOC_UNSIGNED, Arch.AARCH64: C.ARM64_RELOC_UNSIGNED}
_LENGTH = {1: 0, 2: 1, 4: 2, 8: 3}
EH_FRAME = ".eh_frame"
EH_FRAME_FLAGS = C.S_COALESCED | C.S_ATTR_NO_TOC | C.S_ATTR_STRIP_STATIC_SYMS | C.S_ATTR_LIVE_SUPPORT
"""What clang gives ``__TEXT,__eh_frame``."""


def write_object(image: Image, path: str | Path) -> None:
    """Writes ``image`` (code, data, symbols and ``image.dwarf``) as a Mach-O object at ``path``, atomically."""
    write_atomically(path, build_object(image))


@dataclass
class _ObjSection:
    name: str
    """Image (ELF-style) name."""
    header: Section64
    data: bytes
    relocations: list[Relocation]
    zerofill: bool = False


def _sections(image: Image) -> list[_ObjSection]:
    """Content sections, then ``__TEXT,__eh_frame``, then debug sections, then zero-fill ones (which take no file
    space and so end the segment, keeping its file part a prefix of its memory part)."""
    out: list[_ObjSection] = []
    zerofill: list[_ObjSection] = []
    for kind in _KIND_ORDER:
        for s in (s for s in image.sections if s.kind is kind):
            segname, sectname = content_section_name(s.name, kind)
            header = Section64(sectname, segname, align=_log2(s.alignment), flags=section_flags(kind))
            entry = _ObjSection(s.name, header, bytes(s.data), s.relocations, kind is SectionKind.BSS)
            entry.header.size = s.byte_size
            (zerofill if entry.zerofill else out).append(entry)
    if image.dwarf is not None:
        check_encoding(image.dwarf, image.arch, "object")
        debug = []
        for d in image.dwarf:
            if d.name == EH_FRAME:  # unwind tables for the runtime: in __TEXT, where clang puts them
                header = Section64("__eh_frame", "__TEXT", align=_log2(max(d.alignment, 8)), flags=EH_FRAME_FLAGS)
                out.append(_ObjSection(d.name, header, bytes(d.data), d.relocations))
            else:
                header = Section64(debug_section_name(d.name), "__DWARF", align=_log2(d.alignment),
                                   flags=C.S_ATTR_DEBUG)
                debug.append(_ObjSection(d.name, header, bytes(d.data), d.relocations))
            header.size = len(d.data)
        out += debug
    names = [(s.header.segname, s.header.sectname) for s in out + zerofill]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise DescriptionError(f"image sections map to the same Mach-O section: {sorted(duplicates)}")
    return out + zerofill


def _log2(alignment: int) -> int:
    return max(alignment, 1).bit_length() - 1


def build_object(image: Image) -> bytes:
    image.validate({s.name for s in image.sections} | (set(image.dwarf.sections) if image.dwarf is not None else set()))
    cputype, cpusubtype = C.CPU_TYPES[image.arch]
    sections = _sections(image)
    segment = SegmentCommand64("", maxprot=7, initprot=7, sections=[s.header for s in sections])
    symtab, dysymtab = SymtabCommand(), DysymtabCommand()
    commands: list[LoadCommand] = [segment, BuildVersionCommand(minos=MACOS_11, sdk=0), symtab, dysymtab]
    sizeofcmds = sum(len(c.encode()) for c in commands)

    # Addresses from 0 in section order; each file-backed section sits at the segment's file offset plus its address,
    # as clang places them, so the file part is the memory part's prefix (zero-fill sections come last): filesize
    # <= vmsize, which llvm-objdump and llvm-dwarfdump insist on.
    address = 0
    segment.fileoff = C.MACH_HEADER_64_SIZE + sizeofcmds
    for s in sections:
        address = align_up(address, 1 << s.header.align)
        s.header.addr = address
        address += s.header.size
        if not s.zerofill:
            s.header.offset = segment.fileoff + s.header.addr
    segment.vmsize = address
    segment.filesize = max((s.header.addr + s.header.size for s in sections if not s.zerofill), default=0)
    space = FileSpace(segment.fileoff, slack=False)
    space.allocate("segment", segment.filesize)

    # Symbols: locals, then defined externals, then undefined ones, each run sorted by name as clang does.
    ordinal = {s.name: i + 1 for i, s in enumerate(sections)}
    by_name = {s.name: s for s in sections}
    locals_ = [s for s in image.symbols if not s.is_global and s.section is not None]
    defined = sorted((s for s in image.symbols if s.is_global and s.section is not None), key=lambda s: s.name)
    undefined = sorted((s for s in image.symbols if s.section is None), key=lambda s: s.name)
    ordered = locals_ + defined + undefined
    index = {s.name: i for i, s in enumerate(ordered)}
    address_of = {s.name: by_name[s.section].header.addr + s.value
                  for s in locals_ + defined if s.section is not None}  # all are: narrows the type
    entries = [SymbolEntry(symbol_name(s.name),
                           (C.N_SECT if s.section is not None else C.N_UNDF) | (C.N_EXT if s.is_global else 0),
                           ordinal[s.section] if s.section is not None else C.NO_SECT, 0,
                           address_of.get(s.name, 0)) for s in ordered]
    symbols, strings = encode_symtab(entries)
    kinds = {s.name: s.kind for s in image.symbols}
    section_of = {s.name: s.section for s in image.symbols}

    # Relocations: fields rewritten as Mach-O expects them, records after all section data.
    blobs: list[tuple[int, bytes]] = []
    for s in sections:
        if s.zerofill:
            continue
        data = bytearray(s.data)
        converted = [_relocation(image.arch, s, r, data, index, address_of, section_of, ordinal, kinds)
                     for r in s.relocations if r.kind in (RelocKind.ADDRESS, RelocKind.PCREL)]
        records = [r for r in converted if r is not None]  # None: the field was resolved in place
        blobs.append((s.header.offset, bytes(data)))
        if records:
            blob = b"".join(r.encode() for r in reversed(records))  # clang lists them last field first
            s.header.reloff = space.allocate(f"relocations of {s.name}", len(blob), 8)
            s.header.nreloc = len(records)
            blobs.append((s.header.reloff, blob))
    symtab.symoff, symtab.nsyms = space.allocate("symbols", len(symbols), 8), len(entries)
    symtab.stroff, symtab.strsize = space.allocate("strings", len(strings), 8), len(strings)
    blobs += [(symtab.symoff, symbols), (symtab.stroff, strings)]
    dysymtab.ilocalsym, dysymtab.nlocalsym = 0, len(locals_)
    dysymtab.iextdefsym, dysymtab.nextdefsym = len(locals_), len(defined)
    dysymtab.iundefsym, dysymtab.nundefsym = len(locals_) + len(defined), len(undefined)

    header = MachHeader(cputype, cpusubtype, C.MH_OBJECT, len(commands), sizeofcmds, C.MH_SUBSECTIONS_VIA_SYMBOLS)
    out = bytearray(header.encode() + b"".join(c.encode() for c in commands))
    for at, blob in blobs:
        if len(out) < at:
            out += bytes(at - len(out))
        out[at:at + len(blob)] = blob
    return bytes(out)


def _relocation(arch: Arch, section: _ObjSection, r: Relocation, data: bytearray, index: dict[str, int],
                address_of: dict[str, int], section_of: dict[str, str | None], ordinal: dict[str, int],
                kinds: dict[str, SymbolKind]) -> RelocationInfo | None:
    """The record for one ADDRESS or PCREL field (its field rewritten as Mach-O expects), or None when the field is
    resolved here and needs no record."""
    where = f"{section.name}+{r.offset:#x}"
    if r.target not in index:
        raise ContainerError(f"{where}: relocation against {r.target!r}, which the image does not declare")
    if r.size not in (4, 8) and r.kind is RelocKind.ADDRESS:
        raise ContainerError(f"{where}: a Mach-O address field is 4 or 8 bytes, not {r.size}")

    def store(value: int) -> None:
        data[r.offset:r.offset + r.size] = encode_field(value, r.size, "little", section.name, r)

    if r.kind is RelocKind.ADDRESS:
        target_section = section_of[r.target]
        if target_section is None:  # undefined: the linker adds the symbol's address to the stored addend
            store(r.addend)
            return RelocationInfo(r.offset, index[r.target], False, _LENGTH[r.size], True, UNSIGNED[arch])
        store(address_of[r.target] + r.addend)
        return RelocationInfo(r.offset, ordinal[target_section], False, _LENGTH[r.size], False, UNSIGNED[arch])
    if r.kind is RelocKind.PCREL and section.name == EH_FRAME:
        # As clang: an FDE's pc-relative start is a difference within the object, resolved here with no record
        # (one to a symbol of another object would need a SUBTRACTOR/UNSIGNED pair, which this writer does not make).
        if section_of[r.target] is None:
            raise ContainerError(f"{where}: .eh_frame refers to {r.target!r}, which the object does not define; "
                                 f"a Mach-O __eh_frame here describes the object's own functions only")
        store(address_of[r.target] + r.addend - (section.header.addr + r.offset))
        return None
    if r.kind is RelocKind.PCREL and arch is Arch.X86_64 and r.size == 4:
        store(r.addend + 4)
        kind = C.X86_64_RELOC_BRANCH if kinds[r.target] is SymbolKind.FUNCTION else C.X86_64_RELOC_SIGNED
        return RelocationInfo(r.offset, index[r.target], True, 2, True, kind)
    raise ContainerError(f"{where}: {r.kind.value} relocation of {r.size} bytes against {r.target!r} has no Mach-O "
                         f"{arch.info.name} equivalent here")
