"""Relocatable ``MH_OBJECT`` files with ``__DWARF`` sections, in the shape clang writes them, for the Apple flow:
ld64.lld links them and writes a debug map (STABS naming each object), dsymutil reads the DWARF from the objects.

Relocations follow clang-14 (``llvm-objdump --macho -r`` on the corpus objects):

* an address (``DW_AT_low_pc``, ``DW_OP_addr``, ``DW_LNE_set_address``) of a defined symbol is a section-based
  ``*_RELOC_UNSIGNED`` (not extern, ``r_symbolnum`` = section ordinal) whose field holds the symbol's address in the
  object; of an undefined symbol, an extern one whose field holds the addend;
* section offsets (``strp``, ``stmt_list``, ``sec_offset``) and references across units carry no relocation: each
  debug section is one piece starting at offset 0, and dsymutil reads them as they are;
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
from dwarfkit.sections import Relocation, RelocKind

from . import constants as C
from .commands import (BuildVersionCommand, DysymtabCommand, MachHeader, RelocationInfo, Section64, SegmentCommand64,
                       SymtabCommand)
from .dsym import check_encoding
from .executable import MACOS_11, section_flags
from .layout import FileSpace
from .names import content_section_name, debug_section_name, symbol_name
from .symtab import SymbolEntry, encode_symtab

_KIND_ORDER = [SectionKind.CODE, SectionKind.RODATA, SectionKind.DATA, SectionKind.BSS]
UNSIGNED = {Arch.X86_64: C.X86_64_RELOC_UNSIGNED, Arch.AARCH64: C.ARM64_RELOC_UNSIGNED}
_LENGTH = {1: 0, 2: 1, 4: 2, 8: 3}


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
    """Content sections, then debug sections, then zero-fill ones (which take no file space)."""
    out: list[_ObjSection] = []
    zerofill: list[_ObjSection] = []
    for kind in _KIND_ORDER:
        for s in (s for s in image.sections if s.kind is kind):
            segname, sectname = content_section_name(s.name, kind)
            header = Section64(sectname, segname, align=max(s.alignment, 1).bit_length() - 1, flags=section_flags(kind))
            entry = _ObjSection(s.name, header, bytes(s.data), s.relocations, kind is SectionKind.BSS)
            entry.header.size = s.byte_size
            (zerofill if entry.zerofill else out).append(entry)
    if image.dwarf is not None:
        check_encoding(image.dwarf, image.arch, "object")
        for s in image.dwarf:
            if s.name == ".eh_frame":
                raise ContainerError("the Mach-O object writer does not write .eh_frame (Apple objects carry "
                                     "compact unwind); use .debug_frame")
            header = Section64(debug_section_name(s.name), "__DWARF", align=max(s.alignment, 1).bit_length() - 1,
                               flags=C.S_ATTR_DEBUG)
            header.size = len(s.data)
            out.append(_ObjSection(s.name, header, bytes(s.data), s.relocations))
    names = [(s.header.segname, s.header.sectname) for s in out + zerofill]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise DescriptionError(f"image sections map to the same Mach-O section: {sorted(duplicates)}")
    return out + zerofill


def build_object(image: Image) -> bytes:
    image.validate()
    cputype, cpusubtype = C.CPU_TYPES[image.arch]
    sections = _sections(image)
    segment = SegmentCommand64("", maxprot=7, initprot=7, sections=[s.header for s in sections])
    symtab, dysymtab = SymtabCommand(), DysymtabCommand()
    commands = [segment, BuildVersionCommand(minos=MACOS_11, sdk=0), symtab, dysymtab]
    sizeofcmds = sum(len(c.encode()) for c in commands)

    # Addresses from 0 in section order; file space (packed) from the end of the load commands on.
    address = 0
    space = FileSpace(C.MACH_HEADER_64_SIZE + sizeofcmds, slack=False)
    segment.fileoff = space.start
    for s in sections:
        alignment = 1 << s.header.align
        address = align_up(address, alignment)
        s.header.addr = address
        address += s.header.size
        if not s.zerofill:
            s.header.offset = space.allocate(s.header.sectname + s.header.segname, s.header.size, alignment)
    segment.vmsize = address
    segment.filesize = space.end() - segment.fileoff

    # Symbols: locals, then defined externals, then undefined ones, each run sorted by name as clang does.
    ordinal = {s.name: i + 1 for i, s in enumerate(sections)}
    by_name = {s.name: s for s in sections}
    locals_ = [s for s in image.symbols if not s.is_global and s.section is not None]
    defined = sorted((s for s in image.symbols if s.is_global and s.section is not None), key=lambda s: s.name)
    undefined = sorted((s for s in image.symbols if s.section is None), key=lambda s: s.name)
    ordered = locals_ + defined + undefined
    index = {s.name: i for i, s in enumerate(ordered)}
    address_of = {s.name: by_name[s.section].header.addr + s.value for s in locals_ + defined}
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
        records = [_relocation(image.arch, s.name, r, data, index, address_of, section_of, ordinal, kinds)
                   for r in s.relocations if r.kind in (RelocKind.ADDRESS, RelocKind.PCREL)]
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


def _relocation(arch: Arch, section: str, r: Relocation, data: bytearray, index: dict[str, int],
                address_of: dict[str, int], section_of: dict[str, str | None], ordinal: dict[str, int],
                kinds: dict[str, SymbolKind]) -> RelocationInfo:
    where = f"{section}+{r.offset:#x}"
    if r.target not in index:
        raise ContainerError(f"{where}: relocation against {r.target!r}, which the image does not declare")
    if r.size not in (4, 8) and r.kind is RelocKind.ADDRESS:
        raise ContainerError(f"{where}: a Mach-O address field is 4 or 8 bytes, not {r.size}")

    def store(value: int) -> None:
        data[r.offset:r.offset + r.size] = (value & ((1 << (8 * r.size)) - 1)).to_bytes(r.size, "little")

    if r.kind is RelocKind.ADDRESS:
        target_section = section_of[r.target]
        if target_section is None:  # undefined: the linker adds the symbol's address to the stored addend
            store(r.addend)
            return RelocationInfo(r.offset, index[r.target], False, _LENGTH[r.size], True, UNSIGNED[arch])
        store(address_of[r.target] + r.addend)
        return RelocationInfo(r.offset, ordinal[target_section], False, _LENGTH[r.size], False, UNSIGNED[arch])
    if r.kind is RelocKind.PCREL and arch is Arch.X86_64 and r.size == 4:
        store(r.addend + 4)
        kind = C.X86_64_RELOC_BRANCH if kinds[r.target] is SymbolKind.FUNCTION else C.X86_64_RELOC_SIGNED
        return RelocationInfo(r.offset, index[r.target], True, 2, True, kind)
    raise ContainerError(f"{where}: {r.kind.value} relocation of {r.size} bytes against {r.target!r} has no Mach-O "
                         f"{arch.info.name} equivalent here")
