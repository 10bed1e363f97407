"""Split DWARF in a load (:mod:`dwarfkit.split`): a skeleton unit is followed to its split unit in its ``.dwo`` (found
by the reader's :class:`~dwarfkit.reader.split.SplitFiles`: DW_AT_dwo_name by comp_dir, else beside the file), whose
DIEs, type units and the skeleton's line program make one unit of the model:

- kept split (``LoadOptions.split`` None): a split unit (``compile_unit(dwo_name=...)``) whose skeleton carries the
  loaded skeleton's comp_dir and addresses; its type units go into the same ``.dwo``;
- ``split=False`` (``convert --unsplit``): an ordinary compile unit with the skeleton's comp_dir and addresses;
- ``split=True`` (``convert --split-dwarf``) turns each compile unit of an unsplit file into a split unit instead
  (:func:`dwo_name_for`).

A skeleton whose ``.dwo`` is missing, or holds no unit of its DWO id, is a :class:`~dwarfkit.errors.ReadError`
naming the file and what was looked for. Imports the reader's ``split`` and the loaders beside it.
"""
from __future__ import annotations

from typing import Any

from .. import names
from ..errors import ReadError
from ..info.die import Die
from ..info.split_units import SplitCompileUnit
from ..info.unit import CompileUnit
from ..program import DwarfBuilder
from ..reader.split import SplitFiles
from ..reader.units import Unit as ReadUnit
from ..split import default_dwo_name
from .lines import load_line_program
from .state import LoadState
from .values import ValueLoader

_A = names.ATTRIBUTES
# What a split unit's root says about being split: the writer derives it again (or, unsplit, it no longer holds).
SPLIT_ONLY = {_A[a] for a in ("dwo_name", "GNU_dwo_name", "GNU_dwo_id", "GNU_addr_base", "GNU_ranges_base",
                              "addr_base", "str_offsets_base", "rnglists_base", "loclists_base")}


def dwo_name_for(dw: DwarfBuilder, name: str | None) -> str:
    """A ``.dwo`` name for a unit of source file ``name`` not yet used in ``dw`` (``a.dwo``, ``a-2.dwo``, ...)."""
    base = default_dwo_name(name or "unit")
    stem, taken = base[:-4], dw.dwo_names()
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}.dwo"
    return candidate


def is_skeleton(files: SplitFiles, unit: ReadUnit) -> bool:
    return unit.section == "debug_info" and files.is_skeleton(unit)


def load_skeletons(loader: Any, dw: DwarfBuilder, files: SplitFiles, skeletons: list[ReadUnit]) -> None:
    """Each skeleton's split unit loaded into ``dw`` (see the module's docstring); ``loader``: the file's
    :class:`~.dies.FileLoader`, whose class loads each ``.dwo``."""
    for skeleton in skeletons:
        found = files.split_unit(skeleton)
        if found.unit is None or found.ctx is None:
            raise ReadError(f"{loader.df.path}: {found.note}")
        attributes = _skeleton_attributes(loader, skeleton)
        name = files.dwo_name(skeleton)
        assert name is not None
        sub = type(loader)(found.ctx.file, loader.options)
        sub.ctx = found.ctx
        sub.split_of = (dw, name if loader.options.split is not False else None)
        units = [found.unit] + [u for s in ("debug_info", "debug_types") for u in found.ctx.units(s)
                                if u.is_type_unit]
        models = sub.load_units(dw, units)
        model = models[0]
        assert isinstance(model, CompileUnit)
        _drop(model.root, SPLIT_ONLY)
        model.has_line_program = True   # the .dwo's unit has no DW_AT_stmt_list: its rows are the skeleton's
        load_line_program(loader, skeleton, model, True)
        if isinstance(model, SplitCompileUnit):
            model.skeleton = attributes
        else:
            _unsplit(dw, model, attributes)


def _skeleton_attributes(loader: LoadState, skeleton: ReadUnit) -> dict[str, Any]:
    """The skeleton's comp_dir and addresses as values (``ranges`` as (start, length) pairs): its root loaded into a
    scratch model by the ordinary value loader (which finds an object's relocations)."""
    scratch = DwarfBuilder(version=skeleton.version, address_size=skeleton.address_size,
                           byteorder=loader.df.byteorder)
    model = scratch.compile_unit(None)
    loader.ctx.load(skeleton)
    model.root.tag = names.TAGS["compile_unit"]
    loader.made[id(model)] = [model.root] + [None] * (len(skeleton.offs) - 1)
    loader.models[id(skeleton)] = model
    ValueLoader(loader, scratch).fill_unit(skeleton, model)
    root = model.root
    out: dict[str, Any] = {}
    for attribute in ("comp_dir", "low_pc", "high_pc"):
        value = root.get(attribute)
        if value is not None:
            out[attribute] = value
    if root.get("ranges") is not None:
        out["ranges"] = model.address_ranges()
        out.pop("high_pc", None)
    return out


def _unsplit(dw: DwarfBuilder, model: CompileUnit, attributes: dict[str, Any]) -> None:
    """The skeleton's comp_dir and addresses on the (now whole) unit's root where it has none."""
    root = model.root
    for attribute, value in attributes.items():
        if root.get(attribute) is None:
            root.set(attribute, dw.range_list(value) if attribute == "ranges" else value)


def _drop(die: Die, attributes: set[int]) -> None:
    keep = [i for i, spec in enumerate(die.specs) if spec[0] not in attributes]
    if len(keep) != len(die.specs):
        die.values = [die.values[i] for i in keep]
        die.specs = die.unit.tables.intern_specs([die.specs[i] for i in keep], die)
