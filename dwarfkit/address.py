"""Addresses as the core sees them: a symbol plus an offset, or a plain number.

A symbolic address becomes an ``ADDRESS`` relocation; a plain one (``symbol is None``) is written as is, which is what
a JIT with final addresses or a benchmark wants.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Address:
    symbol: str | None = None
    offset: int = 0

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


def as_address(value: "Address | int | str") -> Address:
    """Accepts an Address, a plain integer, or a symbol name."""
    if isinstance(value, Address):
        return value
    if isinstance(value, str):
        return Address(value, 0)
    return Address(None, value)
