"""dwarfkit: generate DWARF debug information and write it into ELF, Mach-O/dSYM and COFF/PE files."""
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
from .lists import LocationList, RangeList
from .program import DwarfBuilder
from .sections import DwarfSections, Relocation, RelocKind, Section

__version__ = "0.1.0"

__all__ = [
    "Address", "Arch", "ContainerError", "ContentSection", "DescriptionError", "DwarfSections", "DwarfkitError",
    "Encoding", "EncodingError", "Image", "LayoutError", "ReadError", "Relocation", "RelocKind", "RelocationError",
    "Section", "SectionKind", "Symbol", "SymbolKind", "ToolError", "__version__",
    # the DWARF core
    "CompileUnit", "Die", "DwarfBuilder", "Expr", "LocationList", "PartialUnit", "RangeList", "TypeUnit", "Unit", "pin",
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
