"""Line tables and frames over real assembled code, looked up by addr2line and llvm-symbolizer."""
from __future__ import annotations

import subprocess

import pytest
from conftest import require_tool
from line_oracle import line_sections, llvm_verify
from minimal_elf import EM_AARCH64, EM_X86_64, compile_unit, elf_with_dwarf
from test_asm import A64_FUNCTIONS, X86_FUNCTIONS

from dwarfkit import Arch, Encoding, Section
from dwarfkit.asm import assemble, check_line_program
from dwarfkit.frame import CallFrames
from dwarfkit.line import LineProgram

BASE = 0x400000
FIRST_LINE = {"f": 10, "g": 100}


@pytest.mark.parametrize("arch", [Arch.X86_64, Arch.AARCH64], ids=lambda a: a.info.name)
@pytest.mark.parametrize("version", [2, 5])
def test_every_instruction_maps_to_its_line(tmp_path, arch, version):
    asm = assemble(arch, X86_FUNCTIONS if arch is Arch.X86_64 else A64_FUNCTIONS)
    enc = Encoding(version)
    program = LineProgram(enc, comp_dir="/src", name="prog.c",
                          min_instruction_length=arch.info.min_instruction_length)
    frames = CallFrames(arch, enc)
    want = {}
    for name, (start, end) in asm.functions.items():
        seq = program.sequence(BASE + start)  # plain addresses: no relocations needed in this test file
        for k, offset in enumerate(o for o in asm.instruction_starts if start <= o < end):
            seq.row(offset - start, FIRST_LINE[name] + k)
            want[BASE + offset] = FIRST_LINE[name] + k
        seq.end(end - start)
        frames.fde(None, BASE + start, end - start)
    check_line_program(program, asm, BASE)

    sections, stmt_list = line_sections(program)
    sections.add(frames.debug_frame())
    abbrev, info = compile_unit(enc, name="prog.c", comp_dir="/src", stmt_list=stmt_list, low_pc=BASE,
                                high_pc=BASE + len(asm.code))
    sections.add(Section(".debug_abbrev", bytearray(abbrev)))
    sections.add(Section(".debug_info", bytearray(info)))
    path = elf_with_dwarf(tmp_path / "prog.o", sections, text=asm.code, addresses={".text": BASE},
                          machine=EM_X86_64 if arch is Arch.X86_64 else EM_AARCH64)

    addr2line = require_tool("addr2line" if arch is Arch.X86_64 else "aarch64-linux-gnu-addr2line")
    out = subprocess.run([addr2line, "-e", str(path)] + [hex(a) for a in want], check=True, capture_output=True,
                         text=True).stdout.split()
    assert out == [f"/src/prog.c:{line}" for line in want.values()]

    symbolizer = require_tool("llvm-symbolizer-14")
    out = subprocess.run([symbolizer, "--obj", str(path)] + [hex(a) for a in want], check=True,
                         capture_output=True, text=True).stdout.split()
    assert [o for o in out if o.startswith("/src/")] == [f"/src/prog.c:{line}:0" for line in want.values()]
    llvm_verify(require_tool("llvm-dwarfdump-14"), path)
