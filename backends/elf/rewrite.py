"""Rewriting an existing ELF file with new DWARF (``dwarfkit convert``): objects, executables and shared libraries.

    from dwarfkit.backends.elf.rewrite import rewrite, rewrite_bytes, rewrite_separate
    rewrite("in.o", "out.o", dwarf)                        # the same object with its DWARF replaced
    rewrite_separate("libx.so", "out/libx.so", "out/libx.so.debug", dwarf)   # stripped copy + debug file

Every section that is not debug information stays byte for byte: code, data, ``.eh_frame``, notes, symbols, the
relocations of code and data, COMDAT groups. What goes: the DWARF sections (``.debug_*``, ``.zdebug_*``; not
``.debug_gdb_scripts``, which is no DWARF), ``.gdb_index`` (an index of the old DWARF), their relocation sections, and
groups left with no member. What comes: ``dwarf``'s sections (its ``.eh_frame`` is ignored: the runtime's copy stays)
where the old ones were.

- Objects (``ET_REL``): sections are renumbered, so every section index is mapped (``sh_link``, ``sh_info``, group
  members, ``st_shndx``, ``SHT_SYMTAB_SHNDX``), and :mod:`.symbol_edit` renumbers symbols when section symbols go or
  come. Each new debug section gets a ``.rela`` section built from its relocations: section offsets against the
  target section's ``STT_SECTION`` symbol, addresses against the symbol of that name, else the section of that name.
- Executables and shared libraries: the file up to the last byte a segment or an allocated section holds is copied
  unchanged (program headers, allocated sections at their offsets); the non-allocated sections, the new debug
  sections, a new section name table and section header table follow. Symbolic addresses, which a loaded linked
  file should not hold, are resolved through its symbol tables and section addresses.
- ``compress``: None keeps the input's choice (compressed if any old debug section was), True/False zlib-compress
  (``SHF_COMPRESSED``) or not.
"""
from __future__ import annotations

import io
import os
import struct
from collections.abc import Sequence
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from dwarfkit.errors import ContainerError
from dwarfkit.output import write_atomically
from dwarfkit.sections import SYMBOLIC, DwarfSections, RelocKind

from .contents import EH_FRAME, debug_section
from .debugfile import DEBUGLINK, debug_file_bytes, debuglink, final_sections, write_pair
from .elffile import ElfHeader, ElfSection
from .elfinput import SHT, InputElf, InputSection, read_input
from .objectfile import cleared
from .relayout import OutSection, relayout
from .symbol_edit import (
    RELA,
    SHT_LLVM_ADDRSIG,
    SYM,
    EditedSymbols,
    edit_symbols,
    renumber_addrsig,
    renumber_relocations,
    symbol_names,
)

_DWARF_PREFIXES = (".debug_", ".zdebug_")
_NOT_DWARF = frozenset((".debug_gdb_scripts",))   # gdb's auto-load scripts: nothing DWARF describes
_DERIVED = frozenset((".gdb_index",))              # an index of the old DWARF: wrong once it changes
_GROUP = struct.Struct("<I")


def rewrite_bytes(original: bytes, dwarf: DwarfSections, *, compress: bool | None = None,
                  path: str = "<input>") -> bytes:
    """``original`` (an ELF64 little-endian object, executable or shared library) with its DWARF replaced by
    ``dwarf``; see the module docstring. Raises :class:`ContainerError` (or another DwarfkitError) on bad input."""
    elf = read_input(original, path)   # first: a file that cannot be rewritten is named before the DWARF
    _check_arguments(dwarf, compress)
    return _Rewriter(elf, without_eh_frame(dwarf), compress).output()


def rewrite(src: str | os.PathLike[str], out: str | os.PathLike[str], dwarf: DwarfSections, *,
            compress: bool | None = None) -> None:
    """Writes ``out``: ``src`` with its DWARF replaced by ``dwarf``, atomically (never a partial ``out``)."""
    original = _read(src)
    data = rewrite_bytes(original, dwarf, compress=compress, path=str(src))
    write_atomically(out, data, executable=_is_executable(src))


def rewrite_separate(src: str | os.PathLike[str], out: str | os.PathLike[str], debug_out: str | os.PathLike[str],
                     dwarf: DwarfSections, *, compress: bool | None = None) -> None:
    """Writes ``debug_out`` (like ``objcopy --only-keep-debug``: the allocated sections as ``NOBITS``, the build-id
    note, ``.eh_frame`` and ``dwarf``'s sections) and then ``out``: ``src`` without debug sections, with a
    ``.gnu_debuglink`` naming ``debug_out`` and its CRC (an old link is replaced). gdb finds the debug file beside
    ``out``, or in a ``.debug`` folder there. Both atomically, the debug file first."""
    original = _read(src)
    elf = read_input(original, str(src))
    _check_arguments(dwarf, compress)
    if not elf.linked:
        raise ContainerError(f"{src}: a separate debug file is made for an executable or a shared library, not for "
                             f"a relocatable object")
    dwarf = without_eh_frame(dwarf)
    resolved = linked_dwarf(elf, dwarf)
    # The stripped file: no DWARF, and a new debug link in place of an old one.
    rewriter = _Rewriter(elf, DwarfSections(dwarf.encoding), compress, drop=frozenset((DEBUGLINK,)))
    sections = list(ELFFile(io.BytesIO(original)).iter_sections())
    e_type, e_machine = struct.unpack_from("<HH", original, 16)
    header = ElfHeader(e_machine, e_type, entry=int.from_bytes(original[24:32], "little"),
                       flags=int.from_bytes(original[48:52], "little"), osabi=original[7])
    debug_bytes = debug_file_bytes(header, sections, resolved, dwarf, compress=rewriter.compress)
    stripped = rewriter.output(extra=[debuglink(debug_out, debug_bytes)])
    write_pair(debug_out, debug_bytes, out, stripped)


def _check_arguments(dwarf: DwarfSections, compress: bool | None) -> None:
    if not isinstance(dwarf, DwarfSections):
        raise ContainerError(f"the ELF rewriter needs DwarfSections, not {type(dwarf).__name__}")
    if compress not in (None, True, False):
        raise ContainerError(f"compress must be None, True or False, not {compress!r}")
    if dwarf.encoding.byteorder != "little" or dwarf.encoding.address_size != 8:
        raise ContainerError(f"ELF64 little-endian files need little-endian DWARF with 8-byte addresses, not "
                             f"{dwarf.encoding.byteorder}-endian with {dwarf.encoding.address_size}-byte addresses")


def _read(src: str | os.PathLike[str]) -> bytes:
    try:
        return Path(src).read_bytes()
    except OSError as e:
        raise ContainerError(f"cannot read {src}: {e.strerror or e}") from None


def _is_executable(src: str | os.PathLike[str]) -> bool:
    try:
        return bool(os.stat(src).st_mode & 0o111)
    except OSError:
        return False


def is_debug_section(section: InputSection) -> bool:
    """A section the rewriter replaces: non-allocated DWARF (or an index of it)."""
    if section.flags & SH_FLAGS.SHF_ALLOC:
        return False
    return (section.name.startswith(_DWARF_PREFIXES) and section.name not in _NOT_DWARF) or section.name in _DERIVED


def without_eh_frame(dwarf: DwarfSections) -> DwarfSections:
    """``dwarf`` without its ``.eh_frame``: the runtime's copy in the input stays."""
    return DwarfSections(dwarf.encoding, {n: s for n, s in dwarf.sections.items() if n != EH_FRAME})


def linked_dwarf(elf: InputElf, dwarf: DwarfSections) -> dict[str, bytes]:
    """The final bytes of ``dwarf``'s sections in a linked file: symbolic addresses (which a loaded file's DWARF
    should not hold) resolved through its symbol tables and section addresses, and checked to lie in a section."""
    spans = [(s.name, s.addr, s.size) for s in elf.sections if s.flags & SH_FLAGS.SHF_ALLOC]
    return final_sections(dwarf, elf.machine, lambda: _linked_addresses(elf, dwarf), spans, elf.path)


def _linked_addresses(elf: InputElf, dwarf: DwarfSections) -> dict[str, int]:
    """Symbol addresses from ``.symtab`` and ``.dynsym``, then section addresses by name (symbols win); a name found
    in neither is refused here, naming the field."""
    addresses: dict[str, int] = {}
    for table in elf.sections:
        if table.type not in (SHT["SHT_SYMTAB"], SHT["SHT_DYNSYM"]):
            continue
        names = symbol_names(elf, table)
        for name, (_n, _info, _other, shndx, value, _size) in zip(names, SYM.iter_unpack(elf.bytes_of(table)),
                                                                     strict=True):
            if name and shndx != 0:
                addresses.setdefault(name, value)
    for s in elf.sections:
        if s.flags & SH_FLAGS.SHF_ALLOC:
            addresses.setdefault(s.name, s.addr)
    for section in dwarf:
        for r in section.symbolic_relocations():
            if r.target not in addresses:
                raise ContainerError(f"{section.name}+{r.offset:#x}: {r.kind.value} relocation against unknown "
                                     f"symbol {r.target!r}: {elf.path} has no symbol or section of that name")
    return addresses


def _canonical(name: str) -> str:
    return ".debug_" + name[len(".zdebug_"):] if name.startswith(".zdebug_") else name


class _Rewriter:
    """One rewrite: which input sections go, where the new ones come, and the bytes of the result."""

    def __init__(self, elf: InputElf, dwarf: DwarfSections, compress: bool | None, *,
                 drop: frozenset[str] = frozenset()) -> None:
        """``dwarf``: the sections to write (no ``.eh_frame``); ``drop``: names of other sections to leave out."""
        self.elf, self.dwarf = elf, dwarf
        sections = elf.sections
        debug = {s.index for s in sections[1:] if is_debug_section(s)}
        old_compressed = any(sections[i].flags & SH_FLAGS.SHF_COMPRESSED or sections[i].name.startswith(".zdebug_")
                             for i in debug)
        self.compress = old_compressed if compress is None else compress
        self.first_debug = min(debug, default=None)
        dropped = debug | {s.index for s in sections if s.name in drop}
        dropped |= {s.index for s in sections if s.type in (SHT["SHT_REL"], SHT["SHT_RELA"]) and s.info in debug}
        self.groups = self._groups(dropped)
        dropped |= {i for i, members in self.groups.items() if not members}
        self.debug, self.dropped = debug, dropped
        kept_names = {s.name: s.index for s in sections if s.index not in dropped}
        for name in dwarf.sections:
            if name in kept_names:
                raise ContainerError(f"{elf.path}: section header {kept_names[name]}: the new {name} would share "
                                     f"its name with this section, which stays "
                                     f"(an allocated {name}?)")
        self.section_map: dict[int, int] = {}
        self._by_name: dict[str, list[InputSection]] = {}

    def _groups(self, dropped: set[int]) -> dict[int, list[int]]:
        """Each ``SHT_GROUP`` section's members that stay (after the flag word)."""
        groups: dict[int, list[int]] = {}
        for s in self.elf.sections:
            if s.type != SHT["SHT_GROUP"]:
                continue
            data = self.elf.bytes_of(s)
            if len(data) < 4 or len(data) % 4:
                raise ContainerError(f"{self.elf.where(s)}: a group of {len(data)} bytes (want a flag word and "
                                     f"4-byte section indices)")
            members = [m for (m,) in _GROUP.iter_unpack(data[4:])]
            for m in members:
                if not 0 < m < len(self.elf.sections):
                    raise ContainerError(f"{self.elf.where(s)}: member {m} is not a section")
            groups[s.index] = [m for m in members if m not in dropped]
        return groups

    # -- the new debug sections ------------------------------------------------------------------------------------
    def _new_sections(self) -> list[tuple[ElfSection, str]]:
        """The new debug sections (with the name of the ``dwarf`` section each came from)."""
        dwarf = self.dwarf
        if self.elf.linked:
            data = linked_dwarf(self.elf, dwarf) if dwarf.sections else {}
        else:
            for s in dwarf:
                s.check_relocations(set(dwarf.sections))
            data = {s.name: cleared(bytes(s.data), s.relocations) for s in dwarf}
        return [(debug_section(s.name, data[s.name], compress=self.compress, alignment=s.alignment), s.name)
                for s in dwarf]

    # -- the output ------------------------------------------------------------------------------------------------
    def output(self, extra: Sequence[ElfSection] = ()) -> bytes:
        elf, sections = self.elf, self.elf.sections
        new = self._new_sections()
        needs_rela = {name for _s, name in new if not elf.linked
                      and any(r.kind.needs_container_relocation for r in self.dwarf[name].relocations)}
        # Output order: the kept sections in input order; each new debug section (followed by its .rela) where the
        # old one of its name was, so that a file whose DWARF keeps its sections keeps its section indices (and so
        # its symbol table); new ones where the first old one was, else before the symbol table, else last.
        symtab = next((s for s in sections if s.type == SHT["SHT_SYMTAB"] and s.index not in self.dropped), None)
        slots: dict[int, list[tuple[ElfSection, str]]] = {}
        placed: set[str] = set()
        by_name = {name: (section, name) for section, name in new}
        for i in sorted(self.debug):
            name = _canonical(sections[i].name)
            if name in by_name and name not in placed and not sections[i].flags & SH_FLAGS.SHF_GROUP:
                slots[i] = self._with_rela([by_name[name]], needs_rela)
                placed.add(name)
        at = self.first_debug if self.first_debug is not None else (symtab.index if symtab else len(sections))
        slots[at] = self._with_rela([n for n in new if n[1] not in placed], needs_rela) + slots.get(at, [])
        order: list[InputSection | tuple[ElfSection, str]] = []
        for s in sections[1:]:
            order += slots.get(s.index, [])
            if s.index not in self.dropped:
                order.append(s)
        order += slots.get(len(sections), [])
        section_map = {0: 0}
        new_index: dict[str, int] = {}
        for i, item in enumerate(order, start=1):
            if isinstance(item, InputSection):
                section_map[item.index] = i
            elif item[0].type != SHT["SHT_RELA"]:
                new_index[item[1]] = i
        self.section_map = section_map
        if elf.linked:
            for s in sections:
                if s.flags & SH_FLAGS.SHF_ALLOC and section_map.get(s.index) != s.index:
                    raise ContainerError(f"{elf.where(s)}: an allocated section after the debug sections would get "
                                         f"a new index, which the dynamic symbols refer to")
        edited = self._symbols(symtab, section_map, new_index) if symtab is not None else None
        outs = [OutSection("", [0] * 10, b"")]
        for item in order:
            if isinstance(item, InputSection):
                outs.append(self._kept(item, section_map, edited, symtab))
            else:
                section, name = item
                outs.append(self._new(section, name, new_index, edited, section_map.get(symtab.index, 0)
                                      if symtab else 0))
        for section in extra:
            outs.append(OutSection(section.name, [0, section.type, section.flags, 0, 0, len(section.data), 0, 0,
                                            section.align, section.entsize], section.data))
        return relayout(elf, outs, section_map[elf.shstrndx])

    @staticmethod
    def _with_rela(new: list[tuple[ElfSection, str]], needs_rela: set[str]) -> list[tuple[ElfSection, str]]:
        out = []
        for section, name in new:
            out.append((section, name))
            if name in needs_rela:
                out.append((ElfSection(".rela" + section.name, SHT["SHT_RELA"], SH_FLAGS.SHF_INFO_LINK, align=8,
                                       entsize=RELA.size), name))
        return out

    def _symbols(self, symtab: InputSection, section_map: dict[int, int], new_index: dict[str, int]) -> EditedSymbols:
        elf = self.elf
        names = symbol_names(elf, symtab)
        known = set(names)
        wanted: list[int] = []
        for s in self.dwarf:
            if elf.linked:
                break
            for r in s.relocations:
                if r.kind in (RelocKind.UNIT, RelocKind.SECTION):
                    wanted.append(new_index[r.target])
                elif r.kind in SYMBOLIC and r.target not in known:   # a section by name: a new debug one or a kept one
                    wanted.append(new_index[r.target] if r.target in new_index else
                                  section_map[self._section_named(r.target, s.name, r.offset, r.kind).index])
        moved = {i: new_index[_canonical(elf.sections[i].name)] for i in self.debug
                 if not elf.sections[i].flags & SH_FLAGS.SHF_GROUP and _canonical(elf.sections[i].name) in new_index}
        return edit_symbols(elf, symtab, {k: v for k, v in section_map.items() if k}, moved, wanted, names)

    def _section_named(self, name: str, where: str, offset: int, kind: RelocKind) -> InputSection:
        if not self._by_name:
            for s in self.elf.sections[1:]:
                if s.index not in self.dropped:
                    self._by_name.setdefault(s.name, []).append(s)
        candidates = self._by_name.get(name, [])
        if len(candidates) != 1:
            what = "no symbol or section" if not candidates else f"no symbol but {len(candidates)} sections"
            raise ContainerError(f"{where}+{offset:#x}: {kind.value} relocation against unknown symbol {name!r}: "
                                 f"{self.elf.path} has {what} of that name")
        return candidates[0]

    def _kept(self, s: InputSection, section_map: dict[int, int], edited: EditedSymbols | None,
              symtab: InputSection | None) -> OutSection:
        elf = self.elf
        header = s.header()
        if s.link:
            if s.link not in section_map:
                raise ContainerError(f"{elf.where(s)}: sh_link names section {s.link}, a dropped debug section")
            header[6] = section_map[s.link]
        if s.info and (s.type in (SHT["SHT_REL"], SHT["SHT_RELA"]) or s.flags & SH_FLAGS.SHF_INFO_LINK):
            if s.info not in section_map:
                raise ContainerError(f"{elf.where(s)}: sh_info names section {s.info}, which does not stay")
            header[7] = section_map[s.info]
        data: bytes | memoryview = elf.bytes_of(s)
        on_symtab = symtab is not None and edited is not None and s.link == symtab.index
        if edited is not None and s is symtab:
            data, header[7] = edited.data, edited.first_global
        elif edited is not None and s.type == SHT["SHT_SYMTAB_SHNDX"] and on_symtab:
            data = edited.shndx or b""
        elif s.type in (SHT["SHT_REL"], SHT["SHT_RELA"]) and on_symtab and edited and not edited.identity:
            data = renumber_relocations(elf, s, edited.old_to_new)
        elif s.type == SHT_LLVM_ADDRSIG and on_symtab and edited and not edited.identity:
            data = renumber_addrsig(elf, s, edited.old_to_new)
        elif s.type == SHT["SHT_GROUP"]:
            members = [section_map[m] for m in self.groups[s.index]]
            data = bytes(data[:4]) + struct.pack(f"<{len(members)}I", *members)
            if on_symtab and edited is not None:
                header[7] = self._symbol(edited, s.info, s)
        if not s.nobits:
            header[5] = len(data)
        return OutSection(s.name, header, data, fixed=elf.linked and bool(s.flags & SH_FLAGS.SHF_ALLOC))

    def _symbol(self, edited: EditedSymbols, old: int, where: InputSection) -> int:
        new = edited.old_to_new[old] if old < len(edited.old_to_new) else -1
        if new < 0:
            raise ContainerError(f"{self.elf.where(where)}: refers to symbol {old}, which is gone or does not exist")
        return new

    def _new(self, section: ElfSection, name: str, new_index: dict[str, int], edited: EditedSymbols | None,
             symtab_index: int) -> OutSection:
        header = [0, section.type, section.flags, 0, 0, len(section.data), 0, 0, section.align, section.entsize]
        if section.type != SHT["SHT_RELA"]:
            return OutSection(section.name, header, section.data)
        if edited is None:
            raise ContainerError(f"{self.elf.path}: the new {name} needs relocations but the object has no symbol "
                                 f"table")
        header[6], header[7] = symtab_index, new_index[name]
        data = self._rela(name, edited, new_index)
        header[5] = len(data)
        return OutSection(section.name, header, data)

    def _rela(self, name: str, edited: EditedSymbols, new_index: dict[str, int]) -> bytes:
        machine = self.elf.machine
        out = bytearray()
        for r in self.dwarf[name].relocations:
            if not r.kind.needs_container_relocation:
                continue
            if r.kind in (RelocKind.UNIT, RelocKind.SECTION):
                symbol = edited.section_symbol[new_index[r.target]]
            elif r.target in edited.by_name:
                symbol = edited.by_name[r.target]
            elif r.target in new_index:
                symbol = edited.section_symbol[new_index[r.target]]
            else:
                old = self._section_named(r.target, name, r.offset, r.kind).index
                symbol = edited.section_symbol[self.section_map[old]]
            out += RELA.pack(r.offset, (symbol << 32) | machine.relocation_type(r, name), r.addend)
        return bytes(out)
