"""Macro units of ``.debug_macro`` (DWARF 5, and GNU version 4 that ``gcc -g3`` writes with DWARF 2-4) and
``.debug_macinfo`` (DWARF 2-4), decoded one unit at an offset.

:func:`parse_macro_unit` reads a ``.debug_macro`` unit: its header (version 4 or 5, ``offset_size_flag``,
``debug_line_offset_flag`` and the line table offset, ``opcode_operands_table``) and its entries up to the
terminating 0: ``define``/``undef`` with an inline string, ``define_strp``/``undef_strp`` (``.debug_str``),
``define_strx``/``undef_strx`` (through the compile unit's ``.debug_str_offsets``, which the caller resolves),
``define_sup``/``undef_sup`` and ``import_sup`` (GNU ``*_alt``: a dwz supplementary file, decoded with the offset and
no text), ``start_file``/``end_file``, ``import`` (GNU ``transparent_include``), and vendor opcodes by the operand
forms the header declares. :func:`parse_macinfo_unit` reads a ``.debug_macinfo`` unit: ``define``/``undef``/
``start_file``/``end_file``/``vendor_ext``.

Every read is bounds-checked: a truncated or malformed unit raises :class:`~dwarfkit.errors.ReadError` naming the
section and the offset. The data is the section as the container reader relocated it (import offsets and string
offsets hold their final values). Imports only the foundations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..encoding import decode_sleb128, decode_uleb128
from ..errors import ReadError
from ..macro_codes import (
    DEFINE,
    DEFINE_STRP,
    DEFINE_STRX,
    DEFINE_SUP,
    END_FILE,
    FIXED_SIZES,
    IMPORT,
    IMPORT_SUP,
    START_FILE,
    UNDEF,
    UNDEF_STRP,
    UNDEF_STRX,
    UNDEF_SUP,
    VENDOR_EXT,
    VENDOR_FORM_NAMES,
)

_STRING_OPS = {DEFINE: ("define", "string"), UNDEF: ("undef", "string"), DEFINE_STRP: ("define", "strp"),
               UNDEF_STRP: ("undef", "strp"), DEFINE_STRX: ("define", "strx"), UNDEF_STRX: ("undef", "strx"),
               DEFINE_SUP: ("define", "sup"), UNDEF_SUP: ("undef", "sup")}
_STANDARD = set(_STRING_OPS) | {START_FILE, END_FILE, IMPORT, IMPORT_SUP}


@dataclass(frozen=True, slots=True)
class MacroEntry:
    """One entry. ``kind``: ``define``, ``undef``, ``start_file``, ``end_file``, ``import``, ``import_sup``,
    ``vendor_ext`` (``.debug_macinfo``) or ``vendor`` (a declared vendor opcode)."""

    offset: int
    """Where the entry's opcode is in the section."""
    opcode: int
    kind: str
    line: int = 0
    """The source line (define, undef, start_file); vendor_ext's constant."""
    text: str | None = None
    """define/undef: ``NAME value`` or ``NAME``; vendor_ext's string. None for a ``sup`` form (another file's)."""
    form: str | None = None
    """define/undef: ``string``, ``strp``, ``strx`` or ``sup``."""
    file: int = 0
    """start_file: the index in the compile unit's line table."""
    target: int = 0
    """import: the imported unit's offset in the section; import_sup: in the supplementary file's; a strp, strx or
    sup operand: the offset or index it holds."""
    operands: tuple = ()
    """vendor: the operands (int, str or bytes) in the order of :attr:`forms`."""
    forms: tuple[str, ...] = ()


@dataclass
class MacroUnitData:
    """A decoded unit: its header (``.debug_macro`` only) and entries. ``end`` is the offset after its 0."""

    section: str
    offset: int
    version: int = 0
    """4 (GNU) or 5 for ``.debug_macro``; 0 for ``.debug_macinfo``."""
    offset_size: int = 4
    line_offset: int | None = None
    opcodes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Vendor opcodes the header declares, with their operand forms by name."""
    entries: list[MacroEntry] = field(default_factory=list)
    end: int = 0


class _Cursor:
    """Bounds-checked reading of one section; errors name the section and the entry's offset."""

    def __init__(self, section: str, data: bytes, pos: int, byteorder: str) -> None:
        self.section, self.data, self.pos, self.order = section, data, pos, byteorder
        self.entry = pos

    def fail(self, what: str) -> ReadError:
        return ReadError(f".{self.section}[0x{self.entry:x}]: {what}")

    def need(self, n: int, what: str) -> None:
        if self.pos + n > len(self.data):
            raise self.fail(f"{what} at 0x{self.pos:x} runs past the end of the section (0x{len(self.data):x})")

    def u(self, n: int, what: str) -> int:
        self.need(n, what)
        value = int.from_bytes(self.data[self.pos:self.pos + n], self.order)  # type: ignore[arg-type]
        self.pos += n
        return value

    def uleb(self, what: str) -> int:
        try:
            value, self.pos = decode_uleb128(self.data, self.pos)
        except IndexError:
            raise self.fail(f"{what} at 0x{self.pos:x} runs past the end of the section "
                            f"(0x{len(self.data):x})") from None
        return value

    def sleb(self, what: str) -> int:
        try:
            value, self.pos = decode_sleb128(self.data, self.pos)
        except IndexError:
            raise self.fail(f"{what} at 0x{self.pos:x} runs past the end of the section "
                            f"(0x{len(self.data):x})") from None
        return value

    def cstr(self, what: str) -> str:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise self.fail(f"{what} at 0x{self.pos:x} has no terminating NUL before the end of the section")
        text = self.data[self.pos:end].decode("utf-8", "surrogateescape")
        self.pos = end + 1
        return text


def _string_at(cur: _Cursor, strings: bytes, offset: int, what: str) -> str:
    end = strings.find(b"\0", offset) if offset < len(strings) else -1
    if end < 0:
        raise cur.fail(f"{what}: .debug_str offset 0x{offset:x} names no string (.debug_str has 0x{len(strings):x} "
                       f"bytes)")
    return strings[offset:end].decode("utf-8", "surrogateescape")


def parse_macro_unit(data: bytes, offset: int, byteorder: str, strings: bytes = b"",
                     strx: Callable[[int], str | None] | None = None, section: str = "debug_macro") -> MacroUnitData:
    """The ``.debug_macro`` unit at ``offset`` of ``data``. ``strings`` is ``.debug_str``; ``strx(index)`` gives the
    string of a ``strx`` entry (through the compile unit's string offsets), None when it has none."""
    cur = _Cursor(section, data, offset, byteorder)
    if not 0 <= offset < len(data):
        raise cur.fail(f"no macro unit: the section has 0x{len(data):x} bytes")
    unit = MacroUnitData(section, offset)
    unit.version = cur.u(2, "the version")
    if unit.version not in (4, 5):
        raise cur.fail(f"macro unit version {unit.version}, not 4 (GNU) or 5")
    flags = cur.u(1, "the flags")
    if flags & ~7:
        raise cur.fail(f"flags 0x{flags:x} has bits other than offset_size, debug_line_offset and opcode_operands")
    unit.offset_size = size = 8 if flags & 1 else 4
    if flags & 2:
        unit.line_offset = cur.u(size, "the debug_line offset")
    if flags & 4:
        for _ in range(cur.u(1, "the opcode_operands_table count")):
            cur.entry = cur.pos
            opcode = cur.u(1, "an opcode_operands_table opcode")
            count = cur.uleb("an operand count")
            cur.need(count, "the operand forms")
            codes = cur.data[cur.pos:cur.pos + count]
            cur.pos += count
            unknown = [c for c in codes if c not in VENDOR_FORM_NAMES]
            if unknown:
                raise cur.fail(f"opcode 0x{opcode:x} declares operand form 0x{unknown[0]:x}, which is not decoded "
                               f"(forms: {', '.join(VENDOR_FORM_NAMES.values())})")
            unit.opcodes[opcode] = tuple(VENDOR_FORM_NAMES[c] for c in codes)
    entries = unit.entries
    while True:
        cur.entry = at = cur.pos
        opcode = cur.u(1, "an opcode")
        if opcode == 0:
            break
        if opcode in unit.opcodes and opcode not in _STANDARD:
            entries.append(_vendor(cur, unit, at, opcode, strings))
        elif opcode in _STRING_OPS:
            kind, form = _STRING_OPS[opcode]
            line = cur.uleb("the line")
            if form == "string":
                entries.append(MacroEntry(at, opcode, kind, line, cur.cstr("the text"), form))
                continue
            if form == "strx":
                index = cur.uleb("the string index")
                text = strx(index) if strx is not None else None
                if text is None:
                    raise cur.fail(f"string index {index} names no string (the unit's .debug_str_offsets)")
                entries.append(MacroEntry(at, opcode, kind, line, text, form, target=index))
                continue
            value = cur.u(size, "the string offset")
            text = _string_at(cur, strings, value, kind) if form == "strp" else None
            entries.append(MacroEntry(at, opcode, kind, line, text, form, target=value))
        elif opcode == START_FILE:
            line = cur.uleb("the line")
            entries.append(MacroEntry(at, opcode, "start_file", line, file=cur.uleb("the file index")))
        elif opcode == END_FILE:
            entries.append(MacroEntry(at, opcode, "end_file"))
        elif opcode in (IMPORT, IMPORT_SUP):
            kind = "import" if opcode == IMPORT else "import_sup"
            entries.append(MacroEntry(at, opcode, kind, target=cur.u(size, "the imported unit's offset")))
        else:
            raise cur.fail(f"opcode 0x{opcode:x} is neither standard nor declared in the unit's "
                           f"opcode_operands_table: the rest of the unit cannot be decoded")
    unit.end = cur.pos
    return unit


def _vendor(cur: _Cursor, unit: MacroUnitData, at: int, opcode: int, strings: bytes) -> MacroEntry:
    forms = unit.opcodes[opcode]
    values: list[int | str | bytes] = []
    for form in forms:
        what = f"a {form} operand of opcode 0x{opcode:x}"
        if form == "udata":
            values.append(cur.uleb(what))
        elif form == "sdata":
            values.append(cur.sleb(what))
        elif form == "string":
            values.append(cur.cstr(what))
        elif form == "strp":
            values.append(_string_at(cur, strings, cur.u(unit.offset_size, what), what))
        elif form == "sec_offset":
            values.append(cur.u(unit.offset_size, what))
        elif form == "block":
            n = cur.uleb(what)
            cur.need(n, what)
            values.append(bytes(cur.data[cur.pos:cur.pos + n]))
            cur.pos += n
        else:
            values.append(cur.u(FIXED_SIZES[form], what))
    return MacroEntry(at, opcode, "vendor", operands=tuple(values), forms=forms)


def parse_macinfo_unit(data: bytes, offset: int, section: str = "debug_macinfo") -> MacroUnitData:
    """The ``.debug_macinfo`` unit at ``offset`` of ``data`` (inline strings, no header)."""
    cur = _Cursor(section, data, offset, "little")
    if not 0 <= offset < len(data):
        raise cur.fail(f"no macro unit: the section has 0x{len(data):x} bytes")
    unit = MacroUnitData(section, offset)
    entries = unit.entries
    while True:
        cur.entry = at = cur.pos
        opcode = cur.u(1, "an opcode")
        if opcode == 0:
            break
        if opcode in (DEFINE, UNDEF):
            line = cur.uleb("the line")
            kind = "define" if opcode == DEFINE else "undef"
            entries.append(MacroEntry(at, opcode, kind, line, cur.cstr("the text"), "string"))
        elif opcode == START_FILE:
            line = cur.uleb("the line")
            entries.append(MacroEntry(at, opcode, "start_file", line, file=cur.uleb("the file index")))
        elif opcode == END_FILE:
            entries.append(MacroEntry(at, opcode, "end_file"))
        elif opcode == VENDOR_EXT:
            constant = cur.uleb("the constant")
            entries.append(MacroEntry(at, opcode, "vendor_ext", constant, cur.cstr("the string")))
        else:
            raise cur.fail(f"opcode 0x{opcode:x} is no DW_MACINFO opcode: the rest of the unit cannot be decoded")
    unit.end = cur.pos
    return unit
