"""Wrong images are refused by every container writer with a typed error naming what and where, before a byte is
written: names with NUL or lone surrogates, negative sizes, alignments that are not powers of two, bytes in a BSS
section, architectures given by name, relocations against nothing, DWARF that does not fit the machine, call frames
of another architecture, addresses far past every section, and ELF base addresses outside the address space."""
from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit import (
    Address,
    Arch,
    ContainerError,
    ContentSection,
    DescriptionError,
    DwarfkitError,
    DwarfSections,
    Encoding,
    Expr,
    Image,
    LayoutError,
    Relocation,
    RelocationError,
    RelocKind,
    Section,
    SectionKind,
    Symbol,
)
from dwarfkit.backends import coff, elf, macho_dsym
from dwarfkit.frame import CallFrames
from dwarfkit.program import DwarfBuilder
from dwarfkit.reader.container_check import container_findings
from examples.minic.compiler import WINDOWS_IMPORTS, compile_program

SOURCE = "int g = 5;\nint main() { return g; }\n"
# writer name -> (platform the image is compiled for, the write call)
WRITERS: dict[str, tuple[str, Callable[[Image, Path], None]]] = {
    "elf-object": ("linux", elf.write_object),
    "elf-executable": ("linux", elf.write_executable),
    "macho-object": ("macos", macho_dsym.write_object),
    "macho-executable": ("macos", macho_dsym.write_executable),
    "coff-object": ("windows", coff.write_object),
    "pe": ("windows", lambda image, path: coff.write_pe(image, path, imports=WINDOWS_IMPORTS)),
}


def image_for(writer: str, arch: Arch = Arch.X86_64) -> Image:
    return compile_program(SOURCE, arch, "t.mc", comp_dir="/src", platform=WRITERS[writer][0])


def refused(writer: str, image: Image, tmp_path: Path, error: type[DwarfkitError], message: str) -> str:
    """Writes ``image`` with ``writer``; it must raise ``error`` matching ``message`` and leave no file."""
    out = tmp_path / "out"
    with pytest.raises(error, match=message) as info:
        WRITERS[writer][1](image, out)
    assert list(tmp_path.iterdir()) == [], "a refused image left a file"
    return str(info.value)


def test_the_images_are_written_as_they_are(tmp_path: Path) -> None:
    """The images the tests below break are fine before they are broken."""
    for writer, (_, write) in WRITERS.items():
        write(image_for(writer), tmp_path / writer)


# -- the dataclasses check themselves when made -------------------------------------------------------------------
@pytest.mark.parametrize("name, arch", [("arm64", Arch.AARCH64), ("AArch64", Arch.AARCH64), ("x86-64", Arch.X86_64),
                                        ("amd64", Arch.X86_64)])
def test_arch_given_by_name(name: str, arch: Arch) -> None:
    assert Image(name).arch is arch  # type: ignore[arg-type]


@pytest.mark.parametrize("arch", ["sparc", "", 7, None])
def test_unknown_arch_is_refused(arch: object) -> None:
    with pytest.raises(DescriptionError, match=r"architecture .* \(use x86_64 or aarch64\)|is not an Arch"):
        Image(arch)  # type: ignore[arg-type]


@pytest.mark.parametrize("make, message", [
    (lambda: Symbol("f", ".text", 0, -4), r"symbol 'f': size -4 is not an integer in \[0, 2\*\*64\)"),
    (lambda: Symbol("f", ".text", -1), r"symbol 'f': value -1 is not an integer"),
    (lambda: Symbol("a\0b", ".text"), r"symbol name 'a\\x00b' contains NUL"),
    (lambda: Symbol("a\udc80", ".text"), r"symbol name 'a\\udc80' is not valid text: lone surrogate"),
    (lambda: Symbol("", ".text"), r"symbol name '' is not a non-empty string"),
    (lambda: Symbol("f", ".text", kind="func"), r"symbol 'f': kind 'func' is not a SymbolKind"),
    (lambda: ContentSection(".te\0xt", SectionKind.CODE), r"section name '.te\\x00xt' contains NUL"),
    (lambda: ContentSection(".text\ud800", SectionKind.CODE), r"lone surrogate '\\ud800' at index 5"),
    (lambda: ContentSection(".text", SectionKind.CODE, alignment=3), r"section .text: alignment 3 is not a power"),
    (lambda: ContentSection(".text", SectionKind.CODE, alignment=-8), r"alignment -8 is not a power of two"),
    (lambda: ContentSection(".bss", SectionKind.BSS, b"\1\2", size=2),
     r"section .bss: a BSS \(zero-fill\) section has no bytes"),
    (lambda: ContentSection(".bss", SectionKind.BSS, size=-1), r"section .bss: size -1 is not an integer"),
    (lambda: ContentSection(".data", SectionKind.DATA, b"12", size=8), r"size 0x8 differs from its 0x2 bytes"),
    (lambda: ContentSection(".data", SectionKind.DATA, "text"), r"section .data: data is a str, not bytes"),
])
def test_bad_fields_are_refused_when_made(make: Callable[[], object], message: str) -> None:
    with pytest.raises(DescriptionError, match=message):
        make()


# -- every writer refuses the same fields changed after the image was made -------------------------------------------
def _symbol(image: Image) -> Symbol:
    return image.symbol("main")


BROKEN: dict[str, tuple[Callable[[Image], None], type[DwarfkitError], str]] = {
    "symbol-nul": (lambda i: setattr(_symbol(i), "name", "ma\0in"), DescriptionError,
                   r"symbol name 'ma\\x00in' contains NUL"),
    "symbol-surrogate": (lambda i: setattr(_symbol(i), "name", "m\udcffain"), DescriptionError,
                         r"symbol name 'm\\udcffain' is not valid text"),
    "negative-size": (lambda i: setattr(_symbol(i), "size", -1), DescriptionError, r"symbol 'main': size -1"),
    "section-nul": (lambda i: setattr(i.section(".data"), "name", ".da\0ta"), DescriptionError,
                    r"section name '.da\\x00ta' contains NUL"),
    "alignment-3": (lambda i: setattr(i.section(".data"), "alignment", 3), DescriptionError,
                    r"section .data: alignment 3 is not a power of two"),
    "bss-bytes": (lambda i: i.sections.append(ContentSection(".bss", SectionKind.BSS, size=8)) or
                  setattr(i.sections[-1], "data", b"\1" * 8), DescriptionError,
                  r"section .bss: a BSS \(zero-fill\) section has no bytes"),
    "arch-string": (lambda i: setattr(i, "arch", "mips"), DwarfkitError,  # COFF: "unsupported machine"
                    r"unsupported (architecture|machine) 'mips'"),
    "unknown-relocation-target": (
        lambda i: i.section(".data").relocations.append(Relocation(0, 8, RelocKind.ADDRESS, "nowhere")),
        DwarfkitError, r"'nowhere'"),
    "field-past-section": (
        lambda i: i.section(".data").relocations.append(Relocation(6, 8, RelocKind.ADDRESS, "main")),
        RelocationError, r"\.data\+0x6: 8-byte relocation against 'main' lies outside the section"),
    "symbol-in-missing-section": (lambda i: setattr(_symbol(i), "section", ".text2"), DescriptionError,
                                  r"symbol 'main' refers to missing section '.text2'"),
}


@pytest.mark.parametrize("broken", BROKEN)
@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_refuses(tmp_path: Path, writer: str, broken: str) -> None:
    image = image_for(writer)
    change, error, message = BROKEN[broken]
    change(image)
    text = refused(writer, image, tmp_path, error, message)
    if broken == "unknown-relocation-target":  # the unknown symbol is named with where its field is
        assert ".data+0x0" in text, text


def test_dwarf_relocation_against_an_unknown_symbol(tmp_path: Path) -> None:
    for writer in WRITERS:
        image = image_for(writer)
        image.dwarf[".debug_info"].relocations.append(Relocation(8, 8, RelocKind.ADDRESS, "ghost"))
        text = refused(writer, image, tmp_path, DwarfkitError, "'ghost'") if writer != "macho-executable" else None
        assert text is None or ".debug_info+0x8" in text, (writer, text)


# -- DWARF that does not fit the machine ------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", [Encoding(version=4, address_size=4), Encoding(version=4, byteorder="big")],
                         ids=["4-byte-addresses", "big-endian"])
@pytest.mark.parametrize("writer", ["coff-object", "pe"])
def test_coff_refuses_dwarf_that_does_not_fit_amd64(tmp_path: Path, writer: str, encoding: Encoding) -> None:
    """Both were written before: AMD64 with 4-byte addresses cut Expr().addr(0x123456789) to 32 bits."""
    image = image_for(writer)
    image.dwarf = DwarfSections(encoding)
    image.dwarf.add(Section(".debug_info", bytearray(16)))
    refused(writer, image, tmp_path, ContainerError,
            rf"COFF AMD64: DWARF with {encoding.address_size}-byte {encoding.byteorder}-endian addresses does not fit "
            r"the machine \(8-byte little-endian\)")


# -- call frames made for another architecture -----------------------------------------------------------------------
@pytest.mark.parametrize("writer", ["elf-object", "elf-executable", "macho-object"])
def test_x86_64_call_frames_in_an_arm64_image(tmp_path: Path, writer: str) -> None:
    image = image_for(writer, Arch.AARCH64)
    frames = CallFrames(Arch.X86_64, image.dwarf.encoding)
    frames.fde(None, Address("main"), 4)
    del image.dwarf.sections[".debug_frame"]
    image.dwarf.add(frames.debug_frame())
    refused(writer, image, tmp_path, DescriptionError,
            r"\.debug_frame\+0x0: CIE return-address column 16 is x86_64's, not aarch64's \(30\): call frames made "
            r"for x86_64 in an aarch64 image")


def test_arm64_eh_frame_in_an_x86_64_image(tmp_path: Path) -> None:
    image = image_for("elf-object")
    frames = CallFrames(Arch.AARCH64, image.dwarf.encoding)
    frames.fde(None, Address("main"), 4)
    del image.dwarf.sections[".eh_frame"]
    image.dwarf.add(frames.eh_frame())
    refused("elf-object", image, tmp_path, DescriptionError, r"\.eh_frame\+0x0: CIE return-address column 30 is "
                                                             r"aarch64's, not x86_64's \(16\)")


# -- addresses far past every section of an executable ---------------------------------------------------------------
def far_dwarf(line_offset: int, variable_offset: int) -> DwarfSections:
    """A unit with a line sequence at ``main + line_offset`` and a variable at ``g + variable_offset``."""
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("t.mc", comp_dir="/src")
    int_t = cu.base_type("int", 4, "signed")
    cu.die("variable", name="g", type=int_t, location=Expr().addr(Address("g", variable_offset)))
    seq = cu.line.sequence(Address("main", line_offset))
    seq.row(0, 2)
    seq.end(1)
    return dw.emit()


@pytest.mark.parametrize("writer", ["elf-executable", "pe"])
@pytest.mark.parametrize("what", ["line row", "DW_OP_addr"])
def test_addresses_far_past_every_section(tmp_path: Path, writer: str, what: str) -> None:
    image = image_for(writer)
    image.dwarf = far_dwarf(0x10000000, 0) if what == "line row" else far_dwarf(0, 1 << 32)
    target = "'main'+0x10000000" if what == "line row" else "'g'+0x100000000"
    section = ".debug_line" if what == "line row" else ".debug_info"
    refused(writer, image, tmp_path, DescriptionError,
            rf"{section}\+0x[0-9a-f]+: address 0x[0-9a-f]+ \({re.escape(target)}\) lies outside every section of the")
    image.dwarf = far_dwarf(0, 0)  # the same description in range is written
    WRITERS[writer][1](image, tmp_path / "ok")


def test_dsym_addresses_far_past_every_section(tmp_path: Path) -> None:
    image = image_for("macho-executable")
    executable = tmp_path / "t"
    macho_dsym.write_executable(image, executable)
    with pytest.raises(DescriptionError, match=r"\.debug_line\+0x[0-9a-f]+: address 0x[0-9a-f]+ \('main'\+0x10000000\) "
                                               r"lies outside every section of"):
        macho_dsym.write_dsym(executable, far_dwarf(0x10000000, 0))
    assert not (tmp_path / "t.dSYM").exists()
    assert macho_dsym.write_dsym(executable, far_dwarf(0, 0)).is_dir()


# -- ELF executable base -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("base", [1 << 64, -0x1000, (1 << 64) - 0x1000])
def test_elf_base_outside_the_address_space(tmp_path: Path, base: int) -> None:
    image = image_for("elf-executable")
    with pytest.raises(LayoutError, match=r"base address -?0x[0-9a-f]+ is not an address|runs past the end of the "
                                          r"64-bit address space; choose a lower base"):
        elf.write_executable(image, tmp_path / "t", base=base)
    assert list(tmp_path.iterdir()) == []


def test_debug_file_addresses_far_past_every_section(tmp_path: Path) -> None:
    """A separate debug file for gcc's executable: the executable's own sections bound the DWARF's addresses."""
    (tmp_path / "t.c").write_text("int g = 5;\nint main(void) { return g; }\n")
    executable = tmp_path / "t"
    subprocess.run([require_tool("gcc"), "-O0", "-g0", "-Wl,--build-id", tmp_path / "t.c", "-o", executable],
                   check=True, timeout=60)
    outputs = (tmp_path / "t.debug", tmp_path / "t.linked")
    with pytest.raises(DescriptionError, match=r"\.debug_line\+0x[0-9a-f]+: address 0x[0-9a-f]+ "
                                               r"\('main'\+0x10000000\) lies outside every section of .*/t$"):
        elf.write_debug_file(executable, far_dwarf(0x10000000, 0), *outputs)
    assert not any(p.exists() for p in outputs)
    elf.write_debug_file(executable, far_dwarf(0, 0), *outputs)
    assert all(container_findings(p) == [] for p in outputs)  # verify's container checks find both files sound


def test_dsym_of_an_arm64_executable_refuses_x86_64_call_frames(tmp_path: Path) -> None:
    image = image_for("macho-executable", Arch.AARCH64)
    executable = tmp_path / "t"
    macho_dsym.write_executable(image, executable)
    dwarf = far_dwarf(0, 0)
    frames = CallFrames(Arch.X86_64, dwarf.encoding)
    frames.fde(None, Address("main"), 4)
    dwarf.add(frames.debug_frame())
    with pytest.raises(DescriptionError, match=r"\.debug_frame\+0x0: CIE return-address column 16 is x86_64's"):
        macho_dsym.write_dsym(executable, dwarf)
    assert not (tmp_path / "t.dSYM").exists()
