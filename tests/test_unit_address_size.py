"""A unit with an address size of its own: 4-byte addresses beside 8-byte ones in one program (as gdb's variant.exp
writes), with its DW_FORM_addr fields, line program, range and location lists and .debug_aranges set all 4 bytes
wide. Judged by llvm-dwarfdump-14 (dump and --verify), our verify, and gdb in an executable and a linked object."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import require_tool

from dwarfkit import Address, ContentSection, DwarfBuilder, Expr, Image, SectionKind, Symbol, SymbolKind
from dwarfkit.asm import assemble
from dwarfkit.backends.elf import write_executable, write_object
from dwarfkit.errors import DwarfkitError, EncodingError

CODE = [("_start", "call main\nmov edi, eax\nmov eax, 60\nsyscall"),
        ("main", "mov edi, 5\ncall twice\nret"),
        ("twice", "lea eax, [rdi+rdi]\nret")]


def program(object_file: bool = False) -> Image:
    asm = assemble("x86_64", CODE)
    dw = DwarfBuilder(version=5, address_size=8)
    wide = dw.compile_unit("main.c", comp_dir="/src", producer="test", language="C11",
                           low_pc=Address("main"), high_pc=asm.functions["main"][1] - asm.functions["main"][0])
    int_t = wide.base_type("int", 4, "signed")
    wide.die("subprogram", name="main", type=int_t, external=True, decl_file=1, decl_line=1, low_pc=Address("main"),
             high_pc=asm.functions["main"][1] - asm.functions["main"][0], frame_base=Expr().op("call_frame_cfa"))
    narrow = dw.compile_unit("twice.c", comp_dir="/src", producer="test", language="C11", address_size=4)
    length = asm.functions["twice"][1] - asm.functions["twice"][0]
    narrow.root.set("ranges", dw.range_list([(Address("twice"), length)], narrow))
    n_int = narrow.base_type("int", 4, "signed")
    fn = narrow.die("subprogram", name="twice", type=n_int, external=True, decl_file=1, decl_line=3,
                    low_pc=Address("twice"), high_pc=length, frame_base=Expr().op("call_frame_cfa"))
    fn.die("formal_parameter", name="n", type=n_int, decl_file=1, decl_line=3,
           location=dw.location_list([(Address("twice"), length, Expr().reg(5))], narrow))
    # DW_OP_addr in the 4-byte unit: 4 bytes of address (load decodes it with the unit's size)
    fn.die("variable", name="here", type=n_int, location=Expr().addr(Address("twice")))
    for unit, name, line in ((wide, "main", 1), (narrow, "twice", 3)):
        start, end = asm.functions[name]
        seq = unit.line.sequence(Address(name))
        seq.row(0, line)
        seq.end(end - start)
    symbols = [Symbol(name, ".text", start, end - start, SymbolKind.FUNCTION)
               for name, (start, end) in asm.functions.items()]
    return Image("x86_64", [ContentSection(".text", SectionKind.CODE, asm.code)], symbols, dw.emit())


def test_a_4_byte_unit_beside_an_8_byte_one(tmp_path: Path) -> None:
    tool = require_tool("llvm-dwarfdump-14")
    exe = tmp_path / "prog"
    write_executable(program(), exe)
    info = subprocess.run([tool, "--debug-info", "--debug-aranges", "--debug-rnglists", "--debug-loclists",
                           "--debug-line", str(exe)], capture_output=True, text=True, check=True).stdout
    headers = [line for line in info.splitlines() if "Compile Unit:" in line]
    assert ["addr_size = 0x08" in headers[0], "addr_size = 0x04" in headers[1]] == [True, True], headers
    assert "addr_size = 0x04, seg_size = 0x00" in info and "addr_size = 0x08, seg_size = 0x00" in info  # aranges
    lists = [line for line in info.splitlines() if "offset_entry_count" in line]   # list contribution headers
    assert any("addr_size = 0x04" in line for line in lists), lists
    programs = [line.split()[-1] for line in info.splitlines() if line.strip().startswith("address_size:")]
    assert programs == ["8", "4"], programs   # each line program's header
    verified = subprocess.run([tool, "--verify", str(exe)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout
    ours = subprocess.run(["python3", "-m", "dwarfkit", "verify", str(exe)], capture_output=True, text=True)
    assert ours.returncode == 0, ours.stdout


@pytest.mark.parametrize("linked", ["executable", "object"])
def test_gdb_reads_the_4_byte_unit(tmp_path: Path, linked: str) -> None:
    require_tool("gdb")
    exe = tmp_path / "prog"
    if linked == "object":
        write_object(program(), tmp_path / "prog.o")
        subprocess.run([require_tool("ld"), "-o", str(exe), str(tmp_path / "prog.o")], check=True)
    else:
        write_executable(program(), exe)
    from dwarfkit import debuggers
    session = debuggers.gdb(exe, breakpoints=["twice"], commands_per_stop=["info args", "bt"], max_stops=1)
    stop = session.stops[0]
    assert (stop.function, stop.file, stop.line) == ("twice", "twice.c", 3)
    assert [(v.name, v.value) for v in stop.args] == [("n", "5")]
    assert [f.function for f in stop.frames][:2] == ["twice", "main"]


def test_load_convert_and_describe_a_file_of_mixed_address_sizes(tmp_path: Path) -> None:
    """dwarfkit.load keeps each unit's address size (expressions decoded with it); convert and describe/build give
    the same DWARF back as llvm-dwarfdump-14 reads it."""
    require_tool("llvm-dwarfdump-14")
    from roundtrip import assert_same_dwarf

    import dwarfkit
    exe = tmp_path / "prog"
    write_executable(program(), exe)
    dw = dwarfkit.load(exe)
    assert [unit.encoding.address_size for unit in dw.units] == [8, 4]
    here = dw.units[1].root.children[-1].children[-1]
    encoded, _ = here.get("location").encode(dw.units[1].encoding)
    assert here.get("name") == "here" and encoded[0] == 0x03 and len(encoded) == 5   # DW_OP_addr + 4 bytes
    dwarfkit.convert(exe, tmp_path / "converted")
    assert_same_dwarf(exe, tmp_path / "converted")
    (tmp_path / "prog.yaml").write_text(yaml.safe_dump(dwarfkit.describe(exe), sort_keys=False))
    dwarfkit.build(yaml.safe_load((tmp_path / "prog.yaml").read_text())).write(tmp_path / "rebuilt")
    assert_same_dwarf(exe, tmp_path / "rebuilt")


def test_what_cannot_mix_is_refused() -> None:
    with pytest.raises(EncodingError, match="not 4 or 8"):
        DwarfBuilder(version=5).compile_unit("a.c", address_size=2)
    with pytest.raises(EncodingError, match="indexed forms"):
        DwarfBuilder(version=5, indexed=True).compile_unit("a.c", address_size=4)
    dw = DwarfBuilder(version=5)
    narrow = dw.compile_unit("a.c", address_size=4)
    with pytest.raises(DwarfkitError, match="another DWARF version or address size"):
        narrow.root.set("ranges", dw.range_list([(0x1000, 4)]))
    with pytest.raises(DwarfkitError, match="does not fit 4 bytes"):
        narrow.die("subprogram", name="f", low_pc=Address(None, 1 << 33), high_pc=4)


def test_a_description_gives_a_unit_its_own_address_size(tmp_path: Path) -> None:
    """`address_size: 4` on a unit (here a DWARF 4 one in a DWARF 5 program, with a location list)."""
    tool = require_tool("llvm-dwarfdump-14")
    import dwarfkit
    built = dwarfkit.build({
        "functions": {"main": "mov eax, 3\nret"},
        "units": [{"name": "a.c", "address_size": 4, "version": 4, "dies": [
            {"tag": "base_type", "label": "int", "name": "int", "byte_size": 4, "encoding": "signed"},
            {"tag": "subprogram", "name": "main", "type": "int", "low_pc": "main", "children": [
                {"tag": "variable", "name": "x", "type": "int",
                 "location": {"locations": [["main", "main+5", [["reg0"]]]]}}]}],
            "lines": [{"function": "main", "rows": [[0, 1]]}]}]})
    out = built.write(tmp_path / "prog")
    info = subprocess.run([tool, "--debug-info", str(out)], capture_output=True, text=True, check=True).stdout
    assert "version = 0x0004" in info and "addr_size = 0x04" in info
    assert "DW_OP_reg0 RAX" in info
    assert subprocess.run([tool, "--verify", str(out)], capture_output=True).returncode == 0
