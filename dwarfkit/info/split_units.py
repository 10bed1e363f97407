"""The two halves of a split compile unit (split DWARF, :mod:`dwarfkit.split`): the full unit that goes into a ``.dwo``
and the skeleton that stays in the object or executable.

DWARF 5 (as gcc and clang write it): the ``.dwo`` unit is ``DW_UT_split_compile`` and the skeleton
``DW_UT_skeleton`` (``DW_TAG_skeleton_unit``), both with the DWO id in their header; the skeleton carries
``DW_AT_dwo_name``, ``DW_AT_comp_dir``, the unit's address range, ``DW_AT_stmt_list`` (the unit's line program stays in
the main file) and ``DW_AT_addr_base``. GNU DWARF 4 (gcc ``-gdwarf-4 -gsplit-dwarf``): both are ordinary compile
units; the id is ``DW_AT_GNU_dwo_id`` on both roots, the skeleton has ``DW_AT_GNU_dwo_name``,
``DW_AT_GNU_addr_base`` and ``DW_AT_GNU_ranges_base``. Imports what ``unit`` does, and ``unit``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import names
from ..line import LineProgram
from ..tables.offsets import SectionOffset
from . import forms as F
from .unit import CompileUnit

if TYPE_CHECKING:
    from .encode import UnitEncoder

DW_UT_skeleton, DW_UT_split_compile, DW_UT_split_type = 4, 5, 6
_A = names.ATTRIBUTES


def _header_with_id(unit: CompileUnit, encoder: "UnitEncoder", buf: bytearray, dwo_id: int) -> None:
    """A DWARF 5 skeleton or split compile unit's header after unit_length and version."""
    enc = unit.encoding
    buf.append(unit.unit_type)
    buf.append(enc.address_size)
    encoder.relocs.add(len(buf), enc.offset_size, 2, ".debug_abbrev", 0)
    buf += bytes(enc.offset_size)
    buf += dwo_id.to_bytes(8, enc.byteorder)


def _add_root_attributes(unit: CompileUnit, extra: list[tuple[tuple[int, int], Any]]) -> None:
    root = unit.root
    for spec, value in extra:
        root.specs = unit.tables.intern_specs(list(root.specs) + [spec], root)
        root.values.append(value)


class SplitCompileUnit(CompileUnit):
    """The full DIE tree of a split unit, written into its ``.dwo``; its line program is written with the skeleton
    (DW_AT_decl_file counts in it). :attr:`dwo_id` is set when the ``.dwo`` part is emitted."""

    unit_type = DW_UT_split_compile
    dwo_id = 0
    skeleton: dict[str, Any] | None = None
    """What the skeleton says of the unit when the split unit's root does not (``comp_dir``, ``low_pc``,
    ``high_pc``, ``ranges`` as ``[(start, length), ...]``): a loaded skeleton's."""

    def stmt_list(self) -> Any:
        return None

    def prepare(self) -> None:
        super().prepare()
        if self.encoding.version < 5:   # the id is an attribute in GNU DWARF 4; the last one, patched when known
            _add_root_attributes(self, [((_A["GNU_dwo_id"], F.DATA8), 0)])

    def write_header(self, encoder: "UnitEncoder", buf: bytearray) -> int | None:
        if self.encoding.version < 5:
            return super().write_header(encoder, buf)
        _header_with_id(self, encoder, buf, self.dwo_id)
        return None

    def dwo_id_position(self, data: bytes | bytearray) -> int:
        """Where the DWO id lies in the encoded ``.debug_info`` (``data``): the header field in DWARF 5, else the
        value of the root's last attribute, DW_AT_GNU_dwo_id (right before its first child or the unit's end)."""
        enc = self.encoding
        assert self.offset is not None
        if enc.version >= 5:
            return self.offset + enc.initial_length_size + 4 + enc.offset_size
        children = self.root.children
        if children:
            assert children[0].offset is not None
            return children[0].offset - 8
        length = int.from_bytes(data[self.offset:self.offset + 4], enc.byteorder)   # DWARF 4 GNU: 32-bit format
        return self.offset + 4 + length - 8


class SkeletonUnit(CompileUnit):
    """The skeleton of a split unit in the main file: what a debugger needs to find the ``.dwo`` and the unit's code."""

    unit_type = DW_UT_skeleton

    def __init__(self, tables: Any, split: SplitCompileUnit, dwo_name: str, dwo_id: int, ranges_base: bool,
                 attributes: dict[str, Any]) -> None:
        gnu = split.encoding.version < 5
        self.root_tag = "compile_unit" if gnu else "skeleton_unit"
        self.dwo_id = dwo_id
        self._ranges_base = ranges_base
        name_attribute = "GNU_dwo_name" if gnu else "dwo_name"
        super().__init__(tables, None, {name_attribute: dwo_name, **attributes}, {}, None)
        self.line: LineProgram = split.line   # the unit's line program: written here, in the main file
        self.has_line_program = split.has_line_program
        if not gnu:
            self.uses_addr = True

    def prepare(self) -> None:
        super().prepare()
        if self.encoding.version >= 5:
            return
        tables = self.tables
        extra: list[tuple[tuple[int, int], Any]] = [((_A["GNU_addr_base"], F.SEC_OFFSET), tables.addr_base)]
        if self._ranges_base:   # the split unit's DW_AT_ranges are offsets into this file's .debug_ranges
            extra.append(((_A["GNU_ranges_base"], F.SEC_OFFSET), SectionOffset(".debug_ranges", 0)))
        extra.append(((_A["GNU_dwo_id"], F.DATA8), self.dwo_id))
        _add_root_attributes(self, extra)

    def write_header(self, encoder: "UnitEncoder", buf: bytearray) -> int | None:
        if self.encoding.version < 5:
            return super().write_header(encoder, buf)
        _header_with_id(self, encoder, buf, self.dwo_id)
        return None
