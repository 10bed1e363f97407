""".debug_aranges read back by pyelftools, llvm-dwarfdump and readelf."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from minimal_elf import compile_unit, elf_with_dwarf, open_dwarf

from dwarfkit import Address, DescriptionError, DwarfSections, Encoding, RelocKind, Section
from dwarfkit.aranges import emit_aranges
from dwarfkit.writer import SectionWriter

ENCODINGS = [Encoding(4, 4, 8), Encoding(4, 4, 4), Encoding(5, 8, 8), Encoding(3, 8, 4)]


def two_units(enc: Encoding) -> tuple[bytes, bytes, int]:
    abbrev, first = compile_unit(enc, name="a.c", comp_dir="/c", stmt_list=0)
    _, second = compile_unit(enc, name="b.c", comp_dir="/c", stmt_list=0)
    return abbrev, first + second, len(first)


@pytest.mark.parametrize("enc", ENCODINGS, ids=lambda e: f"v{e.version}-off{e.offset_size}-addr{e.address_size}")
def test_aranges_round_trip(tmp_path, enc):
    llvm = require_tool("llvm-dwarfdump-14")
    abbrev, info, second = two_units(enc)
    writer = SectionWriter(".debug_aranges", enc)
    emit_aranges(writer, [(0, [(Address("f", 0), 0x40), (0x2000, 0x10), (0x3000, 0)]),
                          (second, [("g", 0x123), (Address("g", 0x200), 8)])])
    relocs = writer.section.relocations
    assert [(r.kind, r.target, r.addend) for r in relocs if r.kind is RelocKind.SECTION] == [
        (RelocKind.SECTION, ".debug_info", 0), (RelocKind.SECTION, ".debug_info", second)]
    sections = DwarfSections(enc)
    sections.add(writer.section)
    sections.add(Section(".debug_abbrev", bytearray(abbrev)))
    sections.add(Section(".debug_info", bytearray(info)))
    path = elf_with_dwarf(tmp_path / "a.o", sections, symbols={"f": 0x1000, "g": 0x4000})
    want = [(0x1000, 0x40, 0), (0x2000, 0x10, 0), (0x4000, 0x123, second), (0x4200, 8, second)]

    if not enc.is_dwarf64:  # pyelftools 0.33 parses every aranges header with 32-bit structs
        aranges = open_dwarf(path).get_aranges()
        assert [(e.begin_addr, e.length, e.info_offset) for e in aranges.entries] == want
        assert aranges.cu_offset_at_addr(0x4201) == second

    out = subprocess.run([llvm, "--debug-aranges", str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and "warning" not in out.stderr + out.stdout, out.stderr + out.stdout
    headers = re.findall(r"cu_offset = 0x([0-9a-f]+), addr_size = 0x0(\d)", out.stdout)
    assert [(int(o, 16), int(a)) for o, a in headers] == [(0, enc.address_size), (second, enc.address_size)]
    ranges = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"\[0x([0-9a-f]+), 0x([0-9a-f]+)\)", out.stdout)]
    assert ranges == [(s, s + n) for s, n, _ in want]

    readelf = require_tool("readelf")
    dump = subprocess.run([readelf, "--debug-dump=aranges", str(path)], capture_output=True, text=True)
    assert dump.returncode == 0 and "warning" not in dump.stderr.lower(), dump.stderr
    listed = [(int(a, 16), int(n, 16)) for a, n in re.findall(r"^\s+([0-9a-f]+) ([0-9a-f]+)\s*$", dump.stdout, re.M)]
    assert [t for t in listed if t != (0, 0)] == [(s, n) for s, n, _ in want]
    assert len(listed) == len(want) + 2  # one terminator per unit


def test_tuples_are_aligned_to_twice_the_address_size():
    for enc in ENCODINGS:
        writer = SectionWriter(".debug_aranges", enc)
        emit_aranges(writer, [(0, [(0x10, 4)]), (0, [(0x20, 4)])])
        tuple_size = 2 * enc.address_size
        header = enc.initial_length_size + 2 + enc.offset_size + 2
        first = header + -header % tuple_size
        assert len(writer.data) == 2 * (first + 2 * tuple_size)
        assert int.from_bytes(writer.data[first:first + enc.address_size], "little") == 0x10


def test_bad_length_names_unit_and_range():
    writer = SectionWriter(".debug_aranges", Encoding(5, 4, 4))
    with pytest.raises(DescriptionError, match=r"unit at .debug_info\+0x10, range 1 \(h\+0x4\): length 4294967296"):
        emit_aranges(writer, [(0, [(0, 1)]), (0x10, [(0, 1), (Address("h", 4), 1 << 32)])])
    assert len(writer.data) == 0
