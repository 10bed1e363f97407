"""MH_EXECUTE and MH_OBJECT writers, held against ld64.lld linking the same program and read by llvm-objdump and
lldb."""
from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from macho_program import build_image
from macho_tools import lldb, load_commands, run, uuids

from dwarfkit import Arch, ContainerError, DescriptionError, Symbol
from dwarfkit.backends.macho_dsym import read_macho, write_executable, write_object

ARCHES = {"x86_64": Arch.X86_64, "arm64": Arch.AARCH64}


def link(obj: Path, out: Path, arch: str) -> Path:
    run("ld64.lld-14", "-arch", arch, "-platform_version", "macos", "11.0", "11.0", "-e", "_main", "-o", out, obj)
    return out


def shape(path: Path) -> list[tuple]:
    """Kinds of load commands, segments and their sections, in order."""
    return [(c["cmd"], c.get("segname"), tuple(s["sectname"] for s in c["sections"])) for c in load_commands(path)]


def symbols(path: Path) -> list[str]:
    """``llvm-nm`` lines without addresses: type letter and name."""
    return sorted(line.split(None, 1)[1] for line in run("llvm-nm-14", path).splitlines())


def exports(path: Path) -> list[str]:
    out = run("llvm-objdump-14", "--macho", "--exports-trie", path)
    return sorted(line.split()[1] for line in out.splitlines() if line.startswith("0x"))


@pytest.mark.parametrize("arch", ARCHES)
def test_executable_has_ld64_lld_load_commands(tmp_path: Path, arch: str) -> None:
    image, _ = build_image(ARCHES[arch])
    ours, obj = tmp_path / "ours", tmp_path / "prog.o"
    write_executable(image, ours)
    write_object(image, obj)
    theirs = link(obj, tmp_path / "theirs", arch)
    assert shape(ours) == shape(theirs)
    assert symbols(ours) == symbols(theirs) == sorted(["T __mh_execute_header", "T _main", "t _helper",
                                                       "D _counter", "b _scratch"])
    assert exports(ours) == exports(theirs) == ["__mh_execute_header", "_counter", "_main"]
    # The code is the same bytes once linked, including main's call to helper.
    disassembly = [run("llvm-objdump-14", "--macho", "-d", "--no-show-raw-insn", "--no-leading-addr", p)
                   for p in (ours, theirs)]
    assert disassembly[0].split("\n", 1)[1] == disassembly[1].split("\n", 1)[1]
    starts = [run("llvm-objdump-14", "--macho", "--function-starts", p).split()[1:] for p in (ours, theirs)]
    assert len(starts[0]) == len(starts[1]) == 2


def test_code_signature_like_ld64_lld(tmp_path: Path) -> None:
    """arm64 executables carry an ad-hoc signature: ours has lld's fields, and its page hashes are right."""
    image, _ = build_image(Arch.AARCH64)
    ours = tmp_path / "prog"
    write_executable(image, ours)
    write_object(image, tmp_path / "prog.o")
    theirs = link(tmp_path / "prog.o", tmp_path / "theirs", "arm64")

    def directory(path: Path) -> tuple[bytes, tuple, bytes, list[bytes]]:
        data = path.read_bytes()
        command = read_macho(path).command(0x1D)
        blob = data[command.dataoff:command.dataoff + command.datasize]  # type: ignore[union-attr]
        magic, _, count = struct.unpack_from(">III", blob)
        assert (magic, count) == (0xFADE0CC0, 1)
        _, cd_offset = struct.unpack_from(">II", blob, 12)
        fields = struct.unpack_from(">IIIIIIIIIBBBBIIIIQQQQ", blob, cd_offset)
        ident = blob[cd_offset + fields[5]:].split(b"\0", 1)[0]
        hashes = [blob[cd_offset + fields[4] + 32 * i:][:32] for i in range(fields[7])]
        return data[:fields[8]], fields, ident, hashes

    signed, fields, ident, hashes = directory(ours)
    _, lld_fields, lld_ident, _ = directory(theirs)
    same = (0, 2, 3, 6, 9, 10, 11, 12, 18, 19, 20)  # magic, version, flags, hash size/type, page size, exec segment
    assert [fields[i] for i in same] == [lld_fields[i] for i in same]
    assert (ident, lld_ident) == (b"prog", b"theirs")
    assert fields[8] == read_macho(ours).command(0x1D).dataoff  # type: ignore[union-attr]
    assert hashes == [hashlib.sha256(signed[i:i + 4096]).digest() for i in range(0, len(signed), 4096)]


@pytest.mark.parametrize("arch", ARCHES)
def test_lldb_reads_executable(tmp_path: Path, arch: str) -> None:
    image, functions = build_image(ARCHES[arch])
    path = tmp_path / "prog"
    write_executable(image, path)
    out = lldb(path, None, "image list", "image lookup -n main", "image lookup -s helper")
    assert uuids(path)[0] in out
    text = read_macho(path).section("__TEXT", "__text")
    assert text is not None
    assert f"prog[{text.addr + functions['main'][0]:#018x}]" in out
    assert f"prog[{text.addr + functions['helper'][0]:#018x}]" in out


def test_executable_is_deterministic(tmp_path: Path) -> None:
    image, _ = build_image(Arch.X86_64)
    write_executable(image, tmp_path / "a")
    write_executable(image, tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    image.sections[1].data = (8).to_bytes(4, "little") + bytes(4)
    write_executable(image, tmp_path / "c")
    assert uuids(tmp_path / "a") != uuids(tmp_path / "c")


def test_undefined_symbol_in_executable(tmp_path: Path) -> None:
    image, _ = build_image(Arch.X86_64)
    image.symbols.append(Symbol("printf", None))
    target = tmp_path / "prog"
    target.write_bytes(b"old")
    with pytest.raises(ContainerError, match="undefined symbols printf"):
        write_executable(image, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["prog"]


def test_entry_must_be_code(tmp_path: Path) -> None:
    image, _ = build_image(Arch.AARCH64)
    image.entry = "counter"
    with pytest.raises(DescriptionError, match="entry symbol 'counter' is not defined in a code section"):
        write_executable(image, tmp_path / "prog")
    assert list(tmp_path.iterdir()) == []


def test_export_trie_with_shared_prefixes(tmp_path: Path) -> None:
    """Names that share prefixes share trie edges; llvm-objdump must find every one at its address."""
    image, functions = build_image(Arch.X86_64)
    names = ["area", "area_rect", "area_circle", "ar", "b", "main_loop", "m"]
    for i, name in enumerate(names):
        image.symbols.append(Symbol(name, ".text", i))
    path = tmp_path / "prog"
    write_executable(image, path)
    text, data = read_macho(path).section("__TEXT", "__text"), read_macho(path).section("__DATA", "__data")
    assert text is not None and data is not None
    out = run("llvm-objdump-14", "--macho", "--exports-trie", path)
    found = {line.split()[1]: int(line.split()[0], 16) for line in out.splitlines() if line.startswith("0x")}
    expected = {f"_{name}": text.addr + i for i, name in enumerate(names)}
    expected |= {"_main": text.addr + functions["main"][0], "_counter": data.addr,
                 "__mh_execute_header": 0x1_0000_0000}
    assert found == expected


def test_code_only_executable_has_no_data_segment(tmp_path: Path) -> None:
    image, _ = build_image(Arch.X86_64)
    image.sections = [s for s in image.sections if s.name == ".text"]
    image.symbols = [s for s in image.symbols if s.section == ".text"]
    write_executable(image, tmp_path / "ours")
    write_object(image, tmp_path / "prog.o")
    theirs = link(tmp_path / "prog.o", tmp_path / "theirs", "x86_64")
    assert shape(tmp_path / "ours") == shape(theirs)
    assert "__DATA" not in {segment for _, segment, _ in shape(theirs)}


def test_read_only_data_goes_to_text_const(tmp_path: Path) -> None:
    from dwarfkit import ContentSection, SectionKind, SymbolKind
    image, _ = build_image(Arch.AARCH64)
    image.sections.append(ContentSection(".rodata", SectionKind.RODATA, b"hello\0", 1))
    image.symbols.append(Symbol("greeting", ".rodata", 0, 6, SymbolKind.OBJECT))
    write_executable(image, tmp_path / "ours")
    write_object(image, tmp_path / "prog.o")
    theirs = link(tmp_path / "prog.o", tmp_path / "theirs", "arm64")
    assert shape(tmp_path / "ours") == shape(theirs)
    assert ("LC_SEGMENT_64", "__TEXT", ("__text", "__const")) in shape(theirs)
    assert "S _greeting" in symbols(tmp_path / "ours") and "S _greeting" in symbols(theirs)


@settings(max_examples=10, deadline=None)
@given(st.sets(st.text("ab_", min_size=1, max_size=6), min_size=1, max_size=12))
def test_export_trie_random_names(names: set[str]) -> None:
    """Names over a tiny alphabet share many prefixes; llvm-objdump reads every one back from our trie."""
    import tempfile
    image, _ = build_image(Arch.AARCH64)
    for i, name in enumerate(sorted(names)):
        image.symbols.append(Symbol(f"x{name}", ".text", 4 * i))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prog"
        write_executable(image, path)
        assert exports(path) == sorted({f"_x{name}" for name in names} | {"__mh_execute_header", "_counter", "_main"})
