"""Replacing the DWARF of clang's Mach-O objects and dsymutil's dSYMs (backends/macho_dsym/rewrite.py), and the
Mach-O reader's record of object relocations it relies on; judged by llvm-objdump-14, llvm-readobj-14,
llvm-dwarfdump-14, ld64.lld-14, dsymutil-14 and lldb-14 on the corpus files."""
from __future__ import annotations

import os
import random
import re
import shutil
import struct
from pathlib import Path

import debuggers
import pytest
from conftest import require_corpus
from macho_tools import run, verify

from dwarfkit import Address, Arch, ContainerError, DwarfBuilder, DwarfSections, Encoding, Expr, Section
from dwarfkit.backends.macho_dsym.rewrite import bundle_member, rewrite, rewrite_bytes
from dwarfkit.frame import CallFrames
from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.debugfile import SymbolRef
from dwarfkit.sections import Relocation, RelocKind

ARCHES = ["x86_64", "arm64"]
OBJECTS = ["main", "shapes", "freestanding"]
ARCH = {"x86_64": Arch.X86_64, "arm64": Arch.AARCH64}


def macho(name: str) -> Path:
    return require_corpus() / "macho" / name


def passthrough(path: Path) -> DwarfSections:
    """The file's own DWARF sections as the reader gives them, with its relocations as symbolic ones (not its
    accelerator tables: the rewriter must drop the file's own, which name the DWARF it replaces)."""
    debug = open_debug_file(path)
    dwarf = DwarfSections(Encoding(version=4))
    for name, data in debug.sections.items():
        if name.startswith("apple_"):
            continue
        relocations = []
        for offset, ref in debug.relocations.get(name, {}).items():
            assert ref.kind in ("address", "section"), ref
            if ref.kind == "section":
                relocations.append(Relocation(offset, 4, RelocKind.SECTION, "." + ref.symbol, ref.addend))
            else:
                relocations.append(Relocation(offset, 8, RelocKind.ADDRESS, ref.symbol, ref.addend))
        dwarf.add(Section("." + name, bytearray(data), relocations))
    return dwarf


def dump(option: str, path: Path) -> str:
    """llvm-dwarfdump-14's output without its first line (the file name)."""
    return run("llvm-dwarfdump-14", option, path).split("\n", 1)[1]


def objdump_relocations(path: Path) -> dict[str, list[str]]:
    """llvm-objdump-14 --macho -r, per section (its name as printed), the records as printed."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for line in run("llvm-objdump-14", "--macho", "-r", path).splitlines():
        if m := re.match(r"Relocation information \((\S+)\) \d+ entries", line):
            current = out.setdefault(m.group(1), [])
        elif re.match(r"[0-9a-f]{8} ", line):
            current.append(line)
    return out


def readobj_sections(path: Path) -> dict[str, str]:
    """llvm-readobj-14's sections outside __DWARF with their bytes, without where they are in the file (index,
    offset, relocation offset): what a rewrite keeps."""
    out = {}
    for block in run("llvm-readobj-14", "--sections", "--section-data", path).split("Section {")[1:]:
        block = block.split("\n  }")[0]
        segment = re.search(r"Segment: (\S+)", block)
        name = re.search(r"Name: (\S+)", block)
        assert segment and name
        if segment.group(1) != "__DWARF":
            out[f"{segment.group(1)},{name.group(1)}"] = re.sub(r"\n\s*(Index|Offset|RelocationOffset): .*", "",
                                                                  block)
    return out


# -- the reader ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHES)
def test_reader_records_every_debug_relocation_objdump_shows(arch: str) -> None:
    path = macho(f"shapes-{arch}.o")
    debug = open_debug_file(path)
    addresses = {}
    for line in run("llvm-objdump-14", "--macho", "-h", path).splitlines():
        if m := re.match(r"\s*\d+ (\S+)\s+([0-9a-f]+) ([0-9a-f]+)", line):
            addresses[m.group(1)] = int(m.group(3), 16)
    offsets = {}
    for line in run("llvm-objdump-14", "--macho", "--section-headers", "--private-headers", path).splitlines():
        if m := re.match(r"\s*sectname (\S+)", line):
            name = m.group(1)
        elif m := re.match(r"\s*offset (\d+)", line):
            offsets[name] = int(m.group(1))
    data = path.read_bytes()
    for section, records in objdump_relocations(path).items():
        if not section.startswith("__DWARF,"):
            continue
        sectname = section.split(",")[1]
        refs = debug.relocations[sectname.removeprefix("__")]
        assert len(refs) == len(records)
        for record in records:
            m = re.match(r"([0-9a-f]{8}) False (quad|\?\( 3\))\s+False  UNSIGND False\s+\d+ \((\S+)\)", record)
            assert m, record  # clang: section-based UNSIGNED records only
            offset, target = int(m.group(1), 16), m.group(3)
            ref = refs[offset]
            assert (ref.symbol, ref.kind) == (target, "address")
            in_place = struct.unpack_from("<Q", data, offsets[sectname] + offset)[0]
            assert addresses[target.split(",")[1]] + ref.addend == in_place


SUBTRACTOR_ASM = """
	.section	__TEXT,__text,regular,pure_instructions
	.globl	_f
	nop
_f:
	retq
	.section	__DWARF,__debug_frame,regular,debug
	.long	0
_here:
	.long	0
	.quad	_f - _here
	.quad	_f + 3
"""


def test_reader_records_a_subtractor_pair_as_pc_relative(tmp_path: Path) -> None:
    """``.quad _f - _here`` (a SUBTRACTOR/UNSIGNED pair, as llvm-objdump shows) is ``_f`` plus an addend minus the
    field's own address."""
    source, obj = tmp_path / "sub.s", tmp_path / "sub.o"
    source.write_text(SUBTRACTOR_ASM)
    run("clang-14", "-target", "x86_64-apple-macos11", "-c", source, "-o", obj)
    records = objdump_relocations(obj)["__DWARF,__debug_frame"]
    assert [r.split()[4] for r in records] == ["UNSIGND", "SUB", "UNSIGND"]
    symbols = {line.split()[-1]: int(line.split()[0], 16) for line in run("llvm-nm-14", obj).splitlines()}
    debug = open_debug_file(obj)
    frame = debug.addresses["debug_frame"]
    refs = debug.relocations["debug_frame"]
    assert refs[16] == SymbolRef("__TEXT,__text", symbols["_f"] + 3, "address")
    pcrel = refs[8]
    assert (pcrel.symbol, pcrel.kind) == ("_f", "pcrel")
    assert symbols["_f"] + pcrel.addend - (frame + 8) == symbols["_f"] - symbols["_here"]
    assert struct.unpack_from("<q", debug.sections["debug_frame"], 8)[0] == symbols["_f"] - symbols["_here"]
    # A symbol inside a debug section would lose its section: the rewrite refuses rather than misnumber it.
    with pytest.raises(ContainerError, match=r"symbol 0 \('_here'\) is defined in section 2, a debug section"):
        rewrite(obj, tmp_path / "out.o", DwarfSections(Encoding(version=4)))


# -- objects -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", OBJECTS)
@pytest.mark.parametrize("arch", ARCHES)
def test_object_passthrough_keeps_dwarf_and_everything_else(tmp_path: Path, arch: str, name: str) -> None:
    src, out = macho(f"{name}-{arch}.o"), tmp_path / f"{name}-{arch}.o"
    rewrite(src, out, passthrough(src))
    for option in ("--debug-info", "--debug-line"):
        assert dump(option, out) == dump(option, src)
    verify(out)
    assert objdump_relocations(out) == objdump_relocations(src)
    assert readobj_sections(out) == readobj_sections(src)
    assert run("llvm-nm-14", "-a", "-m", out) .replace(str(out), "") == run("llvm-nm-14", "-a", "-m", src).replace(
        str(src), "")
    # The stale accelerator tables went with the old DWARF; the debug sections came back.
    sections = run("llvm-objdump-14", "--macho", "-h", out)
    assert "__apple_names" not in sections and "__debug_info" in sections


CXX = "void f();\nint g() { try { f(); } catch (...) { return 1; } return 0; }\n"


@pytest.mark.parametrize("arch", ARCHES)
def test_cxx_object_with_exception_tables_passes_through(tmp_path: Path, arch: str) -> None:
    """clang++'s __gcc_except_tab, a personality in __compact_unwind and a GOT record in __eh_frame all stay."""
    source, src, out = tmp_path / "eh.cpp", tmp_path / "eh.o", tmp_path / "out.o"
    source.write_text(CXX)
    run("clang-14", "-target", f"{arch}-apple-macos11", "-g", "-O1", "-c", source, "-o", src)
    assert "___gxx_personality_v0" in str(objdump_relocations(src))
    rewrite(src, out, passthrough(src))
    for option in ("--debug-info", "--debug-line"):
        assert dump(option, out) == dump(option, src)
    verify(out)
    assert objdump_relocations(out) == objdump_relocations(src)
    assert readobj_sections(out) == readobj_sections(src)


def link(folder: Path, arch: str, objects: list[Path]) -> tuple[Path, Path]:
    """ld64.lld-14 as the corpus links, the debug map relative to ``folder``; then dsymutil-14. The objects' times
    are fixed: the debug map records them."""
    for obj in objects:
        shutil.copy(obj, folder / obj.name)
        os.utime(folder / obj.name, (1_700_000_000, 1_700_000_000))
    program = folder / "prog"
    run("ld64.lld-14", "-arch", arch, "-platform_version", "macos", "11.0", "11.0", "-e", "_main", "-oso_prefix",
        f"{folder}/", "-o", program, *(folder / o.name for o in objects))
    bundle = folder / "prog.dSYM"
    out = run("dsymutil-14", "--oso-prepend-path", folder, program, "-o", bundle)
    assert "warning" not in out, out
    return program, bundle


@pytest.mark.parametrize("arch", ARCHES)
def test_rewritten_objects_link_and_dsymutil_reads_them(tmp_path: Path, arch: str) -> None:
    originals = [macho(f"{name}-{arch}.o") for name in OBJECTS]
    rewritten = []
    for obj in originals:
        rewritten.append(tmp_path / obj.name)
        rewrite(obj, rewritten[-1], passthrough(obj))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    theirs = link(tmp_path / "a", arch, originals)
    ours = link(tmp_path / "b", arch, rewritten)
    assert ours[0].read_bytes() == theirs[0].read_bytes()  # same code, data, symbols and debug map
    for option in ("--debug-info", "--debug-line"):
        assert dump(option, ours[1]) == dump(option, theirs[1])


def handmade(arch: str, functions: dict[str, str]) -> DwarfSections:
    """A unit ``hand.c`` (and a ``.debug_frame`` FDE for ``hand_fib``) naming functions of shapes.c by the given
    symbol names, a variable at ``_table`` (spelled ``table``: the writers' source-level name), one at an offset in
    ``__DATA,__data`` (``ratio``, 0.5 in shapes.c), and line rows."""
    dw = DwarfBuilder(Encoding(version=4, address_size=8))
    cu = dw.compile_unit("hand.c", comp_dir="/hand", producer="dwarfkit tests", language="C99",
                         low_pc=0, ranges=[(Address(symbol), 16) for symbol in functions.values()])
    int_t = cu.base_type("int", 4, "signed")
    cu.die("variable", name="hand_table", type=int_t, location=Expr().addr(Address("table")))
    double_t = cu.base_type("double", 8, "float")
    cu.die("variable", name="hand_ratio", type=double_t, location=Expr().addr(Address("__DATA,__data", 0x30)))
    for line, (name, symbol) in enumerate(functions.items(), start=1):
        cu.die("subprogram", name=name, type=int_t, low_pc=Address(symbol), high_pc=16, external=True,
               decl_file=cu.file("hand.c"), decl_line=100 * line)
        seq = cu.line.sequence(Address(symbol))
        seq.row(0, 100 * line)
        seq.row(4, 100 * line + 1)
        seq.end(16)
    dwarf = dw.emit()
    frames = CallFrames(ARCH[arch], dw.encoding)
    fde = frames.fde(None, Address(functions["hand_fib"]), 16)
    fde.advance_to(4)
    fde.def_cfa_offset(16)
    dwarf.add(frames.debug_frame())
    return dwarf


@pytest.mark.parametrize("start", ["clang -g", "clang without -g"])
@pytest.mark.parametrize("arch", ARCHES)
def test_handmade_dwarf_into_an_object_links_and_reads_in_lldb(tmp_path: Path, arch: str, start: str) -> None:
    """Over clang's DWARF, or into an object that had none (the debug sections are added after the others)."""
    src, obj = macho(f"shapes-{arch}.o"), tmp_path / "shapes.o"
    if start == "clang without -g":
        src = tmp_path / "nodebug.o"
        run("clang-14", "-target", f"{arch}-apple-macos11", "-O0", "-c", require_corpus() / "src" / "shapes.c", "-o",
            src)
        assert "__DWARF" not in run("llvm-readobj-14", "--sections", src)
    rewrite(src, obj, handmade(arch, {"hand_fib": "_fib", "hand_run": "_run"}))
    verify(obj)
    records = objdump_relocations(obj)["__DWARF,__debug_info"]
    targets = sorted(re.sub(r".*\((\S+)\)$", r"\1", r) for r in records)
    assert targets == ["__DATA,__data"] * 2 + ["__TEXT,__text"] * 2  # two variables, two functions' low_pc
    ranges = objdump_relocations(obj)["__DWARF,__debug_ranges"]
    # The unit's low_pc is 0, so each range's start and end are addresses, relocated (as clang writes DWARF 4).
    assert len(ranges) == 4 and all(r.endswith("1 (__TEXT,__text)") for r in ranges)
    frame = objdump_relocations(obj)["__DWARF,__debug_frame"]
    assert len(frame) == 1 and frame[0].endswith("1 (__TEXT,__text)")  # the FDE's start; its CIE pointer has none
    info = dump("--debug-info", obj)
    assert 'DW_AT_name\t("hand_fib")' in info
    (tmp_path / "link").mkdir()
    program, bundle = link(tmp_path / "link", arch, [macho(f"main-{arch}.o"), obj, macho(f"freestanding-{arch}.o")])
    verify(bundle)
    fib = int(re.search(r"([0-9a-f]+) T _fib", run("llvm-nm-14", program)).group(1), 16)  # type: ignore[union-attr]
    out = debuggers.lldb(program, [f"target symbols add {bundle_member(bundle)}", "image lookup -v -n hand_fib",
                                   "breakpoint set -n hand_fib", "target variable hand_table hand_ratio"])
    assert f'name = "hand_fib", range = [{fib:#018x}-{fib + 16:#018x})' in out, out
    assert 'file = "/hand/hand.c", language = "c99"' in out
    assert "(int) hand_table = 1\n" in out and "(double) hand_ratio = 0.5\n" in out  # as shapes.c sets them
    # The FDE: at _fib's address in the object; dsymutil-14 keeps the low 32 bits of its start in the dSYM.
    in_object = int(re.search(r"([0-9a-f]+) T _fib", run("llvm-nm-14", obj)).group(1), 16)  # type: ignore[union-attr]
    assert f"FDE cie=00000000 pc={in_object:08x}...{in_object + 16:08x}" in dump("--debug-frame", obj)
    low = fib & 0xFFFFFFFF
    assert f"FDE cie=00000000 pc={low:08x}...{low + 16:08x}" in dump("--debug-frame", bundle)
    assert re.search(rf"Breakpoint 1: where = prog`hand_fib \+ 4 at hand.c:101, address = {fib + 4:#018x}", out), out


def test_object_relocations_name_unknown_symbols_and_kinds(tmp_path: Path) -> None:
    original = macho("shapes-x86_64.o").read_bytes()
    for relocation, message in [
        (Relocation(0, 8, RelocKind.ADDRESS, "_nowhere"), r"'_nowhere' at __debug_info\+0x0: .*neither a symbol nor"),
        (Relocation(0, 8, RelocKind.PCREL, "_fib"), "pcrel relocation"),
        (Relocation(0, 8, RelocKind.TLS_OFFSET, "_fib"), "tls_offset relocation"),
        (Relocation(0, 2, RelocKind.ADDRESS, "_fib"), "4 or 8 bytes, not 2"),
        (Relocation(0, 4, RelocKind.SECTION, ".debug_str"), r"\.debug_info\+0x0 is an offset into \.debug_str, which"),
    ]:
        dwarf = DwarfSections(Encoding(version=4))
        dwarf.add(Section(".debug_info", bytearray(8), [relocation]))
        with pytest.raises(ContainerError, match=message):
            rewrite_bytes(original, dwarf, path="shapes.o")
    with pytest.raises(ContainerError, match="not compressed"):
        rewrite_bytes(original, DwarfSections(Encoding(version=4)), compress=True)
    with pytest.raises(ContainerError, match="must be DwarfSections, not dict"):
        rewrite_bytes(original, {}, path="shapes.o")  # type: ignore[arg-type]
    with pytest.raises(ContainerError, match="input must be bytes, not str"):
        rewrite_bytes("shapes.o", DwarfSections(Encoding(version=4)))  # type: ignore[arg-type]
    with pytest.raises(ContainerError, match="DWARF with 4-byte little-endian addresses does not fit x86_64"):
        rewrite_bytes(original, DwarfSections(Encoding(version=4, address_size=4)))
    with pytest.raises(ContainerError, match="cannot read"):
        rewrite(tmp_path / "missing.o", tmp_path / "out.o", DwarfSections(Encoding(version=4)))


def test_undefined_symbol_becomes_an_extern_record(tmp_path: Path) -> None:
    dwarf = DwarfSections(Encoding(version=4))
    dwarf.add(Section(".debug_info", bytearray(16), [Relocation(8, 8, RelocKind.ADDRESS, "_memset", 4)]))
    out = tmp_path / "out.o"
    out.write_bytes(rewrite_bytes(macho("shapes-x86_64.o").read_bytes(), dwarf))
    assert objdump_relocations(out)["__DWARF,__debug_info"] == [
        "00000008 False quad   True   UNSIGND False     _memset"]
    section = run("llvm-objdump-14", "-s", "--section=__debug_info", out)
    assert " 00000000 00000000 04000000 00000000 " in section  # the addend, for the linker to add to


# -- dSYMs and executables ---------------------------------------------------------------------------------------------

def lldb_lookup(program: Path, dwarf_file: Path) -> str:
    out = debuggers.lldb(program, [f"target symbols add {dwarf_file}", "image lookup -v -n main",
                                   "breakpoint set -n area", "image lookup -v -n fib"])
    return out.replace(str(dwarf_file), "DWARF")


@pytest.mark.parametrize("arch", ARCHES)
def test_dsym_passthrough_reads_the_same(tmp_path: Path, arch: str) -> None:
    src, out = macho(f"shapes-{arch}.dSYM"), tmp_path / "copy.dSYM"
    dwarf = passthrough(bundle_member(src))
    rewrite(src, out, dwarf)
    member = bundle_member(out)
    assert member.name == f"shapes-{arch}"
    assert (out / "Contents" / "Info.plist").read_bytes() == (src / "Contents" / "Info.plist").read_bytes()
    for option in ("--debug-info", "--debug-line", "--uuid"):
        assert dump(option, out) == dump(option, src)
    verify(member)
    ours = lldb_lookup(macho(f"shapes-{arch}"), member)
    assert "main at main.c:3" in ours and "Breakpoint 1: where = shapes-" in ours
    assert ours == lldb_lookup(macho(f"shapes-{arch}"), bundle_member(src))
    # The DWARF file alone, too.
    single = tmp_path / "single"
    rewrite(bundle_member(src), single, dwarf)
    assert single.read_bytes() == member.read_bytes()


@pytest.mark.parametrize("arch", ARCHES)
def test_dsym_takes_dwarf_naming_symbols(tmp_path: Path, arch: str) -> None:
    """Symbolic addresses in a dSYM resolve through its own symbol table (``fib`` finds ``_fib``)."""
    src, out = macho(f"shapes-{arch}.dSYM"), tmp_path / "hand.dSYM"
    dwarf = handmade(arch, {"hand_fib": "fib", "hand_run": "_run"})
    frames = CallFrames(ARCH[arch], dwarf.encoding)
    frames.fde(None, Address("nowhere"), 16)
    dwarf.add(frames.eh_frame())  # ignored: the runtime's __eh_frame stays as it is
    rewrite(src, out, dwarf)
    eh_frame = "__TEXT,__eh_frame"  # x86_64 only: arm64 unwinds with __unwind_info
    assert readobj_sections(bundle_member(out)).get(eh_frame) == readobj_sections(bundle_member(src)).get(eh_frame)
    assert run("llvm-readobj-14", "--sections", bundle_member(out)).count("Name: __eh_frame") == \
        run("llvm-readobj-14", "--sections", bundle_member(src)).count("Name: __eh_frame")
    verify(bundle_member(out))
    program = macho(f"shapes-{arch}")
    fib = int(re.search(r"([0-9a-f]+) T _fib", run("llvm-nm-14", program)).group(1), 16)  # type: ignore[union-attr]
    out_text = debuggers.lldb(program, [f"target symbols add {bundle_member(out)}", "breakpoint set -n hand_fib"])
    assert re.search(rf"where = shapes-{arch}`hand_fib \+ 4 at hand.c:101, address = {fib + 4:#018x}", out_text), \
        out_text


def test_executable_gets_its_dwarf_as_a_dsym_beside_it(tmp_path: Path) -> None:
    src, out = macho("shapes-x86_64"), tmp_path / "prog"
    dwarf = passthrough(bundle_member(macho("shapes-x86_64.dSYM")))
    with pytest.raises(ContainerError, match="holds no DWARF .* dSYM"):
        rewrite_bytes(src.read_bytes(), dwarf, path=str(src))
    rewrite(src, out, dwarf)
    assert out.read_bytes() == src.read_bytes()
    bundle = tmp_path / "prog.dSYM"
    assert dump("--debug-info", bundle) == dump("--debug-info", macho("shapes-x86_64.dSYM"))
    assert "main at main.c:3" in lldb_lookup(out, bundle_member(bundle))


# -- hostile input -----------------------------------------------------------------------------------------------------

def hostile_input(name: str) -> bytes:
    obj = macho("shapes-x86_64.o").read_bytes()
    damaged = bytearray(obj)
    if name == "nsects":
        struct.pack_into("<I", damaged, 32 + 64, 200)  # the segment claims 200 sections
    elif name == "reloff":
        struct.pack_into("<I", damaged, 32 + 72 + 56, 0x7FFFFFF0)  # __text's relocations far past the end
    elif name == "symoff":
        symtab = obj.index(struct.pack("<II", 2, 24))  # LC_SYMTAB
        struct.pack_into("<I", damaged, symtab + 8, len(obj) - 8)
    elif name == "fat":
        fat = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">5I", 0x01000007, 3, 0x1000, len(obj), 12)
        return fat + bytes(0x1000 - len(fat)) + obj
    else:
        return {"empty": b"", "garbage": b"\x7fELF" + bytes(60), "truncated": obj[:len(obj) // 2],
                "header only": obj[:40]}[name]
    return bytes(damaged)


@pytest.mark.parametrize("name", ["empty", "garbage", "truncated", "header only", "nsects", "reloff", "symoff",
                                  "fat"])
def test_hostile_input_is_one_container_error(tmp_path: Path, name: str) -> None:
    src, out = tmp_path / "in.o", tmp_path / "out.o"
    src.write_bytes(hostile_input(name))
    with pytest.raises(ContainerError) as caught:
        rewrite(src, out, passthrough(macho("shapes-x86_64.o")))
    assert str(src) in str(caught.value)
    assert not out.exists()


@pytest.mark.parametrize("name", ["shapes-x86_64.o", "main-arm64.o",
                                  "shapes-arm64.dSYM/Contents/Resources/DWARF/shapes-arm64"])
def test_damaged_headers_never_crash(name: str) -> None:
    """A few bytes of the header and load commands changed at random (seeded): a rewrite or a ContainerError."""
    original = macho(name).read_bytes()
    dwarf = passthrough(macho(name))
    rng = random.Random(15)
    refused = 0
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(min(len(data), 2000))] = rng.randrange(256)
        try:
            rewrite_bytes(bytes(data), dwarf, path="damaged")
        except ContainerError as e:
            assert str(e).startswith("damaged: ")
            refused += 1
    assert refused > 50  # most damage is noticed


def test_dsym_whose_commands_outgrow_their_page_moves_whole_pages(tmp_path: Path) -> None:
    """45 more sections than dsymutil's page of load commands holds: everything after the commands moves by a
    page, keeping its bytes (the copied __eh_frame, the symbol table) and lldb still reads the file."""
    src, out = macho("shapes-x86_64.dSYM"), tmp_path / "many.dSYM"
    dwarf = passthrough(bundle_member(src))
    for i in range(45):
        dwarf.add(Section(f".extra_{i:02d}", bytearray(b"x" * (i + 1))))
    rewrite(src, out, dwarf)
    member = bundle_member(out)
    header = struct.unpack_from("<5I", member.read_bytes(), 4)
    assert 32 + header[4] > 0x1000  # sizeofcmds: past the page dsymutil's first piece starts at
    assert dump("--debug-info", out) == dump("--debug-info", src)
    verify(member)
    for option in (["-s", "--section=__eh_frame"], ["-t"]):
        assert run("llvm-objdump-14", *option, member).split("\n", 2)[2] == \
            run("llvm-objdump-14", *option, bundle_member(src)).split("\n", 2)[2]
    assert "extra_44" in run("llvm-objdump-14", "--macho", "-h", member)
    assert lldb_lookup(macho("shapes-x86_64"), member) == lldb_lookup(macho("shapes-x86_64"), bundle_member(src))
