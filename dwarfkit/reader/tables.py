"""Text dumps of the simpler DWARF sections, in llvm-dwarfdump's layout: abbreviations, address ranges and
string tables."""
from __future__ import annotations

import struct
from typing import TextIO

from ..encoding import decode_initial_length
from . import forms, names
from .abbrev import parse_abbrev_table
from .debugfile import ByteOrder
from .errors_text import where
from .forms import F
from .text import escape


def dump_abbrev(data: bytes, out: TextIO, offsets: list[int]) -> list[str]:
    """The abbreviation tables the units use (llvm-dwarfdump lists them by the offsets units name)."""
    problems: list[str] = []
    w = out.write
    for off in sorted(set(offsets)):
        w(f"Abbrev table for offset: 0x{off:08x}\n")
        try:
            table = parse_abbrev_table(data, off)
        except Exception as e:  # noqa: BLE001 - ReadError with section and offset
            problems.append(str(e))
            continue
        for ab in table.values():
            w(f"[{ab.code}] {names.tag_name(ab.tag)}\tDW_CHILDREN_{'yes' if ab.has_children else 'no'}\n")
            for at, form, implicit in ab.attrs:
                w(f"\t{names.attr_name(at)}\t{forms.form_name(form)}" +
                  (f"\t{implicit}" if form == F["implicit_const"] else "") + "\n")
            w("\n")
    return problems


def dump_aranges(data: bytes, order: ByteOrder, out: TextIO) -> list[str]:
    problems: list[str] = []
    e = "<" if order == "little" else ">"
    off = 0
    w = out.write
    while off + 4 <= len(data):
        start = off
        length, osz, off = decode_initial_length(data, off, order)
        end = off + length
        if end > len(data) or length < 4 + osz:
            problems.append(where("debug_aranges", start, f"table length 0x{length:x} runs past the end of the "
                                  f"section (0x{len(data):x})"))
            return problems
        version = struct.unpack_from(e + "H", data, off)[0]
        cu = int.from_bytes(data[off + 2:off + 2 + osz], order)
        asz, ssz = data[off + 2 + osz], data[off + 3 + osz]
        w(f"Address Range Header: length = 0x{length:0{2 * osz}x}, format = {'DWARF64' if osz == 8 else 'DWARF32'}, "
          f"version = 0x{version:04x}, cu_offset = 0x{cu:0{2 * osz}x}, addr_size = 0x{asz:02x}, "
          f"seg_size = 0x{ssz:02x}\n")
        if asz not in (1, 2, 4, 8):
            problems.append(where("debug_aranges", start, f"address size {asz} is invalid"))
            off = end
            continue
        pair = 2 * asz
        header_end = off + 2 + osz + 2
        # Tuples start at a multiple of twice the address size from the start of the set.
        pos = start + ((header_end - start + pair - 1) // pair) * pair
        while pos + pair <= end:
            a = int.from_bytes(data[pos:pos + asz], order)
            n = int.from_bytes(data[pos + asz:pos + pair], order)
            pos += pair
            if a == 0 and n == 0:
                break
            w(f"[0x{a:0{2 * asz}x}, 0x{a + n:0{2 * asz}x})\n")
        off = end
    return problems


def dump_strings(data: bytes, out: TextIO) -> None:
    off = 0
    w = out.write
    while off < len(data):
        end = data.find(b"\0", off)
        if end < 0:
            end = len(data)
        w(f'0x{off:08x}: "{escape(data[off:end].decode("utf-8", "surrogateescape"))}"\n')
        off = end + 1


# GDB index descriptor byte of .debug_gnu_pubnames entries: kind in bits 4-6, static in bit 7.
_GDB_KINDS = ["NONE", "TYPE", "VARIABLE", "FUNCTION", "OTHER", "UNUSED5", "UNUSED6", "UNUSED7"]


def dump_pubnames(section: str, data: bytes, order: ByteOrder, out: TextIO, gnu: bool = False) -> list[str]:
    """``.debug_pubnames``/``.debug_pubtypes``: per unit a header, then (DIE offset, name) pairs; the GNU
    variants (``gnu``) carry a descriptor byte (linkage, kind) before each name."""
    problems: list[str] = []
    off = 0
    w = out.write
    while off + 4 <= len(data):
        start = off
        length, osz, off = decode_initial_length(data, off, order)
        end = off + length
        if end > len(data) or length < 2 + 2 * osz:
            problems.append(where(section, start, f"set length 0x{length:x} runs past the end of the section "
                                                  f"(0x{len(data):x})"))
            return problems
        version = int.from_bytes(data[off:off + 2], order)
        unit = int.from_bytes(data[off + 2:off + 2 + osz], order)
        size = int.from_bytes(data[off + 2 + osz:off + 2 + 2 * osz], order)
        w(f"length = 0x{length:0{2 * osz}x}, format = {'DWARF64' if osz == 8 else 'DWARF32'}, "
          f"version = 0x{version:04x}, unit_offset = 0x{unit:0{2 * osz}x}, unit_size = 0x{size:0{2 * osz}x}\n"
          + ("Offset     Linkage  Kind     Name\n" if gnu else "Offset     Name\n"))
        pos = off + 2 + 2 * osz
        while pos + osz <= end:
            die = int.from_bytes(data[pos:pos + osz], order)
            pos += osz
            if die == 0:
                break
            descriptor = ""
            if gnu and pos < end:
                d = data[pos]
                pos += 1
                descriptor = f"{'STATIC' if d & 0x80 else 'EXTERNAL':<8} {_GDB_KINDS[(d >> 4) & 7]:<8} "
            nul = data.find(b"\0", pos, end)
            if nul < 0:
                problems.append(where(section, pos, "name runs past the end of its set"))
                break
            w(f'0x{die:0{2 * osz}x} {descriptor}"{escape(data[pos:nul].decode("utf-8", "surrogateescape"))}"\n')
            pos = nul + 1
        w("\n")
        off = end
    return problems


def dump_addr(data: bytes, order: ByteOrder, out: TextIO, bare: int = 0) -> list[str]:
    """``.debug_addr`` (DWARF 5): per contribution a header and its addresses; ``bare``: GNU split DWARF 4's table of
    ``bare``-byte addresses without a header."""
    problems: list[str] = []
    off = 0
    w = out.write
    if bare in (1, 2, 4, 8):
        w("Addrs: [\n")
        for pos in range(0, len(data) - bare + 1, bare):
            w(f"0x{int.from_bytes(data[pos:pos + bare], order):0{2 * bare}x}\n")
        w("]\n")
        return problems
    while off + 8 <= len(data):
        start = off
        length, osz, off = decode_initial_length(data, off, order)
        end = off + length
        if end > len(data) or length < 4:
            problems.append(where("debug_addr", start, f"table length 0x{length:x} runs past the end of the "
                                                       f"section (0x{len(data):x})"))
            return problems
        version = int.from_bytes(data[off:off + 2], order)
        asz, ssz = data[off + 2], data[off + 3]
        w(f"Address table header: length = 0x{length:0{2 * osz}x}, format = {'DWARF64' if osz == 8 else 'DWARF32'}, "
          f"version = 0x{version:04x}, addr_size = 0x{asz:02x}, seg_size = 0x{ssz:02x}\nAddrs: [\n")
        if asz in (1, 2, 4, 8):
            for pos in range(off + 4, end - asz + 1, asz):
                w(f"0x{int.from_bytes(data[pos:pos + asz], order):0{2 * asz}x}\n")
        else:
            problems.append(where("debug_addr", start, f"address size {asz} is invalid"))
        w("]\n")
        off = end
    return problems
