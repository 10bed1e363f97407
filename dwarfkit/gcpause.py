"""``paused_gc()``: the cyclic garbage collector off while a phase makes or walks millions of small objects.

Loading a large file, emitting its DWARF or rewriting an incremental program creates DIEs, values and rows that
all stay alive until the phase ends; every collection the allocations trigger rescans all of them and frees
nothing (a third of `load`'s time on libpython3.11). Reference counting still frees what dies young."""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disables the collector for the ``with`` block (nested blocks are fine) and restores it afterwards.

    What the block made and kept goes to the oldest generation, as if it had survived collections: enabled again
    with millions of objects in the youngest one, the next routine collection would scan all of them at once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()     # every tracked object to the permanent generation, then all of them back into
            gc.unfreeze()   # the oldest: a move of list heads, no scan; still collected by full collections
            gc.enable()
