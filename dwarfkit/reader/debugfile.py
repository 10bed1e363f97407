"""What every container reader hands to the DWARF reader: the debug sections' bytes, relocated, and a few facts.

This is the common base of the container readers (`elf`, `macho`, `coff`): they import it, never each other, and
`container.open_debug_file` above them picks one by the file's magic. It imports only the standard library and
`dwarfkit.errors`.

A container reader (ELF, Mach-O, COFF) finds the DWARF sections, decompresses and relocates them, and returns a
`DebugFile`. Section names are normalised to the ELF spelling without the dot (``debug_info``, ``eh_frame``).
Problems that do not stop reading (a relocation that cannot be applied) are collected in ``problems``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Literal

from ..errors import ReadError

# The DWARF sections dwarfkit reads, by normalised name.
DWARF_SECTIONS = (
    "debug_info", "debug_types", "debug_abbrev", "debug_line", "debug_line_str", "debug_str", "debug_str_offsets",
    "debug_addr", "debug_aranges", "debug_ranges", "debug_rnglists", "debug_loc", "debug_loclists", "debug_frame",
    "eh_frame", "debug_names", "debug_pubnames", "debug_pubtypes", "debug_gnu_pubnames", "debug_gnu_pubtypes",
    "debug_macro", "debug_macinfo", "debug_cu_index", "debug_tu_index",
    "gdb_index", "apple_names", "apple_types", "apple_namespaces", "apple_objc",
)
# Sections a split DWARF file (.dwo, .dwp, or an object built with -gsplit-dwarf=single) holds with a ``.dwo``
# suffix; they are kept as ``debug_info.dwo`` and read through `DebugFile.split_part` under their base names.
DWO_SECTIONS = ("debug_info", "debug_types", "debug_abbrev", "debug_line", "debug_str", "debug_str_offsets",
                "debug_loc", "debug_loclists", "debug_rnglists", "debug_macro", "debug_macinfo")

ByteOrder = Literal["little", "big"]


@dataclass
class CodeSection:
    """Executable code, for checks that need instruction boundaries."""
    name: str
    address: int
    data: bytes


@dataclass(frozen=True, slots=True)
class SymbolRef:
    """What a relocation in an object's debug section refers to, kept for ``dwarfkit.load`` (the bytes of the
    field already hold the relocated value). ``kind``: ``address`` (a symbol's address: low_pc, DW_OP_addr, an FDE's
    start), ``tls`` (a thread-local symbol's offset), ``section`` (an offset into the debug section ``symbol``, in the
    normalised spelling ``debug_str``), ``pcrel``. ``symbol`` is the symbol's name, or for a section-relative
    relocation the name of the section as the container spells it (ELF ``.text``, Mach-O ``__TEXT,__text``, COFF
    ``.text``); the field's value is that symbol's address plus ``addend``."""
    symbol: str
    addend: int
    kind: str = "address"


@dataclass
class DebugFile:
    path: str
    file_format: str
    """llvm-dwarfdump's name of the format, e.g. ``elf64-x86-64``."""
    arch: str
    """``x86_64``, ``aarch64``, ``i386``, ``arm``, ``mips``, ... or ``unknown``."""
    byteorder: ByteOrder
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
    duplicates: dict[str, int] = field(default_factory=dict)
    """Normalised names of debug sections the file holds more than once (ELF COMDAT groups) -> how many; they are
    read joined, in header order."""
    groups: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    """ELF objects: per normalised debug section read joined, where each piece of a COMDAT group starts in it and the
    group's signature (gcc -g3's ``wm4.<file>.<line>.<md5>``), in order."""
    relocations: dict[str, dict[int, SymbolRef]] = field(default_factory=dict)
    """Objects only: per normalised debug section, the field offset of each relocation -> what it refers to."""

    dwo: bool = False
    """A split part (`split_part`): its sections are a file's ``.debug_*.dwo`` ones under their base names."""

    def section(self, name: str) -> bytes:
        return self.sections.get(name, b"")

    def split_part(self) -> DebugFile | None:
        """The ``.dwo`` sections of this file (a ``.dwo``, a ``.dwp``) as a DebugFile of their own, named by their
        base names (``debug_info``) with ``dwo`` set; the package indexes come along. None when it has none."""
        dwo = {name[:-4]: data for name, data in self.sections.items() if name.endswith(".dwo")}
        if not dwo:
            return None
        for name in ("debug_cu_index", "debug_tu_index"):
            if name in self.sections:
                dwo[name] = self.sections[name]
        offsets = {name[:-4]: off for name, off in self.section_offsets.items() if name.endswith(".dwo")}
        return DebugFile(self.path, self.file_format, self.arch, self.byteorder, self.address_size, dwo, offsets,
                         is_object=False, code=self.code, dwo=True)


def dwo_spelling(message: str) -> str:
    """A finding about a split part names its section as the file does: ``.debug_info[0x10]`` ->
    ``.debug_info.dwo[0x10]``."""
    for name in DWO_SECTIONS:
        message = message.replace(f".{name}[", f".{name}.dwo[")
    return message


def normalise_section_name(name: str) -> str | None:
    """``.debug_info``, ``__debug_info``, ``.zdebug_info`` -> ``debug_info``; None for non-DWARF sections."""
    for prefix in (".zdebug_", "__zdebug_"):
        if name.startswith(prefix):
            name = "debug_" + name[len(prefix):]
            break
    name = name.lstrip("._")
    if name == "apple_namespac":   # Mach-O's 16-character cut of __apple_namespaces
        name = "apple_namespaces"
    if name == "eh_frame" or name in DWARF_SECTIONS:
        return name
    if name.endswith(".dwo") and name[:-4] in DWO_SECTIONS:
        return name
    return None


def decompress_zdebug(name: str, data: bytes, limit: int) -> bytes:
    """A GNU ``.zdebug_*`` section: ``ZLIB``, the size as 8 big-endian bytes, then a zlib stream."""
    if data[:4] != b"ZLIB" or len(data) < 12:
        raise ReadError(f"{name}: compressed section without the ZLIB header")
    size = int.from_bytes(data[4:12], "big")
    return inflate(name, data[12:], size, limit)


# Without --max-section-size, a compressed section may inflate to this many times the file's size (DWARF
# compresses 3-10 times), at least MIN_SECTION_LIMIT and at most MAX_SECTION_LIMIT: a 1.5 MB zlib bomb of 1.5 GiB
# is refused, while any real file's sections are read.
SECTION_LIMIT_FACTOR = 32
MIN_SECTION_LIMIT = 64 << 20
MAX_SECTION_LIMIT = 1 << 30
_INFLATE_CHUNK = 16 << 20


def section_limit(file_size: int, max_section_size: int | None) -> int:
    """The most bytes one compressed section may inflate to: ``max_section_size`` when given, else the default."""
    if max_section_size is not None:
        return max_section_size
    return min(MAX_SECTION_LIMIT, max(MIN_SECTION_LIMIT, SECTION_LIMIT_FACTOR * file_size))


def inflate(name: str, data: bytes, size: int, limit: int) -> bytes:
    """Inflate a zlib stream that its header says holds ``size`` bytes. The size is checked against ``limit``
    first, and the stream is inflated in chunks never past ``size``: memory stays at the size the header
    claims, and a stream that holds more or less than it claims is an error."""
    if size > limit:
        raise ReadError(f"{name}: compressed section claims 0x{size:x} bytes, more than the limit of 0x{limit:x} "
                        "(raise it with --max-section-size)")
    d = zlib.decompressobj()
    out = bytearray()
    pending = data
    try:
        while len(out) < size:
            piece = d.decompress(pending, min(_INFLATE_CHUNK, size - len(out)))
            pending = d.unconsumed_tail
            if not piece:
                break
            out += piece
    except zlib.error as e:
        raise ReadError(f"{name}: cannot decompress at byte 0x{len(out):x} of its output: {e}") from None
    if len(out) != size:
        raise ReadError(f"{name}: decompressed to 0x{len(out):x} bytes, header says 0x{size:x}")
    if not d.eof and (pending or d.decompress(b"", 1)):
        raise ReadError(f"{name}: the zlib stream holds more than the 0x{size:x} bytes its header says")
    return bytes(out)
