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
from dwarfkit.image import ContentSection, Image, group_section
from dwarfkit.sections import Relocation, RelocKind, Section

from .contents import EH_FRAME, check_image, content_section, debug_section, debug_sections, eh_frame_section
from .dwo import write_with_dwo
from .elffile import ElfHeader, ElfSection, serialize
from .machine import ElfMachine
from .symtab import STB, STT, SYMBOL_TYPES, ElfSymbol, SymbolTable

SHT = ENUM_SH_TYPE_BASE
_RELA = struct.Struct("<QQq")
_GRP_COMDAT = 1


def object_bytes(image: Image, *, compress: bool = False, eh_frame: bool = True) -> bytes:
    """The relocatable object for ``image``; see :func:`write_object`."""
    machine = check_image(image, thread_local=True, groups=True)
    content_fields = [container_fields(s) for s in image.sections]
    sections: list[ElfSection] = [content_section(replace(s, data=cleared(s.data, fields)) if s.data else s)
                                  for s, fields in zip(image.sections, content_fields, strict=True)]
    # (section, the fields that get a record, its scope: "" for the image, a group's signature for its sections)
    relocated: list[tuple[ElfSection, list[Field], str]] = [
        (section, fields, "") for section, fields in zip(sections, content_fields, strict=True)]
    for d in debug_sections(image.dwarf, with_eh_frame=eh_frame):
        fields = container_fields(d)
        data = cleared(bytes(d.data), fields)
        if d.name == EH_FRAME:
            sections.append(eh_frame_section(data, d.alignment))
        else:
            sections.append(debug_section(d.name, data, compress=compress, alignment=d.alignment))
        relocated.append((sections[-1], fields, ""))
    # An empty .note.GNU-stack says the code needs no executable stack (GNU ld warns without it).
    sections.append(ElfSection(".note.GNU-stack", SHT["SHT_PROGBITS"]))
    members: dict[str, list[ElfSection]] = {}
    for group in image.groups:   # after the image's own sections, as gcc places them
        members[group.signature] = []
        for d in group.dwarf:
            if not d.data:
                continue   # a DWARF 4 type-unit emission's empty .debug_info: nothing to keep or discard
            fields = container_fields(d)
            section = debug_section(d.name, cleared(bytes(d.data), fields), compress=compress,
                                    alignment=d.alignment)
            section.flags |= SH_FLAGS.SHF_GROUP
            sections.append(section)
            members[group.signature].append(section)
            relocated.append((section, fields, group.signature))
    relocated = [entry for entry in relocated if entry[1]]
    rela = [ElfSection(f".rela{section.name}", SHT["SHT_RELA"], SH_FLAGS.SHF_INFO_LINK, align=8, link=".symtab",
                       entsize=_RELA.size) for section, _relocs, _scope in relocated]
    for r, (_section, _relocs, scope) in zip(rela, relocated, strict=True):
        if scope:
            r.flags |= SH_FLAGS.SHF_GROUP
            members[scope].append(r)
    group_headers = [ElfSection(".group", SHT["SHT_GROUP"], align=4, link=".symtab", entsize=4)
                     for _group in image.groups]

    # Section order is fixed first: the symbol table needs the section indices, the .rela records the symbol indices.
    # Groups come first (a group precedes its members), then the sections, their .rela, .symtab, .strtab.
    ordered = [*group_headers, *sections, *rela]
    position = {id(s): i + 1 for i, s in enumerate(ordered)}
    scope_of = {id(section): scope for section, _relocs, scope in relocated}
    for group in image.groups:
        scope_of.update({id(s): group.signature for s in members[group.signature]})
    content_index = {s.name: position[id(section)] for s, section in zip(image.sections, sections, strict=False)}
    symbols = SymbolTable()
    for s in sections:  # section symbols are keyed by scope and name (their names are not written)
        symbols.add(ElfSymbol(_scoped(scope_of.get(id(s), ""), s.name), 0, 0, STT["STT_SECTION"], STB["STB_LOCAL"],
                              position[id(s)]))
    for header, group in zip(group_headers, image.groups, strict=True):
        symbols.add(ElfSymbol(group.signature, 0, 0, STT["STT_NOTYPE"], STB["STB_LOCAL"], position[id(header)]))
    for sym in image.symbols:
        bind = STB["STB_GLOBAL"] if sym.is_global or sym.section is None else STB["STB_LOCAL"]
        symbols.add(ElfSymbol(sym.name, sym.value, sym.size, SYMBOL_TYPES[sym.kind], bind,
                              content_index[sym.section] if sym.section is not None else 0))
    index = symbols.indices()
    scoped = {signature: {s.name for s in group_members} for signature, group_members in members.items()}
    for r, (section, relocs, scope) in zip(rela, relocated, strict=True):
        r.data = _rela_data(machine, section.name, relocs, index, scope, scoped.get(scope, set()))
        r.info = position[id(section)]
    for header, group in zip(group_headers, image.groups, strict=True):
        header.info = index[(False, group.signature)]
        header.data = struct.pack(f"<{1 + len(members[group.signature])}I", _GRP_COMDAT,
                                  *(position[id(s)] for s in members[group.signature]))
    return serialize(ElfHeader(machine.machine, ENUM_E_TYPE["ET_REL"]), [*ordered, *symbols.sections()])


def write_object(image: Image, path: str | os.PathLike[str], *, compress: bool = False, eh_frame: bool = True) -> None:
    """Writes ``image`` as an ELF relocatable object.

    ``compress`` stores the debug sections zlib-compressed (``SHF_COMPRESSED``). ``eh_frame`` keeps the emitted
    ``.eh_frame`` (when the DWARF has one). Raises a :class:`dwarfkit.DwarfkitError` and leaves no file on bad input.
    """
    write_with_dwo(image.dwarf, image.arch, path, object_bytes(image, compress=compress, eh_frame=eh_frame))


Field = tuple[int, int, RelocKind, str, int]
"""A relocation as (offset, size, kind, target, addend): :meth:`dwarfkit.sections.Section.relocation_fields`."""
_ZEROS = {size: bytes(size) for size in range(1, 9)}


def container_fields(section: Section | ContentSection) -> list[Field]:
    """The relocations of ``section`` that get a ``.rela`` record (all but ENTRY, which is final), in bulk: a large
    program has millions, and an object per field would cost more than encoding them."""
    if isinstance(section, Section):
        return [f for f in section.relocation_fields() if f[2] is not RelocKind.ENTRY]
    return [(r.offset, r.size, r.kind, r.target, r.addend) for r in section.relocations
            if r.kind is not RelocKind.ENTRY]


def cleared(data: bytes, fields: list[Field]) -> bytes:
    """``data`` with every field that gets a ``.rela`` record (``fields``) set to zero."""
    if not fields:
        return data
    out = bytearray(data)
    zeros = _ZEROS
    for offset, size, _kind, _target, _addend in fields:
        out[offset:offset + size] = zeros.get(size) or bytes(size)
    return bytes(out)


def _scoped(scope: str, name: str) -> str:
    """The symbol-table key of a group's section symbol (never written: section symbols have no name): the
    relocation target that names it from outside the group (:func:`~dwarfkit.image.group_section`)."""
    return group_section(scope, name) if scope else name


def _rela_data(machine: ElfMachine, name: str, fields: list[Field], index: dict[tuple[bool, str], int],
               scope: str, own: set[str]) -> bytes:
    """The records of one section's relocation fields, in their order; a group's section offsets go to the
    group's own section of that name when it has one, else to the image's. The record's info word is worked out
    once per (kind, size, target)."""
    data = bytearray(_RELA.size * len(fields))
    infos: dict[tuple[RelocKind, int, str], int] = {}
    types = machine.relocation_types
    pack = _RELA.pack_into
    for n, (offset, size, kind, target, addend) in enumerate(fields):
        info = infos.get((kind, size, target))
        if info is None:
            if kind is RelocKind.ADDRESS and not own:   # the common field: an address against a symbol
                symbol = index.get((False, target))
                rtype = types.get((kind, size))
            else:
                symbol = rtype = None
            if symbol is None or rtype is None:
                info = _info(machine, name, (offset, size, kind, target, addend), index, scope, own)
            else:
                info = symbol << 32 | rtype
            infos[(kind, size, target)] = info
        pack(data, n * 24, offset, info, addend)
    return bytes(data)


def _info(machine: ElfMachine, name: str, field: Field, index: dict[tuple[bool, str], int], scope: str,
          own: set[str]) -> int:
    """A record's info word: the symbol's index and the relocation type (a RelocationError names what is wrong)."""
    offset, size, kind, target, addend = field
    against_section = kind in (RelocKind.UNIT, RelocKind.SECTION)
    key = _scoped(scope, target) if against_section and target in own else target
    symbol = index.get((against_section, key))
    if symbol is None:
        what = f"section {target!r}, which is not in the object" if against_section else f"unknown symbol {target!r}"
        raise RelocationError(f"{name}+{offset:#x}: {kind.value} relocation against {what}")
    return (symbol << 32) | machine.relocation_type(Relocation(offset, size, kind, target, addend), name)
