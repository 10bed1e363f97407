"""Mach-O container reader: objects (relocations applied), executables, dSYM companions and fat files.

One Mach-O decoder serves this reader and the backend's own (``backends/macho_dsym/reader.py``, strict, for the
writers): ``backends/macho_dsym/parse.py`` decodes the fat header, the header, the load commands (segments and their
sections, LC_SYMTAB, LC_UUID), the symbol and string tables and the relocation records, in any width and byte order,
into the backend's ``commands`` dataclasses; the constants live in the backend's ``constants``. This module is its
tolerant client: it reads on past damage, recording each problem with its offset (only an unusable header or fat
header is a ``ContainerError``), and turns what was decoded into a `DebugFile`: which sections are DWARF or code,
``__zdebug`` inflation, the relocations of an object applied.

In an object (``MH_OBJECT``) every relocation of a debug section is also recorded in ``DebugFile.relocations``
(field offset -> `SymbolRef`), for ``dwarfkit.load`` and the rewriters: an extern one by the symbol's name as the
symbol table spells it (``_main``), its addend the value in place; a section-based one (``r_extern`` 0, as clang
writes addresses of defined symbols) by its target section, ``"__TEXT,__text"``, its addend the value in place
minus that section's address (or, when the target is a debug section, kind ``section`` and the normalised name
``debug_str``). A SUBTRACTOR/UNSIGNED pair, or an x86_64 SIGNED/BRANCH record, is kind ``pcrel``: the field holds
the target's address plus the addend minus the field's own address. Other records (GOT, TLV) are not recorded.
"""
from __future__ import annotations

from ..backends.macho_dsym import constants as c
from ..backends.macho_dsym.commands import Section64
from ..backends.macho_dsym.constants import (
    FAT_MAGIC,
    FAT_MAGIC_64,
    MH_OBJECT,
    S_ATTR_PURE_INSTRUCTIONS,
    S_ATTR_SOME_INSTRUCTIONS,
    S_GB_ZEROFILL,
    S_THREAD_LOCAL_ZEROFILL,
    S_ZEROFILL,
)
from ..backends.macho_dsym.parse import LayoutError, ThinFile, fat_entries, parse_thin, thin_format
from ..errors import ContainerError, ReadError
from .debugfile import (
    ByteOrder,
    CodeSection,
    DebugFile,
    SymbolRef,
    decompress_zdebug,
    normalise_section_name,
    section_limit,
)

CPU_TYPES = {c.CPU_TYPE_X86_64: "x86_64", c.CPU_TYPE_ARM64: "arm64", c.CPU_TYPE_I386: "i386", c.CPU_TYPE_ARM: "arm"}
ARCH_ALIASES = {"x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64", "i386": "i386", "arm": "arm"}
# UNSIGNED is 0 on every CPU; SUBTRACTOR differs.
RELOC_UNSIGNED = c.X86_64_RELOC_UNSIGNED
RELOC_SUBTRACTOR = {"x86_64": c.X86_64_RELOC_SUBTRACTOR, "arm64": c.ARM64_RELOC_SUBTRACTOR}
X86_64_PCREL = (c.X86_64_RELOC_SIGNED, c.X86_64_RELOC_BRANCH)
"""The pc-relative records that name a symbol itself (not its GOT entry or TLV descriptor)."""
_FORMAT_NAMES = {"x86_64": "Mach-O 64-bit x86-64", "arm64": "Mach-O arm64", "i386": "Mach-O 32-bit i386",
                 "arm": "Mach-O arm"}


def is_macho(data: bytes) -> bool:
    if len(data) < 8:
        return False
    if thin_format(data) is not None:
        return True
    # 0xCAFEBABE is also a Java class file; a fat header has a small architecture count.
    return int.from_bytes(data[:4], "big") in (FAT_MAGIC, FAT_MAGIC_64) and 0 < int.from_bytes(data[4:8], "big") < 32


def read_macho(path: str, data: bytes, arch: str | None = None, max_section_size: int | None = None) -> DebugFile:
    be = int.from_bytes(data[:4], "big")
    if be in (FAT_MAGIC, FAT_MAGIC_64):
        data = _fat_slice(path, data, arch)
    try:
        thin = parse_thin(data, strict=False)
    except LayoutError as e:
        raise ContainerError(f"{path}: {e.what}") from None
    if arch is not None and be not in (FAT_MAGIC, FAT_MAGIC_64):
        found = CPU_TYPES.get(thin.header.cputype, "unknown")
        if ARCH_ALIASES.get(arch, arch) != found:
            raise ContainerError(f"{path}: holds {found}, not {arch}")
    return _read_thin(path, thin, section_limit(len(data), max_section_size))


def _fat_slice(path: str, data: bytes, arch: str | None) -> bytes:
    try:
        entries = fat_entries(data)
    except LayoutError as e:
        raise ContainerError(f"{path}: {e.what}") from None
    slices = {}
    for entry in entries:
        start, size = entry.offset, entry.size
        if start + size > len(data):
            raise ContainerError(f"{path}: fat slice {entry.index} (0x{start:x}+0x{size:x}) is past the end of the "
                                 "file")
        slices[CPU_TYPES.get(entry.cputype, f"cputype{entry.cputype:#x}")] = data[start:start + size]
    if arch is None:
        if len(slices) == 1:
            return next(iter(slices.values()))
        raise ContainerError(f"{path}: fat file with {', '.join(slices)}: choose one with --arch")
    want = ARCH_ALIASES.get(arch, arch)
    if want not in slices:
        raise ContainerError(f"{path}: no {arch} in this fat file (it has {', '.join(slices)})")
    return slices[want]


def _read_thin(path: str, thin: ThinFile, limit: int) -> DebugFile:
    data, header = thin.data, thin.header
    arch = CPU_TYPES.get(header.cputype, "unknown")
    out = DebugFile(path=path, file_format=_FORMAT_NAMES.get(arch, "Mach-O"), arch="aarch64" if arch == "arm64"
                    else arch, byteorder="little" if thin.e == "<" else "big", address_size=8 if thin.is64 else 4,
                    sections={}, is_object=header.filetype == MH_OBJECT)
    out.uuid = thin.uuid
    out.problems.extend(thin.problems)
    sections = thin.sections  # numbered from 1
    symbols = [(name, sym.value) for name, sym in thin.read_symbols(strict=False)] if out.is_object else []
    for number, section in enumerate(sections, 1):
        sectname, segname, offset, size = section.sectname, section.segname, section.offset, section.size
        out.section_addresses[number] = sectname
        if section.flags & 0xFF in (S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL) or offset == 0:
            continue
        if offset + size > len(data):
            out.problems.append(f"section {segname},{sectname}: 0x{offset:x}+0x{size:x} is past the end of the file")
            continue
        raw = data[offset:offset + size]
        name = normalise_section_name(sectname)
        if name is None:
            if section.flags & (S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS):
                out.code.append(CodeSection(sectname, section.addr, raw))
            continue
        if sectname.startswith("__zdebug"):  # GNU-style compressed DWARF, as in ELF's .zdebug_*
            try:
                raw = decompress_zdebug(f"{segname},{sectname}", raw, limit)
            except ReadError as err:
                out.problems.append(str(err))
                continue
        elif out.is_object and section.nreloc:
            raw = _relocate(out, thin, section, raw, symbols, arch, sections)
        out.sections[name] = raw
        out.addresses[name] = section.addr
        out.section_offsets[name] = offset
    return out


def _relocate(out: DebugFile, thin: ThinFile, section: Section64, raw: bytes, symbols: list[tuple[str, int]],
              arch: str, sections: list[Section64]) -> bytes:
    """The section's bytes with its extern relocations applied (section-based ones already hold their value);
    every record is also kept in ``out.relocations`` (see the module docstring)."""
    sectname, address = section.sectname, section.addr
    buf = bytearray(raw)
    order: ByteOrder = "little" if thin.e == "<" else "big"
    subtractor = RELOC_SUBTRACTOR.get(arch)
    pending_sub = None
    refs = out.relocations.setdefault(normalise_section_name(sectname) or sectname, {})
    try:
        records = thin.relocations(section)
    except LayoutError as err:
        out.problems.append(f"{sectname}: {err.what}")
        return raw
    for i, record in enumerate(records):
        offset, symnum, pcrel, extern, rtype = record.address, record.symbolnum, record.pcrel, record.extern, \
            record.type
        if offset < 0:  # scattered relocation (32-bit only); debug sections do not use them
            out.problems.append(f"{sectname}: scattered relocation {i} not applied")
            continue
        size = 1 << record.length
        if offset + size > len(buf):
            out.problems.append(f"{sectname}: relocation {i} at 0x{offset:x} is past the end of the section")
            continue
        stored = int.from_bytes(buf[offset:offset + size], order)
        if rtype == subtractor:
            pending_sub = symbols[symnum][1] if extern and symnum < len(symbols) else None
            continue
        if rtype != RELOC_UNSIGNED or pcrel:
            if arch == "x86_64" and rtype in X86_64_PCREL and extern and symnum < len(symbols) and size == 4:
                # counted from the end of the 4-byte field: S + stored - (P + 4)
                refs[offset] = SymbolRef(symbols[symnum][0], _signed(stored, size) - 4, "pcrel")
            out.problems.append(f"{sectname}: relocation {i} at 0x{offset:x} of type {rtype} not applied")
            continue
        if not extern:
            ref = _section_ref(sections, symnum, stored, size)
            if ref is None:
                out.problems.append(f"{sectname}: relocation {i} at 0x{offset:x} names section {symnum}, "
                                    f"the file has {len(sections)}")
            else:
                refs[offset] = ref
            pending_sub = None
            continue  # the section's bytes already hold the address inside the object
        if symnum >= len(symbols):
            out.problems.append(f"{sectname}: relocation {i} at 0x{offset:x} names symbol {symnum}, "
                                f"the table has {len(symbols)}")
            continue
        name, symbol_value = symbols[symnum]
        value = stored + symbol_value
        if pending_sub is not None:
            # S - Sub + stored, with Sub the field's own place: pc-relative with addend stored + P - Sub
            refs[offset] = SymbolRef(name, _signed(stored, size) + address + offset - pending_sub, "pcrel")
            value -= pending_sub
            pending_sub = None
        else:
            refs[offset] = SymbolRef(name, _addend(stored, size), "address")
        buf[offset:offset + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, order)
    if not refs:
        del out.relocations[normalise_section_name(sectname) or sectname]
    return bytes(buf)


def _signed(value: int, size: int) -> int:
    bits = 8 * size
    return value - (1 << bits) if value >> (bits - 1) else value


def _addend(value: int, size: int) -> int:
    """An addend as the field holds it, modulo its width: an 8-byte field's as a signed 64-bit number (what
    relocation addends are), so that a corrupt section address or field value cannot make it overflow."""
    value &= (1 << (8 * size)) - 1
    return _signed(value, size) if size == 8 else value


def _section_ref(sections: list[Section64], number: int, stored: int, size: int = 8) -> SymbolRef | None:
    """A section-based relocation's target: section ``number`` (1-based), the stored value an address in it."""
    if not 0 < number <= len(sections):
        return None
    target = sections[number - 1]
    sectname, segname, addr = target.sectname, target.segname, target.addr
    debug = normalise_section_name(sectname) if segname == "__DWARF" else None
    if debug is not None and debug != "eh_frame":
        return SymbolRef(debug, _addend(stored - addr, size), "section")
    return SymbolRef(f"{segname},{sectname}", _addend(stored - addr, size), "address")
