"""Addresses as the core sees them: a symbol plus an offset, or a plain number.

A symbolic address becomes an ``ADDRESS`` relocation; a plain one (``symbol is None``) is written as is, which is what
a JIT with final addresses or a benchmark wants.
"""
from __future__ import annotations

from typing import Callable

from .errors import DescriptionError


class Address:
    """``Address(symbol, offset)``: immutable, equal and hashed by its two fields.

    Written by hand rather than as a frozen dataclass: a program makes one per function and line sequence, and the
    dataclass's ``__init__`` (two ``object.__setattr__`` calls) cost half again as much as this one.
    """

    __slots__ = ("symbol", "offset")
    __match_args__ = ("symbol", "offset")
    symbol: str | None
    offset: int

    def __init__(self, symbol: str | None = None, offset: int = 0) -> None:
        if type(offset) is not int or (symbol is not None and type(symbol) is not str):
            _check(symbol, offset)
        _set_symbol(self, symbol)
        _set_offset(self, offset)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Address is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Address is immutable: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.symbol == other.symbol and self.offset == other.offset

    def __hash__(self) -> int:
        return hash((self.symbol, self.offset))

    def __repr__(self) -> str:
        return f"Address(symbol={self.symbol!r}, offset={self.offset!r})"

    def __reduce__(self) -> tuple:
        return Address, (self.symbol, self.offset)

    def __add__(self, delta: int) -> "Address":
        return Address(self.symbol, self.offset + delta)

    def __sub__(self, other: "Address | int") -> "Address | int":
        """``a - b`` is a plain distance when both lie on the same symbol, else an address moved back."""
        if isinstance(other, Address):
            if other.symbol != self.symbol:
                raise ValueError(f"distance between {self} and {other}: different symbols")
            return self.offset - other.offset
        return Address(self.symbol, self.offset - other)

    def __str__(self) -> str:
        if self.symbol is None:
            return f"{self.offset:#x}"
        return f"{self.symbol}+{self.offset:#x}" if self.offset else self.symbol


# The slots' own setters, which __setattr__ above refuses to callers (taken from the class's namespace: the
# annotations above make ``Address.symbol`` read as an instance attribute to a type checker).
_set_symbol: Callable[[Address, "str | None"], None] = vars(Address)["symbol"].__set__
_set_offset: Callable[[Address, int], None] = vars(Address)["offset"].__set__


def _check(symbol: object, offset: object) -> None:
    """Refuses what is no address (a subclass of int or str passes: an IntEnum, a str subclass)."""
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise DescriptionError(f"address offset {offset!r} is not an integer")
    if symbol is not None and not isinstance(symbol, str):
        raise DescriptionError(f"address symbol {symbol!r} is not a str")


def as_address(value: "Address | int | str") -> Address:
    """Accepts an Address, a plain integer, or a symbol name."""
    if isinstance(value, Address):
        return value
    if isinstance(value, str):
        return Address(value, 0)
    return Address(None, value)
