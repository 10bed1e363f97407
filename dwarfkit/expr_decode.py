"""Decoding an expression's bytes back into an :class:`~dwarfkit.expr.Expr` (what ``dwarfkit.load`` does with
every location expression it reads), operand by operand with the operand kinds :mod:`dwarfkit.expr` writes with.
Imports that module and the foundations."""
from __future__ import annotations

from typing import Any, Callable

from .address import Address
from .encoding import Encoding, decode_sleb128, decode_uleb128
from .errors import DescriptionError
from .expr import _CONST8U, _FIXED, _INFO, _REFUSED, Expr, TlsOffset

_ADDR = _INFO["addr"][0]
_TYPE_FIELD = 4   # how wide Expr.encode writes a base type operand (a padded ULEB128)
_ADDRESS_INDEX = {"addrx", "constx", "GNU_addr_index", "GNU_const_index"}


def decode_expr(data: bytes, encoding: Encoding, *, die: Callable[[str, int], Any] | None = None,
                relocation: Callable[[int], Address | None] | None = None, base: int = 0,
                address_index: Callable[[int], Any] | None = None, rename: dict[str, str] | None = None) -> Expr:
    """The expression encoded in ``data`` (the inverse of :meth:`Expr.encode`), for loading a file's DWARF.

    ``die(kind, offset)`` turns a DIE operand into a ``Die`` (or returns the offset to keep the number); kind
    ``ref`` is an offset in ``.debug_info``, the others count from the unit. ``relocation(position)``, given
    the operand's position (``base`` plus its offset in ``data``), returns the symbolic :class:`Address` an
    object's relocation puts there, or None. An unknown opcode or a truncated operand is a DescriptionError
    naming the offset."""
    expr = Expr()
    order = encoding.byteorder
    off, end = 0, len(data)
    try:
        while off < end:
            start = off
            code = data[off]
            off += 1
            info = _INFO.get(code)
            if info is None or info[1] in _REFUSED:
                raise DescriptionError(f"unknown DWARF expression opcode {code:#x} at offset {start}")
            _, short, kinds = info
            if rename and short in rename:   # DW_OP_entry_value <-> DW_OP_GNU_entry_value, ... (same operands)
                code, short, kinds = _INFO[rename[short]]
            operands: list[Any] = []
            tls = None
            value: Any
            for kind in kinds:
                if kind == "s":
                    value, off = decode_sleb128(data, off)
                elif kind in ("u", "type"):
                    at = off
                    value, off = decode_uleb128(data, off)
                    if kind == "type":
                        recorded = relocation(base + at) if relocation else None
                        if recorded is not None and not isinstance(recorded, Address):
                            # a DIE the encoder recorded for this field: 4 bytes, zero until it is laid out
                            value, off = recorded, at + _TYPE_FIELD
                        elif die is not None:
                            value = die(kind, value)
                    elif short in _ADDRESS_INDEX and address_index is not None:
                        value = address_index(value)   # an index into .debug_addr: the new program's
                        if isinstance(value, Address):   # or, for a version without .debug_addr, the address
                            code = _ADDR
                elif kind == "addr":
                    size = encoding.address_size
                    value = int.from_bytes(_take(data, off, size), order)
                    symbolic = relocation(base + off) if relocation else None
                    value = symbolic if symbolic is not None else Address(None, value)
                    off += size
                elif kind in ("ref", "ref2", "ref4"):
                    size = (encoding.address_size if encoding.version == 2 else encoding.offset_size) \
                        if kind == "ref" else int(kind[-1])
                    value = int.from_bytes(_take(data, off, size), order)
                    recorded = relocation(base + off) if relocation else None
                    off += size
                    if recorded is not None and not isinstance(recorded, Address):
                        value = recorded
                    elif die is not None:
                        value = die(kind, value)
                elif kind in ("block", "block1"):
                    if kind == "block":
                        n, off = decode_uleb128(data, off)
                    else:
                        n = _take(data, off, 1)[0]
                        off += 1
                    value = _take(data, off, n)
                    off += n
                elif kind == "expr":
                    n, off = decode_uleb128(data, off)
                    value = decode_expr(_take(data, off, n), encoding, die=die, relocation=relocation,
                                       base=base + off, address_index=address_index, rename=rename)
                    off += n
                else:
                    size, signed = _FIXED[kind]
                    raw = _take(data, off, size)
                    value = int.from_bytes(raw, order, signed=signed)
                    if relocation is not None and size == encoding.address_size and not signed:
                        symbolic = relocation(base + off)
                        if isinstance(symbolic, TlsOffset):
                            tls = symbolic
                    off += size
                operands.append(value)
            if tls is not None:   # DW_OP_const8u/4u of a TLS offset, relocated: as tls_address() records it
                expr._ops.append((_CONST8U, ("tls",), (tls,)))
                expr.simple = None
                expr._cache = expr._block = None
                continue
            expr.op(code, *operands)
    except IndexError:
        raise DescriptionError(f"DWARF expression {data.hex()} is truncated at offset {off}") from None
    return expr


def _take(data: bytes, off: int, size: int) -> bytes:
    """``size`` bytes at ``off``; IndexError when the data ends first."""
    if off + size > len(data):
        raise IndexError(off)
    return data[off:off + size]
