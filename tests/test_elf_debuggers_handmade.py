"""gdb and lldb on ELF files holding the hand-encoded DWARF sample (independent of the DWARF core).

The sample: ``_start`` (prog.c:3-5) calls ``add`` (prog.c:10-11), which returns 20 + 22.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require_tool
from debuggers import debug, frames, lldb
from elf_tools import run
from handmade_dwarf import assemble_sample, sample_image

from dwarfkit import Arch
from dwarfkit.backends.elf import write_executable, write_object

pytestmark = pytest.mark.debugger
ARCHES = [Arch.X86_64, Arch.AARCH64]


def _symbols(path: Path) -> dict[str, int]:
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        return {s.name: s["st_value"] for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols()}


@pytest.mark.parametrize("linked", [False, True], ids=["ours", "ld"])
@pytest.mark.parametrize("arch", ARCHES, ids=lambda a: a.info.name)
def test_gdb_breakpoints_backtrace_finish(tmp_path: Path, arch: Arch, linked: bool) -> None:
    exe = tmp_path / "prog"
    if linked:  # our object through GNU ld: the linker applies our .rela.debug_* records
        write_object(sample_image(arch), tmp_path / "prog.o")
        linker = "aarch64-linux-gnu-ld" if arch is Arch.AARCH64 else "ld"
        run(require_tool(linker), "-o", exe, tmp_path / "prog.o")
    else:
        write_executable(sample_image(arch), exe)
    symbols = _symbols(exe)
    _, _, rows = assemble_sample(arch)
    after_prologue = symbols["add"] + next(offset for offset, line in rows["add"] if line == 11)
    call = symbols["_start"] + rows["_start"][1][0]
    out = debug(arch, exe, ["break add", "break prog.c:4", "run", "info line *$pc", "bt", "step", "bt", "finish",
                            "p counter", "p &counter", "info scope add"])
    # Breakpoints by name land after the prologue (the function's second row), by file:line on the row.
    assert f"Breakpoint 1 at {after_prologue:#x}: file prog.c, line 11." in out, out
    assert f"Breakpoint 2 at {call:#x}: file prog.c, line 4." in out, out
    assert f'Line 4 of "prog.c" starts at address {call:#x} <_start+{call - symbols["_start"]}>' in out, out
    assert "Breakpoint 1, add () at prog.c:11" in out, out
    return_address = call + (5 if arch is Arch.X86_64 else 4)
    assert frames(out) == ["_start () at prog.c:4", "add () at prog.c:11",
                           f"{return_address:#018x} in _start () at prog.c:4"], out
    assert "_start () at prog.c:5\n" in out and "Value returned is $1 = 42" in out, out  # finish returns to line 5
    assert f"$3 = (int *) {symbols['counter']:#x} <counter>" in out, out
    assert "Symbol counter" not in out and "Scope for add" in out, out


def test_lldb_breakpoint_backtrace_finish(tmp_path: Path) -> None:
    exe = tmp_path / "prog"
    write_executable(sample_image(Arch.X86_64), exe)
    symbols = _symbols(exe)
    out = lldb(exe, ["breakpoint set -f prog.c -l 4", "breakpoint set -n add", "run", "bt", "continue", "bt",
                     "finish", "image lookup -n add"])
    assert f"where = prog`_start + 5 at prog.c:4, address = {symbols['_start'] + 5:#018x}" in out, out
    _, _, rows = assemble_sample(Arch.X86_64)
    body = next(offset for offset, line in rows["add"] if line == 11)
    assert f"frame #0: {symbols['add'] + body:#018x} prog`add at prog.c:11" in out, out
    assert f"frame #1: {symbols['_start'] + 10:#018x} prog`_start at prog.c:4" in out, out
    assert "Return value: (int) $0 = 42" in out, out
    assert "Summary: prog`add at prog.c:10" in out, out
