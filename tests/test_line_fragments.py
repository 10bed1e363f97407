"""Per-function line fragments: each sequence encoded on its own, padded with no-ops to a slot size."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from line_oracle import expected_rows, llvm_rows, llvm_verify, pyelftools_rows
from minimal_elf import compile_unit, elf_with_dwarf

from dwarfkit import DescriptionError, DwarfSections, Encoding, Relocation, Section
from dwarfkit.line import LineProgram, no_op_padding
from dwarfkit.strings import StringTable
from dwarfkit.writer import SectionWriter


def fragmented(program: LineProgram, slack: list[int]) -> tuple[DwarfSections, list[tuple[int, int]]]:
    """The program laid out as header + one padded slot per sequence, as an incremental writer would."""
    enc = program.encoding
    writer = SectionWriter(".debug_line", enc)
    line_str = StringTable(".debug_line_str")
    start = program.emit_header(writer, line_str)
    slots = []
    for seq, extra in zip(program.sequences, slack, strict=True):
        natural, _ = program.encode_sequence(seq)
        data, relocations = program.encode_sequence(seq, len(natural) + extra)
        assert len(data) == len(natural) + extra
        slots.append((writer.pos, len(data)))
        for r in relocations:
            writer.section.relocations.append(Relocation(writer.pos + r.offset, r.size, r.kind, r.target, r.addend))
        writer.raw(data)
    writer.end_length(start)
    sections = DwarfSections(enc)
    sections.add(writer.section)
    if len(line_str):
        sections.add(line_str.to_section())
    return sections, slots


@pytest.mark.parametrize("enc", [Encoding(2, 4, 4), Encoding(4, 8, 8), Encoding(5, 4, 8)],
                         ids=["v2", "v4-dwarf64", "v5"])
def test_padded_sequences_read_like_unpadded_ones(tmp_path, enc):
    llvm = require_tool("llvm-dwarfdump-14")
    p = LineProgram(enc, comp_dir="/c", name="a.c")
    symbols = {}
    slack = [0, 1, 2, 3, 9, 10, 11, 40]
    for i in range(len(slack)):
        seq = p.sequence(f"fn{i}")
        symbols[f"fn{i}"] = 0x1000 * (i + 1)
        seq.row(0, 1 + i)
        seq.row(4, 7 + i, column=3)
        seq.row(40, 2)
        seq.end(44)
    sections, _ = fragmented(p, slack)
    path = elf_with_dwarf(tmp_path / "frag.o", sections, symbols=symbols, comp_dir="/c", text=bytes(0x8100))
    assert pyelftools_rows(path) == expected_rows(p, symbols)
    assert llvm_rows(llvm, path) == expected_rows(p, symbols, reader="llvm")
    llvm_verify(llvm, path)
    # binutils' reader (addr2line, as gdb's BFD) takes the padding too.
    rows = [r for r in expected_rows(p, symbols) if not r[-1]]
    out = subprocess.run([require_tool("addr2line"), "-e", str(path)] + [hex(r[0]) for r in rows],
                         check=True, capture_output=True, text=True).stdout.split()
    assert out == [f"/c/a.c:{r[1]}" for r in rows]


def test_a_sequence_rewritten_in_its_slot(tmp_path):
    """Change one function's rows and overwrite only its slot: readers see the new rows, the rest unchanged."""
    llvm = require_tool("llvm-dwarfdump-14")
    enc = Encoding(5)
    p = LineProgram(enc, comp_dir="/c", name="a.c")
    for i in range(3):
        seq = p.sequence(0x1000 * (i + 1))
        seq.row(0, 10 * i + 1)
        seq.end(16)
    sections, slots = fragmented(p, [16, 16, 16])
    seq = p.sequences[1]
    seq.rows.clear()
    seq.row(0, 500)
    seq.row(2, 501, column=9)
    seq.row(12, 499)
    seq.end(16)
    offset, size = slots[1]
    data, relocations = p.encode_sequence(seq, size)
    assert not relocations
    sections[".debug_line"].data[offset:offset + size] = data
    path = elf_with_dwarf(tmp_path / "rewritten.o", sections)
    assert pyelftools_rows(path) == expected_rows(p)
    assert llvm_rows(llvm, path) == expected_rows(p, reader="llvm")
    llvm_verify(llvm, path)


def test_slot_too_small_and_padding_sizes():
    p = LineProgram(Encoding(5), comp_dir="/c", name="a.c")
    seq = p.sequence("big")
    for i in range(10):
        seq.row(i * 3, i + 1)
    seq.end(30)
    natural, _ = p.encode_sequence(seq)
    with pytest.raises(DescriptionError, match=rf"sequence at big: needs {len(natural)} bytes, more than the 5"):
        p.encode_sequence(seq, 5)
    for size in [0] + list(range(2, 30)):
        assert len(no_op_padding(size)) == size
    with pytest.raises(ValueError):
        no_op_padding(1)


@pytest.mark.debugger
def test_gdb_reads_padded_sequences(tmp_path):
    gdb = require_tool("gdb")
    enc = Encoding(5)
    p = LineProgram(enc, comp_dir="/c", name="a.c")
    symbols = {}
    slack = [0, 1, 2, 9, 40]
    for i in range(len(slack)):
        seq = p.sequence(f"fn{i}")
        symbols[f"fn{i}"] = 0x1000 * (i + 1)
        seq.row(0, 1 + i)
        seq.row(4, 7 + i, column=3)
        seq.row(40, 2)
        seq.end(44)
    sections, _ = fragmented(p, slack)
    abbrev, info = compile_unit(enc, name="a.c", comp_dir="/c", stmt_list=0, low_pc=0x1000, high_pc=0x6000)
    sections.add(Section(".debug_abbrev", bytearray(abbrev)))
    sections.add(Section(".debug_info", bytearray(info)))
    path = elf_with_dwarf(tmp_path / "gdb.o", sections, symbols=symbols, text=bytes(0x5100))
    rows = [r for r in expected_rows(p, symbols) if not r[-1]]
    commands = [arg for r in rows for arg in ("-ex", f"info line *{r[0]:#x}")]
    out = subprocess.run([gdb, "-batch", "-nx"] + commands + [str(path)], capture_output=True, text=True,
                         timeout=120).stdout
    assert re.findall(r'Line (\d+) of "a.c" starts at address (0x[0-9a-f]+)', out) == [
        (str(r[1]), hex(r[0])) for r in rows]
