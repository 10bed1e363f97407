"""What the accelerator tables index, collected from the DIEs of each unit once it is laid out.

:class:`NameCollector` walks a unit's DIE tree right after the encoder gave every DIE its offset (and before the tree
is released) and records one :class:`NameEntry` per name a debugger looks up, following the rules DWARF 5 (6.1.1.1)
gives and llvm-dwarfdump's ``--verify`` checks:

- non-defining declarations (``DW_AT_declaration``) are left out, and so are DIEs without a name, except namespaces
  ("(anonymous namespace)"); compile units, modules, parameters (function and template), members, enumerators and
  imported declarations are never indexed;
- subprograms, inlined subroutines and labels only with an address (``low_pc``, ``high_pc``, ``ranges`` or
  ``entry_pc``), variables only with a location expression holding an address (``DW_OP_addr``, ``addrx``,
  ``form_tls_address``, ...); a subprogram or inlined subroutine with a linkage name gets a second entry under it;
- a name, a linkage name, an address and a location are found through ``DW_AT_specification`` and
  ``DW_AT_abstract_origin`` too (an out-of-line definition, a concrete inlined instance).

Enumerators and abstract inline functions are recorded for ``.gdb_index`` only (gdb's own index lists them).
Each entry keeps its qualified name (``ns::S``) for gdb's C++ names and the Apple tables' qualified hash, whether it
is external (gdb's static bit) and its nearest indexed ancestor (``DW_IDX_parent``). Imports :mod:`.die` and the
foundations.
"""
from __future__ import annotations

from typing import Any

from .. import names
from .die import Die

_AT = names.ATTRIBUTES
_T = names.TAGS
AT_NAME, AT_LINKAGE, AT_MIPS_LINKAGE = _AT["name"], _AT["linkage_name"], _AT["MIPS_linkage_name"]
AT_SPEC, AT_ORIGIN, AT_DECL, AT_EXTERNAL = _AT["specification"], _AT["abstract_origin"], _AT["declaration"], \
    _AT["external"]
AT_LOCATION, AT_INLINE, AT_LANGUAGE = _AT["location"], _AT["inline"], _AT["language"]
_ADDRESS_ATS = {_AT["low_pc"], _AT["high_pc"], _AT["ranges"], _AT["entry_pc"]}
_NEVER = {_T[t] for t in ("compile_unit", "type_unit", "partial_unit", "module", "formal_parameter",
                          "template_value_param", "template_type_param", "GNU_template_parameter_pack",
                          "GNU_template_template_param", "member", "imported_declaration")}
TAG_SUBPROGRAM, TAG_INLINED, TAG_LABEL, TAG_VARIABLE = _T["subprogram"], _T["inlined_subroutine"], _T["label"], \
    _T["variable"]
TAG_NAMESPACE, TAG_ENUMERATOR, TAG_CONSTANT = _T["namespace"], _T["enumerator"], _T["constant"]
_CODE = {_T["subprogram"], _T["inlined_subroutine"], _T["label"]}
# Scopes whose name qualifies what they hold (C++): namespaces and the aggregate types (not enumerations: gdb names
# an unscoped enumerator without its type).
_SCOPES = {_T[t] for t in ("namespace", "structure_type", "class_type", "union_type")}
# DW_OP_addr, addrx, constx, form_tls_address, GNU_push_tls_address, GNU_addr_index
_ADDRESS_OPS = {0x03, 0xa1, 0xa2, 0x9b, 0xe0, 0xfb}
_CPLUS = {0x04, 0x19, 0x1a, 0x21}
ANONYMOUS_NAMESPACE = "(anonymous namespace)"

# NameEntry.flags
EXTERNAL = 1      # DW_AT_external: not static for gdb
LINKAGE = 2       # the entry under a linkage name
GDB_ONLY = 4      # an enumerator or an abstract inline function: .gdb_index lists it, the others do not
CPLUS = 8         # in a C++ unit (gdb: types are global, names qualified)


class NameEntry:
    """One name to index: its text, the DIE's tag and offset (in its unit's section), the unit's number in the
    collector, the nearest indexed ancestor, flags (above) and the qualified name (``ns::S::f``)."""

    __slots__ = ("name", "tag", "offset", "unit", "parent", "flags", "qualified", "path")

    def __init__(self, name: str, tag: int, offset: int, unit: int, parent: "NameEntry | None", flags: int,
                 qualified: str, path: str) -> None:
        self.name, self.tag, self.offset, self.unit = name, tag, offset, unit
        self.parent, self.flags, self.qualified = parent, flags, qualified
        self.path = path   # "::" before each named ancestor and the name itself: "::f::S" (dsymutil's hash)

    def __repr__(self) -> str:
        return f"NameEntry({self.name!r}, {names.tag_name(self.tag)}, {self.offset:#x}, unit {self.unit})"


class IndexedUnit:
    """A unit as the tables list it: section, offset and length, and for a type unit its signature and the
    offset of its type DIE (from the unit's start)."""

    __slots__ = ("section", "offset", "length", "signature", "type_offset", "version")

    def __init__(self, section: str, offset: int, length: int, signature: int | None, type_offset: int,
                 version: int) -> None:
        self.section, self.offset, self.length = section, offset, length
        self.signature, self.type_offset, self.version = signature, type_offset, version

    @property
    def is_type_unit(self) -> bool:
        return self.signature is not None


class NameCollector:
    """The units and name entries of one program, in the order units are finished."""

    def __init__(self) -> None:
        self.units: list[IndexedUnit] = []
        self.entries: list[NameEntry] = []
        self._attributes: dict[int, frozenset[int]] = {}   # id(specs) -> its attribute codes (specs are interned)

    def add_unit(self, unit: Any, section: str, length: int, release: bool) -> None:
        """Records ``unit`` (laid out: its DIEs have offsets) and its names; with ``release`` it unlinks each DIE
        from its children once visited, as the encoder would have done."""
        signature = getattr(unit, "signature", None) if unit.unit_type == 2 else None
        type_die = unit.type_die if signature is not None else None
        type_offset = type_die.offset - unit.offset if type_die is not None and type_die.offset is not None else 0
        self.units.append(IndexedUnit(section, unit.offset, length, signature, type_offset, unit.encoding.version))
        number = len(self.units) - 1
        root = unit.root
        language = root.get(AT_LANGUAGE) if AT_LANGUAGE in self._ats(root) else None
        flags = CPLUS if isinstance(language, int) and language in _CPLUS else 0
        self._walk(root, number, None, "", "", flags, release)

    def _ats(self, die: Die) -> frozenset[int]:
        specs = die.specs
        found = self._attributes.get(id(specs))
        if found is None:
            found = self._attributes[id(specs)] = frozenset(spec[0] for spec in specs)
        return found

    def _find(self, die: Die, at: int) -> Any:
        """``at`` of ``die`` or of what its specification or abstract origin names (as llvm's findRecursively)."""
        for _ in range(8):
            ats = self._ats(die)
            if at in ats:
                return die.name if at == AT_NAME else die.get(at)
            target = die.get(AT_SPEC) if AT_SPEC in ats else die.get(AT_ORIGIN) if AT_ORIGIN in ats else None
            if not isinstance(target, Die):
                return None
            die = target
        return None

    def _has_address(self, die: Die) -> bool:
        for _ in range(8):
            ats = self._ats(die)
            if not ats.isdisjoint(_ADDRESS_ATS):
                return True
            target = die.get(AT_SPEC) if AT_SPEC in ats else die.get(AT_ORIGIN) if AT_ORIGIN in ats else None
            if not isinstance(target, Die):
                return False
            die = target
        return False

    def _walk(self, die: Die, unit: int, parent: NameEntry | None, scope: str, path: str, flags: int,
              release: bool) -> None:
        children = die.children
        if not children:
            return
        if release:
            die.children = None
        for child in children:
            entry = self._visit(child, unit, parent, scope, path, flags)
            if child.children:
                inner_scope = scope
                name = child.name
                if child.tag in _SCOPES:
                    scoped = name or (ANONYMOUS_NAMESPACE if child.tag == TAG_NAMESPACE else None)
                    if scoped is not None:
                        inner_scope = f"{scope}::{scoped}" if scope else scoped
                inner_path = f"{path}::{name}" if name else path
                self._walk(child, unit, entry if entry is not None else parent, inner_scope, inner_path, flags,
                           release)

    def _visit(self, die: Die, unit: int, parent: NameEntry | None, scope: str, path: str,
               flags: int) -> NameEntry | None:
        """Records the entries of one DIE; returns the main one (the parent of what it holds), or None."""
        tag = die.tag
        if tag in _NEVER or die.offset is None:
            return None
        ats = self._ats(die)
        if AT_DECL in ats:
            return None
        name = self._find(die, AT_NAME)
        if name is None:
            if tag != TAG_NAMESPACE:
                return None
            name = ANONYMOUS_NAMESPACE
        only_gdb = tag == TAG_ENUMERATOR
        if tag in _CODE:
            if not self._has_address(die):
                if tag != TAG_SUBPROGRAM or self._find(die, AT_INLINE) is None:
                    return None
                only_gdb = True   # an abstract inline function: gdb breaks on its inlined copies through it
        elif tag == TAG_VARIABLE and not self._addressed(die):
            return None
        external = self._find(die, AT_EXTERNAL)
        entry_flags = flags | (EXTERNAL if external else 0) | (GDB_ONLY if only_gdb else 0)
        if AT_SPEC in ats:   # an out-of-line definition: named in the scope of its declaration
            scope = self._scope_of(die.get(AT_SPEC))
        qualified = f"{scope}::{name}" if scope else name
        entry = NameEntry(name, tag, die.offset, unit, parent, entry_flags, qualified, f"{path}::{name}")
        self.entries.append(entry)
        if tag in (TAG_SUBPROGRAM, TAG_INLINED, TAG_VARIABLE):
            linkage = self._find(die, AT_LINKAGE) or self._find(die, AT_MIPS_LINKAGE)
            if isinstance(linkage, str) and linkage != name:
                self.entries.append(NameEntry(linkage, tag, die.offset, unit, parent, entry_flags | LINKAGE,
                                              linkage, linkage))
        return entry

    @staticmethod
    def _scope_of(declaration: Any) -> str:
        """The ``::``-joined names of the scopes a declaration lies in (``shapes::Circle``)."""
        parts = []
        parent = getattr(declaration, "parent", None)
        while isinstance(parent, Die) and parent.tag in _SCOPES:
            parts.append(parent.name or ANONYMOUS_NAMESPACE)
            parent = parent.parent
        return "::".join(reversed(parts))

    def _addressed(self, die: Die) -> bool:
        location = self._find(die, AT_LOCATION)
        opcodes = getattr(location, "opcodes", None)
        if opcodes is not None:
            return not _ADDRESS_OPS.isdisjoint(opcodes())
        if isinstance(location, (bytes, bytearray)) and location:   # a DWARF 2-3 block: its first operation
            return location[0] in _ADDRESS_OPS
        return False
