"""Test-only: put line programs into an ELF and read the rows back with pyelftools and llvm-dwarfdump."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from minimal_elf import elf_with_dwarf, open_dwarf

from dwarfkit import DwarfSections
from dwarfkit.line import LineProgram
from dwarfkit.strings import StringTable
from dwarfkit.writer import SectionWriter

# (address, line, column, file, is_stmt, basic_block, prologue_end, epilogue_begin, isa, discriminator, end_sequence)
Row = tuple


def line_sections(program: LineProgram, line_strings: bool = True) -> tuple[DwarfSections, int]:
    enc = program.encoding
    writer = SectionWriter(".debug_line", enc)
    line_str = StringTable(".debug_line_str")
    offset = program.emit(writer, line_str if line_strings else None, StringTable())
    sections = DwarfSections(enc)
    sections.add(writer.section)
    if len(line_str):
        sections.add(line_str.to_section())
    return sections, offset


def program_elf(path: Path, program: LineProgram, symbols: dict[str, int] | None = None, line_strings: bool = True,
                **kw) -> Path:
    sections, offset = line_sections(program, line_strings)
    return elf_with_dwarf(path, sections, name=program.name, comp_dir=program.comp_dir, stmt_list=offset,
                          symbols=symbols, **kw)


def expected_rows(program: LineProgram, symbols: dict[str, int] | None = None, reader: str = "pyelftools") -> list[Row]:
    """The rows the description asks for, as ``reader`` must decode them (plain values, absolute addresses).

    What a reader does not report is None in both its rows and these: pyelftools clears is_stmt on end_sequence,
    llvm-dwarfdump does not print basic_block.
    """
    out = []
    for seq in program.sequences:
        base = (symbols or {}).get(seq.start.symbol, 0) + seq.start.offset if seq.start.symbol else seq.start.offset
        row = None
        for row in seq.rows:
            address, line, column, file, flags, isa, disc = row
            out.append((base + address, line, column, file, bool(flags & 1),
                        None if reader == "llvm" else bool(flags & 2), bool(flags & 4), bool(flags & 8), isa, disc,
                        False))
        if row is None:
            last = (1, 0, 1, program.default_is_stmt, 0)
        else:
            last = (row[1], row[2], row[3], bool(row[4] & 1), row[5])
        line, column, file, stmt, isa = last
        out.append((base + seq.end_address, line, column, file, None if reader == "pyelftools" else stmt,
                    None if reader == "llvm" else False, False, False, isa, 0, True))
    return out


def pyelftools_rows(path: Path) -> list[Row]:
    dwarf = open_dwarf(path)
    program = dwarf.line_program_for_CU(next(dwarf.iter_CUs()))
    rows = []
    for entry in program.get_entries():
        s = entry.state
        if s is not None:
            rows.append((s.address, s.line, s.column, s.file, None if s.end_sequence else bool(s.is_stmt),
                         bool(s.basic_block),
                         bool(s.prologue_end), bool(s.epilogue_begin), s.isa, s.discriminator, bool(s.end_sequence)))
    return rows


_LLVM_ROW = re.compile(r"^0x([0-9a-f]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*(.*)$")


def llvm_rows(llvm_dwarfdump: str, path: Path) -> list[Row]:
    """Rows as ``llvm-dwarfdump --debug-line`` prints them (basic_block is not printed: None)."""
    text = subprocess.run([llvm_dwarfdump, "--debug-line", str(path)], check=True, capture_output=True,
                          text=True).stdout
    rows = []
    for line in text.splitlines():
        m = _LLVM_ROW.match(line)
        if m:
            flags = m.group(7).split()
            rows.append((int(m.group(1), 16), int(m.group(2)), int(m.group(3)), int(m.group(4)), "is_stmt" in flags,
                         None, "prologue_end" in flags, "epilogue_begin" in flags, int(m.group(5)),
                         int(m.group(6)), "end_sequence" in flags))
    return rows


def llvm_verify(llvm_dwarfdump: str, path: Path) -> str:
    """Runs ``llvm-dwarfdump --verify`` on the info and line sections; fails with its output on any error."""
    result = subprocess.run([llvm_dwarfdump, "--verify", "--debug-info", "--debug-line", str(path)],
                            capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "No errors." in output, output
    assert "warning" not in output.lower(), output
    return output
