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

    def __contains__(self, text: str) -> bool:
        return text in self._offsets

    def __len__(self) -> int:
        return len(self._data)

    def to_section(self) -> Section:
        return Section(self.name, bytearray(self._data))
