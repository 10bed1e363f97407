"""Minimal shared objects (``ET_DYN``) that export a few functions and data objects, for ``dlopen`` (ctypes).

What :mod:`dwarfkit.jit` needs to give a Python process the GDB JIT interface's two symbols without a C compiler:
``__jit_debug_register_code`` (a function that returns) and ``__jit_debug_descriptor`` (data). The file holds no
relocations and needs no other library: code and read-only tables (``.hash``, ``.dynsym``, ``.dynstr``) in one
read-execute ``PT_LOAD``, ``.dynamic`` and data in a read-write one, a ``PT_DYNAMIC``; the exports are also in
``.symtab``, which debuggers read. The first segment's addresses equal its file offsets, the second's are one page
further (the loader adds the load base).
"""
from __future__ import annotations

import struct
from collections.abc import Mapping

from elftools.elf.constants import P_FLAGS, SH_FLAGS
from elftools.elf.enums import ENUM_E_TYPE, ENUM_P_TYPE_BASE, ENUM_SH_TYPE_BASE

from dwarfkit.arch import Arch
from dwarfkit.encoding import align_up
from dwarfkit.errors import DescriptionError

from .elffile import EHDR_SIZE, PHDR_SIZE, ElfHeader, ElfSection, Segment, section_indices, serialize
from .machine import machine_for
from .symtab import STB, STT, ElfSymbol, SymbolTable

SHT = ENUM_SH_TYPE_BASE
PT = ENUM_P_TYPE_BASE
_SYM = struct.Struct("<IBBHQQ")
DT_NULL, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_SONAME = 0, 4, 5, 6, 10, 11, 14


def shared_object_bytes(arch: Arch, soname: str, functions: Mapping[str, bytes],
                        data: Mapping[str, bytes]) -> bytes:
    """A shared object named ``soname`` exporting ``functions`` (name -> machine code, position independent) and
    ``data`` (name -> initial bytes, writable)."""
    exports = [*functions, *data]
    for name in exports:
        if not isinstance(name, str) or not name or "\0" in name:
            raise DescriptionError(f"shared object {soname!r}: export name {name!r} is not a symbol name")
    if len(set(exports)) != len(exports):
        raise DescriptionError(f"shared object {soname!r}: a name is both a function and data")
    machine = machine_for(arch)
    page = machine.page_size
    text = bytearray()
    where: dict[str, tuple[str, int, int]] = {}   # name -> (section, offset in it, size)
    for name, code in functions.items():
        text += bytes(align_up(len(text), 16) - len(text))
        where[name] = (".text", len(text), len(code))
        text += code
    blob = bytearray()
    for name, value in data.items():
        blob += bytes(align_up(len(blob), 8) - len(blob))
        where[name] = (".data", len(blob), len(value))
        blob += value

    dynstr = bytearray(b"\0")
    names = {}
    for name in [soname, *exports]:
        names[name] = len(dynstr)
        dynstr += name.encode() + b"\0"
    # Addresses equal file offsets: headers, then each section at an address the serializer keeps congruent.
    segments = [Segment(PT["PT_LOAD"], P_FLAGS.PF_R | P_FLAGS.PF_X, ".text", ".dynstr", page),
                Segment(PT["PT_LOAD"], P_FLAGS.PF_R | P_FLAGS.PF_W, ".dynamic", ".data", page),
                Segment(PT["PT_DYNAMIC"], P_FLAGS.PF_R | P_FLAGS.PF_W, ".dynamic", ".dynamic", 8)]
    text_at = align_up(EHDR_SIZE + PHDR_SIZE * len(segments), 16)
    hash_at = align_up(text_at + len(text), 8)
    dynsym_at = align_up(hash_at + 4 * (2 + 1 + 1 + len(exports)), 8)
    dynstr_at = dynsym_at + _SYM.size * (1 + len(exports))
    dynamic_at = align_up(dynstr_at + len(dynstr), 8) + page   # the next page, at the offset's place in it
    dynamic = b"".join(struct.pack("<qQ", tag, value) for tag, value in (
        (DT_SONAME, names[soname]), (DT_HASH, hash_at), (DT_STRTAB, dynstr_at), (DT_SYMTAB, dynsym_at),
        (DT_STRSZ, len(dynstr)), (DT_SYMENT, _SYM.size), (DT_NULL, 0)))
    data_at = align_up(dynamic_at + len(dynamic), 8)
    address = {".text": text_at, ".data": data_at}
    # The order of .dynsym's entries is the hash chains' symbol indices: one bucket holds them all.
    dynsym = bytearray(_SYM.size)
    indices = section_indices(_sections(b"", b"", b"", b"", b"", b"", 0, 0, 0, 0, 0, 0))
    for name in exports:
        section, offset, size = where[name]
        kind = STT["STT_FUNC"] if section == ".text" else STT["STT_OBJECT"]
        dynsym += _SYM.pack(names[name], STB["STB_GLOBAL"] << 4 | kind, 0, indices[section],
                            address[section] + offset, size)
    count = 1 + len(exports)
    hashes = struct.pack("<II", 1, count) + struct.pack("<I", 1 if exports else 0) + \
        struct.pack(f"<{count}I", *[0] + [i + 1 if i + 1 < count else 0 for i in range(1, count)])
    sections = _sections(bytes(text), hashes, bytes(dynsym), bytes(dynstr), dynamic, bytes(blob), text_at, hash_at,
                         dynsym_at, dynstr_at, dynamic_at, data_at)
    symbols = SymbolTable()
    for name in exports:
        section, offset, size = where[name]
        kind = STT["STT_FUNC"] if section == ".text" else STT["STT_OBJECT"]
        symbols.add(ElfSymbol(name, address[section] + offset, size, kind, STB["STB_GLOBAL"], indices[section]))
    header = ElfHeader(machine.machine, ENUM_E_TYPE["ET_DYN"])
    return serialize(header, [*sections, *symbols.sections()], segments, page_size=page)


def _sections(text: bytes, hashes: bytes, dynsym: bytes, dynstr: bytes, dynamic: bytes, data: bytes, text_at: int,
              hash_at: int, dynsym_at: int, dynstr_at: int, dynamic_at: int, data_at: int) -> list[ElfSection]:
    alloc, write, execute = SH_FLAGS.SHF_ALLOC, SH_FLAGS.SHF_WRITE, SH_FLAGS.SHF_EXECINSTR
    return [ElfSection(".text", SHT["SHT_PROGBITS"], alloc | execute, text, text_at, 16),
            ElfSection(".hash", SHT["SHT_HASH"], alloc, hashes, hash_at, 8, link=".dynsym", entsize=4),
            ElfSection(".dynsym", SHT["SHT_DYNSYM"], alloc, dynsym, dynsym_at, 8, link=".dynstr", info=1,
                       entsize=_SYM.size),
            ElfSection(".dynstr", SHT["SHT_STRTAB"], alloc, dynstr, dynstr_at, 1),
            ElfSection(".dynamic", SHT["SHT_DYNAMIC"], alloc | write, dynamic, dynamic_at, 8, link=".dynstr",
                       entsize=16),
            ElfSection(".data", SHT["SHT_PROGBITS"], alloc | write, data, data_at, 8)]
