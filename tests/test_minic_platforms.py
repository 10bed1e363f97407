"""minic's ``platform`` option: how ``_start`` ends the process on Windows (ExitProcess through the import table,
run by wine) and macOS (the BSD exit syscall, read back by llvm-objdump since nothing runs it here)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit import Arch
from dwarfkit.backends.coff import write_object, write_pe
from dwarfkit.backends.macho_dsym import write_executable
from examples.minic import CompileError, compile_program, parse_program, run
from examples.minic.compiler import WINDOWS_IMPORTS

pytest_plugins = ["coff_wine"]

SHAPES = Path(__file__).resolve().parent.parent / "examples" / "minic" / "programs" / "shapes.mc"


def expected_exit() -> int:
    return run(parse_program(SHAPES.read_text(), "shapes.mc")).exit_code


def test_windows_image_exits_through_exitprocess_under_wine(tmp_path, wine):
    image = compile_program(SHAPES.read_text(), Arch.X86_64, "shapes.mc", platform="windows")
    assert [s.name for s in image.symbols if s.section is None] == ["__imp_ExitProcess"]
    write_pe(image, tmp_path / "shapes.exe", imports=WINDOWS_IMPORTS)
    assert wine(tmp_path / "shapes.exe") == expected_exit()


def test_windows_object_linked_by_mingw_ld_runs_under_wine(tmp_path, wine):
    ld = require_tool("x86_64-w64-mingw32-ld")
    write_object(compile_program(SHAPES.read_text(), Arch.X86_64, "shapes.mc", platform="windows"),
                 tmp_path / "shapes.obj")
    subprocess.run([ld, "-e", "_start", "-o", str(tmp_path / "linked.exe"), str(tmp_path / "shapes.obj"),
                    "-L/usr/x86_64-w64-mingw32/lib", "-lkernel32"], check=True)
    assert wine(tmp_path / "linked.exe") == expected_exit()


@pytest.mark.parametrize("arch, exit_instructions", [
    (Arch.X86_64, ["movq %rax, %rdi", "movl $33554433, %eax", "syscall"]),
    (Arch.AARCH64, ["mov x16, #1", "svc #0x80"]),
], ids=["x86_64", "arm64"])
def test_macos_start_uses_the_bsd_exit_syscall(tmp_path, arch, exit_instructions):
    image = compile_program(SHAPES.read_text(), arch, "shapes.mc", platform="macos")
    write_executable(image, tmp_path / "shapes")
    out = subprocess.run([require_tool("llvm-objdump-14"), "-d", "--no-show-raw-insn",
                          "--disassemble-symbols=__start", str(tmp_path / "shapes")],
                         capture_output=True, text=True, check=True).stdout
    instructions = [" ".join(line.split("##")[0].split()[1:]) for line in out.splitlines()
                    if line.strip().startswith("1000")]
    assert "<_main>" in instructions[0] and instructions[1:] == exit_instructions, out


def test_unknown_platforms_and_windows_on_aarch64_are_compile_errors():
    with pytest.raises(CompileError, match="unknown platform 'plan9'"):
        compile_program("int main() { return 0; }", Arch.X86_64, "p.mc", platform="plan9")
    with pytest.raises(CompileError, match="windows platform is x86_64 only"):
        compile_program("int main() { return 0; }", Arch.AARCH64, "p.mc", platform="windows")
