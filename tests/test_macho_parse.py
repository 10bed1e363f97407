"""The one Mach-O decoder (``backends/macho_dsym/parse.py``) against llvm-readobj-14, in every width and byte order it
reads: clang's x86_64, arm64, i386 and armv7 objects, and the 32-bit ones byte-swapped into big-endian files (clang
no longer writes any; llvm-readobj reads them as it reads PowerPC objects)."""
from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit.backends.macho_dsym.parse import ThinFile, parse_thin

SOURCE = "int g = 3; static int s;\nint f(int x) { return x + g + s; }\nint main(void) { return f(1); }\n"
TARGETS = {"x86_64": "x86_64-apple-macos11", "arm64": "arm64-apple-macos11", "i386": "i386-apple-macos10.13",
           "armv7": "armv7-apple-ios9"}


def _object(tmp_path: Path, arch: str) -> Path:
    clang = require_tool("clang-14")
    src = tmp_path / "t.c"
    src.write_text(SOURCE)
    out = tmp_path / f"{arch}.o"
    subprocess.run([clang, "-target", TARGETS[arch], "-g", "-c", str(src), "-o", str(out)], check=True)
    return out


def _big_endian(data: bytes) -> bytes:
    """A 32-bit little-endian object as the same object big-endian: header, load commands, symbols and relocation
    records (whose bit fields are laid out from the top bit in a big-endian file); section contents as they are."""
    b = bytearray(data)

    def swap(off: int, fmt: str) -> tuple[int, ...]:
        values = struct.unpack_from("<" + fmt, b, off)
        struct.pack_into(">" + fmt, b, off, *values)
        return values

    ncmds = swap(0, "7I")[4]
    off, symtab, sections = 28, None, []
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", b, off)
        if cmd == 0x1:  # LC_SEGMENT: the names are bytes
            swap(off, "II")
            nsects = swap(off + 24, "4IiiII")[6]
            for i in range(nsects):
                sections.append(swap(off + 56 + 68 * i + 32, "9I"))
        else:  # the other commands of these objects are all 32-bit words
            values = swap(off, f"{size // 4}I")
            symtab = values[2:4] if cmd == 0x2 else symtab
        off += size
    assert symtab is not None
    for i in range(symtab[1]):
        swap(symtab[0] + 12 * i, "I")
        swap(symtab[0] + 12 * i + 6, "HI")
    for _addr, _size, _offset, _align, reloff, nreloc, *_rest in sections:
        for at in range(reloff, reloff + 8 * nreloc, 8):
            first, second = struct.unpack_from("<II", b, at)
            if first >> 31:  # scattered: r_address:24 r_type:4 r_length:2 r_pcrel:1 r_scattered:1 from the bottom
                first = (1 << 31) | ((first >> 30) & 1) << 30 | ((first >> 28) & 3) << 28 | \
                    ((first >> 24) & 15) << 24 | first & 0xFFFFFF
            else:  # r_symbolnum:24 r_pcrel:1 r_length:2 r_extern:1 r_type:4, from the bottom or from the top
                second = (second & 0xFFFFFF) << 8 | ((second >> 24) & 1) << 7 | ((second >> 25) & 3) << 5 | \
                    ((second >> 27) & 1) << 4 | second >> 28
            struct.pack_into(">II", b, at, first, second)
    return bytes(b)


def _readobj(path: Path) -> list[tuple[str, dict[str, str]]]:
    """``llvm-readobj --sections --symbols --relocations --expand-relocs`` as (block kind, its fields), in order; a
    relocation's fields include ``in``, its section."""
    text = subprocess.run([require_tool("llvm-readobj-14"), "--sections", "--symbols", "--relocations",
                           "--expand-relocs", str(path)], check=True, capture_output=True, text=True).stdout
    blocks: list[tuple[str, dict[str, str]]] = []
    current: dict[str, str] | None = None
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Section __"):
            section = line.split()[1]
        elif line in ("Section {", "Symbol {", "Relocation {"):
            current = {"in": section}
            blocks.append((line.split()[0], current))
        elif line == "}":
            current = None
        elif current is not None and ": " in line:
            key, value = line.split(": ", 1)
            current[key] = value
    return blocks


def _number(text: str) -> int:
    """``0x3E``, ``1088``, ``__text (1)`` -> the number (in parentheses when there is one)."""
    if text.endswith(")"):
        text = text.rsplit("(", 1)[1][:-1]
    return int(text, 0)


def _check(thin: ThinFile, path: Path) -> None:
    assert thin.problems == []
    blocks = _readobj(path)
    theirs = [(f["Name"].split()[0], f["Segment"].split()[0], _number(f["Address"]), _number(f["Size"]),
               _number(f["Offset"]), _number(f["RelocationOffset"]), _number(f["RelocationCount"]))
              for kind, f in blocks if kind == "Section"]
    ours = [(s.sectname, s.segname, s.addr, s.size, s.offset, s.reloff, s.nreloc) for s in thin.sections]
    assert ours == theirs
    theirs_syms = [(f["Name"].split()[0], _number(f["Value"]), _number(f["Section"]) if "Section" in f else 0)
                   for kind, f in blocks if kind == "Symbol"]
    assert [(name, sym.value, sym.sect) for name, sym in thin.read_symbols(strict=True)] == theirs_syms
    theirs_relocs = [(f["in"], _number(f["Offset"]), int(f["PCRel"]), int(f["Length"]), _number(f["Type"]),
                      _number(f["Symbol"] if "Symbol" in f else f["Section"]) if "Value" not in f else None)
                     for kind, f in blocks if kind == "Relocation"]
    ours_relocs = []
    for s in thin.sections:
        for r in thin.relocations(s):
            if r.address < 0:  # scattered: llvm-readobj decodes its own fields; we only say which ones they are
                ours_relocs.append((s.sectname, r.address & 0xFFFFFF, (r.address >> 30) & 1, (r.address >> 28) & 3,
                                    (r.address >> 24) & 15, None))
            else:
                ours_relocs.append((s.sectname, r.address, int(r.pcrel), r.length, r.type, r.symbolnum))
    assert ours_relocs == theirs_relocs
    assert any(r[-1] is not None for r in ours_relocs)


@pytest.mark.parametrize("arch", list(TARGETS))
def test_sections_symbols_and_relocations_as_llvm_readobj_reads_them(tmp_path: Path, arch: str) -> None:
    obj = _object(tmp_path, arch)
    _check(parse_thin(obj.read_bytes(), strict=arch in ("x86_64", "arm64")), obj)


@pytest.mark.parametrize("arch", ["i386", "armv7"])
def test_big_endian_files_decode_as_llvm_readobj_reads_them(tmp_path: Path, arch: str) -> None:
    big = tmp_path / f"{arch}-be.o"
    big.write_bytes(_big_endian(_object(tmp_path, arch).read_bytes()))
    thin = parse_thin(big.read_bytes(), strict=False)
    assert thin.e == ">" and not thin.is64
    _check(thin, big)
