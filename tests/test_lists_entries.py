"""List entries chosen by the caller (dwarfkit.lists Rle/Lle) and GCC's location views, read back by real tools.

Every DWARF 5 DW_RLE_/DW_LLE_ kind, DWARF 4 base address selection entries and offset pairs, DW_LLE_GNU_view_pair
and DW_AT_GNU_locviews view lists: llvm-dwarfdump-14 --verify finds nothing, its --debug-info view resolves the
ranges and locations to the addresses the entries describe, pyelftools decodes an entry of the chosen kind at each
offset, and readelf pairs the views with their entries.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import dwarfinfo, verify, write_elf

from dwarfkit import Address, DescriptionError, DwarfBuilder, Encoding, Expr, Lle, Rle, pin

F = 0x1000   # where symbol f is resolved to


def a(offset: int) -> Address:
    return Address("f", offset)


RANGES_V5 = [Rle.base_addressx("f"), Rle.offset_pair(0, 0x10), Rle.startx_endx(a(0x20), a(0x28)),
             Rle.startx_length(a(0x30), 8), Rle.base_address(a(0x40)), Rle.offset_pair(0, 4),
             Rle.start_end(a(0x50), a(0x58)), Rle.start_length(a(0x60), 2), Rle.end_of_list()]
RANGES_V5_EXPECTED = [(0x00, 0x10), (0x20, 0x28), (0x30, 0x38), (0x40, 0x44), (0x50, 0x58), (0x60, 0x62)]
LOCS_V5 = [Lle.base_addressx("f"), Lle.offset_pair(0, 0x10, Expr().reg(0)),
           Lle.startx_endx(a(0x20), a(0x28), Expr().reg(1)), Lle.startx_length(a(0x30), 8, Expr().reg(2)),
           Lle.base_address(a(0x40)), Lle.offset_pair(0, 4, Expr().reg(3)),
           Lle.start_end(a(0x50), a(0x58), Expr().reg(4)), Lle.start_length(a(0x60), 2, Expr().reg(5)),
           Lle.default_location(Expr().reg(6))]


def build(version: int, ranges: list, locations: list, indexed: bool = False, views: bool = True) -> DwarfBuilder:
    dw = DwarfBuilder(Encoding(version=version), **({"indexed": True} if indexed else {}))
    cu = dw.compile_unit("a.c", comp_dir="/tmp", language="C99", low_pc=a(0), high_pc=0x100)
    int_t = cu.base_type("int", 4, "signed")
    fn = cu.die("subprogram", name="f", ranges=dw.range_list(ranges))
    fn.die("variable", name="x", type=int_t, location=dw.location_list(locations))
    if views:
        moving = dw.location_list([(a(0), 0x10, Expr().reg(0)), (a(0x10), 0x10, Expr().reg(1))])
        fn.die("variable", name="y", type=int_t, location=pin(moving, "sec_offset"),
               GNU_locviews=moving.locviews([(0, 1), (1, 0)]))
    return dw


def dump(path: Path, *options: str) -> str:
    tool = require_tool("llvm-dwarfdump-14")
    return subprocess.run([tool, *options, str(path)], capture_output=True, text=True, check=True).stdout


def resolved(text: str, name: str, attribute: str) -> list[str]:
    """The [start, end) lines llvm-dwarfdump prints under ``attribute`` of the DIE named ``name``."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if f'DW_AT_name\t("{name}")' in line)
    start = next(i for i in range(at, len(lines)) if attribute in lines[i])
    out = []
    for line in lines[start + 1:]:
        if not line.strip().startswith(("[", "<default>")):
            break
        out.append(line.strip())
    if out:
        out[-1] = out[-1][:-1]   # the attribute's closing parenthesis
    return out


def kinds_at(path: Path, section: str, offsets: list[int]) -> list[int]:
    data = dwarfinfo(path)
    raw = {".debug_rnglists": data.debug_rnglists_sec, ".debug_loclists": data.debug_loclists_sec}[section]
    body = raw.stream.getvalue() if hasattr(raw.stream, "getvalue") else raw.stream.read()
    return [body[offset] for offset in offsets]


@pytest.mark.parametrize("indexed", [False, True], ids=["offsets", "indexed"])
def test_every_dwarf5_kind(tmp_path: Path, indexed: bool) -> None:
    path = write_elf(tmp_path / "k.o", build(5, RANGES_V5, LOCS_V5, indexed).emit(), {"f": F})
    verify(path, require_tool("llvm-dwarfdump-14"))
    info = dump(path, "--debug-info")
    assert resolved(info, "f", "DW_AT_ranges") == [f"[{F + s:#018x}, {F + e:#018x})" for s, e in RANGES_V5_EXPECTED]
    regs = ["RAX", "RDX", "RCX", "RBX", "RSI", "RDI"]
    expected = [f"[{F + s:#018x}, {F + e:#018x}): DW_OP_reg{n} {regs[n]}"
                for n, (s, e) in enumerate(RANGES_V5_EXPECTED)] + ["<default>: DW_OP_reg6 RBP"]
    assert resolved(info, "x", "DW_AT_location") == expected
    assert ("DW_AT_location\t(indexed (0x0) loclist" in info) == indexed
    # pyelftools decodes one entry at each offset; the byte there is the kind chosen
    di = dwarfinfo(path)
    cu = next(di.iter_CUs())
    dies = {d.attributes["DW_AT_name"].value: d for d in cu.iter_DIEs() if "DW_AT_name" in d.attributes}
    if not indexed:
        rl = di.range_lists().get_range_list_at_offset(dies[b"f"].attributes["DW_AT_ranges"].value, cu=cu)
        assert kinds_at(path, ".debug_rnglists", [e.entry_offset for e in rl]) == [1, 4, 2, 3, 5, 4, 6, 7]
        ll = di.location_lists().get_location_list_at_offset(dies[b"x"].attributes["DW_AT_location"].value,
                                                             die=dies[b"x"])
        assert kinds_at(path, ".debug_loclists", [e.entry_offset for e in ll]) == [1, 4, 2, 3, 6, 4, 7, 8, 5]


def test_dwarf4_base_address_selection(tmp_path: Path) -> None:
    ranges = [Rle.base_address("f"), Rle.offset_pair(0, 0x10), Rle.base_address(a(0x40)), Rle.offset_pair(0, 4)]
    locs = [Lle.base_address(a(0x10)), Lle.offset_pair(0, 0x10, Expr().reg(0)), Lle.offset_pair(0x10, 0x20, b"\x51")]
    path = write_elf(tmp_path / "v4.o", build(4, ranges, locs).emit(), {"f": F})
    verify(path, require_tool("llvm-dwarfdump-14"))
    info = dump(path, "--debug-info")
    assert resolved(info, "f", "DW_AT_ranges") == [f"[{F:#018x}, {F + 0x10:#018x})",
                                                   f"[{F + 0x40:#018x}, {F + 0x44:#018x})"]
    assert resolved(info, "x", "DW_AT_location") == [f"[{F + 0x10:#018x}, {F + 0x20:#018x}): DW_OP_reg0 RAX",
                                                     f"[{F + 0x20:#018x}, {F + 0x30:#018x}): DW_OP_reg1 RDX"]
    raw = dump(path, "--debug-ranges")
    assert raw.count("ffffffffffffffff") == 2   # two base address selection entries, as chosen


@pytest.mark.parametrize("version", [4, 5])
def test_locviews_before_the_list(tmp_path: Path, version: int) -> None:
    path = write_elf(tmp_path / "views.o", build(version, [Rle.offset_pair(0, 1)] if version == 4 else RANGES_V5,
                                                   [Lle.offset_pair(0, 1, Expr().reg(0))] if version == 4 else
                                                   LOCS_V5).emit(), {"f": F})
    verify(path, require_tool("llvm-dwarfdump-14"))
    info = dump(path, "--debug-info")
    lines = info[info.index('("y")'):].splitlines()
    location = int(next(line for line in lines if "DW_AT_location" in line).split("(")[1].split(":")[0], 16)
    views = int(next(line for line in lines if "DW_AT_GNU_locviews" in line).split("(")[1].rstrip(")"), 16)
    assert location - views == 4   # two pairs of one-byte ULEB128 views right before the list
    readelf = require_tool("readelf")
    text = subprocess.run([readelf, "--debug-dump=loc", str(path)], capture_output=True, text=True).stdout
    assert f"v000000000000000 v000000000000001 views at {views:08x} for:" in text
    assert f"v000000000000001 v000000000000000 views at {views + 2:08x} for:" in text


def test_view_pair_entries_read_by_readelf(tmp_path: Path) -> None:
    locs = [Lle.view_pair(3, 4), Lle.start_length(a(0), 0x10, Expr().reg(0)), Lle.view_pair(4, 9),
            Lle.start_length(a(0x10), 0x10, Expr().reg(1))]
    path = write_elf(tmp_path / "vp.o", build(5, [Rle.start_length("f", 4)], locs, views=False).emit(), {"f": F})
    readelf = require_tool("readelf")
    text = subprocess.run([readelf, "--debug-dump=loc", str(path)], capture_output=True, text=True).stdout
    assert "v000000000000003 v000000000000004 views for:" in text
    assert "v000000000000004 v000000000000009 views for:" in text
    assert "0000000000001000 0000000000001010 (DW_OP_reg0 (rax))" in text
    # our reader steps over the view pairs as readelf does: the same ranges, and nothing to report
    ours = subprocess.run([sys.executable, "-m", "dwarfkit", "verify", str(path)], capture_output=True, text=True)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    def our_dump(option: str) -> str:
        return subprocess.run([sys.executable, "-m", "dwarfkit", "dump", option, str(path)], capture_output=True,
                              text=True, check=True).stdout
    info = our_dump("--debug-info")
    assert "[0x0000000000001000, 0x0000000000001010): DW_OP_reg0 RAX" in info
    assert "[0x0000000000001010, 0x0000000000001020): DW_OP_reg1 RDX" in info
    loclists = our_dump("--debug-loclists")
    assert "DW_LLE_GNU_view_pair   (0x0000000000000003, 0x0000000000000004)" in loclists
    assert "DW_LLE_GNU_view_pair   (0x0000000000000004, 0x0000000000000009)" in loclists


@pytest.mark.parametrize("make, message", [
    (lambda dw: dw.range_list([Rle.start_length("f", 4)]), "start_length needs DWARF 5"),
    (lambda dw: dw.location_list([Lle.default_location(Expr().reg(0))]), "default_location needs DWARF 5"),
    (lambda dw: dw.range_list([Lle.base_address("f")]), "a location list entry in a range list"),
    (lambda dw: dw.range_list([Rle.end_of_list(), Rle.offset_pair(0, 4)]), "end_of_list must be the last"),
    (lambda dw: dw.range_list([Rle.offset_pair(0, 0)]), "would read as the end"),
    (lambda dw: dw.range_list([Rle.offset_pair(0, 4), ("f", 4)]), "either all tuples or all Rle/Lle"),
    (lambda dw: dw.range_list([Rle.offset_pair(0, 1 << 33)]), "does not fit 4 bytes"),
    (lambda dw: dw.location_list([(0, 4, Expr().reg(0))]).locviews([(0, 1), (1, 2)]), "2 view pairs for 1"),
    (lambda dw: dw.location_list([(0, 4, Expr().reg(0))]).locviews([(0, -1)]), "is not two integers"),
])
def test_refused_at_make(make, message: str) -> None:
    dw = DwarfBuilder(Encoding(version=4, address_size=4))
    with pytest.raises(DescriptionError, match=message):
        make(dw)


@pytest.mark.parametrize("make, message", [
    (lambda: Rle.offset_pair(-1, 4), "is not an integer"),
    (lambda: Rle.base_address(1.5), "is not an address"),
    (lambda: Lle.offset_pair(0, 4, "reg0"), "is not an Expr"),
    (lambda: Rle.start_end(True, 4), "is not an address"),
])
def test_entry_arguments_checked(make, message: str) -> None:
    with pytest.raises(DescriptionError, match=message):
        make()


def test_views_list_refuses_an_index() -> None:
    dw = DwarfBuilder(Encoding(version=5), indexed=True)
    cu = dw.compile_unit("a.c", low_pc=a(0), high_pc=4)
    moving = dw.location_list([(a(0), 4, Expr().reg(0))])
    views = moving.locviews([(0, 1)])
    with pytest.raises(DescriptionError, match="pin DW_FORM_sec_offset"):
        cu.die("variable", name="v", location=pin(moving, "loclistx"), GNU_locviews=views)


def test_views_only_in_gnu_locviews() -> None:
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("a.c", low_pc=a(0), high_pc=4)
    moving = dw.location_list([(a(0), 4, Expr().reg(0))])
    views = moving.locviews([(0, 1)])
    with pytest.raises(DescriptionError, match="belong in DW_AT_GNU_locviews"):
        cu.die("variable", name="v", location=views)
    with pytest.raises(DescriptionError, match="takes location views"):
        cu.die("variable", name="w", location=moving, GNU_locviews=moving)
    with pytest.raises(DescriptionError, match="must be given before the list is used"):
        moving.locviews([(0, 1)])
    other = dw.location_list([(a(0), 4, Expr().reg(0))])
    other.locviews([(0, 1)])
    with pytest.raises(DescriptionError, match="has location views already"):
        other.locviews([(0, 1)])
