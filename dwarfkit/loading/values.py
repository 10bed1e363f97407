"""One attribute value as read -> the typed value the writer takes (pass two of :mod:`.dies`).

Strings become text, addresses :class:`~dwarfkit.Address` values (in an object, with the symbol its relocation
names), references the ``Die`` they point at (a type unit's type for ``DW_FORM_ref_sig8``), expressions
:class:`~dwarfkit.Expr` objects with ``Die`` operands, list offsets and indices the list objects of
:mod:`.lists`. While the model keeps the file's encoding each value is pinned to the form it was read with; the
attributes the writer sets itself (``stmt_list``, the DWARF 5 bases, ``sibling``) are left to it.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from .. import names
from ..address import Address
from ..encoding import uleb128
from ..errors import DescriptionError, ReadError
from ..expr import Expr, TlsOffset
from ..expr_decode import decode_expr
from ..info import classes
from ..info.die import Die, Pinned
from ..info.forms import choose as F_choose
from ..info.unit import Unit
from ..program import DwarfBuilder
from ..reader import forms as R
from ..reader.abbrev import Indirect, decoder
from ..reader.units import Unit as ReadUnit
from ..reader.units import cstring
from .lists import ListLoader
from .state import LoadState

F = R.F
A = names.ATTRIBUTES
# Set by the writer from the rest of the program (or, for macros, not loaded yet): never copied.
AUTOMATIC = {A[n] for n in ("sibling", "stmt_list", "str_offsets_base", "addr_base", "rnglists_base", "loclists_base",
                            "GNU_addr_base", "GNU_ranges_base", "macros", "GNU_macros", "macro_info")}
AT_GNU_locviews, AT_location = A["GNU_locviews"], A["location"]
FILE_ATTRIBUTES = {A["decl_file"], A["call_file"]}
LIST_CLASSES = classes.LOCLIST | classes.RNGLIST
EXPR_CLASSES = classes.EXPRLOC | classes.LOCLIST
STRING_FORMS = {F["string"], F["strp"], F["line_strp"]} | R.STRING_INDEX
FOREIGN = {F["ref_sup4"], F["ref_sup8"], F["strp_sup"], F["GNU_ref_alt"], F["GNU_strp_alt"]}
BLOCK_FORMS = {F["block"], F["block1"], F["block2"], F["block4"], F["exprloc"]}
SMALL_REFS = {F["ref1"], F["ref2"]}   # re-chosen: the unit's DIEs may move and no longer fit one or two bytes
_BLOCK_HEADERS = {F["block1"]: 1, F["block2"]: 2, F["block4"]: 4}
# Kinds of the fast path (ValueLoader._fast), by form.
_RAW, _REF, _EXPR, _NONE, _FLAG, _LIST, _REF_ADDR, _STRING, _NAME_STRING, _NAME_STRP, _NAME_LINE_STRP = range(11)
_KINDS = {**{form: _RAW for form in R.CONSTANTS | {F["strp"], F["line_strp"], F["addr"]}},
          **{form: _REF for form in R.UNIT_REFS - {F["ref1"], F["ref2"]}},
          F["exprloc"]: _EXPR, F["flag_present"]: _NONE, F["flag"]: _FLAG, F["sec_offset"]: _LIST,
          F["ref_addr"]: _REF_ADDR, F["string"]: _STRING}
_UNPLANNED = object()
_NO_PLANS: dict[int, Any] = {}
STRX_SIZES = {F["strx1"]: 1, F["strx2"]: 2, F["strx3"]: 3, F["strx4"]: 4}


class ValueLoader:
    """Turns the decoded values of one file's DIEs into attributes of the model's DIEs."""

    def __init__(self, loader: LoadState, dw: DwarfBuilder) -> None:
        self.loader = loader
        self.ctx = loader.ctx
        self.dw = dw
        self.enc = dw.encoding
        self.relocations = loader.df.relocations
        self._blocks: dict[bytes, Any] = {}
        self._exprs: dict[bytes, Expr] = {}
        self.lists = ListLoader(loader, dw, self._exprs)
        # Names by string offset, decoded once: DIEs share names (one str each, not one per DIE); inline strings
        # likewise by their bytes.
        self._names = _Names(self.ctx.str)
        self._line_names = _Names(self.ctx.line_str)
        self._inline = _InlineStrings()

    def keeps(self, unit: ReadUnit, model: Unit) -> bool:
        """Whether ``unit``'s forms are kept: its model unit has its encoding, and keeping was not declined."""
        enc = model.encoding
        return (self.loader.options.keep_forms and unit.version == enc.version and
                unit.offset_size == enc.offset_size)

    def fill_unit(self, unit: ReadUnit, model: Unit) -> None:
        made = self.loader.made[id(model)]
        keep = self.keeps(unit, model)
        info_relocs = self.relocations.get(unit.section)
        data = self.ctx.file.section(unit.section)
        # Kept forms in a linked file: the first DIE of each abbreviation takes the checked path (forms.choose), the
        # others a fill function compiled for its plan (see _plan, _compiled).
        plans: dict[int, Any] = {} if keep and not info_relocs else _NO_PLANS
        env = self._environment(unit, model)
        renamed = self.loader.renames.get(id(unit))
        for i, (die, ab, values) in enumerate(zip(made, unit.abbs, unit.vals, strict=True)):
            if die is None:
                continue
            assert ab is not None and values is not None
            plan = plans.get(ab.code, _UNPLANNED)
            if plan is not _UNPLANNED and plan is not None:
                try:
                    plan[0](die, values, i, plan[1], env)
                except DescriptionError as error:   # from a list or an expression: name the DIE it came from
                    raise ReadError(f"{self.loader.df.path}: .{unit.section}[0x{unit.offs[i]:x}]: {error}") from None
                continue
            fields = self.field_offsets(data, unit, i) if info_relocs else None
            attributes: list[tuple[int, Any]] = []
            for n, ((at, form, _implicit), raw) in enumerate(zip(ab.attrs, values, strict=True)):
                if at in AUTOMATIC:
                    continue
                if renamed is not None:
                    at = renamed.attribute(ab.tag, at)
                field = fields[n] if fields is not None else None
                try:
                    value = self.value(unit, model, die, i, at, form, raw, keep, field)
                except DescriptionError as error:
                    raise self._error(unit, i, at, error) from None
                if value is not None:
                    attributes.append((at, value))
            try:
                model._fill(die, attributes)
            except DescriptionError as error:
                raise ReadError(f"{self.loader.df.path}: .{unit.section}[0x{unit.offs[i]:x}]: {error}") from None
            if plans is not _NO_PLANS and plan is _UNPLANNED:
                made_plan = self._plan(ab, die)
                if made_plan is not _UNPLANNED:
                    plans[ab.code] = made_plan
        del self.loader.made[id(model)]

    def _environment(self, unit: ReadUnit, model: Unit) -> tuple:
        """What a compiled fill function (:func:`_compiled`) needs of the unit, in the order it unpacks it."""
        dies = self.loader.dies

        def bad_reference(i: int, at: int, section: str, offset: int) -> None:
            raise self._error(unit, i, at, DescriptionError(f"refers to .{section}[0x{offset:x}], where no DIE "
                                                            f"starts"))

        # partial: called once per list or expression attribute, a C call where a closure is a Python frame
        attribute_list = partial(self.lists.kept_list, unit, model)
        block = partial(self._block, unit, model)
        return (unit.offset, dies.setdefault(unit.section, {}).get, dies.setdefault("debug_info", {}).get,
                unit.section, self._names, self._line_names, bad_reference, attribute_list, block, self._inline)

    def _error(self, unit: ReadUnit, i: int, at: int, error: Exception) -> ReadError:
        return ReadError(f"{self.loader.df.path}: .{unit.section}[0x{unit.offs[i]:x}]: {names.attribute_name(at)}: "
                         f"{error}")

    def _plan(self, ab: Any, die: Die) -> Any:
        """How the other DIEs of abbreviation ``ab`` are filled: ``(specs, [(value index, kind, attribute)])``,
        _UNPLANNED while the shape is still rare, or None when a value of this shape needs the checked path each
        time (lists of the unit's own choosing, indexed strings and addresses, blocks, a form the writer changed)."""
        wanted = [(n, at, form) for n, (at, form, _c) in enumerate(ab.attrs) if at not in AUTOMATIC]
        if len(wanted) != len(die.specs):
            return None
        steps = []
        for (n, at, form), spec in zip(wanted, die.specs, strict=True):
            if spec[0] != at or spec[1] != form:
                return None
            kind = _KINDS.get(form)
            if kind is None:
                return None
            if at == A["name"] and kind in (_RAW, _STRING):
                kind = _NAME_STRP if form == F["strp"] else _NAME_LINE_STRP if form == F["line_strp"] else \
                    _NAME_STRING if kind == _STRING else kind
            steps.append((n, kind, at, form))
        key = tuple(steps)
        if key not in _COMPILED:   # compiled once the shape has been seen a few times (most shapes are rare)
            uses = _USES[key] = _USES.get(key, 0) + 1
            if uses < COMPILE_AFTER:
                return _UNPLANNED
        return _compiled(key), die.specs

    def _block(self, unit: ReadUnit, model: Unit, die: Die, i: int, at: int, form: int, raw: bytes) -> Any:
        """The stored value of an expression, shared by every DIE with the same bytes when it refers to no DIE."""
        stored = self._blocks.get(raw)
        if stored is None:
            expr = self.expression(unit, bytes(raw), None, die)
            value = Pinned(expr if expr is not None else bytes(raw), form)
            stored = F_choose(model, die, at, value)[1]
            if not stored[1]:   # no DIE operand: the same for every DIE
                self._blocks[raw] = stored
        return stored

    # -- one value --------------------------------------------------------------------------------------------------
    def value(self, unit: ReadUnit, model: Unit, die: Die, i: int, at: int, form: int, raw: Any, keep: bool,
              field: int | None) -> Any:
        """The typed value of one attribute (pinned to ``form`` when ``keep``), or None to leave it out."""
        if form == F["indirect"]:
            assert isinstance(raw, Indirect)
            inner, raw = raw
            value = self.value(unit, model, die, i, at, inner, raw, False, None if field is None else -1)
            if value is None or not keep:
                return value
            return Pinned(value.value if isinstance(value, Pinned) else value, F["indirect"], inner)
        kept: int | None = form if keep else None
        if form in STRING_FORMS:
            text = self.ctx.string(unit, form, raw)
            if text is None:
                raise DescriptionError(f"string of form {R.form_name(form)} (0x{raw:x}) is not in its table")
            if form == F["GNU_str_index"] and not model.tables.gnu_split:
                kept = None   # a GNU split DWARF 4 unit loaded whole: a form of its own
            if form in STRX_SIZES and kept is not None and len(self.dw.tables.str_offsets) >> (8 * STRX_SIZES[form]):
                kept = F["strx"]   # more strings than this unit had: a wider index
            return _pin(text, kept)
        if form == F["addr"]:
            return _pin(self.address(unit.section, field, raw), kept)
        if form in R.ADDR_INDEX:
            # GNU split DWARF 4's GNU_addr_index: chosen again (a GNU split unit indexes its addresses anyway)
            return _pin(self.indexed_address(unit, raw),
                        F["addrx"] if kept is not None and model.encoding.version >= 5 else None)
        if form in R.UNIT_REFS:
            return _pin(self.die_at(unit.section, unit.offset + raw, die), None if form in SMALL_REFS else kept)
        if form == F["ref_addr"]:
            return _pin(self.die_at("debug_info", raw, die), kept)
        if form == F["ref_sig8"]:
            tu = self.loader.type_units.get(raw)
            if tu is not None and tu.type_die is not None:
                return tu.type_die
            return Pinned(raw, form)   # a type unit of another file: the signature as read
        version_classes = classes.CLASSES[min(max(unit.version, 2), 5)].get(at, 0)
        list_form = form in (F["sec_offset"], F["rnglistx"], F["loclistx"]) or \
            form in (F["data4"], F["data8"]) and unit.version < 4 and version_classes & LIST_CLASSES
        if list_form and (version_classes & LIST_CLASSES or at == AT_GNU_locviews):
            made = self.lists.attribute_list(unit, model, i, at, form, raw)
            if made is None:
                return None
            return _pin(made, kept if form != F["rnglistx"] and form != F["loclistx"] or self.dw.indexed else None)
        if form in BLOCK_FORMS:
            if form == F["exprloc"] or version_classes & EXPR_CLASSES:
                if field is not None and field >= 0:   # the expression starts after its length
                    field += _BLOCK_HEADERS.get(form) or len(uleb128(len(raw)))
                expr = self.expression(unit, bytes(raw), field, die)
                if expr is not None:
                    return _pin(expr, kept)
            # A block, or an expression with an operation dwarfkit cannot write: its bytes as read.
            return bytes(raw) if kept is None and form != F["exprloc"] else Pinned(bytes(raw), form)
        if form == F["data16"]:
            return Pinned(bytes(raw), form)
        if form in FOREIGN:
            return Pinned(raw, form)
        if form == F["flag"]:
            return _pin(bool(raw), kept)
        if form == F["flag_present"]:
            return _pin(True, kept)
        if form in R.CONSTANTS:
            if at in FILE_ATTRIBUTES and kept is None:
                raw = self.loader.file_maps.get(id(model), {}).get(raw, raw)
            return _pin(raw, kept)
        raise DescriptionError(f"form {R.form_name(form)} cannot be loaded")

    # -- what values point at ---------------------------------------------------------------------------------------
    def address(self, section: str, field: int | None, raw: int) -> Address:
        """An address field: the symbol of its relocation in an object, else the number."""
        if field is not None and field >= 0:
            ref = self.relocations.get(section, {}).get(field)
            if ref is not None and ref.kind == "address":
                return Address(ref.symbol, ref.addend)
        return Address(None, raw)

    def indexed_address(self, unit: ReadUnit, index: int) -> Address:
        value = self.ctx.address_index(unit, index)
        if value is None:
            raise DescriptionError(f"address index {index} is past the end of .debug_addr")
        base = unit.addr_base if unit.addr_base is not None else 8
        return self.address("debug_addr", base + index * unit.address_size, value)

    def die_at(self, section: str, offset: int, source: Die) -> Die:
        target = self.loader.dies.get(section, {}).get(offset)
        if target is None:
            raise DescriptionError(f"refers to .{section}[0x{offset:x}], where no DIE starts")
        return target

    def expression(self, unit: ReadUnit, data: bytes, field: int | None, source: Die,
                   section: str | None = None) -> Expr | None:
        """The expression in ``data`` (None when it holds an operation dwarfkit cannot write: kept as bytes).
        ``field``: where ``data`` starts in ``section`` (default the unit's), to find relocated operands."""
        section = section or unit.section
        relocs = self.relocations.get(section)
        renamed = self.loader.renames.get(id(unit))
        enc = self.enc
        if unit.address_size != enc.address_size:   # a unit of its own address size: DW_OP_addr is its size
            enc = replace(enc, address_size=unit.address_size)
        shared = relocs is None and renamed is None and enc is self.enc
        if shared:
            cached = self._exprs.get(data)
            if cached is not None:
                return cached
        found_die = False

        def die(kind: str, offset: int) -> Any:
            nonlocal found_die
            found_die = True
            if kind == "type" and offset == 0:
                return 0   # DW_OP_convert 0: the generic type, no DIE
            if kind == "ref":
                return self.die_at("debug_info", offset, source)
            return self.die_at(unit.section, unit.offset + offset, source)

        def relocation(position: int) -> Address | None:
            if relocs is None or field is None or field < 0:
                return None
            ref = relocs.get(field + position)
            if ref is None:
                return None
            if ref.kind == "tls":
                return TlsOffset(ref.symbol, ref.addend)
            return Address(ref.symbol, ref.addend) if ref.kind == "address" else None

        def address_index(index: int) -> Any:
            nonlocal found_die
            found_die = True   # not shared: the index is the program's
            address = self.indexed_address(unit, index)
            if self.loader.models[id(unit)].encoding.version < 5:
                return address   # DW_OP_addr: DWARF 2-4 have no .debug_addr
            self.loader.models[id(unit)].uses_addr = True
            return self.dw.tables.address_index(address)

        try:
            expr = decode_expr(data, enc, die=die, relocation=relocation, address_index=address_index,
                               rename=renamed.ops if renamed is not None else None)
        except DescriptionError as error:
            if "unknown DWARF expression" in str(error):
                return None
            raise
        if shared and not found_die:
            # The same bytes are the same expression everywhere (a linked file: no relocations; no DIE operand):
            # one Expr, shared, as the writer shares one encoded block.
            self._exprs[data] = expr
        return expr

    def field_offsets(self, data: bytes, unit: ReadUnit, i: int) -> list[int]:
        """Where each attribute value of DIE ``i`` starts in its section (objects only: to find relocations)."""
        ab = unit.abbs[i]
        assert ab is not None
        off = unit.offs[i]
        while data[off] & 0x80:   # the abbreviation code
            off += 1
        off += 1
        out = []
        for _at, form, implicit in ab.attrs:
            out.append(-1 if form == F["indirect"] else off)
            off, _ = decoder([form], [implicit], unit.address_size, unit.offset_size, unit.version,
                             self.ctx.order)(data, off)
        return out


class _Names(dict[int, "str | None"]):
    """The text at each offset of a string section, decoded on first use (None past its end)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data

    def __missing__(self, offset: int) -> str | None:
        text = self[offset] = cstring(self.data, offset)
        return text


class _InlineStrings(dict[bytes, tuple[bytes, str]]):
    """A DW_FORM_string's bytes -> (its stored value, with the NUL, and its text), made once per file."""

    def __missing__(self, raw: bytes) -> tuple[bytes, str]:
        raw = bytes(raw)
        made = self[raw] = (raw + b"\0", raw.decode("utf-8", "surrogateescape"))
        return made


def _pin(value: Any, form: int | None) -> Any:
    return value if form is None else Pinned(value, form)


_COMPILED: dict[tuple, Any] = {}
_USES: dict[tuple, int] = {}
COMPILE_AFTER = 8
"""DIEs of one plan filled by the checked path before the plan is compiled (compiling costs as much as that)."""
_FILL_GLOBALS = {"bytes": bytes, "int": int}


def _compiled(steps: tuple[tuple[int, int, int, int], ...]) -> Any:
    """``fill(die, raw, i, specs, env)`` for DIEs of one plan: straight-line code per attribute, shared by every unit
    whose plan has the same steps (``env`` is :meth:`ValueLoader._environment`). Lists are made first: a location
    list takes its GCC view pairs before anything places it in its section."""
    fill = _COMPILED.get(steps)
    if fill is not None:
        return fill
    body = ["    (base, refs, info_refs, section, names, line_names, bad_reference, attribute_list, block,",
            "     inline) = env"]
    for n, kind, at, form in steps:
        if kind == _LIST:
            body.append(f"    v{n} = attribute_list(i, {at}, {form}, raw[{n}])")
    values = []
    for n, kind, at, form in steps:
        v = f"raw[{n}]"
        if kind == _RAW:
            values.append(v)
            continue
        if kind == _REF:
            body += [f"    v{n} = refs(base + {v})", f"    if v{n} is None:",
                     f"        bad_reference(i, {at}, section, base + {v})"]
        elif kind == _REF_ADDR:
            body += [f"    v{n} = info_refs({v})", f"    if v{n} is None:",
                     f"        bad_reference(i, {at}, 'debug_info', {v})"]
        elif kind == _EXPR:
            body.append(f"    v{n} = block(die, i, {at}, {form}, {v})")
        elif kind == _NONE:
            body.append(f"    v{n} = None")
        elif kind == _FLAG:
            body.append(f"    v{n} = int({v})")
        elif kind == _LIST:
            pass   # made first, above
        elif kind == _STRING:
            body.append(f"    v{n} = inline[{v}][0]")
        elif kind == _NAME_STRING:
            body += [f"    v{n} = inline[{v}]", f"    die.name = v{n}[1]", f"    v{n} = v{n}[0]"]
        else:   # a name by offset
            table = "names" if kind == _NAME_STRP else "line_names"
            body += [f"    v{n} = {v}", f"    die.name = {table}[v{n}]"]
        values.append(f"v{n}")
    body += ["    die.specs = specs", f"    die.values = [{', '.join(values)}]"]
    source = "def fill(die, raw, i, specs, env):\n" + "\n".join(body) + "\n"
    namespace = dict(_FILL_GLOBALS)
    exec(compile(source, f"<fill {steps}>", "exec"), namespace)
    fill = _COMPILED[steps] = namespace["fill"]
    return fill
