"""``dwarfkit describe FILE``: a file's DWARF as a description that ``dwarfkit build`` makes again.

    data = dwarfkit.describe("prog.o")      # the same structure dwarfkit.build takes (docs/description.md)
    dwarfkit.build(data).write("again.o")   # prog.o with the described DWARF: the same DIEs, line rows and frames

A renderer over the loaded model (:func:`dwarfkit.load`): it walks the units, ``Die`` trees, ``Expr`` operations,
list entries, line rows and CIEs/FDEs the loader built and writes each as the description's plain data; it decodes no
bytes of its own. The description names the file (``file: PATH``): code, symbols and every byte that is not DWARF
come from it, and ``build`` writes the described DWARF into a copy of it through the container's rewriter (the path
``dwarfkit convert`` takes), for ELF, Mach-O (dSYM bundles too) and COFF/PE alike. In an object an address is
``symbol+addend`` (the symbol of its relocation), in a linked file a number.

What is written and what is left to ``build``:

* units: ``tag`` for partial and type units (with ``signature`` and ``type``), ``version`` when it is not the
  program's, every root attribute; the program's version, offset size and indexed forms under ``dwarf``;
* DIEs: every attribute by short name (vendor attributes by number), named constants by name (``language: C11``),
  a ``label`` only on DIEs something refers to (attributes, DW_OP operands), forms only where they differ from what
  ``build`` would choose for the value (all of them with ``raw``);
* expressions as operation lists (DIE operands by label, nested entry values as lists, ``addrx``/``constx`` operands
  as the ``{address: ...}`` they index), range and location lists entry by entry with their kinds, GNU location
  views (``views`` beside the entries, ``{views_of: location}`` for ``DW_AT_GNU_locviews``);
* line programs (:mod:`.describe_tables`): header parameters that differ from the defaults, the directory and file
  tables (MD5 included), every row of every sequence; ``.debug_frame`` CIEs and FDEs with their instructions.

``.eh_frame`` is the program's runtime data: the copy keeps the file's own, as ``dwarfkit convert`` does. Imports
the loader and the model; :mod:`.build` reads what this writes (:mod:`.described` holds its part for these keys).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .. import names
from ..address import Address
from ..arch import Arch
from ..errors import DescriptionError, DwarfkitError
from ..expr import Expr
from ..info import classes
from ..info.die import Die
from ..info.forms import choose
from ..info.unit import CompileUnit, PartialUnit, TypeUnit, Unit
from ..program import DwarfBuilder
from ..raw import Raw
from ..reader.container import open_debug_file
from ..tables.list_entries import ListEntry
from ..tables.lists import LocationList, LocationViews, RangeList
from ..tables.macros import MACINFO, MACRO
from .describe_raw import raw_description, raw_value
from .describe_tables import Hex, frames_description, line_description, macro_description

ARGUMENTS = ("name", "comp_dir", "producer", "language")   # build's compile_unit() arguments, in its order
BLOCK_FORMS = {names.FORMS[f] for f in ("block", "block1", "block2", "block4")}
# Expr.tls_address as one operation of a description: its name by the operation that follows the offset.
TLS_OPS = {"form_tls_address": "tls_address", "GNU_push_tls_address": "gnu_tls_address"}
# DW_OP operations whose "u" operand is an index into .debug_addr: described as the address it names.
ADDRESS_INDEX_OPS = {"addrx", "constx", "GNU_addr_index", "GNU_const_index"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


def describe(path: str | os.PathLike[str], *, raw: bool = False) -> dict[str, Any]:
    """The description of the file at ``path`` (ELF, Mach-O or a dSYM bundle, COFF/PE) as plain data (dicts, lists,
    str, int, bool); ``raw``: every attribute's form, not only those ``build`` would not choose by itself.
    DwarfkitError for a file that cannot be read or has no DWARF."""
    return _plain(describe_for_yaml(path, raw=raw))


def describe_for_yaml(path: str | os.PathLike[str], *, raw: bool = False) -> dict[str, Any]:
    """:func:`describe` with the numbers that are addresses, codes and signatures as :class:`Hex` (an int the YAML
    writer prints in hex)."""
    from ..errors import ReadError
    from ..loading import load
    open_debug_file(Path(path))   # a file that cannot be read at all is an error, not a description
    try:
        dw = load(path)
    except ReadError as error:   # DWARF the loader refuses (broken on purpose): its sections' bytes
        described = raw_description(path, str(error).removeprefix(f"{path}: "))
        if described is None:
            raise
        return described
    if not dw.units:
        raise DescriptionError(f"{path}: the file has no DWARF units to describe")
    return Describer(dw, Path(path), raw).run()


class _Ref:
    """A reference to a DIE in the output being made; replaced by the DIE's label once every label is known."""

    __slots__ = ("die",)

    def __init__(self, die: Die) -> None:
        self.die = die


class Describer:
    """One description: the model of one loaded file, rendered."""

    def __init__(self, dw: DwarfBuilder, path: Path, raw: bool) -> None:
        self.dw = dw
        self.path = path
        self.raw = raw
        self.referenced: dict[int, Die] = {}
        self.rendered: dict[int, dict[str, Any]] = {}   # id(die) -> its mapping (a unit's for a root)
        self.order: list[Die] = []
        try:   # what build's line programs take by default (the arch's smallest instruction)
            arch = Arch.parse(dw.source.arch) if dw.source is not None else Arch.X86_64
            self.min_instruction_length = arch.info.min_instruction_length
        except DwarfkitError:
            self.min_instruction_length = 1

    def run(self) -> dict[str, Any]:
        dw = self.dw
        enc = dw.encoding
        options: dict[str, Any] = {"version": enc.version}
        if enc.offset_size != 4:
            options["offset_size"] = enc.offset_size
        if dw.indexed:
            options["indexed"] = True
        top: dict[str, Any] = {"file": str(self.path.resolve()), "dwarf": options}
        # Macro units that compile units import (gcc -g3): labelled, described once at the top.
        imported = [u for table in dw.tables.macros.values() for u in table.units if u.line is None]
        self.macro_labels = {id(u): f"macros{n}" for n, u in enumerate(imported)}
        if imported:
            top["macro_units"] = {self.macro_labels[id(u)]: macro_description(u, self.macro_labels, MACRO)
                                  for u in imported}
        top["units"] = [self.unit(unit) for unit in dw.units]
        if dw.frames is not None and (dw.frames.cies or dw.frames.fdes):
            top["debug_frame"] = frames_description(dw.frames, self.address, self.expression)
        for unit in dw.units:
            if isinstance(unit, TypeUnit) and unit.type_die is not None:
                self.referenced[id(unit.type_die)] = unit.type_die
        labels = self._labels()
        return _resolve(top, labels)

    # -- units and DIEs ---------------------------------------------------------------------------------------------
    def unit(self, unit: Unit) -> dict[str, Any]:
        out: dict[str, Any] = {}
        root = unit.root
        if isinstance(unit, TypeUnit):
            out["tag"] = "type_unit"
            out["signature"] = Hex(unit.signature)
            if unit.type_die is not None:
                out["type"] = _Ref(unit.type_die)
        elif isinstance(unit, PartialUnit):
            out["tag"] = "partial_unit"
        elif root.tag != names.TAGS["compile_unit"]:
            raise DescriptionError(f"{self.path}: {unit.label()}: a compile unit whose root is "
                                   f"{names.tag_name(root.tag)} cannot be described yet")
        if unit.encoding.version != self.dw.encoding.version:
            out["version"] = unit.encoding.version
        if unit.encoding.address_size != self.dw.encoding.address_size:   # a unit of its own address size
            out["address_size"] = unit.encoding.address_size
        self.rendered[id(root)] = out
        self.order.append(root)
        attributes = self.attributes(unit, root)
        if isinstance(unit, CompileUnit):   # in the order build sets them: compile_unit()'s arguments first
            plain = [k for k in ARGUMENTS if k in attributes and not isinstance(attributes[k], dict)]
            attributes = {**{k: attributes[k] for k in plain},
                          **{k: v for k, v in attributes.items() if k not in ARGUMENTS},
                          **{k: attributes[k] for k in ARGUMENTS if k in attributes and k not in plain}}
        out.update(attributes)
        if isinstance(unit, (CompileUnit, TypeUnit)):
            out.update(line_description(unit, self.address, self.min_instruction_length))
        if isinstance(unit, CompileUnit):
            macros = self.dw._macro_units.get(unit)
            if macros is not None:
                default = MACRO if self.dw.encoding.version >= 5 else MACINFO
                out["macros"] = macro_description(macros, self.macro_labels, default)
        out["dies"] = [self.die(unit, child) for child in root.children or ()]
        if not out["dies"]:
            del out["dies"]
        return out

    def die(self, unit: Unit, die: Die) -> dict[str, Any]:
        out: dict[str, Any] = {"tag": names.tag_name(die.tag) if die.tag in names.TAG_NAMES else Hex(die.tag)}
        self.rendered[id(die)] = out
        self.order.append(die)
        out.update(self.attributes(unit, die))
        if die.children:
            out["children"] = [self.die(unit, child) for child in die.children]
        return out

    def attributes(self, unit: Unit, die: Die) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        version = unit.encoding.version
        for spec, stored in zip(die.specs, die.values, strict=True):
            at, form = spec[0], spec[1]
            key: Any = names.attribute_name(at) if at in names.ATTRIBUTE_NAMES else Hex(at)
            kinds = classes.CLASSES[version].get(at, 0)
            if type(stored) is Raw:   # raw control: bytes the writer would not choose (a wrong sibling)
                out[key] = raw_value(stored, form)
                continue
            try:
                if form in BLOCK_FORMS and kinds & (classes.EXPRLOC | classes.LOCLIST):
                    value = die._expression(stored)   # a DWARF 2-3 location: an expression in a block form
                else:
                    value = die.get(at)
                rendered = self.value(at, value, kinds, die)
            except DwarfkitError as error:
                raise DescriptionError(f"{self.path}: {die.path()} / {names.attribute_name(at)}: {error}") from None
            if self.raw or self._chosen(unit, die, at, value) != form:
                form_name = names.form_name(form)[len("DW_FORM_"):]
                rendered = dict(rendered, form=form_name) if isinstance(rendered, dict) and "views_of" in rendered \
                    else {"value": rendered, "form": form_name}
            out[key] = rendered
        return out

    def _chosen(self, unit: Unit, die: Die, at: int, value: Any) -> int | None:
        """The form the writer chooses for ``value`` (what build would write without a form given)."""
        if isinstance(value, (RangeList, LocationList)):
            return None if isinstance(value, LocationViews) else _list_form(unit, value)
        try:
            return choose(unit, die, at, value)[0]
        except DwarfkitError:
            return None

    def value(self, at: int, value: Any, kinds: int, die: Die) -> Any:
        """One attribute value as the description writes it (read back by build's ``_value``)."""
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            table = names.VALUE_TABLES.get(at)
            if table is not None:
                name = next((n for n, v in table.items() if v == value and not n.startswith("DW_")), None)
                if name is not None:
                    return name
            return value
        if isinstance(value, str):
            if kinds & (classes.REFERENCE | classes.ADDRESS) and not kinds & classes.STRING:
                raise DescriptionError(f"text {value!r} in an attribute of class reference or address")
            return value
        if isinstance(value, Die):
            self.referenced[id(value)] = value
            ref = _Ref(value)
            return ref if kinds & classes.REFERENCE and not kinds & classes.STRING else {"ref": ref}
        if isinstance(value, Address):
            address = self.address(value)
            plain = kinds & classes.ADDRESS and not kinds & (classes.STRING | classes.CONSTANT)
            return address if plain and (isinstance(address, str) or kinds == classes.ADDRESS) \
                else {"address": address}
        if isinstance(value, Expr):
            ops = self.expression(value)
            return ops if kinds & (classes.EXPRLOC | classes.LOCLIST) else {"expr": ops}
        if isinstance(value, LocationViews):
            holder = next((s[0] for s in die.specs if die.get(s[0]) is value.of), None)
            if holder is None:
                raise DescriptionError("location views of a list no attribute of the DIE holds")
            return {"views_of": names.attribute_name(holder) if holder in names.ATTRIBUTE_NAMES else holder}
        if isinstance(value, (RangeList, LocationList)):
            listed = self.list_value(value)
            plain = isinstance(value, RangeList) and kinds & classes.RNGLIST and not kinds & classes.EXPRLOC
            return listed["ranges"] if plain else listed
        if isinstance(value, (bytes, bytearray)):
            return {"hex": bytes(value).hex(" ")}
        raise DescriptionError(f"a value of type {type(value).__name__} cannot be described yet")

    def address(self, address: Address) -> str | int:
        """``symbol+addend`` (an object's relocation) or the number (written in hex)."""
        if address.symbol is None:
            return Hex(address.offset)
        if address.offset == 0:
            return address.symbol
        sign = "+" if address.offset > 0 else "-"
        return f"{address.symbol}{sign}{abs(address.offset):#x}"

    def expression(self, expr: Expr) -> list[Any]:
        out: list[Any] = []
        ops = expr._ops
        for n, (code, kinds, values) in enumerate(ops):
            name = _op_name(code)
            if kinds == ("tls",):   # Expr.tls_address: the offset, then the operation that makes it an address
                after = _op_name(ops[n + 1][0]) if n + 1 < len(ops) else None
                if after not in TLS_OPS:
                    raise DescriptionError(f"a thread-local offset ({values[0]}) not followed by "
                                           f"{' or '.join(TLS_OPS)}")
                out.append([TLS_OPS[after], self.address(Address(values[0].symbol, values[0].offset))])
                continue
            if n and ops[n - 1][1] == ("tls",):
                continue   # written with the offset
            if not kinds:
                out.append(name)
                continue
            operands: list[Any] = []
            for kind, value in zip(kinds, values, strict=True):
                if kind in ("addr", "tls"):
                    operands.append(self.address(value))
                elif kind in ("ref", "type", "ref2", "ref4") and isinstance(value, Die):
                    self.referenced[id(value)] = value
                    operands.append(_Ref(value))
                elif kind == "expr":
                    operands.append(self.expression(value))
                elif kind in ("block", "block1"):
                    operands.append(bytes(value).hex(" "))
                elif kind == "u" and name in ADDRESS_INDEX_OPS:
                    operands.append({"address": self.address(self.dw.tables.address_at(value))})
                else:
                    operands.append(value)
            out.append([name, *operands])
        return out

    def list_value(self, lst: RangeList | LocationList) -> dict[str, Any]:
        location = isinstance(lst, LocationList)
        entries: list[Any] = []
        for entry in lst.entries:
            if isinstance(entry, ListEntry):
                item: list[Any] = [entry.kind]
                item += [self.address(o) if isinstance(o, Address) else o for o in entry.operands]
                if entry.expr is not None:
                    item.append(self.expression(entry.expr) if isinstance(entry.expr, Expr)
                                else {"hex": bytes(entry.expr).hex(" ")})
            else:   # (start, length[, expr]) chosen by the writer
                item = [self.address(entry[0]), {"length": entry[1]}]
                if location:
                    item.append(self.expression(entry[2]) if isinstance(entry[2], Expr) else
                                {"hex": bytes(entry[2]).hex(" ")})
            entries.append(item)
        out: dict[str, Any] = {"locations" if location else "ranges": entries}
        if location and lst.views is not None:
            out["views"] = [list(pair) for pair in lst.views]
        return out

    # -- labels -----------------------------------------------------------------------------------------------------
    def _labels(self) -> dict[int, str]:
        """A label for every referenced DIE, in DIE order: its name (``long unsigned int``: ``long_unsigned_int``),
        else its tag, made unique with a number."""
        labels: dict[int, str] = {}
        taken: set[str] = set()
        for die in self.order:
            if id(die) not in self.referenced:
                continue
            base = _NOT_IDENTIFIER.sub("_", die.name or "").strip("_")
            base = base if _IDENTIFIER.match(base) else names.tag_name(die.tag)
            label, n = base, 1
            while label in taken:
                n += 1
                label = f"{base}_{n}"
            taken.add(label)
            labels[id(die)] = label
            mapping = self.rendered.get(id(die))
            if mapping is None:
                raise DescriptionError(f"{self.path}: a reference to {die.path()}, a DIE of no unit")
            items = list(mapping.items())
            at = 1 if items and items[0][0] == "tag" and die.parent is not None else 0
            mapping.clear()
            mapping.update(items[:at] + [("label", label)] + items[at:])
        return labels


def _op_name(code: int) -> str:
    from ..expr import _NAMES
    return _NAMES[code][len("DW_OP_"):]


def _list_form(unit: Unit, lst: RangeList | LocationList) -> int:
    """The form the writer gives a list: an index in DWARF 5 indexed programs, else an offset."""
    version = unit.encoding.version
    if version >= 5 and unit.indexed and lst.views is None:
        return names.FORMS["loclistx" if isinstance(lst, LocationList) else "rnglistx"]
    return names.FORMS["sec_offset"] if version >= 4 else names.FORMS["data4" if unit.encoding.offset_size == 4
                                                                       else "data8"]


def _plain(value: Any) -> Any:
    """``value`` with every :class:`Hex` a plain int (the API's data: ``Address`` and the writer take ints only)."""
    if type(value) is Hex:
        return int(value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _resolve(value: Any, labels: dict[int, str]) -> Any:
    """``value`` with every :class:`_Ref` replaced by its DIE's label."""
    if isinstance(value, _Ref):
        return labels[id(value.die)]
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _resolve(item, labels)
        return value
    if isinstance(value, list):
        for n, item in enumerate(value):
            value[n] = _resolve(item, labels)
    return value
