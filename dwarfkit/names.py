"""DWARF constants by name: tags, attributes, forms and enumerated attribute values.

The tables come from pyelftools; a name may be given short (``"subprogram"``), in full (``"DW_TAG_subprogram"``) or as
the number itself.
"""
from __future__ import annotations

from elftools.dwarf import constants, enums

from .errors import DescriptionError


def _table(enum: dict, prefix: str) -> dict[str, int]:
    table: dict[str, int] = {}
    for name, value in enum.items():
        if not name.startswith(prefix) or not isinstance(value, int) or name.endswith("_null"):
            continue   # DW_TAG_null, DW_AT_null, DW_FORM_null (0) end a list: no DIE, attribute or form is 0
        table[name] = value
        table.setdefault(name[len(prefix):], value)
    return table


TAGS = _table(enums.ENUM_DW_TAG, "DW_TAG_")
# The standard's (and LLVM's) spelling where pyelftools abbreviates: DW_TAG_template_type_parameter.
TAGS.update(_table({"DW_TAG_template_type_parameter": TAGS["template_type_param"],
                    "DW_TAG_template_value_parameter": TAGS["template_value_param"]}, "DW_TAG_"))
ATTRIBUTES = _table(enums.ENUM_DW_AT, "DW_AT_")
ATTRIBUTES.update(_table({"DW_AT_LLVM_sysroot": ATTRIBUTES["LLVM_isysroot"]}, "DW_AT_"))   # LLVM's own spelling
FORMS = _table(enums.ENUM_DW_FORM, "DW_FORM_")
TAG_NAMES = {v: k for k, v in reversed(list(enums.ENUM_DW_TAG.items())) if isinstance(v, int) and v}
ATTRIBUTE_NAMES = {v: k for k, v in reversed(list(enums.ENUM_DW_AT.items())) if isinstance(v, int) and v}
FORM_NAMES = {v: k for k, v in reversed(list(enums.ENUM_DW_FORM.items())) if isinstance(v, int) and v}

# Attributes whose value is one of a named set: ``language="C11"``, ``encoding="signed"``.
_A = ATTRIBUTES
VALUE_TABLES: dict[int, dict[str, int]] = {
    _A["language"]: _table(enums.ENUM_DW_LANG, "DW_LANG_"),
    _A["encoding"]: _table(enums.ENUM_DW_ATE, "DW_ATE_"),
    _A["accessibility"]: _table(enums.ENUM_DW_ACCESS, "DW_ACCESS_"),
    _A["inline"]: _table(enums.ENUM_DW_INL, "DW_INL_"),
    _A["calling_convention"]: _table(enums.ENUM_DW_CC, "DW_CC_"),
}


def _constants(prefix: str) -> dict[str, int]:
    """A table from pyelftools' ``constants`` module, for enumerations its ``enums`` module lacks."""
    return _table({name: getattr(constants, name) for name in dir(constants)}, prefix)


VALUE_TABLES.update({
    _A["virtuality"]: _constants("DW_VIRTUALITY_"),
    _A["visibility"]: _constants("DW_VIS_"),
    _A["identifier_case"]: _constants("DW_ID_"),
    _A["ordering"]: _constants("DW_ORD_"),
    # DWARF 5 tables 7.14, 7.15 and 7.24; pyelftools has none of them.
    _A["decimal_sign"]: _table({"DW_DS_unsigned": 1, "DW_DS_leading_overpunch": 2, "DW_DS_trailing_overpunch": 3,
                                "DW_DS_leading_separate": 4, "DW_DS_trailing_separate": 5}, "DW_DS_"),
    _A["endianity"]: _table({"DW_END_default": 0, "DW_END_big": 1, "DW_END_little": 2}, "DW_END_"),
    _A["address_class"]: _table({"DW_ADDR_none": 0}, "DW_ADDR_"),   # DWARF 5 table 7.13: the rest is per target
    _A["defaulted"]: _table({"DW_DEFAULTED_no": 0, "DW_DEFAULTED_in_class": 1, "DW_DEFAULTED_out_of_class": 2},
                            "DW_DEFAULTED_"),
})


def _lookup(table: dict[str, int], numbers: dict[int, str], what: str, key: str | int) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        if key in numbers or key >= 0x80 and what != "form":  # vendor extensions are allowed as numbers
            return key
        raise DescriptionError(f"unknown DWARF {what} {key:#x}")
    if not isinstance(key, str):   # a bool, or no name at all
        raise DescriptionError(f"unknown DWARF {what} {key!r}")
    if key in table:
        return table[key]
    if key.endswith("_") and key[:-1] in table:
        return table[key[:-1]]   # import_=...: attribute names that are Python keywords
    raise DescriptionError(f"unknown DWARF {what} {key!r}")


def tag(name: str | int) -> int:
    return _lookup(TAGS, TAG_NAMES, "tag", name)


def attribute(name: str | int) -> int:
    return _lookup(ATTRIBUTES, ATTRIBUTE_NAMES, "attribute", name)


def form(name: str | int) -> int:
    return _lookup(FORMS, FORM_NAMES, "form", name)


def tag_name(code: int) -> str:
    return TAG_NAMES.get(code, f"DW_TAG_{code:#x}")[7:]


def attribute_name(code: int) -> str:
    return ATTRIBUTE_NAMES.get(code, f"DW_AT_{code:#x}")[6:]


def form_name(code: int) -> str:
    return FORM_NAMES.get(code, f"DW_FORM_{code:#x}")
