"""Location lists of split units (``.debug_loclists.dwo``, and GNU's DWARF 4 ``.debug_loc.dwo``), entry by entry
with llvm-dwarfdump's resolution: an entry whose addresses cannot be found (a ``.dwo`` read without its skeleton's
``.debug_addr``, or an offset pair with no base address) is shown as it is encoded.

GNU's DWARF 4 ``.debug_loc.dwo`` (gcc -gdwarf-4 -gsplit-dwarf) uses the DWARF 5 entry kinds 0-4 with a 4-byte
length in ``startx_length`` and 2-byte expression lengths. Imports ``units`` (the context) and ``lists_text``
(the entry names and operand layouts).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TextIO

from ..encoding import decode_uleb128 as uleb
from .expr import format_expr
from .lists_text import LLE, MAX_ENTRIES, no_unit_base_type
from .units import DwarfContext, Unit

MASK64 = (1 << 64) - 1
LLE_WIDTH = max(len(n) for n in LLE)  # llvm pads raw entry names to the longest DW_LLE name


@dataclass(frozen=True, slots=True)
class SplitEntry:
    kind: int
    values: tuple[int, ...]
    range: tuple[int, int] | None  # resolved [start, end)
    resolved: bool                 # False: llvm-dwarfdump shows the raw entry
    expr: bytes | None             # None for base addresses and the end of the list

    @property
    def name(self) -> str:
        return LLE[self.kind] if self.kind < len(LLE) else f"DW_LLE_0x{self.kind:x}"


def split_loclist(ctx: DwarfContext, unit: Unit, offset: int) -> tuple[list[SplitEntry], str | None]:
    """The entries of the location list at ``offset`` of a split unit's list section, and a problem or None."""
    entries, problem, _end = _entries(ctx, unit, offset)
    return entries, problem


def _entries(ctx: DwarfContext, unit: Unit, offset: int, resolve: bool = True,
             absolute: bool = False) -> tuple[list[SplitEntry], str | None, int]:
    """(entries, problem or None, the offset after the list's end). ``offset`` is relative to the unit's
    contribution in a package, unless ``absolute``; the end is always absolute."""
    v5 = unit.version >= 5
    section = "debug_loclists" if v5 else "debug_loc"
    data = ctx.file.section(section)
    base: int | None = unit.low_pc if unit.has_low_pc else None
    out: list[SplitEntry] = []
    off = offset if absolute else offset + unit.base(section)
    order = ctx.order

    def fixed(n: int) -> int:
        nonlocal off
        if off + n > len(data):
            raise IndexError
        off += n
        return int.from_bytes(data[off - n:off], order)

    def index(i: int) -> int | None:
        return ctx.address_index(unit, i) if ctx.addr and resolve else None

    try:
        for _ in range(MAX_ENTRIES):
            kind = data[off]
            off += 1
            if kind == 0:
                return out, None, off
            values: tuple[int, ...]
            rng: tuple[int, int] | None = None
            resolved = True
            if kind == 1:  # base_addressx
                i, off = uleb(data, off)
                values = (i,)
                base = index(i)
                resolved = base is not None
                out.append(SplitEntry(kind, values, None, resolved, None))
                continue
            if kind == 6 and v5:  # base_address
                base = fixed(unit.address_size)
                out.append(SplitEntry(kind, (base,), None, True, None))
                continue
            if kind == 2:  # startx_endx
                a, off = uleb(data, off)
                b, off = uleb(data, off)
                values = (a, b)
                start, end = index(a), index(b)
                resolved = start is not None and end is not None
                rng = (start, end) if start is not None and end is not None else None
            elif kind == 3:  # startx_length
                a, off = uleb(data, off)
                if v5:
                    n, off = uleb(data, off)
                else:
                    n = fixed(4)
                values = (a, n)
                start = index(a)
                resolved = start is not None
                rng = (start, (start + n) & MASK64) if start is not None else None
            elif kind == 4:  # offset_pair
                if v5:
                    a, off = uleb(data, off)
                    b, off = uleb(data, off)
                else:
                    a, b = fixed(4), fixed(4)
                values = (a, b)
                resolved = base is not None
                rng = ((base + a) & MASK64, (base + b) & MASK64) if base is not None else None
            elif kind == 5 and v5:  # default_location
                values = ()
            elif kind in (7, 8) and v5:  # start_end, start_length
                s = fixed(unit.address_size)
                if kind == 7:
                    e = fixed(unit.address_size)
                    values = (s, e)
                else:
                    n, off = uleb(data, off)
                    values, e = (s, n), (s + n) & MASK64
                rng = (s, e)
            else:
                return out, f".{section}.dwo[0x{off - 1:x}]: location list entry kind 0x{kind:x} is not supported", off
            if v5:
                n, off = uleb(data, off)
            else:
                n = fixed(2)
            expr = data[off:off + n]
            if len(expr) != n:
                raise IndexError
            off += n
            out.append(SplitEntry(kind, values, rng, resolved, expr))
    except IndexError:
        pass
    return out, f".{section}.dwo[0x{off:x}]: location list at 0x{offset:x} runs past the end of the section", off


def dump_split_loc_text(ctx: DwarfContext, out: TextIO) -> list[str]:
    """GNU's DWARF 4 ``.debug_loc.dwo`` as llvm-dwarfdump prints it: each list's entries as encoded."""
    data = ctx.file.section("debug_loc")
    units = ctx.units("debug_info")
    unit = units[0] if units else None
    if unit is None:
        return []
    w = out.write
    off = 0
    problems: list[str] = []
    first = True
    arch = ctx.file.arch
    while off < len(data):
        entries, problem, end = _entries(ctx, unit, off, resolve=False, absolute=True)
        w(("" if first else "\n") + f"0x{off:08x}: ")
        first = False
        for e in entries:
            w("\n" + " " * 12 + f"{e.name:<{LLE_WIDTH}}(" + ", ".join(f"0x{v:08x}" for v in e.values) + ")")
            if e.expr is not None:
                w(": " + (format_expr(e.expr, arch, unit.address_size, 4, ctx.order, no_unit_base_type) or "<empty>"))
        w("\n")
        if problem:
            problems.append(problem)
            break
        off = end
    return problems


def split_loclist_text(ctx: DwarfContext, unit: Unit, offset: int, depth: int,
                       expression: Callable[[bytes], str]) -> tuple[str, str | None]:
    """A split unit's list as llvm-dwarfdump shows it in a DIE: entries it cannot resolve as encoded, the others
    as ranges; (text, problem or None)."""
    entries, problem = split_loclist(ctx, unit, offset)
    indent = "\n" + " " * (17 + 2 * depth)
    width = 2 + 2 * unit.address_size
    digits = 2 * unit.address_size
    parts = [f"0x{offset:08x}: "]
    for e in entries:
        if not e.resolved:
            parts.append(f"{indent}{e.name:<{LLE_WIDTH}}(" + ", ".join(f"{v:#0{width}x}" for v in e.values) + ")")
        elif e.range is not None:
            parts.append(f"{indent}[0x{e.range[0]:0{digits}x}, 0x{e.range[1]:0{digits}x})")
        elif e.kind == 5:
            parts.append(f"{indent}<default>")
        if e.expr is not None:
            parts.append(": " + expression(e.expr))
    return "".join(parts), problem
