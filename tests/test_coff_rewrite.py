"""Rewriting the DWARF of real COFF objects and PE images (``backends/coff/rewrite.py``, for ``dwarfkit convert``).

The inputs are the corpus' MinGW gcc and clang files. The oracles are the platform's tools: llvm-dwarfdump reads the
DWARF, llvm-readobj and MinGW's objdump the layout and relocations, MinGW gcc links a rewritten object, wine runs the
programs and gdb reads them. Relocation sizes for the pass-through DWARF come from llvm-readobj's relocation types,
not from the reader under test.
"""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
from coff_programs import EXIT_CODE as PROGRAM_EXIT_CODE
from coff_programs import KERNEL32, dwarf_program, exit_program, run
from conftest import require_tool
from test_coff_dwarf import check_gdb_agrees_with_the_model
from test_coff_object import link_with_mingw_ld

from dwarfkit import Address, ContentSection, Encoding, SectionKind, Symbol, SymbolKind
from dwarfkit.backends.coff import write_object, write_pe
from dwarfkit.backends.coff.rewrite import rewrite, rewrite_bytes
from dwarfkit.errors import ContainerError, RelocationError
from dwarfkit.expr import Expr
from dwarfkit.program import DwarfBuilder
from dwarfkit.reader.container import open_debug_file
from dwarfkit.sections import DwarfSections, Relocation, RelocKind, Section

pytest_plugins = ["coff_wine"]  # the session-wide `wine` fixture

OBJECTS = ["shapes-mingw-O0-dwarf4.obj", "shapes-mingw-O0-dwarf5.obj", "shapes-clang-x86_64.obj",
           "shapes-clang-arm64.obj"]
IMAGES = ["shapes-mingw-O0-dwarf4.exe", "shapes-mingw-O2-dwarf5.exe"]
EXIT_CODE = 59  # what the corpus programs return (corpus README)
_KINDS = {"section": RelocKind.SECTION, "address": RelocKind.ADDRESS, "pcrel": RelocKind.PCREL,
          "tls": RelocKind.TLS_OFFSET}


def readobj_relocations(path: Path) -> dict[str, list[tuple[int, str, str]]]:
    """Per section: (offset, type, symbol) of every relocation, as llvm-readobj-14 lists them."""
    out = run([require_tool("llvm-readobj-14"), "--relocations", path]).stdout
    found: dict[str, list[tuple[int, str, str]]] = {}
    section = ""
    for line in out.splitlines():
        if m := re.match(r"\s*Section \(\d+\) (\S+) \{", line):
            section = m[1]
            found[section] = []
        elif m := re.match(r"\s*0x([0-9A-F]+) (IMAGE_REL_\w+) (\S+)", line):
            found[section].append((int(m[1], 16), m[2], m[3]))
    return found


def passthrough(path: Path) -> DwarfSections:
    """The file's own DWARF as a DwarfSections: the reader's section bytes and DebugFile.relocations, with each
    field's size taken from llvm-readobj's relocation type and its bytes set back to the addend."""
    d = open_debug_file(path)
    sizes = {(name, offset): 8 if type_.endswith("ADDR64") else 4
             for name, relocs in (readobj_relocations(path) if d.is_object else {}).items()
             for offset, type_, _ in relocs}
    out = DwarfSections(Encoding(address_size=d.address_size))
    for name, data in d.sections.items():
        if name == "eh_frame":
            continue
        section = out.add(Section("." + name, bytearray(data)))
        for offset, ref in sorted(d.relocations.get(name, {}).items()):
            kind = _KINDS[ref.kind]
            size = sizes["." + name, offset]
            target = "." + ref.symbol if kind is RelocKind.SECTION else ref.symbol
            section.relocations.append(Relocation(offset, size, kind, target, ref.addend))
            if kind is not RelocKind.PCREL:
                section.data[offset:offset + size] = (ref.addend % (1 << 8 * size)).to_bytes(size, "little")
    return out


def dwarfdump(path: Path, *options: str) -> str:
    out = run([require_tool("llvm-dwarfdump-14"), *options, path], timeout=120).stdout
    return out.split("\n", 2)[2]  # without the file name line


def verify(path: Path) -> None:
    result = run([require_tool("llvm-dwarfdump-14"), "--verify", path], timeout=120, check=False)
    assert result.returncode == 0 and "No errors." in result.stdout, result.stdout + result.stderr


def objdump_sections(path: Path) -> dict[str, tuple[str, ...]]:
    """Section name -> (size, VMA, LMA, alignment, flags) from MinGW objdump -h (the file offset left out), or for
    ARM64, which it does not know, (size, VMA, type) from llvm-objdump-14 -h."""
    if "arm64" in path.name:
        out = run([require_tool("llvm-objdump-14"), "-h", path]).stdout
        return {name: rest for name, *rest in re.findall(r"^\s+\d+ (\S+)\s+(\w+) (\w+) ?(.*)$", out, re.M)}
    out = run([require_tool("x86_64-w64-mingw32-objdump"), "-h", path]).stdout
    rows = re.findall(r"^\s+\d+ (\S+)\s+(\w+)\s+(\w+)\s+(\w+)\s+\w+\s+(\S+)\n\s+(.*)$", out, re.M)
    return {name: rest for name, *rest in rows}


def gdb(path: Path, *commands: str) -> str:
    # gdb 13 indexes DWARF on worker threads, and under load the order of its "info line" answers varies: one
    # thread keeps two sessions of the same DWARF comparable.
    args: list[str | Path] = [require_tool("gdb-multiarch"), "-nx", "-batch", "-iex", "maint set worker-threads 0"]
    for c in commands:
        args += ["-ex", c]
    return run(args + [path]).stdout


GDB_SESSION = ["info line area", "info line fib", "info scope total_area", "info address counter", "ptype struct shape",
               "ptype area_fn", "info functions area", "info types point"]


def _is_debug(name: str) -> bool:
    return name.startswith(".debug_")


@pytest.mark.parametrize("name", OBJECTS + IMAGES)
def test_passthrough_gives_the_same_dwarf_and_layout(tmp_path, corpus, name):
    src, out = corpus / "coff" / name, tmp_path / name
    dwarf = passthrough(src)
    rewrite(src, out, dwarf)
    for option in ("--debug-info", "--debug-line", "--debug-frame"):
        assert dwarfdump(out, option) == dwarfdump(src, option), option
    # Every other section keeps its size, address, alignment and flags; the debug sections are the new ones.
    before, after = objdump_sections(src), objdump_sections(out)
    assert {n: v for n, v in after.items() if not _is_debug(n)} == {n: v for n, v in before.items()
                                                                    if not _is_debug(n)}
    assert {n: int(v[0], 16) for n, v in after.items() if _is_debug(n)} == dwarf.sizes()
    old_data, new_data = section_data(src), section_data(out)
    assert [d for n, d in new_data if not _is_debug(n)] == [d for n, d in old_data if not _is_debug(n)]
    if name in OBJECTS:
        verify(out)
        # The relocations of code and data are the input's; the debug sections' are re-created against the same
        # symbols (clang 14's ADDR32 for DW_FORM_line_strp becomes the SECREL it means).
        old, new = readobj_relocations(src), readobj_relocations(out)
        assert {s: r for s, r in new.items() if not _is_debug(s)} == {s: r for s, r in old.items()
                                                                      if not _is_debug(s)}
        for section, relocs in old.items():
            if _is_debug(section):
                assert [(o, s) for o, _, s in new[section]] == [(o, s) for o, _, s in relocs], section
                assert {t for _, t, _ in new[section]} <= {t for _, t, _ in relocs} | {"IMAGE_REL_AMD64_SECREL"}


@pytest.mark.parametrize("name", ["shapes-mingw-O0-dwarf4.obj", "shapes-mingw-O0-dwarf5.obj"])
def test_rewritten_object_links_runs_and_debugs_like_the_original(tmp_path, corpus, wine, name):
    gcc = require_tool("x86_64-w64-mingw32-gcc")
    src = corpus / "coff" / name
    rewritten = tmp_path / name
    rewrite(src, rewritten, passthrough(src))
    main = tmp_path / "main.obj"
    run([gcc, "-O0", "-g", "-c", corpus / "src" / "main.c", "-o", main])
    programs = []
    for obj in (src, rewritten):
        exe = tmp_path / f"{obj.stem}-{len(programs)}.exe"
        run([gcc, main, obj, "-o", exe])
        assert wine(exe) == EXIT_CODE
        programs.append(exe)
    original, converted = (gdb(exe, *GDB_SESSION) for exe in programs)
    assert "struct shape {" in original and 'Symbol "counter" is static storage' in original
    assert converted == original


@pytest.mark.parametrize("name", IMAGES)
def test_rewritten_image_runs_and_debugs_like_the_original(tmp_path, corpus, wine, name):
    src, out = corpus / "coff" / name, tmp_path / name
    rewrite(src, out, passthrough(src))
    assert wine(out) == EXIT_CODE
    assert gdb(out, *GDB_SESSION) == gdb(src, *GDB_SESSION)
    headers = run([require_tool("llvm-readobj-14"), "--file-headers", "--sections", out]).stdout
    ends = [int(va, 16) + int(size, 16) for va, size in
            re.findall(r"VirtualSize: (0x[0-9A-F]+)\n\s+VirtualAddress: (0x[0-9A-F]+)", headers)]
    size_of_image = int(re.search(r"SizeOfImage: (\d+)", headers)[1])
    assert size_of_image == -(-max(ends) // 0x1000) * 0x1000  # the last section's end, page aligned


def test_rewritten_clang_object_links_where_the_original_does_not(tmp_path, corpus, wine):
    """clang 14 relocates DW_FORM_line_strp in COFF with ADDR32 (an address), which MinGW ld refuses; the rewrite
    writes the SECREL it means, and the program links, runs, and gdb reads its lines and variables."""
    gcc = require_tool("x86_64-w64-mingw32-gcc")
    src, obj = corpus / "coff" / "shapes-clang-x86_64.obj", tmp_path / "shapes.obj"
    rewrite(src, obj, passthrough(src))
    refused = run([gcc, corpus / "src" / "main.c", src, "-o", tmp_path / "original.exe"], check=False)
    assert refused.returncode != 0 and "relocation truncated to fit: IMAGE_REL_AMD64_ADDR32" in refused.stderr
    exe = tmp_path / "prog.exe"
    run([gcc, corpus / "src" / "main.c", obj, "-o", exe])
    assert wine(exe) == EXIT_CODE
    nm = run([require_tool("llvm-nm-14"), exe]).stdout
    addresses = {m[2]: int(m[1], 16) for m in re.finditer(r"^([0-9a-f]+) \w (\S+)$", nm, re.M)}
    out = gdb(exe, "info line shapes.c:58", "info address counter", "ptype struct shape")
    assert f'Line 58 of "src/shapes.c" starts at address {addresses["fib"]:#x} <fib>' in out, out
    assert f'Symbol "counter" is static storage at address {addresses["counter"]:#x}.' in out
    assert "struct shape *next;" in out


CXX_LIBRARY = """\
template <typename T> struct Box { T v; T get() const { return v; } };
template <typename T> T twice(T x) { return x + x; }
inline int triple(int x) { return 3 * x; }
int use_all(int n) {
    Box<int> b{n};
    Box<long> c{n};
    return twice(b.get()) + (int)twice(c.get()) + triple(n);
}
"""
CXX_MAIN = "int use_all(int n);\nint main() { return use_all(5) - 1; }\n"


@pytest.mark.parametrize("compiler", [["x86_64-w64-mingw32-g++"], ["clang++-14", "-target", "x86_64-windows-gnu"]],
                         ids=["mingw-g++", "clang++"])
def test_cxx_object_with_comdat_sections(tmp_path, wine, compiler):
    """Templates and inline functions: COMDAT sections with definition records (clang puts .pdata after the debug
    sections, so their numbers move, and writes each section's own number in its record); the rewritten object
    links with MinGW g++, runs, and gdb reads the same as with the original."""
    cxx, gxx = [require_tool(compiler[0]), *compiler[1:]], require_tool("x86_64-w64-mingw32-g++")
    (tmp_path / "lib.cpp").write_text(CXX_LIBRARY)
    (tmp_path / "main.cpp").write_text(CXX_MAIN)
    src, obj = tmp_path / "lib.obj", tmp_path / "lib-rewritten.obj"
    run([*cxx, "-O0", "-g", "-c", tmp_path / "lib.cpp", "-o", src])
    rewrite(src, obj, passthrough(src))
    verify(obj)
    assert dwarfdump(obj, "--debug-info") == dwarfdump(src, "--debug-info")
    symbols = [run([require_tool("llvm-readobj-14"), "--symbols", path]).stdout for path in (src, obj)]
    assert symbols[0].count("Selection: Any") == symbols[1].count("Selection: Any") >= 4
    for text in symbols:  # a COMDAT record's Number is 0 (gcc) or its own section's number (clang), moved along
        pairs = re.findall(r"Section: \S+ \((\d+)\)\n[^}]*?Number: (\d+)\n\s+Selection: Any", text)
        assert len(pairs) >= 4 and all(number in ("0", section) for section, number in pairs), pairs
    sessions = []
    for name in (src, obj):
        exe = tmp_path / f"{name.stem}.exe"
        run([gxx, "-g", tmp_path / "main.cpp", name, "-o", exe])
        assert wine(exe) == 34
        sessions.append(gdb(exe, "info line triple", "info scope use_all", "ptype Box<long>", "info functions twice",
                            "info line Box<int>::get"))
    assert "T get(void) const;" in sessions[0] and "long twice<long>(long);" in sessions[0]
    assert sessions[1] == sessions[0]


def test_arm64_object_and_lld_link_image(tmp_path, corpus):
    """ARM64 (no MinGW toolchain here): the rewritten clang object links with lld-link like the original, and the
    linked image, laid out by lld rather than MinGW ld, rewrites too; llvm-dwarfdump and gdb read them the same."""
    lld = require_tool("lld-link-14")
    src = corpus / "coff" / "shapes-clang-arm64.obj"
    obj = tmp_path / "shapes.obj"
    rewrite(src, obj, passthrough(src))
    images = []
    for path in (src, obj):
        exe = tmp_path / f"{path.stem}-{len(images)}.exe"
        # memset stays unresolved: nothing runs the image, debuggers only read it.
        run([lld, "/machine:arm64", "/entry:run", "/subsystem:console", "/nodefaultlib", "/force:unresolved",
             "/debug:dwarf", f"/out:{exe}", path])
        images.append(exe)
    rewritten = tmp_path / "relinked.exe"
    rewrite(images[0], rewritten, passthrough(images[0]))
    images.append(rewritten)
    session = ["info line fib", "info address counter", "ptype struct shape", "info scope total_area"]
    original = gdb(images[0], *session)
    assert "Symbol \"counter\" is static storage" in original
    for exe in images[1:]:
        assert dwarfdump(exe, "--debug-info") == dwarfdump(images[0], "--debug-info")
        assert dwarfdump(exe, "--debug-line") == dwarfdump(images[0], "--debug-line")
        assert gdb(exe, *session) == original


def handmade_dwarf(version: int) -> DwarfSections:
    """DWARF of our own over the corpus' shapes.c objects: symbols by name, a section-relative address, lines."""
    dw = DwarfBuilder(Encoding(version=version, address_size=8))
    cu = dw.compile_unit("handmade.c", comp_dir="/handmade", producer="dwarfkit rewrite test", language="C99",
                         low_pc=0)
    int_t = cu.base_type("int", 4, "signed")
    cu.die("variable", name="counter", type=int_t, decl_file=cu.file("handmade.c"), decl_line=3,
           location=Expr().addr(Address("counter")))
    cu.die("subprogram", name="fib", type=int_t, external=True, decl_file=cu.file("handmade.c"), decl_line=58,
           low_pc=Address("fib"), high_pc=4)
    cu.die("label", name="text_plus_16", low_pc=Address(".text", 0x10))
    seq = cu.line.sequence(Address("fib"))
    seq.row(0, 58)
    seq.end(4)
    return dw.emit()


@pytest.mark.parametrize("name", OBJECTS)
@pytest.mark.parametrize("version", [4, 5])
def test_handmade_dwarf_relocated_against_the_objects_symbols(tmp_path, corpus, name, version):
    src, out = corpus / "coff" / name, tmp_path / name
    dwarf = handmade_dwarf(version)
    rewrite(src, out, dwarf)
    verify(out)
    info = dwarfdump(out, "--debug-info")
    assert 'DW_AT_name\t("handmade.c")' in info and 'DW_AT_name\t("fib")' in info
    arch = "ARM64" if "arm64" in name else "AMD64"
    relocs = readobj_relocations(out)[".debug_info"]
    targets = {(symbol, type_) for _, type_, symbol in relocs}
    assert {("fib", f"IMAGE_REL_{arch}_ADDR64"), ("counter", f"IMAGE_REL_{arch}_ADDR64"),
            (".text", f"IMAGE_REL_{arch}_ADDR64"), (".debug_abbrev", f"IMAGE_REL_{arch}_SECREL")} <= targets
    # Every new debug section has its static section symbol with a definition record, as MinGW's as writes it.
    symbols = run([require_tool("llvm-readobj-14"), "--symbols", out]).stdout
    for section in dwarf.sizes():
        block = re.search(rf"Name: {re.escape(section)}\n\s+Value: 0\n\s+Section: {re.escape(section)} \(\d+\)\n"
                          rf".*?StorageClass: Static.*?Length: (\d+)", symbols, re.S)
        assert block and int(block[1]) == dwarf.sizes()[section], section
    # The relocated values read back as the symbols' own: the reader applies them like a linker at address 0.
    assert open_debug_file(out).relocations["debug_info"]


def test_handmade_dwarf_in_a_linked_program(tmp_path, corpus, wine):
    """DWARF 5 over a DWARF 4 object: a section the input lacks (.debug_line_str, with a new section symbol and a
    new long name) and one it had that goes without replacement (.debug_frame, its symbol made absolute); MinGW ld
    links it and gdb finds fib and counter at their linked addresses."""
    gcc = require_tool("x86_64-w64-mingw32-gcc")
    src, obj = corpus / "coff" / "shapes-mingw-O0-dwarf4.obj", tmp_path / "shapes.obj"
    dwarf = handmade_dwarf(5)
    rewrite(src, obj, dwarf)
    before = {n for n in objdump_sections(src) if _is_debug(n)}
    assert ".debug_line_str" in set(dwarf.sizes()) - before and ".debug_frame" in before - set(dwarf.sizes())
    assert {n for n in objdump_sections(obj) if _is_debug(n)} == set(dwarf.sizes())
    exe = tmp_path / "prog.exe"
    run([gcc, corpus / "src" / "main.c", obj, "-o", exe])
    assert wine(exe) == EXIT_CODE
    nm = run([require_tool("llvm-nm-14"), exe]).stdout
    addresses = {m[2]: int(m[1], 16) for m in re.finditer(r"^([0-9a-f]+) \w (\S+)$", nm, re.M)}
    out = gdb(exe, "info address counter", "info line handmade.c:58", "info scope fib")
    assert f'Symbol "counter" is static storage at address {addresses["counter"]:#x}.' in out
    assert f'Line 58 of "handmade.c" starts at address {addresses["fib"]:#x} <fib>' in out


def test_handmade_dwarf_in_an_image_is_resolved_through_its_symbols(tmp_path, corpus, wine):
    """Symbolic addresses in an image (load gives plain ones, a hand-written model may not) are resolved through the
    image's symbol table, a section name to the section (not to one of the input objects' pieces of it)."""
    src, exe = corpus / "coff" / "shapes-mingw-O0-dwarf4.exe", tmp_path / "prog.exe"
    dwarf = handmade_dwarf(5)
    rewrite(src, exe, dwarf)
    assert wine(exe) == EXIT_CODE
    verify(exe)
    nm = run([require_tool("llvm-nm-14"), exe]).stdout
    addresses = {m[2]: int(m[1], 16) for m in re.finditer(r"^([0-9a-f]+) \w (\S+)$", nm, re.M)}
    out = gdb(exe, "info address counter", "info line handmade.c:58")
    assert f'Symbol "counter" is static storage at address {addresses["counter"]:#x}.' in out
    assert f'Line 58 of "handmade.c" starts at address {addresses["fib"]:#x} <fib>' in out
    text = objdump_sections(exe)[".text"]
    assert f'DW_AT_low_pc\t({int(text[1], 16) + 0x10:#018x})' in dwarfdump(exe, "--debug-info")
    assert set(dwarf.sizes()) == {n for n in objdump_sections(exe) if _is_debug(n)}


def test_dwarfkits_own_object_and_image_rewritten(tmp_path, wine):
    """The COFF writer's own files through the rewriter (its layout differs from MinGW's: every section symbol
    first): the object links with MinGW ld, both programs run and gdb reads what the model says."""
    image, functions = dwarf_program(5, call_import_by_name=True)
    obj, exe = tmp_path / "prog.o", tmp_path / "prog.exe"
    write_object(image, obj)
    write_pe(image, exe, imports=KERNEL32)
    for path in (obj, exe):
        rewrite(path, path.with_suffix(".new" + path.suffix), passthrough(path))
    linked = tmp_path / "linked.exe"
    link_with_mingw_ld(tmp_path / "prog.new.o", linked)
    for program in (linked, tmp_path / "prog.new.exe"):
        assert wine(program) == PROGRAM_EXIT_CODE
        check_gdb_agrees_with_the_model(program, functions)


def test_more_than_65535_relocations_in_kept_and_new_sections(tmp_path):
    """IMAGE_SCN_LNK_NRELOC_OVFL both ways: a kept section's overflow record is copied, a new debug section with
    more relocations than the header can count gets one; rewriting the result again drops it cleanly."""
    n = 70000
    image, _ = exit_program()
    image.sections.append(ContentSection(".rdata", SectionKind.RODATA, bytes(8 * n), alignment=8, relocations=[
        Relocation(8 * i, 8, RelocKind.ADDRESS, "value", i) for i in range(n)]))
    image.symbols.append(Symbol("table", ".rdata", 0, 8 * n, SymbolKind.OBJECT))
    obj = tmp_path / "big.o"
    write_object(image, obj)
    dwarf = DwarfSections(Encoding())
    dwarf.add(Section(".debug_str", bytearray(b"x\0")))
    dwarf.add(Section(".debug_frame", bytearray(4 * n),
                      [Relocation(4 * i, 4, RelocKind.SECTION, ".debug_str", i % 2) for i in range(n)]))
    once, twice = tmp_path / "once.o", tmp_path / "twice.o"
    rewrite(obj, once, dwarf)
    rewrite(once, twice, dwarf)
    for path in (once, twice):
        relocations = readobj_relocations(path)
        assert len(relocations[".rdata"]) == n and len(relocations[".debug_frame"]) == n
        assert relocations[".debug_frame"][-1] == (4 * (n - 1), "IMAGE_REL_AMD64_SECREL", ".debug_str")
        assert readobj_sections(path).count("IMAGE_SCN_LNK_NRELOC_OVFL") == 2
        # The reader skips the overflow record too: every relocation llvm-readobj lists, none more, none refused.
        df = open_debug_file(str(path))
        assert df.problems == []
        assert sorted(df.relocations["debug_frame"]) == [offset for offset, _, _ in relocations[".debug_frame"]]


# -- refusals -----------------------------------------------------------------------------------------------------
def _one_error(data: bytes, dwarf: DwarfSections, compress: bool | None = None) -> str:
    with pytest.raises(ContainerError) as e:
        rewrite_bytes(data, dwarf, path="in.obj", compress=compress)
    assert "in.obj" in str(e.value) or "COFF" in str(e.value)
    return str(e.value)


def test_hostile_and_unsupported_input_is_one_clear_error(corpus):
    data = (corpus / "coff" / "shapes-mingw-O0-dwarf5.obj").read_bytes()
    dwarf = handmade_dwarf(5)
    assert "runs past the end of the file" in _one_error(data[:100], dwarf)
    header = bytearray(data)
    header[8:12] = (len(data) + 100).to_bytes(4, "little")  # PointerToSymbolTable past the end
    assert "symbol table" in _one_error(bytes(header), dwarf)
    bad_name = bytearray(data)
    bad_name[20 + 40 * 6:20 + 40 * 6 + 8] = b"/999999\0"  # a long name outside the string table
    assert "string table offset 999999" in _one_error(bytes(bad_name), dwarf)
    assert "machine 0x014c" in _one_error(b"\x4c\x01" + data[2:], dwarf)
    assert "no compressed debug sections" in _one_error(data, dwarf, compress=True)
    exe = (corpus / "coff" / "shapes-mingw-O0-dwarf4.exe").read_bytes()
    assert "no PE signature" in _one_error(exe[:0x80] + b"XX" + exe[0x82:], dwarf)
    assert "an overlay" in _one_error(exe + b"payload", dwarf)


def test_damaged_files_give_a_container_error_or_a_file(corpus):
    """Random bytes changed anywhere in an object or an image: a ContainerError or a written file, never an
    unexpected exception (the same mutations, seeded, every run)."""
    rnd = random.Random(15)
    dwarf = handmade_dwarf(5)
    for name in ("shapes-mingw-O0-dwarf5.obj", "shapes-clang-arm64.obj", "shapes-mingw-O0-dwarf4.exe"):
        data = (corpus / "coff" / name).read_bytes()
        for _ in range(60):
            damaged = bytearray(data)
            for _ in range(rnd.randint(1, 6)):
                damaged[rnd.randrange(min(len(data), 0x800))] = rnd.randrange(256)
            if rnd.random() < 0.2:
                damaged = damaged[:rnd.randrange(len(damaged))]
            try:
                rewrite_bytes(bytes(damaged), dwarf, path=name)
            except ContainerError as e:
                assert name in str(e)


def test_what_points_into_the_old_debug_sections_is_refused(corpus):
    """Code relocated against a debug section's symbol, or a data directory inside a debug section, would silently
    point elsewhere after the rewrite."""
    path = corpus / "coff" / "shapes-mingw-O0-dwarf5.obj"
    table = run([require_tool("llvm-objdump-14"), "-t", path]).stdout
    index = int(re.search(r"^\[ *(\d+)\]\(sec +\d+\).* \.debug_info$", table, re.M)[1])
    text = int(re.search(r"Name: \.text .*?PointerToRelocations: (0x[0-9A-F]+)",
                         readobj_sections(path), re.S)[1], 16)
    data = bytearray(path.read_bytes())
    data[text + 4:text + 8] = index.to_bytes(4, "little")  # the first .text relocation, at 0x96
    assert f".text+0x96: relocation against symbol {index}, which is in a debug section" in _one_error(
        bytes(data), handmade_dwarf(5))
    exe = corpus / "coff" / "shapes-mingw-O0-dwarf4.exe"
    debug_info = int(re.search(r"Name: \.debug_info .*?VirtualAddress: (0x[0-9A-F]+)", readobj_sections(exe),
                               re.S)[1], 16)
    data = bytearray(exe.read_bytes())
    directory = int.from_bytes(data[0x3C:0x40], "little") + 24 + 112 + 8 * 6  # the Debug directory
    data[directory:directory + 8] = debug_info.to_bytes(4, "little") + (28).to_bytes(4, "little")
    assert "data directory 6 points into .debug_info" in _one_error(bytes(data), handmade_dwarf(5))


def section_data(path: Path) -> list[tuple[str, str]]:
    """(name, hex dump of the contents) of every section, in section table order, from llvm-readobj-14."""
    out = run([require_tool("llvm-readobj-14"), "--sections", "--section-data", path]).stdout
    return [(m[1], m[2] or "") for m in re.finditer(r"^    Name: (\S+) .*?\n(?:    SectionData \(\n(.*?)^    \)\n)?"
                                                   r"  \}", out, re.M | re.S)]


def readobj_sections(path: Path) -> str:
    return run([require_tool("llvm-readobj-14"), "--sections", path]).stdout


def test_unknown_symbol_section_or_dwarf64_offset_names_the_relocation(corpus):
    data = (corpus / "coff" / "shapes-mingw-O0-dwarf5.obj").read_bytes()
    dwarf = DwarfSections(Encoding())
    dwarf.add(Section(".debug_info", bytearray(16), [Relocation(8, 8, RelocKind.ADDRESS, "no_such_symbol")]))
    assert ".debug_info+0x8: relocation against 'no_such_symbol'" in _one_error(data, dwarf)
    dwarf = DwarfSections(Encoding())
    dwarf.add(Section(".debug_info", bytearray(16), [Relocation(0, 4, RelocKind.SECTION, ".debug_str")]))
    with pytest.raises(RelocationError, match=r"\.debug_info\+0x0: offset into section '\.debug_str'"):
        rewrite_bytes(data, dwarf)
    dwarf.add(Section(".debug_str", bytearray(b"x\0")))
    dwarf.sections[".debug_info"].relocations[0] = Relocation(0, 8, RelocKind.SECTION, ".debug_str")
    with pytest.raises(RelocationError, match=r"\.debug_info\+0x0: 8-byte offset .* \(no DWARF64 in COFF objects\)"):
        rewrite_bytes(data, dwarf)


def test_a_failed_rewrite_leaves_no_output(tmp_path, corpus):
    src = tmp_path / "in.obj"
    shutil.copy(corpus / "coff" / "shapes-mingw-O0-dwarf5.obj", src)
    src.write_bytes(src.read_bytes()[:300])
    with pytest.raises(ContainerError):
        rewrite(src, tmp_path / "out.obj", handmade_dwarf(5))
    assert not (tmp_path / "out.obj").exists()


@pytest.mark.parametrize("name", OBJECTS)
def test_reader_relocations_name_what_llvm_readobj_names(corpus, name):
    """DebugFile.relocations: the same offsets and symbols as llvm-readobj, debug sections by their normalised
    name (clang 14's ADDR32 against .debug_line_str too: it is an offset into that section)."""
    path = corpus / "coff" / name
    refs = open_debug_file(path).relocations
    for section, relocs in readobj_relocations(path).items():
        if not _is_debug(section):
            continue
        got = {offset: (ref.symbol, ref.kind) for offset, ref in refs[section[1:]].items()}
        want = {offset: (symbol[1:], "section") if _is_debug(symbol) else (symbol, "address")
                for offset, _, symbol in relocs}
        assert got == want, section
