"""Names of DWARF constants as llvm-dwarfdump prints them, built from pyelftools' tables."""
from __future__ import annotations

from elftools.dwarf import enums


def _invert(table: dict, prefix: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for name, code in table.items():
        if name.startswith(prefix) and not name.endswith(("_lo_user", "_hi_user")) and code not in out:
            out[code] = name
    return out


TAGS = _invert(enums.ENUM_DW_TAG, "DW_TAG_")
ATTRS = _invert(enums.ENUM_DW_AT, "DW_AT_")
# Where llvm-dwarfdump 14 spells a code differently from pyelftools.
ATTRS[0x3e02] = "DW_AT_LLVM_sysroot"
TAGS.update({0x2f: "DW_TAG_template_type_parameter", 0x30: "DW_TAG_template_value_parameter",
             0x4107: "DW_TAG_GNU_template_template_param", 0x4108: "DW_TAG_GNU_template_parameter_pack"})
LANGS = _invert(enums.ENUM_DW_LANG, "DW_LANG_")
ENCODINGS = _invert(enums.ENUM_DW_ATE, "DW_ATE_")
INLINES = _invert(enums.ENUM_DW_INL, "DW_INL_")
CONVENTIONS = _invert(enums.ENUM_DW_CC, "DW_CC_")
ACCESS = _invert(enums.ENUM_DW_ACCESS, "DW_ACCESS_")
VIRTUALITY = {0: "DW_VIRTUALITY_none", 1: "DW_VIRTUALITY_virtual", 2: "DW_VIRTUALITY_pure_virtual"}
VISIBILITY = {1: "DW_VIS_local", 2: "DW_VIS_exported", 3: "DW_VIS_qualified"}
IDENTIFIER_CASE = {0: "DW_ID_case_sensitive", 1: "DW_ID_up_case", 2: "DW_ID_down_case", 3: "DW_ID_case_insensitive"}
ORDERING = {0: "DW_ORD_row_major", 1: "DW_ORD_col_major"}
DECIMAL_SIGN = {1: "DW_DS_unsigned", 2: "DW_DS_leading_overpunch", 3: "DW_DS_trailing_overpunch",
                4: "DW_DS_leading_separate", 5: "DW_DS_trailing_separate"}
ENDIANITY = {0: "DW_END_default", 1: "DW_END_big", 2: "DW_END_little"}
DEFAULTED = {0: "DW_DEFAULTED_no", 1: "DW_DEFAULTED_in_class", 2: "DW_DEFAULTED_out_of_class"}

# Attributes whose constant value llvm-dwarfdump prints by its enumerator name.
VALUE_NAMES = {0x13: LANGS, 0x3e: ENCODINGS, 0x20: INLINES, 0x36: CONVENTIONS, 0x32: ACCESS, 0x4c: VIRTUALITY,
               0x17: VISIBILITY, 0x42: IDENTIFIER_CASE, 0x09: ORDERING, 0x5e: DECIMAL_SIGN, 0x65: ENDIANITY,
               0x8b: DEFAULTED, 0x3fe5: LANGS}


def tag_name(tag: int) -> str:
    return TAGS.get(tag) or f"DW_TAG_unknown_{tag:x}"


def attr_name(at: int) -> str:
    return ATTRS.get(at) or f"DW_AT_unknown_{at:x}"
