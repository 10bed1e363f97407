"""The target architectures dwarfkit describes, with the DWARF facts each one needs."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import DescriptionError


@dataclass(frozen=True)
class ArchInfo:
    name: str
    address_size: int
    min_instruction_length: int
    """Smallest instruction size; the line program's ``minimum_instruction_length``."""
    sp_register: int
    fp_register: int
    return_address_register: int
    """The DWARF column of the return address in call-frame information."""
    registers: dict[str, int]
    """DWARF register numbers by assembler name."""


_X86_64_REGS = {name: i for i, name in enumerate(
    ["rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
     "rip"])}
_AARCH64_REGS = {f"x{i}": i for i in range(31)} | {"fp": 29, "lr": 30, "sp": 31}


class Arch(enum.Enum):
    X86_64 = ArchInfo("x86_64", 8, 1, sp_register=7, fp_register=6, return_address_register=16,
                      registers=_X86_64_REGS)
    AARCH64 = ArchInfo("aarch64", 8, 4, sp_register=31, fp_register=29, return_address_register=30,
                       registers=_AARCH64_REGS)

    @property
    def info(self) -> ArchInfo:
        return self.value

    def register(self, name: str) -> int:
        """DWARF register number of an assembler register name (``rbp``, ``x29``)."""
        try:
            return self.value.registers[name.lower()]
        except KeyError:
            raise DescriptionError(f"{self.value.name} has no register {name!r}") from None

    @classmethod
    def parse(cls, name: str) -> "Arch":
        aliases = {"x86_64": cls.X86_64, "amd64": cls.X86_64, "x86-64": cls.X86_64,
                   "aarch64": cls.AARCH64, "arm64": cls.AARCH64}
        try:
            return aliases[name.lower()]
        except KeyError:
            raise DescriptionError(f"unsupported architecture {name!r} (use x86_64 or aarch64)") from None
