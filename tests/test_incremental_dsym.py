"""The incremental dSYM writer against a from-scratch dSYM of the same program (llvm-dwarfdump), and lldb."""
from __future__ import annotations

import random
import re
from pathlib import Path

from incremental_oracle import assert_lookups, assert_same_program, scratch_dwarf, verify, views
from macho_tools import dsym_dwarf_file, lldb
from test_incremental_elf import SLOT, TEXT_SIZE, UNIT, Script

from dwarfkit import Arch
from dwarfkit.backends.macho_dsym import read_macho, write_dsym, write_executable
from dwarfkit.backends.macho_dsym.incremental import IncrementalDsym
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol


def executable(folder: Path) -> tuple[Path, int]:
    """A Mach-O executable whose __text is a code area for the functions; returns it and the area's address."""
    path = folder / "jit"
    image = Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, b"\xc3" + b"\xcc" * (TEXT_SIZE + 15), 16)],
                  [Symbol("main", ".text", 0, 1)], entry="main")
    write_executable(image, path)
    text = read_macho(path).section("__TEXT", "__text")
    assert text is not None
    return path, text.addr + 16


def test_random_edits_match_a_fresh_dsym(tmp_path: Path) -> None:
    (tmp_path / "fresh").mkdir()
    exe, base = executable(tmp_path)
    script = Script(random.Random(31), base)
    writer = IncrementalDsym.create(exe, UNIT, script.initial(3))
    fresh = tmp_path / "fresh" / "jit.dSYM"
    rooms = {name: piece.size for name, piece in writer.target.layout.dwarf_space.pieces.items()}
    with writer:
        for step in range(60):
            kind = script.step(writer, "add" if 12 <= step < 36 else None)
            write_dsym(exe, scratch_dwarf(UNIT, list(script.functions.values())), out_dir=tmp_path / "fresh")
            assert_same_program(*views(dsym_dwarf_file(writer.path), dsym_dwarf_file(fresh)), f"step {step} ({kind})")
            if step % 20 == 19:
                assert verify(dsym_dwarf_file(writer.path)) == ""
        pieces = writer.target.layout.dwarf_space.pieces
        grown = {name for name, room in rooms.items() if pieces[name].size > room}
    # Every section the writer grows outgrew its room (in place or moved; the abbreviations never change).
    assert grown == set(rooms) - {".debug_abbrev", ".debug_loc"}, grown  # (these functions have no lists)
    assert verify(dsym_dwarf_file(writer.path)) == ""
    used = {f.address for f in script.functions.values()}
    assert_lookups(dsym_dwarf_file(writer.path), list(script.functions.values())[:8],
                   [base + SLOT * s for s in range(TEXT_SIZE // SLOT) if base + SLOT * s not in used][:4])
    with IncrementalDsym.open(writer.path) as again:
        assert not again.rebuilt

    named = [f for f in script.functions.values() if f.rows][:3]
    commands = ["image dump line-table jit.c"]
    for fn in named:
        commands += [f"image lookup -v -n {fn.name}", f"image lookup -a {fn.address + fn.rows[-1][0]:#x}"]
    # A variable of a block: in scope inside the block (lldb lists the block and its variables), not before it.
    owner, block = next((f, b) for f in script.functions.values() for b in f.blocks
                        if b.low > 0 and {v.name for v in b.variables} - {v.name for v in f.variables})
    inner = sorted({v.name for v in block.variables} - {v.name for v in owner.variables})
    commands += [f"image lookup -v -a {owner.address + block.low:#x}"]
    out = lldb(exe, writer.path, *commands)
    assert "warning" not in out.lower() and "error" not in out.lower(), out
    for fn in named:
        assert f"jit`{fn.name}" in out, out
        assert f"jit.c:{fn.rows[-1][1]}" in out, out
    inside = out[out.rindex("image lookup -v -a"):]
    assert f"range = [{owner.address + block.low:#010x}-{owner.address + block.high:#010x})" in inside, inside
    assert all(f'name = "{name}"' in inside for name in inner), inside
    before = lldb(exe, writer.path, f"image lookup -v -a {owner.address:#x}")
    assert f"jit`{owner.name}" in before and not any(f'name = "{name}"' in before for name in inner), before
    # What lldb says with the fresh dSYM (still up to date from the last step) is the same, DIE ids aside.
    ids = re.compile(r"id = \{0x[0-9a-f]+\}")
    theirs = lldb(exe, fresh, *commands)
    assert ids.sub("", out.replace(str(writer.path), "B")) == ids.sub("", theirs.replace(str(fresh), "B"))


def test_a_section_that_outgrows_its_slack_moves(tmp_path: Path) -> None:
    (tmp_path / "fresh").mkdir()
    exe, base = executable(tmp_path)
    script = Script(random.Random(32), base)
    with IncrementalDsym.create(exe, UNIT, script.initial(2)) as writer:
        before = {name: list(place) for name, place in writer.target.sections.items()}
        for _ in range(40):
            writer.add(script.add_model())
        after = dict(writer.target.sections)
    assert after[".debug_info"][0] != before[".debug_info"][0], (before, after)
    write_dsym(exe, scratch_dwarf(UNIT, list(script.functions.values())), out_dir=tmp_path / "fresh")
    assert_same_program(*views(dsym_dwarf_file(writer.path), dsym_dwarf_file(tmp_path / "fresh" / "jit.dSYM")),
                        "after growing")
    assert verify(dsym_dwarf_file(writer.path)) == ""
    with IncrementalDsym.open(writer.path) as again:
        assert not again.rebuilt
    fn = next(f for f in script.functions.values() if f.rows)
    out = lldb(exe, writer.path, f"image lookup -a {fn.address + fn.rows[0][0]:#x}")
    assert f"jit`{fn.name}" in out and f"jit.c:{fn.rows[0][1]}" in out, out
