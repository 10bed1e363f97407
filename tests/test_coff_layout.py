"""Random layouts: whatever absolute addresses a data section holds, llvm-readobj finds exactly those as object
relocations and as PE base relocations, and the resolved values point where the model says."""
from __future__ import annotations

import re

from coff_programs import KERNEL32, exit_program, readobj
from hypothesis import given, settings
from hypothesis import strategies as st
from test_coff_headers import base_relocations

from dwarfkit import ContentSection, Relocation, RelocKind, SectionKind
from dwarfkit.backends.coff import DEFAULT_IMAGE_BASE, object_bytes, pe_bytes

layouts = st.tuples(
    st.integers(1, 0x600),                                       # size of .rdata in 8-byte slots
    st.sets(st.integers(0, 0x5FF), max_size=200),                # slots holding an address
    st.integers(0, 0x3000),                                      # bytes of .bss before it, to shift pages
)


@settings(max_examples=15, deadline=None)
@given(layouts)
def test_absolute_addresses_anywhere(tmp_path_factory, layout):
    slots, chosen, gap = layout
    chosen = sorted(s for s in chosen if s < slots)
    image, functions = exit_program()
    image.sections.insert(1, ContentSection(".bss", SectionKind.BSS, size=gap or 1))
    # ELF's name in the model; COFF files call it .rdata
    image.sections.append(ContentSection(".rodata", SectionKind.RODATA, bytes(8 * slots), alignment=8, relocations=[
        Relocation(8 * s, 8, RelocKind.ADDRESS, "answer", s) for s in chosen]))
    folder = tmp_path_factory.mktemp("layout")
    obj, exe = folder / "prog.o", folder / "prog.exe"
    obj.write_bytes(object_bytes(image))
    exe.write_bytes(pe_bytes(image, imports=KERNEL32))

    relocations = readobj(obj, "--relocations")
    rdata = re.search(r"Section \(\d+\) \.rdata \{\n(.*?)\n  \}", relocations, re.S)
    listed = re.findall(r"(0x[0-9A-F]+) IMAGE_REL_AMD64_ADDR64 answer", rdata[1]) if rdata else []
    assert [int(x, 16) for x in listed] == [8 * s for s in chosen]

    expected = {(".data", 16)} | {(".rdata", 8 * s) for s in chosen}
    assert base_relocations(exe) == expected
    # Each slot holds answer's address plus its addend, as the loader finds it before it moves the image.
    sections = readobj(exe, "--sections")
    text_rva = int(re.search(r"Name: \.text .*?VirtualAddress: (0x[0-9A-F]+)", sections, re.S)[1], 16)
    raw = int(re.search(r"Name: \.rdata .*?PointerToRawData: (0x[0-9A-F]+)", sections, re.S)[1], 16)
    data = exe.read_bytes()
    for s in chosen:
        value = int.from_bytes(data[raw + 8 * s:raw + 8 * s + 8], "little")
        assert value == DEFAULT_IMAGE_BASE + text_rva + functions[0].start + s
