"""A compile unit's macro information, loaded: the unit its DW_AT_macros (DWARF 5), DW_AT_GNU_macros (gcc's
version 4) or DW_AT_macro_info (``.debug_macinfo``) names, as the builder's
:class:`~dwarfkit.tables.macros.MacroUnit`, entry by entry.

An import (``DW_MACRO_import``, GNU ``transparent_include``) loads the imported unit once, as a macro unit without
a compile unit (``dw.macro_unit(None)``), and every importer imports that one. gcc's objects hold the imported units
in COMDAT ``.debug_macro`` sections; the ELF reader joins them into one section as a linker does, so the imports
are plain offsets here, and an imported unit that starts a group's piece keeps the group's name
(``MacroUnit.group``), under which ``dwarfkit convert`` writes it again. Strings are text; each entry keeps its
form (inline ``string``, ``strp``, ``strx``) when the model keeps forms and its table has that form, otherwise the
writer chooses (in an imported unit ``strp`` rather than ``strx``: it has no one compile unit whose string
offsets base a ``strx`` would count from, and llvm-dwarfdump-14 cannot read it). A model of DWARF 5 loaded from
``.debug_macinfo`` writes ``.debug_macro`` (DWARF 5 has no ``.debug_macinfo``); a DWARF 5 ``.debug_macro`` written
as DWARF 2-4 becomes gcc's version 4.

Refused, with a ReadError naming the section and the entry: entries of a dwz supplementary file (``*_sup``, GNU
``*_alt``: their text is in another file), vendor opcodes with operand forms the writer has not (``sec_offset``),
``.debug_macinfo``'s ``vendor_ext`` in a DWARF 5 model, and anything the writer's own checks refuse (an import
cycle, a ``start_file`` in an imported unit, a file index the line table has not).
"""
from __future__ import annotations

from ..errors import DescriptionError, ReadError
from ..info.unit import CompileUnit
from ..macro_codes import LO_USER
from ..program import DwarfBuilder
from ..reader import forms as R
from ..reader.macros import MacroEntry, MacroUnitData, parse_macinfo_unit, parse_macro_unit
from ..reader.units import Unit as ReadUnit
from ..tables.macros import MACINFO, MACRO, MacroUnit
from .state import LoadState

DW_AT_macro_info, DW_AT_macros, DW_AT_GNU_macros = 0x43, 0x79, 0x2119
# Imports inside imports (gcc nests none): deeper is refused rather than recursed into.
MAX_IMPORT_DEPTH = 100
_SECTIONS = {DW_AT_macro_info: MACINFO, DW_AT_macros: MACRO, DW_AT_GNU_macros: MACRO}


class MacroLoader:
    """The macro units of one load; imported units are shared by offset."""

    def __init__(self, loader: LoadState, dw: DwarfBuilder) -> None:
        self.loader = loader
        self.dw = dw
        self.imported: dict[int, MacroUnit] = {}   # .debug_macro offset -> its unit, loaded once
        self.depth = 0                               # imports being loaded, one inside the other

    def load(self, unit: ReadUnit, model: CompileUnit, keep: bool) -> None:
        """Builds ``model``'s macro unit from the one its root names (nothing when it names none)."""
        found = _macro_attribute(unit)
        if found is None:
            return
        at, offset = found
        source = _SECTIONS[at]
        section = MACRO if self.dw.encoding.version >= 5 else source
        df = self.loader.df
        try:
            target = self.dw.macro_unit(model, section=section)
        except DescriptionError as error:
            raise ReadError(f"{df.path}: {source}[0x{offset:x}]: {error}") from None
        self._fill(target, self._read(unit, source, offset), unit, keep)

    def _read(self, unit: ReadUnit, source: str, offset: int) -> MacroUnitData:
        df = self.loader.df
        name = source[1:]
        data = df.section(name)
        try:
            if source == MACINFO:
                return parse_macinfo_unit(data, offset)
            ctx = self.loader.ctx
            return parse_macro_unit(data, offset, df.byteorder, df.section("debug_str"),
                                    lambda index: ctx.string(unit, R.F["strx"], index))
        except ReadError as error:
            raise ReadError(f"{df.path}: {error}") from None

    def _fill(self, target: MacroUnit, data: MacroUnitData, unit: ReadUnit, keep: bool) -> None:
        forms = target.table.forms
        for entry in data.entries:
            try:
                self._entry(target, data, entry, unit, keep and entry.form in forms)
            except DescriptionError as error:
                raise ReadError(f"{self.loader.df.path}: .{data.section}[0x{entry.offset:x}]: {error}") from None

    def _entry(self, target: MacroUnit, data: MacroUnitData, entry: MacroEntry, unit: ReadUnit,
               keep_form: bool) -> None:
        kind = entry.kind
        where = f"{self.loader.df.path}: .{data.section}[0x{entry.offset:x}]"
        if kind in ("define", "undef"):
            if entry.text is None:
                raise ReadError(f"{where}: {kind} with form {entry.form}: the text is in a supplementary (dwz) file, "
                                f"which is not loaded")
            form = entry.form if keep_form else None
            if form is None and target.line is None and target.table.default_form(entry.text) == "strx":
                # A unit imported by several compile units has no one string offsets base: strp, as gcc writes.
                form = "strp"
            (target.define if kind == "define" else target.undef)(entry.line, entry.text, form)
        elif kind == "start_file":
            target.start_file(entry.line, self._file(target, unit, entry.file))
        elif kind == "end_file":
            target.end_file()
        elif kind == "import":
            target.import_(self._imported(unit, entry.target, data.section))
        elif kind == "vendor_ext":
            if target.table.name != MACINFO:
                raise ReadError(f"{where}: DW_MACINFO_vendor_ext ({entry.line}, {entry.text!r}) has no "
                                f"equivalent in .debug_macro (the model's DWARF version is 5)")
            assert entry.text is not None
            target.vendor_ext(entry.line, entry.text)
        elif kind == "vendor":
            if entry.opcode < LO_USER:
                raise ReadError(f"{where}: opcode 0x{entry.opcode:x} is declared by the unit but is no vendor "
                                f"opcode (0xe0..0xff)")
            if "sec_offset" in entry.forms and self.loader.df.relocations.get("debug_macro"):
                # In a linked file the offset is final and is kept as a number; in an object it may be relocated
                # against a section the vendor alone knows.
                raise ReadError(f"{where}: vendor opcode 0x{entry.opcode:x} has a sec_offset operand in an "
                                f"object, which the writer cannot relocate")
            if entry.opcode not in target.opcodes:
                target.declare_opcode(entry.opcode, *entry.forms)
            target.vendor(entry.opcode, *entry.operands)
        else:   # import_sup
            raise ReadError(f"{where}: imports unit 0x{entry.target:x} of a supplementary (dwz) file, which is "
                            f"not loaded")

    def _file(self, target: MacroUnit, unit: ReadUnit, file: int) -> int:
        """The file index in the model's line table (a conversion to DWARF 2-4 renumbers file 0)."""
        model = self.loader.models.get(id(unit))
        renumbered = self.loader.file_maps.get(id(model)) if model is not None else None
        return renumbered.get(file, file) if renumbered else file

    def _imported(self, unit: ReadUnit, offset: int, section: str) -> MacroUnit:
        made = self.imported.get(offset)
        if made is None:
            if self.depth >= MAX_IMPORT_DEPTH:
                raise ReadError(f"{self.loader.df.path}: .{section}[0x{offset:x}]: imports nest deeper than "
                                f"{MAX_IMPORT_DEPTH} units")
            made = self.imported[offset] = self.dw.macro_unit(None, section=MACRO, name=f".{section}[0x{offset:x}]")
            made.group = next((signature for start, signature in self.loader.df.groups.get(section, [])
                               if start == offset), None)
            self.depth += 1
            try:
                keep = self.loader.values.keeps(unit, self.loader.models[id(unit)])
                self._fill(made, self._read(unit, MACRO, offset), unit, keep)
            finally:
                self.depth -= 1
        return made


def _macro_attribute(unit: ReadUnit) -> tuple[int, int] | None:
    """(DW_AT_macros, GNU_macros or macro_info, its offset) of the unit's root DIE, or None."""
    if not unit.abbs or unit.abbs[0] is None or not unit.vals or unit.vals[0] is None:
        return None
    for (at, _form, _implicit), value in zip(unit.abbs[0].attrs, unit.vals[0], strict=True):
        if at in _SECTIONS and isinstance(value, int):
            return at, value
    return None
