"""What a conversion across DWARF 5 renames: call sites, entry values and typed stack operations were GNU extensions
before DWARF 5 standardised them (gcc -gdwarf-4 writes ``DW_TAG_GNU_call_site``, ``DW_OP_GNU_entry_value``, ...).
A conversion to DWARF 2-4 writes the GNU names, one to DWARF 5 the standard ones, as the compilers do for each.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import names

# (standard DWARF 5, GNU before it)
_TAGS = [("call_site", "GNU_call_site"), ("call_site_parameter", "GNU_call_site_parameter")]
_ATTRIBUTES = [("call_value", "GNU_call_site_value"), ("call_data_value", "GNU_call_site_data_value"),
               ("call_target", "GNU_call_site_target"), ("call_target_clobbered", "GNU_call_site_target_clobbered"),
               ("call_tail_call", "GNU_tail_call"), ("call_all_calls", "GNU_all_call_sites"),
               ("call_all_tail_calls", "GNU_all_tail_call_sites"),
               ("call_all_source_calls", "GNU_all_source_call_sites")]
# On a call site only: the return address and the callee.
_CALL_SITE_ATTRIBUTES = [("call_return_pc", "low_pc"), ("call_origin", "abstract_origin")]
_OPS = [("entry_value", "GNU_entry_value"), ("implicit_pointer", "GNU_implicit_pointer"),
        ("regval_type", "GNU_regval_type"), ("deref_type", "GNU_deref_type"), ("convert", "GNU_convert"),
        ("reinterpret", "GNU_reinterpret"), ("const_type", "GNU_const_type")]


@dataclass
class Renames:
    """The renames of one direction: codes of tags, attributes (generally, and on call sites), op names."""
    tags: dict[int, int] = field(default_factory=dict)
    attributes: dict[int, int] = field(default_factory=dict)
    call_site_attributes: dict[int, int] = field(default_factory=dict)
    call_sites: set[int] = field(default_factory=set)
    ops: dict[str, str] = field(default_factory=dict)

    def attribute(self, tag: int, at: int) -> int:
        if tag in self.call_sites:
            at = self.call_site_attributes.get(at, at)
        return self.attributes.get(at, at)


def _direction(to_gnu: bool) -> Renames:
    def pairs(table: list[tuple[str, str]], lookup) -> dict:   # type: ignore[no-untyped-def]
        return {lookup(a): lookup(b) for a, b in ((s, g) if to_gnu else (g, s) for s, g in table)}
    out = Renames(tags=pairs(_TAGS, names.tag), attributes=pairs(_ATTRIBUTES, names.attribute),
                  call_site_attributes=pairs(_CALL_SITE_ATTRIBUTES, names.attribute),
                  ops={a: b for a, b in ((s, g) if to_gnu else (g, s) for s, g in _OPS) if _same_operands(a, b)})
    # The call site tags the attributes are renamed on: as read (the source's names).
    out.call_sites = {names.tag(s if to_gnu else g) for s, g in _TAGS[:1]}
    return out


def _same_operands(a: str, b: str) -> bool:
    """Both operations exist and read the same operands (only those are renamed)."""
    from ..expr import _INFO
    return a in _INFO and b in _INFO and _INFO[a][2] == _INFO[b][2]


TO_GNU = _direction(True)
FROM_GNU = _direction(False)


def renames(source_version: int, target_version: int) -> Renames | None:
    """The renames of a unit read as ``source_version`` and written as ``target_version`` (None: none)."""
    if source_version >= 5 > target_version:
        return TO_GNU
    if target_version >= 5 > source_version:
        return FROM_GNU
    return None
