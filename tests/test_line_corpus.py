"""Rows of real toolchains' line tables re-encoded: the same rows come back, in no more bytes than gcc/gas or clang."""
from __future__ import annotations

import pytest
from conftest import require_corpus
from elftools.elf.elffile import ELFFile
from line_oracle import program_elf, pyelftools_rows

from dwarfkit import Encoding
from dwarfkit.line import LineProgram

FILES = ["elf/shapes-gcc-O2-x86_64", "elf/shapes-gcc-x86_64", "elf/shapes-clang-aarch64"]


def reference_programs(path):
    """(encoding, header, rows as pyelftools decodes them, size of the opcodes after the header) per unit."""
    with open(path, "rb") as f:
        dwarf = ELFFile(f).get_dwarf_info()
        for cu in dwarf.iter_CUs():
            lp = dwarf.line_program_for_CU(cu)
            enc = Encoding(lp.header.version, 8 if cu.structs.dwarf_format == 64 else 4, cu.header.address_size)
            states = [e.state for e in lp.get_entries() if e.state is not None]
            yield enc, lp.header, states, lp.program_end_offset - lp.program_start_offset


@pytest.mark.parametrize("name", FILES)
def test_reencoded_rows_match_and_are_no_larger(tmp_path, name):
    corpus = require_corpus()
    for index, (enc, header, states, their_size) in enumerate(reference_programs(corpus / name)):
        p = LineProgram(enc, comp_dir="/corpus", name="unit.c",
                        min_instruction_length=header.minimum_instruction_length, line_base=header.line_base,
                        line_range=header.line_range, opcode_base=header.opcode_base,
                        default_is_stmt=bool(header.default_is_stmt))
        while len(p.files) < len(header.file_entry) + (0 if enc.version >= 5 else 1):
            p.add_file(f"file{len(p.files)}.h")
        seq = None
        for s in states:
            if seq is None:
                seq, base = p.sequence(s.address), s.address
            if s.end_sequence:
                seq.end(s.address - base)
                seq = None
                continue
            seq.row(s.address - base, s.line, column=s.column, file=s.file, is_stmt=bool(s.is_stmt),
                    basic_block=s.basic_block, prologue_end=s.prologue_end, epilogue_begin=s.epilogue_begin,
                    isa=s.isa, discriminator=s.discriminator)
        our_size = sum(len(p.encode_sequence(seq)[0]) for seq in p.sequences)
        assert our_size <= their_size, f"unit {index}: {our_size} bytes of opcodes, the toolchain needed {their_size}"
        ours = pyelftools_rows(program_elf(tmp_path / f"u{index}.o", p))
        theirs = [(s.address, s.line, s.column, s.file, None if s.end_sequence else bool(s.is_stmt),
                   bool(s.basic_block), bool(s.prologue_end), bool(s.epilogue_begin), s.isa, s.discriminator,
                   bool(s.end_sequence)) for s in states]
        assert ours == theirs
