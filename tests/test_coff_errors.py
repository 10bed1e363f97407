"""Bad input to the COFF writers: a clear DwarfkitError naming what and where, and no file written or touched."""
from __future__ import annotations

import pytest
from coff_programs import KERNEL32, exit_program

from dwarfkit import (
    ContainerError,
    ContentSection,
    DescriptionError,
    DwarfSections,
    Encoding,
    Relocation,
    RelocationError,
    RelocKind,
    Section,
    SectionKind,
    Symbol,
)
from dwarfkit.backends.coff import write_object, write_pe


def write_both(image, folder, **pe_options):
    """Both writers must fail; neither may leave a file (a stale one stays as it was)."""
    errors = []
    for name, write in (("prog.o", write_object), ("prog.exe", lambda i, p: write_pe(i, p, **pe_options))):
        path = folder / name
        path.write_bytes(b"old")
        with pytest.raises(Exception) as info:
            write(image, path)
        assert path.read_bytes() == b"old"
        assert {p.name for p in folder.iterdir()} <= {"prog.o", "prog.exe"}  # no temporary file left behind
        errors.append(info.value)
    return errors


def test_unsupported_machine(tmp_path):
    image, _ = exit_program()
    image.arch = "mips"  # type: ignore[assignment]
    for error in write_both(image, tmp_path, imports=KERNEL32):
        assert isinstance(error, ContainerError) and "unsupported machine 'mips'" in str(error)


def test_relocation_against_a_missing_symbol(tmp_path):
    image, _ = exit_program()
    image.section(".text").relocations.append(Relocation(0, 4, RelocKind.PCREL, "nowhere", -4))
    for error in write_both(image, tmp_path, imports=KERNEL32):
        assert isinstance(error, RelocationError)
        assert ".text+0x0" in str(error) and "'nowhere'" in str(error)


def test_undefined_symbol_that_no_import_provides(tmp_path):
    image, _ = exit_program()
    with pytest.raises(RelocationError, match=r"\.text\+0x\w+: .*undefined symbol '__imp_ExitProcess'.*imported"):
        write_pe(image, tmp_path / "prog.exe", imports={"kernel32.dll": ["GetLastError"]})
    assert not list(tmp_path.iterdir())


def test_offset_into_a_missing_section(tmp_path):
    image, _ = exit_program()
    image.dwarf = DwarfSections(Encoding(version=4), {".debug_info": Section(
        ".debug_info", bytearray(8), [Relocation(4, 4, RelocKind.SECTION, ".debug_abbrev", 0)])})
    for error in write_both(image, tmp_path, imports=KERNEL32):
        assert isinstance(error, RelocationError)
        assert str(error).startswith(".debug_info+0x4: offset into section '.debug_abbrev'")


def test_dwarf64_offsets_have_no_coff_relocation(tmp_path):
    image, _ = exit_program()
    enc = Encoding(version=5, offset_size=8)
    image.dwarf = DwarfSections(enc, {name: Section(name, bytearray(16), relocs) for name, relocs in [
        (".debug_info", [Relocation(8, 8, RelocKind.SECTION, ".debug_abbrev", 0)]), (".debug_abbrev", [])]})
    with pytest.raises(RelocationError, match=r"\.debug_info\+0x8: 8-byte offset into \.debug_abbrev.*DWARF64"):
        write_object(image, tmp_path / "prog.o")


def test_section_larger_than_the_format_allows(tmp_path):
    image, _ = exit_program()
    image.sections.append(ContentSection(".bss", SectionKind.BSS, size=1 << 32))
    for error in write_both(image, tmp_path, imports=KERNEL32):
        assert isinstance(error, ContainerError) and "section .bss" in str(error) and "0x100000000" in str(error)


def test_too_many_sections_for_the_windows_loader(tmp_path):
    image, _ = exit_program()
    image.sections += [ContentSection(f".d{i}", SectionKind.DATA, b"x") for i in range(100)]
    with pytest.raises(ContainerError, match="sections, more than the 96"):
        write_pe(image, tmp_path / "prog.exe", imports=KERNEL32)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", [".idata", ".reloc"])
def test_sections_the_pe_writer_makes(tmp_path, name):
    image, _ = exit_program()
    image.sections.append(ContentSection(name, SectionKind.DATA, b"x"))
    with pytest.raises(ContainerError, match=f"has a section \\{name}, which the PE writer makes itself"):
        write_pe(image, tmp_path / "prog.exe", imports=KERNEL32)


@pytest.mark.parametrize("entry, message", [(None, "names no entry point"), ("nope", "'nope' is not a symbol"),
                                            ("value", "lies in .data, which is not code")])
def test_bad_entry_point(tmp_path, entry, message):
    image, _ = exit_program()
    image.entry = entry
    with pytest.raises(ContainerError, match=message):
        write_pe(image, tmp_path / "prog.exe", imports=KERNEL32)


@pytest.mark.parametrize("imports, message", [
    ({"kernel32.dll": ["ExitProcess"], "other.dll": ["ExitProcess"]}, "ExitProcess is imported twice"),
    ({"kernel32.dll": []}, "kernel32.dll lists no functions"),
    ({"kernel32.dll": ["Exit\0Process"]}, "without NUL"),
])
def test_bad_imports(tmp_path, imports, message):
    image, _ = exit_program()
    with pytest.raises(ContainerError, match=message):
        write_pe(image, tmp_path / "prog.exe", imports=imports)


def test_bad_alignment_and_image_base(tmp_path):
    image, _ = exit_program()
    image.sections[1].alignment = 3
    with pytest.raises(DescriptionError, match="section .data: alignment 3 is not a power of two"):
        write_object(image, tmp_path / "prog.o")
    with pytest.raises(ContainerError, match="image base 0x140001000 is not a positive multiple of 64 KiB"):
        write_pe(exit_program()[0], tmp_path / "prog.exe", imports=KERNEL32, image_base=0x140001000)


def test_symbol_outside_its_section(tmp_path):
    image, _ = exit_program()
    image.symbols.append(Symbol("late", ".text", 0x1000, 4))
    for error in write_both(image, tmp_path, imports=KERNEL32):
        assert "symbol 'late'" in str(error) and "outside section .text" in str(error)
