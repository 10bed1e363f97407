"""The README's main job, ``python3 -m examples.demo OUT``, judged by real tools: each executable runs (natively,
under qemu-aarch64, under wine) with the interpreter's exit code; gdb, gdb-multiarch and lldb-14, started with the
command the demo prints for the file, read from the DWARF the same functions (name, first line, address range) and
globals that manifest.json lists from the symbol table."""
from __future__ import annotations

import json
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, require_tool
from debuggers import session

from dwarfkit import debuggers
from examples.minic import parse_program, run

pytest_plugins = ["coff_wine"]

SOURCE = REPO / "examples" / "minic" / "programs" / "shapes.mc"


def demo(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "examples.demo", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    for tool in ("llvm-dwarfdump-14", "llvm-nm-14"):
        require_tool(tool)
    out = tmp_path_factory.mktemp("demo") / "out"
    result = demo(out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out, json.loads((out / "manifest.json").read_text())


def entry(manifest: dict, path: str) -> dict:
    return next(f for f in manifest["files"] if f["path"] == path)


def expected_exit_code() -> int:
    return run(parse_program(SOURCE.read_text(), "shapes.mc")).exit_code


def test_every_target_is_written_listed_and_verified(built):
    out, manifest = built
    listed = {f["path"] for f in manifest["files"]}
    assert listed == {"elf-x86_64/shapes.o", "elf-x86_64/shapes", "elf-aarch64/shapes.o", "elf-aarch64/shapes",
                      "macho-x86_64/shapes", "macho-x86_64/shapes.dSYM", "macho-arm64/shapes",
                      "macho-arm64/shapes.dSYM", "coff-x86_64/shapes.obj", "pe-x86_64/shapes.exe"}
    on_disk = {str(p.relative_to(out)) for p in out.glob("*/*")}
    assert on_disk == listed
    assert {(f["container"], f["arch"]) for f in manifest["files"]} == {
        ("ELF", "x86_64"), ("ELF", "aarch64"), ("Mach-O", "x86_64"), ("Mach-O dSYM", "x86_64"), ("Mach-O", "arm64"),
        ("Mach-O dSYM", "arm64"), ("COFF", "x86_64"), ("PE", "x86_64")}
    for f in manifest["files"]:
        assert f["verify"]["llvm-dwarfdump --verify"] == "ok"
        assert f["verify"]["dwarfkit verify"] == "ok"
        path = out / f["path"]
        assert path.stat().st_mode & stat.S_IROTH, f"{path} is not readable by others"
    assert manifest["program"]["exit_code"] == expected_exit_code()


@pytest.mark.parametrize("path, runner", [("elf-x86_64/shapes", []), ("elf-aarch64/shapes", ["qemu-aarch64"])],
                         ids=["x86_64", "aarch64"])
def test_elf_executables_exit_with_the_interpreters_code(built, path, runner):
    out, _ = built
    command = [require_tool(tool) for tool in runner] + [str(out / path)]
    assert subprocess.run(command, timeout=30).returncode == expected_exit_code()


def test_pe_executable_exits_with_the_interpreters_code_under_wine(built, wine):
    out, _ = built
    assert wine(out / "pe-x86_64/shapes.exe") == expected_exit_code()


# gdb reads each function's range and line from its DWARF block (not from the symbol table the manifest used).
GDB_FUNCTIONS = """python
for name in [{names}]:
    symbol = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    block = gdb.block_for_pc(int(symbol.value().address))
    while block.function is None:
        block = block.superblock
    print("FUNCTION", name, symbol.line, block.start, block.end)
end"""


def gdb_command(f: dict) -> tuple[str, str]:
    """(debugger, program) of the manifest's debug command for ``f`` (the aarch64 executable's qemu half is
    dropped: gdb reads the file statically)."""
    command = shlex.split(f["debug"].split("&")[-1])
    command = [c for c in command if c not in ("-ex", "target remote :1234")]
    return command[0], command[-1]


@pytest.mark.parametrize("path", ["elf-x86_64/shapes", "elf-x86_64/shapes.o", "elf-aarch64/shapes",
                                  "elf-aarch64/shapes.o", "coff-x86_64/shapes.obj", "pe-x86_64/shapes.exe"])
def test_gdb_reads_the_manifests_functions_and_globals(built, path):
    out, manifest = built
    f = entry(manifest, path)
    names = ", ".join(repr(fn["name"]) for fn in f["functions"])
    commands = [GDB_FUNCTIONS.format(names=names)]
    for g in f["globals"]:
        commands.append(f"info address {g['name']}")
    tool, program = gdb_command(f)
    output = session(debuggers.gdb, program, commands, tool=tool, cwd=out.parent).transcript
    seen = {m[0]: (int(m[1]), int(m[2]), int(m[3]))
            for m in re.findall(r"^FUNCTION (\w+) (\d+) (\d+) (\d+)$", output, re.M)}
    assert seen == {fn["name"]: (fn["line"], fn["start"], fn["end"]) for fn in f["functions"]}, output
    bases = set()  # where gdb put .data: 0 in an executable (final addresses), anywhere in an object file
    for g in f["globals"]:
        found = re.search(rf'Symbol "{g["name"]}" is static storage at address (0x[0-9a-f]+)\.', output)
        assert found, (g, output)
        bases.add(int(found[1], 16) - g["address"])
    assert len(bases) == 1 and (f["kind"] == "object" or bases == {0}), (bases, output)


@pytest.mark.parametrize("target", ["macho-x86_64", "macho-arm64"])
def test_lldb_reads_the_macho_executable_with_its_dsym(built, target):
    out, manifest = built
    f = entry(manifest, f"{target}/shapes")
    assert entry(manifest, f"{target}/shapes.dSYM")["functions"] == f["functions"]
    command = shlex.split(f["debug"])
    assert command[0] == "lldb-14" and command[2::2] == ["-o"] * len(command[2::2]), command
    commands = command[3::2]  # lldb-14 PROGRAM -o COMMAND ...
    for fn in f["functions"]:
        commands.append(f"image lookup -v -n {fn['name']}")
    for g in f["globals"]:
        commands.append(f"target variable -L {g['name']}")
    output = session(debuggers.lldb, command[1], commands, tool=command[0], cwd=out.parent).transcript
    assert "has been added to" in output, output
    for fn in f["functions"]:
        found = re.search(rf'Function: id = \{{0x[0-9a-f]+\}}, name = "{fn["name"]}", '
                          rf'range = \[(0x[0-9a-f]+)-(0x[0-9a-f]+)\)\n.*decl = shapes\.mc:(\d+):', output)
        assert found, (fn, output)
        assert (int(found[1], 16), int(found[2], 16), int(found[3])) == (fn["start"], fn["end"], fn["line"])
    for g in f["globals"]:
        found = re.search(rf"^(0x[0-9a-f]+): \([^)]+\) {g['name']} = ", output, re.M)  # the DW_OP_addr location
        assert found and int(found[1], 16) == g["address"], (g, output)


def test_a_second_run_replaces_the_output_and_a_foreign_folder_is_left_alone(built, tmp_path):
    out, manifest = built
    first = (out / "manifest.json").read_bytes()
    (out / "stale-file").write_text("from an earlier run")
    again = demo(out)
    assert again.returncode == 0, again.stderr
    assert (out / "manifest.json").read_bytes() == first  # deterministic, and replaced as a whole
    assert not (out / "stale-file").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    refused = demo(foreign)
    assert refused.returncode == 2
    assert refused.stderr.startswith("dwarfkit: error: ") and len(refused.stderr.strip().splitlines()) == 1
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary folder left behind
