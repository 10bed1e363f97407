"""Separate debug files for executables we did not write (e.g. gcc's, stripped).

The debug file is close to what ``objcopy --only-keep-debug`` makes: the executable's allocated sections as
``NOBITS`` (same names and addresses, so a debugger can match them), its ``.note.gnu.build-id`` and ``.eh_frame``, and
our debug sections. The copy
of the executable gets a ``.gnu_debuglink`` naming the debug file with its CRC, so gdb finds it next to the executable,
in a ``.debug`` folder, or by build id under ``debug-file-directory/.build-id/xx/rest.debug``.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_NOTE_N_TYPE, ENUM_SH_TYPE_BASE
from elftools.elf.sections import SymbolTableSection

from dwarfkit.arch import check_frame_section
from dwarfkit.encoding import align_up
from dwarfkit.errors import ContainerError
from dwarfkit.image import check_final_addresses
from dwarfkit.output import write_atomically
from dwarfkit.sections import DwarfSections

from .contents import EH_FRAME, debug_section
from .elffile import SHDR, ElfHeader, ElfSection, serialize
from .elfinput import SHN_LORESERVE, read_elf_headers
from .machine import ElfMachine, machine_by_number

SHT = ENUM_SH_TYPE_BASE
BUILD_ID = ".note.gnu.build-id"
DEBUGLINK = ".gnu_debuglink"


def write_debug_file(executable: str | os.PathLike[str], dwarf: DwarfSections, out_debug: str | os.PathLike[str],
                     out_executable: str | os.PathLike[str], *, symbols: Mapping[str, int] | None = None,
                     compress: bool = False) -> bytes:
    """Writes ``out_debug`` (debug sections for ``executable``) and ``out_executable`` (a copy with a debug link).

    Symbolic addresses in ``dwarf`` are resolved with the executable's own symbol tables (when it has them) and
    ``symbols``, which win. Returns the build id that ties the two files together.

    Each file is written atomically, the debug file first and the executable last: a new executable is never on disk
    before the debug file its ``.gnu_debuglink`` CRC names. A crash between the two leaves the new debug file beside
    the old executable (or none), whose CRC does not match it: gdb warns "CRC mismatch" and does not use it, and the
    next call writes both.
    """
    exe_path = Path(executable)
    try:
        original = exe_path.read_bytes()
    except OSError as e:
        raise ContainerError(f"cannot read {exe_path}: {e.strerror}") from None
    try:
        elf = ELFFile(io.BytesIO(original))
        sections = list(elf.iter_sections())
    except ELFError as e:
        raise ContainerError(f"{exe_path}: not a readable ELF file ({e})") from None
    if elf.elfclass != 64 or not elf.little_endian:
        raise ContainerError(f"{exe_path}: only 64-bit little-endian ELF files are supported")
    e_type, e_machine = struct.unpack_from("<HH", original, 16)
    machine = machine_by_number(e_machine, str(exe_path))
    if EH_FRAME in dwarf:
        raise ContainerError(f"{exe_path}: .eh_frame is loaded code metadata and cannot go into a separate debug file")
    if dwarf.encoding.address_size != 8 or dwarf.encoding.byteorder != "little":
        raise ContainerError(f"{exe_path}: {machine.arch.info.name} needs little-endian DWARF with 8-byte addresses")
    if elf.get_section_by_name(DEBUGLINK) is not None:
        raise ContainerError(f"{exe_path} already has a {DEBUGLINK} section")
    build_id = _build_id(elf.get_section_by_name(BUILD_ID))
    if build_id is None:
        raise ContainerError(f"{exe_path} has no {BUILD_ID} note; link it with --build-id")

    extra = dict(symbols or {})
    resolved = final_sections(dwarf, machine, lambda: _symbol_addresses(sections) | extra,
                              ((s.name, s["sh_addr"], s["sh_size"]) for s in sections
                               if s["sh_flags"] & SH_FLAGS.SHF_ALLOC), str(exe_path))
    header = ElfHeader(e_machine, e_type, entry=elf.header.e_entry, flags=elf.header.e_flags, osabi=original[7])
    debug_bytes = debug_file_bytes(header, sections, resolved, dwarf, compress=compress)
    linked = add_sections(original, [debuglink(out_debug, debug_bytes)], str(exe_path))
    write_pair(out_debug, debug_bytes, out_executable, linked)
    return build_id


def final_sections(dwarf: DwarfSections, machine: ElfMachine, symbol_addresses: Callable[[], Mapping[str, int]],
                   spans: Iterable[tuple[str, int, int]], where: str) -> dict[str, bytes]:
    """The bytes of ``dwarf``'s sections in a linked file (an executable, a shared library, their debug file): every
    relocation checked and resolved. ``symbol_addresses`` is called only when a field refers to a symbol (reading a
    large library's symbol table takes a while); ``spans`` (name, address, size) are the allocated sections that
    every DWARF address must lie in."""
    for s in dwarf:
        s.check_relocations(set(dwarf.sections))
        if s.name == ".debug_frame":
            check_frame_section(machine.arch, s.name, bytes(s.data), dwarf.encoding.byteorder)
    if not any(s.symbolic_relocations() for s in dwarf):
        return {s.name: bytes(s.data) for s in dwarf}
    addresses = symbol_addresses()
    check_final_addresses(dwarf, addresses, spans, where)
    return dwarf.resolve(addresses)


def debug_file_bytes(header: ElfHeader, sections: list, resolved: Mapping[str, bytes], dwarf: DwarfSections, *,
                     compress: bool) -> bytes:
    """What ``objcopy --only-keep-debug`` keeps of a linked file (``sections``: pyelftools' sections of it), with the
    debug sections ``resolved`` (aligned as ``dwarf`` says)."""
    kept = _loaded_section_copies(sections)
    kept += [debug_section(name, data, compress=compress, alignment=dwarf[name].alignment)
             for name, data in resolved.items()]
    return serialize(header, kept)


def debuglink(debug_file: str | os.PathLike[str], debug_bytes: bytes) -> ElfSection:
    """``.gnu_debuglink``: the debug file's base name and the CRC32 of its bytes (gdb checks it)."""
    link = Path(debug_file).name.encode() + b"\0"
    link = link.ljust(align_up(len(link), 4), b"\0") + struct.pack("<I", zlib.crc32(debug_bytes))
    return ElfSection(DEBUGLINK, SHT["SHT_PROGBITS"], data=link, align=4)


def write_pair(debug_path: str | os.PathLike[str], debug_bytes: bytes, out_path: str | os.PathLike[str],
               out_bytes: bytes) -> None:
    """Writes a debug file and the linked file that names it, each atomically: the debug file first, so a new file
    is never on disk before the debug file its ``.gnu_debuglink`` CRC names (see :func:`write_debug_file`)."""
    write_atomically(debug_path, debug_bytes)
    try:
        write_atomically(out_path, out_bytes, executable=True)
    except BaseException:
        Path(debug_path).unlink()  # the pair is useless without its other half
        raise


def _loaded_section_copies(sections: list) -> list[ElfSection]:
    """The executable's allocated sections as NOBITS with the same names, addresses and sizes.

    The build id ties the files together. ``.eh_frame`` keeps its bytes too: readers of the debug file (readelf
    --debug-dump=frames) distrust an ``.eh_frame`` without contents, and gdb wants the section to exist.
    """
    names = {s.name for s in sections if s["sh_flags"] & SH_FLAGS.SHF_ALLOC}
    copies = []
    for s in sections[1:]:
        if not s["sh_flags"] & SH_FLAGS.SHF_ALLOC:
            continue
        link = sections[s["sh_link"]].name if 0 < s["sh_link"] < len(sections) else ""
        copy = ElfSection(s.name, SHT["SHT_NOBITS"], s["sh_flags"], addr=s["sh_addr"], align=max(1, s["sh_addralign"]),
                          link=link if link in names else 0, entsize=s["sh_entsize"], nobits_size=s["sh_size"])
        if s.name in (BUILD_ID, EH_FRAME):
            copy.type = SHT["SHT_NOTE"] if s.name == BUILD_ID else SHT["SHT_PROGBITS"]
            copy.data = s.data()
        copies.append(copy)
    return copies


def build_id_path(debug_file_directory: str | os.PathLike[str], build_id: bytes) -> Path:
    """Where gdb looks for the debug file of ``build_id``: ``<dir>/.build-id/xx/rest.debug``."""
    hexed = build_id.hex()
    return Path(debug_file_directory) / ".build-id" / hexed[:2] / f"{hexed[2:]}.debug"


def add_sections(original: bytes, new: list[ElfSection], path: str = "ELF file") -> bytes:
    """A copy of an ELF64 little-endian file with non-allocated sections appended; nothing already in the file moves.

    The new data and a grown ``.shstrtab`` go after the old end of the file, followed by a new section header table
    (its count in section 0's header once it reaches ``SHN_LORESERVE``). The old headers are read by the bounds-checked
    parser the rewriter and the reader share: a malformed file is a :class:`ContainerError` naming ``path``.
    """
    elf = read_elf_headers(original, path)
    if not elf.is64 or elf.byteorder != "little":
        raise ContainerError(f"{path}: only 64-bit little-endian ELF files are supported")
    if not elf.sections:
        raise ContainerError(f"{path}: the file has no section header table")
    headers = [list(h) for h in elf.sections]
    strtab = headers[elf.shstrndx]
    names = bytearray(original[strtab[4]:strtab[4] + strtab[5]])
    out = bytearray(original)
    for s in new:
        name = len(names)
        names += s.name.encode() + b"\0"
        out += bytes(-len(out) % s.align)
        headers.append([name, s.type, s.flags, 0, len(out), len(s.data), 0, 0, s.align, s.entsize])
        out += s.data
    strtab[4], strtab[5] = len(out), len(names)
    out += names
    out += bytes(-len(out) % 8)
    struct.pack_into("<Q", out, 0x28, len(out))
    if len(headers) >= SHN_LORESERVE:
        headers[0][5] = len(headers)
    struct.pack_into("<H", out, 0x3C, len(headers) if len(headers) < SHN_LORESERVE else 0)
    for h in headers:
        out += SHDR.pack(*h)
    return bytes(out)


def _build_id(section: object) -> bytes | None:
    if section is None or not hasattr(section, "iter_notes"):
        return None
    for note in section.iter_notes():
        if note["n_type"] in ("NT_GNU_BUILD_ID", ENUM_NOTE_N_TYPE["NT_GNU_BUILD_ID"]):
            return bytes.fromhex(note["n_desc"])
    return None


def _symbol_addresses(sections: list) -> dict[str, int]:
    addresses: dict[str, int] = {}
    for s in sections:
        if isinstance(s, SymbolTableSection):
            for sym in s.iter_symbols():
                if sym.name and sym["st_shndx"] != "SHN_UNDEF":
                    addresses.setdefault(sym.name, sym["st_value"])
    return addresses
