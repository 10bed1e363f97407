"""The top-level builder: units, string tables, line programs, lists, and one emission into DwarfSections.

    dw = DwarfBuilder(version=5, address_size=8)
    cu = dw.compile_unit("a.c", comp_dir="/src", producer="mycc 1.0", language="C11",
                         low_pc=Address("main"), high_pc=64)
    int_t = cu.base_type("int", 4, "signed")
    fn = cu.die("subprogram", name="main", type=int_t, low_pc=Address("main"), high_pc=64, external=True)
    fn.die("variable", name="x", type=int_t, decl_line=3, location=Expr().fbreg(-20))
    seq = cu.line.sequence(Address("main"))
    seq.row(0, 2); seq.row(8, 3); seq.end(64)
    sections = dw.emit()

A program that writes one unit at a time can call :meth:`DwarfBuilder.finish` on each unit when it is complete: the
unit and its line program are encoded at once and its DIE tree is released.

Accelerator tables: ``emit(names="debug_names")`` adds ``.debug_names`` (DWARF 5; ELF, COFF), ``"gdb_index"``
``.gdb_index`` (ELF executables: its address area is resolved with the other addresses), ``"apple"`` the four Apple
tables (Mach-O, dSYM); a list asks for several, None or ``"none"`` for none. The names are collected from each unit
as it is finished: a program that finishes units before :meth:`emit` says which tables it wants up front,
``DwarfBuilder(names=...)``. What is indexed: :mod:`dwarfkit.info.index_entries`.

Split DWARF (:mod:`dwarfkit.split`): ``DwarfBuilder(split=True)`` or ``compile_unit(..., dwo_name="a.dwo")`` puts a
unit's DIE tree into a ``.dwo`` and a skeleton into the main file; ``emit().dwo`` holds the ``.dwo`` parts.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from . import names
from .address import Address
from .aranges import emit_aranges
from .arch import Arch
from .encoding import Encoding
from .errors import DescriptionError, EncodingError, LayoutError
from .frame import CallFrames
from .gcpause import paused_gc
from .info.encode import UnitEncoder
from .info.index_entries import NameCollector
from .info.split_units import DW_UT_split_type, SkeletonUnit, SplitCompileUnit
from .info.unit import CompileUnit, PartialUnit, TypeUnit, Unit
from .lists import LocationList, RangeList
from .relocation_buffer import BufferedSection, RelocationBuffer
from .sections import DwarfSections, Section
from .split import check_dwo_name, default_dwo_name, finish_part, skeleton_attributes
from .strings import StringTable
from .tables.apple import apple_sections
from .tables.debug_names import debug_names_section
from .tables.gdb_index import gdb_index_section
from .tables.macros import MACINFO, MACRO, MacroUnit
from .tables.offsets import SectionOffset
from .tables.raw import AbbrevDeclarations
from .tables.shared import SharedTables
from .tables.specs import Specs
from .writer import SectionWriter

__all__ = ["DwarfBuilder", "MacroUnit", "SectionOffset", "Specs", "INDEX_KINDS"]

INDEX_KINDS = ("debug_names", "gdb_index", "apple")
"""The accelerator tables ``emit(names=...)`` writes."""


def index_kinds(names: str | Sequence[str] | None) -> tuple[str, ...]:
    """``names=`` as a tuple of :data:`INDEX_KINDS` (None, ``"none"`` and ``()``: none); refuses anything else."""
    if names is None or names == "none":
        return ()
    chosen = (names,) if isinstance(names, str) else tuple(names)
    for kind in chosen:
        if kind not in INDEX_KINDS:
            raise DescriptionError(f"names={kind!r}: choose among {', '.join(INDEX_KINDS)} (or None)")
    return chosen


class DwarfBuilder:
    """Owns the units, string tables, line programs and lists of one program; :meth:`emit` encodes them all.

    ``indexed=True`` (DWARF 5) makes strings, addresses and lists use the indexed forms (``strx``, ``addrx``,
    ``rnglistx``, ``loclistx``) with ``.debug_str_offsets`` and ``.debug_addr``. ``implicit_const`` lets DWARF 5
    store ``DW_AT_decl_file`` in the abbreviation instead of every DIE. ``line_strings=False`` keeps DWARF 5 out of
    ``.debug_line_str``: line-table paths inline (``DW_FORM_string``), the unit's name and directory in
    ``.debug_str``, for consumers that do not read that section (lldb-14 on Mach-O). ``arch`` (an :class:`Arch` or
    its name), when given, sets the line programs' minimum instruction length (aarch64: 4, so that a row at an
    address that is no multiple of 4 is refused). ``names``: the accelerator tables to collect names for while
    units are finished (see :meth:`emit`).

    ``split=True`` writes split DWARF (:mod:`dwarfkit.split`): each compile unit's DIE tree goes into a ``.dwo`` named
    after its source file (``compile_unit(..., dwo_name="x.dwo")`` names it, or splits just that unit when ``split``
    is False), a skeleton unit into the main file; ``type_unit(signature, dwo=cu)`` puts a type unit into ``cu``'s
    ``.dwo``. DWARF 5 writes the standard form (DW_UT_skeleton/DW_UT_split_compile), DWARF 4 GNU's
    (DW_AT_GNU_dwo_name, DW_FORM_GNU_str_index, ...). :meth:`emit` returns the main file's sections with
    ``sections.dwo``: ``{dwo name: the .dwo's DwarfSections}``, which the ELF backend writes beside its output.
    """

    def __init__(self, encoding: Encoding | None = None, *, version: int | None = None,
                 address_size: int | None = None, offset_size: int | None = None, byteorder: str | None = None,
                 indexed: bool = False, implicit_const: bool = True, line_strings: bool = True,
                 arch: Arch | str | None = None, names: str | Sequence[str] | None = None,
                 split: bool = False) -> None:
        """``DwarfBuilder(Encoding(...))`` or the same parameters directly: ``DwarfBuilder(version=4,
        address_size=4)`` (defaults: DWARF 5, 32-bit format, 8-byte addresses, little-endian)."""
        given = {k: v for k, v in (("version", version), ("address_size", address_size),
                                   ("offset_size", offset_size), ("byteorder", byteorder)) if v is not None}
        if encoding is not None and given:
            raise EncodingError(f"give either an Encoding or its parameters, not both ({', '.join(given)})")
        self.encoding = encoding or Encoding(**given)  # type: ignore[arg-type]
        if indexed and self.encoding.version < 5:
            raise EncodingError(f"indexed forms (strx, addrx, rnglistx, loclistx) need DWARF 5, not "
                                f"{self.encoding.version}")
        self.indexed = indexed
        if not isinstance(split, bool):
            raise EncodingError(f"split={split!r}: give True or False")
        self.split = split
        self._parts: dict[str, DwarfBuilder] = {}   # dwo name -> the builder of that .dwo (its units, tables)
        self.arch = Arch.parse(arch) if isinstance(arch, str) else arch
        if self.arch is not None and not isinstance(self.arch, Arch):
            raise EncodingError(f"arch {arch!r} is not an Arch or an architecture name")
        self._signatures: set[int] = set()
        self.implicit_const = implicit_const
        self.use_line_strings = line_strings
        # The tables every unit shares live below the units (dwarfkit.tables); the builder composes them, and
        # keeps its names for the ones programs read (strings, abbrevs, the bases).
        self.tables = tables = SharedTables(self.encoding, indexed=indexed, implicit_const=implicit_const,
                                            line_strings=line_strings)
        self.abbrevs = tables.abbrevs
        self.str_offsets_base = tables.str_offsets_base
        self.addr_base = tables.addr_base
        self.rnglists_base = tables.rnglists_base
        self.loclists_base = tables.loclists_base
        self.units: list[Unit] = []
        self._info = bytearray()
        self._info_relocs = RelocationBuffer()
        self._info_encoder = UnitEncoder(tables, ".debug_info", self._info, self._info_relocs)
        self._types_encoder: UnitEncoder | None = None
        self._aranges: list[tuple[int, list[tuple[Address, int]], int]] = []   # (offset, ranges, address size)
        self._emitted = False
        self._macro_units: dict[Unit, MacroUnit] = {}
        self.frames: CallFrames | None = None
        """``.debug_frame`` of the program, written by :meth:`emit` when set (``dwarfkit.load`` sets it)."""
        self._eh_frame: CallFrames | None = None
        self.eh_frame_loader: Callable[[], CallFrames | None] | None = None
        """How a loaded file's ``.eh_frame`` is read, on the first look at :attr:`eh_frame` (a load that only
        converts the DWARF never needs it)."""
        self.source: Any = None
        """What :func:`dwarfkit.load` read the program from (its ``DebugFile``); None for a described program."""
        self.names = index_kinds(names)
        self._collector: NameCollector | None = NameCollector() if self.names else None
        self._released_unindexed = False   # a unit was finished and released with no names collected

    @property
    def eh_frame(self) -> CallFrames | None:
        """A loaded file's ``.eh_frame`` (runtime data: :meth:`emit` leaves it out; ``eh_frame.eh_frame()`` writes
        it)."""
        if self.eh_frame_loader is not None:
            loader, self.eh_frame_loader = self.eh_frame_loader, None
            self._eh_frame = loader()
        return self._eh_frame

    @eh_frame.setter
    def eh_frame(self, frames: CallFrames | None) -> None:
        self.eh_frame_loader = None
        self._eh_frame = frames

    @property
    def strings(self) -> StringTable:
        """``.debug_str`` of the program."""
        return self.tables.strings

    @strings.setter
    def strings(self, table: StringTable) -> None:
        self.tables.use_strings(table)

    @property
    def line_strings(self) -> StringTable:
        """``.debug_line_str`` of the program."""
        return self.tables.line_strings

    # -- describing -------------------------------------------------------------------------------------------
    def compile_unit(self, name: str | None, *, comp_dir: str | None = None, producer: str | None = None,
                     language: str | int | None = None, line_options: dict[str, Any] | None = None,
                     version: int | None = None, address_size: int | None = None, dwo_name: str | None = None,
                     **attributes: Any) -> CompileUnit:
        """A new compile unit for source file ``name`` (None: a unit without a name); ``line_options`` go to its
        :class:`LineProgram`; ``version`` and ``address_size``: a DWARF version and an address size of its own (the
        program's otherwise; a 4-byte unit beside 8-byte ones, as a 32-bit part of a program has); ``dwo_name``: the
        unit is split, its DIE tree written into that ``.dwo`` (see the class's docstring)."""
        line_options = dict(line_options or {})
        if self.arch is not None:
            line_options.setdefault("min_instruction_length", self.arch.info.min_instruction_length)
        if dwo_name is not None or self.split:
            if version is not None or address_size is not None:
                raise EncodingError(f"{name!r}: a split unit has the program's version and address size")
            if self.tables.dwo:
                raise DescriptionError("a .dwo part cannot hold another split unit")
            dwo_name = check_dwo_name(default_dwo_name(name) if dwo_name is None else dwo_name, self._parts)
            part = self._parts[dwo_name] = DwarfBuilder(self.encoding, implicit_const=self.implicit_const,
                                                        line_strings=False, arch=self.arch)
            part._become_part(self)
            split = SplitCompileUnit(part.tables, name, {"comp_dir": comp_dir, "producer": producer,
                                                         "language": language, **attributes}, line_options)
            part.units.append(split)
            return split
        unit = CompileUnit(self.tables, name, {"comp_dir": comp_dir, "producer": producer, "language": language,
                                        **attributes}, line_options, self._unit_encoding(version, address_size))
        self.units.append(unit)
        return unit

    def partial_unit(self, *, version: int | None = None, address_size: int | None = None,
                     **attributes: Any) -> PartialUnit:
        """A new partial unit (imported by others with ``DW_TAG_imported_unit``, ``import=<its root>``)."""
        unit = PartialUnit(self.tables, attributes, self._unit_encoding(version, address_size))
        self.units.append(unit)
        return unit

    def type_unit(self, signature: int, *, version: int | None = None, address_size: int | None = None,
                  dwo: CompileUnit | None = None, **attributes: Any) -> TypeUnit:
        """A new type unit with the given 8-byte signature; set ``tu.type_die`` to the type it holds. ``dwo``: a split
        compile unit, whose ``.dwo`` the type unit goes into."""
        if isinstance(signature, int) and signature in self._signatures:
            raise DescriptionError(f"type unit signature {signature:#018x} is already used by another type unit")
        if dwo is not None:
            part = self._part_of(dwo)
            if part is None or not isinstance(dwo, SplitCompileUnit):
                raise DescriptionError(f"type_unit: dwo={dwo!r} is no split compile unit of this program")
            made = part.type_unit(signature, version=version, address_size=address_size, **attributes)
            if made.encoding.version >= 5:
                made.unit_type = DW_UT_split_type
            self._signatures.add(signature)
            return made
        unit = TypeUnit(self.tables, signature, attributes, self._unit_encoding(version, address_size))
        self._signatures.add(signature)
        self.units.append(unit)
        return unit

    def _unit_encoding(self, version: int | None, address_size: int | None = None) -> Encoding | None:
        """The encoding of a unit with a version or an address size of its own; DWARF 2 cannot share a program with
        3-5 (its DW_FORM_ref_addr is address-sized), nor a version of its own be indexed unless it is 5; a program
        with indexed forms has one .debug_addr, of one address size."""
        enc = self.encoding
        version = enc.version if version is None else version
        size = enc.address_size if address_size is None else address_size
        if version == enc.version and size == enc.address_size:
            return None
        unit_enc = Encoding(version, enc.offset_size, size, enc.byteorder)   # checks the version and the size
        if (version == 2) != (enc.version == 2):
            raise EncodingError(f"a DWARF {version} unit in a DWARF {enc.version} program: DWARF 2 units cannot "
                                f"share a program with later versions")
        if size != enc.address_size and (self.indexed or version == 2 or enc.version == 2):
            raise EncodingError(f"a unit of {size}-byte addresses in a program of {enc.address_size}-byte ones: "
                                f"not with indexed forms (one .debug_addr) nor in DWARF 2 (ref_addr is "
                                f"address-sized)")
        return unit_enc

    def abbrev_table(self, entries: Any) -> AbbrevDeclarations:
        """Raw control (:mod:`dwarfkit.raw`): a hand-written abbreviation table, ``[(code, tag, children,
        [(attribute, form), (attribute, "implicit_const", value), ...]), ...]`` (codes as given; unused and duplicated
        declarations kept) or raw bytes, written in ``.debug_abbrev`` after the derived table; units given it with
        ``unit.override(abbrev_table=table)`` point at it (several units may share one)."""
        return self.tables.raw_control().abbrev_table(entries)

    def raw_section(self, name: str, data: bytes | str | None) -> None:
        """Raw control: section ``name`` (``".debug_info"``, or one dwarfkit does not write) holds ``data`` as given,
        without relocations, in place of what :meth:`emit` computes; None leaves the section out."""
        self.tables.raw_control().section(name, data)

    def patch(self, section: str, offset: int, data: bytes | str) -> None:
        """Raw control: ``data`` written over ``section`` at ``offset`` once it is emitted (a field of a header
        dwarfkit writes whole: ``.debug_aranges``, ``.debug_rnglists``, ...). A field under a relocation keeps its
        relocation (the bytes are its addend)."""
        self.tables.raw_control().patch(section, offset, data)

    def header_override(self, section: str, which: Unit | int = 0, **fields: int) -> None:
        """Raw control: header fields of ``.debug_aranges`` (``which``: a compile unit, or a set's index) or of a
        DWARF 5 ``.debug_rnglists``/``.debug_loclists`` contribution (``which``: its index; the lists used by
        offset come first) written as given: ``unit_length``, ``version``, ``address_size``,
        ``segment_selector_size``, and ``debug_info_offset`` (aranges) or ``offset_entry_count`` (lists)."""
        self.tables.raw_control().header(self.encoding, section, which, fields)

    def range_list(self, entries: Iterable[Sequence[Any]], unit: Unit | None = None) -> RangeList:
        """A range list ``[(start, length), ...]`` (starts: Address, int or symbol name) for ``ranges=``; ``unit``:
        the unit that uses it, when its version or address size is its own or it is split (its lists are its
        ``.dwo``'s)."""
        part = self._part_of(unit)
        if part is not None:
            return part.range_list(entries)
        return self.tables.range_list(entries, self._list_encoding(unit))

    def location_list(self, entries: Iterable[Sequence[Any]], unit: Unit | None = None) -> LocationList:
        """A location list ``[(start, length, Expr), ...]`` for ``location=`` and other location attributes;
        ``unit`` as for :meth:`range_list`."""
        part = self._part_of(unit)
        if part is not None:
            return part.location_list(entries)
        return self.tables.location_list(entries, self._list_encoding(unit))

    def dwo_names(self) -> list[str]:
        """The names of the program's ``.dwo`` parts (one per split unit), in the order they were made."""
        return list(self._parts)

    def part_of(self, unit: Any) -> "DwarfBuilder | None":
        """The builder of the ``.dwo`` that ``unit`` (a split unit or its type unit) belongs to; None for a unit of
        the main file."""
        return self._part_of(unit)

    def _part_of(self, unit: Any) -> "DwarfBuilder | None":
        if isinstance(unit, Unit) and unit.tables.dwo and unit.tables is not self.tables:
            for part in self._parts.values():
                if part.tables is unit.tables:
                    return part
            raise DescriptionError(f"{unit.label()} belongs to another program")
        return None

    def _become_part(self, main: "DwarfBuilder") -> None:
        """Makes this (new, empty) builder the .dwo part of ``main``'s split units: tables of its own, addresses in
        ``main``'s .debug_addr (and GNU DWARF 4's range lists in its .debug_ranges)."""
        gnu = self.encoding.version < 5
        self.tables = tables = SharedTables(self.encoding, indexed=not gnu, implicit_const=self.implicit_const,
                                            line_strings=False, addresses=main.tables.addresses, gnu_split=gnu,
                                            ranges=main.tables.ranges if gnu else None)
        self.indexed = not gnu
        self.abbrevs = tables.abbrevs
        self.str_offsets_base, self.addr_base = tables.str_offsets_base, tables.addr_base
        self.rnglists_base, self.loclists_base = tables.rnglists_base, tables.loclists_base
        self._info_encoder = UnitEncoder(tables, ".debug_info", self._info, self._info_relocs)

    def _list_encoding(self, unit: Unit | None) -> Encoding | None:
        if unit is None:
            return None
        if not isinstance(unit, Unit) or unit.tables is not self.tables:
            raise DescriptionError(f"{unit!r} is no unit of this program")
        return unit.encoding

    def macro_unit(self, unit: CompileUnit | None = None, *, section: str | None = None,
                   name: str | None = None) -> MacroUnit:
        """The macro unit of compile unit ``unit`` (or, without one, a unit to import; ``name`` for messages):
        ``.debug_macro`` by default in DWARF 5, ``.debug_macinfo`` before (see :mod:`dwarfkit.tables.macros`)."""
        version = self.encoding.version
        section = section or (MACRO if version >= 5 or unit is None else MACINFO)
        if section not in (MACRO, MACINFO) or section == MACINFO and (version >= 5 or unit is None):
            raise DescriptionError(f"macro section {section!r}: give '.debug_macro' or (DWARF 2-4, for a compile "
                                   f"unit) '.debug_macinfo'")
        if unit is None:
            return self.tables.macros[section].unit(f'macro unit "{name}"' if name else "macro unit", None)
        if not isinstance(unit, CompileUnit) or unit.tables is not self.tables:
            raise DescriptionError(f"macro_unit: {unit!r} is no compile unit of this program (or is split: a "
                                   f".dwo's macros are not written)")
        if unit in self._macro_units or unit.finished:
            raise DescriptionError(f"{unit.label()}: has its macro unit already, or is finished")
        made = self._macro_units[unit] = self.tables.macros[section].unit(unit.label(), unit.line)
        unit.uses_str_offsets |= self.indexed and section == MACRO   # strx entries count from its base
        return made

    # -- emitting ---------------------------------------------------------------------------------------------
    def finish(self, unit: Unit, release: bool = True) -> None:
        """Encodes ``unit`` (and its line program) now and releases its DIE tree, to keep memory small.

        DIEs of a finished unit can still be referred to from later units; the unit cannot change any more.
        """
        if self._part_of(unit) is not None:
            return   # a split unit is encoded with its .dwo when the program is emitted
        if unit.tables is not self.tables:
            raise DescriptionError(f"{unit.label()} belongs to another program")
        if unit.finished:
            return
        if self._emitted:
            raise LayoutError("the program was already emitted")
        enc = self.encoding
        unit.prepare()
        macros = self._macro_units.get(unit)
        if macros is not None:   # DW_AT_macros, GNU_macros or macro_info: an offset known at emission
            at = "macro_info" if macros.table.name == MACINFO else "macros" if enc.version >= 5 else "GNU_macros"
            form = "sec_offset" if enc.version >= 4 else "data8" if enc.offset_size == 8 else "data4"
            root = unit.root
            spec = (names.ATTRIBUTES[at], names.FORMS[form])
            root.specs = self.tables.intern_specs(list(root.specs) + [spec], root)
            root.values.append(macros.offset)
            macros.line_offset = root.get("stmt_list")
        collector = self._collector
        encoder_release = release and collector is None   # else the collector walks the tree, then releases it
        if isinstance(unit, TypeUnit) and unit.encoding.version == 4:
            if self._types_encoder is None:
                self._types_encoder = UnitEncoder(self.tables, ".debug_types", bytearray(), RelocationBuffer())
            encoder = self._types_encoder
            encoder.encode_unit(unit, encoder_release)
        else:
            encoder = self._info_encoder
            offset = encoder.encode_unit(unit, encoder_release)
            ranges = unit.address_ranges()
            if isinstance(unit, CompileUnit):
                self._aranges.append((offset, ranges, unit.encoding.address_size))
        if collector is not None and not isinstance(unit, PartialUnit):
            assert unit.offset is not None
            collector.add_unit(unit, encoder.section, len(encoder.data) - unit.offset, release)
        self._released_unindexed |= release and collector is None
        unit.finished = True
        if release:
            unit.release()

    def emit(self, aranges: bool = True, names: str | Sequence[str] | None = None) -> DwarfSections:
        """Encodes every unit not finished yet and returns all sections. Raises on an invalid program.

        ``names``: the accelerator tables to add besides the ones given to the constructor: ``"debug_names"``,
        ``"gdb_index"``, ``"apple"`` or a list of them (see the module's docstring)."""
        if self._emitted:
            raise LayoutError("the program was already emitted")
        kinds = tuple(dict.fromkeys(self.names + index_kinds(names)))
        if kinds and self._collector is None:
            if self._released_unindexed:
                raise LayoutError(f"names={kinds[0]!r}: units were finished and released before emit without "
                                  f"their names; give DwarfBuilder(names=...) to index a program finished unit by "
                                  f"unit")
            self._collector = NameCollector()
            for unit in self.units:
                if unit.finished and not isinstance(unit, PartialUnit):
                    assert unit.offset is not None   # finished without release: the tree is still there
                    encoder = self._types_encoder if (isinstance(unit, TypeUnit) and unit.encoding.version == 4
                                                      and self._types_encoder) else self._info_encoder
                    self._collector.add_unit(unit, encoder.section, self._unit_length(encoder, unit), False)
        with paused_gc():
            return self._emit(aranges, kinds)

    def _emit(self, aranges: bool, kinds: tuple[str, ...] = ()) -> DwarfSections:
        dwo = {name: self._emit_part(name, part) for name, part in self._parts.items()}
        for unit in self.units:
            self.finish(unit, release=False)
        self._emitted = True
        enc = self.encoding
        encoders = [self._info_encoder] + ([self._types_encoder] if self._types_encoder else [])
        for encoder in encoders:
            encoder.finish()
        out = DwarfSections(enc, dwo=dwo)
        tables = self.tables
        lists = tables.list_tables()
        list_sections = [list_table.to_section() for list_table in lists]
        for list_table in lists:
            if list_table.encoding.version >= 5:   # the DWARF 5 tables' offset tables are what the bases point at
                (self.loclists_base if list_table.locations else self.rnglists_base).value = list_table.base()
        macros = [table.to_section(tables.strings) for table in tables.macros.values()]   # before patch_late
        for encoder in encoders:
            encoder.patch_late()
        out.add(self.abbrevs.to_section())
        for index_section in self._index_sections(kinds):   # before .debug_str: they add their names to it
            out.add(index_section)
        for encoder in encoders:
            out.add(BufferedSection(encoder.section, encoder.data, encoder.relocs, enc.byteorder))
        for table in (self.strings, self.line_strings):
            if len(table):
                if enc.offset_size == 4 and len(table) > 0xFFFFFFFF:
                    raise LayoutError(f"{table.name} is larger than 4 GiB; DWARF64 (offset_size=8) is needed")
                out.add(table.to_section())
        line = tables.lines.to_section()
        if line is not None:
            out.add(line)
        if len(tables.str_offsets):
            out.add(tables.str_offsets.to_section())
        if len(tables.addresses) and not tables.dwo:   # a .dwo's addresses are its skeleton file's
            out.add(tables.addresses.to_section())
        for section in (*list_sections, *macros):
            if section is not None:
                out.add(section)
        if aranges and self._aranges:
            out.add(self._aranges_section())
        if self.frames is not None and (self.frames.fdes or self.frames.cies):
            out.add(self.frames.debug_frame())
        if tables.raw is not None:
            tables.raw.apply_sections(out, [entry[0] for entry in self._aranges] if aranges else [])
        return out

    @staticmethod
    def _unit_length(encoder: UnitEncoder, unit: Unit) -> int:
        """The length of a unit finished earlier: up to the next unit of its section, or its end."""
        start = unit.offset or 0
        size = unit.encoding.initial_length_size
        return int.from_bytes(encoder.data[start + (4 if size == 12 else 0):start + size], unit.encoding.byteorder) \
            + size

    def _index_sections(self, kinds: tuple[str, ...]) -> list[Section]:
        collector = self._collector
        if not kinds or collector is None:
            return []
        enc, out = self.encoding, []
        if "debug_names" in kinds:
            out.append(debug_names_section(enc, collector.units, collector.entries, self.strings))
        if "apple" in kinds:
            out += apple_sections(enc, collector.units, collector.entries, self.strings)
        if "gdb_index" in kinds:
            out.append(gdb_index_section(enc, collector.units, collector.entries,
                                         [(offset, ranges) for offset, ranges, _ in self._aranges]))
        return out

    def _emit_part(self, name: str, part: "DwarfBuilder") -> DwarfSections:
        """Emits a .dwo part, names it by its DWO id and adds its skeleton to this program's units."""
        unit = part.units[0]
        assert isinstance(unit, SplitCompileUnit)
        emitted = part.emit(aranges=False)
        sections, dwo_id = finish_part(name, emitted, unit)
        ranges_base = unit.encoding.version < 5 and self.tables.ranges.used()
        skeleton = SkeletonUnit(self.tables, unit, name, dwo_id, ranges_base,
                                skeleton_attributes(unit, self.tables.range_list))
        self.units.append(skeleton)
        return sections

    def _aranges_section(self) -> Section:
        writer = SectionWriter(".debug_aranges", self.encoding)
        emit_aranges(writer, self._aranges)
        return writer.section
