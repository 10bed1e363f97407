"""dSYM bundles: the DWARF of a Mach-O executable in a separate ``MH_DSYM`` file that lldb pairs by UUID.

The DWARF file has what dsymutil writes: the executable's CPU type and UUID, its build version (without tools), its
symbol table (without debugging STABS), copies of its segment and section headers with no file contents (except
``__eh_frame``, copied for unwinding), a ``__LINKEDIT`` segment holding the symbol table and a ``__DWARF`` segment
holding the debug sections, whose addresses are final (the executable's symbol values).

File layout: header and load commands, then the copied ``__eh_frame``, then the ``__DWARF`` pieces, then
``__LINKEDIT``, each piece placed through :class:`~.layout.FileSpace` with slack so that a later update can grow a
section in place. The load commands keep dsymutil's order (``__LINKEDIT`` before ``__DWARF``), whatever the file
order.
"""
from __future__ import annotations

import copy
from pathlib import Path

from dwarfkit.arch import Arch, check_frame_section
from dwarfkit.encoding import align_up
from dwarfkit.errors import ContainerError, RelocationError
from dwarfkit.image import Image, check_final_addresses
from dwarfkit.output import write_atomically
from dwarfkit.sections import DwarfSections

from . import constants as C
from .bundle import info_plist, write_directory_atomic
from .commands import (
    BuildVersionCommand,
    LoadCommand,
    MachHeader,
    Section64,
    SegmentCommand64,
    SymtabCommand,
    UuidCommand,
)
from .executable import build_executable
from .layout import FileSpace
from .names import debug_section_name, find_symbol, symbol_name
from .reader import MachOFile, read_macho, read_macho_bytes
from .symtab import SymbolEntry, encode_symtab

FILE_ALIGNMENT = 0x1000
"""Segments start on 4 KiB boundaries in the file and span whole 4 KiB in memory, as dsymutil places them (on arm64
too: a dSYM is never mapped)."""

NOT_IN_DSYM = (".eh_frame",)
"""Sections that belong to the executable's ``__TEXT``, not to its debug file."""

COPIED_SECTIONS = {("__TEXT", "__eh_frame")}
"""Executable sections whose bytes the dSYM carries too, as dsymutil does: lldb unwinds with them."""


def write_dsym(executable_path: str | Path, dwarf: DwarfSections, out_dir: str | Path | None = None,
               arch: Arch | str | None = None) -> Path:
    """Writes ``NAME.dSYM`` for the executable at ``executable_path`` (next to it unless ``out_dir`` is given) and
    returns the bundle's path. ADDRESS relocations in ``dwarf`` name symbols of the executable (``main`` finds
    ``_main``, see :mod:`.names`)."""
    executable = read_macho(executable_path, arch)
    return _write_bundle(executable, build_dsym(executable, dwarf), out_dir)


def write_executable_and_dsym(image: Image, path: str | Path, out_dir: str | Path | None = None) -> Path:
    """Writes ``image`` as the executable ``path`` and its DWARF as ``NAME.dSYM`` beside it (or in ``out_dir``);
    returns the bundle's path.

    The pair is written dSYM first, executable last: the executable is the commit point. A crash between the two
    leaves the old executable beside a new dSYM whose UUID is not its own, which lldb ignores (no wrong debug info is
    ever paired), ``dwarfkit verify NAME.dSYM`` reports ("UUID ... differs from ...") and the next call replaces."""
    path = Path(path)
    if image.dwarf is None:
        raise ContainerError(f"{path}: the image has no DWARF, so there is no dSYM to write (give Image(dwarf=...))")
    data = build_executable(image, path.name)
    executable = read_macho_bytes(path, data)
    dsym = build_dsym(executable, image.dwarf)
    bundle = _write_bundle(executable, dsym, out_dir)
    write_atomically(path, data, executable=True)
    return bundle


def _write_bundle(executable: MachOFile, data: bytes, out_dir: str | Path | None) -> Path:
    name = executable.path.name
    bundle = Path(out_dir if out_dir is not None else executable.path.parent) / f"{name}.dSYM"

    def fill(root: Path) -> None:
        contents = root / "Contents"
        (contents / "Resources" / "DWARF").mkdir(parents=True)
        (contents / "Info.plist").write_text(info_plist(name))
        (contents / "Resources" / "DWARF" / name).write_bytes(data)

    write_directory_atomic(bundle, fill)
    return bundle


def resolve_symbols(executable: MachOFile, dwarf: DwarfSections) -> dict[str, int]:
    """Address of every symbol the DWARF refers to; names every missing one."""
    table = executable.symbol_addresses()
    addresses: dict[str, int] = {}
    missing = []
    for name in sorted(dwarf.symbols()):
        value = find_symbol(name, table)
        if value is None:
            missing.append(f"{name} (neither {symbol_name(name)} nor {name})")
        else:
            addresses[name] = value
    if missing:
        raise RelocationError(f"{executable.path}: the DWARF refers to symbols the executable does not define: "
                              f"{', '.join(missing)}")
    return addresses


def build_dsym(executable: MachOFile, dwarf: DwarfSections) -> bytes:
    """The bytes of the dSYM's DWARF file for ``executable``."""
    if executable.header.filetype != C.MH_EXECUTE:
        raise ContainerError(f"{executable.path}: is not an executable (Mach-O file type "
                             f"{executable.header.filetype:#x}); a dSYM describes an MH_EXECUTE file")
    uuid = executable.uuid
    if uuid is None:
        raise ContainerError(f"{executable.path}: has no LC_UUID; lldb pairs a dSYM with its executable by UUID, "
                             f"link with a UUID (ld64.lld does so by default)")
    check_encoding(dwarf, executable.arch, str(executable.path))
    kept = DwarfSections(dwarf.encoding, {name: s for name, s in dwarf.sections.items() if name not in NOT_IN_DSYM})
    for section in kept:
        if section.name == ".debug_frame":
            check_frame_section(executable.arch, section.name, bytes(section.data), dwarf.encoding.byteorder)
    addresses = resolve_symbols(executable, kept)
    check_final_addresses(kept, addresses, ((f"{s.segname},{s.sectname}", s.addr, s.size)
                                            for seg in executable.segments for s in seg.sections),
                          str(executable.path))
    return DsymFile(executable, uuid, kept.resolve(addresses)).encode()


def check_encoding(dwarf: DwarfSections, arch: Arch, where: str) -> None:
    """The DWARF must use the target's address size and byte order (every Mach-O target here: 8, little)."""
    enc = dwarf.encoding
    if enc.address_size != arch.info.address_size or enc.byteorder != "little":
        raise ContainerError(f"{where}: DWARF with {enc.address_size}-byte {enc.byteorder}-endian addresses does not "
                             f"fit {arch.info.name} (8-byte little-endian)")


class DsymFile:
    """Load commands and layout of one dSYM DWARF file."""

    def __init__(self, executable: MachOFile, uuid: bytes, debug: dict[str, bytes]) -> None:
        self.executable = executable
        self.debug = debug
        self.symbols, self.strings = encode_symtab(self._symbols())
        self.symtab = SymtabCommand()
        self.copied = [self._header_copy(seg) for seg in executable.segments if seg.segname != "__LINKEDIT"]
        self.linkedit = SegmentCommand64("__LINKEDIT", maxprot=C.VM_PROT_READ, initprot=C.VM_PROT_READ)
        self.dwarf = SegmentCommand64("__DWARF", maxprot=C.VM_PROT_READ | C.VM_PROT_WRITE | C.VM_PROT_EXECUTE,
                                      initprot=C.VM_PROT_READ | C.VM_PROT_WRITE)
        self.dwarf.sections = [Section64(debug_section_name(name), "__DWARF") for name in debug]
        self.commands: list[LoadCommand] = [UuidCommand(uuid)]
        build = executable.command(C.LC_BUILD_VERSION)
        if isinstance(build, BuildVersionCommand):
            self.commands.append(BuildVersionCommand(build.platform, build.minos, build.sdk, []))
        self.commands += [self.symtab, *self.copied, self.linkedit, self.dwarf]
        self.header = MachHeader(executable.header.cputype, executable.header.cpusubtype, C.MH_DSYM,
                                 len(self.commands), sum(len(c.encode()) for c in self.commands))
        self._lay_out()

    def _symbols(self) -> list[SymbolEntry]:
        """The executable's symbols without its debug map (the STABS dsymutil has read)."""
        return [SymbolEntry(name, s.type, s.sect, s.desc, s.value) for name, s in self.executable.symbols
                if not s.is_stab]

    @staticmethod
    def _header_copy(segment: SegmentCommand64) -> SegmentCommand64:
        """The segment's and its sections' headers, addresses kept, with no bytes in this file."""
        seg = copy.deepcopy(segment)
        seg.fileoff = seg.filesize = 0
        for s in seg.sections:
            s.offset = s.reloff = s.nreloc = 0
        return seg

    def _lay_out(self) -> None:
        header_end = C.MACH_HEADER_64_SIZE + self.header.sizeofcmds
        self.copied_space = FileSpace(align_up(header_end, FILE_ALIGNMENT), slack=False)
        self.copied_data: list[tuple[Section64, bytes]] = []
        for segment, original in zip(self.copied, (s for s in self.executable.segments if s.segname != "__LINKEDIT"),
                                     strict=True):
            for section, source in zip(segment.sections, original.sections, strict=True):
                if (section.segname, section.sectname) in COPIED_SECTIONS and not source.is_zerofill:
                    section.offset = self.copied_space.allocate(f"{section.segname},{section.sectname}",
                                                                section.size, 1 << section.align)
                    self.copied_data.append((section, self.executable.section_data(source)))
            offsets = [s.offset for s in segment.sections if s.offset]
            if offsets:
                segment.fileoff = min(offsets)
                segment.filesize = max(s.offset + s.size for s in segment.sections if s.offset) - segment.fileoff
        self.dwarf_space = FileSpace(align_up(self.copied_space.end(), FILE_ALIGNMENT))
        for name, data in self.debug.items():
            self.dwarf_space.allocate(name, len(data))
        self._place_linkedit()

    def grow_section(self, name: str, data: bytes) -> bool:
        """Replaces debug section ``name`` (ELF spelling) with ``data``; it stays where it is while it fits its
        room, else it moves (returns True). ``__LINKEDIT`` follows the ``__DWARF`` pieces wherever they end."""
        if name not in self.debug:
            raise ContainerError(f"the dSYM has no section {name}")
        self.debug[name] = data
        _, moved = self.dwarf_space.grow(name, len(data))
        self._place_linkedit()
        return moved

    def _place_linkedit(self) -> None:
        """Places the symbol and string tables after the last __DWARF piece and updates every segment header."""
        self.linkedit_space = FileSpace(align_up(self.dwarf_space.end(), FILE_ALIGNMENT))
        self.symtab.symoff = self.linkedit_space.allocate("symbols", len(self.symbols), 8)
        self.symtab.nsyms = len(self.symbols) // C.NLIST_64_SIZE
        self.symtab.stroff = self.linkedit_space.allocate("strings", len(self.strings), 8)
        self.symtab.strsize = len(self.strings)

        last = max(self.copied, key=lambda s: s.vmaddr + s.vmsize, default=None)
        self.linkedit.vmaddr = align_up(last.vmaddr + last.vmsize, FILE_ALIGNMENT) if last else 0
        self.linkedit.fileoff = self.linkedit_space.start
        self.linkedit.filesize = self.linkedit_space.end() - self.linkedit.fileoff
        self.linkedit.vmsize = align_up(self.linkedit.filesize, FILE_ALIGNMENT)

        self.dwarf.fileoff = self.dwarf_space.start
        self.dwarf.filesize = self.dwarf_space.end() - self.dwarf.fileoff
        self.dwarf.vmaddr = self.linkedit.vmaddr + self.linkedit.vmsize
        self.dwarf.vmsize = align_up(self.dwarf.filesize, FILE_ALIGNMENT)
        for section, name in zip(self.dwarf.sections, self.debug, strict=True):
            piece = self.dwarf_space.pieces[name]
            section.offset = piece.offset
            section.size = piece.size
            section.addr = self.dwarf.vmaddr + piece.offset - self.dwarf.fileoff

    def encode(self) -> bytes:
        out = bytearray(self.header.encode() + b"".join(c.encode() for c in self.commands))
        pieces = [(self.dwarf_space.pieces[name].offset, data) for name, data in self.debug.items()]
        pieces += [(section.offset, data) for section, data in self.copied_data]
        pieces += [(self.symtab.symoff, self.symbols), (self.symtab.stroff, self.strings)]
        for offset, data in pieces:
            if len(out) < offset:
                out += bytes(offset - len(out))
            out[offset:offset + len(data)] = data
        return bytes(out)
