"""COFF objects: llvm-readobj reads them, MinGW ld and lld-link link them, wine runs the result."""
from __future__ import annotations

import re

import pytest
from coff_programs import EXIT_CODE, exit_program, readobj, run
from conftest import require_tool

from dwarfkit import ContentSection, Relocation, RelocKind, SectionKind, Symbol, SymbolKind
from dwarfkit.backends.coff import object_bytes, write_object

pytest_plugins = ["coff_wine"]  # the session-wide `wine` fixture

MINGW_LIB = "/usr/x86_64-w64-mingw32/lib"


def link_with_mingw_ld(obj, exe):
    run([require_tool("x86_64-w64-mingw32-ld"), "-e", "start", obj, "-L", MINGW_LIB, "-lkernel32", "-o", exe])


def link_with_lld_link(obj, exe):
    run([require_tool("lld-link-14"), "/entry:start", "/subsystem:console", "/debug:dwarf", f"/out:{exe}", obj,
         f"{MINGW_LIB}/libkernel32.a"])


def test_readobj_reads_sections_symbols_and_relocations(tmp_path):
    image, functions = exit_program()
    obj = tmp_path / "prog.o"
    write_object(image, obj)
    out = readobj(obj, "--file-headers", "--sections", "--symbols", "--relocations")
    assert "Machine: IMAGE_FILE_MACHINE_AMD64" in out
    relocations = re.findall(r"(0x[0-9A-F]+) (IMAGE_REL_AMD64_\w+) (\w+)", out)
    assert relocations == [(hex(r.offset).upper().replace("X", "x"), "IMAGE_REL_AMD64_REL32", r.target)
                           for r in image.section(".text").relocations] + [("0x10", "IMAGE_REL_AMD64_ADDR64", "nine")]
    # Functions are external function definitions with their size in the auxiliary record.
    for fn in functions:
        block = re.search(r"Name: %s\n.*?\n  \}" % fn.name, out, re.S)[0]
        assert "ComplexType: Function" in block and f"TotalSize: {fn.end - fn.start}" in block
    assert re.search(r"Name: nine\n.*?StorageClass: Static", out, re.S)
    assert re.search(r"Name: __imp_ExitProcess\n\s+Value: 0\n\s+Section: IMAGE_SYM_UNDEFINED", out)


@pytest.mark.parametrize("link", [link_with_mingw_ld, link_with_lld_link], ids=["mingw-ld", "lld-link"])
@pytest.mark.parametrize("by_name", [False, True], ids=["iat", "thunk"])
def test_linked_by_real_linkers_runs_under_wine(tmp_path, wine, link, by_name):
    image, _ = exit_program(call_import_by_name=by_name)
    obj, exe = tmp_path / "prog.o", tmp_path / "prog.exe"
    write_object(image, obj)
    link(obj, exe)
    assert wine(exe) == EXIT_CODE


def test_more_than_65535_relocations_use_the_overflow_record(tmp_path):
    """IMAGE_SCN_LNK_NRELOC_OVFL: the linkers see every relocation and turn each into a base relocation."""
    image, _ = exit_program()
    n = 70000
    image.sections.append(ContentSection(".rdata", SectionKind.RODATA, bytes(8 * n), alignment=8, relocations=[
        Relocation(8 * i, 8, RelocKind.ADDRESS, "value", i) for i in range(n)]))
    image.symbols.append(Symbol("table", ".rdata", 0, 8 * n, SymbolKind.OBJECT))
    obj, exe = tmp_path / "big.o", tmp_path / "big.exe"
    write_object(image, obj)
    out = readobj(obj, "--sections")
    assert "IMAGE_SCN_LNK_NRELOC_OVFL" in out and "RelocationCount: 65535" in out
    link_with_lld_link(obj, exe)
    assert readobj(exe, "--coff-basereloc").count("Type: DIR64") == n + 1


def test_same_input_same_bytes():
    assert object_bytes(exit_program()[0]) == object_bytes(exit_program()[0])
