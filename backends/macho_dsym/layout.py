"""File space of a Mach-O file: which byte ranges are taken, where a new or grown piece fits.

One mechanism places every piece of every file this backend writes: section contents, relocation records, symbol and
string tables, the signature. In a dSYM each piece is reserved with slack (``ideal_size``), so that it can grow in
place for a while; when it outgrows its room, :meth:`FileSpace.grow` finds it a new place and the caller moves its
bytes. Incremental rewriting (one function's DIEs or line rows changed) relies on this. Executables and objects are
written once and packed (``slack=False``).
"""
from __future__ import annotations

from dataclasses import dataclass

from dwarfkit.encoding import align_up
from dwarfkit.errors import LayoutError

SLACK_NUMERATOR, SLACK_DENOMINATOR = 4, 3
"""Room reserved after each piece: a third of its size."""


def ideal_size(size: int) -> int:
    return size * SLACK_NUMERATOR // SLACK_DENOMINATOR


@dataclass
class Piece:
    offset: int
    size: int
    alignment: int


class FileSpace:
    """Pieces laid out from ``start`` on, each named, never overlapping each other's reserved room."""

    def __init__(self, start: int, slack: bool = True) -> None:
        self.start = start
        self.slack = slack
        self.pieces: dict[str, Piece] = {}

    def _reserved(self, size: int) -> int:
        return ideal_size(size) if self.slack else size

    def detect_collision(self, start: int, size: int, ignore: str | None = None) -> int | None:
        """End of the reserved room of a piece that [start, start + reserved(size)) overlaps, or None."""
        end = start + self._reserved(size)
        for name, piece in self.pieces.items():
            if name == ignore:
                continue
            piece_end = piece.offset + self._reserved(piece.size)
            if end > piece.offset and start < piece_end:
                return piece_end
        return None

    def find_free_space(self, size: int, alignment: int = 1, ignore: str | None = None) -> int:
        """The first offset, from ``start`` on, where ``size`` bytes and their slack fit."""
        offset = align_up(self.start, alignment)
        while (end := self.detect_collision(offset, size, ignore)) is not None:
            offset = align_up(end, alignment)
        return offset

    def allocated_size(self, offset: int) -> int | None:
        """How many bytes a piece at ``offset`` may use before the next piece starts (None: up to the end)."""
        following = [p.offset for p in self.pieces.values() if p.offset > offset]
        return min(following) - offset if following else None

    def allocate(self, name: str, size: int, alignment: int = 1) -> int:
        if name in self.pieces:
            raise LayoutError(f"file piece {name} is allocated twice")
        offset = self.find_free_space(size, alignment)
        self.pieces[name] = Piece(offset, size, alignment)
        return offset

    def grow(self, name: str, new_size: int) -> tuple[int, bool]:
        """Resizes piece ``name``; returns its (possibly new) offset and whether it moved (bytes must be copied)."""
        piece = self.pieces[name]
        room = self.allocated_size(piece.offset)
        if room is None or new_size <= room:
            piece.size = new_size
            return piece.offset, False
        piece.offset = self.find_free_space(new_size, piece.alignment, ignore=name)
        piece.size = new_size
        return piece.offset, True

    def end(self) -> int:
        """First byte after every piece (without slack): where the used part of the region ends."""
        return max((p.offset + p.size for p in self.pieces.values()), default=self.start)
