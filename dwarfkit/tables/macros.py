"""Macro information: ``.debug_macro`` (DWARF 5, and the GNU extension version 4 that ``gcc -g3`` writes with
DWARF 2-4) and ``.debug_macinfo`` (DWARF 2-4).

A macro unit is a list of entries: definitions and undefinitions with their source line, and the include structure
(``start_file``/``end_file``, with a file index of the compile unit's line table). In ``.debug_macro`` a unit may
import another one (``DW_MACRO_import``, GNU ``transparent_include``): gcc puts the predefined macros and the
macros of each header in units of their own and imports them from every compile unit. Example::

    dw = DwarfBuilder(version=5)
    cu = dw.compile_unit("a.c", comp_dir="/src")
    predefined = dw.macro_unit(name="predefined")     # a unit of its own, for imports only
    predefined.define(0, "__STDC__ 1")
    mu = dw.macro_unit(cu)                             # the unit's: DW_AT_macros (v5), DW_AT_GNU_macros, macro_info
    mu.import_(predefined)
    mu.start_file(0, cu.file("a.c"))
    mu.define(1, "ANSWER 42")
    mu.define(2, "SQUARE(x) ((x)*(x))", form="string")   # DW_MACRO_define (inline); default: strp or strx
    mu.start_file(3, cu.file("inc.h"))
    mu.undef(1, "ANSWER")
    mu.end_file()
    mu.end_file()

Which section: ``dw.macro_unit(cu, section=...)``; by default ``.debug_macro`` in DWARF 5 and ``.debug_macinfo``
before; ``section=".debug_macro"`` in DWARF 2-4 writes gcc's GNU version 4 (with ``DW_AT_GNU_macros``). Strings:
``form="string"`` (inline), ``"strp"`` (``.debug_str``) or ``"strx"`` (DWARF 5 indexed builders); by default
``strx`` when the builder is indexed, else ``strp`` when the text is longer than an offset, else inline, as gcc
does. ``.debug_macinfo`` has inline strings only, no imports, and ``vendor_ext(constant, text)``. The header of a
compile unit's ``.debug_macro`` unit carries its line table offset (``debug_line_offset_flag``), and
``offset_size_flag`` in DWARF64. Vendor opcodes: ``mu.declare_opcode(0xe0, "udata", "string")`` puts them in the
header's ``opcode_operands_table`` (so that consumers can skip them: gdb does; llvm-dwarfdump-14 and readelf 2.40
cannot), then ``mu.vendor(0xe0, 5, "text")`` writes an entry. The section holds the compile units' own units first,
then the imported ones, as gcc lays them out; the compile unit's attribute is a ``sec_offset`` (``data4``/``data8``
before DWARF 4) with a SECTION relocation, like the other section offsets.

Checked at the call: lines (integers >= 0), texts (str without NUL or lone surrogates; a definition starts with its
name), ``end_file`` without an open ``start_file``, forms the section has not, imports of another section or that
would make a cycle; when the program is emitted: file indices the unit's line table does not have and files left
open. Each error is a :class:`DescriptionError` naming the unit and the entry.

Imports the foundations and, for its type only, :class:`dwarfkit.line.LineProgram`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..encoding import Encoding
from ..errors import DescriptionError
from ..macro_codes import (
    DEFINE,
    DEFINE_STRP,
    DEFINE_STRX,
    END_FILE,
    FIXED_SIZES,
    HI_USER,
    IMPORT,
    LO_USER,
    START_FILE,
    UNDEF,
    UNDEF_STRP,
    UNDEF_STRX,
    VENDOR_EXT,
    VENDOR_FORMS,
)
from ..sections import Relocation, RelocKind, Section
from ..writer import SectionWriter
from .offsets import SectionOffset

if TYPE_CHECKING:
    from ..line import LineProgram
    from .str_offsets import StringOffsets

MACRO, MACINFO = ".debug_macro", ".debug_macinfo"

_OPCODES = {("define", "string"): DEFINE, ("define", "strp"): DEFINE_STRP, ("define", "strx"): DEFINE_STRX,
            ("undef", "string"): UNDEF, ("undef", "strp"): UNDEF_STRP, ("undef", "strx"): UNDEF_STRX}


def _check_line(where: str, line: Any) -> int:
    if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line < 1 << 64:
        raise DescriptionError(f"{where}: line {line!r} is not an integer 0..2**64-1")
    return line


def _check_text(where: str, text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise DescriptionError(f"{where}: the {what} must be a str, not {type(text).__name__}")
    if "\0" in text:
        raise DescriptionError(f"{where}: the {what} {text!r} holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DescriptionError(f"{where}: the {what} {text!r} is not valid text (a lone surrogate)") from None
    return text


def _fits(form: str, value: Any) -> bool:
    """Whether ``value`` fits the constant form ``form`` of a vendor operand."""
    if form == "flag":
        return value in (0, 1)
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    if form == "sdata":
        return -(1 << 63) <= value < 1 << 63
    size = FIXED_SIZES.get(form, 8)   # udata and sec_offset: up to 64 bits (sec_offset: checked when written)
    return 0 <= value < 1 << (8 * size)


class MacroUnit:
    """One unit of macro entries (see the module's docstring); made by ``DwarfBuilder.macro_unit``."""

    def __init__(self, table: "MacroTable", label: str, line: "LineProgram | None") -> None:
        self.table = table
        self.label = label
        self.line = line                              # the compile unit's line table, None for an imported unit
        self.line_offset: SectionOffset | None = None  # its DW_AT_stmt_list, set when the compile unit is finished
        self.entries: list[tuple] = []                 # (kind, line, operand, form)
        self.imports: list[MacroUnit] = []
        self.offset = SectionOffset(table.name)        # where the unit starts; known when the program is emitted
        self._open_files = 0
        self.emitted = False
        self.opcodes: dict[int, tuple[str, ...]] = {}  # vendor opcodes declared in the header, with operand forms
        self.group: str | None = None
        """An imported unit's COMDAT group in an ELF object (gcc -g3's ``wm4.<file>.<line>.<md5>``: a linker keeps
        one copy of the units several objects import); None: the shared section. Kept by ``dwarfkit convert``."""

    def _where(self, kind: str) -> str:
        return f"{self.label}: {self.table.name} entry {len(self.entries)} ({kind})"

    def _add(self, entry: tuple) -> "MacroUnit":
        if self.emitted:
            raise DescriptionError(f"{self._where(entry[0])}: the unit was already emitted")
        self.entries.append(entry)
        return self

    def _string(self, kind: str, line: int, text: str, form: str | None) -> "MacroUnit":
        where = self._where(kind)
        _check_line(where, line)
        _check_text(where, text, "text")
        name = text.split(" ", 1)[0].split("(", 1)[0] if kind == "define" else text
        if not name or name[0].isspace() or (kind == "undef" and any(c.isspace() for c in text)):
            raise DescriptionError(f"{where}: {text!r} does not start with a macro name"
                                   + (" (an undef gives the name alone)" if kind == "undef" else ""))
        table = self.table
        if form is None:
            form = table.default_form(text)
        elif form not in table.forms:
            raise DescriptionError(f"{where}: form {form!r} is not one of {', '.join(table.forms)} for "
                                   f"{table.name}{' version ' + str(table.version) if table.name == MACRO else ''}")
        if form == "strx":
            assert table.str_offsets is not None
            return self._add((kind, line, table.str_offsets.index(text), form))
        return self._add((kind, line, text, form))

    def define(self, line: int, text: str, form: str | None = None) -> "MacroUnit":
        """``#define`` at ``line``: ``text`` is ``"NAME value"`` or ``"NAME(args) value"``."""
        return self._string("define", line, text, form)

    def undef(self, line: int, name: str, form: str | None = None) -> "MacroUnit":
        """``#undef NAME`` at ``line``."""
        return self._string("undef", line, name, form)

    def start_file(self, line: int, file: int) -> "MacroUnit":
        """The file with index ``file`` of the unit's line table is included at ``line`` (0: the main file)."""
        where = self._where("start_file")
        _check_line(where, line)
        if self.line is None:
            raise DescriptionError(f"{where}: a unit without a compile unit has no line table for file indices")
        if not isinstance(file, int) or isinstance(file, bool) or file < 0:
            raise DescriptionError(f"{where}: file {file!r} is not a file index (an integer >= 0; cu.file(name))")
        self._open_files += 1
        return self._add(("start_file", line, file, None))

    def end_file(self) -> "MacroUnit":
        """The end of the file the last open ``start_file`` began."""
        if not self._open_files:
            raise DescriptionError(f"{self._where('end_file')}: no start_file is open")
        self._open_files -= 1
        return self._add(("end_file", 0, None, None))

    def import_(self, other: "MacroUnit") -> "MacroUnit":
        """``DW_MACRO_import`` (GNU ``transparent_include``): ``other``'s entries belong here too."""
        where = self._where("import")
        if self.table.name != MACRO:
            raise DescriptionError(f"{where}: {self.table.name} has no imports (use .debug_macro)")
        if not isinstance(other, MacroUnit) or other.table is not self.table:
            raise DescriptionError(f"{where}: imports {other!r}, which is no macro unit of this program's "
                                   f"{self.table.name}")
        if other.reaches(self):
            raise DescriptionError(f"{where}: importing {other.label} makes an import cycle")
        self.imports.append(other)
        return self._add(("import", 0, other, None))

    def vendor_ext(self, constant: int, text: str) -> "MacroUnit":
        """``DW_MACINFO_vendor_ext`` (``.debug_macinfo`` only): a constant and a string for the vendor."""
        where = self._where("vendor_ext")
        if self.table.name != MACINFO:
            raise DescriptionError(f"{where}: vendor_ext is a .debug_macinfo entry")
        _check_line(where, constant)
        _check_text(where, text, "text")
        return self._add(("vendor_ext", constant, text, None))

    def declare_opcode(self, opcode: int, *forms: str) -> "MacroUnit":
        """Declares vendor opcode ``opcode`` (0xe0..0xff) with operands of ``forms`` (``"udata"``, ``"sdata"``,
        ``"data1"``-``"data8"``, ``"flag"``, ``"string"``, ``"strp"``, ``"block"``) in the header's
        opcode_operands_table, so that consumers can skip it; then :meth:`vendor` writes entries."""
        where = f"{self.label}: {self.table.name} opcode {opcode!r}"
        if self.table.name != MACRO:
            raise DescriptionError(f"{where}: vendor opcodes with operand tables are a .debug_macro feature "
                                   f"(.debug_macinfo has vendor_ext)")
        if not isinstance(opcode, int) or isinstance(opcode, bool) or not LO_USER <= opcode <= HI_USER:
            raise DescriptionError(f"{where}: a vendor opcode is 0xe0..0xff")
        if opcode in self.opcodes:
            raise DescriptionError(f"{where}: declared already")
        for form in forms:
            if form not in VENDOR_FORMS:
                raise DescriptionError(f"{where}: operand form {form!r} is not one of {', '.join(VENDOR_FORMS)}")
        self.opcodes[opcode] = forms
        return self

    def vendor(self, opcode: int, *operands: Any) -> "MacroUnit":
        """An entry with declared vendor opcode ``opcode`` and its operands (ints, str, bytes by the forms)."""
        where = self._where(f"vendor {opcode!r}")
        forms = self.opcodes.get(opcode)
        if forms is None:
            raise DescriptionError(f"{where}: the opcode is not declared (declare_opcode)")
        if len(operands) != len(forms):
            raise DescriptionError(f"{where}: takes {len(forms)} operands ({', '.join(forms)}), not "
                                   f"{len(operands)}")
        for form, value in zip(forms, operands, strict=True):
            if form in ("string", "strp"):
                _check_text(where, value, f"{form} operand")
            elif form == "block":
                if not isinstance(value, (bytes, bytearray)):
                    raise DescriptionError(f"{where}: a block operand is bytes, not {type(value).__name__}")
            elif not _fits(form, value):
                raise DescriptionError(f"{where}: operand {value!r} does not fit form {form}")
        return self._add(("vendor", opcode, tuple(operands), forms))

    def reaches(self, target: "MacroUnit") -> bool:
        """Whether ``target`` is this unit or one it imports, directly or not."""
        seen: set[int] = set()
        todo = [self]
        while todo:
            unit = todo.pop()
            if unit is target:
                return True
            if id(unit) not in seen:
                seen.add(id(unit))
                todo.extend(unit.imports)
        return False

    def __repr__(self) -> str:
        return f"<MacroUnit {self.label} ({self.table.name}, {len(self.entries)} entries)>"


class MacroTable:
    """The units of one macro section (``.debug_macro`` or ``.debug_macinfo``) of a program, written at emission."""

    def __init__(self, name: str, encoding: Encoding, str_offsets: "StringOffsets | None") -> None:
        self.name = name
        self.encoding = encoding
        self.version = 5 if encoding.version >= 5 else 4   # of a .debug_macro header
        self.str_offsets = str_offsets                     # the program's, when indexed (DWARF 5)
        if name == MACINFO:
            self.forms: tuple[str, ...] = ("string",)
        else:
            self.forms = ("string", "strp", "strx") if str_offsets is not None else ("string", "strp")
        self.units: list[MacroUnit] = []

    def unit(self, label: str, line: "LineProgram | None") -> MacroUnit:
        made = MacroUnit(self, label, line)
        self.units.append(made)
        return made

    def default_form(self, text: str) -> str:
        if "strx" in self.forms:
            return "strx"
        if "strp" in self.forms and len(text.encode("utf-8")) + 1 > self.encoding.offset_size:
            return "strp"
        return "string"

    def to_section(self, strings: Any) -> Section | None:
        """The section (None without units); each unit's :attr:`MacroUnit.offset` becomes final.

        ``strings`` is the program's ``.debug_str`` (:class:`~dwarfkit.strings.StringTable`)."""
        if not self.units:
            return None
        w = SectionWriter(self.name, self.encoding)
        imports: list[tuple[int, MacroUnit]] = []
        # Compile units' own units first, then the ones they import, as gcc lays them out.
        for unit in sorted(self.units, key=lambda unit: unit.line is None):
            unit.offset.value = w.pos
            self._check_files(unit)
            if self.name == MACRO:
                self._write_macro(w, unit, strings, imports)
            else:
                self._write_macinfo(w, unit)
            unit.emitted = True
        size = self.encoding.offset_size
        for pos, target in imports:   # imports may point forward: patched once every unit has its offset
            assert target.offset.value is not None
            w.patch_uint(pos, target.offset.value, size)
            w.section.relocations.append(Relocation(pos, size, RelocKind.SECTION, self.name, target.offset.value))
        return w.section

    def _check_files(self, unit: MacroUnit) -> None:
        if unit._open_files:
            raise DescriptionError(f"{unit.label}: {self.name}: {unit._open_files} start_file entries have no "
                                   f"end_file")
        if unit.line is None:
            return
        files = range(unit.line.first_file, len(unit.line.files))
        for i, (kind, line, file, _) in enumerate(unit.entries):
            if kind == "start_file" and file not in files:
                raise DescriptionError(f"{unit.label}: {self.name} entry {i} (start_file at line {line}): file "
                                       f"{file} is not in the unit's line table (files {files.start}.."
                                       f"{files.stop - 1})")

    def _write_macro(self, w: SectionWriter, unit: MacroUnit, strings: Any,
                     imports: list[tuple[int, MacroUnit]]) -> None:
        size = self.encoding.offset_size
        w.u16(self.version)
        line_offset = unit.line_offset.value if unit.line_offset is not None else None
        w.u8((1 if size == 8 else 0) | (2 if line_offset is not None else 0) | (4 if unit.opcodes else 0))
        if line_offset is not None:
            w.offset_field(line_offset, RelocKind.SECTION, ".debug_line")
        if unit.opcodes:
            w.u8(len(unit.opcodes))
            for opcode, forms in unit.opcodes.items():
                w.u8(opcode)
                w.uleb(len(forms))
                w.raw(bytes(VENDOR_FORMS[form] for form in forms))
        for kind, line, operand, form in unit.entries:
            if kind == "start_file":
                w.u8(START_FILE)
                w.uleb(line)
                w.uleb(operand)
            elif kind == "end_file":
                w.u8(END_FILE)
            elif kind == "import":
                w.u8(IMPORT)
                imports.append((w.pos, operand))
                w.raw(bytes(size))
            elif kind == "vendor":
                w.u8(line)
                for value, vendor_form in zip(operand, form, strict=True):
                    self._write_operand(w, vendor_form, value, strings)
            else:
                w.u8(_OPCODES[kind, form])
                w.uleb(line)
                if form == "string":
                    w.cstr(operand)
                elif form == "strp":
                    w.offset_field(strings.add(operand), RelocKind.SECTION, ".debug_str")
                else:
                    w.uleb(operand)
        w.u8(0)

    @staticmethod
    def _write_operand(w: SectionWriter, form: str, value: Any, strings: Any) -> None:
        if form == "udata":
            w.uleb(value)
        elif form == "sdata":
            w.sleb(value)
        elif form == "string":
            w.cstr(value)
        elif form == "strp":
            w.offset_field(strings.add(value), RelocKind.SECTION, ".debug_str")
        elif form == "block":
            w.uleb(len(value))
            w.raw(value)
        elif form == "sec_offset":   # a number as the vendor means it: no section is known to relocate against
            size = w.encoding.offset_size
            if value >> (8 * size):
                raise DescriptionError(f"{w.section.name}: sec_offset operand {value:#x} does not fit {size} bytes")
            w.uint(value, size)
        else:
            w.uint(int(value), FIXED_SIZES[form])

    def _write_macinfo(self, w: SectionWriter, unit: MacroUnit) -> None:
        for kind, line, operand, _ in unit.entries:
            if kind == "start_file":
                w.u8(START_FILE)
                w.uleb(line)
                w.uleb(operand)
            elif kind == "end_file":
                w.u8(END_FILE)
            elif kind == "vendor_ext":
                w.u8(VENDOR_EXT)
                w.uleb(line)
                w.cstr(operand)
            else:
                w.u8(DEFINE if kind == "define" else UNDEF)
                w.uleb(line)
                w.cstr(operand)
        w.u8(0)
