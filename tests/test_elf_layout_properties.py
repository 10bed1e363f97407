"""Properties of the ELF writers over random inputs, checked with pyelftools and by running the result."""
from __future__ import annotations

import io
import subprocess
import tempfile
from itertools import pairwise
from pathlib import Path

from elftools.elf.elffile import ELFFile
from hypothesis import given, settings
from hypothesis import strategies as st

from dwarfkit import (
    Arch,
    ContentSection,
    DwarfSections,
    Encoding,
    Image,
    Relocation,
    RelocKind,
    Section,
    SectionKind,
    Symbol,
)
from dwarfkit.backends.elf import executable_bytes, object_bytes

# exit(42) with the Linux system call; the first instruction of .text.
EXIT_42 = bytes.fromhex("bf2a000000b83c0000000f05")

extra_sections = st.lists(st.tuples(st.sampled_from([SectionKind.RODATA, SectionKind.DATA, SectionKind.BSS]),
                                    st.integers(0, 0x3000), st.sampled_from([1, 4, 8, 16, 64, 4096, 0x10000])),
                          max_size=4)


@settings(max_examples=25, deadline=None)
@given(extra_sections, st.integers(0, 0x2000), st.sampled_from([0x400000, 0x10000000]))
def test_executable_layout(extra: list, padding: int, base: int) -> None:
    """Every allocated section sits in a PT_LOAD of its own, congruent modulo the page size, on pages of its own,
    and the kernel runs the program."""
    sections = [ContentSection(".text", SectionKind.CODE, EXIT_42 + b"\xcc" * padding)]
    for i, (kind, size, alignment) in enumerate(extra):
        name = f".{kind.value}{i}"
        sections.append(ContentSection(name, kind, b"" if kind is SectionKind.BSS else bytes([i]) * size,
                                       alignment=alignment, size=size if kind is SectionKind.BSS else None))
    image = Image(Arch.X86_64, sections, [Symbol("_start", ".text", 0, len(EXIT_42))])
    data = executable_bytes(image, base=base)
    elf = ELFFile(io.BytesIO(data))
    loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    assert len(loads) == sum(1 for s in sections if s.byte_size)
    pages = []
    for seg in loads:
        assert seg["p_offset"] % 0x1000 == seg["p_vaddr"] % 0x1000
        pages.append((seg["p_vaddr"] // 0x1000, (seg["p_vaddr"] + max(seg["p_memsz"], 1) + 0xFFF) // 0x1000))
    pages.sort()
    assert all(a[1] <= b[0] for a, b in pairwise(pages))
    for content in sections:
        section = elf.get_section_by_name(content.name)
        assert section["sh_addr"] % content.alignment == 0 and section["sh_addr"] >= base
        assert sum(1 for seg in loads if seg.section_in_segment(section)) == (1 if content.byte_size else 0)
        if content.kind is not SectionKind.BSS:
            assert section.data() == content.data
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prog"
        path.write_bytes(data)
        path.chmod(0o755)
        assert subprocess.run([path], timeout=10).returncode == 42


relocations = st.lists(st.tuples(st.sampled_from([(RelocKind.SECTION, 4), (RelocKind.SECTION, 8),
                                                  (RelocKind.UNIT, 4), (RelocKind.ADDRESS, 8), (RelocKind.ENTRY, 4)]),
                                 st.integers(0, 56), st.integers(0, 1 << 20)), max_size=20)


@settings(max_examples=50, deadline=None)
@given(relocations, st.sampled_from([Arch.X86_64, Arch.AARCH64]))
def test_object_relocations_round_trip(relocs: list, arch: Arch) -> None:
    """pyelftools reads back exactly the relocations we were given, in order, ENTRY ones left out."""
    info = Section(".debug_info", bytearray(64))
    for (kind, size), offset, addend in relocs:
        target = {RelocKind.SECTION: ".debug_str", RelocKind.UNIT: ".debug_info",
                  RelocKind.ENTRY: ".debug_info"}.get(kind, "f")
        info.relocations.append(Relocation(offset, size, kind, target, addend))
    dwarf = DwarfSections(Encoding())
    dwarf.add(info)
    dwarf.add(Section(".debug_str", bytearray(b"x\0")))
    image = Image(arch, [ContentSection(".text", SectionKind.CODE, bytes(16))], [Symbol("f", ".text", 0, 16)], dwarf)
    elf = ELFFile(io.BytesIO(object_bytes(image)))
    rela = elf.get_section_by_name(".rela.debug_info")
    expected = [(r.offset, r.target, r.addend) for r in info.relocations if r.kind is not RelocKind.ENTRY]
    if not expected:
        assert rela is None
        return
    symtab = elf.get_section_by_name(".symtab")
    got = []
    for r in rela.iter_relocations():
        sym = symtab.get_symbol(r["r_info_sym"])
        name = elf.get_section(sym["st_shndx"]).name if sym["st_info"]["type"] == "STT_SECTION" else sym.name
        got.append((r["r_offset"], name, r["r_addend"]))
    assert got == expected
