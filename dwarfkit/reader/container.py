"""Open a debug file: pick the container reader (ELF, Mach-O, COFF) by the file's magic, or the one file of a
dSYM bundle.

The dispatch sits above the container readers; they and the DWARF reader share the base types in `debugfile`,
which are re-exported here because tests and tools import them from this module.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ContainerError
from . import coff, macho
from .debugfile import (
    DWARF_SECTIONS,
    MAX_SECTION_LIMIT,
    MIN_SECTION_LIMIT,
    SECTION_LIMIT_FACTOR,
    CodeSection,
    DebugFile,
    decompress_zdebug,
    inflate,
    normalise_section_name,
    section_limit,
)
from .elf import read_elf

__all__ = [
    "DWARF_SECTIONS", "MAX_SECTION_LIMIT", "MIN_SECTION_LIMIT", "SECTION_LIMIT_FACTOR", "CodeSection", "DebugFile",
    "decompress_zdebug", "inflate", "normalise_section_name", "open_debug_file", "section_limit",
]


def open_debug_file(path: str | Path, arch: str | None = None, max_section_size: int | None = None) -> DebugFile:
    """Read the DWARF of an ELF, Mach-O (thin, fat, dSYM bundle) or COFF/PE file.

    ``max_section_size`` bounds what one compressed section may inflate to (default: `section_limit`)."""
    p = Path(path)
    if p.is_dir():
        p = _dsym_member(p)
    try:
        with open(p, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ContainerError(f"{path}: cannot read: {e.strerror}") from None
    magic = data[:4]
    if magic == b"\x7fELF":
        return read_elf(str(path), data, max_section_size)
    if macho.is_macho(data):
        return macho.read_macho(str(path), data, arch, max_section_size)
    if coff.is_coff(data):
        return coff.read_coff(str(path), data)
    raise ContainerError(f"{path}: not an ELF, Mach-O or COFF file (magic {magic.hex()})")


def _dsym_member(bundle: Path) -> Path:
    dwarf_dir = bundle / "Contents" / "Resources" / "DWARF"
    members = sorted(dwarf_dir.iterdir()) if dwarf_dir.is_dir() else []
    if len(members) != 1:
        raise ContainerError(f"{bundle}: a directory that is not a dSYM bundle with one file in "
                             "Contents/Resources/DWARF")
    return members[0]
