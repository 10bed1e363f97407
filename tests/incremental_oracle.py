"""Judges for the incremental writer: the same program written from scratch by the ordinary path (DwarfBuilder +
the ELF or PE backend), and llvm-dwarfdump's view of a file with offsets and padding taken out."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from conftest import require_tool

from dwarfkit import Address, Arch, Die
from dwarfkit.backends.coff import DEFAULT_IMAGE_BASE, write_pe
from dwarfkit.backends.elf import write_executable
from dwarfkit.expr import Expr
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol
from dwarfkit.incremental import Block, Function, UnitInfo, Variable
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
    # (forms as the ordinary API chooses them: short names inline, the rest in .debug_str)
    cu = dw.compile_unit(unit.name, comp_dir=unit.comp_dir,
                         producer=unit.producer, language=unit.language, low_pc=Address(None, 0),
                         ranges=dw.range_list([(Address(None, fn.address), fn.size) for fn in functions]))
    long_t = cu.base_type("long", 8, "signed")
    types = {"long": long_t, "pointer": cu.pointer_type(long_t, 8)}

    def scope(parent: Die, address: int, variables: tuple[Variable, ...], blocks: tuple[Block, ...]) -> None:
        for v in variables:
            parent.die("formal_parameter" if v.parameter else "variable", name=v.name, decl_file=1,
                       decl_line=v.line, type=types[v.type], location=Expr().fbreg(v.frame_offset))
        for b in blocks:
            block = parent.die("lexical_block", low_pc=Address(None, address + b.low), high_pc=b.high - b.low)
            scope(block, address, b.variables, b.blocks)

    for fn in functions:
        sub = cu.die("subprogram", external=True, name=fn.name, decl_file=1, decl_line=fn.line,
                     type=long_t, low_pc=Address(None, fn.address), high_pc=fn.size,
                     frame_base=Expr().op("call_frame_cfa"))
        scope(sub, fn.address, fn.variables, fn.blocks)
        seq = cu.line.sequence(Address(None, fn.address))
        seq.add_rows(list(fn.rows))
        seq.end(fn.size)
    return dw.emit(aranges=True)


_OFFSET = re.compile(r"^0x[0-9a-f]{8}: ")
_REF = re.compile(r"\(0x[0-9a-f]{8} ")
_LIST = re.compile(r"\(0x[0-9a-f]{8}:\s*$")  # a location list's offset; its entries follow as "[0x..." lines
_RANGE = re.compile(r"\[(0x[0-9a-f]+), (0x[0-9a-f]+)\)")
_SECTION = re.compile(r"^\.(debug_\w+) contents:$", re.M)


@dataclass
class View:
    """What llvm-dwarfdump shows of a file, with offsets, padding and entries that describe nothing taken out."""

    dies: tuple
    rows: list[tuple]
    aranges: list[tuple]
    ranges: list[tuple]
    strings: set[str]


def views(*paths: Path) -> list[View]:
    """:class:`View` of each file, from one llvm-dwarfdump per file, run side by side."""
    runs = [subprocess.Popen([require_tool("llvm-dwarfdump-14"), *VIEW_OPTIONS, str(p)], stdout=subprocess.PIPE,
                             text=True) for p in paths]
    out = []
    for run in runs:
        text, _ = run.communicate()
        assert run.returncode == 0
        out.append(parse_view(text))
    return out


VIEW_OPTIONS = ["--debug-info", "--debug-line", "--debug-aranges", "--debug-ranges", "--debug-str"]
"""What llvm-dwarfdump must print for :func:`parse_view`."""


def parse_view(text: str) -> View:
    """The :class:`View` in llvm-dwarfdump's text of one file (run with :data:`VIEW_OPTIONS`)."""
    parts = _SECTION.split(text)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    return View(dies(sections.get("debug_info", "")), line_rows(sections.get("debug_line", "")),
                aranges(sections.get("debug_aranges", "")), range_lists(sections.get("debug_ranges", "")),
                strings(sections.get("debug_str", "")))


def assert_same_program(ours: View, fresh: View, where: str) -> None:
    """The same DIE trees, line rows, address ranges; our string table holds every string the fresh one has (names
    no longer used may stay in ours)."""
    assert ours.dies == fresh.dies, where
    assert ours.rows == fresh.rows, where
    assert ours.aranges == fresh.aranges, where
    assert ours.ranges == fresh.ranges, where
    assert fresh.strings <= ours.strings, (where, fresh.strings - ours.strings)


def dies(text: str) -> tuple:
    """The DIE tree in llvm-dwarfdump's text: (tag, sorted attributes, sorted children), without offsets, NULL
    entries and padding DIEs (``DW_TAG_unspecified_type`` without a name). A ``DW_AT_ranges`` attribute is its
    non-empty ranges (one ``range`` attribute each), not its offset."""
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
        elif current is not None and line.strip().startswith("DW_AT_ranges"):
            current[1].append("DW_AT_ranges")
        elif current is not None and line.strip().startswith("DW_AT_"):
            current[1].append(_LIST.sub("(list", _REF.sub("(", line.strip())))
        elif current is not None and line.strip().startswith("[0x"):
            current[1].extend(f"range [{a}, {b})" for a, b in _RANGE.findall(line) if int(a, 16) != int(b, 16))
    return _normal(root)[2]


def aranges(text: str) -> list[tuple]:
    """Each set: its header without the length, and its non-empty ranges, sorted."""
    sets: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("Address Range Header:"):
            sets.append((re.sub(r"length = \w+, ", "", line), []))
        elif line.startswith("[0x"):
            sets[-1][1].extend(f"[{a}, {b})" for a, b in _RANGE.findall(line) if int(a, 16) != int(b, 16))
    return sorted((head, tuple(sorted(entries))) for head, entries in sets)


def range_lists(text: str) -> list[tuple]:
    """Every list of ``.debug_ranges`` as its sorted non-empty ``(begin, end)`` ranges, base address entries applied
    (lists start with base 0: the units here have ``DW_AT_low_pc`` 0)."""
    lists: dict[str, list[tuple[int, int]]] = {}
    bases: dict[str, int] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 3 or not re.fullmatch(r"[0-9a-f]{8}", words[0]):
            continue
        offset = words[0]
        entries = lists.setdefault(offset, [])
        if words[1] == "<End":
            continue
        begin, end = int(words[1], 16), int(words[2], 16)
        if begin == (1 << 64) - 1:
            bases[offset] = end
        elif begin != end:
            base = bases.get(offset, 0)
            entries.append((base + begin, base + end))
    return sorted(tuple(sorted(entries)) for entries in lists.values())


def strings(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r'^0x[0-9a-f]+: "(.*)"$', text, re.M)}


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


def lookup(path: Path, address: int) -> str:
    """llvm-dwarfdump --lookup: finds the unit through .debug_aranges (the unit's DIE ranges only for a unit the
    aranges leave out), then the DIEs that hold the address. Exit status 1: nothing found."""
    run = subprocess.run([require_tool("llvm-dwarfdump-14"), f"--lookup={address:#x}", str(path)],
                         capture_output=True, text=True)
    assert run.returncode in (0, 1) and run.stderr == "", run.stderr
    return run.stdout


def assert_lookups(path: Path, functions: list[Function], gone: list[int]) -> None:
    """Each function's last byte leads to its unit and subprogram; addresses in ``gone`` (no function there any
    more) lead nowhere."""
    for fn in functions:
        out = lookup(path, fn.address + fn.size - 1)
        assert "DW_TAG_subprogram" in out and f'DW_AT_name\t("{fn.name}")' in out, (fn, out)
    for address in gone:
        assert "DW_TAG_compile_unit" not in lookup(path, address), hex(address)
