"""dwarfkit.debuggers against real gdb, lldb-14 and gdb-multiarch + qemu-aarch64.

The program is tests/programs.py's (``compute(3, 4)`` calls ``scale(&pt, 2)`` = 14 and ``leaf(4)`` = 6, exits with
20); every expectation comes from its model (line rows, the values its code computes), not from a debugger run.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import programs
import pytest
from conftest import REPO
from debuggers import session
from elftools.elf.elffile import ELFFile

from dwarfkit import (
    Address,
    Arch,
    ContentSection,
    DwarfkitError,
    Encoding,
    Image,
    SectionKind,
    Symbol,
    ToolError,
    debuggers,
)
from dwarfkit.asm import assemble
from dwarfkit.backends.elf import write_executable
from dwarfkit.expr import Expr
from dwarfkit.program import DwarfBuilder

pytestmark = pytest.mark.debugger


def _program(folder: Path, arch: Arch = Arch.X86_64, total: int = programs.TOTAL) -> tuple[programs.Program, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in programs.SOURCES.items():
        (folder / name).write_text(text)
    program = programs.build(arch, comp_dir=str(folder))
    if total != programs.TOTAL:  # the same program with another value in .data
        data = program.image.sections[1]
        program.image.sections[1] = ContentSection(".data", SectionKind.DATA, total.to_bytes(8, "little"),
                                                   alignment=data.alignment)
    exe = folder / "prog"
    write_executable(program.image, exe)
    return program, exe


def _text_base(program: programs.Program, exe: Path) -> int:
    with open(exe, "rb") as f:
        start = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("_start")[0]["st_value"]
    return start - program.ranges["_start"][0]


def _check_gdb_stops(s: debuggers.Session, program: programs.Program, exe: Path, start: str = "run") -> None:
    text = _text_base(program, exe)
    assert [(stop.function, stop.file, stop.line) for stop in s.stops] == [
        ("scale", "util.c", 5), ("compute", "main.c", 12), ("leaf", "util.c", 13), ("compute", "main.c", 14)], \
        s.transcript
    scale, after_scale, leaf, after_leaf = s.stops
    assert scale.reason == "breakpoint 1" and leaf.reason == "breakpoint 2" and scale.command == start
    assert scale.address == program.line_address("util.c", 5, text)
    assert leaf.address == program.line_address("util.c", 13, text)
    assert [(f.function, f.file, f.line) for f in scale.frames] == [
        ("scale", "util.c", 5), ("compute", "main.c", 12), ("_start", "main.c", 22)]
    assert [(v.name, v.type) for v in scale.args] == [("p", "struct point *"), ("factor", "long")]
    assert re.fullmatch(r"0x[0-9a-f]+", scale.args[0].value) and scale.args[1].value == "2"
    assert scale.frames[1].args == (debuggers.Variable("a", "long", "3"), debuggers.Variable("b", "long", "4"))
    assert [v.name for v in scale.locals] == ["sum"]
    assert scale.ptype("p") == "struct point {\n    long x;\n    long y;\n} *"
    assert scale.output("print *p") == "$1 = {x = 3, y = 4}\n"
    # finish: a stop of its own, in the caller, with the returned value.
    assert after_scale.command == "finish" and after_scale.return_value == "14" and after_scale.outputs == []
    assert after_scale.variable("pt") == debuggers.Variable("pt", "struct point", "{x = 3, y = 4}")
    # leaf keeps its variables in registers; the innermost block's come first.
    assert leaf.args == [debuggers.Variable("n", "long", "4")]
    assert [(v.name, v.type, v.value) for v in leaf.locals] == [("i", "long", "3"), ("acc", "long", "3")]
    assert after_leaf.return_value == "6"
    assert s.exit_code == programs.EXIT_STATUS
    assert "$1 = {x = 3, y = 4}" in s.transcript and "@@dwarfkit" not in s.transcript


def test_gdb_stops_frames_variables_ptype_and_finish(tmp_path: Path) -> None:
    program, exe = _program(tmp_path)
    s = session(debuggers.gdb, exe, breakpoints=["scale", "util.c:13 if i == 3"],
                commands_per_stop=["ptype p", "print *p", "finish"])
    _check_gdb_stops(s, program, exe)
    assert s.commands[:3] == ["break scale", "break util.c:13 if i == 3", "run"]
    # The program's CIE leaves most registers unspecified: gdb says so while unwinding, about nothing else.
    assert {c.split(";")[0] for c in s.complaints} <= {"incomplete CFI data"}, s.complaints
    assert s.warnings == [] and s.errors == []


def test_gdb_multiarch_under_qemu(tmp_path: Path) -> None:
    program, exe = _program(tmp_path, Arch.AARCH64)
    s = session(debuggers.gdb, exe, breakpoints=["scale", "util.c:13 if i == 3"],
                commands_per_stop=["ptype p", "print *p", "finish"], qemu=True)
    assert s.tool == "gdb-multiarch" and "run" not in s.commands  # the program runs already: run is continue
    _check_gdb_stops(s, program, exe, start="continue")


def test_a_whole_script(tmp_path: Path) -> None:
    """A script of commands: every stop is seen (next, step and finish too), each command's output kept apart."""
    _, exe = _program(tmp_path)
    s = session(debuggers.gdb, exe, ["break compute", "run", "next", "step", "bt", "finish", "p total"])
    assert [(stop.command, stop.function, stop.line) for stop in s.stops] == [
        ("run", "compute", 9), ("next", "compute", 10), ("step", "compute", 12), ("finish", "_start", 22)], \
        s.transcript
    assert s.stops[-1].return_value == str(programs.EXIT_STATUS)  # compute's value, $1
    assert s.output("p total") == f"$2 = {programs.TOTAL}\n"
    assert s.stops[2].output("bt") == s.output("bt") and s.output("bt").startswith("#0  compute (a=3, b=4)")
    assert [o.command for o in s.outputs] == s.commands


def test_lldb_stops_frames_variables_and_finish(tmp_path: Path) -> None:
    program, exe = _program(tmp_path)
    text = _text_base(program, exe)
    s = session(debuggers.lldb, exe, breakpoints=["scale", "util.c:13 if i == 3"],
                commands_per_stop=["frame variable *p", "finish"])
    assert [(stop.function, stop.file, stop.line) for stop in s.stops] == [
        ("scale", "util.c", 5), ("compute", "main.c", 12), ("leaf", "util.c", 13), ("compute", "main.c", 14)], \
        s.transcript
    scale, after_scale, leaf, after_leaf = s.stops
    assert scale.reason == "breakpoint 1.1" and leaf.reason == "breakpoint 2.1"
    assert scale.address == program.line_address("util.c", 5, text)
    assert [(f.function, f.file, f.line) for f in scale.frames] == [
        ("scale", "util.c", 5), ("compute", "main.c", 12), ("_start", "main.c", 22)]
    assert [(v.name, v.type) for v in scale.args] == [("p", "point *"), ("factor", "long")]
    assert scale.frames[1].args == (debuggers.Variable("a", "", "3"), debuggers.Variable("b", "", "4"))
    assert "x = 3" in scale.output("frame variable *p") and "y = 4" in scale.output("frame variable *p")
    assert after_scale.return_value == "14" and after_leaf.return_value == "6"
    assert after_scale.variable("pt") == debuggers.Variable("pt", "point", "(x = 3, y = 4)")
    assert leaf.variable("i") == debuggers.Variable("i", "long", "3") and leaf.variable("acc").value == "3"
    assert leaf.args == [debuggers.Variable("n", "long", "4")]
    assert s.exit_code == programs.EXIT_STATUS
    assert "run_one_line" not in s.transcript and "thread backtrace" not in s.transcript
    # At leaf there is no p: lldb says so, and the session goes on to the next stop.
    assert s.warnings == [] and s.errors == ["no variable named 'p' found in this frame"], s.transcript


def _broken(folder: Path) -> Path:
    """A one-function program whose DWARF is wrong on purpose: the function's DW_AT_sibling points back at the base
    type before it, a variable's DW_AT_decl_file names file 77 of a line table that has one file, and a named
    DW_TAG_dwarf_procedure (a tag gdb makes no symbol of)."""
    body = "push rbp\nmov rbp, rsp\nmov qword ptr [rbp-8], 7\nmov eax, 60\nmov rdi, qword ptr [rbp-8]\nsyscall"
    code = assemble(Arch.X86_64, [("_start", body)])
    start, end = code.functions["_start"]
    dw = DwarfBuilder(Encoding(version=5, address_size=8))
    cu = dw.compile_unit("broken.c", comp_dir=str(folder), low_pc=Address("_start"), high_pc=end - start)
    long_t = cu.base_type("long", 8, "signed")
    fn = cu.die("subprogram", name="_start", low_pc=Address("_start"), high_pc=end - start,
                frame_base=Expr().breg(6, 0), sibling=long_t)
    fn.die("variable", name="x", type=long_t, decl_file=77, decl_line=2, location=Expr().fbreg(-8))
    cu.die("dwarf_procedure", name="odd")
    rows = cu.line.sequence(Address("_start"))
    rows.row(0, 1)
    rows.end(end - start)
    exe = folder / "broken"
    write_executable(Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, code.code)],
                           [Symbol("_start", ".text", start, end - start)], dwarf=dw.emit(), entry="_start"), exe)
    return exe


def test_gdb_complaints_are_collected(tmp_path: Path) -> None:
    exe = _broken(tmp_path)
    s = session(debuggers.gdb, exe, ["maint expand-symtabs", "info scope _start"])
    assert "DW_AT_sibling points backwards" in s.complaints, s.transcript
    assert "file index out of range" in s.complaints, s.transcript
    assert "unsupported tag: 'DW_TAG_dwarf_procedure'" in s.complaints, s.transcript
    assert "Symbol x is a variable" in s.output("info scope _start")
    quiet = session(debuggers.gdb, exe, ["maint expand-symtabs"], complaints=0)
    assert quiet.complaints == [] and "During symbol reading" not in quiet.transcript
    # A correct file gives none.
    _, good = _program(tmp_path / "good")
    assert session(debuggers.gdb, good, ["maint expand-symtabs", "info scope compute"]).complaints == []


def test_warnings_and_errors_are_collected(tmp_path: Path) -> None:
    _, exe = _program(tmp_path)
    s = session(debuggers.gdb, exe, ["add-symbol-file /nonexistent/file.debug 0x1000"])
    assert s.warnings == [] and "/nonexistent/file.debug" in s.transcript
    lldb = session(debuggers.lldb, exe, ["target symbols add /nonexistent/file.debug", "frame variable"])
    assert lldb.errors and any("/nonexistent/file.debug" in e for e in lldb.errors), lldb.transcript


def test_a_hanging_session_is_killed_at_its_timeout(tmp_path: Path) -> None:
    code = assemble(Arch.X86_64, [("_start", "spin:\njmp spin")])
    exe = tmp_path / "spin"
    write_executable(Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, code.code)],
                           [Symbol("_start", ".text", 0, len(code.code))], entry="_start"), exe)
    with pytest.raises(debuggers.DebuggerTimeout, match=r"gdb timed out after 3s") as caught:
        session(debuggers.gdb, exe, ["echo started\\n", "run"], timeout=3)
    assert isinstance(caught.value, ToolError) and "started" in caught.value.transcript
    assert not any(_runs(pid, exe) for pid in os.listdir("/proc") if pid.isdigit()), "the inferior survived"


def _runs(pid: str, exe: Path) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/exe") == str(exe)
    except OSError:
        return False


def test_a_missing_debugger_is_a_typed_error(tmp_path: Path) -> None:
    _, exe = _program(tmp_path)
    for run in (debuggers.gdb, debuggers.lldb):
        with pytest.raises(debuggers.ToolMissing, match="no-such-debugger-dwarfkit is not installed") as caught:
            run(exe, ["info functions"], tool="no-such-debugger-dwarfkit")
        assert isinstance(caught.value, ToolError) and isinstance(caught.value, DwarfkitError)
        assert caught.value.tool == "no-such-debugger-dwarfkit"


def test_wrong_arguments_are_typed_errors(tmp_path: Path) -> None:
    for kwargs, message in (({"commands": ["run"], "breakpoints": ["main"]}, "not both"),
                            ({"commands": "run"}, "lists of strings"),
                            ({"commands": ["break x\nrun"]}, "one line"),
                            ({"breakpoints": ["main"], "max_stops": 0}, "max_stops"),
                            ({"commands": ["run"], "timeout": 0}, "timeout"),
                            ({"commands": ["run"], "program_args": "-v"}, "list of strings")):
        for run in (debuggers.gdb, debuggers.lldb):
            with pytest.raises(debuggers.SessionError, match=message):
                run(tmp_path / "prog", **kwargs)


def test_sessions_of_equal_programs_compare_equal_and_a_difference_is_named(tmp_path: Path) -> None:
    """Two copies in other folders (other paths, same addresses): equal once paths are masked; another value of a
    global is one difference, under gdb and under lldb."""
    _, a = _program(tmp_path / "a")
    _, b = _program(tmp_path / "other-folder")
    _, changed = _program(tmp_path / "c", total=99)
    for run, per_stop in ((debuggers.gdb, ["print total", "info locals"]),
                          (debuggers.lldb, ["target variable total", "frame variable"])):
        first = session(run, a, breakpoints=["leaf"], commands_per_stop=per_stop)
        second = session(run, b, breakpoints=["leaf"], commands_per_stop=per_stop)
        assert first.transcript != second.transcript  # the paths differ ...
        assert debuggers.compare(first, second) == []  # ... and nothing else
        assert first.normalized() == second.normalized()
        other = session(run, changed, breakpoints=["leaf"], commands_per_stop=per_stop)
        differences = debuggers.compare(first, other)
        changed_lines = [d for d in differences if d[:1] in "-+" and d[:3] not in ("---", "+++")]
        assert len(changed_lines) == 2 and "7" in changed_lines[0] and "99" in changed_lines[1], differences


def test_normalize_masks_addresses_pids_and_paths() -> None:
    text = ("Process 4242 stopped\n[Inferior 1 (process 4242) exited normally]\n"
            "frame #0: 0x0000000000401020 /tmp/x/prog`leaf at util.c:13\nframe #1: 0x0000000000401000 prog`_start\n"
            "id = {0x0000002a}\nsmall 0x10\nsource /tmp/x/util.c, program prog.c, /tmp/x/prog2\n")
    assert debuggers.normalize(text, paths=["/tmp/x/prog"]) == (
        "Process PID stopped\n[Inferior 1 (process PID) exited normally]\n"
        "frame #0: 0xADDR <PATH>`leaf at util.c:13\nframe #1: 0xADDR <NAME>`_start\n"
        "id = {0xADDR}\nsmall 0x10\nsource <DIR>/util.c, program prog.c, <DIR>/prog2\n")
    assert debuggers.normalize(text, addresses=False, pids=False) == text


def test_the_readme_example(tmp_path: Path) -> None:
    """The README's dwarfkit.debuggers example runs on the file its main example writes and prints what it says."""
    text = (REPO / "README.md").read_text()
    part = text[text.index("## Running debuggers: `dwarfkit.debuggers`"):]
    (tmp_path / "example.py").write_text(re.findall(r"```python\n(.*?)```", text, flags=re.S)[0] +
                                         re.findall(r"```py\n(.*?)```", part, flags=re.S)[0])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "main demo.c 3 ['main']", "Variable(name='x', type='long', value='7') long 7",
        "Variable(name='x', type='long', value='7')", "[]"], out.stdout
