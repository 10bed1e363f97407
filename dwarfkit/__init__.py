"""dwarfkit: generate DWARF debug information and write it into ELF, Mach-O/dSYM and COFF/PE files.

This package re-exports the public API (``from dwarfkit import DwarfBuilder, Address, Expr, Image, ...``). The
layers, bottom up; each imports only the ones below it:

- Shared foundations (modules of this package): ``errors`` (``DwarfkitError`` and its kinds: every error a user can
  cause is one of them), ``encoding`` (``Encoding``: version 2-5, DWARF32/64, address size, byte order; LEB128,
  fixed-width ULEB128 for fields patched in place, ``decode_initial_length``, ``align_up`` for every container
  layout), ``address`` (``Address(symbol, offset)``: relocated, or plain when ``symbol`` is None), ``sections`` (the
  contract between core and backends: ``Section``, ``Relocation``, ``RelocKind`` ENTRY/UNIT/SECTION/ADDRESS/PCREL,
  ``DwarfSections`` with ``resolve()``), ``writer`` (``SectionWriter``: values plus a relocation per symbolic field),
  ``strings`` (``StringTable``: deduplicated, offsets final when added), ``names`` (DWARF names from pyelftools'
  tables), ``arch`` (``Arch``: register numbers, minimum instruction length), ``relocation_buffer``, ``output``
  (``write_atomically``: a temporary name in the target folder, then ``os.replace``).
- ``line/``, ``aranges``, ``frame``, ``expr`` (``.debug_line``, ``.debug_aranges``, call frames, DW_OP builder).
- ``abbrev/`` and ``tables/``: the tables all units of a program share; ``lists`` is the public path of its lists.
- ``info/``: units and DIEs, forms, the unit encoder; ``program``: ``DwarfBuilder``, which composes all of them.
- ``image`` (the container-neutral program), ``asm`` (keystone/capstone for tests and examples), ``debuggers``,
  ``incremental/``; the backends (``dwarfkit.backends``, folder ``backends/``) and ``reader/`` sit on top and are
  never imported by the core. ``cli``/``__main__``: the ``dwarfkit`` command.

Where to add: a subpackage -> list it in ``pyproject.toml`` (``[tool.setuptools] packages``, all are explicit); a
command -> a module that puts ``(help, add_arguments, run)`` into ``cli.COMMANDS``, named in
``cli.COMMAND_MODULES``; a relocation kind -> ``sections.RelocKind``, then one line in each backend's relocation
table; a tool the tests need -> ``scripts/setup.sh``, and tests call ``tests/conftest.require_tool`` (fails under
CI, skips elsewhere).
"""
import os
from typing import TYPE_CHECKING, Any, Mapping

from .address import Address
from .arch import Arch
from .encoding import Encoding
from .errors import (
    ContainerError,
    DescriptionError,
    DwarfkitError,
    EncodingError,
    LayoutError,
    ReadError,
    RelocationError,
    ToolError,
)
from .expr import Expr
from .image import ContentSection, Image, SectionKind, Symbol, SymbolKind
from .info.die import Die, pin
from .info.unit import CompileUnit, PartialUnit, TypeUnit, Unit
from .lists import Lle, LocationList, RangeList, Rle
from .program import DwarfBuilder
from .raw import DieOffset, Label, LabelOffset, Raw
from .sections import DwarfSections, Relocation, RelocKind, Section

if TYPE_CHECKING:
    from .description import Built

__version__ = "0.1.0"


def load(path: "str | os.PathLike[str]", **options: Any) -> DwarfBuilder:
    """The DWARF of a file (ELF, Mach-O or dSYM, COFF or PE) as a :class:`DwarfBuilder` to edit and emit; options as
    :class:`dwarfkit.loading.LoadOptions` (``version=4``, ``offset_size=8``, ``indexed=True``, ...)."""
    from .loading import load as _load
    return _load(path, **options)


def convert(src: "str | os.PathLike[str]", out: "str | os.PathLike[str]", **options: Any) -> DwarfBuilder:
    """Writes ``out``: ``src`` with its DWARF loaded, changed as ``options`` say (see
    :class:`dwarfkit.loading.convert.ConvertOptions`: ``version``, ``offset_size``, ``indexed``, ``compress``,
    ``separate_debug``, ``prefix_map``, ``only_units``, ``drop_units``), emitted by the container's rewriter."""
    from .loading.convert import convert as _convert
    if options.get("version") or options.get("offset_size") or options.get("indexed") is not None:
        options.setdefault("keep_forms", False)
    return _convert(src, out, **options)

def build(description: "Mapping[str, Any]") -> "Built":
    """A description (the data of a YAML/JSON description file, see :mod:`dwarfkit.description`) built into the
    writer's model and an image; ``.write(path)`` writes the file."""
    from .description import build as _build
    return _build(description)


def describe(path: "str | os.PathLike[str]", *, raw: bool = False) -> "dict[str, Any]":
    """The description of the file at ``path`` (the data ``build`` takes): its DWARF as units, DIEs, line rows and
    frames, naming the file for its code. ``build(describe(path)).write(out)`` gives the same DWARF again."""
    from .description.describe import describe as _describe
    return _describe(path, raw=raw)


__all__ = [
    "Address", "Arch", "ContainerError", "ContentSection", "DescriptionError", "DwarfSections", "DwarfkitError",
    "Encoding", "EncodingError", "Image", "LayoutError", "ReadError", "Relocation", "RelocKind", "RelocationError",
    "Section", "SectionKind", "Symbol", "SymbolKind", "ToolError", "__version__",
    # the DWARF core
    "CompileUnit", "Die", "DwarfBuilder", "Expr", "Lle", "LocationList", "PartialUnit", "RangeList", "Rle", "TypeUnit",
    "Unit", "pin", "load", "convert", "build", "describe", "Raw", "DieOffset", "Label", "LabelOffset",
]

# Installs map backends/ to dwarfkit.backends (pyproject's package-dir). A source checkout, or a git worktree of one,
# must import its own backends/ rather than the tree that happens to be installed, so point the package there too.
def _use_checkout_backends() -> None:
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "backends" / "__init__.py").is_file():
        __path__.append(str(root))


_use_checkout_backends()
del _use_checkout_backends
