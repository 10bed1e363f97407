"""What every container reader hands to the DWARF reader: the debug sections' bytes, relocated, and a few facts.

A container reader (ELF, Mach-O, COFF) finds the DWARF sections, decompresses and relocates them, and returns a
`DebugFile`. Section names are normalised to the ELF spelling without the dot (``debug_info``, ``eh_frame``).
Problems that do not stop reading (a relocation that cannot be applied) are collected in ``problems``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ContainerError, ReadError

# The DWARF sections dwarfkit reads, by normalised name.
DWARF_SECTIONS = (
    "debug_info", "debug_types", "debug_abbrev", "debug_line", "debug_line_str", "debug_str", "debug_str_offsets",
    "debug_addr", "debug_aranges", "debug_ranges", "debug_rnglists", "debug_loc", "debug_loclists", "debug_frame",
    "eh_frame", "debug_names", "debug_pubnames", "debug_pubtypes", "debug_gnu_pubnames", "debug_gnu_pubtypes",
)


@dataclass
class CodeSection:
    """Executable code, for checks that need instruction boundaries."""
    name: str
    address: int
    data: bytes


@dataclass
class DebugFile:
    path: str
    file_format: str
    """llvm-dwarfdump's name of the format, e.g. ``elf64-x86-64``."""
    arch: str
    """``x86_64``, ``aarch64``, ``i386``, ``arm``, ``mips``, ... or ``unknown``."""
    byteorder: str
    address_size: int
    sections: dict[str, bytes]
    section_offsets: dict[str, int] = field(default_factory=dict)
    """Where each section's bytes start in the file (0 when decompressed)."""
    is_object: bool = False
    uuid: bytes | None = None
    code: list[CodeSection] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Container-level findings: relocations not applied, sections that could not be decompressed."""
    section_addresses: dict[int, str] = field(default_factory=dict)
    """Mach-O/COFF section number -> name."""
    addresses: dict[str, int] = field(default_factory=dict)
    """Load address of each DWARF section (``eh_frame`` needs it for pc-relative pointers)."""

    def section(self, name: str) -> bytes:
        return self.sections.get(name, b"")


def normalise_section_name(name: str) -> str | None:
    """``.debug_info``, ``__debug_info``, ``.zdebug_info`` -> ``debug_info``; None for non-DWARF sections."""
    for prefix in (".zdebug_", "__zdebug_"):
        if name.startswith(prefix):
            name = "debug_" + name[len(prefix):]
            break
    name = name.lstrip("._")
    if name == "eh_frame" or name in DWARF_SECTIONS:
        return name
    return None


def open_debug_file(path: str | Path, arch: str | None = None) -> DebugFile:
    """Read the DWARF of an ELF, Mach-O (thin, fat, dSYM bundle) or COFF/PE file."""
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
        from .elf import read_elf
        return read_elf(str(path), data)
    from . import macho, coff
    if macho.is_macho(data):
        return macho.read_macho(str(path), data, arch)
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


def decompress_zdebug(name: str, data: bytes) -> bytes:
    """A GNU ``.zdebug_*`` section: ``ZLIB``, the size as 8 big-endian bytes, then a zlib stream."""
    if data[:4] != b"ZLIB" or len(data) < 12:
        raise ReadError(f"{name}: compressed section without the ZLIB header")
    size = int.from_bytes(data[4:12], "big")
    return inflate(name, data[12:], size)


# A compressed section claiming more than this is refused rather than inflated.
MAX_INFLATED = 1 << 32


def inflate(name: str, data: bytes, size: int) -> bytes:
    if size > MAX_INFLATED:
        raise ReadError(f"{name}: compressed section claims {size} bytes, more than dwarfkit inflates")
    d = zlib.decompressobj()
    try:
        # Never inflate more than the header promises: a hostile size field must not exhaust memory.
        out = d.decompress(data, size)
    except zlib.error as e:
        raise ReadError(f"{name}: cannot decompress: {e}") from None
    if len(out) != size:
        raise ReadError(f"{name}: decompressed to {len(out)} bytes, header says {size}")
    return out
