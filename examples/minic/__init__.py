"""minic: a small C-like language whose compiler shows how to describe a program with dwarfkit.

    program = parse_program(source, "shapes.mc")        # syntax tree, names resolved, types checked
    result = run(program, stop_at={12, 20})             # the reference interpreter
    image = compile_program(source, Arch.X86_64, "shapes.mc")   # code + data + DWARF, ready for a backend
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
