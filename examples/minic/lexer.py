"""Splits minic source into tokens, each with its line and column (1-based)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import CompileError

KEYWORDS = {"int", "struct", "if", "else", "while", "return"}

# Longer operators first so that "<=" is not read as "<" then "=".
_TOKEN = re.compile(r"""
    (?P<space>[ \t\r]+) | (?P<newline>\n) | (?P<comment>//[^\n]*)
  | (?P<number>[0-9]+) | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>->|==|!=|<=|>=|[-+*/%<>=!&.,;(){}])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str
    """``number``, ``name``, ``keyword``, ``op`` or ``eof``."""
    text: str
    line: int
    column: int


def tokenize(source: str, filename: str) -> list[Token]:
    tokens: list[Token] = []
    line, line_start, pos = 1, 0, 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise CompileError(filename, line, pos - line_start + 1, f"unexpected character {source[pos]!r}")
        kind, text, column = m.lastgroup, m.group(), pos - line_start + 1
        pos = m.end()
        if kind == "newline":
            line, line_start = line + 1, pos
        elif kind == "word":
            tokens.append(Token("keyword" if text in KEYWORDS else "name", text, line, column))
        elif kind in ("number", "op"):
            tokens.append(Token(kind, text, line, column))
    tokens.append(Token("eof", "", line, pos - line_start + 1))
    return tokens
