"""Split DWARF (``-gsplit-dwarf``): a compile unit's DIE tree in a ``.dwo`` file, a skeleton unit in the main file.

``DwarfBuilder(split=True)`` splits every compile unit (its ``.dwo`` is named after the source file:
``src/a.c`` -> ``a.dwo``); ``dw.compile_unit(..., dwo_name="x.dwo")`` splits one unit. Type units go into a split
unit's ``.dwo`` with ``dw.type_unit(signature, dwo=cu)``. ``emit()`` returns the main file's sections, with
:attr:`DwarfSections.dwo <dwarfkit.sections.DwarfSections.dwo>` mapping each ``.dwo`` name to its sections
(``.debug_info.dwo``, ``.debug_abbrev.dwo``, ``.debug_str.dwo``, ``.debug_str_offsets.dwo``, ``.debug_line.dwo``
when a type unit has a line program, ``.debug_rnglists.dwo``/``.debug_loclists.dwo``, DWARF 4 ``.debug_types.dwo``),
final bytes without relocations. The ELF backend writes each ``.dwo`` beside the object or executable.

What goes where, as gcc and clang write it:

- DWARF 5: the ``.dwo`` holds a ``DW_UT_split_compile`` unit (strings ``strx`` into its own
  ``.debug_str_offsets.dwo``, lists ``rnglistx``/``loclistx``, addresses ``addrx`` and expressions' ``DW_OP_addr``
  as ``DW_OP_addrx``, both indices into the main file's ``.debug_addr``); the main file a ``DW_UT_skeleton`` unit with
  ``DW_AT_dwo_name``, ``DW_AT_comp_dir``, the unit's ``low_pc``/``high_pc`` or ``ranges``, ``DW_AT_stmt_list`` (the
  unit's line program, which DW_AT_decl_file counts in) and ``DW_AT_addr_base``.
- GNU DWARF 4: the same with ``DW_FORM_GNU_str_index``/``DW_FORM_GNU_addr_index``/``DW_OP_GNU_addr_index``, the id as
  ``DW_AT_GNU_dwo_id`` on both roots, ``DW_AT_GNU_dwo_name``/``GNU_addr_base``/``GNU_ranges_base`` on the skeleton; a
  header-less ``.debug_addr``; range lists stay in the main file's ``.debug_ranges``. Location lists
  (``.debug_loc.dwo``'s GNU entry kinds) are not written: a split DWARF 4 unit's location list is refused.

The DWO id is a hash (BLAKE2b, 8 bytes) of the ``.dwo``'s name and bytes: the same description gives the same id.
This module holds what the builder does to a ``.dwo`` part once it is emitted; imports the foundations and
``info.split_units``.
"""
from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any

from .errors import DescriptionError, LayoutError
from .info.split_units import SplitCompileUnit
from .sections import DwarfSections, Section


def default_dwo_name(name: str | None) -> str:
    """The ``.dwo`` of a unit for source file ``name`` when none is given: its stem and ``.dwo``, as gcc names it."""
    if not name:
        raise DescriptionError("a split compile unit without a name needs dwo_name=")
    return PurePosixPath(name.replace("\\", "/")).stem + ".dwo"


def check_dwo_name(dwo_name: Any, taken: Any) -> str:
    """``dwo_name`` checked: a relative path of a file (it is written beside the main file), not used twice."""
    if not isinstance(dwo_name, str) or not dwo_name or "\0" in dwo_name:
        raise DescriptionError(f"dwo_name {dwo_name!r} is not a file name")
    path = PurePosixPath(dwo_name)
    if path.is_absolute() or ".." in path.parts or dwo_name.endswith("/"):
        raise DescriptionError(f"dwo_name {dwo_name!r}: give a file name relative to the output's folder")
    if dwo_name in taken:
        raise DescriptionError(f"dwo_name {dwo_name!r} is already the .dwo of another split unit")
    return dwo_name


def finish_part(dwo_name: str, emitted: DwarfSections, unit: SplitCompileUnit) -> tuple[DwarfSections, int]:
    """The ``.dwo`` sections of an emitted part (renamed ``*.dwo``, final) and its DWO id, patched into its unit."""
    for section in emitted:
        symbolic = section.symbolic_relocations()
        if symbolic:
            r = symbolic[0]
            raise LayoutError(f"{dwo_name}: {section.name}+{r.offset:#x} refers to symbol {r.target!r}; a .dwo holds "
                              f"no relocations (split DWARF 4 location lists are not supported: use DWARF 5)")
    info = emitted[".debug_info"].data
    digest = hashlib.blake2b(dwo_name.encode(), digest_size=8)
    for section in emitted:
        digest.update(section.name.encode() + b"\0" + len(section.data).to_bytes(8, "little"))
        digest.update(section.data)
    dwo_id = int.from_bytes(digest.digest(), "little")
    position = unit.dwo_id_position(info)
    info[position:position + 8] = dwo_id.to_bytes(8, emitted.encoding.byteorder)
    unit.dwo_id = dwo_id
    out = DwarfSections(emitted.encoding)
    for section in emitted:
        out.add(Section(section.name + ".dwo", bytearray(section.data), [], section.alignment))
    return out, dwo_id


def skeleton_attributes(unit: SplitCompileUnit, range_list: Any) -> dict[str, Any]:
    """The attributes a skeleton copies from its split unit's root: comp_dir and the unit's addresses (DWARF 5 range
    lists made again by ``range_list(entries)`` in the main file; GNU DWARF 4's already are there)."""
    if unit.skeleton is not None:   # a loaded skeleton's
        given = dict(unit.skeleton)
        if "ranges" in given:
            given["ranges"] = range_list(given["ranges"])
        return given
    root = unit.root
    attributes: dict[str, Any] = {"comp_dir": root.get("comp_dir")}
    ranges = root.get("ranges")
    if ranges is not None:
        attributes["ranges"] = ranges if unit.encoding.version < 5 else range_list(unit.address_ranges())
    if root.get("low_pc") is not None:
        attributes["low_pc"] = root.get("low_pc")
    if ranges is None and root.get("high_pc") is not None:
        attributes["high_pc"] = root.get("high_pc")
    return attributes
