"""Test-only scaffolding: one hand-encoded compile unit and a hand-written ELF file around debug sections.

The line, frame and aranges tests need their sections inside a file that pyelftools and llvm-dwarfdump open. This
writes the smallest such file by hand, independent of dwarfkit's own DIE builder and ELF backend, so that a bug there
cannot hide a bug here. Sections get plain addresses; relocations are resolved before writing.
"""
from __future__ import annotations

import struct
from pathlib import Path

from elftools.dwarf.enums import ENUM_DW_AT, ENUM_DW_FORM, ENUM_DW_TAG, ENUM_DW_UT
from elftools.elf.elffile import ELFFile

from dwarfkit import DwarfSections, Encoding
from dwarfkit.encoding import uleb128

EM_386, EM_X86_64, EM_AARCH64 = 3, 62, 183
SHT_PROGBITS, SHT_STRTAB = 1, 3
SHF_ALLOC, SHF_EXECINSTR = 2, 4


def compile_unit(encoding: Encoding, *, name: str, comp_dir: str, stmt_list: int,
                 low_pc: int | None = None, high_pc: int | None = None) -> tuple[bytes, bytes]:
    """``.debug_abbrev`` and ``.debug_info`` holding one DW_TAG_compile_unit without children."""
    order = encoding.byteorder
    version = encoding.version
    attrs = [(ENUM_DW_AT["DW_AT_name"], ENUM_DW_FORM["DW_FORM_string"], name.encode() + b"\0"),
             (ENUM_DW_AT["DW_AT_comp_dir"], ENUM_DW_FORM["DW_FORM_string"], comp_dir.encode() + b"\0")]
    stmt_form = ("DW_FORM_sec_offset" if version >= 4 else
                 "DW_FORM_data8" if encoding.offset_size == 8 else "DW_FORM_data4")
    attrs.append((ENUM_DW_AT["DW_AT_stmt_list"], ENUM_DW_FORM[stmt_form],
                  stmt_list.to_bytes(encoding.offset_size, order)))
    if low_pc is not None and high_pc is not None:
        attrs.append((ENUM_DW_AT["DW_AT_low_pc"], ENUM_DW_FORM["DW_FORM_addr"],
                      low_pc.to_bytes(encoding.address_size, order)))
        attrs.append((ENUM_DW_AT["DW_AT_high_pc"], ENUM_DW_FORM["DW_FORM_addr"],
                      high_pc.to_bytes(encoding.address_size, order)))
    abbrev = bytearray(uleb128(1) + uleb128(ENUM_DW_TAG["DW_TAG_compile_unit"]) + b"\0")
    for at, form, _ in attrs:
        abbrev += uleb128(at) + uleb128(form)
    abbrev += b"\0\0\0"
    body = bytearray(version.to_bytes(2, order))
    if version >= 5:
        body += bytes((ENUM_DW_UT["DW_UT_compile"], encoding.address_size))
        body += (0).to_bytes(encoding.offset_size, order)
    else:
        body += (0).to_bytes(encoding.offset_size, order) + bytes((encoding.address_size,))
    body += uleb128(1)
    for _, _, value in attrs:
        body += value
    return bytes(abbrev), encoding.initial_length(len(body)) + bytes(body)


def write_elf(path: Path, sections: dict[str, bytes], *, address_size: int = 8, machine: int | None = None,
              addresses: dict[str, int] | None = None, byteorder: str = "little") -> Path:
    """A relocatable ELF holding ``sections`` (name -> bytes); ``addresses`` gives sh_addr of loaded ones."""
    addresses = addresses or {}
    is64 = address_size == 8
    machine = machine if machine is not None else (EM_X86_64 if is64 else EM_386)
    e = "<" if byteorder == "little" else ">"
    names = [""] + list(sections) + [".shstrtab"]
    shstrtab = bytearray(b"\0")
    name_offsets = {}
    for n in names[1:]:
        name_offsets[n] = len(shstrtab)
        shstrtab += n.encode() + b"\0"
    contents = dict(sections)
    contents[".shstrtab"] = bytes(shstrtab)
    ehsize = 64 if is64 else 52
    shentsize = 64 if is64 else 40
    data = bytearray(ehsize)
    headers = [bytes(shentsize)]
    for n in names[1:]:
        while len(data) % 16:
            data.append(0)
        offset = len(data)
        data += contents[n]
        flags = 0
        if n in addresses:
            flags = SHF_ALLOC | (SHF_EXECINSTR if n == ".text" else 0)
        kind = SHT_STRTAB if n == ".shstrtab" else SHT_PROGBITS
        fmt = e + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
        headers.append(struct.pack(fmt, name_offsets[n], kind, flags, addresses.get(n, 0), offset,
                                   len(contents[n]), 0, 0, 1, 0))
    while len(data) % 8:
        data.append(0)
    shoff = len(data)
    for h in headers:
        data += h
    ident = b"\x7fELF" + bytes((2 if is64 else 1, 1 if byteorder == "little" else 2, 1, 0)) + bytes(8)
    if is64:
        header = ident + struct.pack(e + "HHIQQQIHHHHHH", 1, machine, 1, 0, 0, shoff, 0, ehsize, 0, 0,
                                     shentsize, len(headers), len(headers) - 1)
    else:
        header = ident + struct.pack(e + "HHIIIIIHHHHHH", 1, machine, 1, 0, 0, shoff, 0, ehsize, 0, 0,
                                     shentsize, len(headers), len(headers) - 1)
    data[:ehsize] = header
    path.write_bytes(bytes(data))
    return path


def elf_with_dwarf(path: Path, sections: DwarfSections, *, name: str = "a.c", comp_dir: str = "/src",
                   stmt_list: int | None = 0, symbols: dict[str, int] | None = None,
                   addresses: dict[str, int] | None = None, text: bytes | None = None,
                   machine: int | None = None) -> Path:
    """An ELF with ``sections`` (relocations resolved against ``symbols``) plus a compile unit pointing at the line
    program at ``stmt_list`` when no ``.debug_info`` is among them."""
    enc = sections.encoding
    addresses = dict(addresses or {})
    resolved = sections.resolve(symbols or {}, addresses)
    if ".debug_info" not in resolved and stmt_list is not None:
        resolved[".debug_abbrev"], resolved[".debug_info"] = compile_unit(enc, name=name, comp_dir=comp_dir,
                                                                          stmt_list=stmt_list)
    if text is not None:
        resolved = {".text": text, **resolved}
        addresses.setdefault(".text", 0x1000)
    return write_elf(path, resolved, address_size=enc.address_size, machine=machine, addresses=addresses,
                     byteorder=enc.byteorder)


def open_dwarf(path: Path):
    """pyelftools' DWARFInfo of ``path`` (the file stays open for the test's lifetime)."""
    return ELFFile(open(path, "rb")).get_dwarf_info()
