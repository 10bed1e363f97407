"""Hostile input to ``dwarfkit.load`` and ``dwarfkit convert``: what tools/fuzz_reader.py's ``load`` and ``convert``
modes found, each from the smallest change to a corpus file (or a hand-written ELF) that shows it, and models edited
into something invalid.

A malformed file gives one typed error naming section and offset (``.debug_info[0x..]``, ``section header N``),
never a traceback; ``convert`` exits 2 with one ``dwarfkit: error:`` line and leaves no OUT (nor a temporary file)
behind; an invalid edit of a loaded model is the writer's DescriptionError naming the DIE path.
"""
from __future__ import annotations

import resource
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_corpus
from dump_compare import REPO
from minimal_elf import write_elf

import dwarfkit
from dwarfkit.encoding import uleb128
from dwarfkit.errors import ContainerError, DescriptionError, ReadError
from dwarfkit.lists import LocationList
from dwarfkit.loading.dies import MAX_DEPTH
from dwarfkit.reader.container import open_debug_file


def corpus_copy(tmp_path: Path, name: str) -> Path:
    path = tmp_path / Path(name).name
    path.write_bytes((require_corpus() / name).read_bytes())
    return path


def patch(path: Path, pos: int, data: bytes) -> None:
    buf = bytearray(path.read_bytes())
    buf[pos:pos + len(data)] = data
    path.write_bytes(bytes(buf))


def section_header(path: Path, name: str) -> tuple[int, int]:
    """(index, file offset) of the ELF64 section header of ``name``."""
    data = path.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shnum, shstrndx = struct.unpack_from("<HH", data, 0x3c)
    strtab = struct.unpack_from("<Q", data, shoff + shstrndx * 64 + 24)[0]
    for i in range(shnum):
        h = shoff + i * 64
        n = struct.unpack_from("<I", data, h)[0]
        if data[strtab + n:data.index(b"\0", strtab + n)].decode() == name:
            return i, h
    raise AssertionError(name)


def convert_fails(tmp_path: Path, src: Path, *needles: str) -> str:
    """``dwarfkit convert SRC OUT`` exits 2 with one error line holding each needle, and leaves nothing behind."""
    out_dir = tmp_path / "out"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / ("converted" + src.suffix)
    def limit() -> None:   # a runaway conversion fails here instead of taking the machine's memory
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    r = subprocess.run([sys.executable, "-m", "dwarfkit", "convert", str(src), str(out)], capture_output=True,
                       text=True, cwd=REPO, timeout=120, preexec_fn=limit)
    lines = r.stderr.splitlines()
    assert r.returncode == 2, r.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("dwarfkit: error: "), r.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert list(out_dir.iterdir()) == []   # no OUT, no temporary file
    return lines[0]


# --- DIE trees deeper than the writer walks ---------------------------------------------------------------------------
def nested(tmp_path: Path, depth: int) -> Path:
    """A compile unit whose DIEs nest ``depth`` levels below it (hand-encoded, as tests/test_reader_hostile.py)."""
    def abbrev(code: int, tag: int, attrs: list[tuple[int, int]]) -> bytes:
        return uleb128(code) + uleb128(tag) + b"\1" + b"".join(uleb128(a) + uleb128(f) for a, f in attrs) + b"\0\0"
    table = abbrev(1, 0x11, [(0x03, 0x08)]) + abbrev(2, 0x0b, []) + b"\0"   # compile_unit "a"; lexical_block
    body = b"\x01a\0" + b"\x02" * depth + b"\0" * (depth + 1)
    head = struct.pack("<HIB", 4, 0, 8)
    info = struct.pack("<I", len(head) + len(body)) + head + body
    return write_elf(tmp_path / f"nest{depth}.o", {".debug_abbrev": table, ".debug_info": info})


def test_dies_nested_deeper_than_the_limit_are_one_error_naming_the_first_too_deep(tmp_path):
    dw = dwarfkit.load(nested(tmp_path, MAX_DEPTH))   # the deepest tree that loads also emits
    dw.emit()
    deep = nested(tmp_path, MAX_DEPTH + 1)
    # the root at 0xb, "a\0", then one byte per lexical block: the one at depth MAX_DEPTH + 1
    offset = 0xb + 3 + MAX_DEPTH
    with pytest.raises(ReadError, match=rf"\.debug_info\[0x{offset:x}\]: DIEs nested more than {MAX_DEPTH} deep"):
        dwarfkit.load(deep)
    convert_fails(tmp_path, deep, f".debug_info[0x{offset:x}]")


# --- values the writer cannot take ---------------------------------------------------------------------------------
def test_an_address_size_the_model_cannot_take_names_the_unit(tmp_path):
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf4.o")
    info = open_debug_file(path).section_offsets["debug_info"]
    patch(path, info + 10, b"\x02")   # DWARF 4 header: length, version, abbrev offset, then the address size
    with pytest.raises(ReadError, match=r"\.debug_info\[0x0\]: address size 2"):
        dwarfkit.load(path)


@pytest.mark.parametrize("name", ["macho/main-x86_64.o", "coff/shapes-mingw-O0-dwarf4.obj"])
def test_a_huge_address_in_an_object_wraps_as_its_field_does(tmp_path, name):
    """An 8-byte DW_FORM_addr field of 0x8080808080808080 in a Mach-O or COFF object (their addends are in the
    field): the relocation's addend is that value modulo 2**64 as a signed number (it overflowed the writer's
    addend table before), and it survives convert."""
    path = corpus_copy(tmp_path, name)
    df = open_debug_file(path)
    field, ref = min((k, v) for k, v in df.relocations["debug_info"].items() if v.kind == "address")
    before = dwarfkit.load(require_corpus() / name)
    low_pcs = [d for d in _walk(before.units[0].root) if d.get("low_pc") is not None]
    stored = int.from_bytes(path.read_bytes()[df.section_offsets["debug_info"] + field:][:8], "little")
    patch(path, df.section_offsets["debug_info"] + field, b"\x80" * 8)
    dw = dwarfkit.load(path)
    changed = [d.get("low_pc") for d in _walk(dw.units[0].root) if d.get("low_pc") is not None]
    moved = [(a, b) for a, b in zip([d.get("low_pc") for d in low_pcs], changed, strict=True) if a != b]
    assert len(moved) == 1
    old, new = moved[0]
    assert new.symbol == old.symbol == ref.symbol
    assert -(1 << 63) <= new.offset < 1 << 63
    assert (new.offset - old.offset - (0x8080808080808080 - stored)) % (1 << 64) == 0
    out = tmp_path / ("out" + path.suffix)
    dwarfkit.convert(path, out)
    again = [d.get("low_pc") for d in _walk(dwarfkit.load(out).units[0].root) if d.get("low_pc") is not None]
    assert again == changed


def test_a_location_list_error_names_the_die_whose_list_it_is(tmp_path):
    """A linked file's lists are decoded when first looked at or written (most are copied as they are); a list entry
    gone wrong (one LEB128 byte of .debug_loclists made a continuation byte, so that a later entry reads an address
    index past .debug_addr) is named by the offset of the DIE whose list it is, whether the entries are looked at
    or the file is converted, and the conversion writes nothing."""
    path = corpus_copy(tmp_path, "coff/shapes-mingw-O2-dwarf5.exe")
    patch(path, open_debug_file(path).section_offsets["debug_loclists"] + 0x7cf, b"\xff")
    message = r"\.debug_info\[0x[0-9a-f]+\]: address index \d+ is past the end of \.debug_addr"
    dw = dwarfkit.load(path)
    lists = [d.get("location") for u in dw.units for d in _walk(u.root) if isinstance(d.get("location"), LocationList)]
    with pytest.raises(ReadError, match=message):
        [len(lst.entries) for lst in lists]
    out = tmp_path / "out.exe"
    with pytest.raises(ReadError, match=message):
        dwarfkit.convert(path, out)
    assert not out.exists()


def _walk(die):
    yield die
    for child in die:
        yield from _walk(child)


# --- line programs: the writer's checks, named by the table's offset ------------------------------------------------
def test_a_line_program_that_goes_below_line_0_names_the_table_and_row(tmp_path):
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf4.o")
    line = open_debug_file(path).section_offsets["debug_line"]
    patch(path, line + 13, struct.pack("b", -128))   # DWARF 4 line_base: every special opcode now steps far down
    with pytest.raises(ReadError, match=r"\.debug_line\[0x0\]: row \d+: line -\d+ is negative"):
        dwarfkit.load(path)


def test_a_row_naming_a_file_the_table_lacks_names_the_table_and_row(tmp_path):
    path = corpus_copy(tmp_path, "coff/shapes-mingw-O0-dwarf5.obj")
    patch(path, open_debug_file(path).section_offsets["debug_line"] + 0xbe, b"\xff")   # a DW_LNS_set_file operand
    with pytest.raises(ReadError, match=r"\.debug_line\[0x0\]: row 26: file index 727 does not exist \(valid: "
                                        r"0\.\.2\)"):
        dwarfkit.load(path)


def test_a_minimum_instruction_length_of_0_names_the_table(tmp_path):
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf4.o")
    line = open_debug_file(path).section_offsets["debug_line"]
    patch(path, line + 10, b"\0")   # DWARF 4: length, version, header_length, then minimum_instruction_length
    with pytest.raises(ReadError, match=r"\.debug_line\[0x0\]: minimum_instruction_length 0 "):
        dwarfkit.load(path)


def test_a_directory_that_is_not_text_names_the_table(tmp_path):
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf4.o")
    df = open_debug_file(path)
    at = df.section("debug_line").index(b"/usr/")   # the first include directory, inline in a DWARF 4 header
    patch(path, df.section_offsets["debug_line"] + at + 1, b"\xff")
    with pytest.raises(ReadError, match=r"\.debug_line\[0x0\]: .*directory '/\\udcffsr/.* is not valid text"):
        dwarfkit.load(path)


# --- the container: structures the rewriter refuses, named; no OUT left ---------------------------------------------
def test_truncated_files_convert_to_one_error_and_no_output(tmp_path):
    for name in ("elf/shapes-gcc-O0-dwarf5.o", "elf/shapes-gcc-x86_64", "macho/shapes-x86_64.o",
                 "coff/shapes-mingw-O0-dwarf5.obj"):
        src = require_corpus() / name
        data = src.read_bytes()
        for size in (len(data) // 2, len(data) - 1):
            path = tmp_path / f"cut{size}{src.suffix}"
            path.write_bytes(data[:size])
            convert_fails(tmp_path, path, str(path))


def test_an_alignment_that_is_no_power_of_two_or_huge_is_refused_before_padding(tmp_path):
    for align in (0x6c2f14ba9a00339f, 1 << 40):
        path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf5.o")
        index, header = section_header(path, ".shstrtab")
        patch(path, header + 48, struct.pack("<Q", align))   # sh_addralign
        convert_fails(tmp_path, path, f"section header {index} at 0x{header:x}: sh_addralign 0x{align:x} is not a "
                                      f"power of two")


def test_a_32_bit_elf_file_is_named_as_the_file_not_as_its_dwarf(tmp_path):
    src = require_corpus() / "third_party/pyelftools/dwarf_gnuops4.so.elf"   # ELF32: it loads, it cannot be rewritten
    dwarfkit.load(src)
    convert_fails(tmp_path, src, f"{src}: ELF header at 0x0: only ELF64 little-endian files can be rewritten")


def test_an_address_relocation_against_symbol_0_is_the_addend_alone(tmp_path):
    """R_X86_64_64 against symbol 0 (STN_UNDEF): S is 0, the field's value is the addend; there is no symbol to
    name in the converted file (before, convert failed on an unknown symbol '')."""
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf5.o")
    _index, header = section_header(path, ".rela.debug_info")
    offset, size = struct.unpack_from("<QQ", path.read_bytes(), header + 24)
    data = path.read_bytes()
    rela = next(offset + k * 24 for k in range(size // 24)
                if struct.unpack_from("<Q", data, offset + k * 24 + 8)[0] & 0xffffffff == 1)   # R_X86_64_64
    _offset, _info, addend = struct.unpack_from("<QQq", data, rela)
    patch(path, rela + 8, struct.pack("<Q", 1))   # symbol 0, type R_X86_64_64
    dw = dwarfkit.load(path)
    absolute = [d for d in _walk(dw.units[0].root) if d.get("low_pc") == dwarfkit.Address(None, addend)]
    assert len(absolute) == 1
    out = tmp_path / "out.o"
    dwarfkit.convert(path, out)
    again = dwarfkit.load(out)
    assert [d.path() for d in _walk(again.units[0].root) if d.get("low_pc") == dwarfkit.Address(None, addend)] == \
        [absolute[0].path()]


def test_an_allocated_debug_section_is_named_by_its_header(tmp_path):
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf5.o")
    index, header = section_header(path, ".debug_line")
    patch(path, header + 8, struct.pack("<Q", 2))   # sh_flags SHF_ALLOC: the section stays, the new one collides
    convert_fails(tmp_path, path, f"section header {index}: the new .debug_line would share its name")


def test_a_section_pyelftools_cannot_make_is_named_by_its_header(tmp_path):
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf5.o")
    index, header = section_header(path, ".symtab")
    patch(path, header + 56, struct.pack("<Q", 7))   # sh_entsize 7: the size is no multiple of it
    with pytest.raises(ContainerError, match=rf"bad ELF file: section header {index}: "):
        dwarfkit.load(path)


def test_a_compression_header_pyelftools_cannot_read_is_named_by_its_section(tmp_path):
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O0-dwarf5.o")
    index, header = section_header(path, ".text")
    flags, = struct.unpack_from("<Q", path.read_bytes(), header + 8)
    patch(path, header + 8, struct.pack("<Q", flags | 0x800))   # SHF_COMPRESSED: the code is read as a header
    with pytest.raises(ContainerError, match=rf"bad ELF file: section header {index} \(\.text\): Unknown "
                                             rf"compression type"):
        dwarfkit.load(path)


def test_units_with_addresses_other_than_the_files_are_named_before_rewriting(tmp_path):
    path = corpus_copy(tmp_path, "elf/shapes-clang-O2-dwarf5.o")
    patch(path, open_debug_file(path).section_offsets["debug_info"] + 7, b"\4")   # DWARF 5 header: address size
    dwarfkit.load(path).emit()   # a model of 4-byte addresses is fine; an ELF64 file of them is not
    convert_fails(tmp_path, path, f"{path}: .debug_info[0x0]: the units have 4-byte addresses, the elf64-x86-64 "
                                  f"file 8-byte ones")


def test_a_macho_symbol_table_past_the_file_names_the_command_and_offsets(tmp_path):
    path = corpus_copy(tmp_path, "macho/shapes-arm64")
    data = path.read_bytes()
    ncmds, = struct.unpack_from("<I", data, 16)
    pos = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        if cmd == 2:   # LC_SYMTAB: symoff, nsyms, stroff, strsize
            break
        pos += size
    patch(path, pos + 16, struct.pack("<I", len(data)))   # the string table starts at the end of the file
    convert_fails(tmp_path, path, "LC_SYMTAB: symbol table at 0x", f"runs past the end of the file (0x{len(data):x})")


def test_a_macho_section_alignment_past_2_to_the_24_is_named_before_padding(tmp_path):
    path = corpus_copy(tmp_path, "macho/shapes-x86_64")
    at = path.read_bytes().index(b"__eh_frame\0")   # its section header in the __TEXT load command
    patch(path, at + 52, struct.pack("<I", 0xfffffffb))   # align (log2), after names, addr, size and offset
    convert_fails(tmp_path, path, "section __TEXT,__eh_frame has align 2**4294967291, more than 2**24")


# --- models edited into something invalid -----------------------------------------------------------------------
def test_invalid_edits_of_a_loaded_model_are_description_errors_naming_the_die():
    src = require_corpus() / "elf/shapes-gcc-O0-dwarf5.o"
    dw = dwarfkit.load(src)
    typedef = next(d for d in _walk(dw.units[0].root) if d.tag == 0x16 and d.name == "size_t")
    with pytest.raises(DescriptionError, match=r'^cu "src/shapes.c" / typedef "size_t" / attribute type: needs a '
                                               r'DIE'):
        typedef.set("type", 5)
        dw.emit()
    # a DIE taken out of the tree while a reference to it stays
    dw = dwarfkit.load(src)
    typedef = next(d for d in _walk(dw.units[0].root) if d.tag == 0x16 and d.name == "size_t")
    base = typedef.get("type")
    base.parent.children.remove(base)
    with pytest.raises(DescriptionError, match=r'^cu "src/shapes.c" / typedef "size_t" / attribute type: refers to '
                                               r'cu "src/shapes.c" / base_type "long unsigned int", which was never '
                                               r'emitted'):
        dw.emit()


def test_dropping_a_unit_others_refer_to_is_a_description_error():
    dw = dwarfkit.load(require_corpus() / "elf/shapes-gcc-x86_64")
    shapes = next(u for u in dw.units if u.root.name == "src/shapes.c")
    other = next(u for u in dw.units if u is not shapes and any(isinstance(d.get("type"), dwarfkit.Die)
                                                                  for d in _walk(u.root)))
    long_int = next(d for d in _walk(shapes.root) if d.tag == 0x24 and d.name == "long int")
    user = next(d for d in _walk(other.root) if isinstance(d.get("type"), dwarfkit.Die) and d.name)
    user.set("type", long_int)   # a reference across units (DW_FORM_ref_addr) ...
    dw.units.remove(shapes)      # ... to a unit that is then dropped
    with pytest.raises(DescriptionError, match=rf'^{_re(user.path())} / attribute type: refers to cu "src/shapes.c" '
                                               rf'/ base_type "long int", which was never emitted'):
        dw.emit()


def _re(text: str) -> str:
    import re
    return re.escape(text)
