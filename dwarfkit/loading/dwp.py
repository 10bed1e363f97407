"""``dwarfkit dwp OUT.dwp INPUTS...``: split DWARF packaged as llvm-dwp packages it (DWARF 5 section 7.3.5).

    from dwarfkit.loading.dwp import write_dwp
    write_dwp("prog.dwp", ["prog"])              # the .dwo files prog's skeleton units name
    write_dwp("all.dwp", ["a.dwo", "b.dwo", "old.dwp"])

An input is a ``.dwo`` file, a package (its units taken with their contributions, through its indexes), or an
object or executable whose skeleton units name ``.dwo`` files (found as the reader finds them: DW_AT_dwo_name
relative to DW_AT_comp_dir, else beside the file; each must hold the skeleton's DWO id). The package holds each
input's ``.debug_*.dwo`` sections concatenated: a compile unit's contributions are its ``.dwo``'s sections, type
units are kept once per signature (the first seen), ``.debug_str.dwo`` is merged (each string once) and every
``.debug_str_offsets.dwo`` contribution rewritten to the merged offsets. ``.debug_cu_index`` and
``.debug_tu_index`` (version 5 for DWARF 5 units, the GNU version 2 for DWARF 4) say where each unit's
contributions are; their hash tables are laid out as the specification (and llvm-dwp) does. The file is an ELF
relocatable of the inputs' machine (ELF64 little-endian: the ELF backend's), written atomically.

Refused, with the input and place named: a missing ``.dwo``, a DWO id that does not match its skeleton, the same
DWO id twice, DWARF 4 and 5 units mixed, a unit that uses ``DW_FORM_strp`` (its offset could not follow the merged
strings), broken unit headers. Macro sections are copied as they are (string forms in them are not rewritten).

Imports the reader (containers, units, indexes, skeletons), the ELF backend's file writer and ``dwarfkit.output``;
``dwp_cli`` registers the command.
"""
from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import ENUM_E_TYPE, ENUM_SH_TYPE_BASE

from ..arch import Arch
from ..backends.elf.elffile import ElfHeader, ElfSection, serialize
from ..backends.elf.machine import machine_for
from ..errors import ContainerError, DwarfkitError
from ..output import write_atomically
from ..reader.container import open_debug_file
from ..reader.debugfile import DebugFile
from ..reader.package import COLUMNS_V2, COLUMNS_V5
from ..reader.split import SplitFiles
from ..reader.units import DwarfContext, Unit, forget

# Sections a unit contributes to besides its own unit bytes, in the order they are written.
CONTRIBUTED = ("debug_abbrev", "debug_line", "debug_loc", "debug_loclists", "debug_rnglists", "debug_str_offsets",
               "debug_macro", "debug_macinfo")
OUTPUT_ORDER = ("debug_info", "debug_types", *CONTRIBUTED, "debug_str")
DW_FORM_strp, DW_FORM_GNU_strp_alt = 0x0e, 0x1f21
SHF_EXCLUDE = 0x80000000


class DwpError(DwarfkitError):
    """An input that cannot be packaged (missing, broken, or in conflict with another)."""


@dataclass
class _Input:
    path: str
    ctx: DwarfContext
    expected: int | None = None  # the DWO id a skeleton gave this .dwo


@dataclass
class _Builder:
    sections: dict[str, bytearray] = field(default_factory=lambda: {n: bytearray() for n in OUTPUT_ORDER})
    strings: dict[bytes, int] = field(default_factory=dict)
    copied: dict[tuple[int, str, int, int], tuple[int, int]] = field(default_factory=dict)
    cu_rows: list[tuple[int, dict[str, tuple[int, int]]]] = field(default_factory=list)
    tu_rows: list[tuple[int, dict[str, tuple[int, int]]]] = field(default_factory=list)
    cu_from: dict[int, str] = field(default_factory=dict)
    tu_seen: set[int] = field(default_factory=set)
    version: int | None = None


def write_dwp(output: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]]) -> None:
    """Package the split units of ``inputs`` (``.dwo`` files, packages, or files whose skeletons name ``.dwo``
    files) into the package ``output``, written atomically. Raises :class:`DwpError` (nothing written) when an
    input cannot be packaged."""
    if not isinstance(output, (str, os.PathLike)):
        raise TypeError(f"output must be a path, not {type(output).__name__}")
    if isinstance(inputs, (str, os.PathLike)) or not inputs:
        raise DwpError("give a list of one or more inputs (.dwo files, packages, or files with skeleton units)")
    out = os.path.abspath(output)
    data = dwp_bytes(inputs, exclude=out)
    write_atomically(out, data)


def dwp_bytes(inputs: Sequence[str | os.PathLike[str]], exclude: str | None = None) -> bytes:
    """The package of ``inputs`` as bytes (see :func:`write_dwp`); ``exclude`` is a path never read as an input
    (the output being written)."""
    parts = _inputs([os.fspath(p) for p in inputs], exclude)
    if not parts:
        raise DwpError("the inputs hold no split units (.dwo sections)")
    first = parts[0].ctx.file
    if not first.file_format.startswith("elf64") or first.byteorder != "little":
        raise DwpError(f"{first.path}: {first.file_format}: packages are written as ELF64 little-endian files")
    try:
        machine = machine_for(Arch.parse(first.arch)).machine
    except DwarfkitError as e:
        raise DwpError(f"{first.path}: {e}") from None
    b = _Builder()
    for part in parts:
        df = part.ctx.file
        if (df.file_format, df.arch) != (first.file_format, first.arch):
            raise DwpError(f"{df.path}: {df.file_format} ({df.arch}) does not match {first.path}'s "
                           f"{first.file_format} ({first.arch})")
        _add_input(b, part)
    return _elf(b, machine)


def _inputs(paths: list[str], exclude: str | None) -> list[_Input]:
    """Each input's split part, skeletons followed to their .dwo files; each file read once."""
    found: dict[str, _Input] = {}
    for path in paths:
        df = _open(path)
        part = df.split_part()
        if part is not None:
            found.setdefault(os.path.realpath(path), _Input(path, DwarfContext(part)))
            continue
        ctx = DwarfContext(df)
        files = SplitFiles(ctx)
        skeletons = 0
        for unit in ctx.units("debug_info"):
            if not files.is_skeleton(unit):
                forget(unit)
                continue
            skeletons += 1
            name, ident = files.dwo_name(unit), files.dwo_id(unit)
            where = f"{path}: .debug_info[0x{unit.offset:x}]"
            if name is None or ident is None:
                raise DwpError(f"{where}: skeleton unit without DW_AT_dwo_name or a DWO id")
            tried = [p for p in files.candidates(unit, name) if exclude is None or os.path.abspath(p) != exclude]
            dwo = next((p for p in tried if os.path.isfile(p)), None)
            forget(unit)
            if dwo is None:
                raise DwpError(f"{where}: split unit {name!r} not found (looked for {', '.join(tried)})")
            key = os.path.realpath(dwo)
            if key not in found:
                dwo_part = _open(dwo).split_part()
                if dwo_part is None:
                    raise DwpError(f"{dwo}: no .debug_*.dwo sections (named by {where})")
                found[key] = _Input(dwo, DwarfContext(dwo_part), ident)
        if not skeletons:
            raise DwpError(f"{path}: neither a .dwo file or package nor a file with skeleton units")
    return list(found.values())


def _open(path: str) -> DebugFile:
    if not os.path.isfile(path):
        raise DwpError(f"{path}: no such file")
    return open_debug_file(path)


def _add_input(b: _Builder, part: _Input) -> None:
    ctx = part.ctx
    units = [u for s in ("debug_info", "debug_types") for u in ctx.units(s)]
    if ctx.problems:
        raise DwpError(f"{part.path}: {ctx.problems[0]}")
    compile_units = [u for u in units if not u.is_type_unit]
    if ctx.package is None and len(compile_units) > 1:
        raise DwpError(f"{part.path}: holds {len(compile_units)} compile units; a .dwo file holds one")
    if part.expected is not None and not any(_dwo_id(ctx, u) == part.expected for u in compile_units):
        raise DwpError(f"{part.path}: holds no split unit with DWO id 0x{part.expected:016x} (its skeleton's)")
    for unit in units:
        where = f"{part.path}: .{unit.section}.dwo[0x{unit.offset:x}]"
        version = 5 if unit.version >= 5 else 2
        if b.version is None:
            b.version = version
        elif b.version != version:
            raise DwpError(f"{where}: a DWARF {unit.version} unit cannot join DWARF "
                           f"{'5' if b.version == 5 else '4'} units in one package")
        _check_forms(ctx, unit, where)
        if unit.is_type_unit:
            assert unit.type_signature is not None
            if unit.type_signature in b.tu_seen:
                continue  # the same type, already packaged from an earlier input
            b.tu_seen.add(unit.type_signature)
            b.tu_rows.append((unit.type_signature, _contributions(b, part, unit)))
            continue
        ident = _dwo_id(ctx, unit)
        if ident is None:
            raise DwpError(f"{where}: compile unit without a DWO id")
        if ident in b.cu_from:
            raise DwpError(f"{where}: DWO id 0x{ident:016x} is also that of {b.cu_from[ident]}")
        b.cu_from[ident] = part.path
        b.cu_rows.append((ident, _contributions(b, part, unit)))


def _dwo_id(ctx: DwarfContext, unit: Unit) -> int | None:
    if unit.dwo_id is not None:
        return unit.dwo_id
    ctx.load(unit)
    value = unit.attr(0, 0x2131) if unit.offs else None  # DW_AT_GNU_dwo_id
    forget(unit)
    return value if isinstance(value, int) else None


def _check_forms(ctx: DwarfContext, unit: Unit, where: str) -> None:
    try:
        table = ctx.abbrevs_for(unit)
    except DwarfkitError as e:
        raise DwpError(f"{where}: {e}") from None
    for ab in table.values():
        if any(form in (DW_FORM_strp, DW_FORM_GNU_strp_alt) for _a, form, _i in ab.attrs):
            raise DwpError(f"{where}: uses DW_FORM_strp, whose offset cannot follow the package's merged strings")


def _contributions(b: _Builder, part: _Input, unit: Unit) -> dict[str, tuple[int, int]]:
    """Copy the unit and its contributions (each contribution once per input) into the package."""
    df = part.ctx.file
    size = unit.end - unit.offset
    start = len(b.sections[unit.section])
    b.sections[unit.section] += df.section(unit.section)[unit.offset:unit.end]
    out = {unit.section: (start, size)}
    for name in CONTRIBUTED:
        data = df.section(name)
        if not data:
            continue
        off, length = unit.contributions[name] if unit.contributions and name in unit.contributions else \
            ((0, len(data)) if unit.contributions is None else (0, 0))
        if length == 0:
            continue
        if off + length > len(data):
            raise DwpError(f"{part.path}: the contribution [0x{off:x}, 0x{off + length:x}) to .{name}.dwo runs past "
                           f"its end (0x{len(data):x})")
        key = (id(part), name, off, length)
        if key not in b.copied:
            piece = data[off:off + length]
            if name == "debug_str_offsets":
                piece = _rewrite_offsets(b, part, unit, piece, off)
            b.copied[key] = (len(b.sections[name]), len(piece))
            b.sections[name] += piece
        out[name] = b.copied[key]
    return out


def _rewrite_offsets(b: _Builder, part: _Input, unit: Unit, piece: bytes, at: int) -> bytes:
    """A ``.debug_str_offsets.dwo`` contribution with each entry pointing into the merged strings."""
    order = part.ctx.order
    strings = part.ctx.file.section("debug_str")
    out = bytearray(piece)
    first, size = 0, 4
    if unit.version >= 5:  # header: unit length (4, or 12 for DWARF64), version, padding
        size = 8 if piece[:4] == b"\xff\xff\xff\xff" else 4
        first = 16 if size == 8 else 8
    for pos in range(first, len(piece) - size + 1, size):
        old = int.from_bytes(piece[pos:pos + size], order)
        end = strings.find(b"\0", old) if old < len(strings) else -1
        if end < 0:
            raise DwpError(f"{part.path}: .debug_str_offsets.dwo[0x{at + pos:x}]: string offset 0x{old:x} is past "
                           f"the strings of .debug_str.dwo (0x{len(strings):x})")
        text = strings[old:end]
        new = b.strings.get(text)
        if new is None:
            new = b.strings[text] = len(b.sections["debug_str"])
            b.sections["debug_str"] += text + b"\0"
        if new >= 1 << (8 * size):
            raise DwpError(f"{part.path}: the merged strings are too large for {size}-byte string offsets")
        out[pos:pos + size] = new.to_bytes(size, order)
    return bytes(out)


def _index(rows: list[tuple[int, dict[str, tuple[int, int]]]], version: int) -> bytes:
    """One unit index: header, hash table of signatures, section ids, offsets and sizes (32-bit)."""
    ids = {section: sid for sid, (_name, section) in (COLUMNS_V5 if version == 5 else COLUMNS_V2).items()}
    used = sorted({ids[name] for _sig, contribs in rows for name in contribs if name in ids})
    by_id = {sid: name for name, sid in ids.items()}
    for _sig, contribs in rows:
        for name in contribs:
            if name not in ids:
                raise DwpError(f".{name}.dwo cannot be indexed in a version {version} package")
    slots = 1
    while slots <= 3 * len(rows) // 2:  # the next power of two above 1.5 times the units, as llvm-dwp sizes it
        slots *= 2
    signatures, numbers = [0] * slots, [0] * slots
    mask = slots - 1
    for number, (sig, _contribs) in enumerate(rows, start=1):
        h, step = sig & mask, ((sig >> 32) & mask) | 1
        while numbers[h]:
            h = (h + step) & mask
        signatures[h], numbers[h] = sig, number
    head = struct.pack("<HH", 5, 0) if version == 5 else struct.pack("<I", 2)
    out = bytearray(head + struct.pack("<III", len(used), len(rows), slots))
    out += struct.pack(f"<{slots}Q", *signatures) + struct.pack(f"<{slots}I", *numbers)
    out += struct.pack(f"<{len(used)}I", *used)
    for field_index in (0, 1):
        for _sig, contribs in rows:
            values = [contribs.get(by_id[sid], (0, 0))[field_index] for sid in used]
            if any(v >= 1 << 32 for v in values):
                raise DwpError("a contribution is past 4 GiB, more than a package index can say")
            out += struct.pack(f"<{len(used)}I", *values)
    return bytes(out)


def _elf(b: _Builder, machine: int) -> bytes:
    progbits = ENUM_SH_TYPE_BASE["SHT_PROGBITS"]
    sections = []
    for name in OUTPUT_ORDER:
        data = bytes(b.sections[name])
        if not data:
            continue
        flags = SHF_EXCLUDE | (SH_FLAGS.SHF_MERGE | SH_FLAGS.SHF_STRINGS if name == "debug_str" else 0)
        sections.append(ElfSection(f".{name}.dwo", progbits, flags, data, entsize=1 if name == "debug_str" else 0))
    version = b.version or 5
    for name, rows in (("debug_cu_index", b.cu_rows), ("debug_tu_index", b.tu_rows)):
        if rows:
            sections.append(ElfSection(f".{name}", progbits, 0, _index(rows, version)))
    try:
        return serialize(ElfHeader(machine, ENUM_E_TYPE["ET_REL"]), sections)
    except DwarfkitError as e:
        raise ContainerError(f"cannot lay out the package: {e}") from None
