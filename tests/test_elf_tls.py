"""Thread-local variables in ELF objects: .tdata/.tbss sections, STT_TLS symbols and DWARF locations whose operand is
a TLS offset (Expr.tls_address: DW_OP_const8u relocated with R_X86_64_DTPOFF64, then
DW_OP_form_tls_address or DW_OP_GNU_push_tls_address), linked by gcc with a C file that uses them; gdb prints them."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from debuggers import gdb

from dwarfkit import Address, Arch, DescriptionError, DwarfkitError, Encoding, Expr
from dwarfkit.backends.elf import write_executable, write_object
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol, SymbolKind
from dwarfkit.program import DwarfBuilder
from dwarfkit.sections import RelocKind

USER = """extern __thread int counter; extern __thread long hits;
void stop(void) {}
int main(void) { counter += 1; hits = 7; stop(); return counter == 43 && hits == 7 ? 0 : 1; }
"""


def tls_image(arch: Arch, encoding: Encoding, gnu: bool) -> Image:
    """``__thread int counter = 42`` in .tdata and ``__thread long hits`` in .tbss, described in DWARF."""
    dw = DwarfBuilder(encoding)
    cu = dw.compile_unit("tls.c", comp_dir="/tmp", producer="dwarfkit tests", language="C99")
    int_t = cu.base_type("int", 4, "signed")
    long_t = cu.base_type("long", 8, "signed")
    cu.die("variable", name="counter", type=int_t, external=True, decl_file=cu.file("tls.c"), decl_line=1,
           location=Expr().tls_address("counter", gnu=gnu))
    cu.die("variable", name="hits", type=long_t, external=True, decl_file=cu.file("tls.c"), decl_line=2,
           location=Expr().tls_address(Address("hits"), gnu=gnu))
    sections = [ContentSection(".tdata", SectionKind.TDATA, (42).to_bytes(4, "little"), alignment=4),
                ContentSection(".tbss", SectionKind.TBSS, size=8, alignment=8)]
    symbols = [Symbol("counter", ".tdata", 0, 4, SymbolKind.TLS), Symbol("hits", ".tbss", 0, 8, SymbolKind.TLS)]
    return Image(arch, sections, symbols, dw.emit())


def readelf(*args) -> str:
    return subprocess.run([require_tool("readelf"), *map(str, args)], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize("version,gnu", [(5, False), (4, True)])
def test_gdb_prints_the_thread_local_variables(tmp_path, version, gnu):
    obj = tmp_path / "tls.o"
    write_object(tls_image(Arch.X86_64, Encoding(version, 4, 8), gnu), obj)
    # The object carries what gcc -g gives a __thread variable (gcc uses DTPOFF32 on the const8u, clang DTPOFF64).
    relocations = readelf("-rW", obj)
    assert len(re.findall(r"R_X86_64_DTPOFF64\s+0+ (counter|hits) \+ 0", relocations)) == 2, relocations
    assert re.search(r"\.tdata\s+PROGBITS.* WAT ", readelf("-SW", obj))
    assert re.search(r"\.tbss\s+NOBITS.* WAT ", readelf("-SW", obj))
    assert re.search(r"4 TLS\s+GLOBAL DEFAULT\s+\d+ counter", readelf("-sW", obj))
    dump = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(obj)], check=True,
                          capture_output=True, text=True).stdout
    op = "DW_OP_GNU_push_tls_address" if gnu else "DW_OP_form_tls_address"
    assert dump.count(f"DW_AT_location\t(DW_OP_const8u 0x0, {op})") == 2, dump

    user = tmp_path / "user.c"
    user.write_text(USER)
    exe = tmp_path / "prog"
    subprocess.run([require_tool("gcc"), "-O0", "-o", str(exe), str(user), str(obj)], check=True)
    assert subprocess.run([str(exe)]).returncode == 0
    linked = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(exe)], check=True,
                            capture_output=True, text=True).stdout
    # counter and hits lie at different offsets of the TLS block: the linker applied both relocations.
    offsets = re.findall(rf"DW_AT_location\t\(DW_OP_const8u (0x[0-9a-f]+), {op}\)", linked)
    assert len(set(offsets)) == 2, linked
    out = gdb(exe, ["break stop", "run", "print counter", "print hits", "ptype counter"])
    assert "$1 = 43" in out and "$2 = 7" in out and "type = int" in out, out


def test_gcc_puts_the_same_operation_in_its_objects(tmp_path):
    source = tmp_path / "g.c"
    source.write_text("__thread int counter = 42;\nint get(void) { return counter; }\n")
    obj = tmp_path / "g.o"
    subprocess.run([require_tool("gcc"), "-g", "-c", str(source), "-o", str(obj)], check=True)
    dump = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-info", str(obj)], check=True,
                          capture_output=True, text=True).stdout
    assert "DW_AT_location\t(DW_OP_const8u 0x0, DW_OP_form_tls_address)" in dump
    assert re.search(r"R_X86_64_DTPOFF32\s+0+ counter \+ 0", readelf("-rW", obj))


def test_aarch64_refuses_tls_offsets_its_linkers_cannot_relocate(tmp_path):
    with pytest.raises(DwarfkitError, match=r"no aarch64 ELF relocation for a 8-byte tls_offset field against "
                                            r"'counter' \(AArch64 linkers do not relocate"):
        write_object(tls_image(Arch.AARCH64, Encoding(5, 4, 8), False), tmp_path / "tls.o")
    assert not (tmp_path / "tls.o").exists()


def test_thread_locals_are_refused_where_they_cannot_be_written(tmp_path):
    image = tls_image(Arch.X86_64, Encoding(5, 4, 8), False)
    with pytest.raises(DescriptionError, match="section .tdata: thread-local storage .* only in ELF relocatable"):
        write_executable(image, tmp_path / "x")
    from dwarfkit.backends.coff import write_object as write_coff_object
    from dwarfkit.backends.macho_dsym import write_object as write_macho_object
    for writer in (write_coff_object, write_macho_object):
        with pytest.raises(DwarfkitError, match="thread-local"):
            writer(image, tmp_path / "x.o")
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.o").exists()
    # Only the DWARF: the relocation itself is refused.
    image.sections, image.symbols = [], []
    with pytest.raises(DwarfkitError, match="TLS offset of 'counter'.*only in ELF relocatable objects"):
        write_executable(image, tmp_path / "x")


def test_tls_offsets_name_thread_local_symbols(tmp_path):
    image = tls_image(Arch.X86_64, Encoding(5, 4, 8), False)
    image.symbols[0].kind = SymbolKind.OBJECT
    with pytest.raises(DescriptionError, match="symbol 'counter' of kind object is defined in tdata section"):
        write_object(image, tmp_path / "x.o")
    image.sections.append(ContentSection(".data", SectionKind.DATA, bytes(4)))
    image.symbols[0].section = ".data"
    with pytest.raises(DwarfkitError, match="TLS offset of 'counter', which is a object symbol"):
        write_object(image, tmp_path / "x.o")
    with pytest.raises(DescriptionError, match="tls_address needs a thread-local symbol"):
        Expr().tls_address(3.0)
    data, relocs = Expr().tls_address(Address(None, 0x10)).encode(Encoding(5, 4, 4))
    assert data == bytes([0x0c]) + (0x10).to_bytes(4, "little") + bytes([0x9b]) and relocs == []  # const4u


def test_relocation_kind_reaches_the_sections():
    dw = DwarfBuilder(Encoding(5, 4, 8))
    cu = dw.compile_unit("t.c")
    cu.die("variable", name="v", location=Expr().tls_address("v"))
    cu.die("variable", name="w", location=dw.location_list([(Address("f"), 4, Expr().tls_address("w"))]))
    sections = dw.emit()
    assert [r.kind for r in sections[".debug_info"].relocations if r.target == "v"] == [RelocKind.TLS_OFFSET]
    assert [r.kind for r in sections[".debug_loclists"].relocations if r.target == "w"] == [RelocKind.TLS_OFFSET]
