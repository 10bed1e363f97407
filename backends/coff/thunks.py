"""Import thunks: a tiny function ``F`` that jumps through the IAT slot ``__imp_F``.

Code that calls an imported function directly (``call ExitProcess``), as C compilers emit it, needs one; an import
library supplies it when a linker builds the image, the PE writer supplies it here.
"""
from __future__ import annotations

from dwarfkit.errors import ContainerError

from .machine import AMD64, ARM64, Machine

_SIZES = {AMD64.machine: 8, ARM64.machine: 12}
_FILL = {AMD64.machine: b"\xcc", ARM64.machine: b"\0"}  # int3; udf #0 (4 zero bytes)


def thunk_size(machine: Machine) -> int:
    return _SIZES[machine.machine]


def code_fill(machine: Machine) -> bytes:
    """A byte that pads code with traps, for the gap before the thunks."""
    return _FILL[machine.machine]


def encode_thunk(machine: Machine, address: int, slot: int) -> bytes:
    """The thunk at ``address`` that jumps to the function whose address the loader stores at ``slot``."""
    if machine is AMD64:
        # jmp qword ptr [rip + disp32], padded with int3
        displacement = slot - (address + 6)
        return b"\xff\x25" + displacement.to_bytes(4, "little", signed=True) + b"\xcc\xcc"
    if machine is ARM64:
        # adrp x16, slot ; ldr x16, [x16, #:lo12:slot] ; br x16
        pages = (slot >> 12) - (address >> 12)
        if not -(1 << 20) <= pages < (1 << 20) or slot % 8:
            raise ContainerError(f"import thunk at {address:#x}: IAT slot {slot:#x} is out of ADRP range")
        adrp = 0x90000000 | ((pages & 3) << 29) | (((pages >> 2) & 0x7FFFF) << 5) | 16
        ldr = 0xF9400000 | (((slot & 0xFFF) // 8) << 10) | (16 << 5) | 16
        br = 0xD61F0200
        return b"".join(i.to_bytes(4, "little") for i in (adrp, ldr, br))
    raise ContainerError(f"no import thunk for machine {machine.name}")
