"""``dwarfkit dump`` text: llvm-dwarfdump's layout, written one unit at a time in large chunks. Per unit, every
abbreviation gets a list of (prefix, formatter) built once: the prefix is the indented attribute name (and form with
--show-form), the formatter turns a decoded value into llvm-dwarfdump's text for it."""
from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable, TextIO

from . import forms, names
from .abbrev import Abbrev
from .die_format import die_formatter
from .expr import format_expr
from .forms import F
from .lines import LineTable, parse_line_table
from .ranges import attribute_ranges, list_offset, loclist
from .split_lists import split_loclist_text
from .typename import DieRef, TypePrinter
from .units import DW_UT, DwarfContext, Unit, Value, cstring, forget

BASE_INDENT = " " * 12
# llvm-dwarfdump's DWARFAttribute::mayHaveLocationList / mayHaveLocationExpr.
LOCLIST_ATTRS = {0x02, 0x0b, 0x0d, 0x19, 0x2a, 0x2f, 0x37, 0x38, 0x40, 0x46, 0x48, 0x4a, 0x4d}
LOCEXPR_ATTRS = LOCLIST_ATTRS | {0x0c, 0x22, 0x2e, 0x4e, 0x4f, 0x50, 0x51, 0x71, 0x7e, 0x7f, 0x83, 0x84, 0x85, 0x86,
                                 0x2111, 0x2113}
A_DECL_FILE, A_CALL_FILE, A_DECL_LINE, A_CALL_LINE, A_HIGH_PC, A_LOW_PC = 0x3a, 0x58, 0x3b, 0x59, 0x12, 0x11
A_TYPE, A_SPECIFICATION, A_ABSTRACT_ORIGIN, A_RANGES = 0x49, 0x47, 0x31, 0x55
A_NAME, A_LINKAGE, A_MIPS_LINKAGE = 0x03, 0x6e, 0x2007
# Types whose printed name is their DW_AT_name when they sit directly in the unit (no scope to qualify).
PLAIN_TYPE_TAGS = {0x24, 0x16, 0x13, 0x17, 0x04, 0x02}  # base, typedef, struct, union, enum, class
MAX_ORIGIN_CHAIN = 64
# DIEs deeper than this are indented as if at this depth: llvm-dwarfdump's indentation of 100,000 nested DIEs
# would make the text quadratic in the input (no compiler nests anywhere near this deep).
MAX_INDENT_DEPTH = 256
# Naming types walks their reference chains (bounded per name by typename.MAX_DEPTH/MAX_STEPS). A file of long
# chains (5,000 subroutine types, each returning the next) would still cost thousands of steps per name: the
# steps of all names are bounded by a budget growing with the DIEs read; past it, names are shortened.
TYPE_STEPS_BASE = 20_000
TYPE_STEPS_PER_DIE = 8
SHORT_TYPE_STEPS = 8


@dataclass
class DumpOptions:
    show_form: bool = False
    verbose: bool = False
    jobs: int | None = None   # -j: worker processes for a large .debug_info (None: one per CPU)
    dwo: bool = False  # each skeleton's split unit after it (llvm-dwarfdump 17's --dwo)


def escape(s: str) -> str:
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return s
    out = []
    for b in s.encode("utf-8", "surrogateescape"):
        c = chr(b)
        if c == "\\":
            out.append("\\\\")
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c == '"':
            out.append('\\"')
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    return "".join(out)


def hex_addr(value: int, size: int) -> str:
    if not isinstance(value, int):  # a block or data16 where an address belongs: show its bytes
        return "<" + " ".join(f"{b:02x}" for b in value) + ">"
    digits = size * 2
    return f"0x{value:0{digits}x}"


# How one (attribute, form) prints: ("fmt", a format string of v and base), ("map", a TextCache) or ("call", a
# function (DIE index, value, depth) -> text).
Description = tuple[str, Any]
ValuePrinter = Callable[[int, Value, int], str]


class TextCache(dict[Value, str]):
    """value -> text, computed once per value by ``make``."""
    __slots__ = ("make",)

    def __init__(self, make: Callable[[Any], str]):
        super().__init__()
        self.make = make

    def __missing__(self, value: Value) -> str:
        text = self[value] = self.make(value)
        return text


class InfoDumper:
    """Formats the DIEs of units. One instance per file; ``dump_unit`` writes one unit."""

    def __init__(self, ctx: DwarfContext, out: TextIO, opts: DumpOptions):
        self.ctx = ctx
        self.out = out
        self.opts = opts
        self.arch = ctx.file.arch
        self.problems: list[str] = []
        self._other_units: dict[int, Unit] = {}
        self._line_tables: dict[int, LineTable] = {}
        self._string_cache: dict[int, dict[int, str]] = {}
        self._expr_cache: dict = {}
        self._type_names: dict[tuple[str, int, int], str] = {}
        # Work spent on type names, and what the units seen so far allow (see TYPE_STEPS_PER_DIE).
        self._type_steps = 0
        self._type_budget = TYPE_STEPS_BASE
        self._budgeted: set[tuple[str, int]] = set()
        self._type_budget_spent = False

    # --- references ----------------------------------------------------------------------------------------
    def die_at(self, unit: Unit, offset: int) -> DieRef | None:
        if unit.die_offset <= offset < unit.end:
            i = unit.die_index(offset)
            return DieRef(unit, i) if i is not None else None
        target = self.ctx.unit_at(offset, unit.section)
        if target is None:
            return None
        if not target.offs:
            self.ctx.load(target)
            # Keep a few other units decoded for references into them; forget the oldest beyond that.
            self._other_units[target.offset] = target
            if len(self._other_units) > 8:
                oldest = next(iter(self._other_units))
                dropped = self._other_units.pop(oldest)
                if dropped is not unit and dropped is not target:
                    forget(dropped)
        i = target.die_index(offset)
        return DieRef(target, i) if i is not None else None

    def resolve(self, unit: Unit, form: int, value: Value) -> DieRef | None:
        if form in forms.UNIT_REFS:
            return self.die_at(unit, unit.offset + value)
        if form == F["ref_addr"]:
            return self.die_at(unit, value)
        if form == F["ref_sig8"]:  # the type DIE of the type unit with this signature
            tu = self.ctx.type_unit(value)
            if tu is not None and tu.type_offset is not None:
                if not tu.offs:
                    self.ctx.load(tu)
                i = tu.die_index(tu.offset + tu.type_offset)
                return DieRef(tu, i) if i is not None else None
        return None

    def string_of(self, unit: Unit, form: int, value: Value) -> str | None:
        return self.ctx.string(unit, form, value)

    def line_table(self, unit: Unit) -> LineTable | None:
        if unit.stmt_list is None:
            return None
        t = self._line_tables.get(unit.stmt_list)
        if t is None:
            if len(self._line_tables) > 64:
                self._line_tables.clear()
            t = parse_line_table(self.ctx.file.section("debug_line"), unit.stmt_list, self.ctx.order,
                                 unit.address_size, self.ctx.str, self.ctx.line_str, rows=False)
            self._line_tables[unit.stmt_list] = t
        return t

    def linkage_name(self, d: DieRef | None,
                     kinds: tuple[tuple[int, ...], ...] = ((A_MIPS_LINKAGE, A_LINKAGE), (A_NAME,))) -> str | None:
        """DWARFDie::getName(LinkageName): linkage name, else name, following specification/abstract_origin."""
        if d is None:
            return None
        for at in kinds:
            seen: set[tuple[int, int]] = set()
            work = [d]
            while work and len(seen) < MAX_ORIGIN_CHAIN:
                cur = work.pop()
                key = (cur.unit.offset, cur.i)
                if key in seen:
                    continue
                seen.add(key)
                for a in at:
                    fv = cur.unit.attr_form(cur.i, a)
                    if fv is not None:
                        s = self.ctx.string(cur.unit, fv[0], fv[1])
                        if s is not None:
                            return s
                for a in (A_SPECIFICATION, A_ABSTRACT_ORIGIN):
                    fv = cur.unit.attr_form(cur.i, a)
                    if fv is not None:
                        r = self.resolve(cur.unit, fv[0], fv[1])
                        if r is not None:
                            work.append(r)
        return None

    def type_name(self, d: DieRef) -> str:
        """The qualified name of type DIE ``d``, computed once per DIE (a chain of N types costs N walks of a
        bounded depth, not N walks of the whole chain)."""
        key = (d.unit.section, d.unit.offset, d.i)
        name = self._type_names.get(key)
        if name is None:
            if len(self._type_names) > 1 << 16:
                self._type_names.clear()
            unit = d.unit
            if (unit.section, unit.offset) not in self._budgeted:
                self._budgeted.add((unit.section, unit.offset))
                self._type_budget += TYPE_STEPS_PER_DIE * len(unit.offs)
            printer = TypePrinter(self.resolve, self.string_of)
            if self._type_steps > self._type_budget:
                printer.max_steps = SHORT_TYPE_STEPS
                if not self._type_budget_spent:
                    self._type_budget_spent = True
                    self.problems.append(f".{unit.section}[0x{d.unit.offs[d.i]:x}]: type references form chains too "
                                         "long to name in full; type names from here on are shortened")
            name = self._type_names[key] = printer.qualified(d)
            self._type_steps += printer.steps
        return name

    # --- one attribute ---------------------------------------------------------------------------------------
    def value_text(self, unit: Unit, i: int, at: int, form: int, v: Value, depth: int) -> str:
        opts = self.opts
        ctx = self.ctx
        if isinstance(v, tuple):  # DW_FORM_indirect
            form, v = v
        if at in (A_DECL_FILE, A_CALL_FILE) and isinstance(v, int) and form in forms.CONSTANTS and form != F["sdata"]:
            t = self.line_table(unit)
            path = t.file_path(v, unit.comp_dir) if t else None
            if path is not None:
                return f'"{path}"'  # llvm-dwarfdump prints file paths unescaped
        elif at in names.VALUE_NAMES and (form in forms.CONSTANTS or form == F["flag"]) and form != F["sdata"]:
            name = names.VALUE_NAMES[at].get(v)
            if name:
                return name
        if at in (A_DECL_LINE, A_CALL_LINE) and form in forms.CONSTANTS and form != F["sdata"]:
            return str(v)
        if at == A_HIGH_PC and not opts.show_form and not opts.verbose and form in forms.CONSTANTS \
                and form != F["sdata"]:
            low = unit.attr_form(i, A_LOW_PC)
            if low is not None:
                lf, lv = low
                if lf in forms.ADDR_INDEX:
                    lv = ctx.address_index(unit, lv)
                if isinstance(lv, int) and isinstance(v, int):
                    return hex_addr((lv + v) & ((1 << 64) - 1), unit.address_size)
        sec_offset = form == F["sec_offset"] or form == F["loclistx"] or \
            (form in (F["data4"], F["data8"]) and unit.version <= 3 and at in forms.LOCLIST_PTR_V2_3)
        if at in LOCLIST_ATTRS and sec_offset:
            return self.location_list(unit, form, v, depth)
        if form == F["exprloc"] or (at in LOCEXPR_ATTRS and form in forms.EXPRESSIONS):
            return self.expression(unit, v)
        text = self.form_text(unit, form, v)
        if at in (A_SPECIFICATION, A_ABSTRACT_ORIGIN):
            name = self.linkage_name(self.resolve(unit, form, v))
            if name is not None:
                text += f' "{escape(name)}"'
        elif at == A_TYPE:
            d = self.resolve(unit, form, v)
            sig = d.unit.attr_form(d.i, 0x69) if d is not None else None  # DW_AT_signature: its type unit's type
            if d is not None and sig is not None and sig[0] == F["ref_sig8"]:
                d = self.resolve(d.unit, sig[0], sig[1]) or d
            if d is not None and d.unit.abbs[d.i] is not None:
                text += ' "' + escape(self.type_name(d)) + '"'
        elif at == A_RANGES:
            text += self.ranges(unit, form, v, depth)
        return text

    def formatter(self, unit: Unit, at: int, form: int) -> Callable[[int, object, int], str]:
        """A function (DIE index, value, depth) -> text for one (attribute, form) in this unit."""
        kind, how = self.describe(unit, at, form)
        if kind == "fmt":  # an f-string body of v and base
            return eval(f"lambda i, v, depth, base={unit.offset}: f{how!r}")  # noqa: S307 - our own template
        if kind == "map":
            return lambda i, v, depth: how[v]
        return how

    def describe(self, unit: Unit, at: int, form: int) -> Description:
        """How to print one (attribute, form) of this unit, for the generated DIE formatters:
        ("fmt", a format string of v and base), ("map", a caching mapping value -> text) or ("call", a function
        (DIE index, value, depth) -> text). Everything uncommon goes through value_text."""
        generic = self.value_text
        opts = self.opts
        call: Description = ("call", lambda i, v, depth: generic(unit, i, at, form, v, depth))

        def cached(make: Callable[[Value], str]) -> Description:
            return "map", TextCache(make)
        if opts.verbose or form == F["indirect"]:
            return call
        if form in (F["strp"], F["line_strp"]) and at not in names.VALUE_NAMES:
            texts = self._string_cache.get(form)
            if texts is None:
                section = self.ctx.str if form == F["strp"] else self.ctx.line_str

                def string(v: int) -> str:
                    s = cstring(section, v)
                    return generic(unit, 0, at, form, v, 0) if s is None else f'"{escape(s)}"'
                texts = self._string_cache[form] = TextCache(string)
            return "map", texts
        if form in forms.UNIT_REFS:
            if at == A_TYPE:
                abbs, vals, parents = unit.abbs, unit.vals, unit.parents
                return cached(lambda v: self._plain_type_name(unit, unit.offset + v, abbs, vals, parents)
                              or generic(unit, 0, at, form, v, 0))
            if at in (A_SPECIFICATION, A_ABSTRACT_ORIGIN):
                return cached(lambda v: generic(unit, 0, at, form, v, 0))
            return "fmt", "0x{base + v:08x}"
        plain_constant = form in (F["data1"], F["data2"], F["udata"], F["implicit_const"]) or \
            (form in (F["data4"], F["data8"]) and (unit.version >= 4 or at not in forms.LOCLIST_PTR_V2_3))
        if at in (A_DECL_FILE, A_CALL_FILE) and form in forms.CONSTANTS and form != F["sdata"]:
            return cached(lambda v: generic(unit, 0, at, form, v, 0))
        if at in (A_DECL_LINE, A_CALL_LINE) and form in (F["data1"], F["data2"], F["data4"], F["udata"]):
            return "fmt", "{v}"
        if at == A_HIGH_PC and form in (F["data1"], F["data2"], F["data4"], F["data8"], F["udata"]) \
                and not opts.show_form:
            return "call", self._high_pc(unit, at, form)
        if at in names.VALUE_NAMES and (plain_constant or form == F["flag"]):
            return cached(lambda v: generic(unit, 0, at, form, v, 0))
        if at == A_RANGES or (at in LOCLIST_ATTRS and not plain_constant and form != F["exprloc"]
                              and form not in forms.EXPRESSIONS):
            return call
        if form == F["exprloc"] or (at in LOCEXPR_ATTRS and form in forms.EXPRESSIONS):
            return cached(lambda v: self.expression(unit, v))
        simple = {F["data1"]: "0x{v:02x}", F["flag"]: "0x{v:02x}", F["data2"]: "0x{v:04x}",
                  F["data4"]: "0x{v:08x}", F["data8"]: "0x{v:016x}", F["ref_sig8"]: "0x{v:016x}",
                  F["sec_offset"]: f"0x{{v:0{2 * unit.offset_size}x}}", F["udata"]: "{v}", F["sdata"]: "{v}",
                  F["implicit_const"]: "{v}", F["addr"]: f"0x{{v:0{2 * unit.address_size}x}}"}.get(form)
        if simple is not None:
            return "fmt", simple
        if form == F["flag_present"]:
            return "fmt", "true"
        return call

    def _high_pc(self, unit: Unit, at: int, form: int) -> ValuePrinter:
        generic = self.value_text
        low_index: dict[int, int | None] = {}  # abbreviation code -> position of DW_AT_low_pc (form addr)
        abbs, vals = unit.abbs, unit.vals
        fmt = f"0x%0{2 * unit.address_size}x"
        mask = (1 << 64) - 1

        def high_pc(i: int, v: int, depth: int) -> str:
            ab, values = abbs[i], vals[i]
            if ab is None or values is None:  # formatters run on DIEs, never on NULL entries
                return generic(unit, i, at, form, v, depth)
            k = low_index.get(ab.code, -1)
            if k == -1:
                k = low_index[ab.code] = next((n for n, (a, f, _c) in enumerate(ab.attrs)
                                               if a == A_LOW_PC and f == F["addr"]), None)
            if k is None:
                return generic(unit, i, at, form, v, depth)
            return fmt % ((values[k] + v) & mask)
        return high_pc

    def _plain_type_name(self, unit: Unit, offset: int, abbs: list[Abbrev | None], vals: list[tuple[Value, ...] | None],
                         parents: list[int]) -> str | None:
        """The common case of a type reference, fast: a named type at the top of its unit is just its name."""
        if not unit.die_offset <= offset < unit.end:
            return None
        j = unit.die_index(offset)
        ab = abbs[j] if j is not None else None
        values = vals[j] if j is not None else None
        if j is None or ab is None or values is None:
            return None
        tag = ab.tag
        if tag in (0x0f, 0x26) and len(ab.attrs) <= 3:  # "T *" and "const T" for a plain named T
            inner = unit.attr_form(j, A_TYPE)
            if inner is None:
                return f'0x{offset:08x} "void *"' if tag == 0x0f and ab.attrs and \
                    all(a != A_TYPE for a, _f, _c in ab.attrs) else None
            if inner[0] not in forms.UNIT_REFS:
                return None
            k = unit.die_index(unit.offset + inner[1])
            if k is None or unit.tag(k) not in PLAIN_TYPE_TAGS or parents[k] != 0:
                return None
            named = self._plain_type_name(unit, unit.offset + inner[1], abbs, vals, parents)
            if named is None:
                return None
            name = named[named.index('"') + 1:-1]
            return f'0x{offset:08x} "{name} *"' if tag == 0x0f else f'0x{offset:08x} "const {name}"'
        if parents[j] != 0 or tag not in PLAIN_TYPE_TAGS:
            return None
        for (a, f, _c), value in zip(ab.attrs, values, strict=True):
            if a == A_NAME:
                s = self.ctx.string(unit, f, value)
                return None if s is None else f'0x{offset:08x} "{escape(s)}"'
        return None

    def base_type(self, unit: Unit, off: int) -> str:
        d = self.die_at(unit, unit.offset + off)
        if d is None or d.tag != 0x24:
            return f" <invalid base_type ref: 0x{off:x}>"
        s = f" (0x{unit.offset + off:08x})"
        fv = d.unit.attr_form(d.i, A_NAME)
        if fv is not None:
            s += f' "{self.ctx.string(d.unit, fv[0], fv[1])}"'
        return s

    def form_text(self, unit: Unit, form: int, v: Value) -> str:
        ctx = self.ctx
        verbose = self.opts.verbose
        if form == F["addr"]:
            return hex_addr(v, unit.address_size)
        if form in forms.ADDR_INDEX:
            a = ctx.address_index(unit, v)
            if a is None:
                return f"indexed ({v:08x}) address = <unresolved>"
            return (f"indexed ({v:08x}) address = " if verbose else "") + hex_addr(a, unit.address_size)
        if form == F["flag_present"]:
            return "true"
        if form in (F["flag"], F["data1"]):
            return f"0x{v:02x}"
        if form == F["data2"]:
            return f"0x{v:04x}"
        if form == F["data4"]:
            return f"0x{v:08x}"
        if form in (F["data8"], F["ref_sig8"], F["ref_addr"]):
            return f"0x{v:016x}"
        if form == F["data16"]:
            return " ".join(f"{b:02x}" for b in v)
        if form == F["string"]:
            return '"' + escape(v.decode("utf-8", "surrogateescape")) + '"'
        if form in forms.EXPRESSIONS:
            n = len(v)
            if not n:
                return ""
            if form in (F["exprloc"], F["block"]):
                head = f"<0x{n:x}> "
            else:
                head = f"<0x{n:0{2 * forms.BLOCKS[form]}x}> "
            return head + "".join(f"{b:02x} " for b in v)
        if form in (F["sdata"], F["implicit_const"], F["udata"]):
            return str(v)
        if form in (F["strp"], F["line_strp"]) or form in forms.STRING_INDEX:
            s = ctx.string(unit, form, v)
            prefix = ""
            if verbose:
                prefix = {F["strp"]: f" .debug_str[0x{v:08x}] = ", F["line_strp"]: f" .debug_line_str[0x{v:08x}] = "
                          }.get(form, f"indexed ({v:08x}) string = ")
            if s is None:
                self.problems.append(f".debug_info: unit 0x{unit.offset:x}: string {form and forms.form_name(form)} "
                                     f"0x{v:x} cannot be found")
                return prefix
            return prefix + '"' + escape(s) + '"'
        if form in forms.UNIT_REFS:
            rel = {F["ref1"]: f"cu + 0x{v:02x}", F["ref2"]: f"cu + 0x{v:04x}", F["ref4"]: f"cu + 0x{v:04x}",
                   F["ref8"]: f"cu + 0x{v:08x}", F["ref_udata"]: f"cu + 0x{v:x}"}[form] if verbose else ""
            target = f"0x{unit.offset + v:08x}"
            return f"{rel} => {{{target}}}" if verbose else target
        if form == F["sec_offset"]:
            return f"0x{v:0{2 * unit.offset_size}x}"
        if form == F["rnglistx"]:
            return f"indexed (0x{v:x}) rangelist = "
        if form == F["loclistx"]:
            return f"indexed (0x{v:x}) loclist = "
        if form in (F["ref_sup4"], F["ref_sup8"], F["strp_sup"], F["GNU_ref_alt"], F["GNU_strp_alt"]):
            return f"0x{v:08x}"
        return f"DW_FORM(0x{form:04x})"

    def ranges(self, unit: Unit, form: int, v: int, depth: int) -> str:
        off, result, problem = attribute_ranges(self.ctx, unit, form, v)
        if problem:
            self.problems.append(problem)
        if off is None:
            return ""
        text = f"0x{off:0{2 * unit.offset_size}x}" if form == F["rnglistx"] else ""
        digits = 2 * unit.address_size
        line = "\n" + " " * (17 + 2 * depth) + f"[0x%0{digits}x, 0x%0{digits}x)"  # hex_addr, twice
        return text + "".join([line % pair for pair in result])

    def location_list(self, unit: Unit, form: int, v: int, depth: int) -> str:
        ctx = self.ctx
        prefix = ""
        if form == F["loclistx"]:
            prefix = f"indexed (0x{v:x}) loclist = "
        off = list_offset(ctx, unit, form, v)
        if off is None:
            return prefix
        v = off
        if ctx.file.dwo:
            listed, trouble = split_loclist_text(ctx, unit, v, depth, lambda e: self.expression(unit, e))
            if trouble:
                self.problems.append(trouble)
            return prefix + listed
        entries, problem = loclist(ctx, unit, v, unit.version >= 5)
        if problem:
            self.problems.append(problem)
        size = unit.address_size
        # One format per entry: "\n<indent>[start, end): " and the expression text (cached per unit).
        line = "\n" + " " * (17 + 2 * depth) + f"[0x%0{2 * size}x, 0x%0{2 * size}x): %s"
        default = "\n" + " " * (17 + 2 * depth) + "<default>: %s"
        self.expression(unit, b"")  # make the expression cache this unit's
        texts = self._expr_cache
        parts = [f"{prefix}0x{v:08x}: "]
        for rng, expr in entries:
            text = texts.get(expr)
            if text is None:
                text = self.expression(unit, expr)
            parts.append(default % text if rng is None else line % (rng[0], rng[1], text))
        return "".join(parts)

    def expression(self, unit: Unit, expr: bytes) -> str:
        cache = self._expr_cache
        if cache.get(None) is not unit:  # one cache per unit: base type references are unit-relative
            cache.clear()
            cache[None] = unit
        text = cache.get(expr)
        if text is None:
            text = cache[expr] = format_expr(expr, self.arch, unit.address_size, unit.offset_size, self.ctx.order,
                                             lambda off: self.base_type(unit, off))
        return text

    # --- units ----------------------------------------------------------------------------------------------
    def unit_header(self, u: Unit) -> str:
        length = f"0x{u.length:0{2 * u.offset_size}x}"
        fmt = "DWARF64" if u.offset_size == 8 else "DWARF32"
        kind = "Type Unit" if u.is_type_unit else "Compile Unit"
        s = f"0x{u.offset:08x}: {kind}: length = {length}, format = {fmt}, version = 0x{u.version:04x}"
        if u.version >= 5:
            s += f", unit_type = {DW_UT.get(u.unit_type, f'0x{u.unit_type:02x}')}"
        s += f", abbr_offset = 0x{u.abbrev_offset:04x}, addr_size = 0x{u.address_size:02x}"
        if u.type_signature is not None:
            s += f", type_signature = 0x{u.type_signature:016x}, type_offset = 0x{u.type_offset:04x}"
        if u.dwo_id is not None:
            s += f", DWO_id = 0x{u.dwo_id:016x}"
        return s + f" (next unit at 0x{u.end:08x})\n"

    def dump_dies(self, u: Unit, indices: Iterable[int]) -> None:
        """Write just these DIEs of a unit (for --name and --lookup), without the unit header."""
        self.ctx.load(u)
        save = self.out
        buf = io.StringIO()
        self.out = buf
        try:
            self.dump_unit(u, set(indices))
        finally:
            self.out = save
        text = buf.getvalue()
        save.write(text[text.index("\n\n") + 2:] if "\n\n" in text else text)

    def _die_layout(self, u: Unit, ab: Abbrev, depth: int, described: dict[tuple[int, int], Description],
                    show_form: bool) -> tuple[str, Callable[..., str], tuple[str | None, ...]]:
        """(text after the offset on the DIE line, DIE formatter, its prefixes and value printers)."""
        ind = BASE_INDENT + "  " * depth + "  "
        parts: list[str | None] = []  # None: the value printer fills this slot
        kinds = []
        for at, fm, _c in ab.attrs:
            d = described.get((at, fm))
            if d is None:
                d = described[at, fm] = self.describe(u, at, fm)
            parts.append(f"{ind}{names.attr_name(at)}" + (f" [{forms.form_name(fm)}]" if show_form else "") + "\t(")
            parts.append(None if d[0] == "fmt" else d[1])
            kinds.append(d[1] if d[0] == "fmt" else d[0])
        head = f": {'  ' * depth}{names.tag_name(ab.tag)}"
        if self.opts.verbose:
            head += f" [{ab.code}] {'*' if ab.has_children else ' '}"
        return head + "\n", die_formatter(tuple(kinds)), tuple(parts)

    def dump_unit(self, u: Unit, only: set[int] | None = None) -> None:
        """Write unit ``u``; with ``only``, just the DIEs whose index is in it (with their subtrees)."""
        self.ctx.load(u)
        out = self.out
        show_form = self.opts.show_form or self.opts.verbose
        verbose = self.opts.verbose
        chunks: list[str] = [self.unit_header(u), "\n"]
        layouts: dict[tuple[int, int], tuple] = {}  # (abbreviation code, depth) -> _die_layout
        described: dict[tuple[int, int], tuple] = {}
        base = u.offset
        offs, abbs, vals, depths, parents = u.offs, u.abbs, u.vals, u.depths, u.parents
        append = chunks.append
        rows: Iterable[tuple[int, int, Abbrev | None, tuple[Value, ...] | None, int]]
        if only is None:
            rows = zip(range(len(offs)), offs, abbs, vals, depths, strict=True)
        else:
            rows = ((i, offs[i], abbs[i], vals[i], depths[i]) for i in sorted(only))
        deep = False
        for i, off, ab, v, depth in rows:
            if depth > MAX_INDENT_DEPTH:  # indentation is capped: output stays linear in the input
                depth = MAX_INDENT_DEPTH
                deep = True
            if ab is None:
                append(f"0x{off:08x}: {'  ' * depth}NULL\n\n")
                if len(chunks) > 8192:  # runs of NULLs are streamed too
                    out.write("".join(chunks))
                    chunks.clear()
                continue
            layout = layouts.get((ab.code, depth))
            if layout is None:
                layout = layouts[ab.code, depth] = self._die_layout(u, ab, depth, described, show_form)
            head, die, parts = layout
            if verbose:  # llvm-dwarfdump -v: abbreviation code, children mark, parent DIE
                p = parents[i]
                head = head[:-1] + (f" (0x{offs[p]:08x})\n" if p >= 0 else "\n")
            append(die(head, parts, i, off, v, depth, base))
            if len(chunks) > 8192:
                out.write("".join(chunks))
                chunks.clear()
        out.write("".join(chunks))
        if deep:
            self.problems.append(f".{u.section}[0x{u.offset:x}]: DIEs nest deeper than {MAX_INDENT_DEPTH} levels; "
                                 "deeper ones are printed at that indentation")
        self.problems.extend(u.problems)
