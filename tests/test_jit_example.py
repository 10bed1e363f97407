"""examples/jit.py: minic compiled at run time in the Python process; gdb and lldb-14 debug the JIT-compiled code
through the GDB JIT interface, as the issue asks: `break area`, run, bt (down through the interpreter), args, locals,
finish; and after `--replace area`, the breakpoint stops in the new code at the new line."""
from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from conftest import REPO

from dwarfkit import debuggers

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="the minic JIT compiles x86_64 code")
ARGS = ["-m", "examples.jit", "--replace", "area"]


def test_the_example_runs_on_its_own() -> None:
    done = subprocess.run([sys.executable, "-m", "examples.jit"], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "main() = 160 (the interpreter: 160)"


def test_gdb_debugs_the_jit_compiled_area_and_its_replacement() -> None:
    session = debuggers.gdb(sys.executable, program_args=ARGS, cwd=REPO, breakpoints=["area"],
                            commands_per_stop=["bt", "info args", "info locals", "print *r", "finish"],
                            before=["set breakpoint pending on"], max_stops=8, timeout=180)
    hits = [(n, s) for n, s in enumerate(session.stops) if s.function == "area"]
    assert [(s.file, s.line) for _, s in hits] == [("shapes.mc", 22)] * 2 + [("shapes.mc", 23)] * 2
    n, first = hits[0]
    functions = [f.function or "" for f in first.frames]
    assert functions[:2] == ["area", "main"] and first.frames[1].line == 69
    assert any("PyEval_EvalFrame" in f for f in functions), functions   # the interpreter that called main
    assert [v.name for v in first.args] == ["r"]
    outputs = {o.command: o.output for o in first.outputs}
    assert outputs["info locals"].strip() == "No locals."
    assert "width = 1, height = 1" in outputs["print *r"]
    returned = session.stops[n + 1]
    assert (returned.function, returned.line, returned.return_value) == ("main", 69, "1")
    # box = {6, 3}: area(&box) returns 18 to line 71, before and after the replacement alike.
    assert [session.stops[m + 1].return_value for m, _ in hits] == ["1", "18", "1", "18"]
    assert session.exit_code == 0


def test_lldb_debugs_the_jit_compiled_area_and_its_replacement() -> None:
    session = debuggers.lldb(sys.executable, program_args=ARGS, cwd=REPO, breakpoints=["area"],
                             commands_per_stop=["frame variable *r", "finish"], max_stops=8, timeout=180,
                             before=["settings set plugin.jit-loader.gdb.enable on"])
    hits = [(n, s) for n, s in enumerate(session.stops) if s.function == "area"]
    assert [(s.file, s.line) for _, s in hits] == [("shapes.mc", 22)] * 2 + [("shapes.mc", 23)] * 2
    assert [v.name for v in hits[0][1].args] == ["r"]
    assert [session.stops[m + 1].return_value for m, _ in hits] == ["1", "18", "1", "18"]
    assert session.exit_code == 0
