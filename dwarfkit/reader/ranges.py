"""Address range lists (``.debug_ranges``, ``.debug_rnglists``) and location lists (``.debug_loc``,
``.debug_loclists``), resolved to absolute addresses the way llvm-dwarfdump resolves them."""
from __future__ import annotations

from ..encoding import decode_uleb128 as uleb
from .debugfile import ByteOrder
from .forms import F
from .units import DwarfContext, Unit

# A list is bounded by the bytes it occupies; this caps pathological inputs that repeat empty entries.
MAX_ENTRIES = 1 << 20


def read_offset_table(ctx: DwarfContext, section: str, unit: Unit, base: int | None, index: int) -> int | None:
    """Offset of list ``index`` for a ``DW_FORM_rnglistx``/``loclistx`` attribute (in a package, relative to the
    unit's contribution, as the offsets of its lists are)."""
    data = ctx.file.section(section)
    if base is None:
        base = 12 if unit.offset_size == 4 else 20
    pos = unit.base(section) + base + index * unit.offset_size
    if pos + unit.offset_size > len(data):
        return None
    return base + int.from_bytes(data[pos:pos + unit.offset_size], ctx.order)


def list_offset(ctx: DwarfContext, unit: Unit, form: int, value: int) -> int | None:
    """Where a list attribute's list starts: its value, or for ``rnglistx``/``loclistx`` the entry of the unit's
    offset table (None when the index is past its end)."""
    if form == F["rnglistx"]:
        return read_offset_table(ctx, "debug_rnglists", unit, unit.rnglists_base, value)
    if form == F["loclistx"]:
        return read_offset_table(ctx, "debug_loclists", unit, unit.loclists_base, value)
    return value


def attribute_ranges(ctx: DwarfContext, unit: Unit, form: int, value: int
                     ) -> tuple[int | None, list[tuple[int, int]], str | None]:
    """A DIE's ``DW_AT_ranges``: (the list's offset, its ranges, a problem or None); the offset is None, with no
    ranges, when a ``rnglistx`` index is past the offset table."""
    if not isinstance(value, int):  # a block or data16 where an offset or index belongs
        return None, [], f".{unit.section}[0x{unit.offset:x}]: a DW_AT_ranges value of form 0x{form:x} is not an offset"
    offset = list_offset(ctx, unit, form, value)
    if offset is None:
        return None, [], None
    if form == F["rnglistx"] or unit.version >= 5:
        return (offset, *rnglist(ctx, unit, offset))
    if ctx.file.dwo:  # GNU's DWARF 4 split unit: its ranges are in the skeleton's file, from its ranges base
        if not ctx.file.section("debug_ranges"):
            return offset, [], None
        return (offset, *ranges_v4(ctx, unit, offset + unit.ranges_base))
    return (offset, *ranges_v4(ctx, unit, offset))


def ranges_v4(ctx: DwarfContext, unit: Unit, offset: int) -> tuple[list[tuple[int, int]], str | None]:
    data = ctx.file.section("debug_ranges")
    size = unit.address_size
    base = unit.low_pc
    out: list[tuple[int, int]] = []
    mask = (1 << (8 * size)) - 1
    off = offset
    while True:
        if off + 2 * size > len(data):
            return out, f".debug_ranges[0x{off:x}]: range list at 0x{offset:x} runs past the end of the section"
        start = int.from_bytes(data[off:off + size], ctx.order)
        end = int.from_bytes(data[off + size:off + 2 * size], ctx.order)
        off += 2 * size
        if start == 0 and end == 0:
            return out, None
        if start == mask:
            base = end
            continue
        out.append(((start + base) & mask, (end + base) & mask))


def rnglist(ctx: DwarfContext, unit: Unit, offset: int) -> tuple[list[tuple[int, int]], str | None]:
    data = ctx.file.section("debug_rnglists")
    size = unit.address_size
    base = unit.low_pc
    out: list[tuple[int, int]] = []
    off = offset + unit.base("debug_rnglists")
    order = ctx.order
    try:
        for _ in range(MAX_ENTRIES):
            kind = data[off]
            off += 1
            if kind == 0:
                return out, None
            if kind == 1:  # base_addressx
                i, off = uleb(data, off)
                base = ctx.address_index(unit, i) or 0
            elif kind == 2:  # startx_endx
                a, off = uleb(data, off)
                b, off = uleb(data, off)
                out.append((ctx.address_index(unit, a) or 0, ctx.address_index(unit, b) or 0))
            elif kind == 3:  # startx_length
                a, off = uleb(data, off)
                n, off = uleb(data, off)
                s = ctx.address_index(unit, a) or 0
                out.append((s, s + n))
            elif kind == 4:  # offset_pair
                a, off = uleb(data, off)
                b, off = uleb(data, off)
                out.append((a + base, b + base))
            elif kind == 5:  # base_address
                base = _addr(data, off, size, order)
                off += size
            elif kind == 6:  # start_end
                out.append((_addr(data, off, size, order), _addr(data, off + size, size, order)))
                off += 2 * size
            elif kind == 7:  # start_length
                s = _addr(data, off, size, order)
                off += size
                n, off = uleb(data, off)
                out.append((s, s + n))
            else:
                return out, f".debug_rnglists[0x{off - 1:x}]: unknown range list entry kind 0x{kind:x}"
    except IndexError:
        pass
    return out, f".debug_rnglists[0x{off:x}]: range list at 0x{offset:x} runs past the end of the section"


def _addr(data: bytes, off: int, size: int, order: ByteOrder) -> int:
    if off + size > len(data):
        raise IndexError
    return int.from_bytes(data[off:off + size], order)


def loclist(ctx: DwarfContext, unit: Unit, offset: int,
            v5: bool) -> tuple[list[tuple[tuple[int, int] | None, bytes]], str | None]:
    """Entries of a location list: ((start, end) or None for a default location, expression bytes).

    Returns (entries, problem or None)."""
    section = "debug_loclists" if v5 else "debug_loc"
    data = ctx.file.section(section)
    size = unit.address_size
    order = ctx.order
    base: int | None = unit.low_pc
    out: list[tuple[tuple[int, int] | None, bytes]] = []
    off = offset
    mask = (1 << (8 * size)) - 1
    off += unit.base(section)
    try:
        for _ in range(MAX_ENTRIES):
            if not v5:
                start = _addr(data, off, size, order)
                end = _addr(data, off + size, size, order)
                off += 2 * size
                if start == 0 and end == 0:
                    return out, None
                if start == mask:
                    base = end
                    continue
                n = _addr(data, off, 2, order)
                expr = data[off + 2:off + 2 + n]
                if len(expr) != n:
                    raise IndexError
                off += 2 + n
                out.append((((start + (base or 0)) & mask, (end + (base or 0)) & mask), expr))
                continue
            kind = data[off]
            off += 1
            rng = None
            if kind == 0:
                return out, None
            if kind == 1:
                i, off = uleb(data, off)
                base = ctx.address_index(unit, i)
                continue
            if kind == 6:
                base = _addr(data, off, size, order)
                off += size
                continue
            if kind == 9:  # DW_LLE_GNU_view_pair: the views of the next entry, no location
                _, off = uleb(data, off)
                _, off = uleb(data, off)
                continue
            if kind == 2:
                a, off = uleb(data, off)
                b, off = uleb(data, off)
                rng = (ctx.address_index(unit, a) or 0, ctx.address_index(unit, b) or 0)
            elif kind == 3:
                a, off = uleb(data, off)
                n, off = uleb(data, off)
                s = ctx.address_index(unit, a) or 0
                rng = (s, s + n)
            elif kind == 4:  # offset_pair, by far the most common: one-byte LEB128 fast path
                a = data[off]
                if a < 0x80:
                    off += 1
                else:
                    a, off = uleb(data, off)
                b = data[off]
                if b < 0x80:
                    off += 1
                else:
                    b, off = uleb(data, off)
                rng = (a + (base or 0), b + (base or 0))
            elif kind == 5:
                rng = None
            elif kind == 7:
                s = _addr(data, off, size, order)
                rng = (s, _addr(data, off + size, size, order))
                off += 2 * size
            elif kind == 8:
                s = _addr(data, off, size, order)
                off += size
                n, off = uleb(data, off)
                rng = (s, s + n)
            else:
                return out, f".{section}[0x{off - 1:x}]: unknown location list entry kind 0x{kind:x}"
            n = data[off]
            if n < 0x80:
                off += 1
            else:
                n, off = uleb(data, off)
            expr = data[off:off + n]
            if len(expr) != n:
                raise IndexError
            off += n
            out.append((rng, expr))
    except IndexError:
        pass
    return out, f".{section}[0x{off:x}]: location list at 0x{offset:x} runs past the end of the section"
