"""A container-neutral program image: code and data sections, symbols, and the emitted DWARF.

Every backend takes an :class:`Image` and writes it in its container (ELF, Mach-O, COFF/PE). Nothing here knows a
container; section names use ELF spelling (``.text``) and backends map them.

The dataclasses check their own fields when they are made (names, sizes, alignment, kinds), and
:meth:`Image.validate`, which every backend calls before it writes anything, checks them again (they are mutable)
together with what only the whole image can tell: symbols inside their sections, relocated fields inside theirs,
and call frames made for this architecture. So every backend refuses the same bad input with the same message,
before it has written a byte. Which sections and symbols a reference may name, and the DWARF's address size and
byte order, depend on the container: each backend checks those itself. Backends that resolve addresses (executables,
dSYMs, debug files) also check them against the final sections with :func:`check_final_addresses`.

Two things only ELF relocatable objects hold, refused by every other writer in :meth:`Image.validate`: thread-local
storage (TDATA/TBSS sections, TLS symbols, ``TLS_OFFSET`` relocations from ``Expr.tls_address``: their offsets are
laid out by the linker) and :class:`SectionGroup` COMDAT groups (type units kept once across objects).
"""
from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from .arch import Arch, check_frame_section
from .encoding import ByteOrder
from .errors import DescriptionError, RelocationError
from .sections import DwarfSections, Relocation, RelocKind, Section, check_relocations

_MAX_U64 = (1 << 64) - 1


class SectionKind(enum.Enum):
    CODE = "code"
    DATA = "data"
    RODATA = "rodata"
    BSS = "bss"
    TDATA = "tdata"
    """Initialised thread-local data (ELF ``.tdata``: every thread gets a copy)."""
    TBSS = "tbss"
    """Zero-filled thread-local data (ELF ``.tbss``): a size, no bytes."""


class SymbolKind(enum.Enum):
    FUNCTION = "function"
    OBJECT = "object"
    NOTYPE = "notype"
    TLS = "tls"
    """A thread-local variable (ELF ``STT_TLS``), defined in a TDATA or TBSS section."""


_THREAD_LOCAL_SECTIONS = (SectionKind.TDATA, SectionKind.TBSS)
_ZERO_FILL = (SectionKind.BSS, SectionKind.TBSS)


def check_name(what: str, name: object) -> str:
    """A name every container can store: a non-empty string without NUL that encodes as UTF-8 (no lone
    surrogates). ``what`` says whose name it is, e.g. ``symbol name``."""
    if not isinstance(name, str) or not name:
        raise DescriptionError(f"{what} {name!r} is not a non-empty string")
    if "\0" in name:
        raise DescriptionError(f"{what} {name!r} contains NUL, which ends a name in every container")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as e:
        raise DescriptionError(f"{what} {name!r} is not valid text: lone surrogate {name[e.start]!r} at index "
                               f"{e.start}") from None
    return name


def check_alignment(what: str, alignment: object) -> int:
    """An alignment in bytes: 0 or 1 (none) or a power of two."""
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment < 0 \
            or alignment & (alignment - 1) or alignment > 1 << 32:
        raise DescriptionError(f"{what}: alignment {alignment!r} is not a power of two (up to 2**32), 0 or 1")
    return alignment


def _check_size(what: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_U64:
        raise DescriptionError(f"{what} {value!r} is not an integer in [0, 2**64)")
    return value


def _enum(kind_type: type[enum.Enum], value: object, what: str) -> enum.Enum:
    if isinstance(value, kind_type):
        return value
    try:
        return kind_type(value)
    except (ValueError, TypeError):
        names = ", ".join(repr(k.value) for k in kind_type)
        raise DescriptionError(f"{what} {value!r} is not a {kind_type.__name__} ({names})") from None


@dataclass
class ContentSection:
    """Code or data. A BSS section has ``size`` and no bytes."""

    name: str
    kind: SectionKind
    data: bytes = b""
    alignment: int = 16
    size: int | None = None
    relocations: list[Relocation] = field(default_factory=list)
    """ADDRESS and PCREL fields in code or data that refer to symbols."""

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        check_name("section name", self.name)
        where = f"section {self.name}"
        self.kind = _enum(SectionKind, self.kind, f"{where}: kind")  # type: ignore[assignment]
        if not isinstance(self.data, (bytes, bytearray, memoryview)):
            raise DescriptionError(f"{where}: data is a {type(self.data).__name__}, not bytes")
        check_alignment(where, self.alignment)
        if self.size is not None:
            _check_size(f"{where}: size", self.size)
        if self.kind in _ZERO_FILL:
            if self.data or self.relocations:
                raise DescriptionError(f"{where}: a BSS (zero-fill) section has no bytes and no relocations; give "
                                       f"it a size only (it has {len(self.data)} bytes, {len(self.relocations)} "
                                       f"relocations)")
        elif self.size is not None and self.size != len(self.data):
            raise DescriptionError(f"{where}: size {self.size:#x} differs from its {len(self.data):#x} bytes of "
                                   f"data; only a BSS section has a size without bytes")

    @property
    def byte_size(self) -> int:
        return self.size if self.size is not None else len(self.data)


@dataclass
class Symbol:
    name: str
    section: str | None
    """Name of the defining section; None for an undefined (external) symbol."""
    value: int = 0
    """Offset inside the section."""
    size: int = 0
    kind: SymbolKind = SymbolKind.FUNCTION
    is_global: bool = True

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        check_name("symbol name", self.name)
        where = f"symbol {self.name!r}"
        if self.section is not None and not isinstance(self.section, str):
            raise DescriptionError(f"{where}: section {self.section!r} is not a section name or None")
        _check_size(f"{where}: value", self.value)
        _check_size(f"{where}: size", self.size)
        self.kind = _enum(SymbolKind, self.kind, f"{where}: kind")  # type: ignore[assignment]
        if not isinstance(self.is_global, bool):
            raise DescriptionError(f"{where}: is_global {self.is_global!r} is not True or False")


@dataclass
class SectionGroup:
    """DWARF sections that travel together under a key: an ELF ``SHT_GROUP`` with ``GRP_COMDAT``, so a linker keeps
    one copy of each ``signature`` among all its input objects (gcc's ``-fdebug-types-section`` type units: group
    ``wi.<signature>`` holding that unit's ``.debug_info``). ``dwarf`` is a second emission (another
    :class:`~dwarfkit.program.DwarfBuilder`, same encoding); its sections keep their names, so an object then holds
    several sections of one name. Its section offsets and references point into the group's own section of that
    name when it has one, else into the image's (a shared ``.debug_str``). Written only in ELF objects."""

    signature: str
    """The group's key, the name of the (local) symbol that names it."""
    dwarf: DwarfSections

    def check(self) -> None:
        check_name("section group signature", self.signature)
        if not isinstance(self.dwarf, DwarfSections):
            raise DescriptionError(f"section group {self.signature!r}: dwarf {self.dwarf!r} is not DwarfSections")


@dataclass
class Image:
    arch: Arch
    """An :class:`Arch`, or its name (``"x86_64"``, ``"arm64"``, ...)."""
    sections: list[ContentSection] = field(default_factory=list)
    symbols: list[Symbol] = field(default_factory=list)
    dwarf: DwarfSections | None = None
    entry: str | None = None
    """Entry symbol, for executables."""
    groups: list[SectionGroup] = field(default_factory=list)
    """COMDAT section groups (ELF objects only)."""

    def __post_init__(self) -> None:
        if isinstance(self.arch, str):
            self.arch = Arch.parse(self.arch)
        elif not isinstance(self.arch, Arch):
            raise DescriptionError(f"image architecture {self.arch!r} is not an Arch or an architecture name")

    def section(self, name: str) -> ContentSection:
        for s in self.sections:
            if s.name == name:
                return s
        raise DescriptionError(f"image has no section {name!r}")

    def symbol(self, name: str) -> Symbol:
        for s in self.symbols:
            if s.name == name:
                return s
        raise DescriptionError(f"image has no symbol {name!r}")

    def validate(self, written: set[str] | None = None, *, thread_local: bool = False, groups: bool = False) -> None:
        """Checks the whole image before a backend writes it (see the module's docstring); raises a
        :class:`~dwarfkit.errors.DwarfkitError` naming what is wrong and where. ``written``: the names of the
        sections the container writes, which section offsets and references must point into. ``thread_local``: the
        container can hold thread-local storage (TDATA/TBSS sections, TLS symbols, TLS_OFFSET relocations); only
        ELF objects can today, every other writer refuses them here. ``groups``: likewise for :attr:`groups`."""
        self.__post_init__()
        for s in self.sections:
            if not isinstance(s, ContentSection):
                raise DescriptionError(f"image section {s!r} is not a ContentSection")
            s.check()
        names = {s.name for s in self.sections}
        if len(names) != len(self.sections):
            raise DescriptionError("image has two sections of the same name")
        if self.entry is not None and not isinstance(self.entry, str):
            raise DescriptionError(f"image entry {self.entry!r} is not a symbol name")
        seen: set[str] = set()
        for sym in self.symbols:
            if not isinstance(sym, Symbol):
                raise DescriptionError(f"image symbol {sym!r} is not a Symbol")
            sym.check()
            if sym.name in seen:
                raise DescriptionError(f"symbol {sym.name!r} is defined twice")
            seen.add(sym.name)
            if sym.section is None:
                continue
            if sym.section not in names:
                raise DescriptionError(f"symbol {sym.name!r} refers to missing section {sym.section!r}")
            home = self.section(sym.section)
            if (sym.kind is SymbolKind.TLS) != (home.kind in _THREAD_LOCAL_SECTIONS):
                raise DescriptionError(f"symbol {sym.name!r} of kind {sym.kind.value} is defined in {home.kind.value} "
                                       f"section {home.name}: thread-local symbols (kind tls) and only they belong in "
                                       f"tdata/tbss sections")
            size = home.byte_size
            if not 0 <= sym.value <= size or sym.value + sym.size > size:
                raise DescriptionError(f"symbol {sym.name!r} [{sym.value:#x}, {sym.value + sym.size:#x}) lies outside "
                                       f"section {sym.section} of size {size:#x}")
        self._validate_relocations(written)
        self._validate_thread_locals(thread_local)
        self._validate_groups(groups, written, seen)

    def _validate_groups(self, allowed: bool, written: set[str] | None, symbols: set[str]) -> None:
        if not isinstance(self.groups, list):
            raise DescriptionError(f"image groups {self.groups!r} is not a list of SectionGroup")
        signatures: set[str] = set()
        for group in self.groups:
            if not isinstance(group, SectionGroup):
                raise DescriptionError(f"image group {group!r} is not a SectionGroup")
            group.check()
            where = f"section group {group.signature!r}"
            if not allowed:
                raise DescriptionError(f"{where}: section groups (COMDAT) are written only in ELF relocatable objects")
            if group.signature in signatures or group.signature in symbols:
                raise DescriptionError(f"{where}: the signature is already used by another group or a symbol")
            signatures.add(group.signature)
            if self.dwarf is not None and group.dwarf.encoding != self.dwarf.encoding:
                raise DescriptionError(f"{where}: its DWARF encoding {group.dwarf.encoding} differs from the "
                                       f"image's {self.dwarf.encoding}")
            names = set(group.dwarf.sections)
            for emitted in group.dwarf:
                check_name("DWARF section name", emitted.name)
                check_alignment(f"{where}: section {emitted.name}", emitted.alignment)
                check_relocations(f"{emitted.name} (group {group.signature})", len(emitted.data),
                                  emitted.relocations, None if written is None else written | names)

    def _validate_thread_locals(self, allowed: bool) -> None:
        kinds = {sym.name: sym.kind for sym in self.symbols}
        for section in self.sections:
            if section.kind in _THREAD_LOCAL_SECTIONS and not allowed:
                raise DescriptionError(f"section {section.name}: thread-local storage ({section.kind.value}) is "
                                       f"written only in ELF relocatable objects; link them to make a program")
        for emitted in self.dwarf or ():
            for r in emitted.relocations_of(RelocKind.TLS_OFFSET):
                if not allowed:
                    raise RelocationError(f"{emitted.name}+{r.offset:#x}: the TLS offset of {r.target!r} "
                                          f"(Expr.tls_address) is written only in ELF relocatable objects")
                if kinds.get(r.target, SymbolKind.TLS) is not SymbolKind.TLS:
                    raise RelocationError(f"{emitted.name}+{r.offset:#x}: TLS offset of {r.target!r}, which is a "
                                          f"{kinds[r.target].value} symbol, not a thread-local one (kind tls)")

    def _validate_relocations(self, written: set[str] | None) -> None:
        for section in self.sections:
            check_relocations(section.name, section.byte_size, section.relocations, written)
        dwarf = self.dwarf
        if dwarf is None:
            return
        for emitted in dwarf:
            check_name("DWARF section name", emitted.name)
            check_alignment(f"section {emitted.name}", emitted.alignment)
            emitted.check_relocations(written)
            if emitted.name in (".debug_frame", ".eh_frame"):
                check_frame_section(self.arch, emitted.name, bytes(emitted.data), dwarf.encoding.byteorder)




def check_final_addresses(dwarf: DwarfSections, symbol_addresses: Mapping[str, int],
                          sections: Iterable[tuple[str, int, int]], where: str) -> None:
    """For a final image (executable, dSYM, debug file): every address the DWARF refers to (a unit's or function's
    range, a line sequence's start, ``DW_OP_addr``) lies in one of ``sections``, given as (name, address, size);
    its end counts too (an end address). A symbol plus an addend far past every section is a wrong description,
    which debuggers would silently show as nothing. Symbols that do not resolve are left to the relocation code,
    which names them."""
    spans = sorted((start, start + size) for _name, start, size in sections)
    starts = [start for start, _end in spans]
    for section in dwarf:
        for r in section.relocations:
            if r.kind is not RelocKind.ADDRESS or r.target not in symbol_addresses:
                continue
            value = symbol_addresses[r.target] + r.addend
            k = bisect.bisect_right(starts, value) - 1
            if k < 0 or value > spans[k][1]:
                raise DescriptionError(f"{section.name}+{r.offset:#x}: address {value:#x} ({r.target!r}"
                                       f"{r.addend:+#x}) lies outside every section of {where}")


_DW_UT_TYPE, _DW_UT_SPLIT_TYPE = 2, 6


def unit_header(data: bytes | memoryview, pos: int, order: ByteOrder, *,
                types: bool) -> tuple[int, int | None]:
    """Where the unit at ``pos`` of a ``.debug_info`` (``types``: ``.debug_types``) ends, and its type signature
    when it is a type unit (None for any other unit, or a header cut short)."""
    length, head, offset_size = int.from_bytes(data[pos:pos + 4], order), 4, 4
    if length == 0xFFFFFFFF:
        length, head, offset_size = int.from_bytes(data[pos + 4:pos + 12], order), 12, 8
    end = pos + head + length
    version = int.from_bytes(data[pos + head:pos + head + 2], order)
    if types:
        at = pos + head + 2 + offset_size + 1
    elif version >= 5 and len(data) > pos + head + 2 and data[pos + head + 2] in (_DW_UT_TYPE, _DW_UT_SPLIT_TYPE):
        at = pos + head + 4 + offset_size
    else:
        return end, None
    return end, int.from_bytes(data[at:at + 8], order) if len(data) >= at + 8 else None


def group_type_units(dwarf: DwarfSections) -> tuple[DwarfSections, list[SectionGroup]]:
    """Splits one emission's type units off into COMDAT groups, as gcc's ``-fdebug-types-section`` lays out an
    object: each type unit's bytes become the ``.debug_info`` (DWARF 5) or ``.debug_types`` (DWARF 4) of a group
    keyed ``wi.<signature>``/``wt.<signature>``; everything else (abbreviations, strings, lines) stays shared in the
    returned sections, whose ``.debug_info`` offsets (``.debug_aranges``, references) are moved back over the bytes
    taken out (:func:`split_groups`). Refused with ``.debug_names``, whose type-unit list would point at the removed
    bytes."""
    if not isinstance(dwarf, DwarfSections):
        raise DescriptionError(f"group_type_units needs DwarfSections, not {dwarf!r}")
    name = ".debug_types" if ".debug_types" in dwarf else ".debug_info"
    if name not in dwarf:
        return dwarf, []
    if ".debug_names" in dwarf:
        raise DescriptionError("group_type_units: .debug_names lists type units by their .debug_info offset; emit "
                               "without it (the linker cannot merge it across groups either)")
    data, order = bytes(dwarf[name].data), dwarf.encoding.byteorder
    pieces: list[tuple[int, int, str]] = []
    prefix = "wt" if name == ".debug_types" else "wi"
    pos = 0
    while pos < len(data):
        end, signature = unit_header(data, pos, order, types=name == ".debug_types")
        if signature is not None:
            # gcc's key: the signature's eight bytes in hex, in their order in the unit (so a converted object and
            # gcc's own share groups at link time).
            pieces.append((pos, end, f"{prefix}.{signature.to_bytes(8, order).hex()}"))
        pos = end
    return split_groups(dwarf, name, pieces)


def group_section(signature: str, name: str) -> str:
    """The relocation target that names section ``name`` of group ``signature`` from outside the group (an import
    of a macro unit kept in a group); inside a group its own sections are named plainly."""
    return f"{signature}\0{name}"


def split_groups(dwarf: DwarfSections, name: str, pieces: list[tuple[int, int, str]]
                 ) -> tuple[DwarfSections, list[SectionGroup]]:
    """Moves the byte ranges ``pieces`` (start, end, group signature; in order, apart) of section ``name`` into
    COMDAT groups of their own, one section ``name`` each; the rest stays in the returned sections. A section offset
    into ``name`` follows its bytes: into a piece, it names the group's section (:func:`group_section`) counted from
    the piece's start; elsewhere, it moves back over the bytes taken out. The caller's emission stays as it was."""
    if not pieces:
        return dwarf, []
    info = dwarf[name]
    data, order = bytes(info.data), dwarf.encoding.byteorder
    removed = [(start, end) for start, end, _signature in pieces]
    starts, ends = [start for start, _end in removed], [end for _start, end in removed]
    taken = [0]   # bytes removed before each piece's end
    for start, end in removed:
        taken.append(taken[-1] + end - start)

    def moved(offset: int) -> int:
        return offset - taken[bisect.bisect_right(ends, offset)]

    def piece_of(offset: int) -> tuple[int, int, str] | None:
        k = bisect.bisect_right(starts, offset) - 1
        return pieces[k] if k >= 0 and offset < pieces[k][1] else None

    def retarget(r: Relocation, own: str | None) -> Relocation:
        """``r`` (in a piece of group ``own``, or in the shared sections) with its target and addend after the
        split; the field's bytes are patched by the caller."""
        if r.kind not in (RelocKind.UNIT, RelocKind.SECTION) or r.target != name:
            return r
        piece = piece_of(r.addend)
        if piece is None:
            return replace(r, addend=moved(r.addend))
        target = name if piece[2] == own else group_section(piece[2], name)
        return replace(r, target=target, addend=r.addend - piece[0])

    def section(section_name: str, raw: bytes, relocations: list[Relocation], own: str | None,
                alignment: int) -> Section:
        copy = bytearray(raw)
        fixed = []
        for r in relocations:
            new = retarget(r, own)
            if new.addend != r.addend:
                copy[new.offset:new.offset + new.size] = new.addend.to_bytes(new.size, order)
            fixed.append(new)
        return Section(section_name, copy, fixed, alignment)

    groups = []
    for start, end, signature in pieces:
        inside = [replace(r, offset=r.offset - start) for r in info.relocations if start <= r.offset < end]
        piece = section(name, data[start:end], inside, signature, info.alignment)
        groups.append(SectionGroup(signature, DwarfSections(dwarf.encoding, {name: piece})))
    out = DwarfSections(dwarf.encoding)
    for emitted in dwarf:
        raw, relocations = bytes(emitted.data), emitted.relocations
        if emitted is info:
            kept = [(0, removed[0][0])] + [(removed[k][1], removed[k + 1][0]) for k in range(len(removed) - 1)] + \
                [(removed[-1][1], len(data))]
            raw = b"".join(data[s:e] for s, e in kept)
            relocations = [replace(r, offset=moved(r.offset)) for r in relocations if piece_of(r.offset) is None]
            if not raw:
                continue
        out.add(section(emitted.name, raw, relocations, None, emitted.alignment))
    return out, groups
