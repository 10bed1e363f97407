"""DWARF from the builder, through both Mach-O flows, read back by lldb-14 statically:

* ours: ``write_executable`` + ``write_dsym`` (no Apple tool involved);
* Apple's: ``write_object`` -> ``ld64.lld`` (debug map) -> ``dsymutil-14`` (dSYM from our object).

lldb must find the compile unit, each function's range, line and variables with their locations, resolve a line
breakpoint to the model's address and dump the model's line table.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import require_corpus
from macho_program import COMP_DIR, FILE, FRAME, ROWS, add_dwarf, build_image
from macho_tools import dsym_dwarf_file, lldb, run, uuids, verify

from dwarfkit import Arch
from dwarfkit.backends.macho_dsym import read_macho, write_dsym, write_executable, write_object

ARCHES = {"x86_64": Arch.X86_64, "arm64": Arch.AARCH64}
SOURCE = f"{COMP_DIR}/{FILE}"


def our_flow(tmp_path: Path, arch: str, version: int, line_strings: bool = True
             ) -> tuple[Path, Path, dict[str, tuple[int, int]]]:
    image, functions = build_image(ARCHES[arch])
    add_dwarf(image, functions, version, line_strings)
    executable = tmp_path / "prog"
    write_executable(image, executable)
    assert image.dwarf is not None
    return executable, write_dsym(executable, image.dwarf), functions


def apple_flow(tmp_path: Path, arch: str, version: int) -> tuple[Path, Path, dict[str, tuple[int, int]]]:
    image, functions = build_image(ARCHES[arch])
    add_dwarf(image, functions, version)
    obj, executable = tmp_path / "prog.o", tmp_path / "prog"
    write_object(image, obj)
    verify(obj)
    run("llvm-objdump-14", "--macho", "--private-headers", obj)
    run("ld64.lld-14", "-arch", arch, "-platform_version", "macos", "11.0", "11.0", "-e", "_main", "-o",
        executable, obj)
    bundle = tmp_path / "prog.dSYM"
    out = run("dsymutil-14", executable, "-o", bundle)
    assert "warning" not in out, out
    return executable, bundle, functions


FLOWS = {"ours": our_flow, "apple": apple_flow}


def function_address(executable: Path, functions: dict[str, tuple[int, int]], name: str) -> int:
    """Address of ``name`` in the linked file: the start of __text plus its offset in our .text (both linkers put
    .text first and keep its layout)."""
    text = read_macho(executable).section("__TEXT", "__text")
    assert text is not None
    return text.addr + functions[name][0]


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("arch", ARCHES)
def test_lldb_reads_functions_lines_and_variables(tmp_path: Path, arch: str, flow: str) -> None:
    check_with_lldb(arch, *FLOWS[flow](tmp_path, arch, 4))


@pytest.mark.parametrize("arch", ARCHES)
def test_dwarf5_without_line_strings_reads_whole_in_lldb(tmp_path: Path, arch: str) -> None:
    """``line_strings=False``: DWARF 5 with the line table's paths inline and the unit's names in .debug_str, so
    lldb-14 (which does not map a Mach-O ``__debug_line_str``) reads all of it, as it reads DWARF 4."""
    executable, bundle, functions = our_flow(tmp_path, arch, 5, line_strings=False)
    names = {s.sectname for s in read_macho(dsym_dwarf_file(bundle)).sections if s.segname == "__DWARF"}
    assert "__debug_line_str" not in names
    header = run("llvm-dwarfdump-14", "--debug-line", dsym_dwarf_file(bundle))
    assert "version: 5" in header and 'name: "prog.c"' in header
    check_with_lldb(arch, executable, bundle, functions)


def check_with_lldb(arch: str, executable: Path, bundle: Path, functions: dict[str, tuple[int, int]]) -> None:
    assert uuids(executable) == uuids(dsym_dwarf_file(bundle))
    verify(dsym_dwarf_file(bundle))
    run("llvm-objdump-14", "--macho", "--private-headers", dsym_dwarf_file(bundle))
    main = function_address(executable, functions, "main")
    helper = function_address(executable, functions, "helper")
    out = lldb(executable, bundle, "image list", "image lookup -v -n main", "image lookup -v -n helper",
               "breakpoint set -f prog.c -l 10", "target variable counter", "image dump line-table prog.c")
    assert str(dsym_dwarf_file(bundle)) in out.split("(lldb) image list", 1)[1].split("(lldb)", 1)[0]
    lookups = out.split("(lldb) image lookup")
    main_out, helper_out = lookups[1], lookups[2]
    assert f'CompileUnit: id = {{0x00000000}}, file = "{SOURCE}", language = "c99"' in main_out
    size = functions["main"][1] - functions["main"][0]
    assert f'name = "main", range = [{main:#018x}-{main + size:#018x})' in main_out
    assert f"LineEntry: [{main:#018x}-" in main_out and f"{SOURCE}:8" in main_out
    register, offset = FRAME[ARCHES[arch]]
    assert f'name = "r", type = "int", location = DW_OP_fbreg {offset:+d}, decl = prog.c:9' in main_out
    size = functions["helper"][1] - functions["helper"][0]
    assert f'name = "helper", range = [{helper:#018x}-{helper + size:#018x})' in helper_out
    assert f'name = "x", type = "int", location = DW_OP_fbreg {offset:+d}, decl = prog.c:1' in helper_out

    line_10 = main + next(at for at, line in ROWS[ARCHES[arch]]["main"] if line == 10)
    assert re.search(rf"Breakpoint 1: where = prog`main \+ {line_10 - main} at prog.c:10, address = {line_10:#018x}",
                     out), out
    assert "(int) counter = 7" in out

    table = out.split("(lldb) image dump line-table prog.c", 1)[1]
    dumped = [(int(a, 16), int(n)) for a, n in re.findall(rf"(0x[0-9a-f]+): {re.escape(SOURCE)}:(\d+)", table)]
    expected = []
    for name in ("helper", "main"):
        start = function_address(executable, functions, name)
        rows = ROWS[ARCHES[arch]][name]
        expected += [(start + at, line) for at, line in rows]
        expected.append((start + functions[name][1] - functions[name][0], rows[-1][1]))  # end of sequence
    assert dumped == expected


def test_dwarf5(tmp_path: Path) -> None:
    """DWARF 5 goes through our flow too (dsymutil-14 drops DW_FORM_line_strp and DW_FORM_implicit_const, so the
    Apple flow of LLVM 14 is for DWARF 4 only). lldb-14 does not map a Mach-O ``__debug_line_str`` section (later lldb
    versions do), so names stored with DW_FORM_line_strp (the unit's name, the line table's files) read as empty
    there: only what does not depend on them is checked with lldb; llvm-dwarfdump checks the rest."""
    executable, bundle, functions = our_flow(tmp_path, "arm64", 5)
    verify(dsym_dwarf_file(bundle))
    main = function_address(executable, functions, "main")
    out = lldb(executable, bundle, "image lookup -v -n main")
    assert f'name = "main", range = [{main:#018x}-' in out
    assert 'name = "r", type = "int", location = DW_OP_fbreg +12' in out
    info = run("llvm-dwarfdump-14", "--debug-info", "--debug-line", dsym_dwarf_file(bundle))
    assert 'DW_AT_name\t("prog.c")' in info and 'DW_AT_decl_file\t("/src/prog.c")' in info


@pytest.mark.parametrize("arch", ARCHES)
def test_object_dwarf_relocations_like_clang(tmp_path: Path, arch: str) -> None:
    """Addresses in our __DWARF sections are relocated the way clang-14 does it (section-based UNSIGNED quads);
    string and line-table offsets carry no relocation in either."""
    from test_macho_object import relocations
    image, functions = build_image(ARCHES[arch])
    add_dwarf(image, functions)
    obj = tmp_path / "prog.o"
    write_object(image, obj)
    ours = {section: set(records) for section, records in relocations(obj).items() if section.startswith("__DWARF")}
    clang = require_corpus() / "macho" / f"shapes-{arch}.o"
    theirs = {section: set(records) for section, records in relocations(clang).items()
              if section.startswith("__DWARF")}
    assert set(theirs) == {"__DWARF,__debug_info", "__DWARF,__debug_line"}
    assert set(theirs) <= set(ours) <= set(theirs) | {"__DWARF,__debug_aranges", "__DWARF,__debug_frame"}
    kinds = {record[:4] for records in theirs.values() for record in records}
    assert kinds == {("False", "quad", "False", "UNSIGND")}
    assert {record[:4] for records in ours.values() for record in records} == kinds
    assert {record[4] for record in ours["__DWARF,__debug_info"]} == {"(__TEXT,__text)", "(__DATA,__data)",
                                                                        "(__DATA,__bss)"}


@pytest.mark.parametrize("arch", ARCHES)
def test_debug_frame_in_dsym(tmp_path: Path, arch: str) -> None:
    """Each function's FDE covers its final address range in our dSYM. (dsymutil-14 keeps only the low 32 bits of
    an FDE's address, for clang's objects as for ours, so the Apple flow is not checked here.)"""
    executable, bundle, functions = our_flow(tmp_path, arch, 4)
    out = run("llvm-dwarfdump-14", "--debug-frame", dsym_dwarf_file(bundle))
    ranges = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"FDE cie=\w+ pc=([0-9a-f]+)\.\.\.([0-9a-f]+)", out)]
    expected = [(function_address(executable, functions, name),
                 function_address(executable, functions, name) + end - start)
                for name, (start, end) in functions.items()]
    assert ranges == expected
    assert ("DW_CFA_def_cfa_register: RBP" in out) == (arch == "x86_64")


def test_eh_frame_stays_out_of_the_dsym(tmp_path: Path) -> None:
    """.eh_frame belongs in the executable's __TEXT; write_dsym leaves it out instead of failing on its PC-relative
    fields."""
    from dwarfkit.frame import CallFrames
    image, functions = build_image(Arch.X86_64)
    add_dwarf(image, functions)
    assert image.dwarf is not None
    frames = CallFrames(Arch.X86_64, image.dwarf.encoding)
    frames.fde(None, "main", functions["main"][1] - functions["main"][0])
    image.dwarf.add(frames.eh_frame())
    executable = tmp_path / "prog"
    write_executable(image, executable)
    bundle = write_dsym(executable, image.dwarf)
    names = {s.sectname for s in read_macho(dsym_dwarf_file(bundle)).sections if s.segname == "__DWARF"}
    assert "__debug_frame" in names and "__eh_frame" not in names
    verify(dsym_dwarf_file(bundle))
