"""Our PE headers next to MinGW's for the corpus program, and our base relocations next to the linkers'."""
from __future__ import annotations

import re
from itertools import pairwise

from coff_programs import KERNEL32, dwarf_program, readobj, run
from conftest import require_tool
from test_coff_object import link_with_lld_link, link_with_mingw_ld

from dwarfkit.backends.coff import write_object, write_pe
from dwarfkit.backends.coff.pe_headers import CHECKSUM_OFFSET, with_checksum

# Header fields that describe the kind of program rather than its contents: ours must equal MinGW ld's.
SAME_AS_MINGW = [
    "Machine", "OptionalHeaderSize", "Magic", "ImageBase", "SectionAlignment", "FileAlignment",
    "MajorOperatingSystemVersion", "MinorOperatingSystemVersion", "MajorSubsystemVersion", "MinorSubsystemVersion",
    "Subsystem", "SizeOfStackReserve", "SizeOfStackCommit", "SizeOfHeapReserve", "SizeOfHeapCommit",
    "NumberOfRvaAndSize", "AddressOfNewExeHeader", "UsedBytesInTheLastPage", "FileSizeInPages", "InitialSP",
]


def header_fields(path) -> dict[str, str]:
    out = readobj(path, "--file-headers")
    fields = dict(re.findall(r"^\s+(\w+): (.+)$", out, re.M))
    for block in ("Characteristics",):
        fields[block] = re.findall(rf"{block} \[ \((0x[0-9A-F]+)\)", out)
    return fields


def section_table(path, out: str | None = None) -> list[tuple[str, int, int, str]]:
    """(name, RVA, virtual size, characteristics) of every section, from ``out`` if readobj already printed them."""
    out = out or readobj(path, "--sections")
    pattern = (r"Name: (\S+) .*?VirtualSize: (0x[0-9A-F]+)\n\s+VirtualAddress: (0x[0-9A-F]+)"
               r".*?Characteristics \[ \((0x[0-9A-F]+)")
    return [(m[1], int(m[3], 16), int(m[2], 16), m[4]) for m in re.finditer(pattern, out, re.S)]


def test_headers_side_by_side_with_mingw(tmp_path, corpus):
    image, _ = dwarf_program(4)
    exe = tmp_path / "prog.exe"
    write_pe(image, exe, imports=KERNEL32)
    ours, mingw = header_fields(exe), header_fields(corpus / "coff" / "shapes-mingw-O0-dwarf4.exe")
    for field in SAME_AS_MINGW:
        assert ours[field] == mingw[field], field
    # File characteristics (executable, large address aware, line numbers stripped) and DLL characteristics
    # (dynamic base, high-entropy VA, NX) are MinGW's.
    assert ours["Characteristics"] == mingw["Characteristics"] == ["0x26", "0x160"]
    # Layout rules MinGW ld follows: sections back to back on 4 KiB pages from 0x1000, .idata and .reloc before
    # the DWARF sections, DWARF sections discardable, read-only, initialised data, in a long name.
    for table in (section_table(exe), section_table(corpus / "coff" / "shapes-mingw-O0-dwarf4.exe")):
        names = [name for name, *_ in table]
        assert table[0][1] == 0x1000
        for (_, rva, size, _), (_, next_rva, _, _) in pairwise(table):
            assert next_rva == rva + -(-max(size, 1) // 0x1000) * 0x1000
        debug = [i for i, name in enumerate(names) if name.startswith(".debug_")]
        assert debug == list(range(debug[0], len(names))) and names.index(".reloc") < debug[0]
        assert names.index(".idata") < names.index(".reloc")
        assert {flags for name, _, _, flags in table if name.startswith(".debug_")} == {"0x42000040"}


def base_relocations(path) -> set[tuple[str, int]]:
    """Every DIR64 fixup as (section name, offset in the section), so images with other layouts compare."""
    out = readobj(path, "--sections", "--coff-basereloc")
    sections = section_table(path, out)
    fixups = set()
    for rva in re.findall(r"Type: DIR64\n\s+Address: (0x[0-9A-F]+)", out):
        address = int(rva, 16)
        name, start = next((n, r) for n, r, size, _ in sections if r <= address < r + max(size, 1))
        fixups.add((name, address - start))
    return fixups


def test_base_relocations_match_the_linkers(tmp_path):
    image, _ = dwarf_program(5)
    obj, ours = tmp_path / "prog.o", tmp_path / "prog.exe"
    write_object(image, obj)
    write_pe(image, ours, imports=KERNEL32)
    expected = {(".data", r.offset) for r in image.section(".data").relocations}
    assert base_relocations(ours) == expected
    for link in (link_with_mingw_ld, link_with_lld_link):
        exe = tmp_path / f"{link.__name__}.exe"
        link(obj, exe)
        assert base_relocations(exe) == expected, link.__name__


def test_checksum_is_the_one_gnu_tools_compute(tmp_path):
    """objcopy rewrites our image and stores GNU's checksum of the result; ours of the same bytes is equal."""
    image, _ = dwarf_program(5)
    exe, copy = tmp_path / "prog.exe", tmp_path / "copy.exe"
    write_pe(image, exe, imports=KERNEL32)
    run([require_tool("x86_64-w64-mingw32-objcopy"), exe, copy])
    data = copy.read_bytes()
    assert data[CHECKSUM_OFFSET:CHECKSUM_OFFSET + 4] != bytes(4)
    assert with_checksum(bytearray(data)) == data
    ours = exe.read_bytes()
    assert with_checksum(bytearray(ours)) == ours


def test_readobj_reads_every_file_we_write(tmp_path):
    from test_coff_dwarf import arm64_image
    for arch, image, imports in (("x86_64", dwarf_program(5)[0], KERNEL32), ("arm64", arm64_image(), KERNEL32)):
        obj, exe = tmp_path / f"{arch}.o", tmp_path / f"{arch}.exe"
        write_object(image, obj)
        write_pe(image, exe, imports=imports)
        for path in (obj, exe):
            result = run([require_tool("llvm-readobj-14"), "--file-headers", "--sections", "--relocations",
                          "--symbols", "--coff-imports", "--coff-basereloc", path])
            assert not result.stderr, result.stderr
            assert f"Format: COFF-{'x86-64' if arch == 'x86_64' else 'ARM64'}" in result.stdout
