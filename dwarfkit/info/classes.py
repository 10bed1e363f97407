"""Attribute classes: which kinds of value each standard attribute takes (DWARF 5, table 7.5; DWARF 2-4 differences).

A value's Python type gives its class (``int``: constant, ``bool``: flag, ``str``: string, ``Address``: address,
``Die``: reference, ``Expr``: exprloc, ``bytes``: block, a range or location list: rnglist/loclist). An attribute
refuses a value of a class it does not have: ``name=5``, ``type=5``, ``external=1``, ``decl_line="ten"``.
Attributes outside the table (vendor extensions, by number) take any value, as before.

The check costs nothing per DIE on the common path: ``Unit._new_die`` makes it once per call shape and signature of
forms (a form of its common cases comes from values of one class), and ``forms.choose`` makes it for the rest.
"""
from __future__ import annotations

from typing import Any

from .. import names
from ..address import Address
from ..expr import Expr
from ..tables.lists import LocationList, RangeList
from .die import Die, Pinned

ADDRESS, BLOCK, CONSTANT, EXPRLOC, FLAG, REFERENCE, STRING, RNGLIST, LOCLIST, POINTER = (1 << i for i in range(10))
_CLASS_NAMES = {ADDRESS: "address", BLOCK: "block", CONSTANT: "constant", EXPRLOC: "exprloc", FLAG: "flag",
                REFERENCE: "reference", STRING: "string", RNGLIST: "rnglist", LOCLIST: "loclist",
                POINTER: "a section offset (set automatically or not describable)"}
_BY_NAME = {name: bit for bit, name in _CLASS_NAMES.items() if bit != POINTER}
# lineptr, addrptr, macptr, stroffsetsptr, rnglistsptr, loclistsptr: offsets dwarfkit sets itself (stmt_list, bases,
# macros/macro_info from DwarfBuilder.macro_unit): no value a caller gives fits them.
_BY_NAME.update({name: POINTER for name in ("lineptr", "addrptr", "macptr", "stroffsetsptr", "rnglistsptr",
                                            "loclistsptr")})

# DWARF 5 table 7.5 (DW_AT_call_origin as a reference: the table's "exprloc" is an erratum, 3.4.2 says reference).
# DW_AT_bit_offset (DWARF 2-4, reserved in 5) keeps its DWARF 4 classes in every version, as gcc still writes it.
_TABLE_5 = """
sibling reference; location exprloc loclist; name string; ordering constant; byte_size constant exprloc reference;
bit_offset constant exprloc reference; bit_size constant exprloc reference; stmt_list lineptr; low_pc address;
high_pc address constant; language constant; discr reference; discr_value constant; visibility constant;
import reference; string_length exprloc loclist reference; common_reference reference; comp_dir string;
const_value block constant string; containing_type reference; default_value constant reference flag;
inline constant; is_optional flag; lower_bound constant exprloc reference; producer string; prototyped flag;
return_addr exprloc loclist; start_scope constant rnglist; bit_stride constant exprloc reference;
upper_bound constant exprloc reference; abstract_origin reference; accessibility constant; address_class constant;
artificial flag; base_types reference; calling_convention constant; count constant exprloc reference;
data_member_location constant exprloc loclist; decl_column constant; decl_file constant; decl_line constant;
declaration flag; discr_list block; encoding constant; external flag; frame_base exprloc loclist; friend reference;
identifier_case constant; macro_info macptr; namelist_item reference; priority reference; segment exprloc loclist;
specification reference; static_link exprloc loclist; type reference; use_location exprloc loclist;
variable_parameter flag; virtuality constant; vtable_elem_location exprloc loclist;
allocated constant exprloc reference; associated constant exprloc reference; data_location exprloc;
byte_stride constant exprloc reference; entry_pc address constant; use_UTF8 flag; extension reference;
ranges rnglist; trampoline address flag reference string; call_column constant; call_file constant;
call_line constant; description string; binary_scale constant; decimal_scale constant; small reference;
decimal_sign constant; digit_count constant; picture_string string; mutable flag; threads_scaled flag;
explicit flag; object_pointer reference; endianity constant; elemental flag; pure flag; recursive flag;
signature reference; main_subprogram flag; data_bit_offset constant; const_expr flag; enum_class flag;
linkage_name string; string_length_bit_size constant; string_length_byte_size constant; rank constant exprloc;
str_offsets_base stroffsetsptr; addr_base addrptr; rnglists_base rnglistsptr; dwo_name string; reference flag;
rvalue_reference flag; macros macptr; call_all_calls flag; call_all_source_calls flag; call_all_tail_calls flag;
call_return_pc address; call_value exprloc; call_origin reference exprloc; call_parameter reference;
call_pc address; call_tail_call flag; call_target exprloc; call_target_clobbered exprloc;
call_data_location exprloc; call_data_value exprloc; noreturn flag; alignment constant; export_symbols flag;
deleted flag; defaulted constant; loclists_base loclistsptr
"""

# Where an earlier version has fewer classes: DWARF 2 sizes and bounds were constants (and references), DWARF 2-4
# string lengths had no reference.
_EARLIER = {
    2: "byte_size constant; bit_size constant; bit_offset constant; bit_stride constant; "
       "lower_bound constant reference; upper_bound constant reference; string_length exprloc loclist",
    3: "string_length exprloc loclist",
    4: "string_length exprloc loclist",
}

# Constants that are sizes, counts, lengths, lines, member offsets or enumerations: never negative. (Bounds, scales,
# strides and const_value may be.)
UNSIGNED = {names.ATTRIBUTES[n] for n in (
    "byte_size", "bit_size", "count", "high_pc", "decl_line", "decl_column", "decl_file", "call_line", "call_column",
    "call_file", "alignment", "string_length_bit_size", "string_length_byte_size", "data_bit_offset", "digit_count",
    "rank", "data_member_location", "language", "encoding", "accessibility", "inline", "calling_convention",
    "visibility", "virtuality", "identifier_case", "ordering", "decimal_sign", "endianity", "defaulted",
    "address_class", "entry_pc")}


def _parse(text: str) -> dict[int, int]:
    table = {}
    for entry in text.split(";"):
        name, *classes = entry.split()
        bits = 0
        for c in classes:
            bits |= _BY_NAME[c]
        table[names.ATTRIBUTES[name]] = bits
    return table


_V5 = _parse(_TABLE_5)
CLASSES: dict[int, dict[int, int]] = {5: _V5}
for _version in (2, 3, 4):
    CLASSES[_version] = {**_V5, **_parse(_EARLIER[_version])}

# The class of a value by its Python type (bool before int: a flag is not a constant).
_KIND_CLASS: dict[type, int] = {bool: FLAG, int: CONSTANT, str: STRING, Address: ADDRESS, Die: REFERENCE,
                                Expr: EXPRLOC, bytes: BLOCK, bytearray: BLOCK}
_A = names.ATTRIBUTES
_ADDRESS_ATTRIBUTES = {_A["low_pc"], _A["entry_pc"], _A["call_return_pc"], _A["call_pc"]}
_FILE_ATTRIBUTES = {_A["decl_file"], _A["call_file"]}
_DATA16 = names.FORMS["data16"]
_BY_NUMBER = {**{names.FORMS[f]: REFERENCE for f in ("ref_sig8", "ref_sup4", "ref_sup8", "GNU_ref_alt")},
              **{names.FORMS[f]: STRING for f in ("strp_sup", "GNU_strp_alt")}}

def class_names(bits: int) -> str:
    return ", ".join(name for bit, name in _CLASS_NAMES.items() if bits & bit)


def value_class(at: int, value: Any) -> int | None:
    """The class of ``value`` as a value of ``at``; None for a type that is no class (reported by choose)."""
    if type(value) is Pinned:
        if value.form == _DATA16 and isinstance(value.value, (bytes, bytearray, int)) and \
                not isinstance(value.value, bool):
            return CONSTANT   # 16 bytes or a 128-bit integer
        if value.form in _BY_NUMBER and type(value.value) is int:
            return _BY_NUMBER[value.form]   # a signature or an offset into another file, as read
        value = value.value
    kind = _KIND_CLASS.get(type(value))
    if kind is None:
        if isinstance(value, RangeList) or (isinstance(value, (list, tuple)) and at == _A["ranges"]):
            return RNGLIST
        if isinstance(value, LocationList):
            return LOCLIST
        if isinstance(value, bool):
            return FLAG
        for base, bits in _KIND_CLASS.items():   # subclasses (an IntEnum, a str subclass)
            if isinstance(value, base):
                kind = bits
                break
        else:
            return None
    if kind == STRING and at in names.VALUE_TABLES or kind in (STRING, CONSTANT) and at in _FILE_ATTRIBUTES:
        return CONSTANT   # language="C11"; decl_file="a.c" (its index)
    if kind in (STRING, CONSTANT) and at in _ADDRESS_ATTRIBUTES:
        return ADDRESS    # low_pc="main" (a symbol), low_pc=0x1000
    return kind


def check(die: Die, at: int, value: Any, version: int) -> None:
    """DescriptionError unless ``value`` has a class that attribute ``at`` takes in DWARF ``version``."""
    accepted = CLASSES[version].get(at)
    if accepted is None:
        return   # a vendor or unknown attribute: any value
    kind = value_class(at, value)
    if kind is None or kind & accepted:
        return
    raise die.error(at, _message(at, value, kind, accepted, version))


def _message(at: int, value: Any, kind: int, accepted: int, version: int) -> str:
    shown = value.value if type(value) is Pinned else value
    text = repr(shown) if len(repr(shown)) < 60 else type(shown).__name__
    if accepted == FLAG and kind == CONSTANT:
        return f"is a flag: give True or False, not {text}"
    if accepted == REFERENCE:
        return f"needs a DIE (class reference), not {text}"
    if accepted == STRING:
        return f"needs a str (class string), not {text}"
    if accepted & POINTER and not accepted & ~POINTER:
        return f"takes {class_names(accepted)}, not {text}"
    return (f"takes a value of class {class_names(accepted)} (DWARF {version}), not {text} (class "
            f"{class_names(kind)})")
