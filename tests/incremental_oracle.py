"""Judges for the incremental writer: the same program written from scratch by the ordinary path (DwarfBuilder +
the ELF or PE backend), and llvm-dwarfdump's view of a file with offsets and padding taken out."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import require_tool

from dwarfkit import Address, Arch
from dwarfkit.backends.coff import DEFAULT_IMAGE_BASE, write_pe
from dwarfkit.backends.elf import write_executable
from dwarfkit.expr import Expr
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol
from dwarfkit.incremental import Function, UnitInfo
from dwarfkit.program import DwarfBuilder
from dwarfkit.sections import DwarfSections


def scratch_executable(path: Path, unit: UnitInfo, functions: list[Function], text_address: int,
                       text_size: int) -> None:
    """The program as any dwarfkit user would write it in one go (no slots, no padding)."""
    image = Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, data=b"\xcc" * text_size)],
                  [Symbol("_start", ".text", 0, 1)], scratch_dwarf(unit, functions), entry="_start")
    write_executable(image, path, addresses={".text": text_address})


def scratch_pe(path: Path, unit: UnitInfo, functions: list[Function], text_size: int, arch: Arch = Arch.X86_64,
               image_base: int = DEFAULT_IMAGE_BASE) -> None:
    """The same through the PE backend: .text (the code arena) at image_base + 0x1000, then the DWARF sections."""
    image = Image(arch, [ContentSection(".text", SectionKind.CODE, data=b"\xcc" * text_size)],
                  [Symbol("_start", ".text", 0, 1)], scratch_dwarf(unit, functions), entry="_start")
    write_pe(image, path, image_base=image_base)


def scratch_dwarf(unit: UnitInfo, functions: list[Function]) -> DwarfSections:
    dw = DwarfBuilder(version=4)
    cu = dw.compile_unit(unit.name, comp_dir=unit.comp_dir, producer=unit.producer, language=unit.language,
                         low_pc=Address(None, 0))
    long_t = cu.base_type("long", 8, "signed")
    types = {"long": long_t, "pointer": cu.pointer_type(long_t, 8)}
    for fn in functions:
        sub = cu.die("subprogram", external=True, name=fn.name, decl_file=1, decl_line=fn.line, type=long_t,
                     low_pc=Address(None, fn.address), high_pc=fn.size, frame_base=Expr().op("call_frame_cfa"))
        for v in fn.variables:
            sub.die("formal_parameter" if v.parameter else "variable", name=v.name, decl_file=1, decl_line=v.line,
                    type=types[v.type], location=Expr().fbreg(v.frame_offset))
        seq = cu.line.sequence(Address(None, fn.address))
        seq.add_rows(list(fn.rows))
        seq.end(fn.size)
    return dw.emit(aranges=False)


_OFFSET = re.compile(r"^0x[0-9a-f]{8}: ")
_REF = re.compile(r"\(0x[0-9a-f]{8} ")


def views(*paths: Path) -> list[tuple[tuple, list[tuple]]]:
    """:func:`dies` and :func:`line_rows` of each file, from one llvm-dwarfdump per file, run side by side."""
    runs = [subprocess.Popen([require_tool("llvm-dwarfdump-14"), "--debug-info", "--debug-line", str(p)],
                             stdout=subprocess.PIPE, text=True) for p in paths]
    out = []
    for run in runs:
        text, _ = run.communicate()
        assert run.returncode == 0
        info, _, line = text.partition(".debug_line contents:")
        out.append((dies(info), line_rows(line)))
    return out


def dies(text: str) -> tuple:
    """The DIE tree in llvm-dwarfdump's text: (tag, sorted attributes, sorted children), without offsets, NULL
    entries and padding DIEs (``DW_TAG_unspecified_type`` without a name)."""
    root: list = ["", [], []]
    stack: list[tuple[int, list]] = [(-1, root)]
    current = None
    for line in text.splitlines():
        m = _OFFSET.match(line)
        if m:
            body = line[m.end():]
            depth = len(body) - len(body.lstrip())
            tag = re.sub(r"length = \w+, |\(next unit at \w+\)", "", body.strip())
            if tag == "NULL":
                current = None
                continue
            while stack[-1][0] >= depth:
                stack.pop()
            current = [tag, [], []]
            stack[-1][1][2].append(current)
            stack.append((depth, current))
        elif current is not None and line.strip().startswith("DW_AT_"):
            current[1].append(_REF.sub("(", line.strip()))
    return _normal(root)[2]


def _normal(die: list) -> tuple:
    tag, attrs, children = die
    kept = [_normal(c) for c in children
            if not (c[0] == "DW_TAG_unspecified_type" and not any(a.startswith("DW_AT_name") for a in c[1]))]
    return tag, tuple(sorted(attrs)), tuple(sorted(kept))


def line_rows(text: str) -> list[tuple]:
    """Rows of every sequence in llvm-dwarfdump's text, sorted by address (their order in the program is layout)."""
    sequences, current = [], []
    for line in text.splitlines():
        if line.startswith("0x") and len(line.split()) >= 7:
            current.append(tuple(line.split()))
            if "end_sequence" in line:
                sequences.append(tuple(current))
                current = []
    return sorted(sequences)


def verify(path: Path) -> str:
    """llvm-dwarfdump --verify's output; '' when it found nothing wrong."""
    run = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", str(path)], capture_output=True, text=True)
    return "" if run.returncode == 0 and "No errors." in run.stdout else run.stdout + run.stderr
