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
    def parse(cls, name: str | Arch) -> Arch:
        """An Arch from its name (``x86_64``, ``amd64``, ``x86-64``, ``aarch64``, ``arm64``; any case)."""
        if isinstance(name, Arch):
            return name
        aliases = {"x86_64": cls.X86_64, "amd64": cls.X86_64, "x86-64": cls.X86_64,
                   "aarch64": cls.AARCH64, "arm64": cls.AARCH64}
        arch = aliases.get(name.lower()) if isinstance(name, str) else None
        if arch is None:
            raise DescriptionError(f"unsupported architecture {name!r} (use x86_64 or aarch64)")
        return arch


def check_frame_section(arch: Arch, name: str, data: bytes, byteorder: str) -> None:
    """Refuses call frames made for another architecture: a CIE of ``.debug_frame``/``.eh_frame`` whose
    return-address column is another architecture's (x86_64's 16 in an aarch64 image) rather than ``arch``'s.

    Only the CIE headers are read (a few bytes each, FDEs are skipped by their length). Malformed entries are left to
    the readers: this is a check of the description, not a decoder."""
    expected = arch.info.return_address_register
    others = {a.info.return_address_register: a.info.name for a in Arch if a is not arch}
    eh = name == ".eh_frame"
    pos = 0
    while pos + 4 <= len(data):
        length, head, offset_size = int.from_bytes(data[pos:pos + 4], byteorder), pos + 4, 4  # type: ignore[arg-type]
        if length == 0xFFFFFFFF:
            length, head, offset_size = int.from_bytes(data[pos + 4:pos + 12], byteorder), pos + 12, 8  # type: ignore
        end = head + length
        if length == 0 or end > len(data) or length < offset_size + 4:
            return  # a terminator, or not well formed
        cie_id = int.from_bytes(data[head:head + offset_size], byteorder)  # type: ignore[arg-type]
        if cie_id == (0 if eh else (1 << (8 * offset_size)) - 1):
            ra = _cie_return_column(data, head + offset_size, end, eh)
            if ra is not None and ra != expected and ra in others:
                raise DescriptionError(f"{name}+{pos:#x}: CIE return-address column {ra} is {others[ra]}'s, not "
                                       f"{arch.info.name}'s ({expected}): call frames made for {others[ra]} in an "
                                       f"{arch.info.name} image")
        pos = end


def _cie_return_column(data: bytes, pos: int, end: int, eh: bool) -> int | None:
    """The return-address register of the CIE whose version byte is at ``pos`` (None if it cannot be read)."""
    version = data[pos]
    nul = data.find(b"\0", pos + 1, end)
    if nul < 0 or b"eh" in data[pos + 1:nul]:
        return None
    pos = nul + 1 + (2 if version >= 4 and not eh else 0)  # address and segment selector sizes
    for _ in range(2):  # code and data alignment factors (ULEB, SLEB: both end at a byte below 0x80)
        while pos < end and data[pos] & 0x80:
            pos += 1
        pos += 1
    if pos >= end:
        return None
    if version == 1:
        return data[pos]
    value, shift = 0, 0
    while pos < end and shift < 64:
        value |= (data[pos] & 0x7F) << shift
        if not data[pos] & 0x80:
            return value
        pos, shift = pos + 1, shift + 7
    return None
