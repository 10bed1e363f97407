"""COFF container reader: objects (``SECREL``/``ADDR64``/``ADDR32`` relocations applied) and PE images.

For objects, every relocation of a debug section is also kept in ``DebugFile.relocations`` as a ``SymbolRef``, so
that ``dwarfkit.load`` can rebuild symbolic addresses and a rewriter can re-create the relocation. The kind is decided
by the target first, then by the type: any relocation against a DWARF section's symbol is ``section`` (symbol =
normalised name ``debug_str``; clang 14 writes ``ADDR32`` for ``DW_FORM_line_strp``, meaning the same offset), ``REL32``
is ``pcrel``, a ``SECREL`` against any other section is ``tls`` (the offset of a thread-local symbol in ``.tls``),
``ADDR64``/``ADDR32`` are ``address``. Other types (``ADDR32NB`` ...) are neither applied nor kept. ``addend`` is the
value in place (plus the symbol's own value for ``section``), except that ``pcrel`` counts from the field as
``DwarfSections`` does, where ``REL32`` counts from the byte after it (in place - 4).

The file is parsed by the COFF backend's ``input_file`` (leniently: any machine, PE32 too, structures past the end of
the file reported here as findings, not errors), which resolves long section names (``/123``, an offset into the
string table, as MinGW names ``.debug_info`` and friends) and reads the symbol table; the COFF constants live once,
in the COFF backend's constants module. This module only decides what the DWARF reader needs of it.
"""
from __future__ import annotations

from ..backends.coff import constants as c
from ..backends.coff.input_file import InputFile, InputSection, InputSymbol, parse
from .debugfile import CodeSection, DebugFile, SymbolRef, normalise_section_name

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


def is_coff(data: bytes) -> bool:
    if data[:2] == b"MZ":
        return True
    return len(data) >= 20 and int.from_bytes(data[:2], "little") in MACHINES


def read_coff(path: str, data: bytes) -> DebugFile:
    f = parse(data, path, lenient=True)
    arch = MACHINES.get(f.machine, "unknown")
    image_base = f.image_base()
    out = DebugFile(path=path, file_format=_FORMAT_NAMES.get(arch, "COFF"), arch=arch, byteorder="little",
                    address_size=8 if arch in ("x86_64", "aarch64") else 4, sections={}, is_object=not f.is_image)
    # Symbols by table index (aux records have none), for the relocations to name.
    symbols = {} if f.is_image else {s.index: s for s in f.symbols}
    for s in f.sections:
        out.section_addresses[s.number] = s.name
        size = min(s.virtual_size, s.raw_size) if f.is_image and s.virtual_size else s.raw_size
        if s.raw_pointer == 0 or size == 0:
            continue
        if s.raw_pointer + size > len(data):
            out.problems.append(f"section {s.name}: 0x{s.raw_pointer:x}+0x{size:x} is past the end of the file")
            continue
        raw = data[s.raw_pointer:s.raw_pointer + size]
        dwarf_name = normalise_section_name(s.name)
        if dwarf_name is None:
            if s.flags & (IMAGE_SCN_CNT_CODE | IMAGE_SCN_MEM_EXECUTE):
                out.code.append(CodeSection(s.name, s.virtual_address + image_base, raw))
            continue
        if not f.is_image and s.relocation_count:
            refs: dict[int, SymbolRef] = {}
            raw = _relocate(out, f, s, raw, symbols, arch, refs)
            out.relocations[dwarf_name] = refs
        out.sections[dwarf_name] = raw
        out.addresses[dwarf_name] = s.virtual_address + image_base
        out.section_offsets[dwarf_name] = s.raw_pointer
    return out


def _symbol_ref(f: InputFile, symbol: InputSymbol, rtype: int, in_place: int, arch: str) -> SymbolRef | None:
    """What one relocation refers to (see the module docstring), or None for a type that is not kept."""
    section = f.sections[symbol.section - 1].name if 0 < symbol.section <= len(f.sections) else ""
    debug = normalise_section_name(section)
    if debug is not None and debug != "eh_frame":
        return SymbolRef(debug, in_place + symbol.value, "section")
    if rtype == REL32.get(arch):
        return SymbolRef(symbol.name, in_place - 4, "pcrel")
    if rtype == SECREL.get(arch):
        return SymbolRef(symbol.name, in_place, "tls")
    if rtype in ADDRESS.get(arch, {}):
        # an 8-byte field's addend is signed 64-bit (as any relocation addend)
        return SymbolRef(symbol.name, in_place - (1 << 64) if in_place >> 63 else in_place, "address")
    return None


def _address(f: InputFile, symbol: InputSymbol) -> int:
    """A symbol's address: its value plus its section's address (0 in objects, as assemblers write it)."""
    if 0 < symbol.section <= len(f.sections):
        return symbol.value + f.sections[symbol.section - 1].virtual_address
    return symbol.value


def _relocate(out: DebugFile, f: InputFile, s: InputSection, raw: bytes, symbols: dict[int, InputSymbol], arch: str,
              refs: dict[int, SymbolRef]) -> bytes:
    buf = bytearray(raw)
    name = s.name
    if s.relocation_pointer + c.RELOCATION_SIZE * s.relocation_count > len(f.data):
        out.problems.append(f"{name}: relocation table at 0x{s.relocation_pointer:x} is past the end of the file")
        return raw
    secrel = SECREL.get(arch)
    addresses = ADDRESS.get(arch, {})
    for i, (vaddr, symindex, rtype) in enumerate(f.relocation_entries(s)):
        symbol = symbols.get(symindex)
        if symbol is None:
            out.problems.append(f"{name}: relocation {i} at 0x{vaddr:x} names symbol {symindex}, which is not one")
            continue
        size = 4 if rtype in (secrel, REL32.get(arch)) else addresses.get(rtype, 0)
        if size and vaddr + size <= len(buf):
            ref = _symbol_ref(f, symbol, rtype, int.from_bytes(buf[vaddr:vaddr + size], "little"), arch)
            if ref is not None:
                refs[vaddr] = ref
        if rtype == secrel:
            size, value = 4, symbol.value
        elif rtype in addresses:
            size, value = addresses[rtype], _address(f, symbol)
        else:
            out.problems.append(f"{name}: relocation {i} at 0x{vaddr:x} of type 0x{rtype:x} not applied")
            continue
        if vaddr + size > len(buf):
            out.problems.append(f"{name}: relocation {i} at 0x{vaddr:x} is past the end of the section")
            continue
        value += int.from_bytes(buf[vaddr:vaddr + size], "little")
        buf[vaddr:vaddr + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return bytes(buf)
