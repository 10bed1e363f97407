"""The Apple accelerator tables lldb reads in dSYMs and Mach-O files: ``.apple_names``, ``.apple_types``,
``.apple_namespaces`` (``__apple_namespac``) and ``.apple_objc``, laid out as dsymutil and clang write them.

Each table: a header (magic ``HASH``, version 1, hash function 0 = ``djb_hash``, bucket and hash counts, the length
of the header data), the header data (DIE offset base 0, the atoms: ``(DW_ATOM_*, DW_FORM_*)``), the buckets (the
number of the first hash in each, or ``0xFFFFFFFF``), one hash per distinct name (by bucket, then hash), the offset of
each name's data, and the data: per name its ``.debug_str`` offset (a SECTION relocation), the count of its DIEs and
their atoms (ordered by DIE offset), a 0 after the last name of each run of equal hashes.

``.apple_names`` holds functions (names and linkage names), inlined subroutines, labels and variables with an
address; ``.apple_types`` named type definitions with ``DW_ATOM_die_tag``, ``DW_ATOM_type_flags`` (0: no Objective-C
implementations here) and ``DW_ATOM_qual_name_hash``, the djb hash of ``::``-joined scopes starting at the unit
(``::ns::S``, as dsymutil computes it); ``.apple_namespaces`` namespaces; ``.apple_objc`` is empty. DIE offsets are
from the start of ``.debug_info``. Only compile units of ``.debug_info`` are indexed (DWARF 2-4 ``.debug_types`` and
type units are not, as dsymutil, which never writes them). Imports the foundations and :mod:`.debug_names`.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..encoding import Encoding
from ..sections import RelocKind, Section
from ..strings import StringTable
from ..writer import SectionWriter
from .debug_names import GDB_ONLY, djb_hash, hashed_names

MAGIC = 0x48415348
DW_ATOM_die_offset, DW_ATOM_die_tag, DW_ATOM_type_flags, DW_ATOM_qual_name_hash = 1, 3, 5, 6
DW_FORM_data1, DW_FORM_data2, DW_FORM_data4 = 0x0b, 0x05, 0x06
_OFFSET_ATOM = ((DW_ATOM_die_offset, DW_FORM_data4),)
_TYPE_ATOMS = ((DW_ATOM_die_offset, DW_FORM_data4), (DW_ATOM_die_tag, DW_FORM_data2),
               (DW_ATOM_type_flags, DW_FORM_data1), (DW_ATOM_qual_name_hash, DW_FORM_data4))
_NAME_TAGS = {0x2e, 0x1d, 0x0a, 0x34, 0x27}   # subprogram, inlined_subroutine, label, variable, constant
TAG_NAMESPACE = 0x39


def apple_sections(encoding: Encoding, units: Sequence[Any], entries: Sequence[Any],
                   strings: StringTable) -> list[Section]:
    """The four tables for ``entries`` (``NameEntry``) of the ``.debug_info`` units among ``units``."""
    names: list[Any] = []
    types: list[Any] = []
    spaces: list[Any] = []
    for entry in entries:
        unit = units[entry.unit]
        if entry.flags & GDB_ONLY or unit.is_type_unit or unit.section != ".debug_info":
            continue
        (spaces if entry.tag == TAG_NAMESPACE else names if entry.tag in _NAME_TAGS else types).append(entry)
    return [_table(".apple_names", encoding, names, _OFFSET_ATOM, strings),
            _table(".apple_types", encoding, types, _TYPE_ATOMS, strings),
            _table(".apple_namespaces", encoding, spaces, _OFFSET_ATOM, strings),
            _table(".apple_objc", encoding, [], _OFFSET_ATOM, strings)]


def _table(section: str, encoding: Encoding, entries: list[Any], atoms: tuple, strings: StringTable) -> Section:
    by_name: dict[str, list[Any]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, []).append(entry)
    order, buckets = hashed_names(list(by_name))
    w = SectionWriter(section, encoding)
    w.u32(MAGIC)
    w.u16(1)
    w.u16(0)                        # djb
    w.u32(buckets)
    w.u32(len(order))
    w.u32(8 + 4 * len(atoms))       # header data: offset base, atom count, atoms
    w.u32(0)
    w.u32(len(atoms))
    for atom, form in atoms:
        w.u16(atom)
        w.u16(form)
    first = [0xFFFFFFFF] * buckets
    for n, (bucket, _, _) in enumerate(order):
        if first[bucket] == 0xFFFFFFFF:
            first[bucket] = n
    for value in first:
        w.u32(value)
    for _, h, _ in order:
        w.u32(h)
    data_start = w.pos + 4 * len(order)
    data = SectionWriter(section, encoding)   # the data part, its relocations moved by data_start below
    offsets = []
    for n, (bucket, h, name) in enumerate(order):
        if n and (order[n - 1][0] != bucket or order[n - 1][1] != h):
            data.u32(0)              # the end of the previous run of equal hashes
        offsets.append(data_start + data.pos)
        data.offset_field(strings.add(name), RelocKind.SECTION, strings.name, 4)
        values = sorted(by_name[name], key=lambda e: e.offset)
        data.u32(len(values))
        for entry in values:
            data.u32(entry.offset)
            if len(atoms) > 1:
                data.u16(entry.tag)
                data.u8(0)
                data.u32(djb_hash(entry.path))
    if order:
        data.u32(0)
    for offset in offsets:
        w.u32(offset)
    base = w.pos
    for r in data.section.relocations:
        w.section.relocations.append(type(r)(r.offset + base, r.size, r.kind, r.target, r.addend))
    w.raw(data.data)
    return w.section
