"""Binary records shared by COFF objects and PE images: file and section headers, symbols, relocations, strings.

Every record is packed through :func:`pack`, which checks each field against its width, so a value over the format's
limits becomes a :class:`ContainerError` naming the record and the field instead of a wrapped-around number.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from dwarfkit.errors import ContainerError
from dwarfkit.image import Symbol, SymbolKind

from . import constants as C

_WIDTH = {"B": 8, "H": 16, "I": 32, "Q": 64, "h": -16}


def pack(what: str, fmt: str, fields: list[tuple[str, int]]) -> bytes:
    """Little-endian record of ``fields`` (name, value) in the order of ``fmt`` (one code per field, no prefix)."""
    for code, (name, value) in zip(fmt, fields, strict=True):
        bits = _WIDTH[code]
        low, high = (-(1 << (-bits - 1)), (1 << (-bits - 1)) - 1) if bits < 0 else (0, (1 << bits) - 1)
        if not low <= value <= high:
            raise ContainerError(f"{what}: {name} {value:#x} exceeds the COFF limit {high:#x}")
    return struct.pack("<" + fmt, *(value for _, value in fields))


class StringTable:
    """The COFF string table: a 4-byte total size, then NUL-terminated names longer than 8 bytes."""

    def __init__(self) -> None:
        self._data = bytearray(4)
        self._offsets: dict[bytes, int] = {}

    @classmethod
    def extending(cls, table: bytes) -> StringTable:
        """A table that keeps an existing file's ``table`` (size field included) at the same offsets, so the names
        that point into it stay valid, and appends new names after it, reusing the names it already holds."""
        out = cls()
        if len(table) > 4:
            out._data = bytearray(table if table.endswith(b"\0") else table + b"\0")
            start = 4
            while start < len(out._data):
                end = out._data.index(b"\0", start)
                out._offsets.setdefault(bytes(out._data[start:end]), start)
                start = end + 1
        return out

    def offset(self, name: bytes) -> int:
        found = self._offsets.get(name)
        if found is None:
            found = self._offsets[name] = len(self._data)
            self._data += name + b"\0"
        return found

    def encode(self) -> bytes:
        out = bytearray(self._data)
        out[0:4] = len(out).to_bytes(4, "little")
        return bytes(out)


def _encoded_name(name: str, what: str) -> bytes:
    raw = name.encode("utf-8")
    if not raw or b"\0" in raw:
        raise ContainerError(f"{what}: name {name!r} is empty or contains a NUL byte")
    return raw


def section_name(name: str, strings: StringTable) -> bytes:
    """The 8-byte Name field: the name itself, or ``/<offset>`` into the string table (how MinGW and lld spell
    ``.debug_info`` and other long names)."""
    raw = _encoded_name(name, f"section {name!r}")
    if len(raw) <= C.SHORT_NAME_SIZE:
        return raw.ljust(C.SHORT_NAME_SIZE, b"\0")
    ref = b"/%d" % strings.offset(raw)
    if len(ref) > C.SHORT_NAME_SIZE:
        raise ContainerError(f"section {name!r}: string table offset does not fit the 7 digits of a section name")
    return ref.ljust(C.SHORT_NAME_SIZE, b"\0")


def symbol_name(name: str, strings: StringTable) -> bytes:
    """The 8-byte symbol name: inline, or four zero bytes and a string table offset."""
    raw = _encoded_name(name, f"symbol {name!r}")
    if len(raw) <= C.SHORT_NAME_SIZE:
        return raw.ljust(C.SHORT_NAME_SIZE, b"\0")
    return b"\0\0\0\0" + strings.offset(raw).to_bytes(4, "little")


def file_header(machine: int, sections: int, symbol_table: int, symbols: int, optional_header_size: int,
                characteristics: int) -> bytes:
    # TimeDateStamp is 0: the same input gives the same bytes.
    return pack("COFF file header", "HHIIIHH", [
        ("Machine", machine), ("NumberOfSections", sections), ("TimeDateStamp", 0),
        ("PointerToSymbolTable", symbol_table), ("NumberOfSymbols", symbols),
        ("SizeOfOptionalHeader", optional_header_size), ("Characteristics", characteristics)])


@dataclass
class SectionHeader:
    name: str
    characteristics: int
    virtual_size: int = 0
    virtual_address: int = 0
    raw_size: int = 0
    raw_pointer: int = 0
    relocation_pointer: int = 0
    relocation_count: int = 0

    def encode(self, strings: StringTable) -> bytes:
        return section_name(self.name, strings) + pack(f"section {self.name}", "IIIIIIHHI", [
            ("VirtualSize", self.virtual_size), ("VirtualAddress", self.virtual_address),
            ("SizeOfRawData", self.raw_size), ("PointerToRawData", self.raw_pointer),
            ("PointerToRelocations", self.relocation_pointer), ("PointerToLinenumbers", 0),
            ("NumberOfRelocations", self.relocation_count), ("NumberOfLinenumbers", 0),
            ("Characteristics", self.characteristics)])


def symbol(name: str, strings: StringTable, value: int, section_number: int, type_: int, storage_class: int,
           aux_count: int = 0) -> bytes:
    return symbol_name(name, strings) + pack(f"symbol {name}", "IhHBB", [
        ("Value", value), ("SectionNumber", section_number), ("Type", type_), ("StorageClass", storage_class),
        ("NumberOfAuxSymbols", aux_count)])


def image_symbol(sym: Symbol, section_number: int, strings: StringTable) -> bytes:
    """An image symbol, followed by a function definition record when it is an external function definition."""
    type_ = C.IMAGE_SYM_DTYPE_FUNCTION if sym.kind is SymbolKind.FUNCTION else C.IMAGE_SYM_TYPE_NULL
    storage = C.IMAGE_SYM_CLASS_EXTERNAL if sym.is_global or sym.section is None else C.IMAGE_SYM_CLASS_STATIC
    aux = image_symbol_aux_count(sym)
    out = symbol(sym.name, strings, sym.value, section_number, type_, storage, aux)
    if aux:
        out += function_definition_aux(sym.name, sym.size)
    return out


def image_symbol_aux_count(sym: Symbol) -> int:
    # The format defines the function record only for external definitions; readers take the auxiliary record of a
    # static symbol for a section definition.
    return int(sym.kind is SymbolKind.FUNCTION and sym.is_global and sym.section is not None)


def section_definition_aux(name: str, length: int, relocations: int) -> bytes:
    """Auxiliary record of a section symbol (format 5); the checksum is only needed for COMDAT sections."""
    record = pack(f"section symbol {name}", "IHHIHB", [
        ("Length", length), ("NumberOfRelocations", min(relocations, C.MAX_RELOCATIONS_IN_HEADER)),
        ("NumberOfLinenumbers", 0), ("CheckSum", 0), ("Number", 0), ("Selection", 0)])
    return record.ljust(C.SYMBOL_SIZE, b"\0")


def function_definition_aux(name: str, total_size: int) -> bytes:
    """Auxiliary record of an external function definition (format 1): its size, no line numbers."""
    record = pack(f"function symbol {name}", "IIII", [
        ("TagIndex", 0), ("TotalSize", total_size), ("PointerToLinenumber", 0), ("PointerToNextFunction", 0)])
    return record.ljust(C.SYMBOL_SIZE, b"\0")


def relocation(section: str, offset: int, symbol_index: int, type_: int) -> bytes:
    return pack(f"relocation in {section} at {offset:#x}", "IIH", [
        ("VirtualAddress", offset), ("SymbolTableIndex", symbol_index), ("Type", type_)])


def alignment_flag(alignment: int, where: str) -> int:
    """IMAGE_SCN_ALIGN_* of an object section."""
    if alignment < 1 or alignment & (alignment - 1) or alignment > C.IMAGE_SCN_MAX_ALIGNMENT:
        raise ContainerError(f"section {where}: alignment {alignment} is not a power of two up to "
                             f"{C.IMAGE_SCN_MAX_ALIGNMENT}")
    return alignment.bit_length() << C.IMAGE_SCN_ALIGN_SHIFT
