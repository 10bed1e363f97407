"""minic: a small C-like language whose compiler shows how to describe a program with dwarfkit (as LLVM's
Kaleidoscope chapter on debug information does for LLVM).

    program = parse_program(source, "shapes.mc")        # syntax tree, names resolved, types checked
    result = run(program, stop_at={12, 20})             # the reference interpreter
    image = compile_program(source, Arch.X86_64, "shapes.mc")   # code + data + DWARF, ready for a backend

Flow: source -> ``lexer`` -> ``parser`` (the grammar is in its docstring) -> ``syntax`` tree -> ``check`` (names and
types) -> either ``interpreter`` (the meaning, and the debuggers' oracle: a ``Stop`` per reached line) or ``codegen``
(arch-neutral walk: frame slots, one label per line row, block label ranges, CFI steps) with ``target_x86_64`` /
``target_aarch64`` (the instructions of a stack machine, behind ``codegen.Target``) -> ``dwarfkit.asm`` ->
``compiler`` (``.text``, ``.data``, symbols, entry ``_start``: an ``Image``) + ``debuginfo`` (everything DWARF through
``DwarfBuilder`` and ``CallFrames``; the module a compiler writer reads first) -> any backend. ``platform=`` says how
``_start`` exits: Linux or macOS exit syscall, or Windows ``ExitProcess`` through the import slot
``__imp_ExitProcess`` (write the image with ``write_pe(..., imports=compiler.WINDOWS_IMPORTS)``).

Imports: dwarfkit's public API only (``dwarfkit``, ``dwarfkit.asm``, ``expr``, ``frame``, ``program``, ``sections``);
never a backend or the reader.

Where to add a language feature: a ``syntax`` node, a ``parser`` rule, a ``check`` rule, an ``interpreter`` case and a
``codegen`` case (plus a ``Target`` method if it needs new instructions); the debug information follows from the tree
unless the feature brings a new kind of variable or type (then ``debuginfo``). An architecture: a ``Target`` subclass
and its entry in ``compiler.TARGETS``.
"""
from __future__ import annotations

from .check import check
from .compiler import Compilation, compile_program, compile_to
from .errors import CompileError, MinicError, RunError
from .interpreter import Execution, Pointer, Stop, Target, run, stop_lines
from .parser import parse
from .syntax import Program


def parse_program(source: str, filename: str = "<input>") -> Program:
    """Parses and checks a program; raises CompileError with ``file:line:col``."""
    return check(parse(source, filename))


__all__ = ["Compilation", "CompileError", "Execution", "MinicError", "Pointer", "Program", "RunError", "Stop",
           "Target", "compile_program", "compile_to", "parse_program", "run", "stop_lines"]
