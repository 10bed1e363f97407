"""One contiguous range of code and its line rows (a line-program sequence)."""
from __future__ import annotations

from bisect import bisect_right
from typing import Iterable, Iterator, overload

from ..address import Address
from ..errors import DescriptionError

# Bits of a row's flags field.
IS_STMT = 1
BASIC_BLOCK = 2
PROLOGUE_END = 4
EPILOGUE_BEGIN = 8
OP_INDEX_SHIFT = 4   # flags >> 4: the row's op_index (VLIW programs, maximum_operations_per_instruction > 1)

Row = tuple[int, int, int, int, int, int, int]   # (address, line, column, file, flags, isa, discriminator)
Attributes = tuple[int, int, int, int, int]      # (column, file, flags, isa, discriminator)


class LineSequence:
    """Rows of one contiguous code range, addresses as offsets from ``start``.

    A benchmark adds millions of rows, so they are stored compactly: ``(address, line)`` pairs in one flat list of
    integers, and the other fields as runs of rows that share them, ``(end, (column, file, flags, isa,
    discriminator))``. :attr:`rows` shows them as a list of 7-tuples. Rows are checked when the program is encoded.
    """

    __slots__ = ("start", "end_address", "_default_flags", "pairs", "runs")

    def __init__(self, start: Address, default_is_stmt: bool = True) -> None:
        self.start = start
        self.end_address: int | None = None
        """Offset of the first byte after the sequence, set by :meth:`end`."""
        self._default_flags = IS_STMT if default_is_stmt else 0
        self.pairs: list[int] = []
        """address, line, address, line, ... of every row."""
        self.runs: list[tuple[int, Attributes]] = []
        """``(end, attributes)``: rows up to ``end`` (exclusive) since the previous run have these attributes."""

    @property
    def rows(self) -> "Rows":
        """The rows as a list of ``(address, line, column, file, flags, isa, discriminator)`` (a live view)."""
        return Rows(self)

    def row(self, address: int, line: int, *, column: int = 0, file: int | None = None, is_stmt: bool | None = None,
            basic_block: bool = False, prologue_end: bool = False, epilogue_begin: bool = False, isa: int = 0,
            discriminator: int = 0, op_index: int = 0) -> None:
        """Adds a row: from ``address`` (offset from ``start``) on, code belongs to ``line`` of ``file``.

        ``file`` defaults to 1 (the program's primary file), ``is_stmt`` to the program's ``default_is_stmt``.
        ``op_index``: the operation within a VLIW instruction (the program needs ``max_ops_per_instruction`` > 1);
        it is kept in the row's flags (``flags >> OP_INDEX_SHIFT``). A row at the address of the previous one is
        written as its own row (the DW_LNS_copy semantics: each is a new view at that address).
        """
        flags = self._default_flags if is_stmt is None else (IS_STMT if is_stmt else 0)
        if op_index:
            if not isinstance(op_index, int) or isinstance(op_index, bool) or not 0 < op_index < 256:
                raise DescriptionError(f"sequence at {self.start}, row {len(self)}: op_index {op_index!r} is not "
                                       f"an integer in 0..255")
            flags |= op_index << OP_INDEX_SHIFT
        if basic_block or prologue_end or epilogue_begin:
            flags |= ((BASIC_BLOCK if basic_block else 0) | (PROLOGUE_END if prologue_end else 0)
                      | (EPILOGUE_BEGIN if epilogue_begin else 0))
        self._add(address, line, (column, 1 if file is None else file, flags, isa, discriminator))

    def _add(self, address: int, line: int, attributes: Attributes) -> None:
        pairs = self.pairs
        pairs.append(address)
        pairs.append(line)
        runs = self.runs
        if runs and runs[-1][1] == attributes:
            runs[-1] = (len(pairs) >> 1, attributes)
        else:
            runs.append((len(pairs) >> 1, attributes))

    def add_rows(self, rows: Iterable[tuple[int, int]], *, column: int = 0, file: int | None = None,
                 is_stmt: bool | None = None) -> None:
        """Adds many ``(address, line)`` rows that share column, file and is_stmt, in one run of shared fields."""
        flags = self._default_flags if is_stmt is None else (IS_STMT if is_stmt else 0)
        pairs = self.pairs
        before = len(pairs)
        # Unpacking checks that each row is a pair; measured under callgrind, this loop costs less than checking
        # the lengths first and extending the list from an iterator.
        try:
            for address, line in rows:
                pairs.append(address)
                pairs.append(line)
        except (TypeError, ValueError):
            del pairs[before:]
            raise DescriptionError(f"sequence at {self.start}, rows {before >> 1}..: add_rows takes (address, line) "
                                   f"pairs") from None
        if len(pairs) == before:
            return
        attributes = (column, 1 if file is None else file, flags, 0, 0)
        runs = self.runs
        if runs and runs[-1][1] == attributes:
            runs[-1] = (len(pairs) >> 1, attributes)
        else:
            runs.append((len(pairs) >> 1, attributes))

    def end(self, address: int) -> None:
        """Ends the sequence; ``address`` is the offset of the first byte after its code."""
        self.end_address = address

    def __len__(self) -> int:
        return len(self.pairs) >> 1


class Rows:
    """A sequence's rows seen as a list of 7-tuples; reading and changing it reads and changes the sequence."""

    __slots__ = ("_seq",)

    def __init__(self, seq: LineSequence) -> None:
        self._seq = seq

    def __len__(self) -> int:
        return len(self._seq.pairs) >> 1

    def __iter__(self) -> Iterator[Row]:
        seq = self._seq
        first = 0
        for end, attributes in seq.runs:
            it = iter(seq.pairs[2 * first:2 * end])
            for address, line in zip(it, it, strict=False):
                yield (address, line) + attributes
            first = end

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return list(self)[index]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("row index out of range")
        seq = self._seq
        run = bisect_right([end for end, _ in seq.runs], index)
        return (seq.pairs[2 * index], seq.pairs[2 * index + 1]) + seq.runs[run][1]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Rows, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rows({list(self)!r})"

    def append(self, row: Row) -> None:
        if len(row) != 7:
            raise DescriptionError(f"sequence at {self._seq.start}, row {len(self)}: a row has 7 fields (address, "
                                   f"line, column, file, flags, isa, discriminator), not {len(row)}")
        self._seq._add(row[0], row[1], tuple(row[2:]))   # type: ignore[arg-type]

    def extend(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self.append(row)

    def pop(self, index: int = -1) -> Row:
        rows = list(self)
        row = rows.pop(index)
        self.clear()
        self.extend(rows)
        return row

    def clear(self) -> None:
        self._seq.pairs.clear()
        self._seq.runs.clear()
