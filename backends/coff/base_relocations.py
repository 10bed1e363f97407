"""The base relocation table of a PE image (``.reloc``): where the loader adds the load delta to absolute addresses.

One block per 4 KiB page that holds fixups: the page RVA, the block size, then 2-byte entries (type << 12 | offset in
the page), padded with an ABSOLUTE entry to a multiple of 4 bytes.
"""
from __future__ import annotations

from itertools import groupby
from typing import Iterable

from . import constants as C
from .records import pack

_PAGE = 0x1000


def base_relocation_table(fixups: Iterable[tuple[int, int]]) -> bytes:
    """``fixups``: (RVA, IMAGE_REL_BASED_* type) of every absolute address in the image."""
    out = bytearray()
    for page, group in groupby(sorted(set(fixups)), key=lambda f: f[0] & ~(_PAGE - 1)):
        entries = [(type_ << 12) | (rva - page) for rva, type_ in group]
        if len(entries) % 2:
            entries.append(C.IMAGE_REL_BASED_ABSOLUTE << 12)
        out += pack(f"base relocation block of page {page:#x}", "II",
                    [("VirtualAddress", page), ("SizeOfBlock", 8 + 2 * len(entries))])
        out += b"".join(e.to_bytes(2, "little") for e in entries)
    return bytes(out)
