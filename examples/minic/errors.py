"""minic's errors. Each one names the source position as ``file:line:col`` like a C compiler does."""
from __future__ import annotations


class MinicError(Exception):
    """A problem in a minic program, found at compile time or while the interpreter runs it."""

    def __init__(self, filename: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{filename}:{line}:{column}: {message}")
        self.filename = filename
        self.line = line
        self.column = column
        self.message = message


class CompileError(MinicError):
    """The program is malformed: a syntax error, an unknown name, a type mismatch, an unsupported construct."""


class RunError(MinicError):
    """The program did something undefined while the interpreter ran it (null dereference, division by zero, ...)."""
