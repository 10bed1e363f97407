"""The one bounds-checked ELF header and section-table parser (``backends/elf/elfinput.read_elf_headers``) that the
reader and the rewriter share: ELF32 and ELF64 in both byte orders (clang-14 objects for four targets), checked
against pyelftools' reading of the same files; hostile big-endian and ELF32 headers give the reader's typed errors."""
from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from elftools.elf.elffile import ELFFile

from dwarfkit.backends.elf.debugfile import add_sections
from dwarfkit.backends.elf.elffile import ElfSection
from dwarfkit.backends.elf.elfinput import read_elf_headers
from dwarfkit.errors import ContainerError
from dwarfkit.reader.elf import read_elf

SOURCE = "int g = 3;\nstatic int f(int x) { return x * g; }\nint main(void) { return f(2); }\n"
# target -> (ELF64?, byte order)
TARGETS = {"i386-linux-gnu": (False, "little"), "mips-linux-gnu": (False, "big"),
           "powerpc64-linux-gnu": (True, "big"), "x86_64-linux-gnu": (True, "little")}


def compiled(tmp_path: Path, target: str) -> Path:
    clang = require_tool("clang-14")
    (tmp_path / "a.c").write_text(SOURCE)
    out = tmp_path / f"a-{target}.o"
    subprocess.run([clang, f"--target={target}", "-g", "-O1", "-c", str(tmp_path / "a.c"), "-o", str(out)],
                   check=True)
    return out


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_headers_agree_with_pyelftools(tmp_path: Path, target: str) -> None:
    path = compiled(tmp_path, target)
    headers = read_elf_headers(path.read_bytes(), str(path))
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert (headers.is64, headers.byteorder) == TARGETS[target] == (elf.elfclass == 64,
                                                                       "little" if elf.little_endian else "big")
        assert headers.shstrndx == elf["e_shstrndx"] and len(headers.sections) == elf.num_sections() > 10
        for i, (ours, section) in enumerate(zip(headers.sections, elf.iter_sections(), strict=True)):
            theirs = section.header
            assert ours[4:10] == (theirs.sh_offset, theirs.sh_size, theirs.sh_link, theirs.sh_info,
                                  theirs.sh_addralign, theirs.sh_entsize), section.name
            assert headers.header_offset(i) == elf["e_shoff"] + i * elf["e_shentsize"]


@pytest.mark.parametrize("target", ["mips-linux-gnu", "powerpc64-linux-gnu"])
def test_hostile_big_endian_headers(tmp_path: Path, target: str) -> None:
    path = compiled(tmp_path, target)
    data = path.read_bytes()
    is64 = TARGETS[target][0]
    with pytest.raises(ContainerError, match=r"ELF section header table at 0x[0-9a-f]+ \(\d+ headers of "
                                             rf"{64 if is64 else 40} bytes\) runs past the end of the file"):
        read_elf(str(path), data[:-30])
    shstrndx_at = 0x3e if is64 else 0x32
    bad = bytearray(data)
    struct.pack_into(">H", bad, shstrndx_at, 0)   # the name table would be section 0 (SHT_NULL)
    with pytest.raises(ContainerError, match=r"ELF section header 0 at 0x[0-9a-f]+ \(the section name table, "
                                             r"e_shstrndx\) has type 0, not SHT_STRTAB"):
        read_elf(str(path), bytes(bad))
    struct.pack_into(">H", bad, shstrndx_at, 999)
    with pytest.raises(ContainerError, match="e_shstrndx 999 is not below the section count"):
        read_elf(str(path), bytes(bad))


def test_add_sections_past_shn_loreserve(tmp_path: Path) -> None:
    """``add_sections`` reads the old headers with the shared parser: a file of 66000 sections (count and name table
    index in section 0's header) gains one more, which readelf sees; a truncated file is a ContainerError."""
    asm = tmp_path / "many.s"
    asm.write_text("".join(f'.section .text.f{i},"ax",@progbits\nnop\n' for i in range(66000)))
    obj = tmp_path / "many.o"
    subprocess.run([require_tool("as"), str(asm), "-o", str(obj)], check=True)
    data = obj.read_bytes()
    out = tmp_path / "more.o"
    out.write_bytes(add_sections(data, [ElfSection(".gnu_debuglink", 1, data=b"a.debug\0" + bytes(4), align=4)]))
    readelf = require_tool("readelf")
    header = subprocess.run([readelf, "-h", "-W", str(out)], capture_output=True, text=True, check=True).stdout
    assert "Number of section headers:         0 (66006)" in header, header
    assert "Section header string table index: 65535 (66004)" in header, header
    listing = subprocess.run([readelf, "-S", "-W", str(out)], capture_output=True, text=True, check=True)
    assert "[66005] .gnu_debuglink" in listing.stdout and "[66003] .text.f65999" in listing.stdout
    assert not listing.stderr, listing.stderr
    with pytest.raises(ContainerError, match=r"many\.o: ELF section header table at 0x[0-9a-f]+ \(66005 headers of 64 "
                                             r"bytes\) runs past the end"):
        add_sections(data[:-64], [], "many.o")
