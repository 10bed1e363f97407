"""Raw control in descriptions (``docs/description.md``, "Raw control"): the keys that reach
:mod:`dwarfkit.raw` through the ordinary API.

- an attribute value ``{raw: "01 02", form: data2}`` (hex bytes), ``{raw: 12345678, form: ref4}`` (a number in
  the form's encoding) or ``{offset_of: LABEL, plus: 3}`` (a reference into the middle of a DIE);
- labels of positions in any section (dwarf.exp's labels): ``{offset_of: NAME, plus: N, form: sec_offset}`` names a
  label defined by a unit's ``line_label`` (its line program) or ``header_label`` (its unit header), a list's
  ``label``, a raw line sequence's ``label``, an ``abbrev_tables`` name, or the top ``labels: {NAME: {section: S,
  offset: N} | {string: TEXT} | {line_string: TEXT}}``; ``override: {stmt_list: {offset_of: NAME}}`` points a unit's
  DW_AT_stmt_list there;
- a DIE's ``code: N`` (its abbreviation code) and ``raw: HEX`` (bytes in place of its entry);
- a unit's ``override: {unit_length, version, unit_type, abbrev_offset, address_size, signature, type_offset,
  truncate, abbrev_table: NAME}`` and ``line_override: {version, header_length, minimum_instruction_length,
  line_base, line_range, opcode_base, standard_opcode_lengths, ...}``; ``{raw: HEX}`` among its ``lines``;
- at the top, ``build_id: HEX`` (a ``.note.gnu.build-id``), ``debugaltlink: {file, build_id}`` (dwz's
  ``.gnu_debugaltlink``, for ``GNU_ref_alt``/``GNU_strp_alt`` values: ``{value: OFFSET, form: GNU_ref_alt}``),
  ``abbrev_tables: {NAME: [{code, tag, children, attributes: [[name, form], ...]}, ...] or {hex: ...}}``
  ``raw_sections: {.debug_x: HEX or null}`` (null: the section is left out) and ``patches: [{section, offset,
  hex}]`` (bytes over an emitted section).

:func:`apply` runs once every unit is filled and before the program is emitted; errors name the description's file,
line and key. Imports ``dwarfkit.raw``, ``gnu_links``, ``names``, ``errors`` and this package's ``source``.
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol

from .. import names
from ..errors import DescriptionError, DwarfkitError
from ..gnu_links import build_id_note, debugaltlink
from ..raw import DieOffset, Label, LabelOffset, Raw
from .source import Path_


class _Builder(Protocol):
    """What this module uses of the description builder (``build._Builder``, which imports this module)."""

    dw: Any
    labels: dict[str, Any]
    section_labels: dict[str, tuple[Label, Path_]]   # name -> the label and where it was first used

    def fail(self, path: Path_, message: str) -> DescriptionError: ...

    def _known(self, mapping: Mapping[Any, Any], allowed: set[str], path: Path_) -> None: ...

DECLARATION_KEYS = {"code", "tag", "children", "attributes"}
TOP_KEYS = {"abbrev_tables", "raw_sections", "patches", "labels", "list_headers", "build_id", "debugaltlink", "note"}
RAW_VALUE_KEYS = {"raw", "offset_of", "plus"}
UNIT_KEYS = {"override", "line_override", "line_label", "header_label", "aranges_override"}
_REFERENCE_FORMS = {names.FORMS[f] for f in ("ref1", "ref2", "ref4", "ref8", "ref_udata")}
DIE_KEYS = {"code", "raw"}


def is_raw_value(value: Mapping[str, Any]) -> bool:
    return "raw" in value or "offset_of" in value


def raw_value(builder: _Builder, value: Mapping[str, Any], path: Path_) -> Raw | DieOffset | LabelOffset:
    """``{raw: HEX or NUMBER, form: FORM}``: an attribute's value as given; ``{offset_of: LABEL, plus: N, form:
    FORM}``: where that DIE starts plus N, in a reference form (default ref4), or the offset of a label of any
    section in an offset-sized form (default sec_offset; a DIE's too, in sec_offset or ref_addr)."""
    if "offset_of" in value:
        name = value["offset_of"]
        if not isinstance(name, str) or not name:
            raise builder.fail((*path, "offset_of"), f"a label is a name, not {name!r}")
        die = builder.labels.get(name)
        try:
            form = names.form(value["form"]) if "form" in value else None
            if die is not None and (form is None or form in _REFERENCE_FORMS):
                return DieOffset(die, value.get("plus", 0), form or "ref4")
            if die is not None:
                return LabelOffset(Label(name, die), value.get("plus", 0), form or "sec_offset")
            return LabelOffset(use_label(builder, name, (*path, "offset_of")), value.get("plus", 0),
                               form or "sec_offset")
        except DwarfkitError as error:
            raise builder.fail(path, str(error)) from None
    try:
        return Raw(value["raw"], value.get("form"))
    except DwarfkitError as error:
        raise builder.fail((*path, "raw"), str(error)) from None


def use_label(builder: _Builder, name: str, path: Path_) -> Label:
    """The label ``name`` of a section position, made at its first use (it may be defined later)."""
    if name not in builder.section_labels:
        builder.section_labels[name] = (Label(name), path)
    return builder.section_labels[name][0]


def define_label(builder: _Builder, name: Any, target: Any, path: Path_, plus: int = 0) -> None:
    """Label ``name`` names ``target`` (plus ``plus`` bytes)."""
    if not isinstance(name, str) or not name:
        raise builder.fail(path, f"a label is a name, not {name!r}")
    if name in builder.labels:
        raise builder.fail(path, f"label {name!r} is a DIE's label already")
    label = use_label(builder, name, path)
    if label.target is not None:
        raise builder.fail(path, f"label {name!r} is defined twice")
    _call(builder, path, label.bind, target, plus)


def _top_labels(builder: _Builder, given: Any) -> None:
    """``labels: {NAME: {section: S, offset: N} | {string: TEXT} | {line_string: TEXT}}``."""
    if not isinstance(given, Mapping):
        raise builder.fail(("labels",), "is a mapping of name -> {section, offset}, {string} or {line_string}")
    for name, where in given.items():
        path: Path_ = ("labels", name)
        if isinstance(where, Mapping) and set(where) == {"section", "offset"}:
            define_label(builder, name, where["section"], path, where["offset"])
        elif isinstance(where, Mapping) and set(where) in ({"string"}, {"line_string"}):
            table = builder.dw.strings if "string" in where else builder.dw.line_strings
            text = where.get("string", where.get("line_string"))
            define_label(builder, name, table.name, path, _call(builder, path, table.add, text))
        else:
            raise builder.fail(path, "a label is {section: NAME, offset: N}, {string: TEXT} or {line_string: TEXT}")


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
        if name in builder.section_labels:   # the table's name is its label
            define_label(builder, name, tables[name], ("abbrev_tables", name))
    if "labels" in top:
        _top_labels(builder, top["labels"])
    for n, (unit, shells) in enumerate(made):
        description, path = units[n], ("units", n)
        if "header_label" in description:
            define_label(builder, description["header_label"], unit, (*path, "header_label"))
        if "line_label" in description:
            if getattr(unit, "line", None) is None:
                raise builder.fail((*path, "line_label"), "the unit has no line program")
            define_label(builder, description["line_label"], unit.line, (*path, "line_label"))
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
                if isinstance(value, Mapping) and "offset_of" in value:   # stmt_list etc. at a label
                    builder._known(value, {"offset_of", "plus"}, (*path, "override", key))
                    value = raw_value(builder, value, (*path, "override", key))
                _call(builder, (*path, "override", key), unit.override, **{key: value})
        if "aranges_override" in description:
            fields = description["aranges_override"]
            if not isinstance(fields, Mapping):
                raise builder.fail((*path, "aranges_override"), "is a mapping of aranges set header fields")
            _call(builder, (*path, "aranges_override"), dw.header_override, ".debug_aranges", unit, **fields)
        _lines(builder, unit, description, path)
        for die, die_description, here in shells:
            for key in ("code", "raw"):
                if key in die_description:
                    _call(builder, (*here, key), die.override, **{"data" if key == "raw" else key:
                                                                  die_description[key]})
    _list_headers(builder, top.get("list_headers", {}))
    if "build_id" in top:
        _call(builder, ("build_id",), dw.raw_section, ".note.gnu.build-id", _call(builder, ("build_id",), build_id_note,
                                                                               str(top["build_id"])))
    if "debugaltlink" in top:
        link = top["debugaltlink"]
        if not isinstance(link, Mapping) or set(link) != {"file", "build_id"}:
            raise builder.fail(("debugaltlink",), "is {file: PATH of the alternate file, build_id: HEX}")
        _call(builder, ("debugaltlink",), dw.raw_section, ".gnu_debugaltlink",
              _call(builder, ("debugaltlink",), debugaltlink, str(link["file"]), str(link["build_id"])))
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
    for name, (label, used) in builder.section_labels.items():
        if label.target is None:
            raise builder.fail(used, f"no DIE is labelled {name!r}, nor any position (a unit's line_label or "
                                     f"header_label, a list's or raw sequence's label, abbrev_tables, labels)")


def _list_headers(builder: _Builder, given: Any) -> None:
    """``list_headers: {.debug_rnglists: {fields} or [{fields}, ...]}``: per contribution, in order."""
    if not isinstance(given, Mapping):
        raise builder.fail(("list_headers",), "is a mapping of section -> header fields (or a list of them, one per "
                                              "contribution)")
    for section, contributions in given.items():
        for n, fields in enumerate(contributions if isinstance(contributions, list) else [contributions]):
            path: Path_ = ("list_headers", section, n) if isinstance(contributions, list) else ("list_headers", section)
            if not isinstance(fields, Mapping):
                raise builder.fail(path, "is a mapping of header fields")
            _call(builder, path, builder.dw.header_override, section, n, **fields)


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
            here = (*path, "lines", k)
            builder._known(sequence, {"raw", "label"}, here)
            if line is None:
                raise builder.fail(here, "only a compile unit has a line program")
            label = None
            if "label" in sequence:
                label = use_label(builder, sequence["label"], (*here, "label"))
                if label.target is not None or sequence["label"] in builder.labels:
                    raise builder.fail((*here, "label"), f"label {sequence['label']!r} is defined twice")
            _call(builder, (*here, "raw"), line.raw_sequence, sequence["raw"], before=made, label=label)
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
