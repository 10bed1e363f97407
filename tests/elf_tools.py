"""Running the tools that judge our ELF files: the program itself (natively or under qemu-aarch64), readelf and
llvm-dwarfdump."""
from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import require_tool
from elftools.elf.elffile import ELFFile

from dwarfkit import Arch


def run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, check=check)


def verify_clean(path: Path) -> None:
    """llvm-dwarfdump --verify finds nothing and readelf --debug-dump prints no warning."""
    verify = run(require_tool("llvm-dwarfdump-14"), "--verify", path, check=False)
    assert verify.returncode == 0 and "No errors." in verify.stdout, verify.stdout + verify.stderr
    readelf = require_tool("aarch64-linux-gnu-readelf") if _machine(path) == "EM_AARCH64" else require_tool("readelf")
    dump = run(readelf, "--debug-dump", path)
    assert dump.stderr == "" and "warning" not in dump.stdout.lower(), dump.stderr


def execute(arch: Arch, path: Path) -> int:
    command = [require_tool("qemu-aarch64"), path] if arch is Arch.AARCH64 else [path]
    return run(*command, check=False).returncode


def _machine(path: Path) -> str:
    with open(path, "rb") as f:
        return ELFFile(f).header.e_machine
