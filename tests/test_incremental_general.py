"""Incremental updates on the general model: entries given as ``Die`` subtrees built with the ordinary API (types of
their own, location lists, inlined subroutines of an abstract instance that is an entry of its own), after random
edits, against the same program written from scratch by DwarfBuilder and the ordinary ELF, PE and dSYM writers
(llvm-dwarfdump's view and --verify, gdb). The DIEs of both files are made by one function of this test, once in the
writer's unit and once in a fresh builder's."""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from conftest import require_tool
from debuggers import gdb
from incremental_oracle import assert_same_program, verify, views

from dwarfkit import Address, Arch, DwarfBuilder, Expr
from dwarfkit.backends.elf import write_executable
from dwarfkit.backends.elf.incremental import IncrementalExecutable
from dwarfkit.errors import DescriptionError
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol
from dwarfkit.incremental import UnitInfo
from dwarfkit.incremental.session import IncrementalFile
from dwarfkit.info.die import Die
from dwarfkit.info.unit import CompileUnit
from dwarfkit.sections import DwarfSections

TEXT, SLOT, SLOTS = 0x401000, 0x100, 32
UNIT = UnitInfo("jit.c", "/jit", "dwarfkit test")


@dataclass(frozen=True)
class Spec:
    """One function: its code slot and size, first line, rows, and the shape of its DIEs."""

    name: str
    base: int  # the code area's start
    slot: int
    size: int
    line: int
    rows: tuple[tuple[int, int], ...]
    split: int  # where its location list changes register
    fields: int  # members of its own structure type
    inlined: bool

    @property
    def address(self) -> int:
        return self.base + SLOT * self.slot


def random_spec(rng: random.Random, name: str, slot: int, base: int = TEXT) -> Spec:
    size = rng.randrange(32, SLOT + 1, 4)
    line = rng.randrange(1, 3000)
    offsets = sorted(rng.sample(range(0, size, 4), rng.randrange(1, 8)))
    return Spec(name, base, slot, size, line, tuple((o, line + rng.randrange(0, 20)) for o in offsets),
                rng.randrange(4, size - 4, 4), rng.randrange(1, 4), rng.random() < 0.6)


def unit_dies(cu: CompileUnit) -> tuple[Die, Die]:
    """The unit-level DIEs every function refers to: ``int`` and the abstract instance of ``square``."""
    int_t = cu.base_type("int", 4, "signed")
    square = cu.die("subprogram", name="square", inline=1, type=int_t, decl_file=1, decl_line=2)
    square.die("formal_parameter", name="value", type=int_t)
    return int_t, square


def function_die(cu: CompileUnit, int_t: Die, square: Die, spec: Spec, lists: DwarfBuilder) -> Die:
    a = spec.address
    sub = cu.die("subprogram", name=spec.name, external=True, decl_file=1, decl_line=spec.line, type=int_t,
                 low_pc=a, high_pc=spec.size, frame_base=Expr().op("call_frame_cfa"))
    own = sub.die("structure_type", name=f"{spec.name}_t", byte_size=4 * spec.fields)
    for k in range(spec.fields):
        own.die("member", name=f"m{k}", type=int_t, data_member_location=4 * k)
    sub.die("variable", name="record", type=own, decl_file=1, decl_line=spec.line + 1, location=Expr().fbreg(-32))
    sub.die("variable", name="count", type=int_t, decl_file=1, decl_line=spec.line + 2,
            location=lists.location_list([(a, spec.split, Expr().reg(0)),
                                          (a + spec.split, spec.size - spec.split, Expr().fbreg(-20))]))
    if spec.inlined:
        inl = sub.die("inlined_subroutine", abstract_origin=square, low_pc=a + 4, high_pc=spec.split - 4 or 4,
                      call_file=1, call_line=spec.line + 3)
        inl.die("formal_parameter", abstract_origin=square.children[0], location=Expr().reg(1))
    return sub


def scratch(path: Path, specs: dict[str, Spec]) -> None:
    """The program written in one go by DwarfBuilder and the ELF backend (no slots, no padding)."""
    image = Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, data=b"\xcc" * SLOT * SLOTS)],
                  [Symbol("_start", ".text", 0, 1)], scratch_dwarf(specs), entry="_start")
    write_executable(image, path, addresses={".text": TEXT})


def scratch_dwarf(specs: dict[str, Spec]) -> DwarfSections:
    dw = DwarfBuilder(version=4)
    cu = dw.compile_unit(UNIT.name, comp_dir=UNIT.comp_dir, producer=UNIT.producer, language=UNIT.language,
                         low_pc=Address(None, 0),
                         ranges=dw.range_list([(Address(None, s.address), s.size) for s in specs.values()]))
    long_t = cu.base_type("long", 8, "signed")  # the incremental unit's head holds these two
    cu.pointer_type(long_t, 8)
    int_t, square = unit_dies(cu)
    for spec in specs.values():
        function_die(cu, int_t, square, spec, dw)
        seq = cu.line.sequence(Address(None, spec.address))
        seq.add_rows(list(spec.rows))
        seq.end(spec.size)
    return dw.emit(aranges=True)


class Writer:
    """The incremental file with its unit-level entries, and the functions it should hold."""

    def __init__(self, path: Path, file: IncrementalFile | None = None, base: int = TEXT) -> None:
        self.base = base
        self.file = file or IncrementalExecutable.create(path, UNIT, [], text_address=TEXT, text_size=SLOT * SLOTS)
        dwarf = self.file.dwarf
        self.int_t, self.square = unit_dies(dwarf.compile_unit)
        self.file.add(dwarf.entry(self.int_t))
        self.file.add(dwarf.entry(self.square))
        self.specs: dict[str, Spec] = {}

    def entry(self, spec: Spec):  # noqa: ANN201
        dwarf = self.file.dwarf
        die = function_die(dwarf.compile_unit, self.int_t, self.square, spec, dwarf.builder)
        return dwarf.entry(die, address=spec.address, size=spec.size, line=spec.line, rows=spec.rows)

    def step(self, rng: random.Random, count: int) -> str:
        free = [s for s in range(SLOTS) if s not in {x.slot for x in self.specs.values()}]
        kind = rng.choice(["add", "update", "move", "line", "remove"]) if len(self.specs) > 2 else "add"
        if kind == "add":
            spec = random_spec(rng, f"fn_{count}", rng.choice(free), self.base)
            self.file.add(self.entry(spec))
        else:
            old = self.specs[rng.choice(sorted(self.specs))]
            if kind == "update":
                spec = random_spec(rng, old.name, old.slot, self.base)
                self.file.update(self.entry(spec))
            elif kind == "move":
                spec = replace(old, slot=rng.choice(free))
                self.file.move(old.name, spec.address)
            elif kind == "line":
                line = rng.randrange(1, 3000)
                spec = replace(old, line=line, rows=tuple((o, ln + line - old.line) for o, ln in old.rows))
                self.file.set_line(old.name, line)
            else:
                self.file.remove(old.name)
                del self.specs[old.name]
                return kind
        self.specs[spec.name] = spec
        return kind


@pytest.mark.parametrize("seed", [1, 2])
def test_random_edits_of_general_entries_match_a_fresh_write(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    (tmp_path / "fresh").mkdir()
    path, fresh = tmp_path / "jit", tmp_path / "fresh" / "jit"
    writer = Writer(path)
    with writer.file:
        for step in range(40):
            kind = writer.step(rng, step)
            scratch(fresh, writer.specs)
            assert_same_program(*views(path, fresh), f"seed {seed}, step {step} ({kind})")
        assert verify(path) == ""
    # Reopened from the snapshot, then from the journal alone: the same program, and it goes on.
    with IncrementalExecutable.open(path) as again:
        assert (again.restored, again.rebuilt) == ("snapshot", False)
    path.with_name(path.name + ".snapshot").unlink()
    with IncrementalExecutable.open(path) as again:
        assert (again.restored, again.rebuilt) == ("journal", False)
        name = sorted(writer.specs)[0]
        again.set_line(name, 4000)
        old = writer.specs[name]
        writer.specs[name] = replace(old, line=4000, rows=tuple((o, ln + 4000 - old.line) for o, ln in old.rows))
    scratch(fresh, writer.specs)
    assert_same_program(*views(path, fresh), "after reopening")
    assert verify(path) == ""


def test_gdb_sees_types_lists_and_inlined_calls(tmp_path: Path) -> None:
    require_tool("gdb")
    rng = random.Random(5)
    path, fresh = tmp_path / "jit", tmp_path / "fresh"
    writer = Writer(path)
    with writer.file:
        for step in range(12):
            writer.step(rng, step)
        spec = next(s for s in writer.specs.values() if s.inlined)
    scratch(fresh, writer.specs)
    commands = [f"info scope {spec.name}", f"info line *{spec.address + 4:#x}", "info functions fn_"]
    ours = gdb(path, commands, before=["set complaints 1000"])
    assert "During symbol reading" not in ours and "warning" not in ours.lower(), ours
    assert f"Symbol {spec.name}_t" in ours and "count is multi-location" in ours and "record" in ours, ours
    assert ours.replace(str(path), "F") == gdb(fresh, commands).replace(str(fresh), "F")


def test_an_entry_referred_to_cannot_go_and_its_change_reaches_the_referrers(tmp_path: Path) -> None:
    rng = random.Random(9)
    path = tmp_path / "jit"
    writer = Writer(path)
    with writer.file:
        spec = replace(random_spec(rng, "user", 1), inlined=True)
        writer.file.add(writer.entry(spec))
        writer.specs[spec.name] = spec
        with pytest.raises(DescriptionError, match="'square' cannot go: 'user' refer"):
            writer.file.remove("square")
        # The abstract instance grows (a second parameter) and moves out of its slot: the inlined call follows it.
        cu = writer.file.dwarf.compile_unit
        bigger = cu.die("subprogram", name="square", inline=1, type=writer.int_t, decl_file=1, decl_line=2)
        bigger.die("formal_parameter", name="value", type=writer.int_t)
        bigger.die("formal_parameter", name="scale_factor_of_the_square", type=writer.int_t)
        writer.file.update(writer.file.dwarf.entry(bigger))
    dw_view = views(path)[0]
    inlined = [d for d in _walk(dw_view.dies) if d[0] == "DW_TAG_inlined_subroutine"]
    assert inlined and all(any('abstract_origin\t("square")' in a for a in d[1]) for d in inlined), inlined
    assert verify(path) == ""


def _walk(dies: tuple) -> list[tuple]:
    out = []
    for die in dies:
        out.append(die)
        out += _walk(die[2])
    return out


def test_random_edits_of_general_entries_in_a_pe_image_and_a_dsym(tmp_path: Path) -> None:
    """The same script on the two other containers, each against a fresh write of its own kind."""
    from macho_tools import dsym_dwarf_file
    from test_incremental_dsym import executable
    from test_incremental_pe import ENTRY

    from dwarfkit.backends.coff import write_pe
    from dwarfkit.backends.coff.incremental import IncrementalImage
    from dwarfkit.backends.macho_dsym import write_dsym
    from dwarfkit.backends.macho_dsym.incremental import IncrementalDsym

    (tmp_path / "pe").mkdir()
    (tmp_path / "macho" / "fresh").mkdir(parents=True)
    pe_base = IncrementalImage.text_address() + SLOT  # the arena's first slot holds the entry code
    pe = Writer(tmp_path / "pe" / "jit.exe", IncrementalImage.create(tmp_path / "pe" / "jit.exe", UNIT, [], code=ENTRY,
                                                                    text_size=SLOT * (SLOTS + 1)), pe_base)
    exe, macho_base = executable(tmp_path / "macho")
    dsym = Writer(exe, IncrementalDsym.create(exe, UNIT, []), macho_base)
    rng = random.Random(3)
    with pe.file, dsym.file:
        for step in range(25):
            kinds = pe.step(rng, step), dsym.step(rng, step)
            image = Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE,
                                                       data=b"\xcc" * SLOT * (SLOTS + 1))],
                          [Symbol("_start", ".text", 0, 1)], scratch_dwarf(pe.specs), entry="_start")
            write_pe(image, tmp_path / "pe" / "fresh.exe")
            assert_same_program(*views(pe.file.path, tmp_path / "pe" / "fresh.exe"), f"pe, step {step} {kinds}")
            write_dsym(exe, scratch_dwarf(dsym.specs), out_dir=tmp_path / "macho" / "fresh")
            assert_same_program(*views(dsym_dwarf_file(dsym.file.path),
                                       dsym_dwarf_file(tmp_path / "macho" / "fresh" / "jit.dSYM")),
                                f"dsym, step {step} {kinds}")
        assert verify(pe.file.path) == ""
        assert verify(dsym_dwarf_file(dsym.file.path)) == ""
