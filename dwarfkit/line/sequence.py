"""One contiguous range of code and its line rows (a line-program sequence)."""
from __future__ import annotations

from typing import Iterable

from ..address import Address

# Bits of a row's flags field.
IS_STMT = 1
BASIC_BLOCK = 2
PROLOGUE_END = 4
EPILOGUE_BEGIN = 8


class LineSequence:
    """Rows of one contiguous code range, addresses as offsets from ``start``.

    Rows are stored as plain tuples ``(address, line, column, file, flags, isa, discriminator)``: a benchmark adds
    millions of them, so a row costs one tuple and nothing else. They are checked when the program is encoded.
    """

    __slots__ = ("start", "rows", "end_address", "_default_flags")

    def __init__(self, start: Address, default_is_stmt: bool = True) -> None:
        self.start = start
        self.rows: list[tuple[int, int, int, int, int, int, int]] = []
        self.end_address: int | None = None
        """Offset of the first byte after the sequence, set by :meth:`end`."""
        self._default_flags = IS_STMT if default_is_stmt else 0

    def row(self, address: int, line: int, *, column: int = 0, file: int | None = None, is_stmt: bool | None = None,
            basic_block: bool = False, prologue_end: bool = False, epilogue_begin: bool = False, isa: int = 0,
            discriminator: int = 0) -> None:
        """Adds a row: from ``address`` (offset from ``start``) on, code belongs to ``line`` of ``file``.

        ``file`` defaults to 1 (the program's primary file), ``is_stmt`` to the program's ``default_is_stmt``.
        """
        flags = self._default_flags if is_stmt is None else (IS_STMT if is_stmt else 0)
        if basic_block or prologue_end or epilogue_begin:
            flags |= ((BASIC_BLOCK if basic_block else 0) | (PROLOGUE_END if prologue_end else 0)
                      | (EPILOGUE_BEGIN if epilogue_begin else 0))
        self.rows.append((address, line, column, 1 if file is None else file, flags, isa, discriminator))

    def add_rows(self, rows: Iterable[tuple[int, int]], *, column: int = 0, file: int | None = None,
                 is_stmt: bool | None = None) -> None:
        """Adds many ``(address, line)`` rows that share column, file and is_stmt: one list extension, no call per row."""
        flags = self._default_flags if is_stmt is None else (IS_STMT if is_stmt else 0)
        file = 1 if file is None else file
        self.rows.extend([(address, line, column, file, flags, 0, 0) for address, line in rows])

    def end(self, address: int) -> None:
        """Ends the sequence; ``address`` is the offset of the first byte after its code."""
        self.end_address = address

    def __len__(self) -> int:
        return len(self.rows)
