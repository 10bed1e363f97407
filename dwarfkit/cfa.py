"""The DW_CFA_* instruction builder shared by CIEs and FDEs (``dwarfkit.frame``), one method per rule kind.

Offsets are given in bytes and factored here by the CIE's data alignment factor. The general methods (``def_cfa``,
``def_cfa_offset``, ``offset``, ``val_offset``, ``restore``) pick the most compact form; the ``*_sf`` and
``*_extended`` methods write exactly that form (a loaded file writes back the forms it was read with). Expression
rules (``expression``, ``val_expression``, ``def_cfa_expression``) take an :class:`~dwarfkit.expr.Expr` without
relocated operands (an unwinder evaluates it at run time; no linker can patch it). Arch-specific:
``negate_ra_state`` (AArch64 pointer authentication; the same opcode is SPARC's DW_CFA_GNU_window_save).
Every operand is checked when the method is called; the error names the entry and the instruction's index.
"""
from __future__ import annotations

from elftools.dwarf.constants import DW_CFA

from .arch import Arch
from .encoding import ByteOrder, Encoding, sleb128, uleb128
from .errors import DescriptionError
from .expr import Expr

Register = int | str

# The highest DWARF register number of each arch's psABI: x86-64 up to the MPX bounds (130); AArch64 up to the SVE
# Z registers (127). A number above is a register of another arch, or a typo.
LAST_REGISTER = {Arch.X86_64: 130, Arch.AARCH64: 127}
# Readers decode (S)LEB128 operands to 64-bit integers.
U64, S64 = 1 << 64, 1 << 63

# pyelftools' typed enums, as plain ints (they are written into bytes on the hot path).
DW_CFA_advance_loc = int(DW_CFA.advance_loc)
DW_CFA_advance_loc1 = int(DW_CFA.advance_loc1)
DW_CFA_advance_loc2 = int(DW_CFA.advance_loc2)
DW_CFA_advance_loc4 = int(DW_CFA.advance_loc4)
DW_CFA_def_cfa = int(DW_CFA.def_cfa)
DW_CFA_def_cfa_expression = int(DW_CFA.def_cfa_expression)
DW_CFA_def_cfa_offset = int(DW_CFA.def_cfa_offset)
DW_CFA_def_cfa_offset_sf = int(DW_CFA.def_cfa_offset_sf)
DW_CFA_def_cfa_register = int(DW_CFA.def_cfa_register)
DW_CFA_def_cfa_sf = int(DW_CFA.def_cfa_sf)
DW_CFA_expression = int(DW_CFA.expression)
DW_CFA_GNU_args_size = int(DW_CFA.GNU_args_size)
DW_CFA_GNU_negative_offset_extended = 0x2f   # not in pyelftools' table
DW_CFA_AARCH64_negate_ra_state = 0x2d
DW_CFA_nop = int(DW_CFA.nop)
DW_CFA_offset = int(DW_CFA.offset)
DW_CFA_offset_extended = int(DW_CFA.offset_extended)
DW_CFA_offset_extended_sf = int(DW_CFA.offset_extended_sf)
DW_CFA_register = int(DW_CFA.register)
DW_CFA_remember_state = int(DW_CFA.remember_state)
DW_CFA_restore = int(DW_CFA.restore)
DW_CFA_restore_extended = int(DW_CFA.restore_extended)
DW_CFA_restore_state = int(DW_CFA.restore_state)
DW_CFA_same_value = int(DW_CFA.same_value)
DW_CFA_undefined = int(DW_CFA.undefined)
DW_CFA_val_expression = int(DW_CFA.val_expression)
DW_CFA_val_offset = int(DW_CFA.val_offset)
DW_CFA_val_offset_sf = int(DW_CFA.val_offset_sf)


class CfaInstructions:
    """A DW_CFA_* instruction list; offsets in bytes are factored by the CIE's alignment factors here."""

    def __init__(self, arch: Arch, code_alignment: int, data_alignment: int, where: str, byteorder: ByteOrder) -> None:
        self.arch = arch
        self.byteorder = byteorder
        self.code_alignment = code_alignment
        self.data_alignment = data_alignment
        self.where = where
        self.instructions = bytearray()
        self._count = 0

    def _error(self, message: str) -> DescriptionError:
        return DescriptionError(f"{self.where}, instruction {self._count}: {message}")

    def _reg(self, reg: Register) -> int:
        if isinstance(reg, str):
            try:
                return self.arch.register(reg)
            except DescriptionError as error:
                raise self._error(str(error)) from None
        if not isinstance(reg, int) or isinstance(reg, bool):
            raise self._error(f"register {reg!r} is not a number or a name")
        if not 0 <= reg <= LAST_REGISTER[self.arch]:
            raise self._error(f"register {reg} is not a DWARF register of {self.arch.info.name} "
                              f"(0..{LAST_REGISTER[self.arch]})")
        return reg

    def _offset(self, offset: int) -> int:
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise self._error(f"offset {offset!r} is not an integer")
        if not -S64 <= offset < U64:
            raise self._error(f"offset {offset:#x} does not fit 64 bits")
        return offset

    def _factored(self, offset: int) -> int:
        factored, rest = divmod(self._offset(offset), self.data_alignment)
        if rest:
            raise self._error(f"offset {offset} is not a multiple of the data alignment factor {self.data_alignment}")
        return factored

    def _unsigned(self, factored: int, form: str, offset: int) -> int:
        if factored < 0:
            raise self._error(f"offset {offset} factors to {factored}, which {form} cannot hold (unsigned)")
        return factored

    def _expr(self, expr: Expr) -> bytes:
        if not isinstance(expr, Expr):
            raise self._error(f"{expr!r} is not an Expr")
        info = self.arch.info
        data, fixups = expr.encode(Encoding(4, 4, info.address_size, self.byteorder))
        if fixups:
            raise self._error(f"expression {expr!r} holds a relocated address or a DIE operand, which an unwinder "
                              f"cannot use")
        return uleb128(len(data)) + data

    def _op(self, *parts: int | bytes) -> "CfaInstructions":
        for part in parts:
            if isinstance(part, int):
                self.instructions.append(part)
            else:
                self.instructions += part
        self._count += 1
        return self

    # -- the CFA ------------------------------------------------------------------------------------------------
    def def_cfa(self, reg: Register, offset: int) -> "CfaInstructions":
        """CFA = ``reg`` + ``offset``."""
        number = self._reg(reg)
        if self._offset(offset) >= 0:
            return self._op(DW_CFA_def_cfa, uleb128(number), uleb128(offset))
        return self._op(DW_CFA_def_cfa_sf, uleb128(number), sleb128(self._factored(offset)))

    def def_cfa_sf(self, reg: Register, offset: int) -> "CfaInstructions":
        """CFA = ``reg`` + ``offset``, as DW_CFA_def_cfa_sf (factored, signed)."""
        number = self._reg(reg)
        return self._op(DW_CFA_def_cfa_sf, uleb128(number), sleb128(self._factored(offset)))

    def def_cfa_offset(self, offset: int) -> "CfaInstructions":
        """CFA = (same register) + ``offset``."""
        if self._offset(offset) >= 0:
            return self._op(DW_CFA_def_cfa_offset, uleb128(offset))
        return self._op(DW_CFA_def_cfa_offset_sf, sleb128(self._factored(offset)))

    def def_cfa_offset_sf(self, offset: int) -> "CfaInstructions":
        """CFA = (same register) + ``offset``, as DW_CFA_def_cfa_offset_sf (factored, signed)."""
        return self._op(DW_CFA_def_cfa_offset_sf, sleb128(self._factored(offset)))

    def def_cfa_register(self, reg: Register) -> "CfaInstructions":
        """CFA = ``reg`` + (same offset)."""
        return self._op(DW_CFA_def_cfa_register, uleb128(self._reg(reg)))

    def def_cfa_expression(self, expr: Expr) -> "CfaInstructions":
        """CFA = the value ``expr`` computes (e.g. ``Expr().breg(7, 8).deref()``)."""
        return self._op(DW_CFA_def_cfa_expression, self._expr(expr))

    # -- register rules -----------------------------------------------------------------------------------------
    def offset(self, reg: Register, cfa_offset: int) -> "CfaInstructions":
        """``reg`` is saved at CFA + ``cfa_offset`` (e.g. -16)."""
        number = self._reg(reg)
        factored = self._factored(cfa_offset)
        if factored >= 0 and number < 64:
            return self._op(DW_CFA_offset | number, uleb128(factored))
        if factored >= 0:
            return self._op(DW_CFA_offset_extended, uleb128(number), uleb128(factored))
        return self._op(DW_CFA_offset_extended_sf, uleb128(number), sleb128(factored))

    def offset_extended(self, reg: Register, cfa_offset: int) -> "CfaInstructions":
        """As :meth:`offset`, written as DW_CFA_offset_extended (factored offset must not be negative)."""
        number = self._reg(reg)
        factored = self._unsigned(self._factored(cfa_offset), "DW_CFA_offset_extended", cfa_offset)
        return self._op(DW_CFA_offset_extended, uleb128(number), uleb128(factored))

    def offset_extended_sf(self, reg: Register, cfa_offset: int) -> "CfaInstructions":
        """As :meth:`offset`, written as DW_CFA_offset_extended_sf."""
        number = self._reg(reg)
        return self._op(DW_CFA_offset_extended_sf, uleb128(number), sleb128(self._factored(cfa_offset)))

    def gnu_negative_offset_extended(self, reg: Register, cfa_offset: int) -> "CfaInstructions":
        """``reg`` saved at CFA + ``cfa_offset``, as the old GNU DW_CFA_GNU_negative_offset_extended, whose operand
        is the negated factored offset (so ``cfa_offset`` must factor to zero or less: with x86_64's data alignment
        factor -8, a positive ``cfa_offset``)."""
        number = self._reg(reg)
        factored = self._factored(cfa_offset)
        if factored > 0:
            raise self._error(f"offset {cfa_offset} factors to {factored}; DW_CFA_GNU_negative_offset_extended holds "
                              f"only factored offsets of zero or less (use offset_extended)")
        negated = -factored
        return self._op(DW_CFA_GNU_negative_offset_extended, uleb128(number), uleb128(negated))

    def val_offset(self, reg: Register, cfa_offset: int) -> "CfaInstructions":
        """``reg``'s caller value is CFA + ``cfa_offset`` (not stored: the value itself)."""
        number = self._reg(reg)
        factored = self._factored(cfa_offset)
        if factored >= 0:
            return self._op(DW_CFA_val_offset, uleb128(number), uleb128(factored))
        return self._op(DW_CFA_val_offset_sf, uleb128(number), sleb128(factored))

    def val_offset_sf(self, reg: Register, cfa_offset: int) -> "CfaInstructions":
        """As :meth:`val_offset`, written as DW_CFA_val_offset_sf."""
        number = self._reg(reg)
        return self._op(DW_CFA_val_offset_sf, uleb128(number), sleb128(self._factored(cfa_offset)))

    def expression(self, reg: Register, expr: Expr) -> "CfaInstructions":
        """``reg`` is saved at the address ``expr`` computes (the CFA is pushed first)."""
        number = self._reg(reg)
        return self._op(DW_CFA_expression, uleb128(number), self._expr(expr))

    def val_expression(self, reg: Register, expr: Expr) -> "CfaInstructions":
        """``reg``'s caller value is the value ``expr`` computes (the CFA is pushed first)."""
        number = self._reg(reg)
        return self._op(DW_CFA_val_expression, uleb128(number), self._expr(expr))

    def restore(self, reg: Register) -> "CfaInstructions":
        """``reg`` follows the CIE's initial rule again."""
        number = self._reg(reg)
        if number < 64:
            return self._op(DW_CFA_restore | number)
        return self._op(DW_CFA_restore_extended, uleb128(number))

    def restore_extended(self, reg: Register) -> "CfaInstructions":
        """As :meth:`restore`, written as DW_CFA_restore_extended."""
        return self._op(DW_CFA_restore_extended, uleb128(self._reg(reg)))

    def same_value(self, reg: Register) -> "CfaInstructions":
        """``reg`` is not changed by this function."""
        return self._op(DW_CFA_same_value, uleb128(self._reg(reg)))

    def undefined(self, reg: Register) -> "CfaInstructions":
        """``reg``'s caller value cannot be recovered (e.g. the return address of the outermost frame)."""
        return self._op(DW_CFA_undefined, uleb128(self._reg(reg)))

    def register(self, reg: Register, holder: Register) -> "CfaInstructions":
        """``reg``'s caller value is in register ``holder``."""
        return self._op(DW_CFA_register, uleb128(self._reg(reg)), uleb128(self._reg(holder)))

    # -- state and others ---------------------------------------------------------------------------------------
    def remember_state(self) -> "CfaInstructions":
        """Pushes every rule (restored by :meth:`restore_state`)."""
        return self._op(DW_CFA_remember_state)

    def restore_state(self) -> "CfaInstructions":
        """Pops the rules :meth:`remember_state` pushed."""
        return self._op(DW_CFA_restore_state)

    def gnu_args_size(self, size: int) -> "CfaInstructions":
        """``size`` bytes of outgoing arguments are on the stack here (DW_CFA_GNU_args_size; C++ unwinders pop them
        when they land in a handler)."""
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < U64:
            raise self._error(f"argument size {size!r} is not an integer in [0, 2**64)")
        return self._op(DW_CFA_GNU_args_size, uleb128(size))

    def negate_ra_state(self) -> "CfaInstructions":
        """AArch64 only: toggles whether the return address is signed (pointer authentication, after paciasp)."""
        if self.arch is not Arch.AARCH64:
            raise self._error(f"DW_CFA_AARCH64_negate_ra_state is AArch64's; this is {self.arch.info.name}")
        return self._op(DW_CFA_AARCH64_negate_ra_state)

    def nop(self) -> "CfaInstructions":
        """DW_CFA_nop (padding; entries are padded by the writer anyway)."""
        return self._op(DW_CFA_nop)
