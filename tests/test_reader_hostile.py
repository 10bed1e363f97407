"""Issue 13's eight causes of reader crashes, hangs and memory blow-ups, each with a hand-built hostile file.

Each file is the smallest ELF (tests/minimal_elf.py, written by hand, not by dwarfkit) that carries the hostile
structure. ``dwarfkit dump`` must answer with findings (exit 1, ``dwarfkit: FILE: ...`` lines naming section and
offset) or one ``dwarfkit: error:`` line (exit 2), ``verify`` with findings; always within a time and a memory
ceiling (the child runs under RLIMIT_AS), never with a traceback.
"""
from __future__ import annotations

import resource
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from dump_compare import REPO
from minimal_elf import write_elf

from dwarfkit.encoding import MAX_LEB128_BYTES, Leb128Error, decode_sleb128, decode_uleb128, uleb128
from dwarfkit.errors import ReadError
from dwarfkit.reader.container import inflate
from dwarfkit.reader.text import hex_addr

MEMORY_CEILING = 1 << 30  # address space of the child: far below what the unbounded readers used (3.2 GB)
DUMP_MODES = [[], ["-v"], ["--json"], ["--show-form"], ["--summary", "--lookup", "0x1000"]]


def run(*args: str, timeout: float = 60) -> tuple[int, str, str, float, int]:
    """(exit code, stdout, stderr, seconds, bytes of stdout) of ``python -m dwarfkit ARGS`` under the ceiling."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CEILING, MEMORY_CEILING))
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "dwarfkit", *args], capture_output=True, cwd=REPO, timeout=timeout,
                       preexec_fn=limit)
    seconds = time.monotonic() - start
    out = r.stdout.decode("utf-8", "replace")
    return r.returncode, out, r.stderr.decode("utf-8", "replace"), seconds, len(r.stdout)


def assert_clear(rc: int, stderr: str, *needles: str) -> None:
    """A finding (exit 1) or one error line (exit 2) (or with no needles, also no finding); no traceback; each
    needle in the messages."""
    assert "Traceback" not in stderr, stderr[-2000:]
    assert rc in (1, 2) or (rc == 0 and not needles), (rc, stderr[-2000:])
    lines = stderr.splitlines()
    if rc == 2:
        assert len(lines) == 1 and lines[0].startswith("dwarfkit: error:"), stderr
    assert all(line.startswith("dwarfkit: ") for line in lines), stderr
    for needle in needles:
        assert needle in stderr, (needle, stderr)


def every_mode(path: Path, *needles: str, seconds: float = 20, verify_says: tuple[str, ...] | None = None) -> None:
    for extra in DUMP_MODES:
        rc, _out, err, took, _n = run("dump", *extra, str(path))
        assert_clear(rc, err, *needles)
        assert took < seconds, (extra, took)
    rc, out, err, took, _n = run("verify", str(path))
    assert "Traceback" not in err and (rc == 1 or not needles) and not err, (rc, err)
    for needle in needles if verify_says is None else verify_says:
        assert needle in out, (needle, out[-2000:])
    assert took < seconds


# --- hand-encoded DWARF --------------------------------------------------------------------------------------------
def abbrev(code: int, tag: int, children: bool, attrs: list[tuple[int, int]], implicit: bytes = b"") -> bytes:
    out = uleb128(code) + uleb128(tag) + bytes((int(children),))
    for at, form in attrs:
        out += uleb128(at) + uleb128(form) + (implicit if form == 0x21 else b"")
    return out + b"\0\0"


def unit_v4(body: bytes, address_size: int = 8, abbrev_offset: int = 0) -> bytes:
    head = struct.pack("<HIB", 4, abbrev_offset, address_size)
    return struct.pack("<I", len(head) + len(body)) + head + body


CU = abbrev(1, 0x11, True, [(0x03, 0x08)])  # DW_TAG_compile_unit with DW_AT_name (string)


def elf(tmp_path: Path, name: str, sections: dict[str, bytes]) -> Path:
    return write_elf(tmp_path / name, sections)


def section_header(path: Path, name: str) -> int:
    """File offset of the ELF64 section header of ``name``."""
    data = path.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shnum, shstrndx = struct.unpack_from("<HH", data, 0x3c)
    strtab = struct.unpack_from("<Q", data, shoff + shstrndx * 64 + 24)[0]
    for i in range(shnum):
        h = shoff + i * 64
        n = struct.unpack_from("<I", data, h)[0]
        if data[strtab + n:data.index(b"\0", strtab + n)].decode() == name:
            return h
    raise AssertionError(name)


def patch(path: Path, pos: int, fmt: str, *values: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, pos, *values)
    path.write_bytes(bytes(data))


# --- (1) .debug_loc with address size 0 ------------------------------------------------------------------------------
def test_debug_loc_with_address_size_0_is_a_finding_not_an_endless_loop(tmp_path):
    table = CU + abbrev(2, 0x34, False, [(0x03, 0x08), (0x02, 0x17)]) + b"\0"  # variable, location sec_offset
    info = unit_v4(b"\x01a\0" + b"\x02v\0" + bytes(4) + b"\0", address_size=0)
    path = elf(tmp_path, "loc0.o", {".debug_abbrev": table, ".debug_info": info, ".debug_loc": bytes(64)})
    every_mode(path, "address size 0 is invalid", verify_says=(".debug_info[0x0]: address size 0 is invalid",))
    rc, _out, err, _t, _n = run("dump", "--debug-loc", str(path))
    assert_clear(rc, err, ".debug_loc[0x0]: address size 0 is invalid")


# --- (2) LEB128: linear, and bounded at 10 bytes ------------------------------------------------------------------
def test_leb128_of_ten_bytes_decodes_and_of_eleven_is_an_error_at_its_offset():
    ten = b"\x80" * 9 + b"\x01"
    assert decode_uleb128(b"xx" + ten, 2) == (1 << 63, 12)
    assert decode_sleb128(b"\xff" * 9 + b"\x7f", 0) == (-1, 10)
    for decode in (decode_uleb128, decode_sleb128):
        with pytest.raises(Leb128Error) as e:
            decode(b"xxx" + b"\x80" * MAX_LEB128_BYTES + b"\x00", 3)
        assert e.value.pos == 3 and "offset 0x3" in str(e.value) and isinstance(e.value, ReadError)


def test_a_megabyte_leb128_run_costs_no_time():
    run_ = b"\xff" * (1 << 20) + b"\x7f"
    start = time.perf_counter()
    for _ in range(100):
        with pytest.raises(Leb128Error):
            decode_uleb128(run_, 0)
    assert time.perf_counter() - start < 0.5  # it was 25 s for one


def test_megabyte_leb128_attribute_is_a_finding_at_its_offset(tmp_path):
    table = CU + abbrev(2, 0x24, False, [(0x03, 0x08), (0x0b, 0x0f)]) + b"\0"  # base_type, byte_size udata
    body = b"\x01a\0" + b"\x02int\0" + b"\xff" * (1 << 20) + b"\x7f" + b"\0"
    path = elf(tmp_path, "leb.o", {".debug_abbrev": table, ".debug_info": unit_v4(body)})
    # the value starts after the header (11), the CU DIE (3), the code and "int\0" (5)
    every_mode(path, ".debug_info[0x13]: in the DIE at 0xe: LEB128 at offset 0x13 is longer than 10 bytes")


# --- (3) integers of thousands of digits -----------------------------------------------------------------------------
def test_two_kilobyte_leb128_in_an_abbreviation_and_a_value_never_reach_a_printer(tmp_path):
    big = uleb128(1 << 14000)  # 2,001 bytes, 4,215+ digits beyond the 4,300-digit str() limit once doubled
    table = CU + abbrev(2, 0x34, False, [(0x03, 0x08), (0x1c, 0x0f), (0x88, 0x21)], implicit=big) + b"\0"
    body = b"\x01a\0" + b"\x02v\0" + big + b"\0"
    path = elf(tmp_path, "bigint.o", {".debug_abbrev": table, ".debug_info": unit_v4(body)})
    every_mode(path, "LEB128 at offset")


# --- (4) bytes where an integer belongs ------------------------------------------------------------------------------
def test_address_size_16_unit_is_reported_and_not_decoded(tmp_path):
    table = CU[:-2] + bytes((0x11, 0x01, 0x12, 0x01, 0, 0)) + b"\0"  # + low_pc, high_pc as addr
    body = b"\x01a\0" + bytes(range(16)) + bytes(range(16, 32)) + b"\0"
    path = elf(tmp_path, "addr16.o", {".debug_abbrev": table, ".debug_info": unit_v4(body, address_size=16)})
    every_mode(path, ".debug_info[0x0]: address size 16 is invalid")


def test_low_and_high_pc_as_blocks_and_data16_give_no_range_and_no_crash(tmp_path):
    # CU: low_pc exprloc, high_pc data16; subprogram: low_pc block1, high_pc exprloc; lexical block: data16/udata
    table = CU[:-2] + bytes((0x11, 0x18, 0x12, 0x1e, 0, 0)) + \
        abbrev(2, 0x2e, True, [(0x03, 0x08), (0x11, 0x0a), (0x12, 0x18)]) + \
        abbrev(3, 0x0b, False, [(0x11, 0x1e), (0x12, 0x0f)]) + b"\0"
    body = b"\x01a\0\x03\x01\x02\x03" + bytes(16) + b"\x02f\0\x02\xaa\xbb\x01\x00" + b"\x03" + bytes(16) + b"\x10" + \
        b"\0\0"
    path = elf(tmp_path, "pcblocks.o", {".debug_abbrev": table, ".debug_info": unit_v4(body)})
    for extra in DUMP_MODES:
        rc, out, err, _t, _n = run("dump", *extra, str(path))
        assert "Traceback" not in err and rc in (0, 1), (extra, rc, err)
    rc, out, err, _t, _n = run("dump", "--debug-info", str(path))
    assert "DW_AT_high_pc\t(00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00)" in out
    rc, out, err, _t, _n = run("verify", str(path))
    assert "Traceback" not in err and rc in (0, 1)
    assert hex_addr(b"\x01\x02", 8) == "<01 02>"


# --- (5) ELF sizes and offsets from the file -------------------------------------------------------------------------
@pytest.fixture
def plain(tmp_path) -> Path:
    table = CU + b"\0"
    return elf(tmp_path, "plain.o", {".debug_abbrev": table, ".debug_info": unit_v4(b"\x01a\0\0")})


@pytest.mark.parametrize("value", [1 << 63, (1 << 64) - 1, 1 << 32])
@pytest.mark.parametrize("field", [24, 32])  # sh_offset, sh_size
def test_elf_section_offset_or_size_past_the_file_is_a_finding(plain, value, field):
    patch(plain, section_header(plain, ".debug_info") + field, "<Q", value)
    rc, _out, err, _t, _n = run("dump", str(plain))
    assert_clear(rc, err, "ELF section .debug_info (header 2): offset 0x", "runs past the end of the file")
    rc, out, err, _t, _n = run("verify", str(plain))
    assert rc == 1 and "ELF section .debug_info (header 2)" in out and "Traceback" not in err


def test_elf_section_header_table_past_the_file_is_one_error_line(plain):
    patch(plain, 0x28, "<Q", 1 << 63)  # e_shoff
    rc, _out, err, _t, _n = run("dump", str(plain))
    assert_clear(rc, err, "ELF section header table at 0x8000000000000000", "runs past the end of the file")
    assert rc == 2


def test_truncated_section_headers_name_the_table_not_pyelftools_wording(plain):
    data = plain.read_bytes()
    plain.write_bytes(data[:-30])  # the last section header loses its tail
    rc, _out, err, _t, _n = run("dump", str(plain))
    assert rc == 2 and "expected" not in err and "found" not in err
    assert_clear(rc, err, "ELF section header table at 0x", "runs past the end of the file (0x")


def test_section_name_table_index_of_a_non_string_table_is_named(plain):
    patch(plain, 0x3e, "<H", 1)  # e_shstrndx -> .debug_abbrev
    rc, _out, err, _t, _n = run("dump", str(plain))
    assert rc == 2 and "String Table not found" not in err
    assert_clear(rc, err, "ELF section header 1 at 0x",
                 "(the section name table, e_shstrndx) has type 1, not SHT_STRTAB")


# --- (6) compressed sections ---------------------------------------------------------------------------------------
def compressed(tmp_path: Path, claimed: int, stream: bytes) -> Path:
    chdr = struct.pack("<IIQQ", 1, 0, claimed, 1)  # ELFCOMPRESS_ZLIB
    path = elf(tmp_path, "z.o", {".debug_abbrev": CU + b"\0", ".debug_info": chdr + stream})
    h = section_header(path, ".debug_info")
    patch(path, h + 8, "<Q", 0x800)  # SHF_COMPRESSED
    return path


def _zeros(n: int) -> bytes:
    c = zlib.compressobj(9)
    return b"".join(c.compress(bytes(16 << 20)) for _ in range(n >> 24)) + c.flush()


def test_compressed_section_claiming_more_than_the_limit_is_refused_before_inflating(tmp_path):
    path = compressed(tmp_path, 3 << 29, _zeros(64 << 20))  # claims 1.5 GiB
    rc, _out, err, took, _n = run("dump", str(path))
    assert_clear(rc, err, ".debug_info: compressed section claims 0x60000000 bytes, more than the limit of "
                          "0x4000000 (raise it with --max-section-size)")
    assert took < 20


def test_compressed_section_inflating_past_its_header_is_an_error_with_bounded_memory(tmp_path):
    path = compressed(tmp_path, 1 << 20, _zeros(256 << 20))  # says 1 MiB, holds 256 MiB
    rc, _out, err, took, _n = run("dump", "--debug-info", str(path))
    assert_clear(rc, err, ".debug_info: the zlib stream holds more than the 0x100000 bytes its header says")


def test_max_section_size_raises_and_lowers_the_limit(tmp_path):
    raw = unit_v4(b"\x01a\0\0") + bytes(200_000)
    path = compressed(tmp_path, len(raw), zlib.compress(raw))
    rc, out, err, _t, _n = run("dump", "--debug-info", str(path))
    assert "0x0000000b: DW_TAG_compile_unit" in out
    rc, out, err, _t, _n = run("dump", "--debug-info", "--max-section-size", "64K", str(path))
    assert_clear(rc, err, "more than the limit of 0x10000")
    rc, out, err, _t, _n = run("verify", "--max-section-size", "1M", str(path))
    assert "more than the limit" not in out
    with pytest.raises(ReadError, match="claims 0x100000001 bytes"):
        inflate(".debug_x", b"", (1 << 32) + 1, 1 << 32)


# --- (7) 100,000 nested DIEs -----------------------------------------------------------------------------------------
def nested(tmp_path: Path, n: int) -> Path:
    table = CU + abbrev(2, 0x0b, True, []) + b"\0"
    body = b"\x01a\0" + b"\x02" * n + b"\0" * (n + 1)
    return elf(tmp_path, f"nest{n}.o", {".debug_abbrev": table, ".debug_info": unit_v4(body)})


def test_deep_nesting_streams_linear_output(tmp_path):
    sizes = {}
    for n in (50_000, 100_000):
        path = nested(tmp_path, n)
        rc, _out, err, took, size = run("dump", "-v", "--debug-info", str(path))
        assert_clear(rc, err, "DIEs nest deeper than 256 levels")
        assert took < 60
        sizes[n] = size
    assert sizes[100_000] < 2.2 * sizes[50_000]  # linear, not quadratic
    assert sizes[100_000] < 1200 * 100_000  # each DIE and NULL at most 256 levels of indentation
    every_mode(nested(tmp_path, 100_000), seconds=60)


# --- (8) a chain of 5,000 subroutine types ---------------------------------------------------------------------------
@pytest.mark.parametrize("end", ["cycle", "zero"])
def test_long_chain_of_subroutine_types_is_quick(tmp_path, end):
    n = 5000
    table = CU + abbrev(2, 0x15, True, [(0x49, 0x13)]) + abbrev(3, 0x34, False, [(0x03, 0x08), (0x49, 0x13)]) + \
        abbrev(4, 0x05, False, [(0x49, 0x13)]) + b"\0"
    first = 11 + 3 + 7
    body = bytearray(b"\x01a\0" + b"\x03v\0" + first.to_bytes(4, "little"))
    for k in range(n):  # each: a subroutine type returning the next, with one parameter of the next type
        nxt = first + 11 * (k + 1) if k < n - 1 else (first if end == "cycle" else 0)
        body += b"\x02" + nxt.to_bytes(4, "little") + b"\x04" + nxt.to_bytes(4, "little") + b"\0"
    path = elf(tmp_path, "chain.o", {".debug_abbrev": table, ".debug_info": unit_v4(bytes(body + b"\0"))})
    for extra in DUMP_MODES + [["--name", "v"]]:
        rc, _out, err, took, _n = run("dump", *extra, str(path))
        assert "Traceback" not in err and rc in (0, 1), (extra, err[-2000:])
        assert took < 15, (extra, took)
    rc, _out, err, took, _n = run("verify", str(path))
    assert "Traceback" not in err and took < 15


def test_relocation_section_with_a_wrong_entry_size_is_named(plain):
    h = section_header(plain, ".debug_abbrev")
    patch(plain, h + 4, "<I", 4)  # SHT_RELA, with sh_entsize 0
    rc, _out, err, _t, _n = run("dump", str(plain))
    assert rc == 2 and "Expected sh_entsize" not in err
    assert_clear(rc, err, f"ELF section header 1 at 0x{h:x}: a relocation section with entry size sh_entsize 0, "
                          "not 24")


def test_relocations_linked_to_a_section_that_is_no_symbol_table_are_a_finding(tmp_path):
    from conftest import require_corpus
    path = tmp_path / "o.o"
    path.write_bytes((require_corpus() / "elf/shapes-gcc-O0-dwarf5.o").read_bytes())
    patch(path, section_header(path, ".rela.debug_info") + 40, "<I", 1)  # sh_link -> .text
    rc, _out, err, _t, _n = run("dump", "--debug-info", str(path))
    assert "num_symbols" not in err
    assert_clear(rc, err, ".rela.debug_info: sh_link 1 names .text of type SHT_PROGBITS, not a symbol table")


def corpus_copy(tmp_path: Path, name: str) -> Path:
    from conftest import require_corpus
    path = tmp_path / Path(name).name
    path.write_bytes((require_corpus() / name).read_bytes())
    return path


def test_ranges_given_as_a_block_is_a_finding(tmp_path):
    from dwarfkit.reader.container import open_debug_file
    path = corpus_copy(tmp_path, "elf/shapes-gcc-O2-dwarf5.o")
    df = open_debug_file(path)
    at = df.section("debug_abbrev").index(b"\x55\x17")  # DW_AT_ranges, DW_FORM_sec_offset
    patch(path, df.section_offsets["debug_abbrev"] + at + 1, "<B", 0x0a)  # -> DW_FORM_block1
    for extra in DUMP_MODES:
        rc, _out, err, _t, _n = run("dump", *extra, str(path))
        assert_clear(rc, err)
    rc, _out, err, _t, _n = run("dump", "--debug-info", str(path))
    assert_clear(rc, err, "a DW_AT_ranges value of form 0xa is not an offset")
    rc, out, err, _t, _n = run("verify", str(path))
    assert rc == 1 and "a DW_AT_ranges value of form 0xa is not an offset (from .debug_info" in out


def test_md5_in_a_form_other_than_data16_is_a_finding(tmp_path):
    from dwarfkit.reader.container import open_debug_file
    path = corpus_copy(tmp_path, "elf/shapes-clang-O0-dwarf5.o")
    df = open_debug_file(path)
    at = df.section("debug_line")[:80].index(b"\x05\x1e")  # DW_LNCT_MD5, DW_FORM_data16
    patch(path, df.section_offsets["debug_line"] + at + 1, "<B", 0x0b)  # -> DW_FORM_data1
    for extra in DUMP_MODES + [["--debug-line"]]:
        rc, _out, err, _t, _n = run("dump", *extra, str(path))
        assert_clear(rc, err)
    rc, _out, err, _t, _n = run("dump", "--debug-line", str(path))
    assert_clear(rc, err, ".debug_line[0x0]: DW_LNCT_MD5 in form 0xb is not 16 bytes")
    assert err.count("DW_LNCT_MD5") == 1  # each problem once, however often the table is read


@pytest.mark.parametrize("section, flag, data, needle", [
    (".gdb_index", "--gdb-index", struct.pack("<6I", 8, 24, 24, 24, 0x7FFFFFFF, 24), ".gdb_index[0x4]"),
    (".gdb_index", "--gdb-index", struct.pack("<6I2I", 8, 24, 24, 24, 24, 32, 0x10, 0xFFFF), ".gdb_index[0x18]"),
    (".apple_names", "--apple-names", b"HSAH" + struct.pack("<HHIIIII", 1, 0, 0xFFFFFF, 1, 12, 0, 1),
     ".apple_names[0x0]"),
    (".apple_names", "--apple-names",
     b"HSAH" + struct.pack("<HHIIIIIHHIII", 1, 0, 1, 1, 12, 0, 1, 1, 6, 0, 0, 0x4000), ".apple_names[0x28]"),
])
def test_hostile_accelerator_tables_are_findings(tmp_path, section, flag, data, needle):
    """A .gdb_index whose parts' offsets run past it or whose slot names a CU vector past it; an Apple table whose
    buckets do not fit or whose hash data lies past its end: findings at their offsets, no traceback."""
    path = elf(tmp_path, "accel.o", {".debug_abbrev": CU + b"\0", ".debug_info": unit_v4(b"\x01a\0"), section: data})
    rc, out, err, _took, _n = run("dump", flag, str(path))
    assert_clear(rc, err, needle)
