"""Mach-O container reader: objects (relocations applied), executables, dSYM companions and fat files.

The Mach-O constants live once, in the Mach-O backend's constants module. The fat header and the load commands are
walked by ``backends/macho_dsym/parse.py``, which the backend's own reader (``backends/macho_dsym/reader.py``) uses
too: one bounded walker, and each reader decides what a problem means. The backend's reader is strict and decodes
64-bit little-endian commands into its ``commands`` dataclasses; this one also reads 32-bit and big-endian files,
decodes only segments, sections, LC_UUID and LC_SYMTAB, and reads on past damage, recording each problem with its
offset (only an unusable header or fat header is a ``ContainerError``).

In an object (``MH_OBJECT``) every relocation of a debug section is also recorded in ``DebugFile.relocations``
(field offset -> `SymbolRef`), for ``dwarfkit.load`` and the rewriters: an extern one by the symbol's name as the
symbol table spells it (``_main``), its addend the value in place; a section-based one (``r_extern`` 0, as clang
writes addresses of defined symbols) by its target section, ``"__TEXT,__text"``, its addend the value in place
minus that section's address (or, when the target is a debug section, kind ``section`` and the normalised name
``debug_str``). A SUBTRACTOR/UNSIGNED pair, or an x86_64 SIGNED/BRANCH record, is kind ``pcrel``: the field holds
the target's address plus the addend minus the field's own address. Other records (GOT, TLV) are not recorded.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator

from ..backends.macho_dsym import constants as c
from ..backends.macho_dsym.constants import (
    FAT_MAGIC,
    FAT_MAGIC_64,
    LC_SEGMENT,
    LC_SEGMENT_64,
    LC_SYMTAB,
    LC_UUID,
    MH_MAGIC,
    MH_MAGIC_64,
    MH_OBJECT,
    S_ATTR_PURE_INSTRUCTIONS,
    S_ATTR_SOME_INSTRUCTIONS,
    S_GB_ZEROFILL,
    S_THREAD_LOCAL_ZEROFILL,
    S_ZEROFILL,
)
from ..backends.macho_dsym.parse import LayoutError, fat_entries, load_commands
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
    le = int.from_bytes(data[:4], "little")
    be = int.from_bytes(data[:4], "big")
    if le in (MH_MAGIC, MH_MAGIC_64) or be in (MH_MAGIC, MH_MAGIC_64):
        return True
    # 0xCAFEBABE is also a Java class file; a fat header has a small architecture count.
    return be in (FAT_MAGIC, FAT_MAGIC_64) and 0 < int.from_bytes(data[4:8], "big") < 32


def read_macho(path: str, data: bytes, arch: str | None = None, max_section_size: int | None = None) -> DebugFile:
    be = int.from_bytes(data[:4], "big")
    if be in (FAT_MAGIC, FAT_MAGIC_64):
        data = _fat_slice(path, data, arch)
    elif arch is not None:
        found = CPU_TYPES.get(_u32(data, 4, _byteorder(data)), "unknown")
        if ARCH_ALIASES.get(arch, arch) != found:
            raise ContainerError(f"{path}: holds {found}, not {arch}")
    return _read_thin(path, data, section_limit(len(data), max_section_size))


def _byteorder(data: bytes) -> ByteOrder:
    return "little" if int.from_bytes(data[:4], "little") in (MH_MAGIC, MH_MAGIC_64) else "big"


def _u32(data: bytes, off: int, order: ByteOrder) -> int:
    if off + 4 > len(data):
        raise ContainerError(f"Mach-O header field at 0x{off:x} is past the end of the file")
    return int.from_bytes(data[off:off + 4], order)


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


def _read_thin(path: str, data: bytes, limit: int) -> DebugFile:
    order = _byteorder(data)
    e = "<" if order == "little" else ">"
    magic = _u32(data, 0, order)
    is64 = magic == MH_MAGIC_64
    if len(data) < 28:
        raise ContainerError(f"{path}: Mach-O header at 0x0 is truncated ({len(data)} bytes)")
    cputype, _sub, filetype, ncmds, sizeofcmds = struct.unpack_from(e + "5I", data, 4)
    arch = CPU_TYPES.get(cputype, "unknown")
    out = DebugFile(path=path, file_format=_FORMAT_NAMES.get(arch, "Mach-O"), arch="aarch64" if arch == "arm64"
                    else arch, byteorder=order, address_size=8 if is64 else 4, sections={},
                    is_object=filetype == MH_OBJECT)
    # (name, segment, addr, size, offset, reloff, nreloc, flags), numbered from 1
    sections: list[tuple[str, str, int, int, int, int, int, int]] = []
    symtab = None
    try:
        # Never more commands than sizeofcmds has room for, however many ncmds claims.
        for off, cmd, cmdsize in load_commands(data, 32 if is64 else 28, min(ncmds, sizeofcmds // 8), sizeofcmds, e):
            if cmd in (LC_SEGMENT_64, LC_SEGMENT):
                sections.extend(_segment_sections(data, off, e, cmd == LC_SEGMENT_64, cmdsize))
            elif cmd == LC_UUID and cmdsize >= 24:
                out.uuid = bytes(data[off + 8:off + 24])
            elif cmd == LC_SYMTAB and cmdsize >= 24:
                symtab = struct.unpack_from(e + "4I", data, off + 8)
    except LayoutError as err:  # keep what came before; the rest of the file may still hold DWARF
        out.problems.append(err.what)
    symbols = _symbols(data, symtab, e, is64) if out.is_object and symtab else []
    for number, (sectname, segname, addr, size, offset, reloff, nreloc, flags) in enumerate(sections, 1):
        out.section_addresses[number] = sectname
        kind = flags & 0xFF
        if kind in (S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL) or offset == 0:
            continue
        if offset + size > len(data):
            out.problems.append(f"section {segname},{sectname}: 0x{offset:x}+0x{size:x} is past the end of the file")
            continue
        raw = data[offset:offset + size]
        name = normalise_section_name(sectname)
        if name is None:
            if flags & (S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS):
                out.code.append(CodeSection(sectname, addr, raw))
            continue
        if sectname.startswith("__zdebug"):  # GNU-style compressed DWARF, as in ELF's .zdebug_*
            try:
                raw = decompress_zdebug(f"{segname},{sectname}", raw, limit)
            except ReadError as err:
                out.problems.append(str(err))
                continue
        elif out.is_object and nreloc:
            raw = _relocate(out, sectname, raw, data, reloff, nreloc, e, symbols, arch, sections, addr)
        out.sections[name] = raw
        out.addresses[name] = addr
        out.section_offsets[name] = offset
    return out


def _segment_sections(data: bytes, off: int, e: str, is64: bool,
                      cmdsize: int) -> Iterator[tuple[str, str, int, int, int, int, int, int]]:
    if is64:
        nsects = struct.unpack_from(e + "I", data, off + 64)[0]
        first, size = off + 72, 80
    else:
        nsects = struct.unpack_from(e + "I", data, off + 48)[0]
        first, size = off + 56, 68
    nsects = min(nsects, (cmdsize - (first - off)) // size)
    for i in range(nsects):
        s = first + i * size
        sectname = data[s:s + 16].split(b"\0", 1)[0].decode("latin-1")
        segname = data[s + 16:s + 32].split(b"\0", 1)[0].decode("latin-1")
        if is64:
            addr, sz, offset, _align, reloff, nreloc, flags = struct.unpack_from(e + "QQIIIII", data, s + 32)
        else:
            addr, sz, offset, _align, reloff, nreloc, flags = struct.unpack_from(e + "IIIIIII", data, s + 32)
        yield sectname, segname, addr, sz, offset, reloff, nreloc, flags


def _symbols(data: bytes, symtab: tuple[int, int, int, int], e: str, is64: bool) -> list[tuple[str, int]]:
    """(name, value) of each symbol; a name outside the string table reads as ``""``."""
    symoff, nsyms, stroff, strsize = symtab
    size = 16 if is64 else 12
    nsyms = min(nsyms, max(0, (len(data) - symoff) // size))
    strings = data[stroff:min(stroff + strsize, len(data))]
    out = []
    for i in range(nsyms):
        o = symoff + i * size
        strx = struct.unpack_from(e + "I", data, o)[0]
        end = strings.find(b"\0", strx)
        name = strings[strx:end if end >= 0 else len(strings)].decode("latin-1") if strx < len(strings) else ""
        out.append((name, struct.unpack_from(e + ("Q" if is64 else "I"), data, o + 8)[0]))
    return out


def _relocate(out: DebugFile, sectname: str, raw: bytes, data: bytes, reloff: int, nreloc: int, e: str,
              symbols: list[tuple[str, int]], arch: str, sections: list[tuple[str, str, int, int, int, int, int, int]],
              address: int) -> bytes:
    """The section's bytes with its extern relocations applied (section-based ones already hold their value);
    every record is also kept in ``out.relocations`` (see the module docstring). ``address``: the section's own."""
    buf = bytearray(raw)
    order: ByteOrder = "little" if e == "<" else "big"
    subtractor = RELOC_SUBTRACTOR.get(arch)
    pending_sub = None
    refs = out.relocations.setdefault(normalise_section_name(sectname) or sectname, {})
    if reloff + 8 * nreloc > len(data):
        out.problems.append(f"{sectname}: relocation table at 0x{reloff:x} is past the end of the file")
        return raw
    for i in range(nreloc):
        offset, info = struct.unpack_from(e + "iI", data, reloff + 8 * i)
        if offset < 0:  # scattered relocation (32-bit only); debug sections do not use them
            out.problems.append(f"{sectname}: scattered relocation {i} not applied")
            continue
        symnum, pcrel, length, extern, rtype = info & 0xFFFFFF, (info >> 24) & 1, (info >> 25) & 3, \
            (info >> 27) & 1, info >> 28
        size = 1 << length
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


def _section_ref(sections: list[tuple[str, str, int, int, int, int, int, int]], number: int,
                 stored: int, size: int = 8) -> SymbolRef | None:
    """A section-based relocation's target: section ``number`` (1-based), the stored value an address in it."""
    if not 0 < number <= len(sections):
        return None
    sectname, segname, addr = sections[number - 1][:3]
    debug = normalise_section_name(sectname) if segname == "__DWARF" else None
    if debug is not None and debug != "eh_frame":
        return SymbolRef(debug, _addend(stored - addr, size), "section")
    return SymbolRef(f"{segname},{sectname}", _addend(stored - addr, size), "address")
