"""Room in one section: slots owned by functions and free blocks between them (the seed's free list)."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..encoding import align_up

MIN_FREE = 8
"""No free block is smaller: a smaller rest stays with the slot it was cut from, as slack."""


@dataclass
class SlotSpace:
    """Free blocks of ``[start, end)``, sorted by offset and merged with their neighbours when freed.

    Every slot and free block starts at ``start`` plus a multiple of ``alignment`` and is a multiple of it long.
    A dataclass so that :mod:`.state` can carry it between processes like the writer's other state.
    """

    start: int
    end: int
    alignment: int = 1
    _offsets: list[int] = field(default_factory=list, init=False, repr=False)
    _sizes: dict[int, int] = field(default_factory=dict, init=False, repr=False)

    @property
    def free_blocks(self) -> list[tuple[int, int]]:
        return [(o, self._sizes[o]) for o in self._offsets]

    def last_free(self) -> tuple[int, int] | None:
        return (self._offsets[-1], self._sizes[self._offsets[-1]]) if self._offsets else None

    def slot_size(self, need: int) -> int:
        """How much room a fragment of ``need`` bytes asks for: a third more, as slack for growing in place."""
        return align_up(max(need + need // 3, MIN_FREE), self.alignment)

    def allocate(self, need: int) -> tuple[int, int] | None:
        """First fit: ``(offset, capacity)`` of a new slot for ``need`` bytes, or None if no free block holds it."""
        want = self.slot_size(need)
        need = align_up(need, self.alignment)
        for offset in self._offsets:
            size = self._sizes[offset]
            if size >= need:
                capacity = min(want, size)
                if size - capacity < MIN_FREE:
                    capacity = size
                self._take(offset, capacity)
                return offset, capacity
        return None

    def place(self, offset: int, capacity: int) -> None:
        """Marks ``[offset, offset + capacity)`` used; it must lie at the start of a free block (initial layout)."""
        self._take(offset, capacity)

    def release(self, offset: int, size: int) -> tuple[int, int]:
        """Frees a slot; returns the free block it became part of (merged with free neighbours)."""
        i = bisect.bisect_left(self._offsets, offset)
        end = offset + size
        if i < len(self._offsets) and self._offsets[i] == end:  # the next block is free
            end += self._sizes.pop(self._offsets.pop(i))
        if i > 0:
            before = self._offsets[i - 1]
            if before + self._sizes[before] == offset:
                self._sizes[before] = end - before
                return before, end - before
        self._offsets.insert(i, offset)
        self._sizes[offset] = end - offset
        return offset, end - offset

    def grow(self, end: int) -> tuple[int, int]:
        """Moves the end of the room to ``end``; returns the (merged) free block at the end."""
        old, self.end = self.end, end
        return self.release(old, end - old)

    def next_free(self, offset: int) -> tuple[int, int] | None:
        i = bisect.bisect_left(self._offsets, offset)
        return (self._offsets[i], self._sizes[self._offsets[i]]) if i < len(self._offsets) else None

    def _take(self, offset: int, capacity: int) -> None:
        size = self._sizes.pop(offset)
        i = bisect.bisect_left(self._offsets, offset)
        del self._offsets[i]
        if size > capacity:
            rest = offset + capacity
            self._offsets.insert(i, rest)
            self._sizes[rest] = size - capacity
