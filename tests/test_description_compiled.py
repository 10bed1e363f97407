"""Hand-written DWARF for code compiled by someone else (issue 16, item 4), the way gdb's testsuite works: gcc -g0
compiles a program with a static function and asm labels; a description names that object (or the linked
executable) in ``file:``, refers to its functions and labels, and ``dwarfkit build`` writes a copy of the file with
the DWARF in it. gdb and lldb-14 then debug the program by that DWARF: lines, arguments, locals, bt, finish."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit import debuggers
from dwarfkit.description import build_file
from dwarfkit.errors import DescriptionError

pytestmark = pytest.mark.debugger

SOURCE = """\
static int helper(int a) {
  __asm__("helper_body:");
  int doubled = a * 2;
  __asm__("helper_ret:");
  return doubled + 1;
}

int main(void) {
  __asm__("main_body:");
  int x = 20;
  __asm__("main_call:");
  return helper(x);
}
"""

# gcc -O0 keeps a in rbp-20, doubled and x in rbp-4 (the frame base is rbp): what the description says of them.
DESCRIPTION = """\
file: {file}
units:
  - name: prog.c
    comp_dir: {folder}
    language: C11
    ranges: [helper, main]
    dies:
      - {{tag: base_type, label: int, name: int, byte_size: 4, encoding: signed}}
      - tag: subprogram
        name: helper
        type: int
        low_pc: helper
        frame_base: [[breg6, 0]]
        decl_line: 1
        children:
          - {{tag: formal_parameter, name: a, type: int, location: [[fbreg, -20]]}}
          - {{tag: variable, name: doubled, type: int, location: [[fbreg, -4]]}}
      - tag: subprogram
        name: main
        type: int
        external: true
        low_pc: main
        frame_base: [[breg6, 0]]
        decl_line: 8
        children:
          - {{tag: variable, name: x, type: int, location: [[fbreg, -4]]}}
    lines:
      - {{function: helper, rows: [[0, 1], [helper_body, 3], [helper_ret, 5]]}}
      - {{function: main, rows: [[0, 8], [main_body, 10], [main_call, 12]]}}
"""

COMMANDS = ["break helper", "run", "bt", "info args", "next", "info locals", "finish", "info locals", "continue"]


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The program built both ways: DWARF into a copy of the -g0 object, then linked; and into a copy of the -g0
    executable."""
    gcc = require_tool("gcc")
    folder = tmp_path_factory.mktemp("compiled")
    (folder / "prog.c").write_text(SOURCE)
    subprocess.run([gcc, "-g0", "-O0", "-c", "prog.c", "-o", "prog.o"], cwd=folder, check=True)
    subprocess.run([gcc, "-g0", "-O0", "prog.c", "-o", "prog"], cwd=folder, check=True)
    out = {}
    for name, file in (("object", "prog.o"), ("executable", "prog")):
        desc = folder / f"{name}.yaml"
        desc.write_text(DESCRIPTION.format(file=file, folder=folder))
        built = folder / f"{name}-dbg"
        done = subprocess.run([sys.executable, "-m", "dwarfkit", "build", str(desc), "-o", str(built)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        out[name] = built
    subprocess.run([gcc, str(out["object"]), "-o", str(folder / "linked")], check=True)
    out["linked"] = folder / "linked"
    return out


@pytest.mark.parametrize("route", ["linked", "executable"])
def test_gdb_debugs_the_compiled_program_by_the_described_dwarf(programs: dict[str, Path], route: str) -> None:
    session = debuggers.gdb(programs[route], COMMANDS)
    text = session.transcript
    assert "helper (a=20) at prog.c:3" in text, text   # the static function, its argument, the row at helper_body
    assert "in main () at prog.c:12" in text and "doubled = 40" in text, text
    assert "Value returned is $1 = 41" in text and "x = 20" in text, text
    assert session.exit_code == 41


def test_both_routes_read_the_same(programs: dict[str, Path]) -> None:
    """The object's copy, linked, and the executable's copy give the same gdb session."""
    linked = debuggers.gdb(programs["linked"], COMMANDS)
    executable = debuggers.gdb(programs["executable"], COMMANDS)
    assert debuggers.compare(linked, executable) == []


def test_lldb_reads_the_described_dwarf(programs: dict[str, Path]) -> None:
    session = debuggers.lldb(programs["executable"], breakpoints=["helper"])
    stop = session.stops[0]
    assert stop.function == "helper" and stop.line == 3 and stop.variable("a").value == "20"


def test_object_copy_keeps_the_code_and_verifies(programs: dict[str, Path]) -> None:
    dwarfdump = require_tool("llvm-dwarfdump-14")
    verified = subprocess.run([dwarfdump, "--verify", str(programs["object"])], capture_output=True, text=True)
    assert verified.returncode == 0 and "No errors." in verified.stdout, verified.stdout
    original = programs["object"].parent / "prog.o"
    text = [subprocess.run([require_tool("objdump"), "-d", str(p)], capture_output=True, text=True).stdout
            .split("\n", 2)[2] for p in (original, programs["object"])]
    assert text[0] == text[1]   # the same code (objdump's listing after its file-name line)


def test_unknown_symbol_and_missing_file_name_the_place(tmp_path: Path, programs: dict[str, Path]) -> None:
    folder = programs["object"].parent
    desc = folder / "bad.yaml"
    desc.write_text(DESCRIPTION.format(file="prog.o", folder=folder).replace("[main_call, 12]", "[main_cal, 12]"))
    with pytest.raises(DescriptionError, match=r"bad.yaml:29: units\[0\]\.lines\[1\]\.rows\[2\]\.at: 'main_cal' is no "
                                               r"label of main"):
        build_file(desc)
    desc.write_text(DESCRIPTION.format(file="missing.o", folder=folder))
    with pytest.raises(DescriptionError, match=r"bad.yaml:1: file: .*missing.o: cannot read"):
        build_file(desc)
