"""What goes into a COFF file: the image's code and data sections, then the DWARF sections, with COFF names and flags.

Objects and PE images share this; they differ in how they place the sections and treat relocations. Content
sections keep their ELF names except where COFF spells them differently (``.rodata`` -> ``.rdata``); the DWARF
sections are read-only and discardable. A new kind of section gets its name and flags here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dwarfkit.errors import ContainerError
from dwarfkit.image import Image, SectionKind
from dwarfkit.sections import Relocation

from . import constants as C
from .machine import machine_for

# ELF spellings the image model uses -> the names MinGW gcc and lld give the same sections.
_COFF_NAMES = {".rodata": ".rdata"}

_KIND_FLAGS = {
    SectionKind.CODE: C.IMAGE_SCN_CNT_CODE | C.IMAGE_SCN_MEM_EXECUTE | C.IMAGE_SCN_MEM_READ,
    SectionKind.DATA: C.IMAGE_SCN_CNT_INITIALIZED_DATA | C.IMAGE_SCN_MEM_READ | C.IMAGE_SCN_MEM_WRITE,
    SectionKind.RODATA: C.IMAGE_SCN_CNT_INITIALIZED_DATA | C.IMAGE_SCN_MEM_READ,
    SectionKind.BSS: C.IMAGE_SCN_CNT_UNINITIALIZED_DATA | C.IMAGE_SCN_MEM_READ | C.IMAGE_SCN_MEM_WRITE,
}
DEBUG_FLAGS = C.IMAGE_SCN_CNT_INITIALIZED_DATA | C.IMAGE_SCN_MEM_DISCARDABLE | C.IMAGE_SCN_MEM_READ
"""DWARF sections: read-only data the loader may drop (what MinGW gcc writes)."""
OTHER_DWARF_FLAGS = C.IMAGE_SCN_CNT_INITIALIZED_DATA | C.IMAGE_SCN_MEM_READ
"""Emitted sections that are not debug-only (``.eh_frame``): read-only data that stays loaded."""


@dataclass
class OutputSection:
    source: str
    """The name in the image or DwarfSections (ELF spelling); relocations name sections this way."""
    name: str
    """The COFF name."""
    flags: int
    """Section characteristics without the object-only alignment bits."""
    alignment: int
    data: bytes | None
    """None for uninitialised data."""
    size: int
    relocations: list[Relocation] = field(default_factory=list)
    is_debug: bool = False


def coff_name(name: str) -> str:
    return _COFF_NAMES.get(name, name)


def check_dwarf_encoding(image: Image) -> None:
    """Both COFF machines written here (AMD64, ARM64) are 64-bit little-endian: the DWARF must be too."""
    if image.dwarf is None:
        return
    enc = image.dwarf.encoding
    machine = machine_for(image.arch)
    if enc.byteorder != "little" or enc.address_size != 8:
        raise ContainerError(f"COFF {machine.name}: DWARF with {enc.address_size}-byte {enc.byteorder}-endian "
                             f"addresses does not fit the machine (8-byte little-endian)")


def collect_sections(image: Image) -> list[OutputSection]:
    """Code and data in image order, then the DWARF sections in canonical order."""
    check_dwarf_encoding(image)
    out: list[OutputSection] = []
    for s in image.sections:
        is_bss = s.kind is SectionKind.BSS
        out.append(OutputSection(s.name, coff_name(s.name), _KIND_FLAGS[s.kind], s.alignment,
                                 None if is_bss else bytes(s.data), s.byte_size, list(s.relocations)))
    if image.dwarf is not None:
        for d in image.dwarf:
            is_debug = d.name.startswith(".debug_")
            out.append(OutputSection(d.name, d.name, DEBUG_FLAGS if is_debug else OTHER_DWARF_FLAGS, d.alignment,
                                     bytes(d.data), len(d.data), list(d.relocations), is_debug))
    return out
