"""The Apple accelerator tables (``.apple_names``, ``.apple_types``, ``.apple_namespaces``, ``.apple_objc``) in
llvm-dwarfdump-14's layout: the header, the header data (DIE offset base, atoms), then per bucket each hash with the
names whose data its offset points at (``Name@0x..``: string, then per DIE its atoms).

``dump_apple(name, data, order, debug_str, out)`` prints one table and returns findings
(``.apple_names[0xOFFSET]: message``); a table too small for what its header counts is reported and not printed, as
llvm-dwarfdump leaves it out. Every offset read is checked against the section, every count against the bytes left.
"""
from __future__ import annotations

from typing import TextIO

from . import forms, names
from .debugfile import ByteOrder
from .errors_text import where
from .units import cstring

ATOMS = {0: "DW_ATOM_null", 1: "DW_ATOM_die_offset", 2: "DW_ATOM_cu_offset", 3: "DW_ATOM_die_tag",
         5: "DW_ATOM_type_flags", 6: "DW_ATOM_qual_name_hash"}
_SIZES = {0x0b: 1, 0x05: 2, 0x06: 4, 0x07: 8, 0x11: 1, 0x12: 2, 0x13: 4, 0x14: 8, 0x0c: 1}   # data*, ref*, flag
_TAG_ATOM = 3
HEADER_SIZE = 20


def dump_apple(section: str, data: bytes, order: ByteOrder, strings: bytes, out: TextIO) -> list[str]:
    """One Apple table as text; the findings."""
    def u(off: int, size: int) -> int:
        return int.from_bytes(data[off:off + size], order)

    if len(data) < HEADER_SIZE + 8:
        return [where(section, 0, f"table of {len(data)} bytes is shorter than its header")]
    magic, version, function = u(0, 4), u(4, 2), u(6, 2)
    buckets, hashes, header_length = u(8, 4), u(12, 4), u(16, 4)
    atom_count = u(24, 4)
    if HEADER_SIZE + header_length + buckets * 4 + hashes * 8 > len(data) or 8 + atom_count * 4 > header_length:
        return [where(section, 0, f"{buckets} buckets, {hashes} hashes and {header_length} bytes of header data "
                                  f"do not fit the table's {len(data)} bytes")]
    w = out.write
    w(f"Header {{\n  Magic: 0x{magic:X}\n  Version: 0x{version:X}\n  Hash function: 0x{function:X}\n"
      f"  Bucket count: {buckets}\n  Hashes count: {hashes}\n  HeaderData length: {header_length}\n}}\n")
    w(f"DIE offset base: {u(20, 4)}\nNumber of atoms: {atom_count}\nAtoms [\n")
    atoms = []
    for i in range(atom_count):
        atom, form = u(28 + 4 * i, 2), u(30 + 4 * i, 2)
        atoms.append((atom, form))
        w(f"  Atom {i} {{\n    Type: {ATOMS.get(atom, f'DW_ATOM_unknown_0x{atom:x}')}\n"
          f"    Form: {forms.form_name(form)}\n  }}\n")
    w("]\n")
    problems: list[str] = []
    bad_form = next((form for _, form in atoms if form not in _SIZES), None)
    if bad_form is not None:
        return [where(section, 28, f"atom form {forms.form_name(bad_form)} is not a fixed-size constant")]
    hashes_base = HEADER_SIZE + header_length + buckets * 4
    offsets_base = hashes_base + hashes * 4
    for bucket in range(buckets):
        index = u(HEADER_SIZE + header_length + bucket * 4, 4)
        w(f"Bucket {bucket} [\n")
        if index == 0xFFFFFFFF:
            w("  EMPTY\n]\n")
            continue
        for hash_index in range(index, hashes):
            h = u(hashes_base + hash_index * 4, 4)
            if h % buckets != bucket:
                break
            at = u(offsets_base + hash_index * 4, 4)
            w(f"  Hash 0x{h:x} [\n")
            if at >= len(data):
                w("    Invalid section offset\n")
                problems.append(where(section, offsets_base + hash_index * 4,
                                      f"hash 0x{h:x}: data offset 0x{at:x} is past the table's end"))
            else:
                at = _dump_names(section, data, order, strings, atoms, at, out, problems)
            w("  ]\n")
        w("]\n")
    return problems


def _dump_names(section: str, data: bytes, order: ByteOrder, strings: bytes, atoms: list[tuple[int, int]],
                at: int, out: TextIO, problems: list[str]) -> int:
    """The names of one hash, up to the 0 that ends them; returns the offset after it."""
    w = out.write
    record = sum(_SIZES[form] for _, form in atoms)
    while True:
        if at + 4 > len(data):
            w("    Incorrectly terminated list.\n")
            problems.append(where(section, at, "a hash's list of names runs past the table's end"))
            return at
        string = int.from_bytes(data[at:at + 4], order)
        if string == 0:
            return at + 4
        text = cstring(strings, string) if string < len(strings) else None
        w(f"    Name@0x{at:x} {{\n      String: 0x{string:08x} \"{text or ''}\"\n")
        if text is None:
            problems.append(where(section, at, f"string offset 0x{string:x} is outside .debug_str"))
        count = int.from_bytes(data[at + 4:at + 8], order) if at + 8 <= len(data) else 0
        at += 8
        if count * record > len(data) - at:
            problems.append(where(section, at - 4, f"{count} DIEs of {record} bytes do not fit the table"))
            w("    }\n")
            return len(data)
        for n in range(count):
            w(f"      Data {n} [\n")
            for i, (atom, form) in enumerate(atoms):
                size = _SIZES[form]
                value = int.from_bytes(data[at:at + size], order)
                at += size
                text_value = f"0x{value:0{2 * size}x}"
                if atom == _TAG_ATOM:
                    text_value += f" ({names.tag_name(value)})"
                w(f"        Atom[{i}]: {text_value}\n")
            w("      ]\n")
        w("    }\n")
