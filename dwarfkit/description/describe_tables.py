"""The tables beside the DIEs, rendered for :mod:`.describe`: a compile unit's line program and ``.debug_frame``.

A line program is ``line_program`` (the header's parameters where they differ from the writer's defaults, the
directory and file tables as the model keeps them, indices unchanged) and ``lines``: one sequence per
``{start: ADDRESS, rows: [...], end: OFFSET}``, a row ``[offset, line]`` or a mapping with the fields that differ
from a row's defaults. ``debug_frame`` lists the CIEs (alignment factors, return address register) and the FDEs
(``cie`` by index, ``start``, ``length``) with their instructions as the calls that make them (the model holds
their bytes, which the loader made by the same calls). Reads the model (and the reader's CFI decoder).
"""
from __future__ import annotations

from typing import Any, Callable

import yaml

from ..address import Address
from ..arch import Arch
from ..cfa import CfaInstructions
from ..encoding import Encoding
from ..expr import Expr
from ..expr_decode import decode_expr
from ..frame import CallFrames
from ..info.unit import CompileUnit, TypeUnit
from ..line import sequence as S
from ..loading.frames import _ADVANCES as ADVANCES
from ..loading.frames import _METHODS as CFA_METHODS
from ..reader.cfi import CfiError, FrameDumper
from ..tables.macros import MacroUnit

Render = Callable[[Address], "str | int"]


class Hex(int):
    """An address of a linked file: an int that YAML prints in hex (``yaml.safe_dump`` too: registered below)."""

    __slots__ = ()


def _hex(dumper: yaml.SafeDumper, data: Hex) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:int", f"{int(data):#x}")


for _dumper in {yaml.SafeDumper, getattr(yaml, "CSafeDumper", yaml.SafeDumper)}:
    _dumper.add_representer(Hex, _hex)

# LineProgram's defaults (what build's line program has unless the description says otherwise).
HEADER_DEFAULTS = {"min_instruction_length": 1, "line_base": -5, "line_range": 14, "opcode_base": 13,
                   "default_is_stmt": True, "max_ops_per_instruction": 1}


def line_description(unit: CompileUnit | TypeUnit, address: Render, min_instruction_length: int) -> dict[str, Any]:
    """``line_program`` and ``lines`` of ``unit`` (``line_program: false`` for a compile unit without one; a type
    unit's is only a file table, as gcc and clang write them for ``DW_AT_decl_file``). ``min_instruction_length``:
    the one build gives a line program of this arch."""
    line = unit.line
    if line is None:
        return {}
    if isinstance(unit, CompileUnit) and not unit.has_line_program:
        return {"line_program": False}
    defaults = dict(HEADER_DEFAULTS, min_instruction_length=min_instruction_length)
    header: dict[str, Any] = {k: getattr(line, k) for k, v in defaults.items() if getattr(line, k) != v}
    files: list[Any] = []
    for entry in line.files[line.first_file:]:
        item: dict[str, Any] = {"name": entry.name}
        if entry.directory:
            item["directory"] = entry.directory
        if entry.md5 is not None:
            item["md5"] = entry.md5.hex()
        files.append(item if len(item) > 1 else entry.name)
    # The tables build makes by itself (directory 0 the comp_dir, the unit's file) are left to it.
    comp_dir, name = unit.root.get("comp_dir"), unit.root.name
    made = [name] * (2 if line.encoding.version >= 5 else 1) if name is not None else []
    default_directories = [comp_dir if isinstance(comp_dir, str) else ""]
    if isinstance(unit, TypeUnit) or line.directories != default_directories or files != made:
        header["directories"] = list(line.directories)
        header["files"] = files
    sequences = []
    default_flags = S.IS_STMT if line.default_is_stmt else 0
    for seq in line.sequences:
        rows = [_row(row, default_flags) for row in seq.rows]
        sequences.append({"start": address(seq.start), "rows": rows, "end": seq.end_address})
    out: dict[str, Any] = {"line_program": header} if header else {}
    if sequences:
        out["lines"] = sequences
    return out


def _row(row: tuple[int, ...], default_flags: int) -> Any:
    offset, line_number, column, file, flags, isa, discriminator = row
    out: dict[str, Any] = {"at": offset, "line": line_number}
    if column:
        out["column"] = column
    if file != 1:
        out["file"] = file
    if (flags & S.IS_STMT) != default_flags:
        out["is_stmt"] = bool(flags & S.IS_STMT)
    for bit, name in ((S.BASIC_BLOCK, "basic_block"), (S.PROLOGUE_END, "prologue_end"),
                      (S.EPILOGUE_BEGIN, "epilogue_begin")):
        if flags & bit:
            out[name] = True
    if isa:
        out["isa"] = isa
    if discriminator:
        out["discriminator"] = discriminator
    if flags >> S.OP_INDEX_SHIFT:
        out["op_index"] = flags >> S.OP_INDEX_SHIFT
    return [offset, line_number] if len(out) == 2 else out


def frames_description(frames: CallFrames, address: Render, expression: Callable[[Expr], list]) -> dict[str, Any]:
    """``.debug_frame``: its CIEs and FDEs with their instructions (:func:`cfi_instructions`)."""
    cies = []
    for cie in frames.cies:
        cies.append({"code_alignment": cie.code_alignment, "data_alignment": cie.data_alignment,
                     "return_address_register": _register_name(cie.arch, cie.return_address_register),
                     "instructions": cfi_instructions(cie, frames.encoding.address_size, expression)})
    fdes = []
    index = {id(cie): n for n, cie in enumerate(frames.cies)}
    for fde in frames.fdes:
        fdes.append({"cie": index[id(fde.cie)], "start": address(fde.start), "length": fde.length,
                     "instructions": cfi_instructions(fde, frames.encoding.address_size, expression)})
    return {"cies": cies, "fdes": fdes}


def _register_name(arch: Arch, number: int) -> str | int:
    """The assembler's name of a DWARF register (``rbp``, ``x29``), the number where the arch names none."""
    return next((name for name, n in arch.value.registers.items() if n == number), number)


def cfi_instructions(entry: CfaInstructions, address_size: int, expression: Callable[[Expr], list]) -> Any:
    """The instructions of a CIE or FDE as the calls that make them (the model keeps their bytes: the methods of
    :class:`~dwarfkit.cfa.CfaInstructions` by name, offsets in bytes, ``advance_to`` an offset from the FDE's start),
    read with the reader's CFI decoder and named as the loader replays them; ``{hex: ...}`` for bytes no method
    writes."""
    data = bytes(entry.instructions)
    try:
        decoded = FrameDumper(data, False, entry.byteorder, address_size, entry.arch.value.name, 0,
                              ".debug_frame").instructions(0, len(data), {"asz": address_size})
    except (CfiError, IndexError, KeyError):
        return {"hex": data.hex(" ")}
    out: list[Any] = []
    location = 0
    enc = Encoding(4, 4, address_size, entry.byteorder)
    for name, _kinds, operands in decoded:
        if name in ADVANCES:
            location += operands[0] * entry.code_alignment
            out.append(["advance_to", location])
            continue
        if name == "DW_CFA_nop":
            out.append("nop")
            continue
        if name not in CFA_METHODS:
            return {"hex": data.hex(" ")}
        method, shapes = CFA_METHODS[name]
        args: list[Any] = []
        for shape, value in zip(shapes, operands, strict=True):
            if shape in "us":
                args.append(value * entry.data_alignment)
            elif shape == "n":
                args.append(-value * entry.data_alignment)
            elif shape == "e":
                args.append(expression(decode_expr(bytes(value), enc)))
            elif shape == "r":
                args.append(_register_name(entry.arch, value))
            else:
                args.append(value)
        out.append([method, *args])
    return out


def macro_description(unit: MacroUnit, labels: dict[int, str], default_section: str) -> dict[str, Any]:
    """A macro unit: ``entries`` (``[define, line, text]``, ``[undef, line, name]``, ``[start_file, line, file]``,
    ``[end_file]``, ``[import, LABEL]``, ``[vendor_ext, constant, text]``, ``[vendor, opcode, operands...]``, a
    string's form last where it is not the table's default), its ``section`` when not the default, the vendor
    ``opcodes`` it declares, and for a unit of an ELF object's COMDAT group (gcc -g3) the group's name."""
    table = unit.table
    entries: list[Any] = []
    for kind, line, operand, form in unit.entries:
        if kind in ("define", "undef"):
            text = table.str_offsets.text_at(operand) if form == "strx" and table.str_offsets is not None \
                else operand
            item = [kind, line, text]
            if form != table.default_form(text) and not (form == "strp" and unit.line is None):
                item.append(form)
            entries.append(item)
        elif kind == "start_file":
            entries.append([kind, line, operand])
        elif kind == "end_file":
            entries.append([kind])
        elif kind == "import":
            entries.append([kind, labels[id(operand)]])
        elif kind == "vendor_ext":
            entries.append([kind, line, operand])
        else:   # vendor: line is the opcode, operand the operands
            entries.append([kind, line, *[o.hex(" ") if isinstance(o, bytes) else o for o in operand]])
    out: dict[str, Any] = {}
    if table.name != default_section:
        out["section"] = table.name
    if unit.group is not None:
        out["group"] = unit.group
    if unit.opcodes:
        out["opcodes"] = {code: list(forms) for code, forms in unit.opcodes.items()}
    out["entries"] = entries
    return out
