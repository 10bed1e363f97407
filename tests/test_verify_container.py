"""``dwarfkit verify`` checks the container's own structure, as llvm-objdump, llvm-readobj and llvm-objcopy do before
they read any DWARF. Each case breaks one structure of a file our writers made; verify must name it, and an LLVM tool
must refuse or warn about the same file (so the finding is real, not ours alone). Files the writers make, and the
corpus (tests/test_verify_corpus.py), have no container findings."""
from __future__ import annotations

import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit import Arch
from dwarfkit.backends import coff, elf, macho_dsym
from dwarfkit.reader.container_check import container_findings
from dwarfkit.reader.verify import verify
from examples.minic.compiler import WINDOWS_IMPORTS, compile_program

SOURCE = "int g = 5;\nint twice(int x) { return x + x; }\nint main() { return twice(g); }\n"
REPO = Path(__file__).resolve().parent.parent


def written(tmp_path: Path, kind: str) -> Path:
    """A file one of our writers made: elf-object, elf-executable, macho-object, macho-executable, coff-object, pe."""
    platform = {"elf": "linux", "macho": "macos", "coff": "windows", "pe": "windows"}[kind.split("-")[0]]
    image = compile_program(SOURCE, Arch.X86_64, "t.mc", comp_dir="/src", platform=platform)
    path = tmp_path / kind
    {"elf-object": elf.write_object, "elf-executable": elf.write_executable,
     "macho-object": macho_dsym.write_object, "macho-executable": macho_dsym.write_executable,
     "coff-object": coff.write_object,
     "pe": lambda i, p: coff.write_pe(i, p, imports=WINDOWS_IMPORTS)}[kind](image, path)
    return path


def tool_output(*args: str | Path) -> str:
    result = subprocess.run([require_tool(str(args[0])), *map(str, args[1:])], capture_output=True, timeout=60,
                            check=False)
    return (result.stdout + result.stderr).decode(errors="replace")


@pytest.mark.parametrize("kind", ["elf-object", "elf-executable", "macho-object", "macho-executable", "coff-object",
                                  "pe"])
def test_written_files_have_no_container_findings(tmp_path: Path, kind: str) -> None:
    path = written(tmp_path, kind)
    assert container_findings(path) == []
    if kind == "macho-executable":
        image = compile_program(SOURCE, Arch.X86_64, "t.mc", comp_dir="/src", platform="macos")
        assert image.dwarf is not None
        assert container_findings(macho_dsym.write_dsym(path, image.dwarf)) == []


# -- one broken structure per case ------------------------------------------------------------------------------------
def u(data: bytearray, fmt: str, at: int) -> int:
    return struct.unpack_from(fmt, data, at)[0]


def elf_section_header(data: bytearray, index: int) -> int:
    return u(data, "<Q", 0x28) + 64 * index


def elf_symtab_header(data: bytearray) -> int:
    return next(elf_section_header(data, i) for i in range(u(data, "<H", 0x3C))
                if u(data, "<I", elf_section_header(data, i) + 4) == 2)


def macho_command(data: bytearray, cmd: int) -> int:
    at = 32
    while u(data, "<I", at) != cmd:
        at += u(data, "<I", at + 4)
    return at


SEGMENT, TEXT_SECTION = 32, 32 + 72  # our objects' first load command is the segment, its first section __text


def pe_header(data: bytearray) -> int:
    return u(data, "<I", 0x3C) + 4


# name -> (file kind, patch, our finding, (LLVM tool and arguments), what the tool says)
Patch = Callable[[bytearray], None]
CASES: dict[str, tuple[str, Patch, str, tuple[str, ...], str]] = {
    "elf-section-table-past-eof": (
        "elf-object", lambda d: struct.pack_into("<Q", d, 0x28, len(d) + 0x100),
        "ELF: section header table at 0x", ("llvm-objdump-14", "-h"),
        "section header table goes past the end of the file"),
    "elf-section-past-eof": (
        "elf-object", lambda d: struct.pack_into("<Q", d, elf_section_header(d, 1) + 24, len(d)),
        "ELF: section 1: sh_offset", ("llvm-objcopy-14",), "that is greater than the file size"),
    "elf-bad-sh-link": (
        "elf-object", lambda d: struct.pack_into("<I", d, elf_symtab_header(d) + 40, 999),
        "sh_link 999 is not a section index", ("llvm-readobj-14", "--symbols"), "invalid section index: 999"),
    "elf-bad-shstrndx": (
        "elf-object", lambda d: struct.pack_into("<H", d, 0x3E, 500),
        "ELF: e_shstrndx 500 is not a section index", ("llvm-objdump-14", "-h"),
        "section header string table index 500 does not exist"),
    "elf-segment-past-eof": (
        "elf-executable", lambda d: struct.pack_into("<Q", d, u(d, "<Q", 0x20) + 8, len(d)),
        "ELF: program header 0: p_offset", ("llvm-objcopy-14",), "goes past the end of the file"),
    "macho-filesize-over-vmsize": (  # what the object writer made before it placed sections by address
        "macho-object", lambda d: struct.pack_into("<Q", d, SEGMENT + 48, u(d, "<Q", SEGMENT + 32) + 8),
        "Mach-O: load command 0 (LC_SEGMENT_64 ''): filesize 0x", ("llvm-objdump-14", "-h"),
        "load command 0 filesize field in LC_SEGMENT_64 greater than vmsize field"),
    "macho-sizeofcmds": (
        "macho-object", lambda d: struct.pack_into("<I", d, 20, u(d, "<I", 20) + 8),
        "load commands take", ("llvm-objdump-14", "-h"), "overlaps Mach-O headers"),
    "macho-cmdsize-unaligned": (
        "macho-object", lambda d: struct.pack_into("<I", d, SEGMENT + 4, u(d, "<I", SEGMENT + 4) + 4),
        "load command 0 (cmd 0x19) cmdsize", ("llvm-objdump-14", "-h"), "cmdsize not a multiple of 8"),
    "macho-cmdsize-past-commands": (
        "macho-object", lambda d: struct.pack_into("<I", d, SEGMENT + 4, u(d, "<I", 20) + 8),
        "Mach-O: load command 0 at 0x20 has a bad size", ("llvm-objdump-14", "-h"),
        "extends past the end all load commands in the file"),
    "macho-section-outside-segment": (
        "macho-object", lambda d: struct.pack_into("<Q", d, TEXT_SECTION + 32, 0x10000),
        "section 0 (__text): addresses [0x10000", ("llvm-objdump-14", "-h"),
        "greater than than the segment's vmaddr plus vmsize"),
    "macho-symbols-past-eof": (
        "macho-object", lambda d: struct.pack_into("<I", d, macho_command(d, 2) + 8, len(d)),
        "(LC_SYMTAB): symoff", ("llvm-objdump-14", "-h"), "symoff field plus nsyms field"),
    "coff-raw-data-past-eof": (
        "coff-object", lambda d: struct.pack_into("<I", d, 20 + 20, len(d)),
        "COFF: section 1 (.text): raw data at", ("llvm-objdump-14", "-s"),
        "The end of the file was unexpectedly encountered"),
    "coff-symbols-past-eof": (
        "coff-object", lambda d: struct.pack_into("<I", d, 8, len(d)),
        "COFF: symbol table (", ("llvm-objdump-14", "-h"), "Invalid data was encountered"),
    "coff-section-count": (
        "coff-object", lambda d: struct.pack_into("<H", d, 2, 3000),
        "COFF: section table (3000 sections)", ("llvm-objdump-14", "-h"),
        "The end of the file was unexpectedly encountered"),
    "pe-raw-data-past-eof": (
        "pe", lambda d: struct.pack_into("<I", d, pe_header(d) + 20 + u(d, "<H", pe_header(d) + 16) + 20, len(d)),
        "COFF: section 1 (.text): raw data at", ("llvm-objdump-14", "-s"),
        "The end of the file was unexpectedly encountered"),
}


@pytest.mark.parametrize("case", CASES)
def test_broken_structure_is_a_finding(tmp_path: Path, case: str) -> None:
    kind, patch, finding, tool, says = CASES[case]
    path = written(tmp_path, kind)
    assert verify(str(path)) == []
    data = bytearray(path.read_bytes())
    patch(data)
    path.write_bytes(bytes(data))
    findings = container_findings(path)
    assert any(finding in f for f in findings), findings
    assert says in tool_output(*tool, path, *([tmp_path / "copy"] if tool[0] == "llvm-objcopy-14" else []))


def test_verify_reports_the_malformed_mach_o_object(tmp_path: Path) -> None:
    """The object the Mach-O writer used to make (no zero-fill section): "no problems found" before."""
    kind, patch, finding, _tool, _says = CASES["macho-filesize-over-vmsize"]
    path = written(tmp_path, kind)
    data = bytearray(path.read_bytes())
    patch(data)
    path.write_bytes(bytes(data))
    result = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(path)], capture_output=True, text=True,
                            cwd=REPO, timeout=120, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert finding in result.stdout and "is greater than vmsize" in result.stdout


def test_fat_slice_past_the_end(tmp_path: Path) -> None:
    obj = written(tmp_path, "macho-object").read_bytes()
    fat = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", 0x01000007, 3, 0x1000, len(obj) + 100, 12)
    path = tmp_path / "fat"
    path.write_bytes(fat.ljust(0x1000, b"\0") + obj)
    expected = (f"fat Mach-O: slice 0 at 0x1000 + 0x{len(obj) + 100:x} extends past the end of the file "
                f"(0x{0x1000 + len(obj):x})")
    assert container_findings(path) == [expected]
    assert "extends past the end of the file" in tool_output("llvm-objdump-14", "-h", path)


def test_overlapping_elf_sections(tmp_path: Path) -> None:
    path = written(tmp_path, "elf-object")
    data = bytearray(path.read_bytes())
    struct.pack_into("<Q", data, elf_section_header(data, 2) + 24, u(data, "<Q", elf_section_header(data, 1) + 24))
    path.write_bytes(bytes(data))
    assert any(f.startswith("ELF: sections 1 and 2 overlap in the file at 0x") for f in container_findings(path))


def test_section_name_of_a_slash_and_a_non_ascii_digit(tmp_path: Path) -> None:
    """``/²`` is no long name (llvm-objdump refuses it); the COFF parser once fed it to int() and raised ValueError."""
    path = written(tmp_path, "coff-object")
    data = bytearray(path.read_bytes())
    data[20:28] = "/²".encode().ljust(8, b"\0")  # section 1's Name field
    path.write_bytes(bytes(data))
    assert "invalid section name" in tool_output("llvm-objdump-14", "-h", path)
    for command in ("dump", "verify"):
        result = subprocess.run([sys.executable, "-m", "dwarfkit", command, str(path)], capture_output=True,
                                text=True, cwd=REPO, timeout=120, check=False)
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
