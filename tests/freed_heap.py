"""Test-only: leave a chosen value in the C heap's free memory, so that a library that reads a field it never
initialised (keystone's default radix, see dwarfkit.asm) reads that value instead of whatever happened to be there."""
from __future__ import annotations

import ctypes

_LIBC = ctypes.CDLL(None)
_LIBC.malloc.argtypes = [ctypes.c_size_t]
_LIBC.malloc.restype = ctypes.c_void_p
_LIBC.free.argtypes = [ctypes.c_void_p]


def fill_freed_heap(word: int, *, largest: int = 4096, per_size: int = 16) -> None:
    """Allocates ``per_size`` blocks of every size up to ``largest`` bytes, fills them with the 32-bit ``word`` and
    frees them: the allocator hands those blocks out again to the next allocations of the same sizes."""
    blocks = []
    for size in range(16, largest + 1, 16):
        pattern = (ctypes.c_uint32 * (size // 4))(*[word] * (size // 4))
        for _ in range(per_size):
            block = _LIBC.malloc(size)
            ctypes.memmove(block, pattern, size)
            blocks.append(block)
    for block in blocks:
        _LIBC.free(block)
