"""minic as a JIT: ``python3 -m examples.jit [PROGRAM.mc] [--replace FUNCTION]`` (default: the bundled shapes.mc).

Compiles the program's functions to x86_64 code at run time, in this Python process, places them in executable
memory with :func:`dwarfkit.jit.load_image` (which resolves their relocations and announces their DWARF and call
frames to a debugger through the GDB JIT interface), calls ``main`` and prints its result, which must be the
reference interpreter's. Under a debugger the JIT-compiled functions are ordinary functions::

    gdb -ex 'set breakpoint pending on' -ex 'break area' -ex run --args python3 -m examples.jit
    lldb-14 -O 'settings set plugin.jit-loader.gdb.enable on' -o 'b area' -o run -- python3 -m examples.jit

``--replace FUNCTION`` then compiles the program again with FUNCTION's body moved down by one line (a new blank line
before it), loads the new code, unloads the old and calls ``main`` again: a breakpoint on FUNCTION stops in the new
code, at the new lines. The interpreter runs the program first, so a wrong program fails before any code runs.
"""
from __future__ import annotations

import argparse
import ctypes
import sys
import tempfile
from pathlib import Path

from dwarfkit import Arch, DwarfkitError, jit

from .minic import MinicError, compile_program, parse_program, run

SHAPES = Path(__file__).resolve().parent / "minic" / "programs" / "shapes.mc"


def load(source: str, path: Path) -> jit.LoadedImage:
    """The program compiled for this process and loaded: its functions callable, its DWARF announced."""
    image = compile_program(source, Arch.X86_64, path.name, comp_dir=str(path.parent))
    return jit.load_image(image)


def call_main(loaded: jit.LoadedImage) -> int:
    return int(loaded.function("main", ctypes.c_long, [])())


def moved_down(source: str, function: str) -> str:
    """``source`` with a blank line before the line that defines ``function``: its code stays, its lines move."""
    lines = source.splitlines(keepends=True)
    for n, line in enumerate(lines):
        if f" {function}(" in line and line.rstrip().endswith("{"):
            return "".join(lines[:n] + ["\n"] + lines[n:])
    raise jit.JitError(f"the program defines no function {function}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("program", nargs="?", type=Path, default=SHAPES, help="a minic program (default shapes.mc)")
    parser.add_argument("--replace", metavar="FUNCTION", help="then replace FUNCTION's code and run main again")
    args = parser.parse_args(argv)
    try:
        if jit.host_arch() is not Arch.X86_64:
            raise jit.JitError("the minic JIT compiles x86_64 code; this process runs another architecture")
        path = args.program.resolve()
        source = path.read_text()
        expected = run(parse_program(source, path.name)).return_value
        loaded = load(source, path)
        result = call_main(loaded)
        print(f"main() = {result} (the interpreter: {expected})", flush=True)
        if result != expected:
            raise jit.JitError(f"main() returned {result}, the interpreter {expected}")
        if args.replace:
            with tempfile.TemporaryDirectory(prefix="minic-jit-") as folder:
                source = moved_down(source, args.replace)
                path = Path(folder) / path.name   # the new code's source, for the debugger to show
                path.write_text(source)
                new = load(source, path)
                loaded.unload()
                result = call_main(new)
                print(f"main() = {result} after replacing {args.replace}", flush=True)
                new.unload()
        else:
            loaded.unload()
    except (OSError, MinicError, DwarfkitError) as error:
        print(f"examples.jit: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
