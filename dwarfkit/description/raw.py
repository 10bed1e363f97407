"""Raw control in descriptions (``docs/description.md``, "Raw control"): the keys that reach
:mod:`dwarfkit.raw` through the ordinary API.

- an attribute value ``{raw: "01 02", form: data2}`` (hex bytes), ``{raw: 12345678, form: ref4}`` (a number in
  the form's encoding) or ``{offset_of: LABEL, plus: 3}`` (a reference into the middle of a DIE);
- a DIE's ``code: N`` (its abbreviation code) and ``raw: HEX`` (bytes in place of its entry);
- a unit's ``override: {unit_length, version, unit_type, abbrev_offset, address_size, signature, type_offset,
  truncate, abbrev_table: NAME}`` and ``line_override: {version, header_length, minimum_instruction_length,
  line_base, line_range, opcode_base, standard_opcode_lengths, ...}``; ``{raw: HEX}`` among its ``lines``;
- at the top, ``abbrev_tables: {NAME: [{code, tag, children, attributes: [[name, form], ...]}, ...] or {hex: ...}}``
  ``raw_sections: {.debug_x: HEX or null}`` (null: the section is left out) and ``patches: [{section, offset,
  hex}]`` (bytes over an emitted section).

:func:`apply` runs once every unit is filled and before the program is emitted; errors name the description's file,
line and key. Imports ``dwarfkit.raw``, ``errors`` and this package's ``source``.
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol

from ..errors import DescriptionError, DwarfkitError
from ..raw import DieOffset, Raw
from .source import Path_


class _Builder(Protocol):
    """What this module uses of the description builder (``build._Builder``, which imports this module)."""

    dw: Any
    labels: dict[str, Any]

    def fail(self, path: Path_, message: str) -> DescriptionError: ...

    def _known(self, mapping: Mapping[Any, Any], allowed: set[str], path: Path_) -> None: ...

DECLARATION_KEYS = {"code", "tag", "children", "attributes"}
TOP_KEYS = {"abbrev_tables", "raw_sections", "patches"}
RAW_VALUE_KEYS = {"raw", "offset_of", "plus"}
UNIT_KEYS = {"override", "line_override"}
DIE_KEYS = {"code", "raw"}


def is_raw_value(value: Mapping[str, Any]) -> bool:
    return "raw" in value or "offset_of" in value


def raw_value(builder: _Builder, value: Mapping[str, Any], path: Path_) -> Raw | DieOffset:
    """``{raw: HEX or NUMBER, form: FORM}``: an attribute's value as given; ``{offset_of: LABEL, plus: N, form:
    FORM}``: where that DIE starts plus N, in a reference form (default ref4)."""
    if "offset_of" in value:
        die = builder.labels.get(value["offset_of"]) if isinstance(value["offset_of"], str) else None
        if die is None:
            raise builder.fail((*path, "offset_of"), f"no DIE is labelled {value['offset_of']!r}")
        try:
            return DieOffset(die, value.get("plus", 0), value.get("form", "ref4"))
        except DwarfkitError as error:
            raise builder.fail(path, str(error)) from None
    try:
        return Raw(value["raw"], value.get("form"))
    except DwarfkitError as error:
        raise builder.fail((*path, "raw"), str(error)) from None


def apply(builder: _Builder, top: Mapping[str, Any], made: list, units: list) -> None:
    """Every raw key of the description, given to the program (``made``: ``(unit, shells)`` per unit)."""
    dw = builder.dw
    tables = {}
    declared = top.get("abbrev_tables", {})
    if not isinstance(declared, Mapping):
        raise builder.fail(("abbrev_tables",), "is a mapping of name -> declarations (or {hex: ...})")
    for name, entries in declared.items():
        tables[name] = _call(builder, ("abbrev_tables", name), dw.abbrev_table,
                             _declarations(builder, entries, ("abbrev_tables", name)))
    for n, (unit, shells) in enumerate(made):
        description, path = units[n], ("units", n)
        override = description.get("override")
        if override is not None:
            if not isinstance(override, Mapping):
                raise builder.fail((*path, "override"), "is a mapping of unit header fields")
            fields = dict(override)
            if "abbrev_table" in fields:
                if fields["abbrev_table"] not in tables:
                    raise builder.fail((*path, "override", "abbrev_table"),
                                       f"{fields['abbrev_table']!r} is not one of abbrev_tables "
                                       f"({', '.join(map(str, tables)) or 'none'})")
                fields["abbrev_table"] = tables[fields["abbrev_table"]]
            for key, value in fields.items():
                _call(builder, (*path, "override", key), unit.override, **{key: value})
        _lines(builder, unit, description, path)
        for die, die_description, here in shells:
            for key in ("code", "raw"):
                if key in die_description:
                    _call(builder, (*here, key), die.override, **{"data" if key == "raw" else key:
                                                                  die_description[key]})
    patches = top.get("patches", [])
    if not isinstance(patches, list):
        raise builder.fail(("patches",), "is a list of {section, offset, hex}")
    for n, patch in enumerate(patches):
        if not isinstance(patch, Mapping) or set(patch) != {"section", "offset", "hex"}:
            raise builder.fail(("patches", n), "a patch is a mapping of section, offset and hex")
        _call(builder, ("patches", n), dw.patch, patch["section"], patch["offset"], str(patch["hex"]))
    sections = top.get("raw_sections", {})
    if not isinstance(sections, Mapping):
        raise builder.fail(("raw_sections",), "is a mapping of section name -> hex bytes (or null: left out)")
    for name, data in sections.items():
        _call(builder, ("raw_sections", name), dw.raw_section, name, data)


def _lines(builder: _Builder, unit: Any, description: Mapping[str, Any], path: Path_) -> None:
    line = getattr(unit, "line", None)
    override = description.get("line_override")
    if override is not None:
        if line is None or not isinstance(override, Mapping):
            raise builder.fail((*path, "line_override"), "is a mapping of line program header fields (compile "
                                                         "units only)")
        for key, value in override.items():
            _call(builder, (*path, "line_override", key), line.override, **{key: value})
    sequences = description.get("lines", [])
    if not isinstance(sequences, list):
        return   # reported by the builder
    made = 0
    for k, sequence in enumerate(sequences):
        if isinstance(sequence, Mapping) and "raw" in sequence:
            builder._known(sequence, {"raw"}, (*path, "lines", k))
            if line is None:
                raise builder.fail((*path, "lines", k), "only a compile unit has a line program")
            _call(builder, (*path, "lines", k, "raw"), line.raw_sequence, sequence["raw"], before=made)
        else:
            made += 1


def is_raw_sequence(sequence: Any) -> bool:
    """A ``{raw: HEX}`` entry of a unit's ``lines`` (the builder leaves it to :func:`apply`)."""
    return isinstance(sequence, Mapping) and "raw" in sequence


def _declarations(builder: _Builder, entries: Any, path: Path_) -> Any:
    if isinstance(entries, Mapping) and set(entries) == {"hex"}:
        return str(entries["hex"])
    if not isinstance(entries, list):
        raise builder.fail(path, "is a list of declarations {code, tag, children, attributes} or {hex: ...}")
    out = []
    for n, entry in enumerate(entries):
        here = (*path, n)
        if not isinstance(entry, Mapping) or not {"code", "tag"} <= set(entry):
            raise builder.fail(here, "a declaration is a mapping with code, tag, children and attributes")
        builder._known(entry, DECLARATION_KEYS, here)
        attributes = entry.get("attributes", [])
        if not isinstance(attributes, list):
            raise builder.fail((*here, "attributes"), "is a list of [attribute, form] (or [attribute, "
                                                      "implicit_const, value])")
        out.append((entry["code"], entry["tag"], entry.get("children", False),
                    [tuple(a) if isinstance(a, list) else a for a in attributes]))
    return out


def _call(builder: _Builder, path: Path_, function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except DwarfkitError as error:
        raise builder.fail(path, str(error)) from None
