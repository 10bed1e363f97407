"""The ELF rewriter (``dwarfkit convert``'s container half): corpus objects, executables and libpython keep everything
but their DWARF, which is replaced; judged by llvm-dwarfdump-14, readelf, pyelftools, GNU ld, ld.lld and gdb."""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import CORPUS, require_corpus, require_tool
from debuggers import debug, gdb
from elf_tools import execute, run
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from rewrite_oracle import assert_rest_unchanged, debug_info_text, is_debug, own_dwarf, without_pids

from dwarfkit import Address, Arch, ContainerError, DwarfkitError, Encoding, Expr
from dwarfkit.backends.elf.rewrite import rewrite, rewrite_bytes, rewrite_separate
from dwarfkit.frame import CallFrames
from dwarfkit.program import DwarfBuilder
from dwarfkit.sections import DwarfSections, RelocKind

OBJECTS = sorted(p.name for p in (CORPUS / "elf").glob("*.o")) if CORPUS.is_dir() else []
LINKED = ["shapes-gcc-x86_64", "shapes-gcc-O2-x86_64", "shapes-clang-aarch64"]
SLOW_VERIFY = {"shapes-gcc-O2-dwarf5.o", "shapes-gcc-O2-x86_64"}   # llvm-dwarfdump --verify runs for minutes
# The shared library of the Python running the tests (pyenv's 3.11 here: 23 MB, DWARF 5), and that Python.
LIBPYTHON = Path(sysconfig.get_config_var("LIBDIR") or "/nonexistent") / (sysconfig.get_config_var("INSTSONAME") or "-")
PYTHON = Path(sys.executable)


def _pass_through(path: Path, out: Path, **kwargs: object) -> Path:
    rewrite(path, out, own_dwarf(path), **kwargs)  # type: ignore[arg-type]
    return out


def _readelf(path: Path) -> str:
    arch = ELFFile(open(path, "rb")).header.e_machine
    readelf = require_tool("aarch64-linux-gnu-readelf" if arch == "EM_AARCH64" else "readelf")
    result = run(readelf, "-S", "-r", "-s", "-g", "-W", path)
    assert result.stderr == "" and "warning" not in result.stdout.lower(), result.stderr
    return result.stdout


def _verify(path: Path) -> None:
    result = run(require_tool("llvm-dwarfdump-14"), "--verify", path, check=False)
    assert result.returncode == 0 and "No errors." in result.stdout, result.stdout[-3000:]


@pytest.mark.parametrize("name", OBJECTS + LINKED)
def test_pass_through_keeps_the_file_and_its_dwarf(tmp_path: Path, name: str) -> None:
    """The file's own DWARF through the rewriter: llvm-dwarfdump shows the same DIEs and lines, and every other
    section is as it was (linked files: at the same offsets, with the same program headers)."""
    src = require_corpus() / "elf" / name
    out = _pass_through(src, tmp_path / name)
    assert debug_info_text(out, "--debug-info", "--debug-line") == debug_info_text(src, "--debug-info",
                                                                                   "--debug-line")
    # AArch64: clang's mapping symbols ($d) in the old debug sections go, and the symbols after them move.
    assert_rest_unchanged(src.read_bytes(), out.read_bytes(), same_indices="aarch64" not in name)
    _readelf(out)
    run(require_tool("llvm-readobj-14"), "--sections", "--relocations", "--symbols", out)
    if name not in SLOW_VERIFY:
        _verify(out)
    if name in LINKED:
        assert out.stat().st_size < src.stat().st_size + 4096
        assert execute(Arch.AARCH64 if "aarch64" in name else Arch.X86_64, out) == 59


def _support_objects(tmp_path: Path, compiler: str) -> list[Path]:
    src = require_corpus() / "src"
    objects = []
    for c in ("start_linux_x86_64.c", "freestanding.c"):
        obj = tmp_path / (c[:-2] + ".o")
        run(require_tool(compiler), "-O0", "-g", "-fno-pie", "-c", src / c, "-o", obj)
        objects.append(obj)
    return objects


SESSION = ["break area", "break fib", "run", "bt", "info args", "info locals", "finish", "continue", "bt",
           "info frame", "ptype struct shape", "info line total_area", "print table", "print greeting",
           "info scope sum_table", "continue"]


@pytest.mark.parametrize("obj", ["shapes-gcc-O0-dwarf5.o", "shapes-gcc-O0-dwarf4.o", "shapes-gcc-O2-dwarf5.o",
                                 "shapes-clang-O0-dwarf5.o", "shapes-clang-O2-dwarf5.o", "shapes-gcc-O0-dwarf64.o"])
@pytest.mark.parametrize("linker", ["gcc", "lld"])
def test_rewritten_objects_link_and_debug_like_the_originals(tmp_path: Path, obj: str, linker: str) -> None:
    src = require_corpus() / "elf" / obj
    rewritten = _pass_through(src, tmp_path / obj)
    support = _support_objects(tmp_path, "gcc")
    driver = [require_tool("gcc")] if linker == "gcc" else [require_tool("clang-14"), "-fuse-ld=lld"]
    transcripts = []
    for which, shapes in (("orig", src), ("conv", rewritten)):
        (tmp_path / which).mkdir()
        prog = tmp_path / which / "prog"
        run(*driver, "-static", "-nostdlib", "-no-pie", *support, shapes, "-o", prog)
        assert execute(Arch.X86_64, prog) == 59
        transcripts.append(without_pids(gdb(prog, SESSION)))
    assert "area (s=" in transcripts[0] and "shapes.c" in transcripts[0], transcripts[0]
    assert transcripts[1] == transcripts[0]


def test_rewritten_aarch64_object_links_with_lld_and_debugs_under_qemu(tmp_path: Path) -> None:
    src = require_corpus() / "elf" / "shapes-clang-aarch64.o"
    rewritten = _pass_through(src, tmp_path / "shapes.o")
    clang = [require_tool("clang-14"), "--target=aarch64-linux-gnu"]
    support = []
    for c in ("start_linux_aarch64.c", "freestanding.c"):
        support.append(tmp_path / (c[:-2] + ".o"))
        run(*clang, "-O0", "-g", "-c", require_corpus() / "src" / c, "-o", support[-1])
    transcripts = []
    for which, shapes in (("orig", src), ("conv", rewritten)):
        (tmp_path / which).mkdir()
        prog = tmp_path / which / "prog"
        run(*clang, "-fuse-ld=lld", "-static", "-nostdlib", *support, shapes, "-o", prog)
        assert execute(Arch.AARCH64, prog) == 59
        transcripts.append(without_pids(debug(Arch.AARCH64, prog, ["break total_area", "run", "bt", "info locals",
                                                                   "ptype struct shape", "info line fib"])))
    assert "total_area (list=" in transcripts[0], transcripts[0]
    assert transcripts[1] == transcripts[0]


TLS = r"""
__thread int tls_var = 3;
static __thread long tls_static = 5;
int get(void) { tls_static++; return tls_var + (int)tls_static; }
int main(void) { return get() == 9 ? 0 : 1; }
"""


@pytest.mark.parametrize("compiler", ["gcc", "clang-14"])
def test_thread_local_variables_keep_their_dtpoff_relocations(tmp_path: Path, compiler: str) -> None:
    (tmp_path / "tls.c").write_text(TLS)
    obj = tmp_path / "tls.o"
    run(require_tool(compiler), "-O0", "-g", "-c", tmp_path / "tls.c", "-o", obj)
    out = _pass_through(obj, tmp_path / "tls.rw.o")
    relocations = run(require_tool("readelf"), "-r", "-W", out).stdout
    assert "R_X86_64_DTPOFF" in relocations.split(".rela.debug_info'")[1].split("Relocation section")[0]
    assert_rest_unchanged(obj.read_bytes(), out.read_bytes(), same_indices=True)
    sessions = []
    for o in (obj, out):
        prog = tmp_path / f"{o.stem}-prog"
        run(require_tool("gcc"), o, "-o", prog)
        assert execute(Arch.X86_64, prog) == 0
        sessions.append(without_pids(gdb(prog, ["break get", "run", "print tls_var", "print tls_static"]))
                        .replace(str(prog), "PROG"))
    assert "$1 = 3" in sessions[0] and "$2 = 5" in sessions[0], sessions[0]
    assert sessions[1] == sessions[0]


def test_more_than_0xff00_sections(tmp_path: Path) -> None:
    """66000 function sections (gas -g): the section count and the name table index move to section 0's header,
    symbols' section indices to SHT_SYMTAB_SHNDX; new section symbols come after 66000 locals."""
    asm = tmp_path / "many.s"
    asm.write_text("".join(f'.section .text.f{i},"ax",@progbits\n.globl f{i}\nf{i}:\n ret\n' for i in range(66000)))
    obj = tmp_path / "many.o"
    run(require_tool("as"), "-g", asm, "-o", obj)
    dw = DwarfBuilder(Encoding(5, 4, 8))
    cu = dw.compile_unit("many.s", comp_dir="/tmp", producer="dwarfkit tests", language="C99",
                         low_pc=Address(".text.f65999"), high_pc=1)
    cu.die("subprogram", name="last", low_pc=Address("f65999"), high_pc=1)
    cu.die("subprogram", name="fourth", low_pc=Address(".text.f3"), high_pc=1)
    rows = cu.line.sequence(Address("f65999"))
    rows.row(0, 7)
    rows.end(1)
    out = tmp_path / "many.rw.o"
    rewrite(obj, out, dw.emit())
    header = run(require_tool("readelf"), "-h", "-W", out).stdout
    assert "Number of section headers:         0 (66017)" in header, header
    _verify(out)
    (tmp_path / "start.s").write_text(".globl _start\n_start: call f3\n call f65999\n mov $60, %eax\n"
                                      " mov $7, %edi\n syscall\n")
    run(require_tool("as"), tmp_path / "start.s", "-o", tmp_path / "start.o")
    prog = tmp_path / "prog"
    run(require_tool("ld"), tmp_path / "start.o", out, "-o", prog)
    assert execute(Arch.X86_64, prog) == 7
    session = gdb(prog, ["info line f65999", "info scope fourth", "print &fourth == &f3"])
    assert 'Line 7 of "many.s"' in session and "$1 = 1" in session, session


CXX = r"""
template <typename T> struct Box { T v; T get() const { return v; } };
inline int twice(int x) { return 2 * x; }
static int counter;
int use(int a) { Box<int> b{a}; int doubled = twice(b.get()); counter += doubled; return counter; }
int main() { return use(3) == 6 ? 0 : 1; }
"""


@pytest.mark.parametrize("compiler", ["g++", "clang++-14"])
def test_comdat_groups_and_function_sections(tmp_path: Path, compiler: str) -> None:
    """C++ inline functions in COMDAT groups, one section per function, clang's .llvm_addrsig: the rewritten
    object links (GNU ld and lld) into programs that gdb debugs as it does the original."""
    (tmp_path / "t.cc").write_text(CXX)
    obj = tmp_path / "t.o"
    run(require_tool(compiler), "-O0", "-g", "-ffunction-sections", "-fdata-sections", "-c", tmp_path / "t.cc",
        "-o", obj)
    out = _pass_through(obj, tmp_path / "t.rw.o")
    assert debug_info_text(out, "--debug-info") == debug_info_text(obj, "--debug-info")
    assert_rest_unchanged(obj.read_bytes(), out.read_bytes(), same_indices=True)
    assert "COMDAT group section" in _readelf(out)
    _verify(out)
    for linker in ([require_tool("g++")], [require_tool("clang++-14"), "-fuse-ld=lld"]):
        sessions = []
        for o in (obj, out):
            prog = tmp_path / f"{o.stem}-{len(linker)}"
            run(*linker, o, "-o", prog)
            assert execute(Arch.X86_64, prog) == 0
            sessions.append(without_pids(gdb(prog, ["break twice", "run", "bt", "info args", "up", "info locals",
                                                   "ptype Box<int>"])))
        assert "twice (x=3)" in sessions[0], sessions[0]
        assert sessions[1] == sessions[0]


def test_groups_of_debug_sections_go_and_their_signatures_with_them(tmp_path: Path) -> None:
    """gcc -fdebug-types-section puts each type unit in a group of its own: with new DWARF the group and its
    signature symbol go (the new DWARF is one set of sections), the code groups stay."""
    (tmp_path / "t.cc").write_text(CXX)
    obj = tmp_path / "t.o"
    run(require_tool("g++"), "-O0", "-g", "-gdwarf-4", "-fdebug-types-section", "-c", tmp_path / "t.cc", "-o", obj)
    assert "wt." in _readelf(obj)
    out = tmp_path / "t.rw.o"
    rewrite(obj, out, _handmade(".text", "_Z3usei"))
    listing = _readelf(out)
    assert "wt." not in listing and "debug_types" not in listing and "[_Z5twicei]" in listing, listing
    _verify(out)
    prog = tmp_path / "prog"
    run(require_tool("g++"), out, "-o", prog)
    assert execute(Arch.X86_64, prog) == 0


def _handmade(section: str, function: str, *, version: int = 5, frames: bool = True) -> DwarfSections:
    """A unit for ``function`` of the C++ program above, with a variable located by DW_OP_addr, line rows, call
    frames, and addresses given both by symbol and by section name."""
    dw = DwarfBuilder(Encoding(version, 4, 8))
    cu = dw.compile_unit("handmade.cc", comp_dir="/work", producer="dwarfkit tests", language="C_plus_plus",
                         low_pc=Address(function), high_pc=8)
    int_t = cu.base_type("int", 4, "signed")
    cu.die("subprogram", name="use_by_hand", external=True, low_pc=Address(function), high_pc=8)
    cu.die("variable", name="counter_by_hand", type=int_t, location=Expr().addr(Address("_ZL7counter")))
    cu.die("variable", name="code_start", type=int_t, location=Expr().addr(Address(section, 0)))
    rows = cu.line.sequence(Address(function))
    rows.row(0, 5)
    rows.row(4, 6)
    rows.end(8)
    sections = dw.emit()
    if frames:
        cfi = CallFrames(Arch.X86_64, dw.encoding)
        fde = cfi.fde(None, Address(function), 8)
        fde.advance_to(1)
        fde.def_cfa_offset(16)
        sections.add(cfi.debug_frame())
    return sections


def test_handmade_dwarf_over_an_object_gets_relocations_against_symbols_and_sections(tmp_path: Path) -> None:
    """New DWARF that refers to sections the object has no section symbol for yet (.debug_line_str, .debug_frame's
    CIE in .debug_frame ...): the symbols are added after the locals, every other relocation renumbered."""
    (tmp_path / "t.cc").write_text(CXX)
    obj = tmp_path / "t.o"
    run(require_tool("clang++-14"), "-O0", "-g", "-ffunction-sections", "-c", tmp_path / "t.cc", "-o", obj)
    out = tmp_path / "t.rw.o"
    rewrite(obj, out, _handmade(".text._Z3usei", "_Z3usei"))
    _verify(out)
    relocations = run(require_tool("readelf"), "-r", "-W", out).stdout
    frame = relocations.split(".rela.debug_frame'")[1].split("Relocation section")[0]
    assert "R_X86_64_32" in frame and ".debug_frame + 0" in frame and "_Z3usei + 0" in frame, frame
    info = relocations.split(".rela.debug_info'")[1].split("Relocation section")[0]
    assert "_ZL7counter + 0" in info and ".text._Z3usei + 0" in info and ".debug_abbrev + 0" in info, info
    with open(out, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        symbols = list(symtab.iter_symbols())
        first_global = symtab["sh_info"]
        assert all(s["st_info"]["bind"] == "STB_LOCAL" for s in symbols[:first_global])
        assert all(s["st_info"]["bind"] != "STB_LOCAL" for s in symbols[first_global:])
    prog = tmp_path / "prog"
    run(require_tool("clang++-14"), "-fuse-ld=lld", out, "-o", prog)
    assert execute(Arch.X86_64, prog) == 0
    session = gdb(prog, ["info line use_by_hand", "info address counter_by_hand", "print &counter_by_hand == &counter",
                         "break use_by_hand", "run", "bt 1"])
    assert "Line 5 of \"handmade.cc\"" in session and "$1 = 1" in session, session
    assert "use_by_hand ()" in session, session


def test_symbolic_addresses_in_a_linked_file_resolve_through_its_symbols(tmp_path: Path) -> None:
    """New DWARF for an executable may still name symbols and sections: they resolve through its .symtab and its
    section headers (gdb then places the unit where nm says the symbols are)."""
    src = require_corpus() / "elf" / "shapes-gcc-x86_64"
    dw = DwarfBuilder(Encoding(4, 4, 8))
    cu = dw.compile_unit("byhand.c", comp_dir="/work", producer="dwarfkit tests", language="C99",
                         low_pc=Address(".text"), high_pc=0x300)
    int_t = cu.base_type("int", 4, "signed")
    cu.die("subprogram", name="fib_by_hand", external=True, low_pc=Address("fib"), high_pc=4)
    cu.die("variable", name="table_by_hand", type=int_t, location=Expr().addr(Address("table", 4)))
    rows = cu.line.sequence(Address("fib"))
    rows.row(0, 11)
    rows.end(4)
    out = tmp_path / "prog"
    rewrite(src, out, dw.emit())
    _verify(out)
    assert execute(Arch.X86_64, out) == 59
    session = gdb(out, ["info line fib_by_hand", "print (char *) &table_by_hand - (char *) &table",
                        "info symbol fib_by_hand"])
    assert 'Line 11 of "byhand.c"' in session and "$1 = 4" in session and "fib in section .text" in session, \
        session


@pytest.mark.parametrize(("compress", "gz"), [(True, "-gz"), (False, "-gz"), (None, "-gz"), (None, "-gz=zlib-gnu")])
def test_compression(tmp_path: Path, compress: bool | None, gz: str) -> None:
    """True/False compress or not; None keeps what the input had (here gcc -gz: SHF_COMPRESSED, or GNU's old
    .zdebug_* sections, which become SHF_COMPRESSED .debug_* ones)."""
    src = tmp_path / "shapes.c"
    shutil.copy(require_corpus() / "src" / "shapes.c", src)
    obj = tmp_path / "shapes.o"
    run(require_tool("gcc"), "-O0", "-g", gz, "-c", src, "-o", obj)
    out = _pass_through(obj, tmp_path / "out.o", compress=compress)
    with open(out, "rb") as f:
        flags = {s.name: s["sh_flags"] for s in ELFFile(f).iter_sections() if s.name.startswith(".debug_")}
    assert flags and all(bool(f & SH_FLAGS.SHF_COMPRESSED) == (compress is not False) for f in flags.values())
    assert debug_info_text(out, "--debug-info") == debug_info_text(obj, "--debug-info")
    _verify(out)
    prog = tmp_path / "prog"
    run(require_tool("gcc"), "-static", "-nostdlib", "-no-pie", *_support_objects(tmp_path, "gcc"), out, "-o", prog)
    assert "Line 36 of \"" in gdb(prog, ["info line area"])


@pytest.mark.parametrize("compress", [None, True])
def test_separate_debug_file_for_an_executable(tmp_path: Path, compress: bool | None) -> None:
    (tmp_path / "orig").mkdir()
    (tmp_path / "conv").mkdir()
    src = tmp_path / "orig" / "prog"   # paths of one length: the same environment, the same stack addresses
    shutil.copy(require_corpus() / "elf" / "shapes-gcc-x86_64", src)
    out, debug = tmp_path / "conv" / "prog", tmp_path / "conv" / "prog.debug"
    rewrite_separate(src, out, debug, own_dwarf(src), compress=compress)
    with open(out, "rb") as f:
        assert not any(is_debug(s.name) for s in ELFFile(f).iter_sections())
    with open(debug, "rb") as f:
        flags = [s["sh_flags"] for s in ELFFile(f).iter_sections() if s.name.startswith(".debug_")]
        assert flags and all(bool(f & SH_FLAGS.SHF_COMPRESSED) == bool(compress) for f in flags)
    assert_rest_unchanged(src.read_bytes(), out.read_bytes())
    assert execute(Arch.X86_64, out) == 59
    assert debug_info_text(debug, "--debug-info") == debug_info_text(src, "--debug-info")
    commands = ["break total_area", "run", "bt", "info locals", "ptype struct shape"]
    assert without_pids(gdb(out, commands)) == without_pids(gdb(src, commands))


@pytest.mark.skipif(not LIBPYTHON.is_file() or not sysconfig.get_config_var("Py_ENABLE_SHARED"),
                    reason="this Python is not linked with a shared libpython")
def test_libpython_separate_debug_file_serves_gdb(tmp_path: Path) -> None:
    """The system's libpython (23 MB, DWARF 5): stripped copy + debug file in a folder of their own; gdb on python3
    with LD_LIBRARY_PATH there finds the debug file by its link and shows what it shows with the original."""
    conv, orig = tmp_path / "conv", tmp_path / "orig"
    conv.mkdir()
    orig.mkdir()
    (orig / LIBPYTHON.name).symlink_to(LIBPYTHON)
    rewrite_separate(LIBPYTHON, conv / LIBPYTHON.name, conv / (LIBPYTHON.name + ".debug"), own_dwarf(LIBPYTHON))
    with open(conv / LIBPYTHON.name, "rb") as f:
        assert ELFFile(f).get_section_by_name(".debug_info") is None
    commands = ["set breakpoint pending on", "break PyObject_Repr", "run", "bt", "info locals", "ptype PyObject"]
    sessions = []
    for folder in (orig, conv):   # equally long paths: the environment, and so the stack, is the same
        result = subprocess.run([require_tool("gdb"), "-nx", "-batch", "-iex", "set debuginfod enabled off",
                                 *(a for c in commands for a in ("-ex", c)), "--args", str(PYTHON), "-c", "repr(1)"],
                                capture_output=True, text=True, timeout=60,
                                env={**os.environ, "LD_LIBRARY_PATH": str(folder)})
        sessions.append(without_pids(result.stdout))
    assert "PyObject_Repr (v=" in sessions[0] and "Objects/object.c" in sessions[0], sessions[0]
    assert sessions[1] == sessions[0]


def _patched(data: bytes, shoff_at: int, section: int, field: int, value: int) -> bytes:
    """``data`` with one 8-byte (or, at sh_link, 4-byte) field of a section header replaced."""
    out = bytearray(data)
    at = int.from_bytes(data[shoff_at:shoff_at + 8], "little") + 64 * section + field
    width = 4 if field == 40 else 8
    out[at:at + width] = value.to_bytes(width, "little")
    return bytes(out)


def test_hostile_input(tmp_path: Path) -> None:
    src = require_corpus() / "elf" / "shapes-gcc-O0-dwarf5.o"
    data = src.read_bytes()
    dwarf = own_dwarf(src)
    cases = {
        b"not an elf file at all": "not an ELF file",
        data[:40]: "ELF header at 0x0 is truncated",
        data[:len(data) - 100]: "section header table",
        _patched(data, 0x28, 1, 32, 1 << 40): r"section header 1 at 0x[0-9a-f]+: bytes 0x40\+0x10000000000 run past",
        _patched(data, 0x28, 1, 40, 999): "sh_link 999 is not a section",
        data[:4] + b"\x01" + data[5:]: "only ELF64 little-endian",
        data[:5] + b"\x02" + data[5 + 1:]: "only ELF64 little-endian",
    }
    for bad, message in cases.items():
        with pytest.raises(ContainerError, match=message):
            rewrite_bytes(bad, dwarf, path="bad.o")
    wrong = own_dwarf(src)
    relocations = wrong[".debug_info"].relocations
    victim = next(k for k, r in enumerate(relocations) if r.kind is RelocKind.ADDRESS)
    relocations[victim] = type(relocations[victim])(relocations[victim].offset, 8, relocations[victim].kind, "nowhere")
    with pytest.raises(ContainerError, match=rf"\.debug_info\+{relocations[victim].offset:#x}: address relocation "
                                             r"against unknown symbol 'nowhere'"):
        rewrite_bytes(data, wrong)
    out = tmp_path / "out.o"
    with pytest.raises(ContainerError):
        rewrite(src, out, wrong)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    linked = require_corpus() / "elf" / "shapes-gcc-x86_64"
    with pytest.raises(ContainerError, match="unknown symbol 'nowhere'"):
        rewrite_bytes(linked.read_bytes(), wrong)
    debug_out = tmp_path / "prog.debug"
    with pytest.raises(ContainerError, match="cannot write"):   # OUT cannot be written: no debug file either
        rewrite_separate(linked, tmp_path / "missing" / "prog", debug_out, own_dwarf(linked))
    assert not debug_out.exists()
    with pytest.raises(ContainerError, match="not for a relocatable object"):
        rewrite_separate(src, tmp_path / "a", tmp_path / "b", dwarf)
    with pytest.raises(DwarfkitError, match="compress must be"):
        rewrite_bytes(data, dwarf, compress="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["shapes-gcc-O0-dwarf5.o", "shapes-clang-O0-dwarf5.o", "shapes-gcc-x86_64"])
def test_corrupt_headers_give_container_errors(name: str) -> None:
    """Random bytes in the ELF header, the section headers, the symbol table, groups and code relocations: a
    DwarfkitError or a file, never another exception or a hang."""
    src = require_corpus() / "elf" / name
    data, dwarf = src.read_bytes(), own_dwarf(src)
    with open(src, "rb") as f:
        elf = ELFFile(f)
        regions = [(0, 64), (elf["e_shoff"], elf["e_shnum"] * 64)]
        regions += [(s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()
                    if s["sh_type"] in ("SHT_SYMTAB", "SHT_GROUP", "SHT_RELA") and not is_debug(s.name)]
    rnd = random.Random(15)
    for _ in range(300):
        start, size = rnd.choice(regions)
        mutated = bytearray(data)
        mutated[start + rnd.randrange(size)] = rnd.randrange(256)
        try:
            rewrite_bytes(bytes(mutated), dwarf)
        except DwarfkitError:
            pass
