"""``.debug_str_offsets`` in llvm-dwarfdump-14's layout: per unit contribution (found through the units'
``DW_AT_str_offsets_base``, sorted by offset) a header line and its entries with the strings they point at;
bytes no contribution covers are reported as gaps, as llvm-dwarfdump does.

(llvm-dwarfdump-14 knows the contributions only once it has decoded the units, so run alone with
``--debug-str-offsets`` it reports the whole section as one gap; with ``--debug-info`` too it prints what this
module prints. dwarfkit always reads the units.)"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from .errors_text import where
from .units import DwarfContext, forget


@dataclass(frozen=True)
class Contribution:
    header: int     # offset of the length field
    base: int       # offset of the first entry (DW_AT_str_offsets_base)
    size: int       # bytes of entries
    offset_size: int
    version: int

    def entries(self, ctx: DwarfContext) -> list[tuple[int, int, str | None]]:
        """(entry offset, string offset, string or None) for each entry."""
        data, out = ctx.str_offsets, []
        for pos in range(self.base, self.base + self.size - self.offset_size + 1, self.offset_size):
            value = int.from_bytes(data[pos:pos + self.offset_size], ctx.order)
            end = ctx.str.find(b"\0", value) if value < len(ctx.str) else -1
            out.append((pos, value, None if end < 0 else ctx.str[value:end].decode("utf-8", "surrogateescape")))
        return out


def contributions(ctx: DwarfContext) -> tuple[list[Contribution], list[str]]:
    """The distinct contributions the DWARF 5 units name, by offset, and the problems found reading them."""
    data = ctx.str_offsets
    found: set[Contribution] = set()
    problems: list[str] = []
    for unit in ctx.units("debug_info"):
        ctx.load(unit)
        base = unit.str_offsets_base
        osz = unit.offset_size
        forget(unit)
        if base is None or unit.version < 5:
            continue
        header = base - (8 if osz == 4 else 16)
        if header < 0 or base > len(data):
            problems.append(where("debug_str_offsets", max(header, 0), f"unit at 0x{unit.offset:x} names a "
                                  f"contribution at 0x{base:x} outside the section (0x{len(data):x})"))
            continue
        at = header + (4 if osz == 8 else 0)  # past DWARF64's 0xffffffff escape
        length = int.from_bytes(data[at:at + osz], ctx.order)
        version = int.from_bytes(data[base - 4:base - 2], ctx.order)
        if length < 4 or base + length - 4 > len(data):
            problems.append(where("debug_str_offsets", header, f"contribution length 0x{length:x} runs past the end "
                                                               f"of the section (0x{len(data):x})"))
            continue
        found.add(Contribution(header, base, length - 4, osz, version))
    return sorted(found, key=lambda c: (c.base, c.size)), problems


def dump_str_offsets(ctx: DwarfContext, out: TextIO) -> list[str]:
    contribs, problems = contributions(ctx)
    w = out.write
    off = 0
    for c in contribs:
        if off > c.header:
            problems.append(where("debug_str_offsets", c.header, "contribution overlaps the one before it"))
        elif off < c.header:
            w(f"0x{off:08x}: Gap, length = {c.header - off}\n")
        w(f"0x{c.header:08x}: Contribution size = {c.size + 4}, Format = "
          f"{'DWARF64' if c.offset_size == 8 else 'DWARF32'}, Version = {c.version}\n")
        digits = 2 * c.offset_size
        for pos, value, text in c.entries(ctx):
            w(f"0x{pos:08x}: {value:0{digits}x} " + ("" if text is None else f'"{text}"') + "\n")
        off = c.base + c.size
    if off < len(ctx.str_offsets):
        w(f"0x{off:08x}: Gap, length = {len(ctx.str_offsets) - off}\n")
    return problems
