"""Call frames (.debug_frame, .eh_frame) decoded by pyelftools, readelf and llvm-dwarfdump."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from minimal_elf import EM_386, EM_AARCH64, EM_X86_64, elf_with_dwarf, open_dwarf

from dwarfkit import Address, Arch, DescriptionError, DwarfSections, Encoding, RelocKind
from dwarfkit.frame import CallFrames

# Expected unwind tables: (address, CFA rule, {register: rule}); rules as readelf -wF prints them
# ("c-16": saved at CFA-16, "s": same value, "u": undefined, "r14": in register r14).
SYMBOLS = {"f": 0x1000, "g": 0x2000}
EH_FRAME_ADDRESS = 0x8000


def x86_64_frames(enc: Encoding) -> tuple[CallFrames, list]:
    frames = CallFrames(Arch.X86_64, enc)
    # push rbp; mov rbp, rsp; ... ; pop rbp (at 20); ret (at 21); more code after ret.
    f = frames.fde(None, "f", 30)
    f.advance_to(1)
    f.def_cfa_offset(16)
    f.offset("rbp", -16)
    f.advance_to(4)
    f.def_cfa_register("rbp")
    f.advance_to(21)
    f.remember_state()
    f.def_cfa("rsp", 8)
    f.advance_to(22)
    f.restore_state()
    # No frame pointer; every other instruction kind, long advances.
    g = frames.fde(None, Address("g", 0x100), 0x20000)
    g.advance_to(4)
    g.offset(70, -24)        # register >= 64: offset_extended
    g.offset("rbx", 8)       # above the CFA: offset_extended_sf
    g.def_cfa("rsp", 48)
    g.advance_to(300)        # advance_loc2
    g.same_value("rbx")
    g.undefined("r12")
    g.register("r13", "r14")
    g.advance_to(70000)      # advance_loc4
    g.restore(70)
    g.restore("rbx")
    g.def_cfa_offset(64)
    f_table = [(0x1000, "rsp+8", {"ra": "c-8"}),
               (0x1001, "rsp+16", {"rbp": "c-16", "ra": "c-8"}),
               (0x1004, "rbp+16", {"rbp": "c-16", "ra": "c-8"}),
               (0x1015, "rsp+8", {"rbp": "c-16", "ra": "c-8"}),
               (0x1016, "rbp+16", {"rbp": "c-16", "ra": "c-8"})]
    g_table = [(0x2100, "rsp+8", {"ra": "c-8"}),
               (0x2104, "rsp+48", {"rbx": "c+8", "ra": "c-8", "xmm19": "c-24"}),
               (0x222c, "rsp+48", {"rbx": "s", "r12": "u", "r13": "r14", "ra": "c-8", "xmm19": "c-24"}),
               (0x2100 + 70000, "rsp+64", {"r12": "u", "r13": "r14", "ra": "c-8"})]
    return frames, [f_table, g_table]


def aarch64_frames(enc: Encoding) -> tuple[CallFrames, list]:
    frames = CallFrames(Arch.AARCH64, enc)
    # stp x29, x30, [sp, #-32]!; mov x29, sp; ...; ldp x29, x30, [sp], #32 (at 16); ret (at 20)
    f = frames.fde(None, "f", 24)
    f.advance_to(4)
    f.def_cfa_offset(32)
    f.offset("x29", -32)
    f.offset("x30", -24)
    f.advance_to(8)
    f.def_cfa_register("x29")
    f.advance_to(20)
    f.def_cfa("sp", 0)
    f.restore("x29")
    f.restore("x30")
    table = [(0x1000, "sp+0", {}),
             (0x1004, "sp+32", {"x29": "c-32", "ra": "c-24"}),
             (0x1008, "x29+32", {"x29": "c-32", "ra": "c-24"}),
             (0x1014, "sp+0", {})]
    return frames, [table]


def readelf_tables(path, section: str) -> list:
    """The FDE tables of ``readelf --debug-dump=frames-interp`` for one section, 'u' entries dropped."""
    text = subprocess.run([require_tool("readelf"), "--debug-dump=frames-interp", str(path)], check=True,
                          capture_output=True, text=True).stdout
    part = text.split(f"Contents of the {section} section:")[1].split("Contents of the")[0]
    tables = []
    for block in part.split("\n\n"):
        if " FDE " not in block:
            continue
        lines = [line for line in block.splitlines() if line.strip()]
        columns = lines[1].split()[2:]
        rows = []
        for line in lines[2:]:
            values = re.sub(r" \(\w+\)", "", line).split()
            rules = {c: v for c, v in zip(columns, values[2:], strict=False) if v != "u"}
            rows.append((int(values[0], 16), values[1], rules))
        tables.append(rows)
    return tables


def pyelftools_tables(entries, arch: Arch) -> list:
    """Decoded FDE tables from pyelftools in the readelf notation, to compare with the expectation."""
    names: dict[int, str] = {}
    for name, n in arch.info.registers.items():
        names.setdefault(n, name)  # x29 rather than its alias fp
    names[arch.info.return_address_register] = "ra"
    if arch is Arch.X86_64:
        names[70] = "xmm19"
    tables = []
    for entry in entries:
        if not hasattr(entry, "header") or "initial_location" not in entry.header:
            continue  # a CIE or the terminator
        rows = []
        for row in entry.get_decoded().table:
            cfa = row["cfa"]
            rules = {}
            for reg, rule in row.items():
                if reg in ("pc", "cfa"):
                    continue
                rules[names[reg]] = {"OFFSET": lambda a: f"c{a:+d}", "SAME_VALUE": lambda a: "s",
                                     "UNDEFINED": lambda a: "u", "REGISTER": lambda a: names[a]}[rule.type](rule.arg)
            rows.append((row["pc"], f"{names[cfa.reg]}+{cfa.offset}", rules))
        tables.append(rows)
    return tables


def without_undefined(tables: list) -> list:
    return [[(pc, cfa, {r: v for r, v in rules.items() if v != "u"}) for pc, cfa, rules in t] for t in tables]


def build(tmp_path, frames: CallFrames, machine: int):
    sections = DwarfSections(frames.encoding)
    sections.add(frames.debug_frame())
    sections.add(frames.eh_frame())
    return elf_with_dwarf(tmp_path / "frames.o", sections, symbols=SYMBOLS, stmt_list=None,
                          addresses={".eh_frame": EH_FRAME_ADDRESS}, machine=machine)


ENCODINGS = [Encoding(2, 4, 8), Encoding(3, 4, 8), Encoding(3, 8, 8), Encoding(4, 4, 8), Encoding(5, 4, 8),
             Encoding(5, 8, 8)]


@pytest.mark.parametrize("enc", ENCODINGS, ids=lambda e: f"v{e.version}-off{e.offset_size}")
@pytest.mark.parametrize("arch", [Arch.X86_64, Arch.AARCH64], ids=lambda a: a.info.name)
def test_unwind_tables_round_trip(tmp_path, arch, enc):
    frames, want = (x86_64_frames if arch is Arch.X86_64 else aarch64_frames)(enc)
    path = build(tmp_path, frames, EM_X86_64 if arch is Arch.X86_64 else EM_AARCH64)
    dwarf = open_dwarf(path)
    if not enc.is_dwarf64:  # pyelftools 0.33 reads a DWARF64 CIE id from inside the 12-byte length field
        assert pyelftools_tables(dwarf.CFI_entries(), arch) == want
    assert pyelftools_tables(dwarf.EH_CFI_entries(), arch) == want
    assert readelf_tables(path, ".debug_frame") == without_undefined(want)
    assert readelf_tables(path, ".eh_frame") == without_undefined(want)

    llvm = require_tool("llvm-dwarfdump-14")
    out = subprocess.run([llvm, "--debug-frame", str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and not re.search("warning|error|invalid", out.stdout + out.stderr, re.I), out.stderr
    cie_version = {2: 1, 3: 3, 4: 4, 5: 4}[enc.version]
    assert f"Version:               {cie_version}" in out.stdout
    assert ("Format:                DWARF64" in out.stdout) == enc.is_dwarf64
    assert "ZERO terminator" in out.stdout
    ranges = re.findall(r"FDE cie=\w+ pc=(\w+)\.\.\.(\w+)", out.stdout)
    starts = [t[0][0] for t in want]
    assert [int(a, 16) for a, _ in ranges] == starts * 2  # .debug_frame, then .eh_frame


def test_entries_are_padded_with_nops_to_the_address_size():
    frames, _ = x86_64_frames(Encoding(4))
    for section in (frames.debug_frame(), frames.eh_frame()):
        pos = 0
        while pos < len(section.data):
            length = int.from_bytes(section.data[pos:pos + 4], "little")
            if length == 0:
                assert pos + 4 == len(section.data)  # the .eh_frame terminator comes last
                break
            assert (length + 4) % 8 == 0
            pos += 4 + length


def test_relocations():
    frames, _ = x86_64_frames(Encoding(5, 8, 8))
    debug = frames.debug_frame()
    kinds = [(r.kind, r.target, r.size) for r in debug.relocations]
    assert kinds == [(RelocKind.SECTION, ".debug_frame", 8), (RelocKind.ADDRESS, "f", 8),
                     (RelocKind.SECTION, ".debug_frame", 8), (RelocKind.ADDRESS, "g", 8)]
    eh = frames.eh_frame()
    assert [(r.kind, r.target, r.addend, r.size) for r in eh.relocations] == [
        (RelocKind.PCREL, "f", 0, 4), (RelocKind.PCREL, "g", 0x100, 4)]


def test_eh_frame_with_plain_addresses(tmp_path):
    frames = CallFrames(Arch.X86_64, Encoding(4))
    fde = frames.fde(None, 0x1234, 8)
    fde.advance_to(1)
    fde.def_cfa_offset(16)
    with pytest.raises(DescriptionError, match=r"FDE at 0x1234: a plain address in .eh_frame needs"):
        frames.eh_frame()
    sections = DwarfSections(frames.encoding)
    sections.add(frames.eh_frame(address=EH_FRAME_ADDRESS))
    path = elf_with_dwarf(tmp_path / "p.o", sections, stmt_list=None, addresses={".eh_frame": EH_FRAME_ADDRESS})
    entries = open_dwarf(path).EH_CFI_entries()
    assert [e.header.initial_location for e in entries if hasattr(e, "header") and "initial_location" in e.header] == [
        0x1234]


def test_cie_with_other_alignment_factors(tmp_path):
    """clang's aarch64 convention: code alignment 1, data alignment -4."""
    frames = CallFrames(Arch.AARCH64, Encoding(4))
    cie = frames.cie(code_alignment=1, data_alignment=-4)
    f = frames.fde(cie, "f", 8)
    f.advance_to(4)
    f.def_cfa_offset(16)
    f.offset("x30", -4)
    sections = DwarfSections(frames.encoding)
    sections.add(frames.debug_frame())
    path = elf_with_dwarf(tmp_path / "c.o", sections, symbols=SYMBOLS, stmt_list=None, machine=EM_AARCH64)
    assert readelf_tables(path, ".debug_frame") == [[(0x1000, "sp+0", {}), (0x1004, "sp+16", {"ra": "c-4"})]]
    assert len(frames.cies) == 1  # the standard CIE is only made when used


def test_address_size_4(tmp_path):
    frames = CallFrames(Arch.X86_64, Encoding(4, 4, 4))
    f = frames.fde(None, "f", 8)
    f.advance_to(2)
    f.def_cfa("rbp", 16)
    sections = DwarfSections(frames.encoding)
    sections.add(frames.debug_frame())
    sections.add(frames.eh_frame())
    path = elf_with_dwarf(tmp_path / "c.o", sections, symbols=SYMBOLS, stmt_list=None, machine=EM_386,
                          addresses={".eh_frame": EH_FRAME_ADDRESS})
    dwarf = open_dwarf(path)
    for entries in (dwarf.CFI_entries(), dwarf.EH_CFI_entries()):
        table = [t for t in pyelftools_tables(entries, Arch.X86_64)]
        assert table == [[(0x1000, "rsp+8", {"ra": "c-8"}), (0x1002, "rbp+16", {"ra": "c-8"})]]
    llvm = require_tool("llvm-dwarfdump-14")
    out = subprocess.run([llvm, "--debug-frame", str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and "Address size:          4" in out.stdout, out.stdout + out.stderr


def test_bad_instructions_name_the_fde():
    frames = CallFrames(Arch.AARCH64, Encoding(5))
    f = frames.fde(None, "fn", 16)
    f.advance_to(8)
    with pytest.raises(DescriptionError, match=r"FDE at fn, instruction 1: location 0x4 is not in 0x8..0x10"):
        f.advance_to(4)
    with pytest.raises(DescriptionError, match=r"location 0x14 is not in"):
        f.advance_to(20)   # past the end (reaching the end itself is allowed: PLT FDEs do)
    with pytest.raises(DescriptionError, match=r"location 0xa is not a multiple of the code alignment factor 4"):
        f.advance_to(10)
    with pytest.raises(DescriptionError, match=r"offset -12 is not a multiple of the data alignment factor -8"):
        f.offset("x29", -12)
    with pytest.raises(DescriptionError, match=r"aarch64 has no register 'rbp'"):
        f.offset("rbp", -16)


def test_negative_cfa_offsets_use_the_factored_forms(tmp_path):
    """def_cfa_sf / def_cfa_offset_sf (pyelftools 0.33 factors def_cfa_sf by the wrong factor: readelf judges)."""
    frames = CallFrames(Arch.X86_64, Encoding(4))
    f = frames.fde(None, "f", 8)
    f.advance_to(1)
    f.def_cfa("rbp", -16)
    f.advance_to(2)
    f.def_cfa_offset(-24)
    sections = DwarfSections(frames.encoding)
    sections.add(frames.debug_frame())
    path = elf_with_dwarf(tmp_path / "n.o", sections, symbols=SYMBOLS, stmt_list=None)
    assert readelf_tables(path, ".debug_frame") == [[(0x1000, "rsp+8", {"ra": "c-8"}),
                                                     (0x1001, "rbp-16", {"ra": "c-8"}),
                                                     (0x1002, "rbp-24", {"ra": "c-8"})]]
    out = subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-frame", str(path)], capture_output=True,
                         text=True).stdout
    assert "DW_CFA_def_cfa_sf: RBP -16" in out and "DW_CFA_def_cfa_offset_sf: -24" in out


# -- random CFA programs against a plain model of the DWARF rules ------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

REGS = st.sampled_from([0, 3, 6, 12, 15, 16, 17, 70, 130])   # 130: the last x86-64 register (2-byte ULEB)
CFA_OPS = st.one_of(
    st.tuples(st.just("def_cfa"), REGS, st.integers(0, 5000)),
    st.tuples(st.just("def_cfa_offset"), st.integers(0, 1 << 20)),
    st.tuples(st.just("def_cfa_register"), REGS),
    st.tuples(st.just("offset"), REGS, st.integers(-300, 300).map(lambda n: 8 * n)),
    st.tuples(st.just("restore"), REGS),
    st.tuples(st.just("same_value"), REGS),
    st.tuples(st.just("undefined"), REGS),
    st.tuples(st.just("register"), REGS, REGS),
    st.tuples(st.just("remember_state")),
    st.tuples(st.just("restore_state")),
)


def model_table(start: int, steps) -> list:
    """What the DWARF rules say the table is: (pc, (cfa reg, offset), {reg: (rule, arg)}) per location."""
    initial = {16: ("OFFSET", -8)}
    cfa, rules, stack, pc = (7, 8), dict(initial), [], start
    table = []
    for advance, ops in steps:
        if advance:
            table.append((pc, cfa, dict(rules)))
            pc += advance
        for op, *args in ops:
            if op == "def_cfa":
                cfa = (args[0], args[1])
            elif op == "def_cfa_offset":
                cfa = (cfa[0], args[0])
            elif op == "def_cfa_register":
                cfa = (args[0], cfa[1])
            elif op == "offset":
                rules[args[0]] = ("OFFSET", args[1])
            elif op == "restore":
                rules.pop(args[0], None)
                if args[0] in initial:
                    rules[args[0]] = initial[args[0]]
            elif op == "same_value":
                rules[args[0]] = ("SAME_VALUE", None)
            elif op == "undefined":
                rules[args[0]] = ("UNDEFINED", None)
            elif op == "register":
                rules[args[0]] = ("REGISTER", args[1])
            elif op == "remember_state":
                stack.append((cfa, dict(rules)))
            elif op == "restore_state":
                cfa, rules = stack.pop()
    table.append((pc, cfa, dict(rules)))
    return table


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from([0, 1, 5, 63, 64, 255, 256, 70000]), st.lists(CFA_OPS, max_size=4)),
                      max_size=12),
       version=st.sampled_from([2, 3, 4, 5]), address_size=st.sampled_from([4, 8]))
def test_random_cfa_programs_decode_as_modelled(tmp_path, steps, version, address_size):
    enc = Encoding(version, 4, address_size)
    frames = CallFrames(Arch.X86_64, enc)
    fde = frames.fde(None, "f", sum(a for a, _ in steps) + 1)
    depth, kept = 0, []
    for advance, ops in steps:
        valid = []
        for op in ops:
            if op[0] == "restore_state" and depth == 0:
                continue  # nothing remembered: not a valid program
            depth += {"remember_state": 1, "restore_state": -1}.get(op[0], 0)
            valid.append(op)
        kept.append((advance, valid))
        fde.advance_to(fde.location + advance)
        for op, *args in valid:
            getattr(fde, op)(*args)
    want = [(pc, cfa, rules) for pc, cfa, rules in model_table(SYMBOLS["f"], kept)]
    sections = DwarfSections(enc)
    sections.add(frames.debug_frame())
    sections.add(frames.eh_frame())
    machine = EM_X86_64 if address_size == 8 else EM_386
    path = elf_with_dwarf(tmp_path / "r.o", sections, symbols=SYMBOLS, stmt_list=None, machine=machine,
                          addresses={".eh_frame": EH_FRAME_ADDRESS})
    dwarf = open_dwarf(path)
    for entries in (dwarf.CFI_entries(), dwarf.EH_CFI_entries()):
        fdes = [e for e in entries if hasattr(e, "header") and "initial_location" in e.header]
        got = [(row["pc"], (row["cfa"].reg, row["cfa"].offset),
                {r: (rule.type, rule.arg) for r, rule in row.items() if r not in ("pc", "cfa")})
               for row in fdes[0].get_decoded().table]
        assert got == want


def test_big_endian_frames(tmp_path):
    enc = Encoding(4, 4, 8, "big")
    frames = CallFrames(Arch.AARCH64, enc)
    f = frames.fde(None, "f", 0x40000)
    f.advance_to(4)
    f.def_cfa_offset(16)
    f.advance_to(0x3FFF0)  # advance_loc2 with a big-endian operand
    f.offset("x29", -16)
    path = build(tmp_path, frames, EM_AARCH64)
    want = [[(0x1000, "sp+0", {}), (0x1004, "sp+16", {}), (0x40FF0, "sp+16", {"x29": "c-16"})]]
    assert readelf_tables(path, ".debug_frame") == want
    assert readelf_tables(path, ".eh_frame") == want
    assert pyelftools_tables(open_dwarf(path).EH_CFI_entries(), Arch.AARCH64) == want
