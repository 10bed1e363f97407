"""Per-architecture ELF facts: machine number, page size, and how each DWARF relocation kind becomes a RELA type.

One table per architecture maps ``(RelocKind, field size)`` to the ELF relocation type. Offsets into sections
(UNIT, SECTION) and symbol addresses (ADDRESS) are absolute values; PCREL fields (``.eh_frame``) are relative to the
field; TLS_OFFSET fields are a thread-local symbol's offset in its module's TLS block (x86_64: DTPOFF32/64).
ENTRY references never need a relocation. AArch64 has R_AARCH64_TLS_DTPREL (1029; pyelftools 0.33 swaps it with
DTPMOD), but neither GNU ld 2.38 nor ld.lld 14 accepts it in a debug section ("unsupported relocation"), and gcc and
clang give AArch64 thread-local variables no location: so AArch64 refuses TLS offsets.
"""
from __future__ import annotations

from dataclasses import dataclass

from elftools.elf.enums import ENUM_E_MACHINE, ENUM_RELOC_TYPE_AARCH64, ENUM_RELOC_TYPE_x64

from dwarfkit.arch import Arch
from dwarfkit.errors import ContainerError, RelocationError
from dwarfkit.sections import Relocation, RelocKind


@dataclass(frozen=True)
class ElfMachine:
    arch: Arch
    machine: int
    page_size: int
    """The largest page size the loader may use; segments are aligned to it."""
    relocation_types: dict[tuple[RelocKind, int], int]

    def relocation_type(self, r: Relocation, where: str) -> int:
        try:
            return self.relocation_types[(r.kind, r.size)]
        except KeyError:
            why = " (AArch64 linkers do not relocate TLS offsets in debug sections)" \
                if r.kind is RelocKind.TLS_OFFSET and self.arch is Arch.AARCH64 else ""
            raise RelocationError(f"{where}+{r.offset:#x}: no {self.arch.info.name} ELF relocation for a {r.size}-byte "
                                  f"{r.kind.value} field against {r.target!r}{why}") from None


def _absolute_and_pcrel(absolute: dict[int, int], pcrel: dict[int, int]) -> dict[tuple[RelocKind, int], int]:
    table = {}
    for size, rtype in absolute.items():
        for kind in (RelocKind.UNIT, RelocKind.SECTION, RelocKind.ADDRESS):
            table[(kind, size)] = rtype
    for size, rtype in pcrel.items():
        table[(RelocKind.PCREL, size)] = rtype
    return table


_X64 = ENUM_RELOC_TYPE_x64
_A64 = ENUM_RELOC_TYPE_AARCH64

MACHINES: dict[Arch, ElfMachine] = {
    Arch.X86_64: ElfMachine(
        Arch.X86_64, ENUM_E_MACHINE["EM_X86_64"], 0x1000,
        _absolute_and_pcrel({2: _X64["R_X86_64_16"], 4: _X64["R_X86_64_32"], 8: _X64["R_X86_64_64"]},
                            {4: _X64["R_X86_64_PC32"], 8: _X64["R_X86_64_PC64"]})
        | {(RelocKind.TLS_OFFSET, 4): _X64["R_X86_64_DTPOFF32"], (RelocKind.TLS_OFFSET, 8): _X64["R_X86_64_DTPOFF64"]}),
    Arch.AARCH64: ElfMachine(
        Arch.AARCH64, ENUM_E_MACHINE["EM_AARCH64"], 0x10000,
        _absolute_and_pcrel({2: _A64["R_AARCH64_ABS16"], 4: _A64["R_AARCH64_ABS32"], 8: _A64["R_AARCH64_ABS64"]},
                            {2: _A64["R_AARCH64_PREL16"], 4: _A64["R_AARCH64_PREL32"],
                             8: _A64["R_AARCH64_PREL64"]})
),
}


def machine_for(arch: Arch) -> ElfMachine:
    try:
        return MACHINES[arch]
    except KeyError:
        raise ContainerError(f"the ELF backend does not support architecture {arch.info.name}") from None


def machine_by_number(e_machine: int, where: str) -> ElfMachine:
    for m in MACHINES.values():
        if m.machine == e_machine:
            return m
    name = next((k for k, v in ENUM_E_MACHINE.items() if v == e_machine), str(e_machine))
    raise ContainerError(f"{where}: architecture {name} is not supported (x86_64 and aarch64 are)")
