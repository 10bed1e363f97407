"""Every section the core emits, read back by pyelftools and checked by llvm-dwarfdump --verify.

Programs are described here, emitted, wrapped in a minimal ELF object (tests/core_support.py) and compared with what
pyelftools decodes: DWARF 2-5, 32/64-bit, address size 4/8, hand-written programs and random DIE trees.
"""
from __future__ import annotations

import itertools
import subprocess

import pytest
from conftest import require_tool
from core_support import dwarfinfo, verify, write_elf
from elftools.dwarf.dwarf_expr import DWARFExprParser

from dwarfkit import Address, DescriptionError, Encoding
from dwarfkit.expr import Expr
from dwarfkit.program import DwarfBuilder

CONFIGS = [(v, o, a) for v, o, a in itertools.product((2, 3, 4, 5), (4, 8), (4, 8)) if not (v == 2 and o == 8)]
IDS = [f"v{v}-{'dwarf64' if o == 8 else 'dwarf32'}-addr{a}" for v, o, a in CONFIGS]
BASE = 0x1000


def by_offset(di):
    """Every DIE pyelftools reads, by section offset."""
    return {die.offset: die for cu in di.iter_CUs() for die in cu.iter_DIEs()}


def ops(di, cu, value):
    parser = DWARFExprParser(di.structs if cu is None else cu.structs)
    return [(op.op_name, list(op.args)) for op in parser.parse_expr(value)]


def build_sample(version: int, offset_size: int, address_size: int, byteorder: str = "little", **options):
    """A program using every kind of attribute value; returns (builder, dict of interesting DIEs)."""
    dw = DwarfBuilder(Encoding(version=version, offset_size=offset_size, address_size=address_size,
                               byteorder=byteorder), **options)
    cu = dw.compile_unit("main.c", comp_dir="/work/src", producer="dwarfkit test", language="C99",
                         low_pc=BASE, high_pc=0x200)
    d = {"cu": cu.root}
    int_t = d["int"] = cu.base_type("int", 4, "signed")
    char_t = cu.base_type("char", 1, "signed_char")
    d["ptr"] = cu.pointer_type(char_t)
    d["cptr"] = cu.pointer_type(cu.const_type(char_t))
    d["volatile"] = cu.volatile_type(int_t)
    d["typedef"] = cu.typedef("my_int_with_a_long_name", int_t)
    d["struct"] = cu.struct_type("point", 12, [("x", int_t, 0), ("y", int_t, 4), ("lo", int_t, 8, 3),
                                               ("hi", int_t, 8, 5, 3)])
    d["union"] = cu.union_type("u", 4, [("i", int_t, 0), ("c", char_t, 0)])
    d["array"] = cu.array_type(int_t, [4, (1, 10)])
    d["enum"] = cu.enumeration_type("color", 4, [("RED", 0), ("GREEN", 1), ("NEG", -5)], type=int_t)
    d["fnptr"] = cu.pointer_type(cu.subroutine_type(int_t, [int_t, d["ptr"]], varargs=True))
    main = d["main"] = cu.die("subprogram", name="main", external=True, decl_file=1, decl_line=10, type=int_t,
                              low_pc=BASE, high_pc=0x100, frame_base=Expr().call_frame_cfa())
    d["argc"] = main.die("formal_parameter", name="argc", decl_file="main.c", decl_line=10, type=int_t,
                         location=Expr().fbreg(-20))
    d["hdr"] = main.die("variable", name="from_header", decl_file=cu.file("util.h", "/work/include"),
                        decl_line=70000, type=d["typedef"], location=Expr().breg(6, -8).deref())
    block = d["block"] = main.die("lexical_block", low_pc=BASE + 0x10, high_pc=0x20)
    d["local"] = block.die("variable", name="i", type=int_t, const_value=-123456789)
    d["global"] = cu.die("variable", name="counter", type=d["volatile"], external=True, decl_line=3,
                         location=Expr().addr(0x4000))
    d["later"] = cu.die("variable", name="uses_later_type", type=None)  # type set below: a forward reference
    late_t = cu.base_type("long long", 8, "signed")
    d["later"].set("type", late_t)
    d["late"] = late_t
    d["big"] = cu.die("variable", name="big", type=late_t, const_value=0xFEDCBA9876543210)
    d["blob"] = cu.die("variable", name="blob", type=int_t, const_value=b"\x01\x02\x03\x04")
    d["ranges"] = cu.die("subprogram", name="split", ranges=[(BASE + 0x100, 0x40), (BASE + 0x180, 0x20)])
    d["loclist"] = main.die("variable", name="moving", type=int_t, location=dw.location_list(
        [(BASE, 0x10, Expr().reg(0)), (BASE + 0x10, 0x30, Expr().fbreg(-24))]))
    seq = cu.line.sequence(BASE)
    for i, line in enumerate((10, 11, 12, 14)):
        seq.row(0x40 * i, line)
    seq.end(0x100)
    seq = cu.line.sequence(BASE + 0x100)
    seq.row(0, 30)
    seq.end(0x100)
    # A second unit refers to the first one's type (ref_addr) and shares its abbreviations.
    cu2 = dw.compile_unit("other.c", comp_dir="/work/src", producer="dwarfkit test", language="C99",
                          low_pc=BASE + 0x200, high_pc=0x10)
    d["cu2"] = cu2.root
    d["cross"] = cu2.die("variable", name="shared", type=int_t, external=True, declaration=True)
    d["cu2_fn"] = cu2.die("subprogram", name="other", low_pc=BASE + 0x200, high_pc=0x10, type=d["late"])
    d["cu2_type"] = cu2.base_type("only_in_other", 2, "unsigned")
    d["forward_cross"] = cu.die("variable", name="forward_across_units", type=d["cu2_type"])
    cu2.line.sequence(BASE + 0x200).row(0, 1)
    cu2.line.sequences[0].end(0x10)
    return dw, d


@pytest.mark.parametrize("version,offset_size,address_size,byteorder",
                         [c + ("little",) for c in CONFIGS] + [(4, 4, 8, "big"), (5, 8, 4, "big")],
                         ids=IDS + ["v4-dwarf32-addr8-big", "v5-dwarf64-addr4-big"])
def test_sample_program_round_trips_and_verifies(tmp_path, version, offset_size, address_size, byteorder):
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw, d = build_sample(version, offset_size, address_size, byteorder)
    sections = dw.emit()
    path = write_elf(tmp_path / "sample.o", sections)
    verify(path, dwarfdump)
    di = dwarfinfo(path)
    dies = by_offset(di)
    cus = list(di.iter_CUs())
    assert [cu.header["version"] for cu in cus] == [version, version]
    assert all(cu.header["address_size"] == address_size for cu in cus)
    assert all(cu.structs.dwarf_format == offset_size * 8 for cu in cus)

    def attr(key, name):
        return dies[d[key].offset].attributes[f"DW_AT_{name}"]

    def target(key, name="type"):
        return dies[d[key].offset].get_DIE_from_attribute(f"DW_AT_{name}").offset

    root = dies[d["cu"].offset]
    assert root.tag == "DW_TAG_compile_unit"
    assert root.get_full_path() == "/work/src/main.c"
    assert attr("cu", "producer").value == b"dwarfkit test"
    assert attr("cu", "language").value == 0x0C   # DW_LANG_C99
    assert attr("cu", "low_pc").value == BASE
    high = attr("cu", "high_pc")
    assert (high.value if version < 4 else BASE + high.value) == BASE + 0x200
    assert dies[d["int"].offset].attributes["DW_AT_name"].value == b"int"
    assert attr("int", "encoding").value == 5      # DW_ATE_signed
    assert target("ptr") == dies[d["ptr"].offset].get_DIE_from_attribute("DW_AT_type").offset
    assert attr("ptr", "byte_size").value == address_size
    assert attr("typedef", "name").value == b"my_int_with_a_long_name"
    assert target("typedef") == d["int"].offset
    assert target("main") == d["int"].offset
    assert attr("main", "external").value
    assert attr("main", "decl_line").value == 10
    assert attr("hdr", "decl_line").value == 70000
    assert target("hdr") == d["typedef"].offset
    assert target("later") == d["late"].offset      # a reference made before its target existed
    assert target("cross") == d["int"].offset       # across units
    assert target("cu2_fn") == d["late"].offset
    assert target("forward_cross") == d["cu2_type"].offset   # into a unit laid out later
    assert dies[d["cross"].offset].attributes["DW_AT_type"].form == "DW_FORM_ref_addr"
    assert attr("local", "const_value").value == -123456789
    assert attr("big", "const_value").value == 0xFEDCBA9876543210
    assert bytes(attr("blob", "const_value").value) == b"\x01\x02\x03\x04"
    assert ops(di, cus[0], attr("argc", "location").value) == [("DW_OP_fbreg", [-20])]
    assert ops(di, cus[0], attr("hdr", "location").value) == [("DW_OP_breg6", [-8]), ("DW_OP_deref", [])]
    assert ops(di, cus[0], attr("global", "location").value) == [("DW_OP_addr", [0x4000])]
    assert ops(di, cus[0], attr("main", "frame_base").value) == [("DW_OP_call_frame_cfa", [])]
    # Files: decl_file indices resolve to names in the unit's line program.
    line = di.line_program_for_CU(cus[0])
    files = line["file_entry"]
    hdr_file = files[attr("hdr", "decl_file").value - (1 if version < 5 else 0)]
    assert hdr_file.name == b"util.h"
    assert attr("argc", "decl_file").value == attr("main", "decl_file").value
    # Struct members and bit fields.
    members = {m.attributes["DW_AT_name"].value: m for m in dies[d["struct"].offset].iter_children()}
    assert set(members) == {b"x", b"y", b"lo", b"hi"}
    if version >= 4:
        assert members[b"hi"].attributes["DW_AT_data_bit_offset"].value == 8 * 8 + 3
        assert members[b"hi"].attributes["DW_AT_bit_size"].value == 5
    else:
        assert members[b"hi"].attributes["DW_AT_bit_offset"].value == 32 - 3 - 5
    # Arrays: bounds.
    subranges = list(dies[d["array"].offset].iter_children())
    assert [s.attributes["DW_AT_upper_bound"].value for s in subranges] == [3, 10]
    assert subranges[1].attributes["DW_AT_lower_bound"].value == 1
    enumerators = {e.attributes["DW_AT_name"].value: e.attributes["DW_AT_const_value"].value
                   for e in dies[d["enum"].offset].iter_children()}
    assert enumerators == {b"RED": 0, b"GREEN": 1, b"NEG": -5}
    # .debug_aranges: from each unit's low_pc/high_pc.
    if offset_size == 4:   # pyelftools reads .debug_aranges in the 32-bit format only
        aranges = di.get_aranges()
        assert aranges.cu_offset_at_addr(BASE + 0x10) == cus[0].cu_offset
        assert aranges.cu_offset_at_addr(BASE + 0x208) == cus[1].cu_offset
    else:
        dump = subprocess.run([dwarfdump, "--debug-aranges", str(path)], capture_output=True, text=True).stdout
        width = 2 * address_size
        assert f"[0x{BASE:0{width}x}, 0x{BASE + 0x200:0{width}x})" in dump
        assert f"cu_offset = 0x{cus[1].cu_offset:016x}" in dump
    # Range and location lists.
    ranges_attr = attr("ranges", "ranges")
    range_lists = di.range_lists()
    if version >= 5:
        entries = range_lists.get_range_list_at_offset(ranges_attr.value, cu=cus[0])
    else:
        entries = range_lists.get_range_list_at_offset(ranges_attr.value)
    # The unit's base address (its DW_AT_low_pc) starts a DWARF 2-4 list's base, as the standard says.
    top = cus[0].get_top_DIE().attributes
    cu_base = top["DW_AT_low_pc"].value if "DW_AT_low_pc" in top else 0
    assert resolve_ranges(entries, cu_base) == [(BASE + 0x100, BASE + 0x140), (BASE + 0x180, BASE + 0x1A0)]
    loc_attr = attr("loclist", "location")
    loc_lists = di.location_lists()
    if version >= 5:
        entries = loc_lists.get_location_list_at_offset(loc_attr.value, die=dies[d["loclist"].offset])
    else:
        entries = loc_lists.get_location_list_at_offset(loc_attr.value)
    assert [(b, e, ops(di, cus[0], x)) for b, e, x in resolve_locations(entries, cu_base)] == [
        (BASE, BASE + 0x10, [("DW_OP_reg0", [])]), (BASE + 0x10, BASE + 0x40, [("DW_OP_fbreg", [-24])])]


def resolve_ranges(entries, base=0):
    """[(begin, end)] from the unit's base address, with base address selection entries applied (pyelftools returns
    them raw)."""
    out = []
    for entry in entries:
        name = type(entry).__name__
        if name == "BaseAddressEntry":
            base = entry.base_address
        elif entry.is_absolute:
            out.append((entry.begin_offset, entry.end_offset))
        else:
            out.append((base + entry.begin_offset, base + entry.end_offset))
    return out


def resolve_locations(entries, base=0):
    out = []
    for entry in entries:
        if type(entry).__name__ == "BaseAddressEntry":
            base = entry.base_address
        elif entry.is_absolute:
            out.append((entry.begin_offset, entry.end_offset, entry.loc_expr))
        else:
            out.append((base + entry.begin_offset, base + entry.end_offset, entry.loc_expr))
    return out


@pytest.mark.parametrize("offset_size", [4, 8])
def test_indexed_forms_round_trip(tmp_path, offset_size):
    """DWARF 5 indexed mode: strx, addrx, rnglistx, loclistx, with the unit's bases set automatically."""
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw, d = build_sample(5, offset_size, 8, indexed=True)
    sections = dw.emit()
    assert {".debug_str_offsets", ".debug_addr", ".debug_rnglists", ".debug_loclists"} <= set(sections.sections)
    path = write_elf(tmp_path / "indexed.o", sections)
    verify(path, dwarfdump)
    di = dwarfinfo(path)
    dies = by_offset(di)
    main = dies[d["main"].offset]
    assert main.attributes["DW_AT_name"].form.startswith("DW_FORM_strx")
    assert main.attributes["DW_AT_name"].value == b"main"
    assert main.attributes["DW_AT_low_pc"].form.startswith("DW_FORM_addrx")
    root = dies[d["cu"].offset]
    for base in ("str_offsets_base", "addr_base", "rnglists_base", "loclists_base"):
        assert f"DW_AT_{base}" in root.attributes, base
    assert dies[d["ranges"].offset].attributes["DW_AT_ranges"].form == "DW_FORM_rnglistx"
    assert dies[d["loclist"].offset].attributes["DW_AT_location"].form == "DW_FORM_loclistx"
    # llvm-dwarfdump resolves the indexes through the bases: compare its view with what was described.
    import subprocess
    dump = subprocess.run([dwarfdump, "--debug-info", str(path)], capture_output=True, text=True).stdout
    assert '"my_int_with_a_long_name"' in dump
    assert f"[0x{BASE + 0x100:016x}, 0x{BASE + 0x140:016x})" in dump
    assert f"[0x{BASE + 0x10:016x}, 0x{BASE + 0x40:016x}): DW_OP_fbreg -24" in dump
    assert "DW_AT_low_pc [DW_FORM_addrx]" in subprocess.run([dwarfdump, "-v", "--debug-info", str(path)],
                                                          capture_output=True, text=True).stdout
    aranges = subprocess.run([dwarfdump, "--debug-aranges", str(path)], capture_output=True, text=True).stdout
    assert f"[0x{BASE:016x}, 0x{BASE + 0x200:016x})" in aranges   # the unit's indexed low_pc, resolved


@pytest.mark.parametrize("version", [2, 4, 5])
def test_symbolic_addresses_become_relocations(tmp_path, version):
    """Addresses on symbols leave ADDRESS relocations; resolving them gives what pyelftools reads."""
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw = DwarfBuilder(Encoding(version=version, address_size=8))
    cu = dw.compile_unit("s.c", comp_dir="/s", low_pc=Address("text"), high_pc=0x60)
    int_t = cu.base_type("int", 4, "signed")
    fn = cu.die("subprogram", name="f", low_pc=Address("f"), high_pc=0x20, type=int_t)
    fn.die("variable", name="g", type=int_t, location=Expr().addr(Address("g", 8)))
    cu.die("subprogram", name="h", ranges=[(Address("h"), 0x10), (Address("h", 0x18), 0x8)])
    k = cu.die("subprogram", name="k", low_pc="k", high_pc=4)   # a symbol by name
    seq = cu.line.sequence(Address("f"))
    seq.row(0, 1)
    seq.end(0x20)
    sections = dw.emit()
    info = sections[".debug_info"]
    kinds = {(r.kind.value, r.target) for r in info.relocations}
    assert ("address", "f") in kinds and ("address", "g") in kinds and ("address", "text") in kinds
    assert ("section", ".debug_abbrev") in kinds and ("section", ".debug_line") in kinds
    assert ("entry", ".debug_info") in kinds
    for r in info.relocations:   # the stored bytes hold the addend (sections.py's contract)
        if r.kind.value in ("unit", "section", "address"):
            assert int.from_bytes(info.data[r.offset:r.offset + r.size], "little") == r.addend & ((1 << 64) - 1)
    symbols = {"text": 0x400000, "f": 0x400000, "g": 0x600000, "h": 0x400020, "k": 0x400050}
    assert sections.symbols() == {"text", "f", "g", "h", "k"}
    path = write_elf(tmp_path / "sym.o", sections, symbols)
    verify(path, dwarfdump)
    di = dwarfinfo(path)
    cu_p = next(di.iter_CUs())
    dies = {d.offset: d for d in cu_p.iter_DIEs()}
    assert dies[fn.offset].attributes["DW_AT_low_pc"].value == 0x400000
    assert dies[k.offset].attributes["DW_AT_low_pc"].value == 0x400050
    g = next(c for c in dies[fn.offset].iter_children())
    assert ops(di, cu_p, g.attributes["DW_AT_location"].value) == [("DW_OP_addr", [0x600008])]
    lines = di.line_program_for_CU(cu_p).get_entries()
    assert any(e.state is not None and e.state.address == 0x400000 for e in lines)


def test_abbreviations_are_shared_across_units():
    dw = DwarfBuilder(Encoding(version=5))
    for name in ("a.c", "b.c", "c.c"):
        cu = dw.compile_unit(name, comp_dir="/x", producer="p", language="C11")
        t = cu.base_type("int", 4, "signed")
        for i in range(5):
            cu.die("variable", name=f"variable_{i}", type=t, decl_file=1, decl_line=i + 1)
    sections = dw.emit()
    # compile_unit, base_type and one variable shape (decl_line always fits data1).
    assert len(dw.abbrevs) == 3
    # Strings are stored once, across units; the units' directory once in .debug_line_str.
    assert bytes(sections[".debug_str"].data).count(b"variable_0\0") == 1
    assert bytes(sections[".debug_line_str"].data).count(b"/x\0") == 1


def test_finished_units_release_their_dies_and_can_still_be_referred_to(tmp_path):
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw = DwarfBuilder(Encoding(version=4, address_size=8))
    first = dw.compile_unit("one.c", comp_dir="/x")
    t = first.base_type("int", 4, "signed")
    forward = first.die("variable", name="fwd")
    dw.finish(first)
    assert first.root.children is None and t.offset is not None
    second = dw.compile_unit("two.c", comp_dir="/x")
    v = second.die("variable", name="v", type=t)
    later_t = second.base_type("long", 8, "signed")
    with pytest.raises(DescriptionError, match="already emitted"):
        forward.set("type", later_t)   # its unit is already emitted
    path = write_elf(tmp_path / "stream.o", dw.emit())
    verify(path, dwarfdump)
    dies = by_offset(dwarfinfo(path))
    assert dies[v.offset].get_DIE_from_attribute("DW_AT_type").offset == t.offset


def test_pinned_indexed_lists_in_a_program_without_indexed_forms(tmp_path):
    """rnglistx/loclistx by request only: the unit gets rnglists_base/loclists_base, entries keep plain addresses."""
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw = DwarfBuilder(Encoding(version=5))
    cu = dw.compile_unit("p.c", comp_dir="/p", low_pc=BASE, high_pc=0x100)
    int_t = cu.base_type("int", 4, "signed")
    fn = cu.die("subprogram", name="f", type=int_t)
    fn.set("ranges", dw.range_list([(BASE, 0x10), (BASE + 0x20, 0x10)]), form="rnglistx")
    direct = cu.die("subprogram", name="g", ranges=[(BASE + 0x40, 0x8)])   # sec_offset, in the same section
    v = fn.die("variable", name="v", type=int_t)
    v.set("location", dw.location_list([(BASE, 0x10, Expr().reg(3))]), form="loclistx")
    path = write_elf(tmp_path / "pinned.o", dw.emit())
    verify(path, dwarfdump)
    dump = subprocess.run([dwarfdump, "--debug-info", str(path)], capture_output=True, text=True).stdout
    assert f"[0x{BASE:016x}, 0x{BASE + 0x10:016x})" in dump and f"[0x{BASE + 0x40:016x}, 0x{BASE + 0x48:016x})" in dump
    assert f"[0x{BASE:016x}, 0x{BASE + 0x10:016x}): DW_OP_reg3" in dump
    assert "DW_AT_rnglists_base" in dump and "DW_AT_loclists_base" in dump and "DW_AT_addr_base" not in dump
    assert direct.form("ranges") == 0x17   # DW_FORM_sec_offset


def test_one_call_shape_with_values_of_every_size_and_kind(tmp_path):
    """DIEs made by the same call shape take the form each value needs (cached per shape, not per first value):
    constants of 1, 2 and 4 bytes, inline and strp names, an unset attribute, a reference across units, a plain
    and a symbolic address, and an expression that changes between two uses."""
    dwarfdump = require_tool("llvm-dwarfdump-14")
    dw = DwarfBuilder(Encoding(version=5, address_size=8))
    other = dw.compile_unit("other.c", comp_dir="/s")
    far_t = other.base_type("long", 8, "signed")
    dw.finish(other)
    cu = dw.compile_unit("s.c", comp_dir="/s", low_pc=0x1000, high_pc=0x100)
    int_t = cu.base_type("int", 4, "signed")
    loc = Expr().fbreg(-8)
    made = []
    for i, (line, name, type_, low) in enumerate([(7, "ab", int_t, 0x1000), (300, "a_long_name", None, 0x1010),
                                                  (70000, "xy", far_t, Address("f", 4)), (8, "ab", int_t, 0x1030)]):
        if i == 2:
            loc.deref()   # the same Expr object, changed after it was used
        made.append(cu.die("variable", name=name, decl_line=line, type=type_, location=loc, low_pc=low))
    path = write_elf(tmp_path / "shapes.o", dw.emit(), {"f": 0x2000})
    verify(path, dwarfdump)
    di = dwarfinfo(path)
    dies = by_offset(di)
    cu_p = [c for c in di.iter_CUs()][1]
    read = [dies[d.offset] for d in made]
    assert [d.attributes["DW_AT_decl_line"].form for d in read] == ["DW_FORM_data1", "DW_FORM_data2",
                                                                   "DW_FORM_data4", "DW_FORM_data1"]
    assert [d.attributes["DW_AT_decl_line"].value for d in read] == [7, 300, 70000, 8]
    assert [d.attributes["DW_AT_name"].form for d in read] == ["DW_FORM_string", "DW_FORM_strp", "DW_FORM_string",
                                                              "DW_FORM_string"]
    assert [d.attributes["DW_AT_name"].value for d in read] == [b"ab", b"a_long_name", b"xy", b"ab"]
    assert "DW_AT_type" not in read[1].attributes
    assert read[0].get_DIE_from_attribute("DW_AT_type").offset == int_t.offset
    assert read[2].attributes["DW_AT_type"].form == "DW_FORM_ref_addr"
    assert read[2].get_DIE_from_attribute("DW_AT_type").offset == far_t.offset
    assert [d.attributes["DW_AT_low_pc"].value for d in read] == [0x1000, 0x1010, 0x2004, 0x1030]
    assert [ops(di, cu_p, d.attributes["DW_AT_location"].value) for d in read] == (
        [[("DW_OP_fbreg", [-8])]] * 2 + [[("DW_OP_fbreg", [-8]), ("DW_OP_deref", [])]] * 2)
