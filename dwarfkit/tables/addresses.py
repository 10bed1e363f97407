"""``.debug_addr`` (DWARF 5): the addresses that ``DW_FORM_addrx`` attributes and indexed list entries name by index.

An address gets its index the first time it is used, and the same address always gets the same index. Imports the
foundations only (addresses, encoding, sections, the section writer).
"""
from __future__ import annotations

from ..address import Address, as_address
from ..encoding import Encoding
from ..sections import Section
from ..writer import SectionWriter
from .offsets import SectionOffset


class AddressTable:
    """The indexed addresses of one program, in index order, and the ``DW_AT_addr_base`` that points at them."""

    def __init__(self, encoding: Encoding) -> None:
        self.encoding = encoding
        self._indices: dict[Address, int] = {}
        self._list: list[Address] | None = None
        # DWARF 5's table has a header; GNU split DWARF 4's .debug_addr is the bare addresses (DW_AT_GNU_addr_base 0)
        self.header = encoding.version >= 5
        self.base = SectionOffset(".debug_addr", encoding.initial_length_size + 4 if self.header else 0)

    def __len__(self) -> int:
        return len(self._indices)

    def index(self, address: Address | int | str) -> int:
        """The index of ``address``, adding it when new."""
        address = as_address(address)
        index = self._indices.get(address)
        if index is None:
            index = self._indices[address] = len(self._indices)
        return index

    def at(self, index: int) -> Address:
        """The address with index ``index`` in ``.debug_addr``."""
        if self._list is None or len(self._list) != len(self._indices):
            self._list = list(self._indices)
        return self._list[index]

    def to_section(self) -> Section:
        enc = self.encoding
        w = SectionWriter(".debug_addr", enc)
        if not self.header:
            for address in self._indices:
                w.address(address)
            return w.section
        start = w.begin_length()
        w.u16(5)
        w.u8(enc.address_size)
        w.u8(0)
        for address in self._indices:
            w.address(address)
        w.end_length(start)
        return w.section
