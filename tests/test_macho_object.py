"""MH_OBJECT writer: what clang writes, what ld64.lld links, and clear errors for what Mach-O cannot express."""
from __future__ import annotations

from pathlib import Path

import pytest
from macho_program import build_image
from macho_tools import load_commands, run

from dwarfkit import Arch, ContainerError, DwarfSections, Encoding, Relocation, RelocKind, Section
from dwarfkit.backends.macho_dsym import read_macho, write_object


def relocations(path: Path) -> dict[str, list[tuple[str, ...]]]:
    """``llvm-objdump --macho -r``: per section, (pcrel, length, extern, type, target) of every record."""
    out: dict[str, list[tuple[str, ...]]] = {}
    current = None
    for line in run("llvm-objdump-14", "--macho", "-r", path).splitlines():
        if line.startswith("Relocation information ("):
            current = out.setdefault(line.split("(", 1)[1].split(")", 1)[0], [])
        elif current is not None and line[:1].isdigit():
            # arm64 lengths print as "?( 3)": the same log2 size as x86_64's "quad"
            fields = line.replace("?( 3)", "quad").replace("?( 2)", "long").split()
            current.append((fields[1], fields[2], fields[3], fields[4], fields[-1]))
    return out


@pytest.mark.parametrize("arch", [Arch.X86_64, Arch.AARCH64])
def test_object_header_like_clang(tmp_path: Path, arch: Arch) -> None:
    image, _ = build_image(arch)
    obj = tmp_path / "prog.o"
    write_object(image, obj)
    commands = load_commands(obj)
    assert [c["cmd"] for c in commands] == ["LC_SEGMENT_64", "LC_BUILD_VERSION", "LC_SYMTAB", "LC_DYSYMTAB"]
    assert [s["sectname"] for s in commands[0]["sections"]] == ["__text", "__data", "__bss"]
    dysymtab = commands[3]
    assert (dysymtab["nlocalsym"], dysymtab["nextdefsym"], dysymtab["nundefsym"]) == ("2", "2", "0")
    header = run("llvm-objdump-14", "--macho", "--private-header", obj)
    assert "OBJECT" in header and "SUBSECTIONS_VIA_SYMBOLS" in header
    if arch is Arch.X86_64:
        assert relocations(obj) == {"__TEXT,__text": [("True", "long", "True", "BRANCH", "_helper")]}


def test_undefined_symbol_is_an_extern_relocation(tmp_path: Path) -> None:
    """An address of a symbol the object does not define: extern UNSIGNED against it, the addend in the field."""
    image, _ = build_image(Arch.AARCH64)
    from dwarfkit import Symbol
    image.symbols.append(Symbol("elsewhere", None))
    data = image.section(".data")
    data.data = bytes(8) + bytes(8)
    data.relocations.append(Relocation(8, 8, RelocKind.ADDRESS, "elsewhere", 16))
    obj = tmp_path / "prog.o"
    write_object(image, obj)
    assert relocations(obj) == {"__DATA,__data": [("False", "quad", "True", "UNSIGND", "_elsewhere")]}
    section = read_macho(obj).section("__DATA", "__data")
    assert section is not None and read_macho(obj).section_data(section)[8:] == (16).to_bytes(8, "little")
    assert "U _elsewhere" in run("llvm-nm-14", obj)


def bad(image, path: Path, message: str) -> None:
    with pytest.raises(ContainerError, match=message):
        write_object(image, path)
    assert not path.exists() and list(path.parent.iterdir()) == []


def test_arm64_pc_relative_code_field_is_refused(tmp_path: Path) -> None:
    image, _ = build_image(Arch.AARCH64)
    image.section(".text").relocations.append(Relocation(0, 4, RelocKind.PCREL, "main"))
    bad(image, tmp_path / "prog.o", r"\.text\+0x0: pcrel relocation of 4 bytes against 'main' has no Mach-O aarch64")


def test_relocation_against_unknown_symbol(tmp_path: Path) -> None:
    image, _ = build_image(Arch.X86_64)
    image.dwarf = DwarfSections(Encoding(version=4))
    image.dwarf.add(Section(".debug_info", bytearray(16), [Relocation(8, 8, RelocKind.ADDRESS, "nowhere")]))
    bad(image, tmp_path / "prog.o", r"\.debug_info\+0x8: relocation against 'nowhere'")


def test_dwarf_address_size_must_fit_the_target(tmp_path: Path) -> None:
    image, _ = build_image(Arch.X86_64)
    image.dwarf = DwarfSections(Encoding(version=4, address_size=4))
    image.dwarf.add(Section(".debug_info", bytearray(16)))
    bad(image, tmp_path / "prog.o", "4-byte little-endian addresses does not fit x86_64")
