"""Call-frame information: ``.debug_frame`` and ``.eh_frame``, so debuggers and unwinders can walk the stack.

A :class:`Cie` holds what many functions share (alignment factors, return-address column, the rules at entry); an
:class:`Fde` covers one function with the rule changes along its code::

    frames = CallFrames(Arch.X86_64, Encoding(5))
    fde = frames.fde(None, Address("main"), 20)      # None: the arch's standard CIE (CFA = rsp+8, rip at CFA-8)
    fde.advance_to(1); fde.def_cfa_offset(16); fde.offset("rbp", -16)   # after push rbp
    sections.add(frames.debug_frame()); sections.add(frames.eh_frame())

``standard_cie`` is the arch's usual entry state (x86_64: CFA = rsp+8, rip at CFA-8; aarch64: CFA = sp). An FDE's
instruction builder (``advance_to`` here; ``def_cfa*``, ``offset``, ``val_offset``, ``expression``, ``restore``, ...
in :mod:`dwarfkit.cfa`) picks the most compact ``DW_CFA`` form unless a method names the form. ``debug_frame()`` writes
CIE version 1/3/4 by DWARF version, DWARF64 too; ``eh_frame()`` writes augmentation "zR" with pcrel|sdata4 FDE
addresses (PCREL relocations) and the terminator by default; a CIE made with ``personality=``, ``lsda_encoding=``,
``fde_encoding=``, ``signal_frame=`` gets "zPLR" and its subsets (C++: ``cie(personality="DW.ref.__gxx_personality_v0",
lsda_encoding=0x1b)``, then ``fde(cie, start, length, lsda="LLSDA0")``), each pointer relocated by its DW_EH_PE
encoding. Both return whole :class:`Section` objects; symbolic starts become
ADDRESS relocations. Imports the foundations and ``arch``.

Where to add: a CFA instruction -> a method on :class:`~dwarfkit.cfa.CfaInstructions`; an arch -> ``_ALIGNMENT``,
``LAST_REGISTER``, the entry rules in :meth:`CallFrames.standard_cie` and the engines in ``asm._engines``.
Reader quirks met: pyelftools 0.33 factors ``DW_CFA_def_cfa_sf`` by the code alignment factor and cannot parse
DWARF64 ``.debug_frame`` CIEs; llvm-dwarfdump 14's unwind-row dump does not restore the CFA on
``DW_CFA_restore_state``.
"""
from __future__ import annotations

from elftools.dwarf.enums import DW_EH_encoding_flags

from .address import Address, as_address
from .arch import Arch
from .cfa import (
    LAST_REGISTER,
    S64,
    U64,
    CfaInstructions,
    DW_CFA_advance_loc,
    DW_CFA_advance_loc1,
    DW_CFA_advance_loc2,
    DW_CFA_advance_loc4,
    DW_CFA_nop,
    Register,
)
from .encoding import ByteOrder, Encoding
from .errors import DescriptionError
from .sections import RelocKind, Section
from .writer import SectionWriter

__all__ = ["EH_FDE_ENCODING", "EH_PERSONALITY_ENCODING", "CallFrames", "CfaInstructions", "Cie", "Fde", "Register",
           "check_pointer_encoding"]

# .eh_frame FDE addresses: signed 32-bit, relative to the field (what gcc and clang emit for position-independent code)
EH_FDE_ENCODING = DW_EH_encoding_flags["DW_EH_PE_pcrel"] | DW_EH_encoding_flags["DW_EH_PE_sdata4"]

_PE = DW_EH_encoding_flags
# Value formats of a DW_EH_PE pointer: size in bytes (absptr: the address size) and signedness.
_PE_FORMATS = {_PE["DW_EH_PE_absptr"]: (0, False), _PE["DW_EH_PE_udata2"]: (2, False),
               _PE["DW_EH_PE_udata4"]: (4, False), _PE["DW_EH_PE_udata8"]: (8, False),
               _PE["DW_EH_PE_sdata2"]: (2, True), _PE["DW_EH_PE_sdata4"]: (4, True), _PE["DW_EH_PE_sdata8"]: (8, True)}
_PE_PCREL, _PE_INDIRECT = _PE["DW_EH_PE_pcrel"], _PE["DW_EH_PE_indirect"]
# What gcc and clang write for the personality on x86_64 and aarch64: indirect|pcrel|sdata4 (through DW.ref.<name>).
EH_PERSONALITY_ENCODING = _PE_INDIRECT | EH_FDE_ENCODING


def check_pointer_encoding(value: object, what: str, *, indirect: bool = False) -> int:
    """A DW_EH_PE_* encoding this writer can relocate: absptr, (u|s)data2/4/8, absolute or pcrel, and (for the
    personality) indirect. LEB128, textrel, datarel, funcrel and aligned pointers have no relocation in our
    containers and are refused."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFF:
        raise DescriptionError(f"{what}: pointer encoding {value!r} is not a DW_EH_PE_* byte")
    rest = value & ~(_PE_INDIRECT if indirect else 0)
    if rest & 0x0F not in _PE_FORMATS or rest & 0xF0 not in (0, _PE_PCREL):
        names = {v: k for k, v in _PE.items()}
        raise DescriptionError(f"{what}: pointer encoding {value:#04x} ({names.get(value & 0x0F, 'unknown format')}"
                               f", application {names.get(value & 0x70, hex(value & 0x70))}) is not supported: "
                               f"use absptr, udata2/4/8 or sdata2/4/8, absolute or pcrel"
                               f"{', optionally indirect' if indirect else ''}")
    return value


def _write_pointer(writer: SectionWriter, encoding: int, address: Address, where: str,
                   section_address: int | None) -> None:
    """``address`` in DW_EH_PE ``encoding`` at the writer's position: a relocation when symbolic."""
    size, signed = _PE_FORMATS[encoding & 0x0F]
    size = size or writer.encoding.address_size
    pcrel = encoding & 0x70 == _PE_PCREL
    if address.symbol is not None:
        if pcrel:
            writer.pcrel_field(address.symbol, address.offset, size)
        else:
            writer.address_field(address.symbol, address.offset, size)
        return
    value = address.offset
    if pcrel:
        if section_address is None:
            raise DescriptionError(f"{where}: a plain address in .eh_frame needs the section's address "
                                   f"(eh_frame(address=...)) to be made PC-relative")
        value -= section_address + writer.pos
    low, high = (-(1 << (8 * size - 1)), 1 << (8 * size - 1)) if signed or pcrel else (0, 1 << (8 * size))
    if not low <= value < high:
        raise DescriptionError(f"{where}: {'PC-relative ' if pcrel else ''}address {value:#x} does not fit "
                               f"{'signed' if signed else 'unsigned'} {size} bytes")
    writer.uint(value & ((1 << (8 * size)) - 1), size)


# CIE version per DWARF version: 1 (DWARF 2), 3 (DWARF 3: ULEB128 return-address column), 4 (address/segment size).
_DEBUG_FRAME_CIE_VERSION = {2: 1, 3: 3, 4: 4, 5: 4}

# Code and data alignment factors by convention of each arch's compilers (gcc).
_ALIGNMENT = {Arch.X86_64: (1, -8), Arch.AARCH64: (4, -8)}

class Cie(CfaInstructions):
    """A common information entry; its instructions are the rules at every function's entry."""

    def __init__(self, arch: Arch, code_alignment: int, data_alignment: int, return_address_register: int,
                 index: int, byteorder: ByteOrder) -> None:
        super().__init__(arch, code_alignment, data_alignment, f"CIE {index}", byteorder)
        self.return_address_register = return_address_register
        self.index = index
        self.personality: Address | None = None
        """``.eh_frame`` only: the personality routine (or, with DW_EH_PE_indirect, a pointer to it)."""
        self.personality_encoding = EH_PERSONALITY_ENCODING
        self.lsda_encoding: int | None = None
        """``.eh_frame`` only: the encoding of every FDE's LSDA pointer; None: no "L" augmentation."""
        self.fde_encoding = EH_FDE_ENCODING
        """``.eh_frame`` only: the encoding of FDE addresses; absptr leaves "R" out of the augmentation."""
        self.signal_frame = False
        """``.eh_frame`` only: "S", the frames are signal handlers' (unwinders do not subtract 1 from the PC)."""

    @property
    def augmentation(self) -> str:
        """The ``.eh_frame`` augmentation string, in the order gcc writes it ("zPLR", "zR", "zRS", ...)."""
        return "z" + "P" * (self.personality is not None) + "L" * (self.lsda_encoding is not None) + \
            "R" * (self.fde_encoding != 0) + "S" * self.signal_frame


class Fde(CfaInstructions):
    """A frame description entry: the rules for ``length`` bytes of code from ``start``."""

    def __init__(self, cie: Cie, start: Address, length: int) -> None:
        super().__init__(cie.arch, cie.code_alignment, cie.data_alignment, f"FDE at {start}", cie.byteorder)
        if length < 0:
            raise DescriptionError(f"FDE at {start}: negative length {length}")
        self.cie = cie
        self.start = start
        self.length = length
        self.lsda: Address | None = None
        """``.eh_frame`` only: the language-specific data area (C++: the function's ``.gcc_except_table`` part)."""
        self.location = 0
        """Offset from ``start`` the rules now apply from."""
        self.locations: list[int] = []
        """Every offset :meth:`advance_to` moved to (for checks against the code)."""

    def advance_to(self, offset: int) -> "Fde":
        """The following rules apply from ``offset`` (bytes from ``start``, not going backwards) on."""
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise self._error(f"location {offset!r} is not an integer")
        # Up to the end itself: rules from there cover no code, but glibc's and gcc's PLT FDEs do advance that far.
        if offset != self.location and not self.location < offset <= self.length:
            raise self._error(f"location {offset:#x} is not in {self.location:#x}..{self.length:#x} "
                              f"(it must not go backwards or past the end of the FDE)")
        delta, rest = divmod(offset - self.location, self.code_alignment)
        if rest:
            raise self._error(f"location {offset:#x} is not a multiple of the code alignment factor "
                              f"{self.code_alignment}")
        self.location = offset
        if delta == 0:
            return self
        self.locations.append(offset)
        if delta < 64:
            self._op(DW_CFA_advance_loc | delta)
        elif delta < 1 << 8:
            self._op(DW_CFA_advance_loc1, delta)
        elif delta < 1 << 16:
            self._op(DW_CFA_advance_loc2, delta.to_bytes(2, self.byteorder))
        elif delta < 1 << 32:
            self._op(DW_CFA_advance_loc4, delta.to_bytes(4, self.byteorder))
        else:
            raise self._error(f"location {offset:#x} is {delta:#x} code units past the previous one; "
                              f"DW_CFA_advance_loc4 holds at most 0xffffffff")
        return self


class CallFrames:
    """The CIEs and FDEs of one program, written as ``.debug_frame`` and/or ``.eh_frame``."""

    def __init__(self, arch: Arch, encoding: Encoding) -> None:
        self.arch = arch
        self.encoding = encoding
        self.cies: list[Cie] = []
        self.fdes: list[Fde] = []
        self._standard: Cie | None = None

    def cie(self, *, code_alignment: int | None = None, data_alignment: int | None = None,
            return_address_register: Register | None = None, entry_rules: bool = True,
            personality: Address | str | None = None, personality_encoding: int = EH_PERSONALITY_ENCODING,
            lsda_encoding: int | None = None, fde_encoding: int = EH_FDE_ENCODING,
            signal_frame: bool = False) -> Cie:
        """A new CIE. Alignment factors default to the arch's convention; ``entry_rules`` adds the rules at a
        function's first instruction (x86_64: CFA = rsp+8, return address at CFA-8; aarch64: CFA = sp).

        The rest shapes the ``.eh_frame`` augmentation (``.debug_frame`` CIEs have none): ``personality`` ("P",
        a symbol; with the default indirect|pcrel|sdata4 encoding it names the pointer to the routine, as gcc's
        ``DW.ref.__gxx_personality_v0``), ``lsda_encoding`` ("L": each FDE then carries ``lsda=``),
        ``fde_encoding`` ("R"; DW_EH_PE_absptr leaves it out: 8-byte absolute FDE addresses), ``signal_frame``
        ("S"). Encodings are DW_EH_PE_* bytes (see :func:`check_pointer_encoding`)."""
        code, data = _ALIGNMENT[self.arch]
        code = code if code_alignment is None else code_alignment
        data = data if data_alignment is None else data_alignment
        if not isinstance(code, int) or not isinstance(data, int) or not 0 < code < U64 or data == 0 or \
                not -S64 <= data < S64:
            raise DescriptionError(f"CIE {len(self.cies)}: code alignment {code} must be positive and data "
                                   f"alignment {data} non-zero")
        info = self.arch.info
        ra = info.return_address_register if return_address_register is None else (
            self.arch.register(return_address_register) if isinstance(return_address_register, str)
            else return_address_register)
        if not isinstance(ra, int) or isinstance(ra, bool) or not 0 <= ra <= LAST_REGISTER[self.arch]:
            raise DescriptionError(f"CIE {len(self.cies)}: return address register {ra!r} is not a DWARF register "
                                   f"of {info.name} (0..{LAST_REGISTER[self.arch]})")
        where = f"CIE {len(self.cies)}"
        if personality is not None and (isinstance(personality, bool) or
                                        not isinstance(personality, (Address, str, int))):
            raise DescriptionError(f"{where}: personality {personality!r} is not an address or a symbol name")
        check_pointer_encoding(personality_encoding, f"{where}: personality", indirect=True)
        if lsda_encoding is not None:
            check_pointer_encoding(lsda_encoding, f"{where}: LSDA")
        check_pointer_encoding(fde_encoding, f"{where}: FDE address")
        if not isinstance(signal_frame, bool):
            raise DescriptionError(f"{where}: signal_frame {signal_frame!r} is not True or False")
        cie = Cie(self.arch, code, data, ra, len(self.cies), self.encoding.byteorder)
        cie.personality = None if personality is None else as_address(personality)
        cie.personality_encoding = personality_encoding
        cie.lsda_encoding = lsda_encoding
        cie.fde_encoding = fde_encoding
        cie.signal_frame = signal_frame
        if entry_rules:
            if self.arch is Arch.X86_64:
                cie.def_cfa(info.sp_register, info.address_size)
                cie.offset(ra, -info.address_size)
            else:
                cie.def_cfa(info.sp_register, 0)  # the return address is still in lr
        self.cies.append(cie)
        return cie

    @property
    def standard_cie(self) -> Cie:
        """The arch's usual CIE, made on first use."""
        if self._standard is None:
            self._standard = self.cie()
        return self._standard

    def fde(self, cie: Cie | None, start: Address | int | str, length: int, *,
            lsda: Address | int | str | None = None) -> Fde:
        """A new FDE for ``length`` bytes from ``start``; ``cie`` None means :attr:`standard_cie`. ``lsda``: the
        function's language-specific data area in ``.eh_frame`` (its CIE needs an ``lsda_encoding``)."""
        if isinstance(start, bool) or not isinstance(start, (Address, int, str)):
            raise DescriptionError(f"FDE {len(self.fdes)}: start {start!r} is not an address")
        address = as_address(start)
        bits = 8 * self.encoding.address_size
        if address.symbol is None and not 0 <= address.offset < 1 << bits:
            raise DescriptionError(f"FDE at {address}: address does not fit {self.encoding.address_size} bytes")
        if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length < 1 << bits:
            raise DescriptionError(f"FDE at {address}: length {length!r} is not in 0..{(1 << bits) - 1:#x}")
        if cie is not None and cie not in self.cies:
            raise DescriptionError(f"FDE at {address}: its CIE belongs to another CallFrames")
        fde = Fde(cie or self.standard_cie, address, length)
        if lsda is not None:
            if isinstance(lsda, bool) or not isinstance(lsda, (Address, int, str)):
                raise DescriptionError(f"FDE at {address}: LSDA {lsda!r} is not an address")
            if fde.cie.lsda_encoding is None:
                raise DescriptionError(f"FDE at {address}: an LSDA needs a CIE with an lsda_encoding (augmentation "
                                       f"\"L\"); CIE {fde.cie.index} has none")
            fde.lsda = as_address(lsda)
        self.fdes.append(fde)
        return fde

    # -- .debug_frame ---------------------------------------------------------------------------------------------
    def debug_frame(self) -> Section:
        """``.debug_frame``: CIE pointers are SECTION relocations, initial locations ADDRESS relocations."""
        enc = self.encoding
        writer = SectionWriter(".debug_frame", enc)
        version = _DEBUG_FRAME_CIE_VERSION[enc.version]
        cie_offsets = {}
        for cie in self._used_cies():
            cie_offsets[cie.index] = writer.pos
            start = writer.begin_length()
            writer.uint(enc.max_offset(), enc.offset_size)  # CIE id: all ones
            writer.u8(version)
            writer.cstr("")  # no augmentation
            if version >= 4:
                writer.u8(enc.address_size)
                writer.u8(0)  # segment selector size
            writer.uleb(cie.code_alignment)
            writer.sleb(cie.data_alignment)
            self._return_address(writer, cie, version)
            writer.raw(cie.instructions)
            self._end_entry(writer, start)
        for fde in self.fdes:
            start = writer.begin_length()
            writer.offset_field(cie_offsets[fde.cie.index], RelocKind.SECTION, ".debug_frame")
            writer.address(fde.start)
            self._check_length(fde, 1 << (8 * enc.address_size))
            writer.uint(fde.length, enc.address_size)
            writer.raw(fde.instructions)
            self._end_entry(writer, start)
        writer.section.alignment = enc.address_size
        return writer.section

    # -- .eh_frame ------------------------------------------------------------------------------------------------
    def eh_frame(self, address: int | None = None) -> Section:
        """``.eh_frame``: each CIE's augmentation ("zR" by default: FDE addresses pcrel|sdata4 as PCREL
        relocations; "zPLR" with a personality and LSDAs), FDE augmentation data, a zero terminator.

        A plain (non-symbolic) PC-relative pointer needs the section's own load ``address``.
        """
        enc = Encoding(self.encoding.version, 4, self.encoding.address_size, self.encoding.byteorder)  # always 32-bit
        writer = SectionWriter(".eh_frame", enc)
        cie_offsets = {}
        for cie in self._used_cies():
            cie_offsets[cie.index] = writer.pos
            start = writer.begin_length()
            writer.u32(0)  # CIE id
            writer.u8(1)  # version, as gcc and clang write it
            writer.cstr(cie.augmentation)
            writer.uleb(cie.code_alignment)
            writer.sleb(cie.data_alignment)
            self._return_address(writer, cie, 1)
            data_length = writer.pos
            writer.u8(0)  # augmentation data length, patched below (always < 128: one byte)
            if cie.personality is not None:
                writer.u8(cie.personality_encoding)
                _write_pointer(writer, cie.personality_encoding, cie.personality, f"CIE {cie.index}: personality",
                               address)
            if cie.lsda_encoding is not None:
                writer.u8(cie.lsda_encoding)
            if cie.fde_encoding != 0:
                writer.u8(cie.fde_encoding)
            writer.patch_uint(data_length, writer.pos - data_length - 1, 1)
            writer.raw(cie.instructions)
            self._end_entry(writer, start)
        for fde in self.fdes:
            cie = fde.cie
            where = f"FDE at {fde.start}"
            start = writer.begin_length()
            writer.u32(writer.pos - cie_offsets[cie.index])  # CIE pointer: back from this field
            _write_pointer(writer, cie.fde_encoding, fde.start, where, address)
            size, _signed = _PE_FORMATS[cie.fde_encoding & 0x0F]
            size = size or enc.address_size
            self._check_length(fde, 1 << (8 * size - (cie.fde_encoding & 0x08 == 0x08)))
            writer.uint(fde.length, size)  # the range: the address format without its application
            if cie.lsda_encoding is None:
                writer.uleb(0)  # augmentation data length
            else:
                lsda_size = _PE_FORMATS[cie.lsda_encoding & 0x0F][0] or enc.address_size
                writer.uleb(lsda_size)
                if fde.lsda is None:
                    writer.uint(0, lsda_size)  # no LSDA: a null pointer (never made PC-relative)
                else:
                    _write_pointer(writer, cie.lsda_encoding, fde.lsda, f"{where}: LSDA", address)
            writer.raw(fde.instructions)
            self._end_entry(writer, start)
        writer.u32(0)  # terminator: a zero-length entry
        writer.section.alignment = enc.address_size
        return writer.section

    # -- shared ---------------------------------------------------------------------------------------------------
    def _used_cies(self) -> list[Cie]:
        used = {fde.cie.index for fde in self.fdes}
        return [c for c in self.cies if c.index in used or c is not self._standard]

    def _return_address(self, writer: SectionWriter, cie: Cie, version: int) -> None:
        if version == 1:
            if cie.return_address_register > 255:
                raise DescriptionError(f"CIE {cie.index}: return address register {cie.return_address_register} "
                                       f"does not fit CIE version 1 (use DWARF 3 or later)")
            writer.u8(cie.return_address_register)
        else:
            writer.uleb(cie.return_address_register)

    def _end_entry(self, writer: SectionWriter, start: int) -> None:
        writer.align(self.encoding.address_size, DW_CFA_nop)
        writer.end_length(start)

    @staticmethod
    def _check_length(fde: Fde, limit: int) -> None:
        if fde.length >= limit:
            raise DescriptionError(f"FDE at {fde.start}: length {fde.length:#x} does not fit the address range field")
