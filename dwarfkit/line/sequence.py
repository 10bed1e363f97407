"""One contiguous range of code and its line rows (a line-program sequence)."""
from __future__ import annotations

from array import array
from typing import Iterable, Iterator, overload

from ..address import Address
from ..errors import DescriptionError

# Bits of a row's flags field.
IS_STMT = 1
BASIC_BLOCK = 2
PROLOGUE_END = 4
EPILOGUE_BEGIN = 8

Row = tuple[int, int, int, int, int, int, int]   # (address, line, column, file, flags, isa, discriminator)
FIELDS = 7


class Rows:
    """The rows of a sequence, a list of ``(address, line, column, file, flags, isa, discriminator)`` tuples to its
    users, stored flat in one ``array('q')``.

    A benchmark adds millions of rows: as tuples they cost 120 bytes each and as many objects for Python's cyclic
    garbage collector to scan; flat they cost 56 bytes and no object. Values are checked when the program is encoded;
    here only that they are integers of 64 bits.
    """

    __slots__ = ("flat", "_start")

    def __init__(self, start: Address | None = None) -> None:
        self.flat = array("q")
        self._start = start   # for messages

    def where(self) -> str:
        return f"sequence at {self._start}" if self._start is not None else "sequence"

    def __len__(self) -> int:
        return len(self.flat) // FIELDS

    def __iter__(self) -> Iterator[Row]:
        it = iter(self.flat)
        return zip(it, it, it, it, it, it, it)   # type: ignore[return-value]

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
        return tuple(self.flat[FIELDS * index:FIELDS * index + FIELDS])  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rows):
            return self.flat == other.flat
        if isinstance(other, (list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rows({list(self)!r})"

    def append(self, row: Row) -> None:
        if len(row) != FIELDS:
            raise DescriptionError(f"{self.where()}, row {len(self)}: a row has {FIELDS} fields (address, line, "
                                   f"column, file, flags, isa, discriminator), not {len(row)}")
        self._extend(row)

    def extend(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self.append(row)

    def pop(self, index: int = -1) -> Row:
        row = self[index]
        if index < 0:
            index += len(self)
        del self.flat[FIELDS * index:FIELDS * index + FIELDS]
        return row

    def clear(self) -> None:
        del self.flat[:]

    def _extend(self, values: Iterable[int]) -> None:
        """Appends whole rows' worth of values; a value that is no 64-bit integer is a DescriptionError."""
        try:
            self.flat.extend(values)   # type: ignore[arg-type]
        except (TypeError, OverflowError) as error:
            del self.flat[len(self.flat) - len(self.flat) % FIELDS:]
            raise DescriptionError(f"{self.where()}, row {len(self)}: row values must be integers of 64 bits "
                                   f"({error})") from None


class LineSequence:
    """Rows of one contiguous code range, addresses as offsets from ``start``.

    :attr:`rows` is a :class:`Rows`: it reads and changes like a list of 7-tuples, stored flat. Rows are checked when
    the program is encoded.
    """

    __slots__ = ("start", "rows", "end_address", "_default_flags")

    def __init__(self, start: Address, default_is_stmt: bool = True) -> None:
        self.start = start
        self.rows = Rows(start)
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
        self.rows._extend((address, line, column, 1 if file is None else file, flags, isa, discriminator))

    def add_rows(self, rows: Iterable[tuple[int, int]], *, column: int = 0, file: int | None = None,
                 is_stmt: bool | None = None) -> None:
        """Adds many ``(address, line)`` rows that share column, file and is_stmt, without a Python step per row."""
        flags = self._default_flags if is_stmt is None else (IS_STMT if is_stmt else 0)
        if not isinstance(rows, (list, tuple)):
            rows = list(rows)
        n = len(rows)
        if not n:
            return
        try:
            if sum(map(len, rows)) != 2 * n:
                raise TypeError("a row is not an (address, line) pair")
            addresses, lines = zip(*rows)   # all rows are pairs: the shortest has 2 items and the sum is 2n
            block = array("q", (0, 0, column, 1 if file is None else file, flags, 0, 0)) * n
            block[0::FIELDS] = array("q", addresses)
            block[1::FIELDS] = array("q", lines)
        except (TypeError, ValueError, OverflowError) as error:
            raise DescriptionError(f"{self.rows.where()}, rows {len(self)}..: add_rows takes (address, line) pairs "
                                   f"of integers ({error})") from None
        self.rows.flat += block

    def end(self, address: int) -> None:
        """Ends the sequence; ``address`` is the offset of the first byte after its code."""
        self.end_address = address

    def __len__(self) -> int:
        return len(self.rows)
