"""DWARF from the builder in COFF objects and PE images: gdb reads what the model says, llvm-dwarfdump verifies it,
real linkers keep it, and wine runs the programs."""
from __future__ import annotations

import re

import pytest
from coff_programs import EXIT_CODE, KERNEL32, LINES, SOURCE_NAME, add_call_frames, dwarf_program, readobj, run
from conftest import require_tool
from test_coff_object import link_with_lld_link, link_with_mingw_ld

from dwarfkit import (
    Address,
    Arch,
    ContentSection,
    Encoding,
    Image,
    Relocation,
    RelocKind,
    SectionKind,
    Symbol,
    SymbolKind,
)
from dwarfkit.asm import assemble
from dwarfkit.backends.coff import DEFAULT_IMAGE_BASE, write_object, write_pe
from dwarfkit.program import DwarfBuilder

pytest_plugins = ["coff_wine"]  # the session-wide `wine` fixture


def gdb(path, *commands: str) -> str:
    args = [require_tool("gdb-multiarch"), "-nx", "-batch"]
    for c in commands:
        args += ["-ex", c]
    return run(args + [path]).stdout


def symbol_addresses(path) -> dict[str, int]:
    """Addresses from the file's COFF symbol table, as llvm-nm reads them (independent of the DWARF)."""
    out = run([require_tool("llvm-nm-14"), path]).stdout
    return {m[3]: int(m[1], 16) for m in re.finditer(r"^([0-9a-f]+) (\w) (\S+)$", out, re.M)}


def verify(path) -> None:
    result = run([require_tool("llvm-dwarfdump-14"), "--verify", path], timeout=120, check=False)
    assert result.returncode == 0 and "No errors." in result.stdout, result.stdout + result.stderr


def check_gdb_agrees_with_the_model(path, functions) -> None:
    """gdb's view of the DWARF in ``path`` matches the program the test described."""
    addresses = symbol_addresses(path)
    answer, start = functions
    line7 = LINES["answer"].index(7)  # the first of its rows; gdb reports up to the next row
    out = gdb(path, f"info line {SOURCE_NAME}:7", "info address answer", "info address value", "info scope answer",
              "info scope start", "ptype struct pair", "ptype answer", "ptype pointer", "print *pointer")
    begin = answer.line_offsets[line7] - answer.start
    end = answer.line_offsets[line7 + 1] - answer.start
    assert (f'Line 7 of "{SOURCE_NAME}" starts at address {addresses["answer"] + begin:#x} <answer+{begin}> and ends '
            f'at {addresses["answer"] + end:#x} <answer+{end}>.') in out
    assert f'Symbol "answer" is a function at address {addresses["answer"]:#x}.' in out
    assert f'Symbol "value" is static storage at address {addresses["value"]:#x}.' in out
    assert "Symbol sum is a variable at frame base reg $rbp offset 0+-4, length 4." in out
    assert "Symbol p is a variable at frame base reg $rsp offset 40+-24, length 16." in out
    assert "type = struct pair {\n    int a;\n    long long b;\n}" in out
    assert "type = int (void)" in out and "type = int *" in out
    assert "$1 = 9" in out  # the absolute pointer in .data, resolved or relocated, leads to `nine`


@pytest.mark.parametrize("version", [4, 5])
def test_our_exe_runs_and_gdb_reads_it(tmp_path, wine, version):
    image, functions = dwarf_program(version)
    exe = tmp_path / "prog.exe"
    write_pe(image, exe, imports=KERNEL32)
    assert wine(exe) == EXIT_CODE
    verify(exe)
    # The image model puts .text first, at RVA 0x1000, as MinGW ld does.
    assert symbol_addresses(exe)["answer"] == DEFAULT_IMAGE_BASE + 0x1000 + functions[0].start
    check_gdb_agrees_with_the_model(exe, functions)


def test_dwarf64_in_an_image(tmp_path, wine):
    """A PE image needs no relocation for section offsets, so 64-bit DWARF goes in (a COFF object cannot hold it:
    see test_coff_errors)."""
    image, functions = dwarf_program(5, offset_size=8)
    exe = tmp_path / "prog.exe"
    write_pe(image, exe, imports=KERNEL32)
    assert wine(exe) == EXIT_CODE
    verify(exe)
    assert "format = DWARF64" in run([require_tool("llvm-dwarfdump-14"), "--debug-info", exe]).stdout
    check_gdb_agrees_with_the_model(exe, functions)


@pytest.mark.parametrize("link", [link_with_mingw_ld, link_with_lld_link], ids=["mingw-ld", "lld-link"])
def test_our_object_linked_keeps_its_dwarf(tmp_path, wine, link):
    image, functions = dwarf_program(5, call_import_by_name=True)
    obj, exe = tmp_path / "prog.o", tmp_path / "prog.exe"
    write_object(image, obj)
    verify(obj)
    # gdb reads the object itself too (BFD applies the SECREL/ADDR64 relocations of its debug sections).
    answer = functions[0]
    line7 = answer.line_offsets[LINES["answer"].index(7)] - answer.start
    out = gdb(obj, f"info line {SOURCE_NAME}:7", "info scope answer", "ptype struct pair")
    assert f'Line 7 of "{SOURCE_NAME}" starts at address {line7:#x} <answer+{line7}>' in out
    assert "Symbol sum is a variable at frame base reg $rbp offset 0+-4, length 4." in out
    assert "type = struct pair {\n    int a;\n    long long b;\n}" in out
    link(obj, exe)
    assert wine(exe) == EXIT_CODE
    verify(exe)
    check_gdb_agrees_with_the_model(exe, functions)


@pytest.mark.parametrize("linker", ["bfd", "lld"])
def test_linked_with_a_mingw_gcc_object(tmp_path, wine, linker):
    """MinGW gcc's C runtime calls main (from gcc) which calls our answer(): both units in one program, linked by
    the gcc driver with GNU ld or with lld (its MinGW mode: the lld-link linker behind GNU-style options)."""
    gcc = require_tool("x86_64-w64-mingw32-gcc")
    image, functions = dwarf_program(4)
    (tmp_path / "main.c").write_text("int answer(void);\n\nint main(void)\n{\n  return answer();\n}\n")
    write_object(image, tmp_path / "prog.o")
    run([gcc, "-g", "-O0", "-c", tmp_path / "main.c", "-o", tmp_path / "main.o"])
    options = []
    if linker == "lld":  # gcc looks for "ld.lld"; Debian names it ld.lld-14
        (tmp_path / "bin").mkdir()
        (tmp_path / "bin" / "ld.lld").symlink_to(require_tool("ld.lld-14"))
        options = ["-B", f"{tmp_path / 'bin'}/", "-fuse-ld=lld"]
    exe = tmp_path / "mixed.exe"
    run([gcc, *options, tmp_path / "main.o", tmp_path / "prog.o", "-o", exe])
    assert wine(exe) == EXIT_CODE
    # No llvm-dwarfdump --verify here: on MinGW's C runtime DWARF it runs for minutes (see the corpus README).
    check_gdb_agrees_with_the_model(exe, functions)
    out = gdb(exe, "info line main.c:5", "ptype main")
    main = symbol_addresses(exe)["main"]
    found = re.search(r'Line 5 of ".*/main\.c" starts at address (0x[0-9a-f]+) <main\+(\d+)>', out)
    assert found and int(found[1], 16) == main + int(found[2]), out
    assert "type = int (void)" in out


def frame_ranges(path, section: str) -> list[tuple[int, int]]:
    """FDE address ranges of ``section`` (llvm-dwarfdump 14 prints both frame sections for either option)."""
    out = run([require_tool("llvm-dwarfdump-14"), "--debug-frame", path]).stdout
    part = re.search(rf"^{re.escape(section)} contents:\n(.*?)(?=^\.\w+ contents:|\Z)", out, re.S | re.M)
    assert part, out
    return [(int(a, 16), int(b, 16)) for a, b in re.findall(r"FDE cie=\w+ pc=([0-9a-f]+)\.\.\.([0-9a-f]+)", part[1])]


def test_call_frames(tmp_path, wine):
    """.debug_frame (ADDRESS, SECTION) and .eh_frame (PCREL) in our image, .debug_frame through MinGW ld: the FDEs
    cover the functions where the symbol table puts them. (llvm-dwarfdump 14 cannot apply REL32 in objects, so the
    object carries no .eh_frame.)"""
    image, functions = dwarf_program(5)
    add_call_frames(image, functions, eh_frame=True)
    exe = tmp_path / "prog.exe"
    write_pe(image, exe, imports=KERNEL32)
    assert wine(exe) == EXIT_CODE
    verify(exe)
    addresses = symbol_addresses(exe)
    expected = [(addresses[f.name], addresses[f.name] + f.end - f.start) for f in functions]
    assert frame_ranges(exe, ".debug_frame") == frame_ranges(exe, ".eh_frame") == expected

    image, functions = dwarf_program(4)
    add_call_frames(image, functions, eh_frame=False)
    obj, linked = tmp_path / "prog.o", tmp_path / "linked.exe"
    write_object(image, obj)
    verify(obj)
    link_with_mingw_ld(obj, linked)
    addresses = symbol_addresses(linked)
    assert frame_ranges(linked, ".debug_frame") == [(addresses[f.name], addresses[f.name] + f.end - f.start)
                                                      for f in functions]


def test_object_sections_match_mingw_gcc(tmp_path, corpus):
    """Debug sections named and flagged as MinGW gcc's: long names via /N, discardable, readable, byte-aligned."""
    image, _ = dwarf_program(5)
    obj = tmp_path / "prog.o"
    write_object(image, obj)

    def debug_sections(path):
        out = readobj(path, "--sections")
        return {m[1]: (m[2], m[3]) for m in re.finditer(
            r"Name: (\.debug_\w+) \((2F [0-9A-F ]+)\).*?Characteristics \[ \((0x[0-9A-F]+)\)", out, re.S)}

    ours = debug_sections(obj)
    theirs = debug_sections(corpus / "coff" / "shapes-mingw-O0-dwarf5.obj")
    assert set(ours) == {s.name for s in image.dwarf}
    for name in set(ours) & set(theirs) - {".debug_frame"}:  # gcc aligns .debug_frame to 8
        assert ours[name][1] == theirs[name][1] == "0x42100040", name
    assert all(ref.startswith("2F") for ref, _ in ours.values())  # "/<offset>" into the string table


def arm64_image() -> Image:
    """Two ARM64 functions with DWARF 4, and absolute code addresses in .data: ``answer`` and the imported
    ``ExitProcess``."""
    asm = assemble(Arch.AARCH64, [("answer", "mov w0, #59\nret"),
                                  ("start", "stp x29, x30, [sp, #-16]!\nbl answer\nldp x29, x30, [sp], #16\nret")])
    dw = DwarfBuilder(Encoding(version=4))
    cu = dw.compile_unit("arm.c", comp_dir="/src", language="C99", low_pc=Address("answer"), high_pc=len(asm.code))
    int_t = cu.base_type("int", 4, "signed")
    for (name, (s, e)), lines in zip(asm.functions.items(), [(3, 4), (7, 8, 8, 9)], strict=True):
        cu.die("subprogram", name=name, type=int_t, external=True, low_pc=Address(name), high_pc=e - s)
        seq = cu.line.sequence(Address(name))
        for i, line in enumerate(lines):
            seq.row(4 * i, line)
        seq.end(e - s)
    return Image(Arch.AARCH64, sections=[
        ContentSection(".text", SectionKind.CODE, asm.code),
        ContentSection(".data", SectionKind.DATA, bytes(16), alignment=8,
                       relocations=[Relocation(0, 8, RelocKind.ADDRESS, "answer"),
                                    Relocation(8, 8, RelocKind.ADDRESS, "ExitProcess")])],
        symbols=[*(Symbol(n, ".text", s, e - s) for n, (s, e) in asm.functions.items()),
                 Symbol("handlers", ".data", 0, 16, SymbolKind.OBJECT), Symbol("ExitProcess", None)],
        dwarf=dw.emit(), entry="start")


def test_arm64_object_and_image(tmp_path):
    """ARM64: SECREL/ADDR64 in the object, lld-link links it, gdb reads both PE images (ours and lld's).

    gdb 13's BFD cannot read ARM64 COFF objects' SECREL relocations at all (it fails the same way on clang's), so gdb
    reads only the images here."""
    image = arm64_image()
    obj, ours, linked = tmp_path / "arm.o", tmp_path / "arm.exe", tmp_path / "arm-lld.exe"
    write_object(image, obj)
    write_pe(image, ours, imports=KERNEL32)
    relocations = readobj(obj, "--relocations")
    assert "IMAGE_REL_ARM64_SECREL .debug_abbrev" in relocations
    assert "IMAGE_REL_ARM64_ADDR64 answer" in relocations and "0x0 IMAGE_REL_ARM64_ADDR64 answer" in relocations
    run([require_tool("lld-link-14"), "/machine:arm64", "/entry:start", "/subsystem:console", "/debug:dwarf",
         "/force:unresolved", f"/out:{linked}", obj])  # no ARM64 kernel32 import library here
    for path in (obj, ours, linked):
        verify(path)
    for exe in (ours, linked):
        start = symbol_addresses(exe)["start"]
        out = gdb(exe, "info line arm.c:8", "info address start")
        assert f'Symbol "start" is a function at address {start:#x}.' in out
        assert f'Line 8 of "arm.c" starts at address {start + 4:#x} <start+4> and ends at {start + 8:#x}' in out
    assert "Machine: IMAGE_FILE_MACHINE_ARM64" in readobj(ours, "--file-headers")
    fixups = re.findall(r"Type: DIR64\n\s+Address: (0x[0-9A-F]+)", readobj(ours, "--coff-basereloc"))
    assert fixups == ["0x2000", "0x2008"]
    # The ExitProcess thunk loads its target from the IAT slot the import table names.
    code = run([require_tool("llvm-objdump-14"), "-d", ours]).stdout
    thunk = re.search(r"adrp\s+x16, (0x[0-9a-f]+).*\n.*ldr\s+x16, \[x16, #(\d+)\]\n.*br\s+x16", code)
    iat = int(re.search(r"ImportAddressTableRVA: (0x[0-9A-F]+)", readobj(ours, "--coff-imports"))[1], 16)
    assert thunk and int(thunk[1], 16) + int(thunk[2]) == DEFAULT_IMAGE_BASE + iat, code
