"""COFF container reader: objects (``SECREL``/``ADDR64``/``ADDR32`` relocations applied) and PE images.

For objects, every relocation of a debug section is also kept in ``DebugFile.relocations`` as a ``SymbolRef``, so
that ``dwarfkit.load`` can rebuild symbolic addresses and a rewriter can re-create the relocation. The kind is decided
by the target first, then by the type: any relocation against a DWARF section's symbol is ``section`` (symbol =
normalised name ``debug_str``; clang 14 writes ``ADDR32`` for ``DW_FORM_line_strp``, meaning the same offset), ``REL32``
is ``pcrel``, a ``SECREL`` against any other section is ``tls`` (the offset of a thread-local symbol in ``.tls``),
``ADDR64``/``ADDR32`` are ``address``. Other types (``ADDR32NB`` ...) are neither applied nor kept. ``addend`` is the
value in place (plus the symbol's own value for ``section``), except that ``pcrel`` counts from the field as
``DwarfSections`` does, where ``REL32`` counts from the byte after it (in place - 4).

Long section names (``/123``, an offset into the string table) are resolved, which is how MinGW names
``.debug_info`` and friends. The COFF constants live once, in the COFF backend's constants
module.
"""
from __future__ import annotations

import struct

from ..backends.coff import constants as c
from ..errors import ContainerError
from .debugfile import CodeSection, DebugFile, SymbolRef, normalise_section_name

# A section header: name, virtual size, virtual address, raw size, raw pointer, relocation pointer and count, flags.
SectionHeader = tuple[str, int, int, int, int, int, int, int]

MACHINES = {c.IMAGE_FILE_MACHINE_AMD64: "x86_64", c.IMAGE_FILE_MACHINE_ARM64: "aarch64",
            c.IMAGE_FILE_MACHINE_I386: "i386", c.IMAGE_FILE_MACHINE_ARMNT: "arm"}
_FORMAT_NAMES = {"x86_64": "COFF-x86-64", "aarch64": "COFF-ARM64", "i386": "COFF-i386", "arm": "COFF-ARM"}
# Relocation types per machine: which add the symbol's offset in its section, which its address (and their sizes).
SECREL = {"x86_64": c.IMAGE_REL_AMD64_SECREL, "aarch64": c.IMAGE_REL_ARM64_SECREL, "i386": c.IMAGE_REL_I386_SECREL,
          "arm": c.IMAGE_REL_ARM_SECREL}
ADDRESS = {"x86_64": {c.IMAGE_REL_AMD64_ADDR64: 8, c.IMAGE_REL_AMD64_ADDR32: 4},
           "aarch64": {c.IMAGE_REL_ARM64_ADDR64: 8, c.IMAGE_REL_ARM64_ADDR32: 4},
           "i386": {c.IMAGE_REL_I386_DIR32: 4}, "arm": {c.IMAGE_REL_ARM_ADDR32: 4}}
REL32 = {"x86_64": c.IMAGE_REL_AMD64_REL32, "aarch64": c.IMAGE_REL_ARM64_REL32}
IMAGE_SCN_CNT_CODE, IMAGE_SCN_MEM_EXECUTE = c.IMAGE_SCN_CNT_CODE, c.IMAGE_SCN_MEM_EXECUTE
PE32_MAGIC, PE32PLUS_MAGIC = c.IMAGE_NT_OPTIONAL_HDR32_MAGIC, c.IMAGE_NT_OPTIONAL_HDR64_MAGIC


def is_coff(data: bytes) -> bool:
    if data[:2] == b"MZ":
        return True
    return len(data) >= 20 and int.from_bytes(data[:2], "little") in MACHINES


def read_coff(path: str, data: bytes) -> DebugFile:
    image_base = 0
    if data[:2] == b"MZ":
        if len(data) < 0x40:
            raise ContainerError(f"{path}: DOS header is truncated")
        pe = int.from_bytes(data[0x3C:0x40], "little")
        if data[pe:pe + 4] != b"PE\0\0":
            raise ContainerError(f"{path}: no PE signature at 0x{pe:x}")
        header = pe + 4
    else:
        header = 0
    if header + 20 > len(data):
        raise ContainerError(f"{path}: COFF header is truncated")
    machine, nsections, _time, symptr, nsyms, opt_size, _chars = struct.unpack_from("<HHIIIHH", data, header)
    arch = MACHINES.get(machine, "unknown")
    is_image = header != 0
    address_size = 8 if arch in ("x86_64", "aarch64") else 4
    if is_image and opt_size >= 2:
        magic = int.from_bytes(data[header + 20:header + 22], "little")
        if magic == PE32PLUS_MAGIC and opt_size >= 32:
            image_base = int.from_bytes(data[header + 44:header + 52], "little")
        elif magic == PE32_MAGIC and opt_size >= 32:
            image_base = int.from_bytes(data[header + 48:header + 52], "little")
    out = DebugFile(path=path, file_format=_FORMAT_NAMES.get(arch, "COFF"), arch=arch, byteorder="little",
                    address_size=address_size, sections={}, is_object=not is_image)
    strtab = symptr + 18 * nsyms
    table = header + 20 + opt_size
    if table + 40 * nsections > len(data):  # as llvm-objdump: "section table goes past the end of file"
        raise ContainerError(f"{path}: COFF section table at 0x{table:x} ({nsections} headers of 40 bytes) runs past "
                             f"the end of the file (0x{len(data):x})")
    headers: list[SectionHeader] = []
    for i in range(nsections):
        s = table + 40 * i
        raw_name = data[s:s + 8].split(b"\0", 1)[0].decode("latin-1")
        vsize, vaddr, rsize, rptr, relptr, _lnptr, nrel, _nln, chars = struct.unpack_from("<IIIIIIHHI", data, s + 8)
        name = _long_name(data, raw_name, strtab)
        headers.append((name, vsize, vaddr, rsize, rptr, relptr, nrel, chars))
    symbols = _symbols(data, symptr, nsyms, headers) if not is_image else []
    for number, (name, vsize, vaddr, rsize, rptr, relptr, nrel, chars) in enumerate(headers, 1):
        out.section_addresses[number] = name
        size = min(vsize, rsize) if is_image and vsize else rsize
        if rptr == 0 or size == 0:
            continue
        if rptr + size > len(data):
            out.problems.append(f"section {name}: 0x{rptr:x}+0x{size:x} is past the end of the file")
            continue
        raw = data[rptr:rptr + size]
        dwarf_name = normalise_section_name(name)
        if dwarf_name is None:
            if chars & (IMAGE_SCN_CNT_CODE | IMAGE_SCN_MEM_EXECUTE):
                out.code.append(CodeSection(name, vaddr + image_base, raw))
            continue
        if not is_image and nrel:
            refs: dict[int, SymbolRef] = {}
            raw = _relocate(out, name, raw, data, relptr, nrel, symbols, arch, headers, refs)
            out.relocations[dwarf_name] = refs
        out.sections[dwarf_name] = raw
        out.addresses[dwarf_name] = vaddr + image_base
        out.section_offsets[dwarf_name] = rptr
    return out


def _long_name(data: bytes, name: str, strtab: int) -> str:
    if name.startswith("/") and name[1:].isdigit():
        start = strtab + int(name[1:])
        end = data.find(b"\0", start)
        if start < len(data) and end != -1:
            return data[start:end].decode("latin-1")
    return name


# One symbol-table slot: its offset in its section, its address, its name and its section number.
_Symbol = tuple[int, int, str, int]


def _symbols(data: bytes, symptr: int, nsyms: int, headers: list[SectionHeader]) -> list[_Symbol | None]:
    """Every symbol-table slot; None for aux records and absent ones."""
    out: list[_Symbol | None] = []
    strtab = symptr + 18 * nsyms
    i = 0
    while i < nsyms:
        o = symptr + 18 * i
        if o + 18 > len(data):
            break
        value, section, _type, _cls, naux = struct.unpack_from("<IhHBB", data, o + 8)
        address = value
        if 0 < section <= len(headers):
            address += headers[section - 1][2]
        out.append((value, address, _symbol_name(data, o, strtab), section))
        out.extend([None] * naux)
        i += 1 + naux
    return out


def _symbol_name(data: bytes, at: int, strtab: int) -> str:
    raw = data[at:at + 8]
    if raw[:4] == b"\0\0\0\0":
        start = strtab + int.from_bytes(raw[4:8], "little")
        end = data.find(b"\0", start)
        return data[start:end].decode("latin-1") if start < len(data) and end != -1 else ""
    return raw.split(b"\0", 1)[0].decode("latin-1")


def _symbol_ref(symbol: _Symbol, rtype: int, in_place: int, arch: str,
                headers: list[SectionHeader]) -> SymbolRef | None:
    """What one relocation refers to (see the module docstring), or None for a type that is not kept."""
    value, _address, name, number = symbol
    section = headers[number - 1][0] if 0 < number <= len(headers) else ""
    debug = normalise_section_name(section)
    if debug is not None and debug != "eh_frame":
        return SymbolRef(debug, in_place + value, "section")
    if rtype == REL32.get(arch):
        return SymbolRef(name, in_place - 4, "pcrel")
    if rtype == SECREL.get(arch):
        return SymbolRef(name, in_place, "tls")
    if rtype in ADDRESS.get(arch, {}):   # an 8-byte field's addend is signed 64-bit (as any relocation addend)
        return SymbolRef(name, in_place - (1 << 64) if in_place >> 63 else in_place, "address")
    return None


def _relocate(out: DebugFile, name: str, raw: bytes, data: bytes, relptr: int, nrel: int,
              symbols: list[_Symbol | None], arch: str, headers: list[SectionHeader],
              refs: dict[int, SymbolRef]) -> bytes:
    buf = bytearray(raw)
    if relptr + 10 * nrel > len(data):
        out.problems.append(f"{name}: relocation table at 0x{relptr:x} is past the end of the file")
        return raw
    secrel = SECREL.get(arch)
    addresses = ADDRESS.get(arch, {})
    for i in range(nrel):
        vaddr, symindex, rtype = struct.unpack_from("<IIH", data, relptr + 10 * i)
        symbol = symbols[symindex] if symindex < len(symbols) else None
        if symbol is None:
            out.problems.append(f"{name}: relocation {i} at 0x{vaddr:x} names symbol {symindex}, which is not one")
            continue
        size = 4 if rtype in (secrel, REL32.get(arch)) else addresses.get(rtype, 0)
        if size and vaddr + size <= len(buf):
            ref = _symbol_ref(symbol, rtype, int.from_bytes(buf[vaddr:vaddr + size], "little"), arch, headers)
            if ref is not None:
                refs[vaddr] = ref
        if rtype == secrel:
            size, value = 4, symbol[0]
        elif rtype in addresses:
            size, value = addresses[rtype], symbol[1]
        else:
            out.problems.append(f"{name}: relocation {i} at 0x{vaddr:x} of type 0x{rtype:x} not applied")
            continue
        if vaddr + size > len(buf):
            out.problems.append(f"{name}: relocation {i} at 0x{vaddr:x} is past the end of the section")
            continue
        value += int.from_bytes(buf[vaddr:vaddr + size], "little")
        buf[vaddr:vaddr + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return bytes(buf)
