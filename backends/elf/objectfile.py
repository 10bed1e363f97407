"""Relocatable objects (``ET_REL``): what a compiler hands to GNU ld, gold or ld.lld.

Every relocation the core recorded (except ENTRY, which is final) becomes a ``.rela`` record: section offsets against
the target section's symbol, addresses against the named symbol. The relocated fields hold zero, as GNU as and clang
leave them: the addend lives in the record, and BFD (gdb, objdump) adds a field's contents too on AArch64, so a field
that kept the addend would count it twice there.
"""
from __future__ import annotations

import os
import struct
from dataclasses import replace

from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import ENUM_E_TYPE, ENUM_SH_TYPE_BASE

from dwarfkit.errors import RelocationError
from dwarfkit.image import Image
from dwarfkit.output import write_atomically
from dwarfkit.sections import Relocation, RelocKind

from .contents import EH_FRAME, check_image, content_section, debug_section, debug_sections, eh_frame_section
from .elffile import ElfHeader, ElfSection, serialize
from .machine import ElfMachine
from .symtab import STB, STT, SYMBOL_TYPES, ElfSymbol, SymbolTable

SHT = ENUM_SH_TYPE_BASE
_RELA = struct.Struct("<QQq")


def object_bytes(image: Image, *, compress: bool = False, eh_frame: bool = True) -> bytes:
    """The relocatable object for ``image``; see :func:`write_object`."""
    machine = check_image(image, thread_local=True)
    sections: list[ElfSection] = [content_section(replace(s, data=_cleared(s.data, s.relocations)) if s.data else s)
                                  for s in image.sections]
    relocations: dict[str, list[Relocation]] = {s.name: s.relocations for s in image.sections}
    for d in debug_sections(image.dwarf, with_eh_frame=eh_frame):
        data = _cleared(bytes(d.data), d.relocations)
        if d.name == EH_FRAME:
            sections.append(eh_frame_section(data, d.alignment))
        else:
            sections.append(debug_section(d.name, data, compress=compress, alignment=d.alignment))
        relocations[d.name] = d.relocations
    # An empty .note.GNU-stack says the code needs no executable stack (GNU ld warns without it).
    sections.append(ElfSection(".note.GNU-stack", SHT["SHT_PROGBITS"]))
    relocated = [name for name, relocs in relocations.items() if any(r.kind.needs_container_relocation for r in relocs)]

    # Section order is fixed first: the symbol table needs the section indices, the .rela records the symbol indices.
    names = [s.name for s in sections] + [f".rela{n}" for n in relocated] + [".symtab", ".strtab"]
    shndx = {name: i + 1 for i, name in enumerate(names)}
    symbols = SymbolTable()
    for s in sections:
        symbols.add(ElfSymbol(s.name, 0, 0, STT["STT_SECTION"], STB["STB_LOCAL"], shndx[s.name]))
    for sym in image.symbols:
        bind = STB["STB_GLOBAL"] if sym.is_global or sym.section is None else STB["STB_LOCAL"]
        symbols.add(ElfSymbol(sym.name, sym.value, sym.size, SYMBOL_TYPES[sym.kind], bind,
                              shndx[sym.section] if sym.section is not None else 0))
    index = symbols.indices()
    rela = [_rela_section(machine, name, relocations[name], index) for name in relocated]
    return serialize(ElfHeader(machine.machine, ENUM_E_TYPE["ET_REL"]), [*sections, *rela, *symbols.sections()])


def write_object(image: Image, path: str | os.PathLike[str], *, compress: bool = False, eh_frame: bool = True) -> None:
    """Writes ``image`` as an ELF relocatable object.

    ``compress`` stores the debug sections zlib-compressed (``SHF_COMPRESSED``). ``eh_frame`` keeps the emitted
    ``.eh_frame`` (when the DWARF has one). Raises a :class:`dwarfkit.DwarfkitError` and leaves no file on bad input.
    """
    write_atomically(path, object_bytes(image, compress=compress, eh_frame=eh_frame))


def _cleared(data: bytes, relocations: list[Relocation]) -> bytes:
    """``data`` with every field that gets a ``.rela`` record set to zero."""
    fields = [r for r in relocations if r.kind.needs_container_relocation]
    if not fields:
        return data
    out = bytearray(data)
    for r in fields:
        out[r.offset:r.offset + r.size] = bytes(r.size)
    return bytes(out)


def _rela_section(machine: ElfMachine, name: str, relocations: list[Relocation],
                  index: dict[tuple[bool, str], int]) -> ElfSection:
    data = bytearray()
    for r in relocations:
        if not r.kind.needs_container_relocation:
            continue
        against_section = r.kind in (RelocKind.UNIT, RelocKind.SECTION)
        symbol = index.get((against_section, r.target))
        if symbol is None:
            what = f"section {r.target!r}, which is not in the object" if against_section else \
                f"unknown symbol {r.target!r}"
            raise RelocationError(f"{name}+{r.offset:#x}: {r.kind.value} relocation against {what}")
        data += _RELA.pack(r.offset, (symbol << 32) | machine.relocation_type(r, name), r.addend)
    return ElfSection(f".rela{name}", SHT["SHT_RELA"], SH_FLAGS.SHF_INFO_LINK, data=bytes(data), align=8,
                      link=".symtab", info=name, entsize=_RELA.size)
