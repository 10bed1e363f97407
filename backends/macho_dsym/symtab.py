"""Mach-O symbol and string tables (``nlist_64`` records and the names they index)."""
from __future__ import annotations

from dataclasses import dataclass

from .commands import Nlist64


@dataclass
class SymbolEntry:
    name: str
    type: int
    sect: int
    desc: int
    value: int


def encode_symtab(entries: list[SymbolEntry]) -> tuple[bytes, bytes]:
    """(``nlist_64`` records, string table). The string table starts with a space and a NUL, as ld64 writes it
    (index 0 is the empty name), each name stored once, and is padded to 8 bytes."""
    strings = bytearray(b" \0")
    offsets: dict[str, int] = {"": 0}
    records = bytearray()
    for e in entries:
        strx = offsets.get(e.name)
        if strx is None:
            strx = offsets[e.name] = len(strings)
            strings += e.name.encode() + b"\0"
        records += Nlist64(strx, e.type, e.sect, e.desc, e.value).encode()
    strings += bytes(-len(strings) % 8)
    return bytes(records), bytes(strings)
