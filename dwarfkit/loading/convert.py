"""``dwarfkit convert IN OUT``: IN's code, data, symbols and relocations, with its DWARF loaded into the model,
changed as asked, emitted again and written by the container's rewriter (``backends/<container>/rewrite.py``).

Changes: another encoding (``version``, ``offset_size``, ``indexed``: the writer chooses every form again),
``prefix_map`` (paths in units and line tables, as ``-fdebug-prefix-map`` and debugedit rewrite them),
``only_units``/``drop_units`` (glob patterns on the units' names), accelerator tables (``index``: ``debug_names``,
``gdb_index``, ``apple``, as ``DwarfBuilder.emit(names=...)``; the input's own are dropped with its old DWARF),
compression, a separate debug file, and split DWARF (``split``: True writes each compile unit's DIEs into a ``.dwo``
beside OUT with a skeleton in OUT, False folds a split program's ``.dwo`` files back into OUT; None keeps it as it is,
its ``.dwo`` files written again beside OUT). OUT is written atomically by the rewriter (its ``.dwo`` files first): a
failed conversion leaves no OUT behind.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import ContainerError, DescriptionError
from ..gcpause import paused_gc
from ..image import SectionGroup, split_groups
from ..info.unit import CompileUnit, Unit
from ..program import DwarfBuilder
from ..reader.units import DwarfContext
from ..sections import DwarfSections
from ..tables.macros import MACRO
from .dies import LoadOptions, load


@dataclass
class ConvertOptions(LoadOptions):
    """What :func:`convert` changes besides the encoding (see :class:`LoadOptions` for that)."""

    compress: bool | None = None
    """zlib-compress the debug sections (True), write them plain (False), or as IN had them (None)."""
    separate_debug: str | None = None
    """Strip OUT and write its DWARF to this debug file, linked by ``.gnu_debuglink`` (ELF)."""
    prefix_map: Sequence[tuple[str, str]] = field(default_factory=list)
    only_units: Sequence[str] = field(default_factory=list)
    drop_units: Sequence[str] = field(default_factory=list)
    index: str | None = None
    """The accelerator table to write: ``debug_names``, ``gdb_index``, ``apple`` or None."""


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], options: ConvertOptions | None = None,
            **kwargs: Any) -> DwarfBuilder:
    """Writes OUT: IN with its DWARF re-emitted through the model; returns the model (already emitted)."""
    if options is None:
        options = ConvertOptions(**kwargs)
    elif kwargs:
        raise TypeError("give either ConvertOptions or its fields as keywords, not both")
    src, out = Path(src), Path(out)
    if src.resolve() == out.resolve():
        raise ContainerError(f"{out}: the output must not be the input")
    # Splitting or unsplitting moves units between files whose forms differ (strx, GNU_str_index, addresses by
    # index): the writer chooses every form again.
    keep = options.keep_forms and options.split is None
    load_options = LoadOptions(options.version, options.offset_size, options.indexed, keep, options.arch,
                               options.max_section_size, options.progress, options.split)
    with paused_gc():
        dw = load(src, load_options)
        _check_address_size(dw)
        select_units(dw, options.only_units, options.drop_units)
        for old, new in options.prefix_map:
            map_prefix(dw, old, new)
        sections = dw.emit(names=options.index)
        write(src, out, sections, options, dw)
    return dw


def _check_address_size(dw: DwarfBuilder) -> None:
    """The DWARF's addresses must be the container's (the rewriters refuse others, naming neither file nor unit)."""
    df = dw.source
    if dw.units and dw.encoding.address_size != df.address_size:
        ctx = DwarfContext(df)
        first = (ctx.units("debug_info") + ctx.units("debug_types"))[0]
        raise ContainerError(f"{df.path}: .{first.section}[0x{first.offset:x}]: the units have "
                             f"{dw.encoding.address_size}-byte addresses, the {df.file_format} file "
                             f"{df.address_size}-byte ones")


def macro_groups(dw: DwarfBuilder, sections: DwarfSections) -> tuple[DwarfSections, list[SectionGroup]]:
    """``sections`` with the imported macro units that came in COMDAT groups (``MacroUnit.group``) split off into
    such groups again, for an ELF object; the imports of them follow (:func:`~dwarfkit.image.split_groups`)."""
    table = dw.tables.macros.get(MACRO)
    if table is None or MACRO not in sections:
        return sections, []
    units = sorted((u for u in table.units if u.offset.value is not None), key=lambda u: u.offset.value or 0)
    size = len(sections[MACRO].data)
    pieces = []
    for k, unit in enumerate(units):
        if unit.group is not None and unit.line is None:
            end = units[k + 1].offset.value if k + 1 < len(units) else size
            assert unit.offset.value is not None and end is not None
            pieces.append((unit.offset.value, end, unit.group))
    return split_groups(sections, MACRO, pieces)


def write(src: Path, out: Path, sections: DwarfSections, options: ConvertOptions,
          dw: DwarfBuilder | None = None) -> None:
    """The container's rewriter, chosen by IN's magic (``dw``: the model, for an ELF object's groups)."""
    member = src
    if src.is_dir():   # a dSYM bundle
        from ..backends.macho_dsym import rewrite as macho
        if options.separate_debug:
            raise ContainerError(f"{src}: a dSYM is a debug file already; --separate-debug does not apply")
        macho.rewrite(src, out, sections, compress=options.compress)
        return
    try:
        magic = member.read_bytes()[:4]
    except OSError as e:
        raise ContainerError(f"{src}: cannot read: {e.strerror}") from None
    if magic == b"\x7fELF":
        from ..backends.elf import rewrite as elf
        if options.separate_debug:
            elf.rewrite_separate(src, out, options.separate_debug, sections, compress=options.compress)
            return
        groups: list[SectionGroup] = []
        if dw is not None and dw.source is not None and dw.source.is_object:
            sections, groups = macro_groups(dw, sections)
        elf.rewrite(src, out, sections, compress=options.compress, groups=groups)
        return
    if options.separate_debug:
        raise ContainerError(f"{src}: --separate-debug is for ELF files (a Mach-O program's debug file is its dSYM)")
    if magic in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        from ..backends.macho_dsym import rewrite as macho
        macho.rewrite(src, out, sections, compress=options.compress)
        return
    from ..backends.coff import rewrite as coff
    coff.rewrite(src, out, sections, compress=options.compress)


def select_units(dw: DwarfBuilder, only: Sequence[str], drop: Sequence[str]) -> None:
    """Keeps the units whose name matches an ``only`` pattern (all when none is given) and no ``drop`` pattern."""
    if not only and not drop:
        return
    kept: list[Unit] = []
    for unit in dw.units:
        name = unit.root.name or ""
        if only and not any(fnmatch.fnmatchcase(name, p) for p in only):
            continue
        if any(fnmatch.fnmatchcase(name, p) for p in drop):
            continue
        kept.append(unit)
    if not kept and dw.units:
        raise DescriptionError("--only-units/--drop-units leave no unit")
    dw.units[:] = kept


def map_prefix(dw: DwarfBuilder, old: str, new: str) -> None:
    """Rewrites paths that start with ``old``: each unit's name and comp_dir, and its line table's directories and
    file names (debugedit's and ``-fdebug-prefix-map``'s rule: a prefix of whole path components or the path)."""
    if not old:
        raise DescriptionError("--prefix-map needs OLD=NEW with a non-empty OLD")

    def mapped(path: str) -> str:
        if path == old or path.startswith(old.rstrip("/") + "/"):
            return new + path[len(old):]
        return path

    for unit in dw.units:
        root = unit.root
        for attribute in ("name", "comp_dir"):
            value = _text(root, attribute)
            if value is not None and mapped(value) != value:
                root.set(attribute, mapped(value))
        if isinstance(unit, CompileUnit):
            line = unit.line
            line.comp_dir = mapped(line.comp_dir)
            line.replace_tables([mapped(d) for d in line.directories],
                                [(mapped(f.name), f.directory, f.md5) for f in line.files[line.first_file:]])


def _text(die: Any, attribute: str) -> str | None:
    """The text of a string attribute (None when the DIE has none or it is no string)."""
    value = die.get(attribute)
    return value if isinstance(value, str) else None
