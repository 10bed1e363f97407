"""PE32+ images: wine runs them, llvm-readobj and MinGW's objdump read their headers, imports and base relocations."""
from __future__ import annotations

import re

import pytest
from coff_programs import EXIT_CODE, KERNEL32, exit_program, readobj, run
from conftest import require_tool

from dwarfkit import Arch, ContentSection, Image, SectionKind, Symbol
from dwarfkit.asm import assemble
from dwarfkit.backends.coff import pe_bytes, write_pe

pytest_plugins = ["coff_wine"]  # the session-wide `wine` fixture


@pytest.mark.parametrize("by_name", [False, True], ids=["iat", "thunk"])
def test_wine_runs_our_exe(tmp_path, wine, by_name):
    image, _ = exit_program(call_import_by_name=by_name)
    exe = tmp_path / "prog.exe"
    write_pe(image, exe, imports=KERNEL32)
    assert wine(exe) == EXIT_CODE


def test_imports_and_base_relocations_as_readobj_reads_them(tmp_path):
    image, functions = exit_program()
    exe = tmp_path / "prog.exe"
    write_pe(image, exe, imports={"kernel32.dll": ["ExitProcess", "GetLastError"], "msvcrt.dll": ["abort"]})
    out = readobj(exe, "--coff-imports", "--coff-basereloc", "--sections", "--file-headers")
    imports = [(re.search(r"Name: (\S+)", block)[1], re.findall(r"Symbol: (\w+)", block))
               for block in out.split("Import {")[1:]]
    assert imports == [("kernel32.dll", ["ExitProcess", "GetLastError"]), ("msvcrt.dll", ["abort"])]
    # One absolute address in the model: .data+16 holds &nine. .data is the second section, at 0x2000.
    assert re.findall(r"Type: (\w+)\n\s+Address: (0x[0-9A-F]+)", out) == [("DIR64", "0x2010"), ("ABSOLUTE", "0x2000")]
    assert "ImageBase: 0x140000000" in out and "AddressOfEntryPoint: 0x1%03X" % functions[1].start in out


def test_objdump_reads_the_iat_and_disassembles_calls_through_it(tmp_path):
    objdump = require_tool("x86_64-w64-mingw32-objdump")
    image, _ = exit_program(call_import_by_name=True)
    exe = tmp_path / "prog.exe"
    write_pe(image, exe, imports=KERNEL32)
    out = run([objdump, "-p", "-d", exe]).stdout
    assert "DLL Name: kernel32.dll" in out and re.search(r"\s0\s+ExitProcess", out)
    # The thunk jumps through the IAT slot the import table names.
    iat = int(re.search(r"Entry c ([0-9a-f]+) ", out)[1], 16)
    jump = re.search(r"jmp\s+\*0x[0-9a-f]+\(%rip\)\s+# ([0-9a-f]+)", out)
    assert jump and int(jump[1], 16) == 0x140000000 + iat


def test_same_input_same_bytes():
    image, _ = exit_program()
    assert pe_bytes(image, imports=KERNEL32) == pe_bytes(exit_program()[0], imports=KERNEL32)


def test_smallest_image_returns_its_exit_code(tmp_path, wine):
    """One code section, no imports, no absolute addresses: no .idata, no .reloc; returning from the entry point
    ends the process with the returned value."""
    code = assemble(Arch.X86_64, [("start", "mov eax, 59\nret")]).code
    image = Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, code)],
                  [Symbol("start", ".text", 0, len(code))], entry="start")
    exe = tmp_path / "tiny.exe"
    write_pe(image, exe)
    assert wine(exe) == EXIT_CODE
    headers = readobj(exe, "--file-headers")
    assert "SectionCount: 1" in headers and "ImportTableRVA: 0x0" in headers
    assert "BaseRelocationTableRVA: 0x0" in headers
