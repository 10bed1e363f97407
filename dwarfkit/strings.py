"""Deduplicated string sections: ``.debug_str`` and ``.debug_line_str``."""
from __future__ import annotations

from .errors import DescriptionError
from .sections import Section


class StringTable:
    """Null-terminated strings, each stored once. Offsets are final as soon as a string is added."""

    __slots__ = ("name", "_data", "_offsets", "offset_of")

    def __init__(self, name: str = ".debug_str") -> None:
        self.name = name
        self._data = bytearray()
        self._offsets: dict[str, int] = {}
        self.offset_of = self._offsets.get
        """``offset_of(text)``: the offset of ``text`` if it was added, else None (a lookup without a call of add)."""

    def add(self, text: str) -> int:
        """Offset of ``text`` in the section, adding it the first time it is seen."""
        offset = self._offsets.get(text)
        if offset is None:
            try:
                encoded = text.encode("utf-8")
            except (UnicodeEncodeError, AttributeError):
                raise DescriptionError(f"string {text!r} for {self.name} is not valid text (a lone surrogate, or "
                                       f"not a str)") from None
            if b"\0" in encoded:
                raise DescriptionError(f"string {text!r} for {self.name} contains a NUL byte")
            offset = self._offsets[text] = len(self._data)
            self._data += encoded
            self._data.append(0)
        return offset

    def preload(self, data: bytes) -> None:
        """Starts the table with a file's own section, so that its offsets stay valid (``dwarfkit.load`` keeps a
        file's ``DW_FORM_strp`` values as read); strings added later are looked up among these first."""
        if self._data:
            raise DescriptionError(f"{self.name}: preload an empty table only")
        self._data = bytearray(data)
        if self._data and self._data[-1] != 0:
            self._data.append(0)
        offset = 0
        for piece in bytes(self._data).split(b"\0")[:-1]:
            self._offsets.setdefault(piece.decode("utf-8", "surrogateescape"), offset)
            offset += len(piece) + 1

    def bytes_from(self, offset: int) -> bytes:
        """The section's bytes from ``offset`` on (what an append-only writer has not written yet)."""
        return bytes(self._data[offset:])

    def text_at(self, offset: int) -> str:
        """The string stored at ``offset`` (up to its NUL)."""
        end = self._data.index(0, offset)
        return self._data[offset:end].decode("utf-8", "surrogateescape")

    def __contains__(self, text: str) -> bool:
        return text in self._offsets

    def __len__(self) -> int:
        return len(self._data)

    def to_section(self) -> Section:
        return Section(self.name, bytearray(self._data))
