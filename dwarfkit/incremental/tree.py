"""A DIE subtree of the ordinary model as plain JSON, and back: what the journal and the snapshot carry of a function
given as ``Die`` objects (no pickle: the file is decoded as untrusted input).

A tree is ``[tag, [[attribute, form, value], ...], [child, ...]]`` with the form each attribute was encoded with
(the one ``Unit.die`` chose or :func:`~dwarfkit.pin` fixed) and the value by what the form holds:

* a constant, a flag, a plain address: the int (an :class:`~dwarfkit.Address` without a symbol: its offset);
* a string (``string``, ``strp``): ``{"s": text}``;
* an expression or block without relocations, ``data16``: ``{"h": hex}``;
* a reference: ``{"r": [entry, index]}``, the ``index``-th DIE in tree order of the writer's entry ``entry`` ("" for
  the tree itself), or ``{"t": name}`` for a type of the unit's head (``long``, ``pointer``);
* a location list (DWARF 4 ``.debug_loc``): ``{"loc": [[start, length, hex], ...]}``, absolute addresses.

Addresses are absolute, so :func:`shifted` moves a tree with its code and its source lines. Imports the foundations,
``info`` (DIEs, forms) and ``tables`` (lists, offsets); nothing of the writer.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from ..address import Address
from ..encoding import Encoding
from ..errors import DescriptionError
from ..info import forms as F
from ..info.die import Die
from ..names import ATTRIBUTES
from ..tables.lists import LocationList
from ..tables.offsets import SectionOffset

Tree = list[Any]
_STRINGS = {F.STRING, F.STRP}
_BLOCKS = {F.EXPRLOC, F.BLOCK, F.BLOCK1, F.BLOCK2, F.BLOCK4}
_REFS = {F.REF1, F.REF2, F.REF4, F.REF8, F.REF_ADDR}
_DATA = {F.DATA1: 1, F.DATA2: 2, F.DATA4: 4, F.DATA8: 8}
_LINES = {ATTRIBUTES["decl_line"], ATTRIBUTES["call_line"]}
_ENCODING = Encoding(version=4, offset_size=4, address_size=8)


def preorder(root: Die) -> list[Die]:
    """``root`` and its descendants in tree order (the order of a tree's reference indices)."""
    out, stack = [], [root]
    while stack:
        die = stack.pop()
        out.append(die)
        stack.extend(reversed(die.children or ()))
    return out


def to_tree(root: Die, outside: Callable[[Die], Any]) -> Tree:
    """``root``'s subtree as a tree; ``outside(die)`` names a DIE referred to from inside that is not in it (a
    ``{"r": ...}`` or ``{"t": ...}`` value) or raises DescriptionError."""
    index = {id(die): i for i, die in enumerate(preorder(root))}
    strings = root.unit.tables.strings

    def value(die: Die, spec: tuple, stored: Any) -> Any:
        form = spec[1]
        where = f"{die.path()} / attribute {spec[0]:#x}"
        if form in _REFS:
            return {"r": ["", index[id(stored)]]} if id(stored) in index else outside(stored)
        if form == F.STRING:
            return {"s": bytes(stored[:-1]).decode("utf-8", "surrogateescape")}
        if form == F.STRP:
            return {"s": strings.text_at(stored)}
        if form in _BLOCKS:
            data, relocations = stored
            if relocations:
                raise DescriptionError(f"{where}: an expression with symbols or DIE operands cannot be updated in "
                                       f"place yet")
            return {"h": bytes(data).hex()}
        if form == F.DATA16:
            return {"h": bytes(stored).hex()}
        if isinstance(stored, LocationList):
            return {"loc": [_entry(where, e) for e in stored.entries]}
        if isinstance(stored, Address):
            if stored.symbol is not None:
                raise DescriptionError(f"{where}: address {stored} names a symbol; give the address itself")
            return stored.offset
        if isinstance(stored, (int, type(None))):
            return stored
        raise DescriptionError(f"{where}: a value of type {type(stored).__name__} cannot be updated in place yet")

    def walk(die: Die) -> Tree:
        attrs = [[spec[0], spec[1], value(die, spec, stored)] + ([spec[2]] if len(spec) > 2 else [])
                 for spec, stored in zip(die.specs, die.values, strict=True)]
        return [die.tag, attrs, [walk(child) for child in die.children or ()]]
    return walk(root)


def _entry(where: str, entry: Any) -> list[Any]:
    if not isinstance(entry, tuple) or len(entry) != 3:
        raise DescriptionError(f"{where}: location list entries must be (start, length, Expr) here")
    start, length, expr = entry
    if isinstance(start, Address):
        if start.symbol is not None:
            raise DescriptionError(f"{where}: location list start {start} names a symbol; give the address itself")
        start = start.offset
    data, relocations = expr.encode(_ENCODING)
    if relocations:
        raise DescriptionError(f"{where}: a location expression with symbols cannot be updated in place yet")
    return [start, length, bytes(data).hex()]


def dumps(tree: Tree) -> str:
    return json.dumps(tree, separators=(",", ":"))


def loads(text: str) -> Tree:
    tree = json.loads(text)
    if not isinstance(tree, list) or len(tree) != 3:
        raise DescriptionError("a DIE tree must be [tag, attributes, children]")
    return tree


def location_lists(tree: Tree) -> list[list[list[Any]]]:
    """Every location list of the tree, in tree order (each takes the next place in the function's list slot)."""
    out = []
    stack = [tree]
    while stack:
        tag, attrs, children = stack.pop()
        out += [a[2]["loc"] for a in attrs if isinstance(a[2], dict) and "loc" in a[2]]
        stack.extend(reversed(children))
    return out


def list_offsets(tree: Tree, at: int) -> list[int]:
    """Where each of the tree's location lists lies when its lists are laid out one after another from ``at``."""
    out = []
    for entries in location_lists(tree):
        out.append(at)
        at += 16 * (len(entries) + 1) + sum(2 + len(e[2]) // 2 for e in entries)
    return out


def encode_location_list(entries: list[list[Any]]) -> bytes:
    """A DWARF 4 ``.debug_loc`` list of absolute (start, end) pairs (the unit's base address is 0)."""
    out = bytearray()
    for start, length, hexed in entries:
        expr = bytes.fromhex(hexed)
        out += start.to_bytes(8, "little") + (start + length).to_bytes(8, "little")
        out += len(expr).to_bytes(2, "little") + expr
    return bytes(out + bytes(16))


def build(parent: Die, tree: Tree, resolve: Callable[[Any], Die], list_offsets: list[int]) -> Die:
    """The tree's DIEs under ``parent`` (its unit's tables take its strings and attribute lists); ``resolve`` finds
    a DIE named by a ``{"r": [entry, i]}`` of another entry or a ``{"t": name}``; ``list_offsets``: the
    ``.debug_loc`` offset of each of :func:`location_lists`, in order. Raises DescriptionError on a malformed tree."""
    unit = parent.unit
    tables = unit.tables
    made: list[Die] = []
    refs: list[tuple[Die, int, Any]] = []
    lists = iter(list_offsets)

    def stored(form: int, raw: Any) -> Any:
        if isinstance(raw, dict):
            if "s" in raw and form in _STRINGS:
                text = raw["s"]
                return tables.strings.add(text) if form == F.STRP else text.encode() + b"\0"
            if "h" in raw and form in _BLOCKS:
                return tables.intern_block(bytes.fromhex(raw["h"]))
            if "h" in raw and form == F.DATA16:
                return bytes.fromhex(raw["h"])
            if "loc" in raw and form == F.SEC_OFFSET:
                return SectionOffset(".debug_loc", next(lists))
            raise DescriptionError(f"a DIE tree holds {raw!r} for form {form:#x}")
        if isinstance(raw, int) or raw is None:
            return raw
        raise DescriptionError(f"a DIE tree holds {raw!r} for form {form:#x}")

    def make(owner: Die, node: Tree) -> None:
        tag, attrs, children = node
        die = unit._new_die(owner, tag, {})
        made.append(die)
        specs: list[tuple] = []
        values: list[Any] = []
        for attr in attrs:
            at, form, raw = attr[0], attr[1], attr[2]
            specs.append((at, form, attr[3]) if len(attr) > 3 else (at, form))
            if form in _REFS:
                refs.append((die, len(values), raw))
                values.append(None)
            else:
                values.append(stored(form, raw))
        die.specs = tables.intern_specs(specs, die)
        die.values = values
        for child in children:
            make(die, child)

    try:
        make(parent, tree)
        for die, i, raw in refs:
            if isinstance(raw, dict) and raw.get("r", [None])[0] == "":
                die.values[i] = made[raw["r"][1]]
            else:
                die.values[i] = resolve(raw)
    except (TypeError, ValueError, KeyError, IndexError, StopIteration):
        raise DescriptionError("a DIE tree is malformed") from None
    return made[0]


def outside_entries(tree: Tree) -> set[str]:
    """The names of the other entries the tree refers to."""
    out: set[str] = set()
    stack = [tree]
    while stack:
        _, attrs, children = stack.pop()
        out.update(a[2]["r"][0] for a in attrs if isinstance(a[2], dict) and a[2].get("r", [""])[0] != "")
        stack.extend(children)
    return out


def shifted(tree: Tree, address_delta: int, line_delta: int) -> Tree:
    """The tree with every address (``addr`` forms, location list starts) and source line moved by the deltas."""
    def walk(node: Tree) -> Tree:
        tag, attrs, children = node
        out = []
        for attr in attrs:
            at, form, raw = attr[0], attr[1], attr[2]
            if form == F.ADDR and isinstance(raw, int):
                raw += address_delta
            elif at in _LINES and isinstance(raw, int):
                raw += line_delta
                if form in _DATA:  # the smallest that holds the new line, as Unit.die would choose
                    form = next(f for f, size in _DATA.items() if raw < 1 << (8 * size))
            elif isinstance(raw, dict) and "loc" in raw:
                raw = {"loc": [[s + address_delta, n, e] for s, n, e in raw["loc"]]}
            out.append([at, form, raw, *attr[3:]])
        return [tag, out, [walk(c) for c in children]]
    return walk(tree)
