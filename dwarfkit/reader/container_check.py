"""``dwarfkit verify``'s checks of the container itself, the ones llvm-objdump and llvm-readobj make before they read
any DWARF: every header, table and section inside the file, indices that point at something, sizes that add up.

* ELF: the section and program header tables within the file, each non-``NOBITS`` section's bytes within the file,
  ``e_shstrndx`` naming a string table, ``sh_link``/``sh_info`` indices valid, section names inside the name table,
  sections' file bytes not overlapping, each segment's file bytes within the file and not more than its memory.
* Mach-O: load commands within ``sizeofcmds`` and adding up to it, each ``cmdsize`` aligned, segment file ranges
  within the file with ``filesize <= vmsize``, each section inside its segment's memory and file ranges and the
  file, relocation, symbol, string and ``__LINKEDIT`` data tables within the file; fat slices within the file and
  apart.
* COFF/PE: the optional header's size against its magic and data directories, the section table, each section's raw
  bytes and relocations, the symbol table and the string table within the file, long section names inside the string
  table.

Only the checks live here. The structures are decoded by each format's one parser, the one the container readers and
the backends use: ``backends/elf/elfinput.py`` (``elf_layout``, ``decode_elf_header``: the header and table entries
of any class and byte order), ``backends/macho_dsym/parse.py`` (the fat header, the load command walker and its
tolerant command decoder), ``backends/coff/input_file.py`` (its layout functions). Those decode without judging, so
that a file with several problems gets a finding for each rather than the parsers' first error.

Findings are plain strings in verify's style, each naming the structure and its offset. Every loop walks a table
whose size was first checked against the file, so the work is bounded by the file's size.
"""
from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from ..backends.coff import constants as coff_c
from ..backends.coff import input_file as coff_in
from ..backends.elf.elfinput import SHN_LORESERVE, SHT, decode_elf_header, elf_layout, extended_numbering
from ..backends.macho_dsym import constants as macho_c
from ..backends.macho_dsym.commands import (
    DyldInfoCommand,
    LinkeditDataCommand,
    MachHeader,
    SegmentCommand64,
    SymtabCommand,
)
from ..backends.macho_dsym.parse import (
    LayoutError,
    decode_load_command,
    fat_arch_count,
    fat_entries,
    load_commands,
    thin_format,
)
from .coff import is_coff

SHT_NULL, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOBITS, SHT_REL, SHT_DYNSYM = (
    SHT[f"SHT_{name}"] for name in ("NULL", "SYMTAB", "STRTAB", "RELA", "NOBITS", "REL", "DYNSYM"))
SHF_INFO_LINK = 0x40
PT_LOAD = 1


def container_findings(path: str | Path) -> list[str]:
    """Structural problems of the ELF, Mach-O (thin, fat, dSYM bundle) or COFF/PE file at ``path``."""
    p = Path(path)
    if p.is_dir():
        members = sorted((p / "Contents" / "Resources" / "DWARF").glob("*"))
        if len(members) != 1:
            return []  # open_debug_file has said what is wrong with the bundle
        p = members[0]
    try:
        data = p.read_bytes()
    except OSError:
        return []
    if data[:4] == b"\x7fELF":
        return _Elf(data).check()
    magic_be = int.from_bytes(data[:4], "big")
    if magic_be in (macho_c.FAT_MAGIC, macho_c.FAT_MAGIC_64):
        return _fat(data)
    if int.from_bytes(data[:4], "little") in (macho_c.MH_MAGIC, macho_c.MH_MAGIC_64) \
            or magic_be in (macho_c.MH_MAGIC, macho_c.MH_MAGIC_64):
        return _MachO(data, 0, len(data), "Mach-O").check()
    if is_coff(data):
        return _Coff(data).check()
    return []


def _past(start: int, size: int, limit: int) -> bool:
    return start < 0 or size < 0 or start + size > limit


# -- ELF ------------------------------------------------------------------------------------------------------------
class _Elf:
    """Decoded by the ELF backend's parser (``elfinput``: layouts per class and byte order), judged here."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.findings: list[str] = []

    def add(self, message: str) -> None:
        self.findings.append(f"ELF: {message}")

    def check(self) -> list[str]:
        data = self.data
        layout = elf_layout(data)
        if layout is None:
            self.add(f"e_ident class {data[4:5].hex()} / data encoding {data[5:6].hex()} is not ELF32/64, LSB/MSB")
            return self.findings
        self.layout = layout
        header = decode_elf_header(data, layout)
        if header is None:
            self.add("the file header is truncated")
            return self.findings
        self.check_segments(header.e_phoff, header.e_phentsize, header.e_phnum)
        sections = self.section_headers(header.e_shoff, header.e_shentsize, header.e_shnum, header.e_shstrndx)
        if sections:
            self.check_sections(sections)
        return self.findings

    def check_segments(self, phoff: int, entsize: int, count: int) -> None:
        if not count:
            return
        want = self.layout.phdr.size
        if entsize != want:
            self.add(f"e_phentsize {entsize} is not {want}")
            return
        if _past(phoff, count * entsize, len(self.data)):
            self.add(f"program header table at 0x{phoff:x} ({count} entries) extends past the end of the file "
                     f"(0x{len(self.data):x})")
            return
        for i in range(count):
            segment = self.layout.program_header(self.data, phoff + i * entsize)
            offset, filesz, memsz = segment.offset, segment.filesz, segment.memsz
            if filesz and _past(offset, filesz, len(self.data)):
                self.add(f"program header {i}: p_offset 0x{offset:x} + p_filesz 0x{filesz:x} extends past the end "
                         f"of the file (0x{len(self.data):x})")
            if segment.type == PT_LOAD and filesz > memsz:
                self.add(f"program header {i} (PT_LOAD): p_filesz 0x{filesz:x} is greater than p_memsz 0x{memsz:x}")

    def section_headers(self, shoff: int, entsize: int, count: int, shstrndx: int) -> list[tuple[int, ...]] | None:
        want = self.layout.shdr.size
        if shoff == 0:
            return None
        if entsize != want:
            self.add(f"e_shentsize {entsize} is not {want}")
            return None
        if _past(shoff, want, len(self.data)):
            self.add(f"section header table at 0x{shoff:x} is past the end of the file (0x{len(self.data):x})")
            return None
        count, shstrndx = extended_numbering(self.layout.section_header(self.data, shoff), count, shstrndx)
        if _past(shoff, count * want, len(self.data)):
            self.add(f"section header table at 0x{shoff:x} ({count} entries of {want} bytes) extends past the end "
                     f"of the file (0x{len(self.data):x})")
            return None
        sections = [self.layout.section_header(self.data, shoff + i * want) for i in range(count)]
        self.shstrndx = shstrndx
        if shstrndx and shstrndx >= count:
            self.add(f"e_shstrndx {shstrndx} is not a section index (the file has {count} sections)")
            self.shstrndx = 0
        elif shstrndx and sections[shstrndx][1] != SHT_STRTAB:
            self.add(f"e_shstrndx {shstrndx} names a section of type {sections[shstrndx][1]}, not SHT_STRTAB")
            self.shstrndx = 0
        return sections

    def check_sections(self, sections: list[tuple[int, ...]]) -> None:
        count, size = len(sections), len(self.data)
        names_size = sections[self.shstrndx][5] if self.shstrndx else None
        spans = []
        for i, (name, sh_type, flags, _addr, offset, sh_size, link, info, _align, entsize) in enumerate(sections):
            if i == 0 or sh_type == SHT_NULL:
                continue
            where = f"section {i}"
            if names_size is not None and name >= names_size:
                self.add(f"{where}: sh_name 0x{name:x} is past the end of the section name table (0x{names_size:x})")
            if sh_type != SHT_NOBITS:
                if _past(offset, sh_size, size):
                    self.add(f"{where}: sh_offset 0x{offset:x} + sh_size 0x{sh_size:x} extends past the end of the "
                             f"file (0x{size:x})")
                elif sh_size:
                    spans.append((offset, offset + sh_size, i))
            if link >= count and not SHN_LORESERVE <= link:
                self.add(f"{where}: sh_link {link} is not a section index (the file has {count} sections)")
            if sh_type in (SHT_REL, SHT_RELA) or flags & SHF_INFO_LINK:
                if info >= count and not SHN_LORESERVE <= info:
                    self.add(f"{where}: sh_info {info} is not a section index (the file has {count} sections)")
            elif sh_type in (SHT_SYMTAB, SHT_DYNSYM) and entsize and info > sh_size // entsize:
                self.add(f"{where}: sh_info {info} (first global symbol) is past its {sh_size // entsize} symbols")
        spans.sort()
        end, owner = 0, 0
        for start, stop, i in spans:
            if start < end:
                self.add(f"sections {min(owner, i)} and {max(owner, i)} overlap in the file at 0x{start:x}")
            if stop > end:
                end, owner = stop, i


# -- Mach-O ---------------------------------------------------------------------------------------------------------
_ZEROFILL = (macho_c.S_ZEROFILL, macho_c.S_GB_ZEROFILL, macho_c.S_THREAD_LOCAL_ZEROFILL)
_DYLD_INFO_TABLES = ("rebase", "bind", "weak_bind", "lazy_bind", "export")


def _fat(data: bytes) -> list[str]:
    count, entry = fat_arch_count(data)
    if _past(8, count * entry, len(data)):
        return [f"fat Mach-O: {count} architecture entries extend past the end of the file (0x{len(data):x})"]
    findings: list[str] = []
    slices = []
    for fat in fat_entries(data):  # the header is inside the file: checked above
        i, start, size = fat.index, fat.offset, fat.size
        if _past(start, size, len(data)):
            findings.append(f"fat Mach-O: slice {i} at 0x{start:x} + 0x{size:x} extends past the end of the file "
                            f"(0x{len(data):x})")
            continue
        slices.append((start, start + size, i))
        findings += _MachO(data, start, start + size, f"fat Mach-O slice {i}").check()
    slices.sort()
    for (_a, end, i), (start, _b, j) in pairwise(slices):
        if start < end:
            findings.append(f"fat Mach-O: slices {i} and {j} overlap at 0x{start:x}")
    return findings


class _MachO:
    """Decoded by the Mach-O backend's parser (``parse``: the load command walker and the tolerant command decoder),
    judged here; offsets are within the thin file (or fat slice) ``data[start:end]``."""

    def __init__(self, data: bytes, start: int, end: int, what: str) -> None:
        self.data = memoryview(data)[start:end]
        self.size = end - start
        self.what = what
        self.findings: list[str] = []

    def add(self, message: str) -> None:
        self.findings.append(f"{self.what}: {message}")

    def within(self, what: str, offset: int, size: int) -> bool:
        """Whether [offset, offset + size) of this (thin) file lies inside it; a finding when not."""
        if _past(offset, size, self.size):
            self.add(f"{what} 0x{offset:x} + 0x{size:x} extends past the end of the file (0x{self.size:x})")
            return False
        return True

    def check(self) -> list[str]:
        # not a Mach-O magic (a fat slice may hold anything): judged as a 32-bit big-endian header
        form: tuple[str, bool] = thin_format(self.data) or (">", False)
        self.e, self.is64 = form
        header = macho_c.MACH_HEADER_64_SIZE if self.is64 else 28
        if self.size < header:
            self.add("the Mach-O header is truncated")
            return self.findings
        mach = MachHeader.decode(self.data, 0, self.e)
        self.filetype, ncmds, sizeofcmds = mach.filetype, mach.ncmds, mach.sizeofcmds
        if _past(header, sizeofcmds, self.size):
            self.add(f"sizeofcmds {sizeofcmds} extends past the end of the file (0x{self.size:x})")
            return self.findings
        align = 8 if self.is64 else 4
        self.headers_end = header + sizeofcmds
        total = 0
        try:
            # the walker stops at the first command outside sizeofcmds
            for i, (offset, cmd, cmdsize) in enumerate(load_commands(self.data, header, ncmds, sizeofcmds, self.e)):
                if cmdsize % align:
                    self.add(f"load command {i} (cmd 0x{cmd:x}) cmdsize {cmdsize} is not a multiple of {align}")
                self.command(i, cmd, cmdsize, offset)
                total += cmdsize
        except LayoutError as bad:
            self.add(f"{bad.what} (ncmds {ncmds}, sizeofcmds {sizeofcmds})")
            return self.findings
        if total != sizeofcmds:
            self.add(f"the {ncmds} load commands take {total} bytes, sizeofcmds says {sizeofcmds}")
        return self.findings

    def command(self, i: int, cmd: int, cmdsize: int, at: int) -> None:
        if cmd in (macho_c.LC_SEGMENT_64, macho_c.LC_SEGMENT):
            self.segment(i, cmd == macho_c.LC_SEGMENT_64, cmdsize, at)
            return
        if cmd == macho_c.LC_UUID:
            if cmdsize != 24:
                self.add(f"load command {i} (LC_UUID): cmdsize {cmdsize} is not 24")
            return
        command = decode_load_command(self.data, at, cmd, cmdsize, self.e, strict=False)
        if isinstance(command, SymtabCommand):
            self.within(f"load command {i} (LC_SYMTAB): symoff", command.symoff,
                        command.nsyms * (macho_c.NLIST_64_SIZE if self.is64 else 12))
            self.within(f"load command {i} (LC_SYMTAB): stroff", command.stroff, command.strsize)
        elif isinstance(command, LinkeditDataCommand):
            name = macho_c.LINKEDIT_DATA_COMMANDS[cmd]
            self.within(f"load command {i} ({name}): dataoff", command.dataoff, command.datasize)
        elif isinstance(command, DyldInfoCommand):
            for part in _DYLD_INFO_TABLES:
                offset, size = getattr(command, f"{part}_off"), getattr(command, f"{part}_size")
                if size:
                    self.within(f"load command {i} ({macho_c.DYLD_INFO_COMMANDS[cmd]}): {part}_off", offset, size)

    def segment(self, i: int, is64: bool, cmdsize: int, at: int) -> None:
        head, each = SegmentCommand64.sizes(is64)
        name = "LC_SEGMENT_64" if is64 else "LC_SEGMENT"
        if cmdsize < head:
            self.add(f"load command {i} ({name}): cmdsize {cmdsize} is smaller than the command ({head})")
            return
        seg = SegmentCommand64.decode(self.data, at, self.e, is64, cmdsize)
        nsects, vmaddr, vmsize = seg.declared_nsects or 0, seg.vmaddr, seg.vmsize
        fileoff, filesize = seg.fileoff, seg.filesize
        where = f"load command {i} ({name} {seg.segname!r})"
        if cmdsize != head + nsects * each:
            self.add(f"{where}: cmdsize {cmdsize} does not hold its {nsects} sections ({head + nsects * each})")
            return
        self.within(f"{where}: fileoff", fileoff, filesize)
        if vmsize and filesize > vmsize:
            self.add(f"{where}: filesize 0x{filesize:x} is greater than vmsize 0x{vmsize:x}")
        for k, section in enumerate(seg.sections):
            addr, size, offset = section.addr, section.size, section.offset
            sect = f"{where} section {k} ({section.sectname})"
            if size and (addr < vmaddr or addr + size > vmaddr + vmsize):
                self.add(f"{sect}: addresses [0x{addr:x}, 0x{addr + size:x}) are not inside the segment's "
                         f"[0x{vmaddr:x}, 0x{vmaddr + vmsize:x})")
            file_backed = section.type not in _ZEROFILL and offset and self.filetype != macho_c.MH_DSYM
            if file_backed and self.within(f"{sect}: offset", offset, size):
                if size and offset < self.headers_end:
                    self.add(f"{sect}: file bytes [0x{offset:x}, 0x{offset + size:x}) overlap the header and load "
                             f"commands [0x0, 0x{self.headers_end:x})")
                elif filesize and (offset < fileoff or offset + size > fileoff + filesize):
                    self.add(f"{sect}: file bytes [0x{offset:x}, 0x{offset + size:x}) are not inside the segment's "
                             f"[0x{fileoff:x}, 0x{fileoff + filesize:x})")
            if section.nreloc:
                self.within(f"{sect}: reloff", section.reloff, section.nreloc * macho_c.RELOCATION_INFO_SIZE)


# -- COFF / PE ------------------------------------------------------------------------------------------------------
class _Coff:
    """Decoded by the COFF backend's parser (``input_file``'s layout functions), judged here."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.findings: list[str] = []

    def add(self, message: str) -> None:
        self.findings.append(f"COFF: {message}")

    def within(self, what: str, offset: int, size: int) -> bool:
        if _past(offset, size, len(self.data)):
            self.add(f"{what} 0x{offset:x} + 0x{size:x} extends past the end of the file (0x{len(self.data):x})")
            return False
        return True

    def check(self) -> list[str]:
        data = self.data
        header = 0
        if data[:2] == b"MZ":
            lfanew = coff_in.e_lfanew(data)
            if lfanew is None:
                self.add("the DOS header is truncated")
                return self.findings
            if not coff_in.has_pe_signature(data, lfanew):
                self.add(f"no PE signature at e_lfanew 0x{lfanew:x}")
                return self.findings
            header = lfanew + 4
        if not self.within("file header at", header, coff_c.FILE_HEADER_SIZE):
            return self.findings
        fh = coff_in.FileHeader.decode(data, header)
        optional, opt_size = header + coff_c.FILE_HEADER_SIZE, fh.optional_size
        if opt_size and self.within("optional header at", optional, opt_size):
            self.optional_header(optional, opt_size)
        elif not opt_size and header:
            self.add("a PE image without an optional header")
        table, nsections = optional + opt_size, fh.section_count
        if not self.within(f"section table ({nsections} sections) at", table,
                           coff_c.SECTION_HEADER_SIZE * nsections):
            return self.findings
        strings = self.symbol_table(fh.symbol_pointer, fh.symbol_count)
        for k in range(nsections):
            self.section(k, table + coff_c.SECTION_HEADER_SIZE * k, strings, is_image=header != 0)
        return self.findings

    def optional_header(self, at: int, size: int) -> None:
        magic, fixed = coff_in.optional_header_fixed_size(self.data, at)
        if fixed is None:
            self.add(f"optional header magic 0x{magic:x} is neither PE32 (0x10b) nor PE32+ (0x20b)")
            return
        if size < fixed:
            kind = "PE32+" if magic == coff_c.IMAGE_NT_OPTIONAL_HDR64_MAGIC else "PE32"
            self.add(f"SizeOfOptionalHeader {size} is smaller than the {fixed}-byte {kind} optional header")
            return
        count = coff_in.number_of_rva_and_sizes(self.data, at, fixed)
        if fixed + 8 * count > size:
            self.add(f"NumberOfRvaAndSizes {count} does not fit SizeOfOptionalHeader {size} "
                     f"({fixed} + 8 * {count} bytes)")

    def symbol_table(self, symptr: int, nsyms: int) -> tuple[int, int] | None:
        """(start, size) of the string table after the symbols, when both are inside the file."""
        if not symptr:
            return None
        if not self.within(f"symbol table ({nsyms} symbols) at", symptr, coff_c.SYMBOL_SIZE * nsyms):
            return None
        start = symptr + coff_c.SYMBOL_SIZE * nsyms
        if start == len(self.data):
            return None
        if not self.within("string table size field at", start, 4):
            return None
        size = coff_in.string_table_size(self.data, start)
        if size < 4:
            self.add(f"string table at 0x{start:x}: size {size} is smaller than its own size field")
        elif self.within(f"string table at 0x{start:x}: size", start, size):
            return start, size
        return None

    def section(self, k: int, at: int, strings: tuple[int, int] | None, is_image: bool) -> None:
        raw, _vsize, _vaddr, raw_size, raw_ptr, rel_ptr, _ln, nrel, _nln, chars = coff_in.section_header(self.data, at)
        short = raw.split(bytes(1), 1)[0]
        name = short.decode("latin-1")
        where = f"section {k + 1} ({name})"
        long_name = coff_in.long_name_offset(short)
        if long_name is not None and strings is not None and long_name >= strings[1]:
            self.add(f"{where}: long name offset {name[1:]} is past the end of the string table "
                     f"({strings[1]} bytes)")
        if raw_ptr and raw_size and not chars & coff_c.IMAGE_SCN_CNT_UNINITIALIZED_DATA:
            self.within(f"{where}: raw data at", raw_ptr, raw_size)
        if nrel and not is_image:
            if chars & coff_c.IMAGE_SCN_LNK_NRELOC_OVFL and nrel == coff_c.MAX_RELOCATIONS_IN_HEADER \
                    and self.within(f"{where}: relocations at", rel_ptr, coff_c.RELOCATION_SIZE):
                nrel = coff_in.relocation_overflow_count(self.data, rel_ptr)
            self.within(f"{where}: {nrel} relocations at", rel_ptr, coff_c.RELOCATION_SIZE * nrel)
