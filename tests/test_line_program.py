"""Line programs round-trip through pyelftools and llvm-dwarfdump, over versions, formats and address sizes."""
from __future__ import annotations

import subprocess

import pytest
from conftest import require_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from line_oracle import expected_rows, line_sections, llvm_rows, llvm_verify, program_elf, pyelftools_rows

from dwarfkit import Address, DescriptionError, Encoding
from dwarfkit.line import LineProgram

ENCODINGS = [Encoding(v, o, a) for v in (2, 3, 4, 5) for o in (4, 8) for a in (4, 8) if not (v == 2 and o == 8)]
IDS = [f"v{e.version}-{'dwarf64' if e.is_dwarf64 else 'dwarf32'}-addr{e.address_size}" for e in ENCODINGS]


def sample_program(enc: Encoding) -> LineProgram:
    md5 = enc.version >= 5
    p = LineProgram(enc, comp_dir="/home/u/proj", name="main.c", md5=bytes(range(16)) if md5 else None)
    inc = p.add_directory("/usr/include")
    stdio = p.add_file("stdio.h", inc, md5=bytes(range(16, 32)) if md5 else None)
    util = p.add_file("util.h", p.add_directory("include"), md5=b"\xff" * 16 if md5 else None)
    main = p.sequence("main")
    main.row(0, 3)
    main.row(4, 4, column=7, prologue_end=True)
    main.row(9, 2, column=3, file=stdio, basic_block=True)           # line goes back
    main.row(9, 900, file=util, discriminator=5)                     # same address, big line jump
    main.row(0x120, 901, is_stmt=False, isa=2)                       # const_add_pc range
    main.row(0x6000, 905, epilogue_begin=True)                       # fixed_advance_pc range
    main.row(0x106000, 1)                                            # advance_pc with a 3-byte operand
    main.end(0x106010)
    helper = p.sequence(0x400000)
    helper.row(0, 0)                                                 # line 0: no source
    helper.row(17, 20)
    helper.end(17)                                                   # ends on its last row
    return p


@pytest.mark.parametrize("enc", ENCODINGS, ids=IDS)
def test_rows_round_trip_pyelftools_and_llvm(tmp_path, enc):
    llvm = require_tool("llvm-dwarfdump-14")
    p = sample_program(enc)
    symbols = {"main": 0x1000}
    path = program_elf(tmp_path / "line.o", p, symbols)
    want = expected_rows(p, symbols)
    assert pyelftools_rows(path) == want
    assert llvm_rows(llvm, path) == expected_rows(p, symbols, reader="llvm")
    llvm_verify(llvm, path)


@pytest.mark.parametrize("enc", ENCODINGS, ids=IDS)
def test_file_and_directory_tables(tmp_path, enc):
    p = sample_program(enc)
    path = program_elf(tmp_path / "line.o", p, {"main": 0})
    from minimal_elf import open_dwarf
    dwarf = open_dwarf(path)
    lp = dwarf.line_program_for_CU(next(dwarf.iter_CUs()))
    header = lp.header
    names = [e.name.decode() for e in header.file_entry]
    dirs = [d.decode() if isinstance(d, bytes) else d for d in header.include_directory]
    if enc.version >= 5:
        assert names == ["main.c", "main.c", "stdio.h", "util.h"]
        assert dirs == ["/home/u/proj", "/usr/include", "include"]
        assert [e.dir_index for e in header.file_entry] == [0, 0, 1, 2]
        assert bytes(header.file_names[2].DW_LNCT_MD5) == bytes(range(16, 32))
        assert header.address_size == enc.address_size
    else:
        assert names == ["main.c", "stdio.h", "util.h"]
        assert dirs == ["/usr/include", "include"]
        assert [e.dir_index for e in header.file_entry] == [0, 1, 2]
    assert header.version == enc.version
    assert header.minimum_instruction_length == 1


@pytest.mark.parametrize("enc", [e for e in ENCODINGS if e.version >= 5],
                         ids=[i for e, i in zip(ENCODINGS, IDS, strict=True) if e.version >= 5])
def test_v5_paths_inline_without_line_str(tmp_path, enc):
    """``emit`` without a .debug_line_str table: DW_LNCT_path as DW_FORM_string, read the same by both readers."""
    llvm = require_tool("llvm-dwarfdump-14")
    p = sample_program(enc)
    sections, _ = line_sections(p, line_strings=False)
    assert ".debug_line_str" not in sections
    path = program_elf(tmp_path / "line.o", p, {"main": 0x1000}, line_strings=False)
    assert pyelftools_rows(path) == expected_rows(p, {"main": 0x1000})
    from minimal_elf import open_dwarf
    header = open_dwarf(path).line_program_for_CU(next(open_dwarf(path).iter_CUs())).header
    assert [e.name.decode() for e in header.file_entry] == ["main.c", "main.c", "stdio.h", "util.h"]
    assert [d.decode() for d in header.include_directory] == ["/home/u/proj", "/usr/include", "include"]
    out = subprocess.run([llvm, "--debug-line", str(path)], capture_output=True, text=True, check=True).stdout
    assert 'name: "stdio.h"' in out and 'include_directories[  1] = "/usr/include"' in out
    llvm_verify(llvm, path)


def test_indices_are_stable_and_deduplicated():
    p = LineProgram(Encoding(5), comp_dir="/c", name="a.c")
    assert p.primary_file == 1
    assert p.add_file("a.c") == 1
    assert p.add_directory("/c") == 0
    d = p.add_directory("/x")
    assert p.add_directory("/x") == d == 1
    f = p.add_file("b.h", d)
    assert p.add_file("b.h", d) == f == 2
    assert p.add_file("b.h") == 3  # another directory, another file
    v4 = LineProgram(Encoding(4), comp_dir="/c", name="a.c")
    assert v4.add_file("b.h", v4.add_directory("/x")) == 2


def test_aarch64_minimum_instruction_length_makes_smaller_tables(tmp_path):
    llvm = require_tool("llvm-dwarfdump-14")
    enc = Encoding(4)
    sizes = {}
    for min_len in (1, 4):
        p = LineProgram(enc, comp_dir="/c", name="a.c", min_instruction_length=min_len)
        s = p.sequence(0x10000)
        for i in range(200):
            s.row(i * 32, 1 + i)  # 8 aarch64 instructions per line
        s.end(200 * 32)
        sections, _ = line_sections(p)
        sizes[min_len] = len(sections[".debug_line"].data)
        path = program_elf(tmp_path / f"a{min_len}.o", p)
        assert pyelftools_rows(path) == expected_rows(p)
        assert llvm_rows(llvm, path) == expected_rows(p, reader="llvm")
        llvm_verify(llvm, path)
    # Special opcodes reach 4 instructions only with min_instruction_length 4: one byte per row instead of two.
    assert sizes[4] + 150 < sizes[1]


def test_smallest_opcodes():
    """Every row of a dense table is one special opcode; const_add_pc and fixed_advance_pc cover the mid range."""
    enc = Encoding(4)
    p = LineProgram(enc, comp_dir="/c", name="a.c")
    header = len(line_sections(p)[0][".debug_line"].data)
    s = p.sequence(0)
    for i in range(1000):
        s.row(i * 3, 1 + i % 6)
    s.end(3000)
    set_address, advance_pc, end_sequence = 3 + 8, 2, 3
    assert len(line_sections(p)[0][".debug_line"].data) == header + set_address + 1000 + advance_pc + end_sequence
    # 20 bytes forward: const_add_pc (17) + a special opcode.
    q = LineProgram(enc, comp_dir="/c", name="a.c")
    s = q.sequence(0)
    s.row(20, 2)
    s.end(20)
    assert line_sections(q)[0][".debug_line"].data[-5:-3] == bytes((8, 13 + 6 + 14 * 3))
    # 40000 bytes forward: fixed_advance_pc (3 bytes) beats advance_pc (a 3-byte ULEB128 + opcode).
    r = LineProgram(enc, comp_dir="/c", name="a.c")
    s = r.sequence(0)
    s.row(0, 1)
    s.row(40000, 1)
    s.end(40000)
    data = line_sections(r)[0][".debug_line"].data
    assert data[-7] == 9 and int.from_bytes(data[-6:-4], "little") == 40000 - 16


@pytest.mark.parametrize("line_base,line_range,opcode_base", [(-5, 14, 13), (-3, 12, 10), (1, 4, 13), (-10, 1, 255)])
def test_header_parameters(tmp_path, line_base, line_range, opcode_base):
    llvm = require_tool("llvm-dwarfdump-14")
    p = LineProgram(Encoding(3), comp_dir="/c", name="a.c", line_base=line_base, line_range=line_range,
                    opcode_base=opcode_base, default_is_stmt=False)
    s = p.sequence(0x1000)
    for i, (a, line) in enumerate([(0, 1), (1, 1), (5, 0), (5, 7), (300, 3), (301, 40000), (70000, 2)]):
        s.row(a, line, is_stmt=bool(i % 2))
    s.end(70001)
    path = program_elf(tmp_path / "h.o", p)
    assert pyelftools_rows(path) == expected_rows(p)
    assert llvm_rows(llvm, path) == expected_rows(p, reader="llvm")
    llvm_verify(llvm, path)


# -- random row sequences --------------------------------------------------------------------------------------
row_strategy = st.tuples(
    st.one_of(st.integers(0, 20), st.integers(0, 300), st.integers(0, 70000)),  # address advance (instructions)
    st.integers(-30, 30) | st.integers(-5000, 100000),                            # line change
    st.integers(0, 3) | st.integers(0, 1000),                                      # column
    st.integers(0, 10),                                                           # file choice
    st.integers(0, 15),                                                           # flags
    st.integers(0, 2),                                                            # isa
    st.integers(0, 2) | st.integers(0, 100000),                                   # discriminator
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(enc=st.sampled_from(ENCODINGS), min_len=st.sampled_from([1, 2, 4]),
       params=st.sampled_from([(-5, 14, 13), (-3, 12, 13), (0, 4, 13), (-1, 3, 20)]),
       sequences=st.lists(st.tuples(st.integers(0, 1 << 20), st.lists(row_strategy, max_size=25),
                                    st.integers(0, 100)), min_size=1, max_size=4))
def test_random_rows_round_trip(tmp_path, enc, min_len, params, sequences):
    line_base, line_range, opcode_base = params
    p = LineProgram(enc, comp_dir="/c", name="a.c", min_instruction_length=min_len, line_base=line_base,
                    line_range=line_range, opcode_base=opcode_base, md5=b"m" * 16 if enc.version >= 5 else None)
    files = [p.primary_file] + [p.add_file(f"f{i}.h", md5=b"m" * 16 if enc.version >= 5 else None)
                                for i in range(3)]
    if enc.version >= 5:
        files.append(0)
    base = 0
    for start, rows, tail in sequences:
        base += start * min_len
        s = p.sequence(base)
        address, line = 0, 1
        for advance, line_change, column, file, flags, isa, disc in rows:
            address += advance * min_len
            line = max(0, line + line_change)
            s.row(address, line, column=column, file=files[file % len(files)], is_stmt=bool(flags & 1),
                  basic_block=bool(flags & 2), prologue_end=bool(flags & 4), epilogue_begin=bool(flags & 8),
                  isa=isa, discriminator=disc)
        s.end(address + tail * min_len)
        base += address + tail * min_len
    max_address = (1 << (8 * enc.address_size)) - 1
    if base > max_address:
        return
    path = program_elf(tmp_path / "r.o", p)
    assert pyelftools_rows(path) == expected_rows(p)


def test_random_program_reads_cleanly_in_llvm(tmp_path):
    """A large pseudo-random program (fixed seed) through llvm-dwarfdump's parser and verifier."""
    import random
    llvm = require_tool("llvm-dwarfdump-14")
    rng = random.Random(5)
    for enc in (Encoding(2, 4, 4), Encoding(5, 8, 8)):
        p = LineProgram(enc, comp_dir="/c", name="a.c", min_instruction_length=4)
        files = [p.add_file(f"h{i}.h") for i in range(5)] + [1]
        address = 0
        for _ in range(40):
            s = p.sequence(address)
            offset, line = 0, rng.randint(1, 100)
            for _ in range(rng.randint(0, 40)):
                offset += 4 * rng.choice([0, 1, 2, 5, 17, 30, 100, 5000])
                line = max(1, line + rng.choice([-100, -3, 0, 1, 2, 8, 9, 10, 50, 4000]))
                s.row(offset, line, column=rng.choice([0, 0, 5, 200]), file=rng.choice(files))
            offset += 4 * rng.randint(0, 3)
            s.end(offset)
            address += offset + 64
        path = program_elf(tmp_path / f"big{enc.version}.o", p)
        want = expected_rows(p)
        assert llvm_rows(llvm, path) == expected_rows(p, reader="llvm")
        assert pyelftools_rows(path) == want
        llvm_verify(llvm, path)


# -- bad input ---------------------------------------------------------------------------------------------------
def _emit(p: LineProgram) -> None:
    line_sections(p)


def test_address_going_backwards_names_program_sequence_and_row():
    p = LineProgram(Encoding(4), comp_dir="/c", name="prog.c")
    s = p.sequence("f")
    s.row(0, 1)
    s.row(8, 2)
    s.row(4, 3)
    s.end(12)
    with pytest.raises(DescriptionError, match=r"'prog.c', sequence at f, row 2: address 0x4 goes backwards"):
        _emit(p)


def test_unknown_file_index():
    p = LineProgram(Encoding(4), comp_dir="/c", name="prog.c")
    s = p.sequence(0x100)
    s.row(0, 1, file=0)  # DWARF 4 files start at 1
    s.end(4)
    with pytest.raises(DescriptionError, match=r"sequence at 0x100, row 0: file index 0 does not exist"):
        _emit(p)
    p5 = LineProgram(Encoding(5), comp_dir="/c", name="prog.c")
    s = p5.sequence(0)
    s.row(0, 1, file=0)
    s.row(4, 1, file=2)
    s.end(8)
    with pytest.raises(DescriptionError, match=r"row 1: file index 2 does not exist \(valid: 0..1\)"):
        _emit(p5)


def test_unknown_directory_index():
    p = LineProgram(Encoding(5), comp_dir="/c", name="prog.c")
    with pytest.raises(DescriptionError, match=r"'prog.c': file 'x.h' refers to directory 3"):
        p.add_file("x.h", 3)


def test_address_not_a_multiple_of_instruction_length():
    p = LineProgram(Encoding(4), comp_dir="/c", name="prog.c", min_instruction_length=4)
    s = p.sequence(0)
    s.row(0, 1)
    s.row(6, 2)
    s.end(8)
    with pytest.raises(DescriptionError, match=r"row 1: address 0x6 is not a multiple of the minimum instruction "
                                               r"length 4"):
        _emit(p)
    s.rows.pop()
    s.end(10)
    with pytest.raises(DescriptionError, match=r"end of sequence: end 0xa is not a multiple"):
        _emit(p)


def test_missing_end_and_end_before_last_row():
    p = LineProgram(Encoding(4), comp_dir="/c", name="prog.c")
    s = p.sequence(0)
    s.row(4, 1)
    with pytest.raises(DescriptionError, match="has no end"):
        _emit(p)
    s.end(2)
    with pytest.raises(DescriptionError, match=r"end 0x2 lies before the last row at 0x4"):
        _emit(p)


def test_opcodes_missing_below_opcode_base():
    p = LineProgram(Encoding(2), comp_dir="/c", name="prog.c", opcode_base=10)
    s = p.sequence(0)
    s.row(0, 1, prologue_end=True)
    s.end(4)
    with pytest.raises(DescriptionError, match=r"row 0: prologue_end needs opcode_base > 10"):
        _emit(p)


def test_bad_header_parameters_and_md5():
    with pytest.raises(DescriptionError, match="opcode_base 9"):
        LineProgram(Encoding(4), comp_dir="/c", name="a.c", opcode_base=9)
    with pytest.raises(DescriptionError, match="minimum instruction length 0"):
        LineProgram(Encoding(4), comp_dir="/c", name="a.c", min_instruction_length=0)
    with pytest.raises(DescriptionError, match="has 3 bytes, not 16"):
        LineProgram(Encoding(5), comp_dir="/c", name="a.c", md5=b"abc")
    p = LineProgram(Encoding(5), comp_dir="/c", name="a.c", md5=bytes(16))
    p.add_file("b.h")
    with pytest.raises(DescriptionError, match="file 'b.h' has no MD5 but others have one"):
        _emit(p)


def test_start_address_must_fit_the_address_size():
    p = LineProgram(Encoding(4, 4, 4), comp_dir="/c", name="prog.c")
    s = p.sequence(1 << 32)
    s.end(0)
    with pytest.raises(DescriptionError, match=r"sequence at 0x100000000, start: address 0x100000000 does not fit 4"):
        _emit(p)


def test_symbolic_start_with_negative_addend(tmp_path):
    p = LineProgram(Encoding(4), comp_dir="/c", name="prog.c")
    s = p.sequence(Address("f", -4))
    s.row(0, 3)
    s.end(4)
    sections, _ = line_sections(p)
    assert [(r.target, r.addend) for r in sections[".debug_line"].relocations] == [("f", -4)]
    path = program_elf(tmp_path / "n.o", p, {"f": 0x1000})
    assert pyelftools_rows(path)[0][:2] == (0xFFC, 3)


def test_a_failed_emit_leaves_the_section_unchanged():
    from dwarfkit.strings import StringTable
    from dwarfkit.writer import SectionWriter
    enc = Encoding(5)
    good = LineProgram(enc, comp_dir="/c", name="good.c")
    s = good.sequence("g")
    s.row(0, 1)
    s.end(4)
    bad = LineProgram(enc, comp_dir="/c", name="bad.c")
    s = bad.sequence("b")
    s.row(0, 1)
    s.row(8, 2, file=9)
    s.end(12)
    writer = SectionWriter(".debug_line", enc)
    line_str = StringTable(".debug_line_str")
    good.emit(writer, line_str)
    before = (bytes(writer.data), list(writer.section.relocations))
    with pytest.raises(DescriptionError, match="'bad.c', sequence at b, row 1: file index 9"):
        bad.emit(writer, line_str)
    assert (bytes(writer.data), writer.section.relocations) == before


def test_add_rows_equals_row_by_row(tmp_path):
    enc = Encoding(5)
    one, bulk = (LineProgram(enc, comp_dir="/c", name="a.c") for _ in range(2))
    f = one.add_file("b.h")
    assert bulk.add_file("b.h") == f
    a = one.sequence(0x1000)
    for j in range(16):
        a.row(4 * j, 7 + j // 2, column=2, file=f, is_stmt=False)
    a.end(64)
    b = bulk.sequence(0x1000)
    b.add_rows([(4 * j, 7 + j // 2) for j in range(16)], column=2, file=f, is_stmt=False)
    b.end(64)
    assert a.rows == b.rows
    assert line_sections(one)[0][".debug_line"].data == line_sections(bulk)[0][".debug_line"].data
    path = program_elf(tmp_path / "bulk.o", bulk)
    assert pyelftools_rows(path) == expected_rows(bulk)


def test_big_endian(tmp_path):
    from minimal_elf import EM_AARCH64
    llvm = require_tool("llvm-dwarfdump-14")
    enc = Encoding(4, 4, 8, "big")
    p = sample_program(enc)
    symbols = {"main": 0x1000}
    path = program_elf(tmp_path / "be.o", p, symbols, machine=EM_AARCH64)
    assert pyelftools_rows(path) == expected_rows(p, symbols)
    assert llvm_rows(llvm, path) == expected_rows(p, symbols, reader="llvm")
    llvm_verify(llvm, path)


def test_rows_view_edits_and_runs_of_per_row_fields(tmp_path):
    """seq.rows reads and edits like a list of 7-tuples; rows that share basic_block / prologue_end / a
    discriminator get them on every row (they are stored as one run). llvm-dwarfdump reads what was written."""
    llvm = require_tool("llvm-dwarfdump-14")
    p = LineProgram(Encoding(4), comp_dir="/c", name="a.c")
    s = p.sequence(0x1000)
    s.add_rows([(0, 3), (4, 4)], column=2)
    s.row(8, 5, basic_block=True, discriminator=7)
    s.row(12, 6, basic_block=True, discriminator=7)
    s.row(14, 9)
    s.rows.append((16, 7, 2, 1, 1, 0, 0))
    assert s.rows.pop(4) == (14, 9, 0, 1, 1, 0, 0)
    assert len(s.rows) == 5 and s.rows[-1] == (16, 7, 2, 1, 1, 0, 0) and s.rows[2][4] == 3
    s.end(20)
    # llvm-dwarfdump rows: address, line, column, file, is_stmt, basic_block (None: llvm does not print it),
    # prologue_end, epilogue_begin, isa, discriminator, end_sequence.
    want = [(0x1000, 3, 2, 1, True, None, False, False, 0, 0, False),
            (0x1004, 4, 2, 1, True, None, False, False, 0, 0, False),
            (0x1008, 5, 0, 1, True, None, False, False, 0, 7, False),
            (0x100C, 6, 0, 1, True, None, False, False, 0, 7, False),
            (0x1010, 7, 2, 1, True, None, False, False, 0, 0, False),
            (0x1014, 7, 2, 1, True, None, False, False, 0, 0, True)]
    path = program_elf(tmp_path / "edits.o", p)
    assert llvm_rows(llvm, path) == want
    assert [r[5] for r in pyelftools_rows(path)][:5] == [False, False, True, True, False]   # basic_block


def test_add_rows_takes_pairs_only():
    s = LineProgram(Encoding(5), comp_dir="/c", name="a.c").sequence(0x40)
    s.add_rows([(0, 1)])
    for bad in ([(4, 2, 0)], [(4,), (8, 3, 1)], [4, 8]):
        with pytest.raises(DescriptionError, match=r"sequence at 0x40, rows 1\.\.: add_rows takes \(address, line\) "
                                                   r"pairs"):
            s.add_rows(bad)
    assert list(s.rows) == [(0, 1, 0, 1, 1, 0, 0)]
