"""Static executables (``ET_EXEC``, no C library): every address final, debug sections present but not loaded.

Layout: each allocated section (code, read-only data, ``.eh_frame``, data, BSS) gets its own ``PT_LOAD`` with the
permissions of its kind, on pages of its own. Its file offset is congruent to its address modulo the largest page size
of the architecture, so the file stays compact while the kernel (or qemu-user) can map each piece directly.
A ``PT_GNU_STACK`` says the stack is not executable.

Every relocation is resolved (:func:`dwarfkit.sections.apply_relocations` for code and data, the DWARF's
:meth:`~dwarfkit.sections.DwarfSections.resolve`) after every DWARF address has been checked against the loaded
sections.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from itertools import pairwise

from elftools.elf.constants import P_FLAGS, SH_FLAGS
from elftools.elf.enums import ENUM_E_TYPE, ENUM_P_TYPE_BASE, ENUM_SH_TYPE_BASE

from dwarfkit.encoding import align_up
from dwarfkit.errors import DescriptionError, LayoutError, RelocationError
from dwarfkit.image import Image, SectionKind, check_final_addresses
from dwarfkit.sections import apply_relocations

from .contents import EH_FRAME, check_image, content_section, debug_section, debug_sections, eh_frame_section
from .dwo import write_with_dwo
from .elffile import EHDR_SIZE, PHDR_SIZE, ElfHeader, ElfSection, Segment, section_indices, serialize
from .symtab import STB, SYMBOL_TYPES, ElfSymbol, SymbolTable

SHT = ENUM_SH_TYPE_BASE
PT = ENUM_P_TYPE_BASE
# Load order by kind; .eh_frame (read-only) goes between read-only data and data.
_LOAD_ORDER = {SectionKind.CODE: 0, SectionKind.RODATA: 1, SectionKind.DATA: 2, SectionKind.BSS: 3}


def executable_bytes(image: Image, *, base: int = 0x400000, addresses: Mapping[str, int] | None = None,
                     compress: bool = False) -> bytes:
    """The static executable for ``image``; see :func:`write_executable`."""
    machine = check_image(image)
    page = machine.page_size
    if not isinstance(base, int) or not 0 <= base < 1 << 64:
        shown = f"{base:#x}" if isinstance(base, int) else repr(base)
        raise LayoutError(f"base address {shown} is not an address: it must lie in [0, 2**64)")
    if base % page:
        raise LayoutError(f"base address {base:#x} is not a multiple of the page size {page:#x}")
    entry_name = image.entry or "_start"
    try:
        entry = image.symbol(entry_name)
    except DescriptionError:
        raise DescriptionError(f"executable has no entry symbol {entry_name!r}") from None
    for sym in image.symbols:
        if sym.section is None:
            raise RelocationError(f"symbol {sym.name!r} is undefined; a static executable must define every symbol")

    loaded = [content_section(s) for s in sorted(image.sections, key=lambda s: _LOAD_ORDER[s.kind])]
    dwarf = image.dwarf
    eh_frame = dwarf.sections.get(EH_FRAME) if dwarf is not None else None
    if eh_frame is not None:
        loaded.insert(sum(1 for s in image.sections if s.kind in (SectionKind.CODE, SectionKind.RODATA)),
                      eh_frame_section(bytes(eh_frame.data), eh_frame.alignment))
    segments = _place(loaded, base, page, dict(addresses or {}))
    section_addresses = {s.name: s.addr for s in loaded}
    symbol_addresses = {sym.name: section_addresses[sym.section] + sym.value for sym in image.symbols
                        if sym.section is not None}

    by_name = {s.name: s for s in loaded}
    for content in image.sections:
        if content.relocations:
            data = bytearray(content.data)
            apply_relocations(data, content.name, content.relocations, symbol_addresses, section_addresses, "little")
            by_name[content.name].data = bytes(data)
    debug: list[ElfSection] = []
    if dwarf is not None:
        check_final_addresses(dwarf, symbol_addresses, ((s.name, s.addr, s.size) for s in loaded), "the executable")
        resolved = dwarf.resolve(symbol_addresses, section_addresses)
        if eh_frame is not None:
            by_name[EH_FRAME].data = resolved[EH_FRAME]
        debug = [debug_section(s.name, resolved[s.name], compress=compress, alignment=s.alignment)
                 for s in debug_sections(dwarf, with_eh_frame=False)]

    symbols = SymbolTable()
    index = section_indices(loaded)
    for sym in image.symbols:
        assert sym.section is not None
        symbols.add(ElfSymbol(sym.name, symbol_addresses[sym.name], sym.size, SYMBOL_TYPES[sym.kind],
                              STB["STB_GLOBAL"] if sym.is_global else STB["STB_LOCAL"], index[sym.section]))
    header = ElfHeader(machine.machine, ENUM_E_TYPE["ET_EXEC"], entry=symbol_addresses[entry.name])
    return serialize(header, [*loaded, *debug, *symbols.sections()], segments, page_size=page)


def write_executable(image: Image, path: str | os.PathLike[str], *, base: int = 0x400000,
                     addresses: Mapping[str, int] | None = None, compress: bool = False) -> None:
    """Writes ``image`` as a static executable that starts at its entry symbol (``image.entry``, else ``_start``).

    Sections load from ``base`` up, each on pages of its own; ``addresses`` pins sections (by name) to fixed
    addresses instead. ``compress`` stores the debug sections zlib-compressed. On bad input (undefined or unknown
    symbols, overlapping sections) raises a :class:`dwarfkit.DwarfkitError` and leaves no file.
    """
    write_with_dwo(image.dwarf, image.arch, path, executable_bytes(image, base=base, addresses=addresses,
                                                                   compress=compress), executable=True)


def _place(loaded: list[ElfSection], base: int, page: int, fixed: dict[str, int]) -> list[Segment]:
    """Gives every loaded section its address; returns one PT_LOAD per non-empty section plus PT_GNU_STACK."""
    unknown = set(fixed) - {s.name for s in loaded}
    if unknown:
        raise LayoutError(f"addresses given for sections the image does not have: {sorted(unknown)}")
    for name, address in fixed.items():
        if not isinstance(address, int) or not 0 <= address < 1 << 64:
            raise LayoutError(f"address {address!r} given for section {name} is not in [0, 2**64)")
    # An empty section needs an address but nothing to load.
    segments = [Segment(PT["PT_LOAD"], _segment_flags(s), s.name, s.name, page) for s in loaded if s.size]
    segments.append(Segment(PT["PT_GNU_STACK"], P_FLAGS.PF_R | P_FLAGS.PF_W, align=16))
    # Mirrors elffile.serialize's offsets so that automatic addresses need no padding in the file.
    offset = EHDR_SIZE + PHDR_SIZE * len(segments)
    cursor = base
    for s in loaded:
        offset = align_up(offset, s.align)
        if s.name in fixed:
            s.addr = fixed[s.name]
            if s.addr % s.align:
                raise LayoutError(f"section {s.name} at {s.addr:#x} is not aligned to {s.align}")
        else:
            s.addr = align_up(cursor, max(page, s.align)) + offset % page
        offset += (s.addr - offset) % page
        cursor = max(cursor, s.addr + max(s.size, 1))  # an empty section still owns its address
        if s.type != SHT["SHT_NOBITS"]:
            offset += s.size
    for s in loaded:
        if s.addr + s.size > 1 << 64:
            raise LayoutError(f"section {s.name} at {s.addr:#x} ({s.size:#x} bytes) runs past the end of the 64-bit "
                              f"address space; choose a lower base or addresses")
    _check_overlaps(loaded, page)
    return segments


def _check_overlaps(loaded: list[ElfSection], page: int) -> None:
    spans = sorted(((s.addr // page, align_up(s.addr + max(s.size, 1), page) // page, s) for s in loaded),
                   key=lambda span: span[:2])
    for (_, end, a), (start, _, b) in pairwise(spans):
        if start < end:
            raise LayoutError(f"sections {a.name} [{a.addr:#x}, {a.addr + a.size:#x}) and {b.name} "
                              f"[{b.addr:#x}, {b.addr + b.size:#x}) overlap or share a {page:#x}-byte page")


def _segment_flags(s: ElfSection) -> int:
    flags = P_FLAGS.PF_R
    if s.flags & SH_FLAGS.SHF_WRITE:
        flags |= P_FLAGS.PF_W
    if s.flags & SH_FLAGS.SHF_EXECINSTR:
        flags |= P_FLAGS.PF_X
    return flags
