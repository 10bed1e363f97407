"""Skeleton units and their split units: found in the package ``<file>.dwp`` beside the file read (by the
skeleton's DWO id, through ``.debug_cu_index``), else in the ``.dwo`` file the skeleton names (DW_AT_dwo_name or
GNU's DW_AT_GNU_dwo_name, relative to DW_AT_comp_dir, else beside the file read); gdb and llvm-dwarfdump look in
the same order. The split part is opened once, and its units borrow the skeleton's ``.debug_addr`` (and GNU DWARF
4's ``.debug_ranges``), address base and base address.

The API other layers use (``dwarfkit.load`` following skeletons, say)::

    files = SplitFiles(DwarfContext(open_debug_file(path)))
    found = files.split_unit(skeleton)   # SplitUnit: .ctx and .unit (decoded), .path (.dwo or .dwp), or .note

``found.ctx`` reads the split unit (in a package, with the unit's contributions applied: ``Unit.contributions``).

Imports ``container`` (to open the ``.dwo``/``.dwp``) and ``units``; the renderers (``dump``, ``query``,
``verify``) use it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import DwarfkitError
from .container import open_debug_file
from .debugfile import DebugFile
from .forms import F
from .units import DwarfContext, Unit

DW_AT_dwo_name, DW_AT_GNU_dwo_name, DW_AT_GNU_dwo_id, DW_AT_GNU_ranges_base = 0x76, 0x2130, 0x2131, 0x2132
UT_SKELETON, UT_SPLIT_COMPILE = 4, 5


@dataclass
class SplitUnit:
    """A skeleton's split unit, or why it was not found (``note``)."""
    skeleton: Unit
    ctx: DwarfContext | None = None
    unit: Unit | None = None
    path: str | None = None
    note: str | None = None


@dataclass
class SplitFiles:
    """The split parts a file's skeletons name, each opened once."""
    ctx: DwarfContext
    opened: dict[str, DwarfContext | str] = field(default_factory=dict)  # path -> context, or why not
    matched: set[str] = field(default_factory=set)  # paths where a skeleton found its split unit

    def is_skeleton(self, unit: Unit) -> bool:
        self.ctx.load(unit)
        if unit.unit_type == UT_SKELETON:
            return True
        return unit.version < 5 and bool(unit.offs) and unit.attr(0, DW_AT_GNU_dwo_id) is not None \
            and unit.tag(0) == 0x11

    def dwo_id(self, unit: Unit) -> int | None:
        if unit.dwo_id is not None:
            return unit.dwo_id
        value = unit.attr(0, DW_AT_GNU_dwo_id) if unit.offs else None
        return value if isinstance(value, int) else None

    def dwo_name(self, unit: Unit) -> str | None:
        for at in (DW_AT_dwo_name, DW_AT_GNU_dwo_name):
            fv = unit.attr_form(0, at)
            if fv is not None:
                return self.ctx.string(unit, fv[0], fv[1])
        return None

    def candidates(self, unit: Unit, name: str) -> list[str]:
        """Where the .dwo may be: as named (relative to DW_AT_comp_dir), then beside the file read."""
        named = name if os.path.isabs(name) else os.path.join(unit.comp_dir, name)
        beside = os.path.join(os.path.dirname(os.path.abspath(self.ctx.file.path)), os.path.basename(name))
        return list(dict.fromkeys([named, beside]))

    def split_unit(self, skeleton: Unit) -> SplitUnit:
        """The split unit of a skeleton: its .dwo opened (once per path), the unit whose DWO id matches."""
        found = SplitUnit(skeleton)
        name = self.dwo_name(skeleton)
        ident = self.dwo_id(skeleton)
        where = f".debug_info[0x{skeleton.offset:x}]"
        if name is None or ident is None:
            found.note = f"{where}: skeleton unit without DW_AT_dwo_name or a DWO id"
            return found
        package = os.path.abspath(self.ctx.file.path) + ".dwp"
        if os.path.isfile(package) and self._from_package(found, package, ident):
            return found
        paths = self.candidates(skeleton, name)
        path = next((p for p in paths if os.path.isfile(p)), None)
        if path is None:
            tried = [*paths, package] if os.path.isfile(package) else paths
            found.note = f"{where}: split unit {name!r} not found (looked for {', '.join(tried)})"
            return found
        ctx = self._open(path)
        if isinstance(ctx, str):
            found.note = f"{where}: split unit {path}: {ctx}"
            return found
        found.ctx, found.path = ctx, path
        for unit in ctx.units("debug_info"):
            if unit.is_type_unit:
                continue
            ctx.load(unit)
            if self.dwo_id(unit) == ident:
                self._inherit(skeleton, unit)
                self.matched.add(path)
                found.unit = unit
                return found
        found.note = f"{where}: {path} holds no split unit with DWO id 0x{ident:016x}"
        return found

    def _from_package(self, found: SplitUnit, path: str, ident: int) -> bool:
        """The split unit with DWO id ``ident`` from the package at ``path``; False when it has none (a package
        that cannot be read is a note)."""
        ctx = self._open(path)
        if isinstance(ctx, str):
            found.note = f".debug_info[0x{found.skeleton.offset:x}]: package {path}: {ctx}"
            return False
        row = ctx.package.cu.by_signature(ident) if ctx.package is not None else None
        start = row.contributions.get("debug_info", (None, 0))[0] if row is not None else None
        unit = next((u for u in ctx.units("debug_info") if u.offset == start), None)
        if unit is None:
            return False
        ctx.load(unit)
        self._inherit(found.skeleton, unit)
        self.matched.add(path)
        found.ctx, found.path, found.unit, found.note = ctx, path, unit, None
        return True

    def _open(self, path: str) -> DwarfContext | str:
        ctx = self.opened.get(path)
        if ctx is None:
            try:
                part = open_debug_file(path).split_part()
            except DwarfkitError as e:
                ctx = self.opened[path] = str(e)
                return ctx
            if part is None:
                ctx = self.opened[path] = "no .debug_*.dwo sections"
                return ctx
            ctx = self.opened[path] = DwarfContext(self._with_skeleton_sections(part))
        return ctx

    def _with_skeleton_sections(self, part: DebugFile) -> DebugFile:
        """The split part reads addresses (and GNU DWARF 4 ranges) in the skeleton's file."""
        for name in ("debug_addr", "debug_ranges"):
            data = self.ctx.file.section(name)
            if data and name not in part.sections:
                part.sections[name] = data
        return part

    def _inherit(self, skeleton: Unit, unit: Unit) -> None:
        """DWARF 5 section 3.1.3: the split unit uses its skeleton's address base and base address."""
        if skeleton.addr_base is not None:
            unit.addr_base = skeleton.addr_base
        elif skeleton.version < 5:
            unit.addr_base = 0  # GNU .debug_addr has no header
        if skeleton.has_low_pc:
            unit.low_pc, unit.has_low_pc = skeleton.low_pc, True
        base = skeleton.attr_form(0, DW_AT_GNU_ranges_base)
        if base is not None and base[0] in (F["sec_offset"], F["data4"], F["data8"]):
            unit.ranges_base = base[1]
