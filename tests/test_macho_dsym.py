"""dSYM bundles for executables linked by ld64.lld (the corpus), judged by lldb-14, llvm-dwarfdump and llvm-objdump,
side by side with what dsymutil-14 made for the same executables."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from conftest import require_corpus
from macho_tools import dsym_dwarf_file, lldb, load_commands, run, uuids, verify

from dwarfkit import ContainerError, DwarfSections, Encoding, ReadError, RelocationError, Section
from dwarfkit.backends.macho_dsym import read_macho, write_dsym
from dwarfkit.backends.macho_dsym.names import debug_section_name, elf_section_name
from dwarfkit.sections import Relocation, RelocKind

ARCHES = ["arm64", "x86_64"]


def corpus_executable(tmp_path: Path, arch: str) -> Path:
    source = require_corpus() / "macho" / f"shapes-{arch}"
    target = tmp_path / source.name
    shutil.copy(source, target)
    return target


def dsymutil_dwarf(arch: str) -> DwarfSections:
    """The debug sections dsymutil-14 linked for the corpus executable, with final addresses already."""
    reference = read_macho(dsym_dwarf_file(require_corpus() / "macho" / f"shapes-{arch}.dSYM"))
    dwarf = DwarfSections(Encoding(version=4))
    for s in reference.sections:
        if s.segname == "__DWARF":
            dwarf.add(Section(elf_section_name(s.sectname), bytearray(reference.section_data(s))))
    return dwarf


def summary(commands: list[dict]) -> list[tuple]:
    """What must agree between two dSYMs of one executable: command kinds, segments, their sections and addresses
    (which bytes are in the file, not where: file offsets, and the sizes of __LINKEDIT/__DWARF, are the writer's
    choice)."""
    out = []
    for c in commands:
        entry: tuple = (c["cmd"], c.get("segname"), c.get("uuid"), c.get("nsyms"))
        if c.get("segname") not in ("__LINKEDIT", "__DWARF"):
            entry += (c.get("vmaddr"), c.get("vmsize"), c.get("fileoff") != "0", c.get("filesize"),
                      tuple((s["sectname"], s["addr"], s["size"], s["offset"] != "0") for s in c["sections"]))
        else:
            entry += (tuple(sorted(s["sectname"] for s in c["sections"])),)
        out.append(entry)
    return out


@pytest.mark.parametrize("arch", ARCHES)
def test_dsym_load_commands_match_dsymutil(tmp_path: Path, arch: str) -> None:
    executable = corpus_executable(tmp_path, arch)
    bundle = write_dsym(executable, dsymutil_dwarf(arch))
    assert bundle == tmp_path / f"shapes-{arch}.dSYM"
    ours = load_commands(dsym_dwarf_file(bundle))
    theirs = load_commands(dsym_dwarf_file(require_corpus() / "macho" / f"shapes-{arch}.dSYM"))
    assert summary(ours) == summary(theirs)
    dwarf_segment = next(c for c in ours if c.get("segname") == "__DWARF")
    assert "__debug_info" in {s["sectname"] for s in dwarf_segment["sections"]}
    assert (bundle / "Contents" / "Info.plist").read_text().count(f"com.apple.xcode.dsym.shapes-{arch}") == 1


@pytest.mark.parametrize("arch", ARCHES)
def test_dsym_reads_like_dsymutils_in_lldb(tmp_path: Path, arch: str) -> None:
    executable = corpus_executable(tmp_path, arch)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    bundle = write_dsym(executable, dsymutil_dwarf(arch), out_dir=out_dir)
    assert bundle.parent == out_dir
    assert uuids(executable) == uuids(bundle) == uuids(dsym_dwarf_file(bundle))
    verify(dsym_dwarf_file(bundle))
    commands = ["image list", "image lookup -v -n area", "image lookup -v -n run", "breakpoint set -f shapes.c -l 30",
                "image dump line-table shapes.c"]
    ours = lldb(executable, bundle, *commands)
    reference = require_corpus() / "macho" / f"shapes-{arch}.dSYM"
    theirs = lldb(executable, reference, *commands)
    assert str(dsym_dwarf_file(bundle)) in ours
    assert 'Function: id = {0x' in ours and 'name = "area"' in ours
    assert ours.replace(str(bundle), "DSYM") == theirs.replace(str(reference), "DSYM")


def test_dsym_resolves_symbol_addresses(tmp_path: Path) -> None:
    """A DW_AT_low_pc against ``area`` gets the executable's value of ``_area``; so does one against ``_area``
    (there is no ``__area``: the Mach-O spelling is taken as written)."""
    executable = corpus_executable(tmp_path, "arm64")
    dwarf = dsymutil_dwarf("arm64")
    info = dwarf[".debug_info"]
    marker = bytes(info.data[-16:-8])  # any 8 bytes: overwritten with the symbol's address
    info.relocations.append(Relocation(len(info.data) - 16, 8, RelocKind.ADDRESS, "area", 4))
    info.relocations.append(Relocation(len(info.data) - 8, 8, RelocKind.ADDRESS, "_area", 0))
    bundle = write_dsym(executable, dwarf)
    out = read_macho(dsym_dwarf_file(bundle))
    section = out.section("__DWARF", "__debug_info")
    assert section is not None
    written, second = out.section_data(section)[-16:-8], out.section_data(section)[-8:]
    nm = run("llvm-nm-14", "--defined-only", executable)
    area = next(int(line.split()[0], 16) for line in nm.splitlines() if line.endswith(" _area"))
    assert written == struct.pack("<Q", area + 4) and written != marker
    assert second == struct.pack("<Q", area)


# -- bad input -------------------------------------------------------------------------------------------------

def fat_file(path: Path, *slices: Path) -> Path:
    run("llvm-lipo-14", "-create", *slices, "-output", path)
    return path


def test_not_macho(tmp_path: Path) -> None:
    text = tmp_path / "prog"
    text.write_text("#!/bin/sh\n")
    with pytest.raises(ContainerError, match="not a Mach-O file"):
        write_dsym(text, dsymutil_dwarf("arm64"))
    assert not (tmp_path / "prog.dSYM").exists()


def test_fat_file_needs_the_architecture(tmp_path: Path) -> None:
    fat = fat_file(tmp_path / "shapes", corpus_executable(tmp_path, "arm64"), corpus_executable(tmp_path, "x86_64"))
    with pytest.raises(ContainerError, match="arm64, x86_64: say which one"):
        write_dsym(fat, dsymutil_dwarf("arm64"))
    assert not (tmp_path / "shapes.dSYM").exists()
    bundle = write_dsym(fat, dsymutil_dwarf("x86_64"), arch="x86_64")
    assert uuids(dsym_dwarf_file(bundle)) == uuids(tmp_path / "shapes-x86_64")
    only_x86 = fat_file(tmp_path / "thin", tmp_path / "shapes-x86_64")
    with pytest.raises(ContainerError, match="has no arm64 slice"):
        write_dsym(only_x86, dsymutil_dwarf("arm64"), arch="arm64")
    assert not (tmp_path / "thin.dSYM").exists()


def test_executable_without_uuid(tmp_path: Path) -> None:
    executable = corpus_executable(tmp_path, "arm64")
    data = bytearray(executable.read_bytes())
    pos = data.find(struct.pack("<II", 0x1B, 24))  # LC_UUID, cmdsize 24
    data[pos:pos + 4] = struct.pack("<I", 0x7F)  # a command nobody knows: the file has no UUID any more
    executable.write_bytes(data)
    with pytest.raises(ContainerError, match="has no LC_UUID"):
        write_dsym(executable, dsymutil_dwarf("arm64"))
    assert not (tmp_path / "shapes-arm64.dSYM").exists()


def test_unknown_symbol_leaves_existing_bundle_alone(tmp_path: Path) -> None:
    executable = corpus_executable(tmp_path, "arm64")
    bundle = write_dsym(executable, dsymutil_dwarf("arm64"))
    before = dsym_dwarf_file(bundle).read_bytes()
    dwarf = dsymutil_dwarf("arm64")
    dwarf[".debug_info"].relocations.append(Relocation(0x30, 8, RelocKind.ADDRESS, "no_such_function"))
    with pytest.raises(RelocationError, match="no_such_function .neither _no_such_function nor no_such_function"):
        write_dsym(executable, dwarf)
    assert dsym_dwarf_file(bundle).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shapes-arm64", "shapes-arm64.dSYM"]


def test_object_is_not_an_executable(tmp_path: Path) -> None:
    obj = require_corpus() / "macho" / "shapes-arm64.o"
    with pytest.raises(ContainerError, match="is not an executable"):
        write_dsym(obj, dsymutil_dwarf("arm64"), out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_truncated_executable(tmp_path: Path) -> None:
    executable = corpus_executable(tmp_path, "x86_64")
    executable.write_bytes(executable.read_bytes()[:200])
    with pytest.raises(ReadError, match="load commands .* run past the end of the file"):
        write_dsym(executable, dsymutil_dwarf("x86_64"))
    assert not (tmp_path / "shapes-x86_64.dSYM").exists()


def test_missing_output_folder(tmp_path: Path) -> None:
    executable = corpus_executable(tmp_path, "x86_64")
    with pytest.raises(ContainerError, match="folder .*nowhere does not exist"):
        write_dsym(executable, dsymutil_dwarf("x86_64"), out_dir=tmp_path / "nowhere")


def test_dsym_is_deterministic(tmp_path: Path) -> None:
    executable = corpus_executable(tmp_path, "arm64")
    first = dsym_dwarf_file(write_dsym(executable, dsymutil_dwarf("arm64"))).read_bytes()
    second = dsym_dwarf_file(write_dsym(executable, dsymutil_dwarf("arm64"))).read_bytes()
    assert first == second


@pytest.mark.parametrize("arch", ARCHES)
def test_builder_dwarf_for_ld64_lld_executable(tmp_path: Path, arch: str) -> None:
    """DWARF from the builder naming functions of an executable linked by ld64.lld (``fib``, ``_fib`` there)."""
    from dwarfkit import Address
    from dwarfkit.program import DwarfBuilder

    executable = corpus_executable(tmp_path, arch)
    macho = read_macho(executable)
    text = macho.section("__TEXT", "__text")
    assert text is not None
    starts = sorted({v for v in macho.symbol_addresses().values() if text.addr <= v < text.addr + text.size})
    table = macho.symbol_addresses()
    lengths = {name: next((s for s in starts if s > table[f"_{name}"]), text.addr + text.size) - table[f"_{name}"]
               for name in ("fib", "clamp")}
    dw = DwarfBuilder(Encoding(version=4))
    cu = dw.compile_unit("described.c", comp_dir="/elsewhere", language="C99", low_pc=Address("clamp"),
                         high_pc=table["_fib"] + lengths["fib"] - table["_clamp"])
    int_t = cu.base_type("int", 4, "signed")
    for line, name in ((10, "clamp"), (20, "fib")):
        cu.die("subprogram", name=name, type=int_t, low_pc=Address(name), high_pc=lengths[name], external=True,
               decl_file=cu.file("described.c"), decl_line=line)
        seq = cu.line.sequence(Address(name))
        seq.row(0, line)
        seq.row(4, line + 1)
        seq.end(lengths[name])
    bundle = write_dsym(executable, dw.emit())
    verify(dsym_dwarf_file(bundle))
    out = lldb(executable, bundle, "image lookup -v -n fib", "breakpoint set -f described.c -l 11",
               "breakpoint set -f described.c -l 21")
    fib = table["_fib"]
    assert 'file = "/elsewhere/described.c"' in out
    assert f'name = "fib", range = [{fib:#018x}-{fib + lengths["fib"]:#018x})' in out
    assert f"Breakpoint 1: where = shapes-{arch}`clamp + 4 at described.c:11, address = {table['_clamp'] + 4:#018x}" \
        in out
    assert f"Breakpoint 2: where = shapes-{arch}`fib + 4 at described.c:21, address = {fib + 4:#018x}" in out


def test_section_names_cut_at_16_bytes() -> None:
    assert debug_section_name(".debug_str_offsets") == "__debug_str_offs"
    assert debug_section_name(".debug_line_str") == "__debug_line_str"
    for name in (".debug_str_offsets", ".debug_info", ".debug_line_str", ".debug_rnglists", ".debug_loclists"):
        assert elf_section_name(debug_section_name(name)) == name
    assert elf_section_name("__apple_namespac") == ".apple_namespaces"


def test_sections_grow_in_their_room_then_move(tmp_path: Path) -> None:
    """The dSYM keeps room after each debug section: a section that grows a little stays where it is, one that
    outgrows its room moves; lldb and llvm-dwarfdump read the file either way."""
    from dwarfkit.backends.macho_dsym.dsym import DsymFile

    executable = corpus_executable(tmp_path, "arm64")
    bundle = write_dsym(executable, dsymutil_dwarf("arm64"))
    target = dsym_dwarf_file(bundle)
    macho = read_macho(executable)
    assert macho.uuid is not None
    dwarf = dsymutil_dwarf("arm64")
    dsym = DsymFile(macho, macho.uuid, {s.name: bytes(s.data) for s in dwarf})
    strings = bytes(dwarf[".debug_str"].data)
    before = dsym.dwarf_space.pieces[".debug_str"].offset

    assert not dsym.grow_section(".debug_str", strings + b"a little more\0")
    assert dsym.dwarf_space.pieces[".debug_str"].offset == before
    target.write_bytes(dsym.encode())
    verify(target)
    assert "a little more" in run("llvm-dwarfdump-14", "--debug-str", target)

    assert dsym.grow_section(".debug_str", strings + b"much more\0" * 200)
    assert dsym.dwarf_space.pieces[".debug_str"].offset != before
    target.write_bytes(dsym.encode())
    verify(target)
    out = lldb(executable, bundle, "image lookup -v -n area")
    assert 'name = "area", range = [' in out and 'name = "calls", type = "int"' in out
    segments = {s.segname: s for s in read_macho(target).segments}
    assert segments["__LINKEDIT"].fileoff >= segments["__DWARF"].fileoff + segments["__DWARF"].filesize
