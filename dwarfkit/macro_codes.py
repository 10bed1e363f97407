"""The numbers of ``.debug_macro`` and ``.debug_macinfo``: DW_MACRO_* and DW_MACINFO_* opcodes, and the forms a
vendor macro opcode's operands may take (its ``opcode_operands_table`` entry). One table for the reader
(:mod:`dwarfkit.reader.macros`) and the writer (:mod:`dwarfkit.tables.macros`). Imports nothing.
"""
from __future__ import annotations

# DW_MACRO_* (DWARF 5 table 7.28). GNU version 4 uses 1-0xa under DW_MACRO_GNU_ names: define_indirect,
# undef_indirect, transparent_include, define_indirect_alt, undef_indirect_alt, transparent_include_alt.
DEFINE, UNDEF, START_FILE, END_FILE, DEFINE_STRP, UNDEF_STRP, IMPORT = 1, 2, 3, 4, 5, 6, 7
DEFINE_SUP, UNDEF_SUP, IMPORT_SUP, DEFINE_STRX, UNDEF_STRX = 8, 9, 0xA, 0xB, 0xC
VENDOR_EXT = 0xFF   # DW_MACINFO_vendor_ext
LO_USER, HI_USER = 0xE0, 0xFF

VENDOR_FORMS: dict[str, int] = {"data1": 0x0B, "data2": 0x05, "data4": 0x06, "data8": 0x07, "udata": 0x0F,
                                "sdata": 0x0D, "flag": 0x0C, "string": 0x08, "strp": 0x0E, "block": 0x09,
                                "sec_offset": 0x17}
"""The forms a vendor opcode's operands may take, by name, with their DW_FORM codes."""
VENDOR_FORM_NAMES: dict[int, str] = {code: name for name, code in VENDOR_FORMS.items()}
FIXED_SIZES: dict[str, int] = {"data1": 1, "data2": 2, "data4": 4, "data8": 8, "flag": 1}
"""Bytes of the vendor operand forms of one size (``sec_offset`` and ``strp``: the unit's offset size)."""
