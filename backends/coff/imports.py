"""The import table of a PE image (``.idata``): which functions the loader binds from which DLL.

Layout, all inside one section::

    import directory   one 20-byte descriptor per DLL, then an all-zero one
    lookup tables      per DLL: one 8-byte hint/name RVA per function, then 0
    address tables     the same again: the IAT, which the loader overwrites with the functions' addresses
    hint/name entries  2-byte hint (0) + name + NUL, padded to an even size
    DLL names          NUL-terminated

The IAT slots are the ``__imp_<function>`` symbols that code calls through (``call [rip + __imp_ExitProcess]``).
"""
from __future__ import annotations

from typing import Mapping, Sequence

from dwarfkit.errors import ContainerError

from . import constants as C
from .records import pack

IMPORT_PREFIX = "__imp_"
_SLOT = 8


class ImportTable:
    def __init__(self, imports: Mapping[str, Sequence[str]]) -> None:
        self.dlls = [(dll, list(functions)) for dll, functions in imports.items()]
        seen: dict[str, str] = {}
        for dll, functions in self.dlls:
            _check_name(dll, "DLL name")
            if not functions:
                raise ContainerError(f"imports: {dll} lists no functions")
            for f in functions:
                _check_name(f, f"function imported from {dll}")
                if f in seen:
                    raise ContainerError(f"imports: {f} is imported twice (from {seen[f]} and {dll})")
                seen[f] = dll
        self.functions = list(seen)

        # Offsets inside the section; every part's size is known before the section has an address.
        self._lookup = C.IMPORT_DESCRIPTOR_SIZE * (len(self.dlls) + 1)
        tables = sum(_SLOT * (len(fs) + 1) for _, fs in self.dlls)
        self._iat = self._lookup + tables
        self._hint_names: dict[str, int] = {}
        offset = self._iat + tables
        for f in self.functions:
            self._hint_names[f] = offset
            offset += _even(2 + len(f.encode()) + 1)
        self._dll_names: dict[str, int] = {}
        for dll, _ in self.dlls:
            self._dll_names[dll] = offset
            offset += _even(len(dll.encode()) + 1)
        self.size = offset
        self.iat_size = tables

    def slot_offset(self, function: str) -> int:
        """Offset of the IAT slot of ``function`` from the start of the section."""
        offset = self._iat
        for _, functions in self.dlls:
            if function in functions:
                return offset + _SLOT * functions.index(function)
            offset += _SLOT * (len(functions) + 1)
        raise KeyError(function)

    def directory(self, rva: int) -> tuple[int, int]:
        """(RVA, size) of the import directory, for data directory 1."""
        return rva, C.IMPORT_DESCRIPTOR_SIZE * (len(self.dlls) + 1)

    def iat(self, rva: int) -> tuple[int, int]:
        """(RVA, size) of the import address tables, for data directory 12."""
        return rva + self._iat, self.iat_size

    def encode(self, rva: int) -> bytes:
        """The section's bytes when it starts at ``rva``."""
        out = bytearray()
        lookup, iat = self._lookup, self._iat
        for dll, functions in self.dlls:
            out += pack(f"import descriptor of {dll}", "IIIII", [
                ("OriginalFirstThunk", rva + lookup), ("TimeDateStamp", 0), ("ForwarderChain", 0),
                ("Name", rva + self._dll_names[dll]), ("FirstThunk", rva + iat)])
            lookup += _SLOT * (len(functions) + 1)
            iat += _SLOT * (len(functions) + 1)
        out += bytes(C.IMPORT_DESCRIPTOR_SIZE)
        table = bytearray()
        for _, functions in self.dlls:
            for f in functions:
                table += (rva + self._hint_names[f]).to_bytes(_SLOT, "little")  # bit 63 clear: import by name
            table += bytes(_SLOT)
        out += table + table  # lookup tables, then the IAT with the same initial contents
        for f in self.functions:
            out += _padded(b"\0\0" + f.encode() + b"\0")
        for dll, _ in self.dlls:
            out += _padded(dll.encode() + b"\0")
        assert len(out) == self.size
        return bytes(out)


def _check_name(name: str, what: str) -> None:
    if not name or "\0" in name or not name.isascii():
        raise ContainerError(f"imports: {what} {name!r} must be non-empty ASCII without NUL bytes")


def _even(n: int) -> int:
    return n + (n & 1)


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (len(data) & 1)
