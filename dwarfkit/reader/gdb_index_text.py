"""``.gdb_index`` (versions 7 and 8, gdb's index) in llvm-dwarfdump's layout: version, CU list, type unit list,
address area, the filled slots of the symbol table with each name and the number of its CU vector, and the constant
pool's CU vectors.

The CU vectors are the distinct vector offsets the filled slots name, in offset order; the strings start after the
last of them (as newer llvm-dwarfdump reads them: llvm-dwarfdump-14 reads only version 7, and one vector per filled
slot, which is what dwarfkit writes). A table whose header offsets are out of order or past its end, or a slot naming
a vector or a string outside the pool, gives a finding (``.gdb_index[0xOFFSET]: message``), never a traceback.
"""
from __future__ import annotations

from typing import TextIO

from .errors_text import where

SECTION = "gdb_index"


def dump_gdb_index(data: bytes, out: TextIO) -> list[str]:
    """The table as text; the findings. Every value is little-endian, whatever the target."""
    def u(off: int, size: int = 4) -> int:
        return int.from_bytes(data[off:off + size], "little")

    if len(data) < 24:
        out.write("\n<error parsing>\n")
        return [where(SECTION, 0, f"table of {len(data)} bytes is shorter than its 24-byte header")]
    version = u(0)
    cu_list, tu_list, area, table, pool = (u(4 * i) for i in range(1, 6))
    if version not in (7, 8):
        out.write("\n<error parsing>\n")
        return [where(SECTION, 0, f"version {version}: only versions 7 and 8 are read")]
    if not 24 == cu_list <= tu_list <= area <= table <= pool <= len(data):
        out.write("\n<error parsing>\n")
        return [where(SECTION, 4, f"the parts' offsets (0x{cu_list:x}, 0x{tu_list:x}, 0x{area:x}, 0x{table:x}, "
                                  f"0x{pool:x}) are out of order or past the table's end (0x{len(data):x})")]
    w = out.write
    problems: list[str] = []
    cus = (tu_list - cu_list) // 16
    w(f"  Version = {version}\n\n  CU list offset = 0x{cu_list:x}, has {cus} entries:\n")
    for i in range(cus):
        w(f"    {i}: Offset = 0x{u(cu_list + 16 * i, 8):x}, Length = 0x{u(cu_list + 16 * i + 8, 8):x}\n")
    tus = (area - tu_list) // 24
    w(f"\n  Types CU list offset = 0x{tu_list:x}, has {tus} entries:\n")
    for i in range(tus):
        at = tu_list + 24 * i
        w(f"    {i}: offset = 0x{u(at, 8):08x}, type_offset = 0x{u(at + 8, 8):08x}, "
          f"type_signature = 0x{u(at + 16, 8):016x}\n")
    ranges = (table - area) // 20
    w(f"\n  Address area offset = 0x{area:x}, has {ranges} entries:\n")
    for i in range(ranges):
        at = area + 20 * i
        low, high, cu = u(at, 8), u(at + 8, 8), u(at + 16)
        w(f"    Low/High address = [0x{low:x}, 0x{high:x}) (Size: 0x{(high - low) & (1 << 64) - 1:x}), "
          f"CU id = {cu}\n")
        if cu >= cus + tus:
            problems.append(where(SECTION, at + 16, f"address range names CU {cu} of {cus + tus}"))
    slots = (pool - table) // 8
    filled = [(i, u(table + 8 * i), u(table + 8 * i + 4)) for i in range(slots)
              if u(table + 8 * i) or u(table + 8 * i + 4)]
    vectors: list[tuple[int, list[int]]] = []
    end = pool
    for offset in sorted({vector for _, _, vector in filled}):
        at = pool + offset
        count = u(at) if at + 4 <= len(data) else 0
        if at + 4 > len(data) or count > (len(data) - at - 4) // 4:
            problems.append(where(SECTION, at, f"CU vector at pool offset 0x{offset:x} runs past the table's end"))
            vectors.append((offset, []))
            continue
        vectors.append((offset, [u(at + 4 + 4 * k) for k in range(count)]))
        end = max(end, at + 4 + 4 * count)
    index_of = {offset: n for n, (offset, _) in enumerate(vectors)}
    w(f"\n  Symbol table offset = 0x{table:x}, size = {slots}, filled slots:\n")
    for i, name_at, vector in filled:
        w(f"    {i}: Name offset = 0x{name_at:x}, CU vector offset = 0x{vector:x}\n")
        start = pool + name_at
        stop = data.find(b"\0", start) if start >= end else -1
        if stop < 0:
            problems.append(where(SECTION, table + 8 * i, f"slot {i}: name offset 0x{name_at:x} is not a string "
                                                          f"of the constant pool"))
            name = ""
        else:
            name = data[start:stop].decode("utf-8", "surrogateescape")
        w(f"      String name: {name}, CU vector index: {index_of[vector]}\n")
    w(f"\n  Constant pool offset = 0x{pool:x}, has {len(vectors)} CU vectors:")
    for n, (offset, values) in enumerate(vectors):
        w(f"\n    {n}(0x{offset:x}): " + "".join(f"0x{value:x} " for value in values))
    w("\n")
    return problems
