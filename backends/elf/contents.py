"""What goes into every ELF file we write: code and data sections, debug sections, and checks on the image.

Shared by the relocatable object and the static executable writers, which differ in where sections load and
whether relocations are kept (object) or resolved (executable). ``.debug_str`` and ``.debug_line_str`` are
``SHF_MERGE | SHF_STRINGS`` so that linkers may merge them. A new kind of allocated section needs its flags in
``_CONTENT_FLAGS`` (and its place in ``executable._LOAD_ORDER``).
"""
from __future__ import annotations

from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import ENUM_SH_TYPE_BASE

from dwarfkit.errors import ContainerError
from dwarfkit.image import ContentSection, Image, SectionGroup, SectionKind, group_section
from dwarfkit.sections import DwarfSections, Section

from .compression import compress as compress_section
from .elffile import ElfSection
from .machine import ElfMachine, machine_for

SHT = ENUM_SH_TYPE_BASE
EH_FRAME = ".eh_frame"
STRING_SECTIONS = (".debug_str", ".debug_line_str")

_CONTENT_FLAGS = {
    SectionKind.CODE: SH_FLAGS.SHF_ALLOC | SH_FLAGS.SHF_EXECINSTR,
    SectionKind.DATA: SH_FLAGS.SHF_ALLOC | SH_FLAGS.SHF_WRITE,
    SectionKind.RODATA: SH_FLAGS.SHF_ALLOC,
    SectionKind.BSS: SH_FLAGS.SHF_ALLOC | SH_FLAGS.SHF_WRITE,
    SectionKind.TDATA: SH_FLAGS.SHF_ALLOC | SH_FLAGS.SHF_WRITE | SH_FLAGS.SHF_TLS,
    SectionKind.TBSS: SH_FLAGS.SHF_ALLOC | SH_FLAGS.SHF_WRITE | SH_FLAGS.SHF_TLS,
}


def check_image(image: Image, *, thread_local: bool = False, groups: bool = False) -> ElfMachine:
    """Validates what every ELF writer needs; returns the target machine. ``thread_local``: the file may hold
    thread-local storage (objects: the linker lays out the TLS segment); ``groups``: COMDAT section groups."""
    written = {s.name for s in image.sections} | (set(image.dwarf.sections) if image.dwarf is not None else set())
    written |= {group_section(g.signature, d.name) for g in image.groups if isinstance(g, SectionGroup)
                and isinstance(g.dwarf, DwarfSections) for d in g.dwarf}
    image.validate(written, thread_local=thread_local, groups=groups)
    machine = machine_for(image.arch)
    encoding = image.dwarf.encoding if image.dwarf else None
    if encoding is not None and (encoding.byteorder != "little" or encoding.address_size != 8):
        raise ContainerError(f"{image.arch.info.name} ELF needs little-endian DWARF with 8-byte addresses, not "
                             f"{encoding.byteorder}-endian with {encoding.address_size}-byte addresses")
    return machine


def content_section(section: ContentSection) -> ElfSection:
    if section.kind in (SectionKind.BSS, SectionKind.TBSS):
        return ElfSection(section.name, SHT["SHT_NOBITS"], _CONTENT_FLAGS[section.kind], align=section.alignment,
                          nobits_size=section.byte_size)
    return ElfSection(section.name, SHT["SHT_PROGBITS"], _CONTENT_FLAGS[section.kind], data=bytes(section.data),
                      align=section.alignment)


def debug_sections(dwarf: DwarfSections | None, *, with_eh_frame: bool) -> list[Section]:
    """The emitted sections in canonical order; ``.eh_frame`` only when asked."""
    if dwarf is None:
        return []
    return [s for s in dwarf if with_eh_frame or s.name != EH_FRAME]


def debug_section(name: str, data: bytes, *, compress: bool, alignment: int = 1) -> ElfSection:
    """A non-allocated debug section; the string sections are mergeable so linkers can share equal strings. A note
    given beside the DWARF (``.note.gnu.build-id``, dwarfkit.gnu_links) is ``SHT_NOTE``: readers find build ids in
    notes."""
    if name.startswith(".note"):
        return ElfSection(name, SHT["SHT_NOTE"], data=data, align=max(alignment, 4))
    section = ElfSection(name, SHT["SHT_PROGBITS"], data=data, align=alignment)
    if name in STRING_SECTIONS:
        section.flags |= SH_FLAGS.SHF_MERGE | SH_FLAGS.SHF_STRINGS
        section.entsize = 1
    if compress and data:
        compress_section(section)
    return section


def eh_frame_section(data: bytes, alignment: int) -> ElfSection:
    return ElfSection(EH_FRAME, SHT["SHT_PROGBITS"], SH_FLAGS.SHF_ALLOC, data=data, align=max(alignment, 8))

