"""FileSpace, the one placement mechanism of the Mach-O writers (and of incremental updates later)."""
from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from dwarfkit.backends.macho_dsym.layout import FileSpace, ideal_size


def no_overlap(space: FileSpace) -> None:
    pieces = sorted(space.pieces.values(), key=lambda p: p.offset)
    for a, b in pairwise(pieces):
        assert a.offset + a.size <= b.offset
    for p in pieces:
        assert p.offset >= space.start and p.offset % p.alignment == 0


def test_pieces_get_slack_and_grow_in_place_until_it_is_used_up() -> None:
    space = FileSpace(0x1000)
    first = space.allocate("info", 300)
    second = space.allocate("line", 90)
    assert first == 0x1000 and second == 0x1000 + ideal_size(300)
    assert space.allocated_size(first) == ideal_size(300)
    assert space.grow("info", 390) == (first, False)
    offset, moved = space.grow("info", 500)
    assert moved and offset >= second + ideal_size(90)
    assert space.allocate("str", 10) == first  # the room info left is free again
    no_overlap(space)


def test_without_slack_pieces_are_packed() -> None:
    space = FileSpace(100, slack=False)
    assert [space.allocate(n, 10, 8) for n in "abc"] == [104, 120, 136]
    assert space.end() == 146


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5000), st.sampled_from([1, 4, 8, 16]), st.integers(0, 8000)),
                min_size=1, max_size=12))
def test_allocations_and_growth_never_overlap(requests: list[tuple[int, int, int]]) -> None:
    space = FileSpace(0x4000)
    for i, (size, alignment, _) in enumerate(requests):
        space.allocate(f"p{i}", size, alignment)
    no_overlap(space)
    for i, (_, _, new_size) in enumerate(requests):
        offset, _ = space.grow(f"p{i}", new_size)
        assert space.pieces[f"p{i}"].offset == offset
        no_overlap(space)
