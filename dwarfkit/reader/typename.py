"""Type names as llvm-dwarfdump 14 prints them after ``DW_AT_type`` (its DWARFTypePrinter, C++-flavoured)."""
from __future__ import annotations

from collections.abc import Callable, Iterator

from .forms import F
from .names import TAGS
from .units import Unit, Value

T_ARRAY, T_POINTER, T_PTR_TO_MEMBER, T_REFERENCE, T_RVALUE_REF, T_SUBROUTINE = 0x01, 0x0f, 0x1f, 0x10, 0x42, 0x15
T_CONST, T_VOLATILE, T_NAMESPACE, T_UNSPECIFIED, T_SUBRANGE = 0x26, 0x35, 0x39, 0x3b, 0x21
T_FORMAL_PARAM, T_UNSPEC_PARAMS = 0x05, 0x18
A_NAME, A_TYPE, A_LOWER, A_UPPER, A_COUNT, A_CONTAINING, A_LINKAGE, A_MIPS_LINKAGE = 0x03, 0x49, 0x22, 0x2f, 0x37, \
    0x1d, 0x6e, 0x2007
A_SPECIFICATION, A_ABSTRACT_ORIGIN, A_ARTIFICIAL, A_LANGUAGE = 0x47, 0x31, 0x34, 0x13
A_SIGNATURE = 0x69
SCOPE_STOP = {0x11, 0x41, 0x4a, 0x2e, 0x0b}  # compile/type/skeleton unit, subprogram, lexical block
MAX_DEPTH = 64  # type chains in hostile input can be cycles
MAX_STEPS = 2000  # and a DAG of references can branch: bound the work of one name too


def lower_bound_default(language: int | None) -> int | None:
    if language is None:
        return None
    zero = {0x01, 0x02, 0x04, 0x0c, 0x1d, 0x2c, 0x1a, 0x1b, 0x1c, 0x21, 0x22, 0x11, 0x12, 0x15, 0x16, 0x19, 0x1e,
            0x1f, 0x20, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2d, 0x2e, 0x2f, 0x0b,
            0x8001, 0x8e57, 0xb000}
    one = {0x03, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x0e, 0x0f, 0x10, 0x13, 0x17, 0x18}
    if language in zero:
        return 0
    if language in one:
        return 1
    return None


class DieRef:
    """A DIE: its unit and index there."""
    __slots__ = ("unit", "i")

    def __init__(self, unit: Unit, i: int):
        self.unit, self.i = unit, i

    @property
    def tag(self) -> int:
        ab = self.unit.abbs[self.i]
        return ab.tag if ab else 0


class TypePrinter:
    def __init__(self, resolver: Callable[[Unit, int, Value], DieRef | None],
                 string_of: Callable[[Unit, int, Value], str | None]):
        self.resolve = resolver  # (unit, form, value) -> the DIE a reference names
        self.string_of = string_of  # (unit, form, value) -> the string an attribute names
        self.parts: list[str] = []
        self.word = True
        self.depth = 0
        self.steps = 0
        self.max_steps = MAX_STEPS

    # --- helpers ---
    def find(self, d: DieRef, at: int) -> tuple[int, Value] | None:
        return d.unit.attr_form(d.i, at)

    def name(self, d: DieRef) -> str | None:
        fv = self.find(d, A_NAME)
        return self.string_of(d.unit, fv[0], fv[1]) if fv else None

    def ref(self, d: DieRef | None, at: int = A_TYPE) -> DieRef | None:
        if d is None:
            return None
        fv = self.find(d, at)
        if fv is None:
            return None
        target = self.resolve(d.unit, fv[0], fv[1])
        if at == A_TYPE and target is not None:  # a declaration naming its type unit: that unit's type
            sig = self.find(target, A_SIGNATURE)
            if sig is not None and sig[0] == F["ref_sig8"]:
                return self.resolve(target.unit, sig[0], sig[1]) or target
        return target

    def const(self, d: DieRef, at: int) -> int | None:
        fv = self.find(d, at)
        if fv is None or fv[0] not in (F["data1"], F["data2"], F["data4"], F["data8"], F["udata"],
                                        F["implicit_const"]):
            return None
        return fv[1]

    def children(self, d: DieRef) -> Iterator[DieRef]:
        for j in d.unit.children(d.i):
            yield DieRef(d.unit, j)

    def parent(self, d: DieRef) -> DieRef | None:
        p = d.unit.parents[d.i]
        return DieRef(d.unit, p) if p >= 0 else None

    # --- the printer ---
    def qualified(self, d: DieRef | None) -> str:
        self.parts = []
        self.steps = 0
        self.append_qualified_name(d)
        return "".join(self.parts)

    def append_qualified_name(self, d: DieRef | None) -> None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return
            if d is not None:
                self.append_scopes(self.parent(d))
            inner = self.before(d)
            self.after(d, inner)
        finally:
            self.depth -= 1

    def append_qualified_before(self, d: DieRef | None) -> DieRef | None:
        if d is not None:
            self.append_scopes(self.parent(d))
        return self.before(d)

    def append_scopes(self, d: DieRef | None) -> None:
        if d is None or d.tag in SCOPE_STOP or self.depth > MAX_DEPTH or self.steps > self.max_steps:
            return
        self.depth += 1
        try:
            self.append_scopes(self.parent(d))
            inner = self.before(d)
            self.after(d, inner)
            self.parts.append("::")
        finally:
            self.depth -= 1

    def before(self, d: DieRef | None) -> DieRef | None:
        out = self.parts
        self.word = True
        if d is None:
            out.append("void")
            return None
        self.steps += 1
        if self.depth > MAX_DEPTH or self.steps > self.max_steps:
            return None
        self.depth += 1
        try:
            t = d.tag
            inner = None
            if t in (T_POINTER, T_REFERENCE, T_RVALUE_REF):
                inner = self.ref(d)
                self.append_qualified_before(inner)
                if self.word:
                    out.append(" ")
                if self.needs_parens(inner):
                    out.append("(")
                out.append({T_POINTER: "*", T_REFERENCE: "&", T_RVALUE_REF: "&&"}[t])
                self.word = False
            elif t == T_SUBROUTINE:
                inner = self.ref(d)
                self.append_qualified_before(inner)
                if self.word:
                    out.append(" ")
                self.word = False
            elif t == T_ARRAY:
                inner = self.ref(d)
                self.append_qualified_before(inner)
            elif t == T_PTR_TO_MEMBER:
                inner = self.ref(d)
                self.append_qualified_before(inner)
                if self.needs_parens(inner):
                    out.append("(")
                elif self.word:
                    out.append(" ")
                cont = self.ref(d, A_CONTAINING)
                if cont is not None:
                    self.append_qualified_name(cont)
                    out.append("::")
                out.append("*")
                self.word = False
            elif t in (T_CONST, T_VOLATILE):
                self.cv_before(d)
            elif t == T_NAMESPACE:
                out.append(self.name(d) or "(anonymous namespace)")
            elif t == T_UNSPECIFIED:
                name = self.name(d) or ""
                self.word = True
                out.append("std::nullptr_t" if name == "decltype(nullptr)" else name)
            else:
                type_name = self.name(d)
                if type_name is None:
                    out.append(_tag_type_name(t))
                    return None
                self.word = True
                out.append(type_name)
            return inner
        finally:
            self.depth -= 1

    def after(self, d: DieRef | None, inner: DieRef | None) -> None:
        if d is None or self.depth > MAX_DEPTH or self.steps > self.max_steps:
            return
        self.depth += 1
        try:
            t = d.tag
            if t == T_SUBROUTINE:
                self.subroutine_after(d, inner, False)
            elif t == T_ARRAY:
                self.array(d)
            elif t in (T_CONST, T_VOLATILE):
                c, v, ty = self.decompose(d)
                if ty is not None and ty.tag == T_SUBROUTINE:
                    self.subroutine_after(ty, self.ref(ty), False)
                else:
                    self.after(ty, self.ref(ty))
            elif t in (T_PTR_TO_MEMBER, T_REFERENCE, T_RVALUE_REF, T_POINTER):
                if self.needs_parens(inner):
                    self.parts.append(")")
                self.after(inner, self.ref(inner))
        finally:
            self.depth -= 1

    def subroutine_after(self, d: DieRef, inner: DieRef | None, skip_first_artificial: bool) -> None:
        out = self.parts
        out.append("(")
        first = True
        for p in self.children(d):
            if p.tag not in (T_FORMAL_PARAM, T_UNSPEC_PARAMS) or self.steps > self.max_steps:
                break
            if not first:
                out.append(", ")
            first = False
            if p.tag == T_UNSPEC_PARAMS:
                out.append("...")
            else:
                self.append_qualified_name(self.ref(p))
        out.append(")")
        self.after(inner, self.ref(inner))

    def decompose(self, n: DieRef) -> tuple[DieRef | None, DieRef | None, DieRef | None]:
        c = n if n.tag == T_CONST else None
        v = n if n.tag == T_VOLATILE else None
        t = self.ref(n)
        if t is not None:
            if t.tag == T_CONST:
                c, t = t, self.ref(t)
            elif t.tag == T_VOLATILE:
                v, t = t, self.ref(t)
        return c, v, t

    def cv_before(self, n: DieRef) -> None:
        c, v, t = self.decompose(n)
        sub = t is not None and t.tag == T_SUBROUTINE
        a = t
        guard = 0
        while a is not None and a.tag == T_ARRAY and guard < MAX_DEPTH:
            a = self.ref(a)
            guard += 1
        leading = (a is None or a.tag not in (T_POINTER, T_PTR_TO_MEMBER)) and not sub
        if leading:
            if c is not None:
                self.parts.append("const ")
            if v is not None:
                self.parts.append("volatile ")
        self.append_qualified_before(t)
        if not leading and not sub:
            self.word = True
            if c is not None:
                self.parts.append("const")
            if v is not None:
                if c is not None:
                    self.parts.append(" ")
                self.parts.append("volatile")

    def needs_parens(self, d: DieRef | None) -> bool:
        guard = 0
        while d is not None and d.tag in (T_CONST, T_VOLATILE) and guard < MAX_DEPTH:
            d = self.ref(d)
            guard += 1
        return d is not None and d.tag in (T_SUBROUTINE, T_ARRAY)

    def array(self, d: DieRef) -> None:
        out = self.parts
        unit = d.unit
        default_lb = lower_bound_default(unit.language)
        for c in self.children(d):
            if c.tag != T_SUBRANGE:
                continue
            lb, count, ub = self.const(c, A_LOWER), self.const(c, A_COUNT), self.const(c, A_UPPER)
            if default_lb is not None and lb is not None and lb == default_lb:
                lb = None
            if lb is None and count is None and ub is None:
                out.append("[]")
            elif lb is None and count is not None and default_lb is not None:
                out.append(f"[{count}]")
            elif lb is None and ub is not None and default_lb is not None:
                out.append(f"[{ub - default_lb + 1}]")
            else:
                s = "[[" + (str(lb) if lb is not None else "?") + ", "
                if count is not None:
                    s += str(lb + count) if lb is not None else f"? + {count}"
                elif ub is not None:
                    s += str(ub + 1)
                else:
                    s += "?"
                out.append(s + ")]")


def _tag_type_name(tag: int) -> str:
    name = TAGS.get(tag, "")
    if name.startswith("DW_TAG_") and name.endswith("_type"):
        return name[7:-5] + " "
    return ""
