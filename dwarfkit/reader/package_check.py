"""``verify``'s checks of a DWARF package (``.dwp``): each index row against the sections and units it names.

Per row of ``.debug_cu_index``/``.debug_tu_index``: every contribution inside its section; the unit contribution
starting where a unit starts and as long as it; a compile unit's row signed with its DWO id, a type unit's with its
type signature; no signature twice. (A unit that no row names is reported by ``units.DwarfContext`` as it reads the
package.) Imports ``units`` and ``package``; ``verify`` calls it.
"""
from __future__ import annotations

from .errors_text import where
from .package import IndexRow, UnitIndex
from .units import DwarfContext, Unit, forget

DW_AT_GNU_dwo_id = 0x2131


def package_findings(ctx: DwarfContext) -> list[str]:
    """The findings about a package's indexes (none for a file that is not a package)."""
    if ctx.package is None:
        return []
    findings: list[str] = []
    starts = {(u.section, u.offset): u for s in ("debug_info", "debug_types") for u in ctx.units(s)}
    for index in (ctx.package.cu, ctx.package.tu):
        seen: dict[int, int] = {}
        for row in index.rows:
            at = 16 + 8 * row.slot
            if row.signature in seen:
                findings.append(where(index.section, at, f"signature 0x{row.signature:016x} is in slots "
                                                         f"{seen[row.signature]} and {row.slot}"))
            seen.setdefault(row.signature, row.slot)
            findings += _row_findings(ctx, index, row, at, starts)
    return findings


def _row_findings(ctx: DwarfContext, index: UnitIndex, row: IndexRow, at: int,
                  starts: dict[tuple[str, int], Unit]) -> list[str]:
    out: list[str] = []
    sig = f"row of 0x{row.signature:016x}"
    for name, (off, size) in row.contributions.items():
        length = len(ctx.file.section(name))
        if off + size > length:
            out.append(where(index.section, at, f"{sig}: contribution [0x{off:x}, 0x{off + size:x}) runs past the "
                                                f"end of .{name}.dwo (0x{length:x})"))
    section = "debug_types" if "debug_types" in row.contributions else "debug_info"
    if section not in row.contributions:
        return out
    off, size = row.contributions[section]
    unit = starts.get((section, off))
    if unit is None:
        out.append(where(index.section, at, f"{sig}: no unit starts at .{section}.dwo[0x{off:x}]"))
        return out
    if unit.end - unit.offset != size:
        out.append(where(index.section, at, f"{sig}: contribution to .{section}.dwo is 0x{size:x} bytes, the unit "
                                            f"at 0x{off:x} 0x{unit.end - unit.offset:x}"))
    type_index = index.section == "debug_tu_index"
    if unit.is_type_unit != type_index:
        kind = "type" if unit.is_type_unit else "compile"
        out.append(where(index.section, at, f"{sig}: the unit at .{section}.dwo[0x{off:x}] is a {kind} unit"))
        return out
    if type_index:
        ident = unit.type_signature
    else:
        loaded = bool(unit.offs)
        ident = unit.dwo_id
        if ident is None:
            ctx.load(unit)
            value = unit.attr(0, DW_AT_GNU_dwo_id) if unit.offs else None
            ident = value if isinstance(value, int) else None
            if not loaded:
                forget(unit)
    if ident != row.signature:
        what = "type signature" if type_index else "DWO id"
        shown = "none" if ident is None else f"0x{ident:016x}"
        out.append(where(index.section, at, f"{sig}: the unit at .{section}.dwo[0x{off:x}] has {what} {shown}"))
    return out
