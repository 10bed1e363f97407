"""Per-architecture COFF facts: the Machine value and how each dwarfkit relocation kind is spelled.

SECTION/UNIT -> ``SECREL`` (4 bytes only: a DWARF64 section offset is an error here), ADDRESS -> ``ADDR64``/``ADDR32``,
PCREL -> ``REL32``; ENTRY is final. A new machine is one :class:`Machine` here plus its numbers in ``constants``."""
from __future__ import annotations

from dataclasses import dataclass

from dwarfkit.arch import Arch
from dwarfkit.errors import ContainerError, RelocationError
from dwarfkit.sections import Relocation, RelocKind

from . import constants as C


@dataclass(frozen=True)
class Machine:
    name: str
    machine: int
    addr64: int
    addr32: int
    secrel: int
    rel32: int

    def relocation_type(self, r: Relocation, where: str) -> int:
        """The COFF relocation type of an object relocation. ``where`` names the section for messages."""
        kind = r.kind
        if kind in (RelocKind.SECTION, RelocKind.UNIT):
            if r.size == 4:
                return self.secrel
            raise RelocationError(f"{where}+{r.offset:#x}: {r.size}-byte offset into {r.target}: COFF has only a "
                                  f"4-byte section-relative relocation (no DWARF64 in COFF objects)")
        if kind is RelocKind.ADDRESS:
            if r.size == 8:
                return self.addr64
            if r.size == 4:
                return self.addr32
        if kind is RelocKind.PCREL and r.size == 4:
            return self.rel32
        raise RelocationError(f"{where}+{r.offset:#x}: COFF {self.name} has no relocation for a {r.size}-byte "
                              f"{kind.value} field against {r.target!r}")


AMD64 = Machine("AMD64", C.IMAGE_FILE_MACHINE_AMD64, C.IMAGE_REL_AMD64_ADDR64, C.IMAGE_REL_AMD64_ADDR32,
                C.IMAGE_REL_AMD64_SECREL, C.IMAGE_REL_AMD64_REL32)
ARM64 = Machine("ARM64", C.IMAGE_FILE_MACHINE_ARM64, C.IMAGE_REL_ARM64_ADDR64, C.IMAGE_REL_ARM64_ADDR32,
                C.IMAGE_REL_ARM64_SECREL, C.IMAGE_REL_ARM64_REL32)

_MACHINES = {Arch.X86_64: AMD64, Arch.AARCH64: ARM64}


def machine_for(arch: object) -> Machine:
    try:
        return _MACHINES[arch]  # type: ignore[index]
    except (KeyError, TypeError):
        supported = ", ".join(a.info.name for a in _MACHINES)
        raise ContainerError(f"COFF: unsupported machine {arch!r} (supported: {supported})") from None
