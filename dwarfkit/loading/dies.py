"""Units and DIEs of a file, loaded into a :class:`~dwarfkit.DwarfBuilder` in two passes.

Pass one makes every DIE of every unit (tag and place in the tree, no attributes) so that a reference, forward or
across units, always finds its target; pass two gives each DIE its attributes through :mod:`.values`, in the order
read, each checked and encoded by the writer's own ``forms.choose``. Line programs, macro units and call frames
follow (:mod:`.lines`, :mod:`.macros`, :mod:`.frames`).

The model's encoding is the file's unless the options ask for another (``version``, ``offset_size``, ``indexed``):
forms are then chosen again by the writer; otherwise each attribute keeps the form it was read with (pinned). A unit
whose address size is not the program's (a 4-byte unit in an ELF64 file) keeps its own: its addresses, expressions,
lists and line program are read and written with it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

from ..errors import EncodingError, ReadError
from ..gcpause import paused_gc
from ..info.die import Die
from ..info.unit import CompileUnit, TypeUnit, Unit
from ..line import LineProgram
from ..program import DwarfBuilder
from ..reader import forms as R
from ..reader.container import open_debug_file
from ..reader.split import DW_AT_GNU_dwo_id, SplitFiles
from ..reader.units import Unit as ReadUnit
from ..reader.units import forget
from . import gnu
from .frames import load_debug_frame, load_eh_frame
from .lines import file_map, load_line_program
from .macros import MacroLoader
from .split import dwo_name_for, is_skeleton, load_skeletons
from .state import LoadState
from .values import ValueLoader

MAX_DEPTH = 400
"""How deep DIEs may nest in a loaded unit (real compilers' stay below 50; the writer's tree walks recurse)."""
DW_AT_name = 0x03
INDEXED_FORMS = R.STRING_INDEX | R.ADDR_INDEX | {R.F["rnglistx"], R.F["loclistx"]}


@dataclass
class LoadOptions:
    """What :func:`load` builds: the file's encoding (None everywhere) or another one, which makes it a conversion."""

    version: int | None = None
    """DWARF version of the model (2-5); None: the file's (the newest one when its units differ)."""
    offset_size: int | None = None
    """4 (DWARF32) or 8 (DWARF64); None: the file's."""
    indexed: bool | None = None
    """DWARF 5 strx/addrx/rnglistx/loclistx forms; None: as the file has them."""
    keep_forms: bool = True
    """Pin each attribute to the form it was read with when the encoding allows (a conversion chooses again)."""
    arch: str | None = None
    """The slice of a fat Mach-O file."""
    max_section_size: int | None = None
    progress: Callable[[str, int, int], None] | None = None
    """``progress(what, done, total)`` for long loads; None: on stderr when it is a terminal."""
    split: bool | None = None
    """Split DWARF (:mod:`.split`): None keeps split units split (a skeleton's ``.dwo`` is loaded with it); False
    makes them whole units; True splits every compile unit into a ``.dwo`` of its own."""


def load(path: str | os.PathLike[str], options: LoadOptions | None = None, **kwargs: Any) -> DwarfBuilder:
    """The DWARF of the file at ``path`` as a :class:`~dwarfkit.DwarfBuilder` ready to edit and emit.

    ``load(path, version=4)`` and the other :class:`LoadOptions` fields may be given as keywords. The builder also
    carries ``frames`` and ``eh_frame`` (:class:`~dwarfkit.frame.CallFrames`, or None) and ``source`` (the
    :class:`~dwarfkit.reader.debugfile.DebugFile` it came from). Raises a DwarfkitError naming the section and
    offset for a file that cannot be loaded."""
    if options is None:
        options = LoadOptions(**kwargs)
    elif kwargs:
        raise TypeError("give either LoadOptions or its fields as keywords, not both")
    with paused_gc():
        df = open_debug_file(Path(path), options.arch, options.max_section_size)
        return FileLoader(df, options).run()


class FileLoader(LoadState):
    """One load: pass one here, pass two by the value, line and frame loaders."""

    split_of: tuple[DwarfBuilder, str | None] | None = None
    """A ``.dwo``'s loader (:mod:`.split`): the program's builder and the ``.dwo`` name (None: loaded unsplit)."""

    def run(self) -> DwarfBuilder:
        ctx = self.ctx
        units = ctx.units("debug_info") + ctx.units("debug_types")
        problems = ctx.problems + [p for u in units for p in u.problems]
        if problems:
            raise ReadError(f"{self.df.path}: {problems[0]}")
        files = SplitFiles(ctx)
        skeletons = [u for u in units if u.unit_type == 4 or u.version < 5 and any(
            at == DW_AT_GNU_dwo_id for ab in ctx.abbrevs_for(u).values() for at, _, _ in ab.attrs)]
        skeletons = [u for u in skeletons if is_skeleton(files, u)]
        dw = self.builder(units)
        self.load_units(dw, [u for u in units if u not in skeletons])
        load_skeletons(self, dw, files, skeletons)
        dw.frames = load_debug_frame(self, dw)
        dw.eh_frame_loader = partial(load_eh_frame, self, dw)   # read when first looked at
        dw.source = self.df
        return dw

    def load_units(self, dw: DwarfBuilder, units: list[ReadUnit]) -> list[Unit]:
        """The model units of ``units`` (both passes, line programs and macros) in ``dw`` or its ``.dwo`` parts."""
        ctx = self.ctx
        loaded: list[tuple[ReadUnit, Unit]] = []
        for n, unit in enumerate(units):
            ctx.load(unit)
            if unit.problems:
                raise ReadError(f"{self.df.path}: {unit.problems[0]}")
            loaded.append((unit, self.shells(dw, unit)))
            self.report("decoding units", n + 1, len(units))
        for unit, model in loaded:
            if unit.type_offset is not None:
                target = self.dies.get(unit.section, {}).get(unit.offset + unit.type_offset)
                if target is None:
                    raise ReadError(f"{self.df.path}: .{unit.section}[0x{unit.offset:x}]: type_offset "
                                    f"0x{unit.type_offset:x} names no DIE of the unit")
                model.type_die = target
        value_loaders: dict[int, ValueLoader] = {}
        macros = MacroLoader(self, dw)
        for n, (unit, model) in enumerate(loaded):
            renumbered = file_map(self, unit, model.encoding.version)
            if renumbered:
                self.file_maps[id(model)] = renumbered
            owner = dw.part_of(model) or dw   # a split unit's values go into its .dwo's tables
            values = value_loaders.get(id(owner))
            if values is None:
                values = value_loaders[id(owner)] = ValueLoader(self, owner)
            self.values = values
            values.fill_unit(unit, model)
            if isinstance(model, TypeUnit) and unit.stmt_list is not None:
                model.line = LineProgram(model.encoding, comp_dir=unit.comp_dir, name=None)
            if isinstance(model, (CompileUnit, TypeUnit)) and model.line is not None:
                load_line_program(self, unit, model, values.keeps(unit, model))
            if isinstance(model, CompileUnit) and owner is dw:
                macros.load(unit, model, values.keeps(unit, model))
            forget(unit)   # its decoded DIEs are the model's now: their memory serves the next units (and emit)
            self.report("building DIEs", n + 1, len(loaded))
        return [model for _, model in loaded]

    def builder(self, units: list[ReadUnit]) -> DwarfBuilder:
        """The builder for the file's encoding, or the one the options ask for."""
        opts = self.options
        versions = {u.version for u in units} or {5}
        offset_sizes = {u.offset_size for u in units} or {4}
        for u in units:   # the first unit whose address size the writer cannot take
            if u.address_size not in (4, 8):
                raise ReadError(f"{self.df.path}: .{u.section}[0x{u.offset:x}]: address size {u.address_size}; the "
                                f"model takes 4 or 8")
        # The program's address size is the file's where a unit has it; a unit of the other keeps its own.
        sizes = {u.address_size for u in units}
        address_size = self.df.address_size if self.df.address_size in sizes or not sizes else units[0].address_size
        version = opts.version or max(versions)
        offset_size = opts.offset_size or max(offset_sizes)
        indexed = opts.indexed
        if indexed is None:
            indexed = version >= 5 and any(form in INDEXED_FORMS for u in units
                                           for ab in self.ctx.abbrevs_for(u).values() for _, form, _ in ab.attrs)
        self.version, self.offset_size, self.indexed = version, offset_size, indexed
        line_strings = bool(self.df.section("debug_line_str")) or version < 5
        dw = self.main = DwarfBuilder(version=version, offset_size=offset_size, address_size=address_size,
                                      byteorder=self.df.byteorder, indexed=indexed, line_strings=line_strings)
        # The file's string sections as they are: kept strp/line_strp offsets stay valid, and strings dedupe.
        dw.strings.preload(self.df.section("debug_str"))
        dw.line_strings.preload(self.df.section("debug_line_str"))
        return dw

    def split_model(self, unit: ReadUnit, version: int | None) -> Unit:
        """The model of a .dwo's unit (kept split or made whole), or of a unit to split (``split=True``)."""
        if self.split_of is None:   # split=True: a compile unit of an unsplit file gets a .dwo
            fv = unit.attr_form(0, DW_AT_name)
            name = self.ctx.string(unit, fv[0], fv[1]) if fv is not None else None
            dw = self.main
            return dw.compile_unit(None, dwo_name=dwo_name_for(dw, name if isinstance(name, str) else None))
        dw, dwo_name = self.split_of
        if unit.is_type_unit:
            assert unit.type_signature is not None
            if dwo_name is None:
                return dw.type_unit(unit.type_signature, version=version)
            split = self._split_unit
            if split is None:
                raise ReadError(f"{self.df.path}: .{unit.section}[0x{unit.offset:x}]: a type unit before the .dwo's "
                                f"compile unit")
            return dw.type_unit(unit.type_signature, dwo=split)
        made = dw.compile_unit(None, version=version) if dwo_name is None else dw.compile_unit(None,
                                                                                               dwo_name=dwo_name)
        self._split_unit = made
        return made

    _split_unit: CompileUnit | None = None
    main: DwarfBuilder

    def shells(self, dw: DwarfBuilder, unit: ReadUnit) -> Unit:
        """The model unit and an attribute-less DIE for every DIE of ``unit`` (pass one)."""
        where = f".{unit.section}[0x{unit.offset:x}]"
        if unit.unit_type == 4 or (unit.unit_type in (5, 6) and self.split_of is None):
            raise ReadError(f"{self.df.path}: {where}: a split DWARF unit (a .dwo's) is loaded with its skeleton: "
                            f"load the file that holds the skeleton")
        if not unit.offs or unit.abbs[0] is None:
            raise ReadError(f"{self.df.path}: {where}: the unit has no DIE")
        if max(unit.depths) > MAX_DEPTH:   # the writer walks a DIE tree recursively (a NULL sits one deeper)
            deep = next((i for i, depth in enumerate(unit.depths) if depth > MAX_DEPTH and unit.abbs[i]), None)
            if deep is not None:
                raise ReadError(f"{self.df.path}: .{unit.section}[0x{unit.offs[deep]:x}]: DIEs nested more than "
                                f"{MAX_DEPTH} deep cannot be loaded")
        root_tag = unit.abbs[0].tag
        model: Unit
        # Without a version asked for, each unit keeps its own (a file may mix them, e.g. a C runtime's units).
        version = unit.version if self.options.version is None and self.options.keep_forms and \
            (unit.version == 2) == (dw.encoding.version == 2) else None
        # A unit of another address size than the program's keeps its own (a 32-bit part of a program).
        size = unit.address_size if unit.address_size != dw.encoding.address_size else None
        try:
            if self.split_of is not None or self.options.split and not unit.is_type_unit and root_tag == 0x11:
                model = self.split_model(unit, version)
            elif unit.is_type_unit:
                assert unit.type_signature is not None
                model = dw.type_unit(unit.type_signature, version=version, address_size=size)
                self.type_units[unit.type_signature] = model
            elif unit.unit_type == 3 or root_tag == 0x3c:   # DW_TAG_partial_unit
                model = dw.partial_unit(version=version, address_size=size)
            else:
                model = dw.compile_unit(None, version=version, address_size=size)
        except EncodingError as error:
            raise ReadError(f"{self.df.path}: {where}: address size {unit.address_size} beside the program's "
                            f"{dw.encoding.address_size}: {error}") from None
        self.models[id(unit)] = model
        renamed = gnu.renames(unit.version, model.encoding.version)
        if renamed is not None:
            self.renames[id(unit)] = renamed
        tags = renamed.tags if renamed is not None else {}
        root = model.root
        root.tag = root_tag
        section = unit.section
        dies = self.dies.setdefault(section, {})
        made: list[Die | None] = [root]
        dies[unit.offs[0]] = root
        abbs, parents, offs = unit.abbs, unit.parents, unit.offs
        shell = model._shell
        for i in range(1, len(offs)):
            ab = abbs[i]
            if ab is None:
                made.append(None)
                continue
            parent = made[parents[i]] if parents[i] >= 0 else None
            if parent is None:
                raise ReadError(f"{self.df.path}: .{section}[0x{offs[i]:x}]: a DIE after the unit's root ended")
            die = shell(parent, tags.get(ab.tag, ab.tag))
            made.append(die)
            dies[offs[i]] = die
        unit.index = None
        self.made[id(model)] = made   # by reader index, for pass two
        return model
