"""Raw control of a line program (see :mod:`dwarfkit.raw`): header fields written as given, and opcode sequences
given as raw bytes among the encoded ones.

``line.override(...)`` and ``line.raw_sequence(...)`` make the program's :class:`LineOverrides`; its ``emit`` then
goes through :func:`emit` here instead of the ordinary loop. A header field override changes only the bytes of the
header: rows are still encoded with the program's own parameters (``LineProgram(..., line_base=...)`` sets those).
Imports the foundations (``raw``, ``errors``, ``sections``) only.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import DescriptionError, DwarfkitError
from ..raw import Label, Position, field_int, raw_bytes
from ..sections import Relocation, RelocKind

# Field -> (size in bytes, signed); None: the offset size. standard_opcode_lengths is a list of bytes.
LINE_FIELDS: dict[str, tuple[int | None, bool]] = {
    "unit_length": (None, False), "version": (2, False), "address_size": (1, False),
    "segment_selector_size": (1, False), "header_length": (None, False), "minimum_instruction_length": (1, False),
    "maximum_operations_per_instruction": (1, False), "default_is_stmt": (1, False), "line_base": (1, True),
    "line_range": (1, False), "opcode_base": (1, False)}


class LineOverrides:
    """The header fields as given and the raw sequences (bytes, placed before the sequence of that index)."""

    def __init__(self) -> None:
        self.fields: dict[str, int] = {}
        self.standard_opcode_lengths: bytes | None = None
        self.raw: list[tuple[int, bytes, Position | None]] = []

    def set(self, program: Any, fields: dict[str, Any]) -> None:
        version = program.encoding.version
        for name, value in fields.items():
            where = f"line program {program.name!r}: override {name}"
            if name == "standard_opcode_lengths":
                if not isinstance(value, (list, tuple)):
                    raise DescriptionError(f"{where}: {value!r} is not a list of numbers")
                self.standard_opcode_lengths = bytes(field_int(v, 1, f"{where}[{n}]") for n, v in enumerate(value))
                continue
            if name not in LINE_FIELDS:
                known = ", ".join([*LINE_FIELDS, "standard_opcode_lengths"])
                raise DescriptionError(f"{where}: not a line program header field (known: {known})")
            if name in ("address_size", "segment_selector_size") and version < 5 or \
                    name == "maximum_operations_per_instruction" and version < 4:
                raise DescriptionError(f"{where}: a DWARF {version} line program header has no {name}")
            size, signed = LINE_FIELDS[name]
            self.fields[name] = field_int(value, size or program.encoding.offset_size, where, signed)


def emit(program: Any, overrides: LineOverrides, writer: Any, line_str: Any) -> int:
    """:meth:`LineProgram.emit` with the overrides: the header, its fields replaced, the sequences (raw ones where
    they were given), the unit length; returns the program's offset."""
    enc = program.encoding
    data = writer.data
    relocations: list[Relocation] = writer.section.relocations
    first_relocation = len(relocations)
    start = program.emit_header(writer, line_str)
    length_size = 4 if enc.offset_size == 4 else 12
    at = start + length_size + 2 + (2 if enc.version >= 5 else 0)
    positions = {"version": (start + length_size, 2), "address_size": (at - 2, 1),
                 "segment_selector_size": (at - 1, 1), "header_length": (at, enc.offset_size)}
    at += enc.offset_size
    header_start = at
    for name in ("minimum_instruction_length", "maximum_operations_per_instruction", "default_is_stmt", "line_base",
                 "line_range", "opcode_base"):
        if name == "maximum_operations_per_instruction" and enc.version < 4:
            continue
        positions[name] = (at, 1)
        at += 1
    lengths = overrides.standard_opcode_lengths
    if lengths is not None:   # the list as given: what follows it moves
        end = at + program.opcode_base - 1
        delta = len(lengths) - (end - at)
        data[at:end] = lengths
        relocations[first_relocation:] = [replace(r, offset=r.offset + delta) if r.offset >= end else r
                                          for r in relocations[first_relocation:]]
        writer.patch_uint(positions["header_length"][0], len(data) - header_start, enc.offset_size)
    encoder = program._sequence_encoder()
    raw = sorted(overrides.raw, key=lambda item: item[0])
    for index, seq in enumerate([*program.sequences, None]):
        while raw and raw[0][0] <= index:
            _, chunk, position = raw.pop(0)
            if position is not None:
                position.offset = len(data)
            data += chunk
        if seq is None:
            break
        try:
            pos = encoder.encode(seq, data)
        except (TypeError, IndexError, OverflowError):
            raise encoder.bad_rows(seq) from None
        if seq.start.symbol is not None:
            relocations.append(Relocation(pos, enc.address_size, RelocKind.ADDRESS, seq.start.symbol,
                                          seq.start.offset))
    try:
        writer.end_length(start)
    except DwarfkitError:
        pass   # a unit length as given may follow (a huge raw sequence is the caller's choice)
    positions["unit_length"] = (start + length_size - enc.offset_size, enc.offset_size)
    for name, value in overrides.fields.items():
        pos, size = positions[name]
        data[pos:pos + size] = value.to_bytes(size, enc.byteorder, signed=LINE_FIELDS[name][1])
    return start


def raw_sequence(program: Any, overrides: LineOverrides, data: Any, before: int | None,
                 label: Label | None = None) -> None:
    where = f"line program {program.name!r}: raw_sequence"
    index = len(program.sequences) if before is None else field_int(before, None, f"{where} before")
    if label is not None and not isinstance(label, Label):
        raise DescriptionError(f"{where}: label {label!r} is not a dwarfkit.raw.Label")
    position = None
    if label is not None:
        position = Position(".debug_line")
        label.bind(position)
    overrides.raw.append((index, raw_bytes(data, where), position))
