"""Rewriting an existing ELF file with new DWARF (``dwarfkit convert``): objects, executables and shared libraries.

    from dwarfkit.backends.elf.rewrite import rewrite, rewrite_bytes, rewrite_separate
    rewrite("in.o", "out.o", dwarf)                        # the same object with its DWARF replaced
    rewrite_separate("libx.so", "out/libx.so", "out/libx.so.debug", dwarf)   # stripped copy + debug file

Every section that is not debug information stays byte for byte: code, data, ``.eh_frame``, notes, symbols, the
relocations of code and data, COMDAT groups. What goes: the DWARF sections (``.debug_*``, ``.zdebug_*``; not
``.debug_gdb_scripts``, which is no DWARF), ``.gdb_index`` (an index of the old DWARF), their relocation sections, and
groups left with no member. What comes: ``dwarf``'s sections (its ``.eh_frame`` is ignored: the runtime's copy stays)
where the old ones were. In an object, each type unit goes into a COMDAT group of its own (:func:`object_groups`),
after every group header: the input's group that held it (its place and signature symbol), when the unit stays in a
section of that name, else a new ``.group`` with a new local signature symbol (``wt.``/``wi.<signature>``);
likewise the ``groups`` a caller gives (``dwarfkit convert``: gcc -g3's ``wm4.*`` macro units), matched by signature.

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
import zlib
from collections.abc import Sequence
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from dwarfkit.errors import ContainerError
from dwarfkit.image import SectionGroup, group_section, group_type_units, unit_header
from dwarfkit.sections import SYMBOLIC, DwarfSections, RelocKind, Section

from .contents import EH_FRAME, debug_section
from .debugfile import DEBUGLINK, debug_file_bytes, debuglink, final_sections, write_pair
from .dwo import write_with_dwo
from .elffile import ElfHeader, ElfSection
from .elfinput import SHT, InputElf, InputSection, read_elf_headers, read_input
from .objectfile import cleared, container_fields
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
_GRP_COMDAT = 1
_TYPE_UNIT_SECTIONS = (".debug_info", ".debug_types")


def rewrite_bytes(original: bytes, dwarf: DwarfSections, *, compress: bool | None = None,
                  path: str = "<input>", groups: Sequence[SectionGroup] = ()) -> bytes:
    """``original`` (an ELF64 little-endian object, executable or shared library) with its DWARF replaced by
    ``dwarf``; see the module docstring. ``groups``: more debug sections in COMDAT groups (objects only; gcc -g3's
    imported macro units), besides the type units' groups made here. Raises :class:`ContainerError` (or another
    DwarfkitError) on bad input."""
    elf = read_input(original, path)   # first: a file that cannot be rewritten is named before the DWARF
    _check_arguments(dwarf, compress)
    if groups and elf.linked:
        raise ContainerError(f"{path}: section groups are written in relocatable objects, not in a linked file")
    dwarf = without_eh_frame(dwarf)
    dwarf, type_groups = (dwarf, []) if elf.linked else object_groups(dwarf)
    return _Rewriter(elf, dwarf, compress, groups=[*groups, *type_groups]).output()


def rewrite(src: str | os.PathLike[str], out: str | os.PathLike[str], dwarf: DwarfSections, *,
            compress: bool | None = None, groups: Sequence[SectionGroup] = ()) -> None:
    """Writes ``out``: ``src`` with its DWARF replaced by ``dwarf``, atomically (never a partial ``out``)."""
    original = _read(src)
    data = rewrite_bytes(original, dwarf, compress=compress, path=str(src), groups=groups)
    # split DWARF: the .dwo parts beside out, before it
    write_with_dwo(dwarf, read_elf_headers(original, str(src)).e_machine, out, data, executable=_is_executable(src))


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


def object_groups(dwarf: DwarfSections) -> tuple[DwarfSections, list[SectionGroup]]:
    """An object's DWARF as a compiler lays it out: each type unit in its own COMDAT group (gcc's and clang's
    ``-fdebug-types-section``, :func:`~dwarfkit.image.group_type_units`), so that a linker keeps one copy of each
    type among its inputs. With ``.debug_names``, which lists type units by their offset in the shared section,
    the type units stay there."""
    if ".debug_names" in dwarf:
        return dwarf, []
    return group_type_units(dwarf)


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


def _scoped(scope: str, name: str) -> str:
    """The key of a new section: its name, or for a group's section :func:`~dwarfkit.image.group_section` (which is
    also how a relocation outside the group names it)."""
    return group_section(scope, name) if scope else name


def _head(elf: InputElf, section: InputSection, size: int = 64) -> bytes:
    """The first ``size`` bytes of a debug section as its readers see them (decompressed); b"" when unreadable."""
    data = bytes(elf.bytes_of(section))
    try:
        if section.flags & SH_FLAGS.SHF_COMPRESSED:
            return zlib.decompressobj().decompress(data[24:], size)
        if section.name.startswith(".zdebug_"):
            return zlib.decompressobj().decompress(data[12:], size) if data[:4] == b"ZLIB" else b""
    except zlib.error:
        return b""
    return data[:size]


class _Rewriter:
    """One rewrite: which input sections go, where the new ones come, and the bytes of the result."""

    def __init__(self, elf: InputElf, dwarf: DwarfSections, compress: bool | None, *,
                 drop: frozenset[str] = frozenset(), groups: Sequence[SectionGroup] = ()) -> None:
        """``dwarf``: the sections to write (no ``.eh_frame``); ``drop``: names of other sections to leave out;
        ``groups``: COMDAT groups of more debug sections (objects only)."""
        self.elf, self.dwarf = elf, dwarf
        self.new_groups = list(groups)
        # The new sections by key (_scoped): the shared ones by name, a group's under its signature.
        self.emitted: dict[str, Section] = {s.name: s for s in dwarf}
        self.scope: dict[str, SectionGroup] = {}
        for group in self.new_groups:
            for d in group.dwarf:
                if d.data:   # a DWARF 4 emission's empty .debug_info: nothing to keep or discard
                    self.emitted[_scoped(group.signature, d.name)] = d
                    self.scope[_scoped(group.signature, d.name)] = group
        sections = elf.sections
        debug = {s.index for s in sections[1:] if is_debug_section(s)}
        old_compressed = any(sections[i].flags & SH_FLAGS.SHF_COMPRESSED or sections[i].name.startswith(".zdebug_")
                             for i in debug)
        self.compress = old_compressed if compress is None else compress
        self.first_debug = min(debug, default=None)
        dropped = debug | {s.index for s in sections if s.name in drop}
        dropped |= {s.index for s in sections if s.type in (SHT["SHT_REL"], SHT["SHT_RELA"]) and s.info in debug}
        self.groups = self._groups(dropped)
        self.reused = self._reused_groups(debug)
        dropped |= {i for i, members in self.groups.items() if not members and i not in self.reused}
        self.debug, self.dropped = debug, dropped
        kept_names = {s.name: s.index for s in sections if s.index not in dropped}
        for name in dwarf.sections:
            if name in kept_names:
                raise ContainerError(f"{elf.path}: section header {kept_names[name]}: the new {name} would share "
                                     f"its name with this section, which stays "
                                     f"(an allocated {name}?)")
        self.section_map: dict[int, int] = {}
        self.new_index: dict[str, int] = {}
        self.group_members: dict[str, list[int]] = {}
        self._by_name: dict[str, list[InputSection]] = {}
        self.strtab_extra = b""
        self.named_groups: list[str] = []   # the keys of the new .group sections, in symbol order

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

    def _reused_groups(self, debug: set[int]) -> dict[int, SectionGroup]:
        """The input COMDAT groups of debug sections that come again: a group of the same signature (gcc -g3's
        ``wm4.*`` macro units), or one whose type unit comes again in a section of the same name. Such a group
        keeps its place and its signature symbol (gcc's ``wt.``/``wi.<signature>``, clang's decimal signature),
        with the new sections as its members. A type unit that moves (``.debug_types`` <-> ``.debug_info``:
        another DWARF version) gets a new group under the new layout's name; the old one, left empty, goes."""
        elf, order = self.elf, self.dwarf.encoding.byteorder
        by_signature = {g.signature: g for g in self.new_groups}
        symtab = next((s for s in elf.sections if s.type == SHT["SHT_SYMTAB"]), None)
        names = symbol_names(elf, symtab) if symtab is not None and by_signature else []
        wanted: dict[tuple[str, int], SectionGroup] = {}
        for group in self.new_groups:
            for d in group.dwarf:
                if d.name in _TYPE_UNIT_SECTIONS and d.data:
                    _end, signature = unit_header(bytes(d.data[:64]), 0, order, types=d.name == ".debug_types")
                    if signature is not None:
                        wanted.setdefault((d.name, signature), group)
        reused: dict[int, SectionGroup] = {}
        for s in elf.sections:
            data = elf.bytes_of(s) if s.type == SHT["SHT_GROUP"] else b""
            if not self.new_groups or len(data) < 4 or not _GROUP.unpack_from(data)[0] & _GRP_COMDAT:
                continue
            members = [m for (m,) in _GROUP.iter_unpack(data[4:])]
            named = names[s.info] if symtab is not None and s.link == symtab.index and s.info < len(names) else ""
            if named in by_signature and any(m in debug for m in members):
                reused[s.index] = by_signature.pop(named)
                wanted = {k: g for k, g in wanted.items() if g is not reused[s.index]}
                continue
            for m in members:
                name = _canonical(elf.sections[m].name)
                if m not in debug or name not in _TYPE_UNIT_SECTIONS:
                    continue
                _end, signature = unit_header(_head(elf, elf.sections[m]), 0, order, types=name == ".debug_types")
                if signature is not None and (name, signature) in wanted:
                    reused[s.index] = wanted.pop((name, signature))
                    by_signature.pop(reused[s.index].signature, None)
                    break
        return reused

    # -- the new debug sections ------------------------------------------------------------------------------------
    def _new_sections(self) -> list[tuple[ElfSection, str]]:
        """The new debug sections (with the key of the emitted section each came from)."""
        dwarf = self.dwarf
        if self.elf.linked:
            data = linked_dwarf(self.elf, dwarf) if dwarf.sections else {}
        else:
            shared = set(self.emitted)   # the shared sections and every group's (by group_section)
            for key, s in self.emitted.items():
                group = self.scope.get(key)
                s.check_relocations(shared | set(group.dwarf.sections) if group else shared)
            data = {key: cleared(bytes(s.data), container_fields(s)) for key, s in self.emitted.items()}
        out = []
        for key, s in self.emitted.items():
            section = debug_section(s.name, data[key], compress=self.compress, alignment=s.alignment)
            if key in self.scope:
                section.flags |= SH_FLAGS.SHF_GROUP
            out.append((section, key))
        return out

    # -- the output ------------------------------------------------------------------------------------------------
    def output(self, extra: Sequence[ElfSection] = ()) -> bytes:
        elf, sections = self.elf, self.elf.sections
        new = self._new_sections()
        needs_rela = {key for _s, key in new if not elf.linked
                      and any(r.kind.needs_container_relocation for r in self.emitted[key].relocations)}
        # Output order: the kept sections in input order; each new debug section (followed by its .rela) where the
        # old one of its name was, so that a file whose DWARF keeps its sections keeps its section indices (and so
        # its symbol table); new ones where the first old one was, else before the symbol table, else last.
        symtab = next((s for s in sections if s.type == SHT["SHT_SYMTAB"] and s.index not in self.dropped), None)
        slots: dict[int, list[tuple[ElfSection, str]]] = {}
        placed: set[str] = set()
        grouped = [n for n in new if n[1] in self.scope]
        new = [n for n in new if n[1] not in self.scope]
        by_name = {name: (section, name) for section, name in new}
        for i in sorted(self.debug):
            name = _canonical(sections[i].name)
            if name in by_name and name not in placed and not sections[i].flags & SH_FLAGS.SHF_GROUP:
                slots[i] = self._with_rela([by_name[name]], needs_rela)
                placed.add(name)
        at = self.first_debug if self.first_debug is not None else (symtab.index if symtab else len(sections))
        slots[at] = self._with_rela([n for n in new if n[1] not in placed], needs_rela) + slots.get(at, [])
        # Groups after the shared debug sections, as gcc places its macro units' (linked, they follow the compile
        # units' own), and members after every group header that takes them (a group precedes its members).
        group_at = max(at, max(self.debug, default=0) + 1, max(self.reused, default=0) + 1)
        slots[group_at] = slots.get(group_at, []) + self._grouped(grouped, needs_rela)
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
                continue
            if item[0].type != SHT["SHT_RELA"]:
                new_index[item[1]] = i
            if item[1] in self.scope and item[0].type != SHT["SHT_GROUP"]:
                self.group_members.setdefault(self.scope[item[1]].signature, []).append(i)
        self.section_map, self.new_index = section_map, new_index
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
        for section, key in new:
            out.append((section, key))
            if key in needs_rela:
                flags = SH_FLAGS.SHF_INFO_LINK | (section.flags & SH_FLAGS.SHF_GROUP)
                out.append((ElfSection(".rela" + section.name, SHT["SHT_RELA"], flags, align=8,
                                       entsize=RELA.size), key))
        return out

    def _grouped(self, grouped: list[tuple[ElfSection, str]], needs_rela: set[str]) -> list[tuple[ElfSection, str]]:
        """The groups' sections, each group's after its header: a new ``.group`` for a group no input group
        takes in."""
        reused = {id(g) for g in self.reused.values()}
        out: list[tuple[ElfSection, str]] = []
        for group in self.new_groups:
            if id(group) not in reused:
                key = _scoped(group.signature, ".group")
                self.scope[key] = group
                out.append((ElfSection(".group", SHT["SHT_GROUP"], align=4, entsize=4), key))
            out += self._with_rela([n for n in grouped if self.scope[n[1]] is group], needs_rela)
        return out

    def _target(self, key: str, target: str) -> str:
        """The key of the new section a section offset in ``key`` points into: its group's own section of that
        name when it has one, else the shared one."""
        group = self.scope.get(key)
        if group is not None and _scoped(group.signature, target) in self.emitted:
            return _scoped(group.signature, target)
        return target

    def _symbols(self, symtab: InputSection, section_map: dict[int, int], new_index: dict[str, int]) -> EditedSymbols:
        elf = self.elf
        names = symbol_names(elf, symtab)
        known = set(names)
        wanted: list[int] = []
        for key, s in self.emitted.items():
            if elf.linked:
                break
            for r in s.relocations:
                if r.kind in (RelocKind.UNIT, RelocKind.SECTION):
                    wanted.append(new_index[self._target(key, r.target)])
                elif r.kind in SYMBOLIC and r.target not in known:   # a section by name: a new debug one or a kept one
                    wanted.append(new_index[r.target] if r.target in new_index else
                                  section_map[self._section_named(r.target, s.name, r.offset, r.kind).index])
        moved = {i: new_index[_canonical(elf.sections[i].name)] for i in self.debug
                 if not elf.sections[i].flags & SH_FLAGS.SHF_GROUP and _canonical(elf.sections[i].name) in new_index}
        # New groups' signature symbols, their names added to the symbol string table.
        strtab = bytes(elf.bytes_of(elf.sections[symtab.link]))
        extra, named = bytearray(), []
        for group in self.new_groups:
            key = _scoped(group.signature, ".group")
            if key in new_index:
                named.append((len(strtab) + len(extra), new_index[key]))
                self.named_groups.append(key)
                extra += group.signature.encode() + b"\0"
        self.strtab_extra = bytes(extra)
        return edit_symbols(elf, symtab, {k: v for k, v in section_map.items() if k}, moved, wanted, names, named)

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
        if symtab is not None and s.index == symtab.link and self.strtab_extra:
            data = bytes(data) + self.strtab_extra
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
            if s.index in self.reused:
                members += self.group_members.get(self.reused[s.index].signature, [])
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

    def _new(self, section: ElfSection, key: str, new_index: dict[str, int], edited: EditedSymbols | None,
             symtab_index: int) -> OutSection:
        header = [0, section.type, section.flags, 0, 0, len(section.data), 0, 0, section.align, section.entsize]
        if section.type not in (SHT["SHT_RELA"], SHT["SHT_GROUP"]):
            return OutSection(section.name, header, section.data)
        if edited is None:
            raise ContainerError(f"{self.elf.path}: the new {section.name} needs a symbol table, which the object "
                                 f"has not")
        header[6] = symtab_index
        if section.type == SHT["SHT_GROUP"]:
            header[7] = edited.named[self.named_groups.index(key)]
            members = self.group_members.get(self.scope[key].signature, [])
            data = struct.pack(f"<{1 + len(members)}I", _GRP_COMDAT, *members)
        else:
            header[7] = new_index[key]
            data = self._rela(key, edited, new_index)
        header[5] = len(data)
        return OutSection(section.name, header, data)

    def _rela(self, key: str, edited: EditedSymbols, new_index: dict[str, int]) -> bytes:
        machine = self.elf.machine
        emitted = self.emitted[key]
        name = emitted.name
        out = bytearray()
        for r in emitted.relocations:
            if not r.kind.needs_container_relocation:
                continue
            if r.kind in (RelocKind.UNIT, RelocKind.SECTION):
                symbol = edited.section_symbol[new_index[self._target(key, r.target)]]
            elif r.target in edited.by_name:
                symbol = edited.by_name[r.target]
            elif r.target in new_index:
                symbol = edited.section_symbol[new_index[r.target]]
            else:
                old = self._section_named(r.target, name, r.offset, r.kind).index
                symbol = edited.section_symbol[self.section_map[old]]
            out += RELA.pack(r.offset, (symbol << 32) | machine.relocation_type(r, name), r.addend)
        return bytes(out)
