"""dwarfkit.jit: code compiled at run time in a Python process, debugged through the GDB JIT interface by gdb and
lldb-14 (tests/jit/jit_add.py compiles `jit_add`, calls it, replaces its code and calls it again)."""
from __future__ import annotations

import ctypes
import platform
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit import debuggers, jit
from dwarfkit.arch import Arch
from dwarfkit.errors import DescriptionError

PROGRAM = Path(__file__).resolve().parent / "jit" / "jit_add.py"
REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="the JIT program is x86_64 code")


def test_the_interface_library_loads_and_exports_both_symbols(tmp_path: Path) -> None:
    """The shared object dwarfkit's ELF writer makes: readelf sees the two exports, dlopen loads it, the descriptor
    starts at version 1 with no entry, and the function returns."""
    require_tool("readelf")
    path = tmp_path / "libjit.so"
    path.write_bytes(jit.interface_library_bytes(Arch.X86_64))
    symbols = subprocess.run(["readelf", "-W", "--dyn-syms", str(path)], capture_output=True, text=True,
                             check=True).stdout
    assert " FUNC    GLOBAL DEFAULT    1 __jit_debug_register_code" in symbols
    assert " OBJECT  GLOBAL DEFAULT    6 __jit_debug_descriptor" in symbols
    library = ctypes.CDLL(str(path))
    assert struct.unpack("<IIQQ", ctypes.string_at(ctypes.addressof(
        ctypes.c_char.in_dll(library, "__jit_debug_descriptor")), 24)) == (1, 0, 0, 0)
    getattr(library, "__jit_debug_register_code")()


def test_the_program_runs_on_its_own() -> None:
    done = subprocess.run([sys.executable, str(PROGRAM)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["first", "5", "second", "105"]


def test_gdb_stops_in_jit_code_and_in_its_replacement() -> None:
    session = debuggers.gdb(sys.executable, program_args=[str(PROGRAM)], cwd=REPO, breakpoints=["jit_add"],
                            commands_per_stop=["bt", "info args", "finish"], before=["set breakpoint pending on"],
                            max_stops=3, timeout=120)
    # Each breakpoint stop, then the stop where `finish` returned (in libffi, the caller).
    first, first_returned, second, second_returned = session.stops
    assert (first.function, first.file, first.line) == ("jit_add", "jit.c", 2)
    assert [(v.name, v.value) for v in first.args] == [("a", "2"), ("b", "3")]
    # The caller chain goes on through libffi and ctypes into the interpreter that made the call.
    functions = [f.function or "" for f in first.frames]
    assert functions[0] == "jit_add" and any("PyEval_EvalFrame" in f for f in functions), functions
    assert first_returned.return_value == "5"
    assert (second.function, second.file, second.line) == ("jit_add", "jit.c", 11)
    assert second_returned.return_value == "105"
    assert session.exit_code == 0
    assert not [e for e in session.errors + session.warnings if "breakpoint" in e.lower()], session.transcript


def test_lldb_stops_in_jit_code() -> None:
    session = debuggers.lldb(sys.executable, program_args=[str(PROGRAM)], cwd=REPO, breakpoints=["jit_add"],
                             commands_per_stop=["bt", "frame variable", "finish"], max_stops=2, timeout=120,
                             before=["settings set plugin.jit-loader.gdb.enable on"])
    first, first_returned = session.stops[:2]
    assert (first.function, first.file, first.line) == ("jit_add", "jit.c", 2)
    assert [(v.name, v.value) for v in first.args] == [("a", "2"), ("b", "3")]
    assert first_returned.return_value == "5"


def test_register_refuses_what_it_cannot_announce() -> None:
    import dwarfkit
    image = dwarfkit.build({"output": "elf-object", "functions": {"f": {"hex": "c3"}}}).image
    with pytest.raises(DescriptionError, match=r"no address given for section\(s\) \.text"):
        jit.register(image, {})
    with pytest.raises(DescriptionError, match="not an Image"):
        jit.register(b"\x7fELF", {".text": 0})  # type: ignore[arg-type]
    with pytest.raises(jit.JitError, match="must be the bytes of an ELF file"):
        jit.register_symfile(b"MZ")
    with pytest.raises(DescriptionError, match="positive integer"):
        jit.ExecutableMemory(0)
