"""Test-only helpers for the DWARF core: wrap emitted sections in a minimal ELF object and read them back."""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

from elftools.elf.elffile import ELFFile

from dwarfkit import DwarfSections

SHT_PROGBITS, SHT_STRTAB = 1, 3


def elf_bytes(sections: dict[str, bytes], address_size: int = 8, byteorder: str = "little") -> bytes:
    """A relocatable ELF holding ``sections`` (name -> bytes) and nothing else: x86-64, i386 or their big-endian
    look-alikes (PowerPC) by address size and byte order."""
    is64 = address_size == 8
    machine = {(True, "little"): 62, (False, "little"): 3, (True, "big"): 21, (False, "big"): 20}[(is64, byteorder)]
    names = bytearray(b"\0")
    entries = []
    body = bytearray()
    header_size = 64 if is64 else 52
    for name, data in list(sections.items()) + [(".shstrtab", None)]:
        name_offset = len(names)
        names += name.encode() + b"\0"
        entries.append((name, name_offset, data))
    entries[-1] = (".shstrtab", entries[-1][1], bytes(names))
    offsets = []
    for _, _, data in entries:
        offsets.append(header_size + len(body))
        body += data
    body += bytes(-len(body) % 8)
    shoff = header_size + len(body)

    def u(value: int, size: int) -> bytes:
        return value.to_bytes(size, byteorder)

    w = 8 if is64 else 4
    out = bytearray(b"\x7fELF" + bytes([2 if is64 else 1, 1 if byteorder == "little" else 2, 1, 0]) + bytes(8))
    out += u(1, 2) + u(machine, 2) + u(1, 4) + u(0, w) + u(0, w) + u(shoff, w) + u(0, 4)
    out += u(header_size, 2) + u(0, 2) + u(0, 2) + u(64 if is64 else 40, 2) + u(len(entries) + 1, 2)
    out += u(len(entries), 2)
    out += body
    out += bytes(64 if is64 else 40)   # the null section
    for (name, name_offset, data), offset in zip(entries, offsets, strict=True):
        kind = SHT_STRTAB if name == ".shstrtab" else SHT_PROGBITS
        out += u(name_offset, 4) + u(kind, 4) + u(0, w) + u(0, w) + u(offset, w) + u(len(data), w)
        out += u(0, 4) + u(0, 4) + u(1, w) + u(0, w)
    return bytes(out)


def write_elf(path: Path, sections: DwarfSections, symbols: dict[str, int] | None = None) -> Path:
    enc = sections.encoding
    data = sections.resolve(symbols or {}) if symbols is not None else {s.name: bytes(s.data) for s in sections}
    path.write_bytes(elf_bytes(data, enc.address_size, enc.byteorder))
    return path


def dwarfinfo(path: Path):
    return ELFFile(io.BytesIO(path.read_bytes())).get_dwarf_info()


def verify(path: Path, tool: str) -> str:
    """Runs ``llvm-dwarfdump --verify``; returns its output, asserting it found no errors."""
    result = subprocess.run([tool, "--verify", str(path)], capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "No errors." in output, output
    return output
