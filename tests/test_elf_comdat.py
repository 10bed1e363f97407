"""COMDAT section groups in ELF objects: a type unit in its own group (as gcc -fdebug-types-section makes them), so
linkers keep one copy when several objects carry it. Checked with readelf -g, GNU ld, ld.lld, llvm-dwarfdump-14 and
gdb."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from debuggers import gdb

from dwarfkit import Address, Arch, DescriptionError, DwarfkitError, Encoding, Expr
from dwarfkit.backends.elf import write_executable, write_object
from dwarfkit.image import ContentSection, Image, SectionGroup, SectionKind, Symbol, SymbolKind, group_type_units
from dwarfkit.program import DwarfBuilder

SIGNATURE = 0x1122334455667788
GROUP = f"wi.{SIGNATURE:016x}"


def type_unit_group(version: int) -> SectionGroup:
    """``struct point { int x, y; }`` in a type unit of its own emission, grouped under its signature."""
    dw = DwarfBuilder(Encoding(version, 4, 8))
    tu = dw.type_unit(SIGNATURE)
    int_t = tu.base_type("int", 4, "signed")
    tu.type_die = tu.struct_type("point", 8, [("x", int_t, 0), ("y", int_t, 4)])
    return SectionGroup(GROUP, dw.emit(aranges=False))


def unit_object(version: int, function: str, variable: str) -> Image:
    """A function returning 0 and a ``struct point`` variable, whose unit declares the struct (the type unit
    defines it), plus the type unit group."""
    dw = DwarfBuilder(Encoding(version, 4, 8))
    cu = dw.compile_unit(f"{function}.c", comp_dir="/tmp", producer="dwarfkit tests", language="C99",
                         low_pc=Address(function), high_pc=3)
    point = cu.die("structure_type", name="point", declaration=True)
    cu.die("subprogram", name=function, external=True, low_pc=Address(function), high_pc=3)
    cu.die("variable", name=variable, type=point, external=True,
           location=Expr().addr(Address(variable)))
    sections = [ContentSection(".text", SectionKind.CODE, bytes.fromhex("31c0c3")),
                ContentSection(".data", SectionKind.DATA, (3).to_bytes(4, "little") + (4).to_bytes(4, "little"),
                               alignment=8)]
    symbols = [Symbol(function, ".text", 0, 3), Symbol(variable, ".data", 0, 8, SymbolKind.OBJECT)]
    return Image(Arch.X86_64, sections, symbols, dw.emit(), groups=[type_unit_group(version)])


def run(*args) -> str:
    result = subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True)
    assert not result.stderr, result.stderr
    return result.stdout


@pytest.mark.parametrize("version", [5, 4])
@pytest.mark.parametrize("linker", ["ld", "ld.lld-14"])
def test_linkers_keep_one_copy_of_the_type_unit(tmp_path, version, linker):
    a, b, exe = tmp_path / "a.o", tmp_path / "b.o", tmp_path / "prog"
    write_object(unit_object(version, "main", "p"), a)
    write_object(unit_object(version, "other", "q"), b)
    groups = run(require_tool("readelf"), "-gW", a)
    info = ".debug_info" if version == 5 else ".debug_types"
    assert f"COMDAT group section [    1] `.group' [{GROUP}] contains 4 sections:" in groups, groups
    listed = re.findall(r"\]\s+(\.\S+)", groups.split("contains")[1])
    assert sorted(listed) == sorted([".debug_abbrev", info, ".debug_str", f".rela{info}"]), groups
    # Two sections of each name in the object: the unit's and the group's, each with its own relocations.
    headers = run(require_tool("readelf"), "-SW", a)
    assert len(re.findall(r"\] \.debug_abbrev ", headers)) == 2
    run(require_tool(linker), "-e", "main", "-o", exe, a, b)
    option = "--debug-info" if version == 5 else "--debug-types"
    dump = run(require_tool("llvm-dwarfdump-14"), option, exe)
    assert len(re.findall(rf"type_signature = 0x{SIGNATURE:016x}", dump)) == 1, dump
    assert dump.count('DW_AT_name\t("point")') == (1 if version == 4 else 3), dump  # + 2 declarations in v5
    units = run(require_tool("llvm-dwarfdump-14"), "--debug-info", exe)
    assert units.count("DW_TAG_compile_unit") == 2, units
    verify = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(exe)], capture_output=True,
                            text=True)
    assert verify.returncode == 0, verify.stdout
    out = gdb(exe, ["ptype struct point", "ptype p", "print q", "print sizeof(q)"])
    assert out.count("type = struct point {\n    int x;\n    int y;\n}") == 2, out
    assert "$1 = {x = 3, y = 4}" in out and "$2 = 8" in out, out


def test_groups_are_refused_outside_elf_objects(tmp_path):
    image = unit_object(5, "main", "p")
    with pytest.raises(DescriptionError, match=f"section group '{GROUP}': section groups .COMDAT. are written only"):
        write_executable(image, tmp_path / "x")
    from dwarfkit.backends.coff import write_object as write_coff_object
    with pytest.raises(DwarfkitError, match="section groups"):
        write_coff_object(image, tmp_path / "x.o")


@pytest.mark.parametrize("change,message", [
    (lambda image: image.groups.append(image.groups[0]), "already used by another group"),
    (lambda image: setattr(image.groups[0], "signature", "main"), "already used by another group or a symbol"),
    (lambda image: setattr(image.groups[0], "dwarf", type_unit_group(4).dwarf), "DWARF encoding"),
    (lambda image: setattr(image.groups[0], "dwarf", b""), "is not DwarfSections"),
    (lambda image: setattr(image.groups[0], "signature", ""), "signature '' is not a non-empty string"),
])
def test_bad_groups_are_refused(tmp_path, change, message):
    image = unit_object(5, "main", "p")
    change(image)
    with pytest.raises(DwarfkitError, match=message):
        write_object(image, tmp_path / "x.o")
    assert not (tmp_path / "x.o").exists()


def one_builder_object(version: int, function: str, variable: str) -> Image:
    """One emission whose unit refers to the type unit by signature (DW_FORM_ref_sig8), split by
    group_type_units into the shared sections and the type unit's group, as gcc -fdebug-types-section does."""
    dw = DwarfBuilder(Encoding(version, 4, 8))
    tu = dw.type_unit(SIGNATURE)
    int_t = tu.base_type("int", 4, "signed")
    tu.type_die = tu.struct_type("point", 8, [("x", int_t, 0), ("y", int_t, 4)])
    cu = dw.compile_unit(f"{function}.c", comp_dir="/tmp", producer="dwarfkit tests", language="C99",
                         low_pc=Address(function), high_pc=3)
    cu.die("subprogram", name=function, external=True, low_pc=Address(function), high_pc=3)
    cu.die("variable", name=variable, type=tu.type_die, external=True, location=Expr().addr(Address(variable)))
    shared, groups = group_type_units(dw.emit())
    sections = [ContentSection(".text", SectionKind.CODE, bytes.fromhex("31c0c3")),
                ContentSection(".data", SectionKind.DATA, (3).to_bytes(4, "little") + (4).to_bytes(4, "little"),
                               alignment=8)]
    symbols = [Symbol(function, ".text", 0, 3), Symbol(variable, ".data", 0, 8, SymbolKind.OBJECT)]
    return Image(Arch.X86_64, sections, symbols, shared, groups=groups)


@pytest.mark.parametrize("version", [5, 4])
@pytest.mark.parametrize("linker", ["ld", "ld.lld-14"])
def test_one_emission_split_into_groups_verifies_before_and_after_linking(tmp_path, version, linker):
    a, b, exe = tmp_path / "a.o", tmp_path / "b.o", tmp_path / "prog"
    write_object(one_builder_object(version, "main", "p"), a)
    write_object(one_builder_object(version, "other", "q"), b)
    prefix = "wi" if version == 5 else "wt"
    info = ".debug_info" if version == 5 else ".debug_types"
    groups = run(require_tool("readelf"), "-gW", a)
    # gcc's group name: the signature's bytes in hex, in unit (little-endian) order
    assert f"[{prefix}.{SIGNATURE.to_bytes(8, 'little').hex()}] contains 2 sections:" in groups, groups
    assert sorted(re.findall(r"\]\s+(\.\S+)", groups.split("contains")[1])) == [info, f".rela{info}"], groups
    for path in (a, exe):
        if path == exe:
            run(require_tool(linker), "-e", "main", "-o", exe, a, b)
        verify = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(path)], capture_output=True,
                                text=True)
        assert verify.returncode == 0, verify.stdout
    dump = run(require_tool("llvm-dwarfdump-14"), "--debug-info" if version == 5 else "--debug-types", exe)
    assert len(re.findall(rf"type_signature = 0x{SIGNATURE:016x}", dump)) == 1, dump
    units = run(require_tool("llvm-dwarfdump-14"), "--debug-info", exe)
    assert units.count("DW_TAG_compile_unit") == 2 and units.count(f"DW_AT_type\t(0x{SIGNATURE:016x})") == 2, units
    out = gdb(exe, ["ptype p", "print q"])
    assert "type = struct point {\n    int x;\n    int y;\n}" in out and "$1 = {x = 3, y = 4}" in out, out


def test_group_type_units_leaves_the_emission_alone_and_moves_unit_offsets():
    dw = DwarfBuilder(Encoding(5, 4, 8))
    cu0 = dw.compile_unit("a.c", low_pc=Address("f"), high_pc=3)
    cu0.die("subprogram", name="f", low_pc=Address("f"), high_pc=3)
    tu = dw.type_unit(SIGNATURE)
    tu.type_die = tu.base_type("int", 4, "signed")
    cu1 = dw.compile_unit("b.c", low_pc=Address("g"), high_pc=3)
    cu1.die("variable", name="v", type=tu.type_die)
    emitted = dw.emit()
    before = bytes(emitted[".debug_info"].data), bytes(emitted[".debug_aranges"].data)
    shared, groups = group_type_units(emitted)
    assert (bytes(emitted[".debug_info"].data), bytes(emitted[".debug_aranges"].data)) == before
    assert [g.signature for g in groups] == [f"wi.{SIGNATURE.to_bytes(8, 'little').hex()}"]
    removed = len(groups[0].dwarf[".debug_info"].data)
    assert len(shared[".debug_info"].data) + removed == len(before[0])
    # The second unit's aranges entry follows it back over the removed type unit.
    offsets = sorted(r.addend for r in emitted[".debug_aranges"].relocations if r.target == ".debug_info")
    moved = sorted(r.addend for r in shared[".debug_aranges"].relocations if r.target == ".debug_info")
    assert moved == [offsets[0], offsets[1] - removed]
    with pytest.raises(DescriptionError, match="needs DwarfSections"):
        group_type_units(b"")
