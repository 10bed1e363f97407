"""Running lldb (through tests/debuggers.py) and the LLVM tools on Mach-O files in tests."""
from __future__ import annotations

import subprocess
from pathlib import Path

import debuggers
from conftest import require_tool

TIMEOUT = 60


def run(tool: str, *args: str | Path, check: bool = True) -> str:
    """Output (stdout + stderr) of a tool; fails the test on a non-zero exit when ``check``."""
    path = require_tool(tool)
    result = subprocess.run([path, *map(str, args)], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=TIMEOUT)
    if check and result.returncode != 0:
        raise AssertionError(f"{tool} {' '.join(map(str, args))} failed ({result.returncode}):\n"
                             f"{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def lldb(executable: Path, dsym: Path | None, *commands: str) -> str:
    """lldb-14 statically on ``executable`` (through the shared runner), with the dSYM's DWARF file added first."""
    before = [f"target symbols add {dsym_dwarf_file(dsym)}"] if dsym is not None else []
    return debuggers.lldb(executable, [*before, *commands])


def dsym_dwarf_file(bundle: Path) -> Path:
    name = bundle.name.removesuffix(".dSYM")
    return bundle / "Contents" / "Resources" / "DWARF" / name


def verify(path: Path) -> str:
    out = run("llvm-dwarfdump-14", "--verify", path, check=False)
    assert "No errors." in out, out
    return out


def uuids(path: Path) -> list[str]:
    """UUIDs llvm-dwarfdump reports for a file or bundle."""
    out = run("llvm-dwarfdump-14", "--uuid", path)
    return [line.split()[1] for line in out.splitlines() if line.startswith("UUID:")]


def load_commands(path: Path) -> list[dict[str, str]]:
    """llvm-objdump's view of the load commands: one dict per command (sections as ``sections``: list of dicts)."""
    out = run("llvm-objdump-14", "--macho", "--private-headers", path)
    commands: list[dict] = []
    current: dict | None = None
    for line in out.splitlines():
        stripped = line.strip()
        if stripped.startswith("Load command"):
            current = {"sections": []}
            commands.append(current)
        elif stripped == "Section" and current is not None:
            current["sections"].append({})
        elif current is not None and stripped:
            key, _, value = stripped.partition(" ")
            target = current["sections"][-1] if current["sections"] else current
            target.setdefault(key, value.strip())
    return commands
