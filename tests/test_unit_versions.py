"""Units of different DWARF versions in one program (as a loaded file may hold: a C runtime's DWARF 5 units beside a
program's DWARF 4 ones): each unit's header, forms, line program and lists follow its own version."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from core_support import verify, write_elf

from dwarfkit import Address, DwarfBuilder, EncodingError, Expr


def _program(main_version: int, other_version: int) -> DwarfBuilder:
    dw = DwarfBuilder(version=main_version)
    for n, version in enumerate((main_version, other_version)):
        cu = dw.compile_unit(f"u{n}.c", comp_dir="/src", producer="test", language="C11", version=version,
                             low_pc=Address("f", 0x100 * n), high_pc=0x40)
        int_t = cu.base_type("int", 4, "signed")
        fn = cu.die("subprogram", name=f"f{n}", type=int_t, low_pc=Address("f", 0x100 * n), high_pc=0x40,
                    frame_base=Expr().call_frame_cfa())
        loc = dw.tables.list_table(True, version).make([(Address("f", 0x100 * n), 8, Expr().reg(0)),
                                                       (Address("f", 0x100 * n + 8), 8, Expr().fbreg(-20))])
        fn.die("variable", name="x", type=int_t, location=loc)
        fn.die("lexical_block", ranges=dw.tables.list_table(False, version).make(
            [(Address("f", 0x100 * n + 4), 4), (Address("f", 0x100 * n + 12), 4)]))
        seq = cu.line.sequence(Address("f", 0x100 * n))
        seq.row(0, 1)
        seq.row(8, 2)
        seq.end(0x40)
    return dw


@pytest.mark.parametrize("versions", [(5, 4), (4, 5), (5, 3), (3, 4)])
def test_each_unit_has_its_version(tmp_path: Path, versions: tuple[int, int]) -> None:
    sections = _program(*versions).emit()
    path = write_elf(tmp_path / "mixed.o", sections, {"f": 0x401000})
    llvm = require_tool("llvm-dwarfdump-14")
    verify(path, llvm)
    out = subprocess.run([llvm, "--debug-info", str(path)], capture_output=True, text=True, check=True).stdout
    found = [int(v, 16) for v in re.findall(r"Compile Unit: .*?version = (0x[0-9a-f]+)", out)]
    assert found == list(versions)
    names = {".debug_loc", ".debug_ranges"} if min(versions) < 5 else set()
    names |= {".debug_loclists", ".debug_rnglists"} if max(versions) >= 5 else set()
    assert names <= set(sections.sections)
    assert out.count("DW_OP_reg0") == 2 and out.count("DW_OP_fbreg -20") == 2   # both units' lists resolve


def test_dwarf_2_does_not_mix() -> None:
    with pytest.raises(EncodingError, match="DWARF 2 units cannot share"):
        DwarfBuilder(version=5).compile_unit("a.c", version=2)
