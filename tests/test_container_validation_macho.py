"""Mach-O objects that LLVM's tools and ld64.lld accept: the segment's file part within its memory part (with and
without zero-fill sections), ``__TEXT,__eh_frame`` from the image's ``.eh_frame``, and clear errors for what a Mach-O
object cannot hold."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from macho_tools import load_commands, run

from dwarfkit import (
    Arch,
    ContainerError,
    ContentSection,
    Relocation,
    RelocationError,
    RelocKind,
    SectionKind,
    Symbol,
    SymbolKind,
)
from dwarfkit.backends.macho_dsym import write_object
from examples.minic.compiler import compile_program

ARCHES = {"x86_64": Arch.X86_64, "arm64": Arch.AARCH64}
NO_GLOBALS = "int twice(int x) { return x + x; }\nint main() { return twice(21); }\n"


def macos_image(arch: str, zerofill: bool):
    """The example compiler's own macOS image (code, DWARF, .eh_frame); with ``zerofill`` also a BSS section."""
    image = compile_program(NO_GLOBALS, ARCHES[arch], "t.mc", comp_dir="/src", platform="macos")
    assert ".eh_frame" in image.dwarf and not any(s.kind is SectionKind.BSS for s in image.sections)
    if zerofill:
        image.sections.append(ContentSection(".bss", SectionKind.BSS, alignment=8, size=24))
        image.symbols.append(Symbol("scratch", ".bss", 8, 8, SymbolKind.OBJECT, is_global=False))
    return image


def symbols(path: Path) -> dict[str, int]:
    return {name: int(value, 16) for value, _kind, name in
            (line.split() for line in run("llvm-nm-14", path).splitlines() if len(line.split()) == 3)}


def fde_ranges(path: Path) -> list[tuple[int, int]]:
    """(start, end) of every FDE in __eh_frame, as llvm-dwarfdump reads them."""
    out = run("llvm-dwarfdump-14", "--eh-frame", path)
    eh = out[out.index(".eh_frame contents:"):]
    assert "error" not in eh.lower() and "warning" not in eh.lower(), eh
    return [(int(a, 16), int(b, 16)) for a, b in re.findall(r"FDE cie=\w+ pc=(\w+)\.\.\.(\w+)", eh)]


@pytest.mark.parametrize("zerofill", [False, True], ids=["no-zerofill", "zerofill"])
@pytest.mark.parametrize("arch", ARCHES)
def test_llvm_tools_accept_objects_with_and_without_zerofill(tmp_path: Path, arch: str, zerofill: bool) -> None:
    """Without a zero-fill section the segment used to claim more file bytes than memory (``filesize > vmsize``),
    and llvm-objdump and llvm-dwarfdump refused the whole file."""
    obj = tmp_path / "t.o"
    write_object(macos_image(arch, zerofill), obj)
    headers = run("llvm-objdump-14", "-h", obj)
    assert "error" not in headers and "__text" in headers and "__debug_info" in headers, headers
    assert ("__bss" in headers) == zerofill
    segment = load_commands(obj)[0]
    assert segment["cmd"] == "LC_SEGMENT_64"
    assert int(segment["filesize"]) <= int(segment["vmsize"], 16)
    for section in segment["sections"]:  # every file-backed section inside the segment's file range
        if section["type"] != "S_ZEROFILL":
            assert int(segment["fileoff"]) <= int(section["offset"])
            end = int(section["offset"]) + int(section["size"], 16)
            assert end <= int(segment["fileoff"]) + int(segment["filesize"])
    info = run("llvm-dwarfdump-14", "--debug-info", obj)
    assert "DW_TAG_compile_unit" in info and "error" not in info, info
    run("llvm-dwarfdump-14", "--verify", obj)
    executable = tmp_path / "t"
    run("ld64.lld-14", "-arch", arch, "-platform_version", "macos", "11.0", "11.0", "-e", "__start", "-o", executable,
        obj)
    assert "__text" in run("llvm-objdump-14", "-h", executable)


@pytest.mark.parametrize("arch", ARCHES)
def test_eh_frame_goes_to_text_eh_frame(tmp_path: Path, arch: str) -> None:
    """The README's one image for every backend: its .eh_frame becomes clang's ``__TEXT,__eh_frame`` whose FDEs
    cover the object's functions, and stay right after ld64.lld links the object."""
    image = macos_image(arch, zerofill=False)
    obj = tmp_path / "t.o"
    write_object(image, obj)
    eh = next(s for s in load_commands(obj)[0]["sections"] if s["sectname"] == "__eh_frame")
    assert eh["segname"] == "__TEXT" and eh["type"] == "S_COALESCED"
    assert run("llvm-objdump-14", "--macho", "-r", obj).count("__eh_frame") == 0  # resolved in place, as clang
    functions = {name: (start, start + size) for name, start, size in
                 ((s.name, s.value, s.size) for s in image.symbols if s.kind is SymbolKind.FUNCTION)}
    in_object = symbols(obj)
    expected = sorted((in_object["_" + name], in_object["_" + name] + end - start)
                      for name, (start, end) in functions.items())
    assert sorted(fde_ranges(obj)) == expected
    executable = tmp_path / "t"
    run("ld64.lld-14", "-arch", arch, "-platform_version", "macos", "11.0", "11.0", "-e", "__start", "-o", executable,
        obj)
    linked = symbols(executable)
    assert sorted(fde_ranges(executable)) == sorted(
        (linked["_" + name], linked["_" + name] + end - start) for name, (start, end) in functions.items())


def test_eh_frame_naming_an_undefined_function_is_refused(tmp_path: Path) -> None:
    image = macos_image("x86_64", zerofill=False)
    image.symbols.append(Symbol("elsewhere", None))
    eh = image.dwarf[".eh_frame"]
    first = next(r for r in eh.relocations if r.kind is RelocKind.PCREL)
    eh.relocations[eh.relocations.index(first)] = Relocation(first.offset, 4, RelocKind.PCREL, "elsewhere")
    with pytest.raises(ContainerError) as info:
        write_object(image, tmp_path / "t.o")
    assert f".eh_frame+{first.offset:#x}: .eh_frame refers to 'elsewhere', which the object does not define" \
        in str(info.value)
    assert not (tmp_path / "t.o").exists()


def test_reference_into_a_missing_section_is_refused(tmp_path: Path) -> None:
    """A section offset into a debug section the object does not have was silently left as it was."""
    image = macos_image("arm64", zerofill=False)
    image.dwarf[".debug_info"].relocations.append(Relocation(8, 4, RelocKind.SECTION, ".debug_rnglists"))
    with pytest.raises(RelocationError, match=r"\.debug_info\+0x8: section reference into section "
                                              r"'\.debug_rnglists', which is not written"):
        write_object(image, tmp_path / "t.o")
    assert not (tmp_path / "t.o").exists()


def test_long_non_ascii_section_name_is_cut_at_a_character(tmp_path: Path) -> None:
    """Mach-O names are 16 bytes; a name cut to 16 characters of UTF-8 was a bare ValueError."""
    image = macos_image("x86_64", zerofill=False)
    image.sections.append(ContentSection(".données_très_longues", SectionKind.DATA, b"1234", 4))
    obj = tmp_path / "t.o"
    write_object(image, obj)
    names = [s["sectname"] for s in load_commands(obj)[0]["sections"]]
    assert "__données_très" in names  # 16 bytes: 'é' twice takes 2 bytes each
