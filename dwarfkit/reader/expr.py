"""DWARF expressions (DW_OP_*) printed as llvm-dwarfdump prints them, with register names per architecture."""
from __future__ import annotations

from collections.abc import Callable

from elftools.dwarf.dwarf_expr import DW_OP_name2opcode

from ..encoding import decode_sleb128 as sleb
from ..encoding import decode_uleb128 as uleb
from .debugfile import ByteOrder

OP_NAMES = {code: name for name, code in DW_OP_name2opcode.items()
            if name not in ("DW_OP_lo_user", "DW_OP_hi_user")}
OP_NAMES[0xA5] = "DW_OP_regval_type"  # missing from pyelftools' table
# Operand kinds: u1 u2 u4 u8 s1 s2 s4 s8 (fixed), U (ULEB), S (SLEB), A (address), R (offset-sized reference),
# B (ULEB length then that many bytes), T (ULEB base type DIE offset in the unit).
_OPERANDS = {
    "addr": "A", "const1u": "u1", "const1s": "s1", "const2u": "u2", "const2s": "s2", "const4u": "u4",
    "const4s": "s4", "const8u": "u8", "const8s": "s8", "constu": "U", "consts": "S", "pick": "u1",
    "plus_uconst": "U", "bra": "s2", "skip": "s2", "regx": "U", "fbreg": "S", "bregx": "US", "piece": "U",
    "deref_size": "u1", "xderef_size": "u1", "call2": "u2", "call4": "u4", "call_ref": "R", "bit_piece": "UU",
    "implicit_value": "B", "implicit_pointer": "RS", "addrx": "U", "constx": "U", "entry_value": "U",
    "const_type": "TC", "regval_type": "UT", "deref_type": "u1T", "xderef_type": "u1T", "convert": "T",
    "reinterpret": "T", "GNU_entry_value": "U", "GNU_addr_index": "U", "GNU_const_index": "U",
    "WASM_location": "U",
}
# GNU extensions llvm-dwarfdump 14 cannot decode; we print them as it does, "<decoding error>" and the bytes.
_NOT_IN_LLVM = {"DW_OP_GNU_parameter_ref", "DW_OP_GNU_implicit_pointer", "DW_OP_GNU_const_type",
                "DW_OP_GNU_regval_type", "DW_OP_GNU_deref_type", "DW_OP_GNU_convert", "DW_OP_GNU_uninit",
                "DW_OP_GNU_variable_value"}
for _i in range(32):
    _OPERANDS[f"breg{_i}"] = "S"

_X86_64 = ["RAX", "RDX", "RCX", "RBX", "RSI", "RDI", "RBP", "RSP"] + [f"R{i}" for i in range(8, 16)] + ["RIP"] + \
    [f"XMM{i}" for i in range(16)] + [f"ST{i}" for i in range(8)] + [f"MM{i}" for i in range(8)]
_I386 = ["EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI", "EIP"]
REGISTERS: dict[str, dict[int, str]] = {
    "x86_64": dict(enumerate(_X86_64)),
    "i386": {**dict(enumerate(_I386)), 9: "EFLAGS", **{11 + i: f"ST{i}" for i in range(8)},
             **{21 + i: f"XMM{i}" for i in range(8)}, **{29 + i: f"MM{i}" for i in range(8)}},
    "aarch64": {**{i: f"W{i}" for i in range(31)}, 31: "WSP"},
    "arm": {**{i: f"R{i}" for i in range(13)}, 13: "SP", 14: "LR", 15: "PC"},
    "mips64": dict(enumerate(f"{n}_64" for n in ["ZERO", "AT", "V0", "V1", "A0", "A1", "A2", "A3", "T0", "T1", "T2",
                                                  "T3", "T4", "T5", "T6", "T7", "S0", "S1", "S2", "S3", "S4", "S5",
                                                  "S6", "S7", "T8", "T9", "K0", "K1", "GP", "SP", "FP", "RA"])),
}


class ExprError(Exception):
    pass


def format_expr(expr: bytes, arch: str, address_size: int, offset_size: int, order: ByteOrder,
                base_type: Callable[[int], str] | None = None) -> str:
    """The text llvm-dwarfdump prints for an expression. ``base_type(offset)`` names a base type DIE."""
    regs = REGISTERS.get(arch)
    parts = []
    off = 0
    n = len(expr)
    entry_left = None  # bytes left in an entry value's inner expression
    entry_start = 0
    while off < n:
        start = off
        op = expr[off]
        off += 1
        name = OP_NAMES.get(op)
        try:
            if name is None or name in _NOT_IN_LLVM:
                raise ExprError
            text, off, operand0 = _operands(name, expr, off, address_size, offset_size, order, regs, base_type)
        except (ExprError, IndexError):
            parts.append("<decoding error>" + "".join(f" {b:02x}" for b in expr[start:]))
            return "".join(parts)
        parts.append(text)
        if name in ("DW_OP_entry_value", "DW_OP_GNU_entry_value"):
            parts.append("(")
            entry_left, entry_start = operand0, off
            continue
        if entry_left:
            entry_left -= off - entry_start
            entry_start = off
            if entry_left <= 0:
                parts.append(")")
                entry_left = None
        if off < n:
            parts.append(", ")
    return "".join(parts)


def _operands(name: str, expr: bytes, off: int, asz: int, osz: int, order: ByteOrder, regs: dict[int, str] | None,
              base_type: Callable[[int], str] | None) -> tuple[str, int, int | None]:
    short = name[6:]
    kinds = _OPERANDS.get(short, "")
    op = DW_OP_name2opcode.get(name, 0xA5)
    out = [name]
    values: list[tuple[int, bool] | None] = []  # None: an operand printed as text
    i = 0
    while i < len(kinds):
        k = kinds[i]
        if k in "us":
            size = int(kinds[i + 1])
            i += 2
            if off + size > len(expr):
                raise ExprError
            v = int.from_bytes(expr[off:off + size], order, signed=k == "s")
            off += size
            values.append((v, k == "s"))
            continue
        i += 1
        if k == "U":
            v, off = uleb(expr, off)
            values.append((v, False))
        elif k == "S":
            v, off = sleb(expr, off)
            values.append((v, True))
        elif k in "AR":
            size = asz if k == "A" else osz
            if off + size > len(expr):
                raise ExprError
            values.append((int.from_bytes(expr[off:off + size], order), False))
            off += size
        elif k == "B":
            length, off = uleb(expr, off)
            block = expr[off:off + length]
            if len(block) != length:
                raise ExprError
            off += length
            return name + f" 0x{length:x}" + "".join(f" 0x{b:02x}" for b in block), off, length
        elif k == "C":  # const_type: 1-byte size then the constant's bytes
            size = expr[off]
            block = expr[off + 1:off + 1 + size]
            off += 1 + size
            out.append(f" 0x{size:x}" + "".join(f" 0x{b:02x}" for b in block))
        elif k == "T":
            v, off = uleb(expr, off)
            if short == "convert" and v == 0:
                out.append(" 0x0")
            else:
                out.append(base_type(v) if base_type else f" <invalid base_type ref: 0x{v:x}>")
            values.append(None)
    # Register operations name the register, as llvm-dwarfdump does when it knows the target.
    reg = None
    if 0x50 <= op <= 0x6F:
        reg = op - 0x50
    elif 0x70 <= op <= 0x8F:
        reg = op - 0x70
    elif op in (0x90, 0x92, 0xA5) and values[0] is not None:
        reg = values[0][0]
    if reg is not None and regs is not None and reg in regs:
        if 0x70 <= op <= 0x8F or op == 0x92:
            last = values[-1]
            offset = last[0] if last is not None else 0  # a register's offset is a number, never a type operand
            return f"{name} {regs[reg]}{offset:+d}", off, None
        if op == 0xA5:
            return f"{name} {regs[reg]}" + "".join(out[1:]), off, None
        return f"{name} {regs[reg]}", off, None
    texts = []
    for item in values:
        if item is None:
            continue
        v, signed = item
        if short in ("entry_value", "GNU_entry_value"):
            continue
        texts.append(f" {v:+d}" if signed else f" 0x{v:x}")
    first = values[0][0] if values and values[0] is not None else None
    if kinds.startswith("u1T") or kinds == "UT":
        # the base type reference comes after the first operand
        return name + (texts[0] if texts else "") + "".join(out[1:]), off, first
    return name + "".join(texts) + "".join(out[1:]), off, first
