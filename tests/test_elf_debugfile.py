"""Separate debug files for executables we did not build (gcc's on x86_64, clang's on aarch64): gdb must find them
by debug link and by build id, lldb by debug link."""
from __future__ import annotations

import os
import re
import shutil
import signal
import zlib
from pathlib import Path

import capstone
import pytest
from conftest import require_tool
from debuggers import debug as debug_with_gdb
from debuggers import lldb, session
from elf_tools import execute, run, verify_clean
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from handmade_dwarf import describe

from dwarfkit import Arch, ContainerError, Encoding, RelocationError, debuggers
from dwarfkit.backends.elf import build_id_path, debugfile, write_debug_file
from dwarfkit.output import write_atomically

SOURCES = {
    # gcc's program with the C library.
    Arch.X86_64: ("main", """int add(int a, int b) {
  return a + b;
}
int main(void) {
  return add(20, 22);
}
"""),
    # No aarch64 gcc here: clang and ld.lld build a static program without the C library.
    Arch.AARCH64: ("_start", """int add(int a, int b) {
  return a + b;
}
void _start(void) {
  register long x0 __asm__("x0") = add(20, 22);
  register long x8 __asm__("x8") = 93;
  __asm__ volatile("svc #0" : : "r"(x0), "r"(x8));
}
"""),
}
LINES = {"add": (1, 2), "main": (4, 5), "_start": (4, 5)}  # declaration line, first line of the body


def _foreign_program(tmp_path: Path, arch: Arch = Arch.X86_64, *flags: str) \
        -> tuple[Path, Path, dict[str, int], dict[str, tuple[int, int]]]:
    """(unstripped, stripped, symbol addresses, function ranges) of a program built without debug info."""
    entry, source = SOURCES[arch]
    (tmp_path / "prog.c").write_text(source)
    full, stripped = tmp_path / "prog.full", tmp_path / "prog.stripped"
    if arch is Arch.X86_64:
        run(require_tool("gcc"), "-O0", "-g0", *flags, tmp_path / "prog.c", "-o", full)
        run(require_tool("strip"), "-o", stripped, full)
    else:
        run(require_tool("clang-14"), "--target=aarch64-linux-gnu", "-nostdlib", "-static", "-fuse-ld=lld",
            "-Wl,--build-id", "-O0", "-g0", *flags, tmp_path / "prog.c", "-o", full)
        run(require_tool("aarch64-linux-gnu-strip"), "-o", stripped, full)
    with open(full, "rb") as f:
        symbols = {s.name: s for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols()}
    ranges = {name: (symbols[name]["st_value"], symbols[name]["st_value"] + symbols[name]["st_size"])
              for name in sorted(("add", entry), key=lambda n: symbols[n]["st_value"])}
    return full, stripped, {n: s["st_value"] for n, s in symbols.items()}, ranges


def _dwarf_for(full: Path, ranges: dict[str, tuple[int, int]], arch: Arch = Arch.X86_64):
    """Our DWARF for the compiler's functions: the declaration line at the entry, the body's line two instructions
    later (inside the prologue, which debuggers skip to the next row)."""
    with open(full, "rb") as f:
        elf = ELFFile(f)
        text = elf.get_section_by_name(".text")
        code, base = text.data(), text["sh_addr"]
    cs = capstone.Cs(*((capstone.CS_ARCH_X86, capstone.CS_MODE_64) if arch is Arch.X86_64
                       else (capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)))
    rows = {}
    for name, (start, end) in ranges.items():
        starts = [i.address - start for i in cs.disasm(code[start - base:end - base], start)]
        decl, body = LINES[name]
        rows[name] = [(0, decl), (starts[2], body)]
    return describe(arch, Encoding(version=4), ranges, rows, {n: LINES[n][0] for n in ranges}, frames=False)


@pytest.mark.debugger
@pytest.mark.parametrize("arch, compress", [(Arch.X86_64, False), (Arch.X86_64, True), (Arch.AARCH64, False)],
                         ids=["x86_64", "x86_64-zlib", "aarch64"])
def test_debuggers_find_the_debug_file_by_link_and_by_build_id(tmp_path: Path, arch: Arch, compress: bool) -> None:
    full, stripped, symbols, ranges = _foreign_program(tmp_path, arch)
    entry = SOURCES[arch][0]
    out = tmp_path / "out"
    out.mkdir()
    debug, exe = out / "prog.debug", out / "prog"
    build_id = write_debug_file(stripped, _dwarf_for(full, ranges, arch), debug, exe, symbols=symbols,
                                compress=compress)

    with open(full, "rb") as f:
        note = next(ELFFile(f).get_section_by_name(".note.gnu.build-id").iter_notes())
        assert build_id.hex() == note["n_desc"]
    verify_clean(debug)
    verify_clean(exe)
    assert execute(arch, exe) == 42  # the copy still runs
    with open(exe, "rb") as f:
        link = ELFFile(f).get_section_by_name(".gnu_debuglink").data()
    assert link[:len(b"prog.debug\0")] == b"prog.debug\0"
    assert int.from_bytes(link[-4:], "little") == zlib.crc32(debug.read_bytes())
    with open(debug, "rb") as f:
        elf = ELFFile(f)
        assert elf.get_section_by_name(".text")["sh_type"] == "SHT_NOBITS"
        text = elf.get_section_by_name(".text")
        assert text["sh_addr"] <= ranges["add"][0] < text["sh_addr"] + text["sh_size"]
        assert next(elf.get_section_by_name(".note.gnu.build-id").iter_notes())["n_desc"] == build_id.hex()
        assert bool(elf.get_section_by_name(".debug_info")["sh_flags"] & SH_FLAGS.SHF_COMPRESSED) == compress

    commands = ["info sources", "break add", "run", "bt", f"info line {entry}"]
    # Without our debug file gdb knows no lines (a control that this test can fail).
    control = debug_with_gdb(arch, stripped, commands)
    assert "prog.c" not in control

    by_link = debug_with_gdb(arch, exe, commands)
    assert f"{debug}:" in by_link  # info sources names the objfile the symbols came from
    _check_session(by_link, entry)
    if arch is not Arch.X86_64:
        return
    lldb_out = lldb(exe, ["breakpoint set -n add", "image list", "run", "bt"])
    assert f"\n      {debug}\n" in lldb_out, lldb_out  # image list shows the symbol file under the executable
    assert re.search(r"frame #0: 0x[0-9a-f]+ prog`add at prog.c:2\n\s+frame #1: 0x[0-9a-f]+ prog`main at prog.c:5",
                     lldb_out), lldb_out

    # By build id: the debug file under <debug-file-directory>/.build-id/, nothing next to the executable.
    store = tmp_path / "debug-store"
    target = build_id_path(store, build_id)
    target.parent.mkdir(parents=True)
    shutil.move(debug, target)
    by_id = debug_with_gdb(arch, exe, commands, before=[f"set debug-file-directory {store}"])
    assert f"{target}:" in by_id
    _check_session(by_id, entry)


def _check_session(output: str, entry: str) -> None:
    assert "Breakpoint 1 at 0x" in output and "file prog.c, line 2." in output, output
    assert "Breakpoint 1, add () at prog.c:2" in output, output
    assert "#1  0x" in output and f"in {entry} () at prog.c:5" in output, output
    assert 'Line 4 of "prog.c" starts at address' in output and f"<{entry}>" in output, output


def test_executable_without_build_id(tmp_path: Path) -> None:
    full, stripped, symbols, ranges = _foreign_program(tmp_path, Arch.X86_64, "-Wl,--build-id=none")
    with pytest.raises(ContainerError, match="no .note.gnu.build-id"):
        write_debug_file(stripped, _dwarf_for(full, ranges), tmp_path / "d", tmp_path / "e", symbols=symbols)
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()


def test_unsupported_architecture(tmp_path: Path) -> None:
    source = tmp_path / "f.c"
    source.write_text("int f(void) { return 1; }\n")
    riscv = tmp_path / "f.o"
    run(require_tool("clang-14"), "--target=riscv64-linux-gnu", "-c", source, "-o", riscv)
    full, _, symbols, ranges = _foreign_program(tmp_path)
    with pytest.raises(ContainerError, match="architecture EM_RISCV is not supported"):
        write_debug_file(riscv, _dwarf_for(full, ranges), tmp_path / "d", tmp_path / "e", symbols=symbols)
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()


def test_unknown_symbol(tmp_path: Path) -> None:
    """A stripped executable has no symbols: addresses the caller does not give are an error, before any output."""
    full, stripped, symbols, ranges = _foreign_program(tmp_path)
    del symbols["main"]
    with pytest.raises(RelocationError, match=r"relocation against unknown symbol 'main'"):
        write_debug_file(stripped, _dwarf_for(full, ranges), tmp_path / "d", tmp_path / "e", symbols=symbols)
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()


@pytest.mark.debugger
def test_a_crash_between_the_two_writes_leaves_a_pair_gdb_refuses(tmp_path: Path) -> None:
    """The debug file is written first, the executable naming it (with its CRC) last: killed in between, the old
    executable's .gnu_debuglink CRC does not match the new debug file, and gdb says so instead of using it."""
    full, stripped, symbols, ranges = _foreign_program(tmp_path)
    debug, exe = tmp_path / "prog.debug", tmp_path / "prog"
    write_debug_file(stripped, _dwarf_for(full, ranges), debug, exe, symbols=symbols)
    old_exe, old_debug = exe.read_bytes(), debug.read_bytes()
    pid = os.fork()
    if pid == 0:  # the child dies (SIGKILL) when the second file is about to be written
        try:
            writes = []

            def write_then_die(path, data, **kwargs):
                writes.append(path)
                if len(writes) == 2:
                    os.kill(os.getpid(), signal.SIGKILL)
                write_atomically(path, data, **kwargs)

            debugfile.write_atomically = write_then_die
            write_debug_file(stripped, _dwarf_for(full, ranges), debug, exe, symbols=symbols, compress=True)
        finally:
            os._exit(3)  # not reached: the kill comes first
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert exe.read_bytes() == old_exe and debug.read_bytes() != old_debug  # the new debug file, the old executable
    with open(exe, "rb") as f:
        crc = int.from_bytes(ELFFile(f).get_section_by_name(".gnu_debuglink").data()[-4:], "little")
    assert crc == zlib.crc32(old_debug) != zlib.crc32(debug.read_bytes())
    s = session(debuggers.gdb, exe, ["info sources", "info line main"])
    assert f'the debug information found in "{debug}" does not match "{exe}" (CRC mismatch).' in s.warnings, \
        s.transcript
    assert "prog.c" not in s.output("info sources") + s.output("info line main"), s.transcript
