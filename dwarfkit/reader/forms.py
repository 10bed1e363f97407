"""DWARF form codes and how many bytes each takes; names come from pyelftools' tables."""
from __future__ import annotations

from elftools.dwarf.enums import ENUM_DW_FORM

FORM = {name[len("DW_FORM_"):]: code for name, code in ENUM_DW_FORM.items() if name.startswith("DW_FORM_")}
FORM_NAMES = {code: name for name, code in ENUM_DW_FORM.items() if name.startswith("DW_FORM_")}
F = FORM  # short alias for the tables below

FIXED = {F["data1"]: 1, F["ref1"]: 1, F["flag"]: 1, F["strx1"]: 1, F["addrx1"]: 1,
         F["data2"]: 2, F["ref2"]: 2, F["strx2"]: 2, F["addrx2"]: 2,
         F["strx3"]: 3, F["addrx3"]: 3,
         F["data4"]: 4, F["ref4"]: 4, F["strx4"]: 4, F["addrx4"]: 4, F["ref_sup4"]: 4,
         F["data8"]: 8, F["ref8"]: 8, F["ref_sig8"]: 8, F["ref_sup8"]: 8,
         F["data16"]: 16, F["flag_present"]: 0, F["implicit_const"]: 0}
OFFSET_SIZED = {F["strp"], F["sec_offset"], F["line_strp"], F["strp_sup"], F["GNU_ref_alt"], F["GNU_strp_alt"]}
ULEB = {F["udata"], F["ref_udata"], F["strx"], F["addrx"], F["loclistx"], F["rnglistx"], F["GNU_addr_index"],
        F["GNU_str_index"]}
BLOCKS = {F["block1"]: 1, F["block2"]: 2, F["block4"]: 4}
UNIT_REFS = {F["ref1"], F["ref2"], F["ref4"], F["ref8"], F["ref_udata"]}
STRING_INDEX = {F["strx"], F["strx1"], F["strx2"], F["strx3"], F["strx4"], F["GNU_str_index"]}
ADDR_INDEX = {F["addrx"], F["addrx1"], F["addrx2"], F["addrx3"], F["addrx4"], F["GNU_addr_index"]}
CONSTANTS = {F["data1"], F["data2"], F["data4"], F["data8"], F["udata"], F["sdata"], F["implicit_const"]}
EXPRESSIONS = {F["exprloc"], F["block"], F["block1"], F["block2"], F["block4"]}
# DWARF 2-3 attributes whose data4/data8 value is a location list offset (class loclistptr); for any other
# attribute (DW_AT_byte_size, DW_AT_upper_bound, ...) data4/data8 is a constant there too.
LOCLIST_PTR_V2_3 = {0x02, 0x19, 0x2a, 0x38, 0x40, 0x46, 0x48, 0x4a, 0x4d}


def fixed_size(form: int, address_size: int, offset_size: int, version: int) -> int | None:
    """Size in bytes of a fixed-size form; None when the size comes from the data."""
    if form in FIXED:
        return FIXED[form]
    if form in OFFSET_SIZED:
        return offset_size
    if form == F["addr"]:
        return address_size
    if form == F["ref_addr"]:
        return address_size if version <= 2 else offset_size
    return None


def form_name(form: int) -> str:
    return FORM_NAMES.get(form, f"DW_FORM_unknown_{form:x}")
