"""The part of ``build`` that reads what ``describe`` writes (and a person may write too): the keys that say what a
loaded model holds beyond the hand-written basics.

* ``file:`` naming any container the reader takes (ELF, Mach-O, a dSYM bundle, COFF/PE): the DWARF is written into
  a copy of it through the container's rewriter (:func:`dwarfkit.loading.convert.write`, as ``dwarfkit convert``
  does); in an object an address ``symbol+addend`` names any symbol the file's relocations or symbol table know
  (section symbols such as ``.text`` or ``__TEXT,__text`` too), in a linked file an address is a number.
* ``line_program``: a unit's line-program header parameters and its directory and file tables, indices as given
  (``false``: the unit has no line program); ``lines`` sequences that start at an address (``start:``) instead of
  a function.
* list entries by kind (``[offset_pair, 0, 16, [[reg5]]]``), GNU location views (``views``, ``views_of``),
  ``addrx``/``constx`` operands given as ``{address: ...}``, thread-local addresses (``[tls_address, SYMBOL]``).
* ``macros`` of a compile unit and ``macro_units`` (the units they import), entry by entry.

Each function takes the :class:`~.build._Builder` (``b``) for its error reporting (``b.fail``: file, line, path)
and its state; this module imports no part of ``build`` (it sits below it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..address import Address
from ..arch import Arch
from ..errors import DescriptionError, DwarfkitError
from ..info.unit import CompileUnit, TypeUnit, Unit
from ..line import LineProgram
from ..program import DwarfBuilder
from ..sections import DwarfSections
from ..tables.list_entries import KINDS, NO_EXPRESSION, Lle, Rle
from .code import Code, CompiledFile, read_compiled

ROW_FLAGS = {"column", "file", "is_stmt", "basic_block", "prologue_end", "epilogue_begin", "isa", "discriminator",
             "op_index"}
HEADER_KEYS = {"min_instruction_length", "line_base", "line_range", "opcode_base", "default_is_stmt",
               "max_ops_per_instruction", "directories", "files"}


# -- the file described ---------------------------------------------------------------------------------------------
def read_file(path: Path) -> CompiledFile:
    """The code a description of ``path`` names: an ELF file's symbols (:func:`.code.read_compiled`), or for a
    Mach-O or COFF file (or a dSYM bundle) its relocations' symbols only; ``symbols`` in both gets every name an
    address may use."""
    from ..reader.container import open_debug_file
    try:
        df = open_debug_file(path)
    except DwarfkitError as error:
        raise DescriptionError(str(error) if str(path) in str(error) else f"{path}: {error}") from None
    names = {ref.symbol for fields in df.relocations.values() for ref in fields.values()}
    if df.file_format.startswith("elf"):
        compiled = read_compiled(path)
    else:
        try:
            arch = Arch.parse(df.arch)
        except DescriptionError:
            raise DescriptionError(f"{path}: architecture {df.arch} is not x86_64 or aarch64") from None
        compiled = CompiledFile(path, arch, df.is_object, Code({}, {}, df.is_object), elf=False)
    compiled.symbols = names | set(compiled.code.labels)
    return compiled


def symbol_address(compiled: CompiledFile | None, name: str, addend: int) -> Address | None:
    """``name+addend`` against a symbol of the described object (None when it has no such symbol)."""
    if compiled is None or not compiled.relocatable or name not in compiled.symbols:
        return None
    return Address(name, addend)


def write_into(compiled: CompiledFile, out: Path, sections: DwarfSections | None, dw: DwarfBuilder) -> None:
    """A copy of the file with ``sections`` as its DWARF (the container's rewriter); in an ELF object the macro
    units of COMDAT groups (``group``) go into such groups again, as ``dwarfkit convert`` writes them."""
    from ..loading.convert import ConvertOptions, macro_groups, write
    assert sections is not None, "a built description always has its DWARF"
    if compiled.relocatable and compiled.elf:
        from ..backends.elf import rewrite
        sections, groups = macro_groups(dw, sections)
        rewrite.rewrite(compiled.path, out, sections, groups=groups)
        return
    write(compiled.path, out, sections, ConvertOptions())


# -- line programs --------------------------------------------------------------------------------------------------
def unit_tables(b: Any, cu: Unit, unit: Mapping[str, Any], path: tuple) -> None:
    """A unit's ``line_program`` (a type unit's: a file table only) and a compile unit's ``macros``."""
    header = unit.get("line_program")
    if isinstance(cu, TypeUnit) and isinstance(header, Mapping):
        directories = header.get("directories") or [""]
        cu.line = LineProgram(cu.encoding, comp_dir=directories[0] if isinstance(directories, list) else "",
                              name=None)
    elif not isinstance(cu, CompileUnit):
        if header is not None:
            raise b.fail((*path, "line_program"), "only compile and type units have a line program")
        return
    line_program(b, cu, header, (*path, "line_program"))
    if "macros" in unit:
        spec = unit["macros"]
        here = (*path, "macros")
        section = spec.get("section") if isinstance(spec, Mapping) else None
        try:
            made = b.dw.macro_unit(cu, section=section)
        except DwarfkitError as error:
            raise b.fail(here, str(error)) from None
        _macro_entries(b, made, spec, here)


def line_program(b: Any, cu: CompileUnit | TypeUnit, header: Any, path: tuple) -> None:
    """``line_program``: header parameters and the directory and file tables, or ``false`` for none."""
    if header is None:
        return
    if header is False and isinstance(cu, CompileUnit):
        cu.has_line_program = False
        return
    if not isinstance(header, Mapping):
        raise b.fail(path, "is a mapping (directories, files, line_base, ...) or false")
    b._known(header, HEADER_KEYS, path)
    line = cu.line
    assert line is not None   # a compile unit's, or the one unit_tables made for a type unit
    for key in HEADER_KEYS - {"directories", "files"}:
        if key in header:
            setattr(line, key, header[key])
    if "directories" in header or "files" in header:
        directories = header.get("directories", list(line.directories))
        files = []
        for n, entry in enumerate(header.get("files", [])):
            if isinstance(entry, str):
                entry = {"name": entry}
            if not isinstance(entry, Mapping) or "name" not in entry:
                raise b.fail((*path, "files", n), "a file is a name or {name, directory, md5}")
            b._known(entry, {"name", "directory", "md5"}, (*path, "files", n))
            md5 = entry.get("md5")
            try:
                files.append((entry["name"], entry.get("directory", 0), None if md5 is None else bytes.fromhex(md5)))
            except ValueError:
                raise b.fail((*path, "files", n, "md5"), "is not hex bytes") from None
        try:
            line.replace_tables(directories, files)
        except DwarfkitError as error:
            raise b.fail(path, str(error)) from None
        line.comp_dir = line.directories[0]


def sequence(b: Any, cu: CompileUnit, spec: Mapping[str, Any], path: tuple) -> None:
    """A sequence ``{start: ADDRESS, rows: [[offset, line] or {at, line, ...}], end: OFFSET}``."""
    b._known(spec, {"start", "rows", "end"}, path)
    seq = cu.line.sequence(b.address(spec["start"], (*path, "start")))
    rows = spec.get("rows", [])
    if not isinstance(rows, list):
        raise b.fail((*path, "rows"), "is a list of rows: [offset, line] or {at, line, ...}")
    for k, row in enumerate(rows):
        here = (*path, "rows", k)
        if isinstance(row, list) and len(row) == 2:
            row = {"at": row[0], "line": row[1]}
        if not isinstance(row, Mapping) or "at" not in row or "line" not in row:
            raise b.fail(here, "a row is [offset, line] or a mapping with at, line and flags")
        flags = {k: v for k, v in row.items() if k not in ("at", "line")}
        b._known(flags, ROW_FLAGS, here)
        try:
            if isinstance(flags.get("file"), str):
                flags["file"] = cu.file(flags["file"])
            seq.row(row["at"], row["line"], **flags)
        except (DwarfkitError, TypeError) as error:
            raise b.fail(here, str(error)) from None
    if "end" not in spec:
        raise b.fail(path, "a sequence that starts at an address gives its end (an offset from the start)")
    seq.end(spec["end"])


# -- lists and operands ---------------------------------------------------------------------------------------------
def is_explicit(entries: Any) -> bool:
    """Entries given by kind: ``[offset_pair, 0, 16, EXPRESSION]``, ``[base_address, main]``."""
    return isinstance(entries, list) and bool(entries) and all(
        isinstance(e, list) and e and isinstance(e[0], str) and e[0] in KINDS for e in entries)


def explicit_list(b: Any, kind: str, entries: list, path: tuple) -> Any:
    location = kind == "locations"
    made = []
    for n, entry in enumerate(entries):
        here = (*path, n)
        name, *operands = entry
        shapes = KINDS[name][2]
        has_expr = location and name not in NO_EXPRESSION
        if len(operands) != len(shapes) + has_expr:
            raise b.fail(here, f"{name} takes {len(shapes)} operand(s){' and an expression' if has_expr else ''}")
        values = [b.address(v, (*here, k + 1)) if shape == "a" or isinstance(v, str) else v
                  for k, (shape, v) in enumerate(zip(shapes, operands, strict=False))]
        try:
            if has_expr:
                raw = operands[-1]
                expr = bytes.fromhex(raw["hex"]) if isinstance(raw, Mapping) and "hex" in raw else \
                    b.expression(raw, (*here, len(operands)))
                made.append(getattr(Lle, name)(*values, expr))
            else:
                made.append(getattr(Lle if location else Rle, name)(*values))
        except (DwarfkitError, AttributeError) as error:
            raise b.fail(here, f"{name}: {error}") from None
    unit = b._unit_now   # its version's table: a file may mix units of DWARF 5 and of 2-4
    version = unit.encoding.version if unit is not None else b.dw.encoding.version
    size = unit.encoding.address_size if unit is not None else None
    try:
        return b.dw.tables.list_table(location, version, size).make(made)
    except DwarfkitError as error:
        raise b.fail(path, str(error)) from None


def with_views(b: Any, made: Any, views: Any, path: tuple) -> Any:
    """GCC's location views of a location list (``views: [[begin, end], ...]``, one pair per location entry)."""
    try:
        b.views[id(made)] = made.locviews([tuple(v) if isinstance(v, list) else v for v in views])
    except (DwarfkitError, AttributeError) as error:
        raise b.fail(path, str(error)) from None
    return made


def views_last(item: tuple[Any, Any]) -> bool:
    """The sort key that sets ``{views_of: ...}`` attributes after the lists they name."""
    return isinstance(item[1], Mapping) and "views_of" in item[1]


def views_of(b: Any, die: Any, attribute: Any, path: tuple) -> Any:
    """``{views_of: location}``: the location views of the list the DIE's ``attribute`` holds."""
    try:
        held = die.get(attribute)
    except DwarfkitError as error:
        raise b.fail(path, str(error)) from None
    views = b.views.get(id(held))
    if views is None:
        raise b.fail(path, f"the DIE's {attribute} is no location list with views (give it views: [...])")
    return views


def tls(b: Any, expr: Any, name: Any, operands: list, path: tuple) -> bool:
    """``[tls_address, SYMBOL]`` (``[gnu_tls_address, SYMBOL]``): a thread-local variable's address, the two
    operations of :meth:`~dwarfkit.Expr.tls_address`. False for any other operation."""
    if name not in ("tls_address", "gnu_tls_address"):
        return False
    if len(operands) != 1:
        raise b.fail(path, f"{name} takes one operand: the thread-local variable's symbol")
    try:
        expr.tls_address(b.address(operands[0], (*path, 1)), gnu=name == "gnu_tls_address")
    except DwarfkitError as error:
        raise b.fail(path, str(error)) from None
    return True


def address_operand(b: Any, value: Mapping[str, Any], path: tuple) -> int:
    """An ``addrx``/``constx`` operand given as ``{address: ...}``: its index in ``.debug_addr``."""
    address = b.address(value["address"], (*path, "address"))
    if b._unit_now is not None:
        b._unit_now.uses_addr = True
    return int(b.dw.tables.address_index(address))


# -- macros -------------------------------------------------------------------------------------------------------
MACRO_KEYS = {"section", "opcodes", "entries", "group"}


def macro_units(b: Any, units: Any) -> None:
    """``macro_units: {LABEL: {entries: [...]}}``: macro units of no compile unit, which compile units (and each
    other) import by label; all are made before any is filled, so an import may name a unit given later."""
    if units is None:
        return
    if not isinstance(units, Mapping):
        raise b.fail(("macro_units",), "is a mapping of label -> {entries: [...]}")
    for label in units:
        try:
            b.macro_units[label] = b.dw.macro_unit(None, name=str(label))
        except DwarfkitError as error:
            raise b.fail(("macro_units", label), str(error)) from None
    for label, spec in units.items():
        _macro_entries(b, b.macro_units[label], spec, ("macro_units", label))


def _macro_entries(b: Any, unit: Any, spec: Any, path: tuple) -> None:
    if not isinstance(spec, Mapping):
        raise b.fail(path, "is a mapping: entries (and section, opcodes)")
    b._known(spec, MACRO_KEYS, path)
    unit.group = spec.get("group")   # a COMDAT group of an ELF object (write_into)
    for opcode, forms in (spec.get("opcodes") or {}).items():
        try:
            unit.declare_opcode(opcode, *forms)
        except (DwarfkitError, TypeError) as error:
            raise b.fail((*path, "opcodes", opcode), str(error)) from None
    for n, entry in enumerate(spec.get("entries", [])):
        here = (*path, "entries", n)
        if not isinstance(entry, list) or not entry:
            raise b.fail(here, "an entry is [kind, operands...]: [define, 1, \"N 1\"], [start_file, 0, 1], ...")
        kind, *operands = entry
        try:
            if kind in ("define", "undef"):
                line, text, *form = operands
                chosen = form[0] if form else None
                if chosen is None and unit.line is None and unit.table.default_form(text) == "strx":
                    chosen = "strp"   # an imported unit has no one string offsets base (the loader's rule)
                (unit.define if kind == "define" else unit.undef)(line, text, chosen)
            elif kind == "import":
                target = b.macro_units.get(operands[0]) if len(operands) == 1 else None
                if target is None:
                    raise b.fail(here, f"imports {operands!r}: no macro unit has that label (macro_units)")
                unit.import_(target)
            elif kind in ("start_file", "vendor_ext"):
                getattr(unit, kind)(*operands)
            elif kind == "end_file":
                unit.end_file()
            elif kind == "vendor":
                opcode, *values = operands
                forms = unit.opcodes.get(opcode, ())
                unit.vendor(opcode, *[bytes.fromhex(v) if f == "block" and isinstance(v, str) else v
                                      for f, v in zip(forms, values, strict=False)])
            else:
                raise b.fail(here, f"{kind!r} is not a macro entry (define, undef, start_file, end_file, import, "
                                   f"vendor_ext, vendor)")
        except (DwarfkitError, TypeError, ValueError) as error:
            if isinstance(error, DescriptionError) and str(error).startswith(b.source.where(here)):
                raise
            raise b.fail(here, str(error)) from None
