"""dwz's alternate file (issue 16, item 4): a program whose DW_AT_name is DW_FORM_GNU_strp_alt and DW_AT_type
DW_FORM_GNU_ref_alt, pointing into an alternate file dwarfkit writes too (a partial unit and its strings, with a
`.note.gnu.build-id`), tied by `.gnu_debugaltlink` (its path and build id), as gdb.dwarf2/dwzbuildid.exp builds them.
gdb resolves the name and the type through the alternate file; llvm-dwarfdump-14 reads the forms."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import write_elf

from dwarfkit import Address, DwarfBuilder, Label, LabelOffset, Raw, debuggers
from dwarfkit.description import build
from dwarfkit.gnu_links import build_id_note, debugaltlink

BUILD_ID = "0102030405060708090a0b0c0d0e0f1011121314"
ALT = {"output": "elf-object", "dwarf": {"version": 4}, "build_id": BUILD_ID,
       "units": [{"tag": "partial_unit", "dies": [
           {"tag": "base_type", "name": "int", "byte_size": 4, "encoding": "signed"},
           {"tag": "variable", "name": "alt_named_int", "declaration": True}]}]}


def main_description(alt: Path, name_offset: int, type_offset: int) -> dict:
    return {"dwarf": {"version": 4}, "functions": {"main": "mov eax, 0\nret"},
            "debugaltlink": {"file": str(alt), "build_id": BUILD_ID},
            "units": [{"name": "main.c", "language": "C99", "dies": [
                {"tag": "subprogram", "name": "main", "low_pc": "main", "external": True},
                {"tag": "variable", "name": {"value": name_offset, "form": "GNU_strp_alt"},
                 "type": {"value": type_offset, "form": "GNU_ref_alt"}, "const_value": 42, "external": True}],
                "lines": [{"function": "main", "rows": [[0, 1]]}]}]}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("alt")
    alt = build(ALT)
    alt_path = alt.write(folder / "alt.debug")
    # The offsets of the alternate file's int DIE and name string, as its program laid them out
    int_die = alt.dwarf.units[0].root.children[0]
    name = alt.dwarf.strings.offset_of("alt_named_int")
    assert int_die.offset is not None and name is not None
    return alt_path, build(main_description(alt_path, name, int_die.offset)).write(folder / "main")


def test_gdb_reads_a_name_and_a_type_through_the_alternate_file(files: tuple[Path, Path]) -> None:
    alt, main = files
    readelf = require_tool("readelf")
    notes = subprocess.run([readelf, "-n", str(alt)], capture_output=True, text=True, check=True).stdout
    assert f"Build ID: {BUILD_ID}" in notes
    try:
        session = debuggers.gdb(main, breakpoints=["main"], commands_per_stop=["print alt_named_int",
                                                                               "ptype alt_named_int"], max_stops=1)
    except debuggers.ToolMissing as missing:
        pytest.skip(str(missing))
    outputs = [o.output.strip() for o in session.stops[0].outputs]
    assert outputs == ["$1 = 42", "type = int"], outputs
    assert not any("build-id" in w or "gnu_debugaltlink" in w for w in session.warnings), session.warnings


def test_gdb_finds_no_alternate_file_with_another_build_id(tmp_path: Path, files: tuple[Path, Path]) -> None:
    """dwzbuildid.exp's 'mismatch': the link's build id is not the file's; gdb skips the file (and the symbol)."""
    alt, _ = files
    wrong = main_description(alt, 0, 0x0c)
    wrong["debugaltlink"]["build_id"] = "ffffffffffff"
    main = build(wrong).write(tmp_path / "main")
    try:
        session = debuggers.gdb(main, breakpoints=["main"], commands_per_stop=["print alt_named_int"], max_stops=1)
    except debuggers.ToolMissing as missing:
        pytest.skip(str(missing))
    assert "No symbol" in session.transcript


def test_the_api_writes_alt_forms_from_labels_of_the_alternate_program(tmp_path: Path) -> None:
    """Labels of the alternate program's DIE and string, its program emitted first; DW_FORM_GNU_str_index by name
    (a raw index)."""
    alt = DwarfBuilder(version=4)
    unit = alt.partial_unit()
    int_t = unit.root.die("base_type", name="int", byte_size=4, encoding="signed")
    text = Label("name").bind(".debug_str", alt.strings.add("shared_name"))
    alt.raw_section(".note.gnu.build-id", build_id_note(BUILD_ID))
    alt_sections = alt.emit()
    dw = DwarfBuilder(version=4)
    cu = dw.compile_unit("main.c", low_pc=Address(None, 0x1000), high_pc=4)
    var = cu.root.die("variable", name=LabelOffset(text, form="GNU_strp_alt"),
                      type=LabelOffset(Label("int").bind(int_t), form="GNU_ref_alt"), const_value=1)
    var.set(0x2101, Raw(3, "GNU_str_index"))
    dw.raw_section(".gnu_debugaltlink", debugaltlink(tmp_path / "alt.debug", BUILD_ID))
    write_elf(tmp_path / "alt.debug", alt_sections)
    path = write_elf(tmp_path / "main.o", dw.emit())
    tool = require_tool("llvm-dwarfdump-14")
    info = subprocess.run([tool, "--debug-info", str(path)], capture_output=True, text=True).stdout
    assert f"DW_AT_type\t(<alt 0x{int_t.offset:x}>)" in info
    assert "DW_FORM_GNU_strp_alt" in subprocess.run([tool, "--debug-abbrev", str(path)], capture_output=True,
                                                    text=True).stdout
    assert "DW_FORM_GNU_str_index" in subprocess.run([tool, "--debug-abbrev", str(path)], capture_output=True,
                                                     text=True).stdout
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        link = ELFFile(f).get_section_by_name(".gnu_debugaltlink").data()
    assert link == bytes(tmp_path / "alt.debug") + b"\0" + bytes.fromhex(BUILD_ID)
