"""A longer run of the differential debugger tests: ``python3 -m examples.differential --count 500``.

The tests (``tests/test_minic_differential.py``) compile random minic programs, stop gdb, lldb-14 and gdb-multiarch
+ qemu-aarch64 on some of their lines and compare every parameter, local and global with the reference interpreter.
The default suite checks a few programs per debugger; this runs the same tests with ``--count`` programs each
(``DWARFKIT_DIFF_EXAMPLES``), optionally for one debugger only, and with ``--random`` on new programs
(``DWARFKIT_DIFF_RANDOM``) instead of the suite's derandomized sequence. It needs pytest and hypothesis, like the tests.

How the tests judge: ``tests/minic_programs.py`` draws well-defined programs; breakpoints go on lines among
:func:`examples.minic.stop_lines`; ``tests/minic_stops.py`` asks the debugger (``info args``/``info locals``/``print``
in gdb, ``frame variable``/``target variable`` in lldb) and compares, stop by stop, the function, line, backtrace and
every parameter, local and global with the interpreter's :class:`~examples.minic.Stop`. Pointers compare by address:
globals from the ELF symbol table, stack variables as the debugger places them in the owning frame; dangling pointers
are not compared. One corner is modelled differently on purpose (``minic_stops.pending_declarations``): before
``int a = ...;`` runs, debuggers already show the inner ``a`` (a lexical block scopes the whole block) where C and the
interpreter still see the outer one.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEBUGGERS = ("gdb", "lldb", "gdb-qemu")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m examples.differential", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="random programs per debugger (default: 500)")
    parser.add_argument("--debugger", choices=DEBUGGERS, action="append",
                        help="only this debugger (repeatable; default: all three)")
    parser.add_argument("--random", action="store_true",
                        help="new random programs (default: the same derandomized sequence as the suite's)")
    args = parser.parse_args(argv)
    tests = [f"tests/test_minic_differential.py::test_debugger_shows_the_interpreters_values[{d}]"
             for d in args.debugger or DEBUGGERS]
    env = {**os.environ, "DWARFKIT_DIFF_EXAMPLES": str(args.count)}
    if args.random:
        env["DWARFKIT_DIFF_RANDOM"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *tests], cwd=REPO, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
