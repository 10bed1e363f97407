"""DWARF expressions (``DW_OP_*``): a small builder whose operands are checked when an operation is added.

    Expr().fbreg(-24)                       # a variable 24 bytes below the frame base
    Expr().addr(Address("counter"))         # a global: DW_OP_addr, relocated
    Expr().breg(7, 8).deref().stack_value() # one method per DW_OP_*, registers by number
    Expr().op("DW_OP_plus_uconst", 16)      # the general form

Encoding-dependent operands (the width of ``DW_OP_addr``, of ``DW_OP_call_ref``) are resolved when the expression is
encoded for one :class:`Encoding`, and checked then (an address wider than the address size is an error, never cut);
everything else is encoded at once.

Operands that refer to a DIE take the ``Die`` itself (or its offset as a number)::

    Expr().implicit_pointer(var_die, 0)     # offset in .debug_info (ref_addr size), relocated like DW_FORM_ref_addr
    Expr().breg(0, 0).convert(int_die)      # unit-relative offset of a base type (ULEB128)
    Expr().const_type(int_die, b"\x01\0\0\0")

A DIE operand is written as a fixed-size field (a ULEB128 one as 4 padded bytes) and filled in when the DIE is laid
out: :meth:`Expr.encode` reports it as a :class:`DieOperand` beside the address relocations.
"""
from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any, Callable

from elftools.dwarf.dwarf_expr import DW_OP_name2opcode

from .address import Address, as_address
from .encoding import Encoding, sleb128, uleb128
from .errors import DescriptionError

_OPCODES: dict[str, int] = {}
for _name, _code in DW_OP_name2opcode.items():
    _OPCODES[_name] = _code
    _OPCODES.setdefault(_name[len("DW_OP_"):], _code)
_NAMES = {code: name for name, code in DW_OP_name2opcode.items()}

# Operand kinds of each operation that has operands (DWARF 5, section 2.5 and 7.7.1).
# u1/s1/u2/s2/u4/s4/u8/s8: fixed-width integers; u/s: (S)LEB128; addr: an address; block: uleb length + bytes;
# block1: 1-byte length + bytes (const_type's constant); expr: uleb length + a nested expression.
# DIE operands (a Die or its offset): ref: offset in .debug_info of ref_addr size (call_ref, implicit_pointer);
# type: unit-relative ULEB128 offset of a base type (convert, const_type, ...); ref2/ref4: unit-relative, fixed size.
_OPERANDS: dict[str, tuple[str, ...]] = {
    "addr": ("addr",), "const1u": ("u1",), "const1s": ("s1",), "const2u": ("u2",), "const2s": ("s2",),
    "const4u": ("u4",), "const4s": ("s4",), "const8u": ("u8",), "const8s": ("s8",), "constu": ("u",),
    "consts": ("s",), "pick": ("u1",), "plus_uconst": ("u",), "skip": ("s2",), "bra": ("s2",), "regx": ("u",),
    "fbreg": ("s",), "bregx": ("u", "s"), "piece": ("u",), "deref_size": ("u1",), "xderef_size": ("u1",),
    "call2": ("ref2",), "call4": ("ref4",), "call_ref": ("ref",), "bit_piece": ("u", "u"),
    "implicit_value": ("block",), "entry_value": ("expr",), "GNU_entry_value": ("expr",), "addrx": ("u",),
    "constx": ("u",), "regval_type": ("u", "type"), "deref_type": ("u1", "type"), "xderef_type": ("u1", "type"),
    "convert": ("type",), "reinterpret": ("type",), "GNU_parameter_ref": ("ref4",),
    "implicit_pointer": ("ref", "s"), "GNU_implicit_pointer": ("ref", "s"), "GNU_variable_value": ("ref",),
    "const_type": ("type", "block1"), "GNU_const_type": ("type", "block1"), "GNU_regval_type": ("u", "type"),
    "GNU_deref_type": ("u1", "type"), "GNU_convert": ("type",), "GNU_addr_index": ("u",),
    "GNU_const_index": ("u",),
}
# Not operations one can write: the bounds of the vendor range, and WASM_location (its operands depend on a kind).
_REFUSED = {"lo_user", "hi_user", "WASM_location"}
_DIE_KINDS = {"ref", "type", "ref2", "ref4"}
_OPERANDS.update({f"breg{i}": ("s",) for i in range(32)})
_LEB_RANGE = {"u": (0, 1 << 64), "s": (-(1 << 63), 1 << 63)}
_FIXED = {"u1": (1, False), "s1": (1, True), "u2": (2, False), "s2": (2, True), "u4": (4, False), "s4": (4, True),
          "u8": (8, False), "s8": (8, True)}


_INFO: dict[Any, tuple[int, str, tuple[str, ...]]] = {}
for _name, _code in _OPCODES.items():
    _short = _NAMES[_code][len("DW_OP_"):]
    _INFO[_name] = _INFO[_code] = (_code, _short, _OPERANDS.get(_short, ()))


_Op = Callable[..., "Expr"]   # a generated DW_OP method: operands in, the expression out


def operand_kinds(name: str | int) -> tuple[str, ...] | None:
    """The operand kinds of DW_OP ``name`` (``"fbreg"``, ``"DW_OP_fbreg"`` or its code), None for no such operation:
    ``"u"``/``"s"`` LEB128, ``"u1"``..``"s8"`` fixed, ``"addr"`` an address, ``"ref"``/``"type"``/``"ref2"``/``"ref4"``
    a DIE, ``"expr"`` a nested expression, ``"block"``/``"block1"`` bytes. For a description's reader."""
    info = _INFO.get(name)
    return info[2] if info is not None else None


class Expr:
    """A DWARF expression, built by chaining operations; each method returns the expression itself."""

    __slots__ = ("_ops", "_cache", "simple", "_block")

    def __init__(self) -> None:
        self._ops: list[tuple[int, tuple[str, ...], tuple[Any, ...]]] = []
        self.simple: bytearray | None = bytearray()
        """The bytes, while they are the same for every encoding (no address, no multi-byte fixed operand)."""
        self._cache: tuple[tuple[str, int, int], bytes, list[tuple[int, int, Address]]] | None = None
        self._block: tuple[bytes, tuple] | None = None   # simple_block(), until the expression changes

    if TYPE_CHECKING:
        # The DW_OP methods made at import (see the loop at the end of this module), declared for type
        # checkers; tests/test_core_units.py checks this list against the methods. Generated once from
        # pyelftools' DW_OP_name2opcode.
        GNU_addr_index: _Op
        GNU_const_index: _Op
        GNU_const_type: _Op
        GNU_convert: _Op
        GNU_deref_type: _Op
        GNU_entry_value: _Op
        GNU_implicit_pointer: _Op
        GNU_parameter_ref: _Op
        GNU_push_tls_address: _Op
        GNU_regval_type: _Op
        GNU_uninit: _Op
        GNU_variable_value: _Op
        WASM_location: _Op
        abs: _Op
        addr: _Op
        addrx: _Op
        and_: _Op
        bit_piece: _Op
        bra: _Op
        breg0: _Op
        breg1: _Op
        breg10: _Op
        breg11: _Op
        breg12: _Op
        breg13: _Op
        breg14: _Op
        breg15: _Op
        breg16: _Op
        breg17: _Op
        breg18: _Op
        breg19: _Op
        breg2: _Op
        breg20: _Op
        breg21: _Op
        breg22: _Op
        breg23: _Op
        breg24: _Op
        breg25: _Op
        breg26: _Op
        breg27: _Op
        breg28: _Op
        breg29: _Op
        breg3: _Op
        breg30: _Op
        breg31: _Op
        breg4: _Op
        breg5: _Op
        breg6: _Op
        breg7: _Op
        breg8: _Op
        breg9: _Op
        bregx: _Op
        call2: _Op
        call4: _Op
        call_frame_cfa: _Op
        call_ref: _Op
        const1s: _Op
        const1u: _Op
        const2s: _Op
        const2u: _Op
        const4s: _Op
        const4u: _Op
        const8s: _Op
        const8u: _Op
        const_type: _Op
        consts: _Op
        constu: _Op
        constx: _Op
        convert: _Op
        deref: _Op
        deref_size: _Op
        deref_type: _Op
        div: _Op
        drop: _Op
        dup: _Op
        entry_value: _Op
        eq: _Op
        fbreg: _Op
        form_tls_address: _Op
        ge: _Op
        gt: _Op
        hi_user: _Op
        implicit_pointer: _Op
        implicit_value: _Op
        le: _Op
        lit0: _Op
        lit1: _Op
        lit10: _Op
        lit11: _Op
        lit12: _Op
        lit13: _Op
        lit14: _Op
        lit15: _Op
        lit16: _Op
        lit17: _Op
        lit18: _Op
        lit19: _Op
        lit2: _Op
        lit20: _Op
        lit21: _Op
        lit22: _Op
        lit23: _Op
        lit24: _Op
        lit25: _Op
        lit26: _Op
        lit27: _Op
        lit28: _Op
        lit29: _Op
        lit3: _Op
        lit30: _Op
        lit31: _Op
        lit4: _Op
        lit5: _Op
        lit6: _Op
        lit7: _Op
        lit8: _Op
        lit9: _Op
        lo_user: _Op
        lt: _Op
        minus: _Op
        mod: _Op
        mul: _Op
        ne: _Op
        neg: _Op
        nop: _Op
        not_: _Op
        or_: _Op
        over: _Op
        pick: _Op
        piece: _Op
        plus: _Op
        plus_uconst: _Op
        push_object_address: _Op
        reg0: _Op
        reg1: _Op
        reg10: _Op
        reg11: _Op
        reg12: _Op
        reg13: _Op
        reg14: _Op
        reg15: _Op
        reg16: _Op
        reg17: _Op
        reg18: _Op
        reg19: _Op
        reg2: _Op
        reg20: _Op
        reg21: _Op
        reg22: _Op
        reg23: _Op
        reg24: _Op
        reg25: _Op
        reg26: _Op
        reg27: _Op
        reg28: _Op
        reg29: _Op
        reg3: _Op
        reg30: _Op
        reg31: _Op
        reg4: _Op
        reg5: _Op
        reg6: _Op
        reg7: _Op
        reg8: _Op
        reg9: _Op
        regval_type: _Op
        regx: _Op
        reinterpret: _Op
        rot: _Op
        shl: _Op
        shr: _Op
        shra: _Op
        skip: _Op
        stack_value: _Op
        swap: _Op
        xderef: _Op
        xderef_size: _Op
        xderef_type: _Op
        xor: _Op

    def op(self, name: str | int, *operands: Any) -> "Expr":
        """Appends operation ``name`` (``"fbreg"``, ``"DW_OP_fbreg"`` or the opcode) with its operands."""
        info = _INFO.get(name)
        if info is None:
            if isinstance(name, int) and not isinstance(name, bool):
                raise DescriptionError(f"unknown DWARF expression opcode {name:#x}")
            raise DescriptionError(f"unknown DWARF expression operation {name!r}")
        code, short, kinds = info
        if short in _REFUSED:
            raise DescriptionError(f"DW_OP_{short} is not an operation dwarfkit can write")
        if len(operands) != len(kinds):
            raise DescriptionError(f"DW_OP_{short} takes {len(kinds)} operand(s), got {len(operands)}: {operands!r}")
        if not kinds:
            self._ops.append((code, kinds, ()))
            if self.simple is not None:
                self.simple.append(code)
            self._cache = self._block = None
            return self
        checked = tuple(_check(short, kind, value) for kind, value in zip(kinds, operands, strict=True))
        self._ops.append((code, kinds, checked))
        self._cache = self._block = None
        simple = self.simple
        if simple is not None:
            if kinds == ("s",):
                simple.append(code)
                simple += sleb128(checked[0])
            elif kinds == ("u",):
                simple.append(code)
                simple += uleb128(checked[0])
            else:
                self.simple = None
        return self

    def tls_address(self, symbol: "Address | str", *, gnu: bool = False) -> "Expr":
        """A thread-local variable's address: its offset in the module's TLS block as ``DW_OP_const8u`` (``const4u``
        with 4-byte addresses), relocated as :attr:`~dwarfkit.sections.RelocKind.TLS_OFFSET` (ELF:
        ``R_X86_64_DTPOFF64``), then ``DW_OP_form_tls_address`` (``DW_OP_GNU_push_tls_address`` with ``gnu``, as
        clang and DWARF 2-4 consumers use). Only ELF objects can hold the relocation."""
        if isinstance(symbol, bool) or not isinstance(symbol, (Address, str, int)):
            raise DescriptionError(f"tls_address needs a thread-local symbol, got {symbol!r}")
        address = as_address(symbol)
        if address.symbol is None and not 0 <= address.offset < 1 << 64:
            raise DescriptionError(f"tls_address: TLS offset {address.offset:#x} does not fit 64 bits")
        self._ops.append((_CONST8U, ("tls",), (TlsOffset(address.symbol, address.offset),)))
        self._cache = self._block = None
        self.simple = None
        return self.op("GNU_push_tls_address" if gnu else "form_tls_address")

    def indexed_addresses(self, index: Callable[[Address], int], gnu: bool = False) -> "Expr":
        """This expression with each ``DW_OP_addr`` turned into ``DW_OP_addrx`` (``DW_OP_GNU_addr_index`` with
        ``gnu``) of ``index(address)``: how a split unit names addresses (the skeleton file's ``.debug_addr``)."""
        if all(kinds != ("addr",) for _, kinds, _ in self._ops):
            return self
        out = Expr()
        out.simple = None
        for code, kinds, values in self._ops:
            if kinds == ("addr",):
                out._ops.append((_INFO["GNU_addr_index" if gnu else "addrx"][0], ("u",), (index(values[0]),)))
            else:
                out._ops.append((code, kinds, values))
        return out

    def reg(self, number: int) -> "Expr":
        """DW_OP_reg<n> for registers 0..31, DW_OP_regx above."""
        return self.op(f"reg{number}") if 0 <= number < 32 else self.op("regx", number)

    def breg(self, number: int, offset: int) -> "Expr":
        """DW_OP_breg<n> for registers 0..31, DW_OP_bregx above."""
        return self.op(f"breg{number}", offset) if 0 <= number < 32 else self.op("bregx", number, offset)

    def lit(self, value: int) -> "Expr":
        """DW_OP_lit<n> for 0..31, the smallest constant operation above."""
        if 0 <= value < 32:
            return self.op(f"lit{value}")
        return self.op("constu", value) if value >= 0 else self.op("consts", value)

    def __len__(self) -> int:
        """Number of operations."""
        return len(self._ops)

    def opcodes(self) -> list[int]:
        """The DW_OP code of each operation, in order."""
        return [code for code, _, _ in self._ops]

    def __repr__(self) -> str:
        return "Expr(" + ", ".join(_NAMES[c] + "".join(f" {v}" for v in vals) for c, _, vals in self._ops) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self._ops == other._ops

    def __hash__(self) -> int:
        return hash(tuple(self._ops))

    def simple_block(self) -> tuple[bytes, tuple] | None:
        """``(bytes, ())``, the value of an exprloc attribute, while the bytes are the same for every encoding (see
        :attr:`simple`); made once and shared by every DIE that uses this expression until it changes. Else None."""
        block = self._block
        if block is None and self.simple is not None:
            block = self._block = (bytes(self.simple), ())
        return block

    def encode(self, encoding: Encoding) -> tuple[bytes, list[tuple[int, int, Any]]]:
        """The bytes for ``encoding`` and what must be filled in later: ``(offset, size, Address)`` for symbolic
        addresses, ``(offset, size, DieOperand)`` for DIEs. DescriptionError if an operand does not fit."""
        key = (encoding.byteorder, encoding.address_size, encoding.offset_size)
        cache = self._cache
        if cache is not None and cache[0] == key:
            return cache[1], cache[2]
        out = bytearray()
        relocs: list[tuple[int, int, Any]] = []
        order = encoding.byteorder
        for code, kinds, values in self._ops:
            out.append(code)
            for kind, value in zip(kinds, values, strict=True):
                if kind == "s":
                    out += sleb128(value)
                elif kind == "u":
                    out += uleb128(value)
                elif kind == "addr":
                    size = encoding.address_size
                    bits = 8 * size
                    if value.symbol is not None:
                        if not -(1 << (bits - 1)) <= value.offset < 1 << bits:
                            raise self._error(code, f"addend {value.offset:#x} does not fit {size}-byte addresses")
                        relocs.append((len(out), size, value))
                    elif value.offset >> bits:
                        raise self._error(code, f"address {value.offset:#x} does not fit {size}-byte addresses")
                    out += (value.offset & ((1 << bits) - 1)).to_bytes(size, order)
                elif kind == "tls":   # const8u/const4u by address size, relocated as a TLS offset
                    size = encoding.address_size
                    out[-1] = _CONST8U if size == 8 else _CONST4U
                    if value.offset >> (8 * size):
                        raise self._error(code, f"TLS offset {value.offset:#x} does not fit {size} bytes")
                    if value.symbol is not None:
                        relocs.append((len(out), size, value))
                    out += value.offset.to_bytes(size, order)
                elif kind in _DIE_KINDS:
                    size = (encoding.address_size if encoding.version == 2 else encoding.offset_size) \
                        if kind == "ref" else 4 if kind in ("type", "ref4") else 2
                    if isinstance(value, int):
                        if value >> (8 * size) and kind != "type":
                            raise self._error(code, f"offset {value:#x} does not fit {size} bytes")
                        out += uleb128(value) if kind == "type" else value.to_bytes(size, order)
                    else:   # a DIE: room now, its offset when it is laid out
                        relocs.append((len(out), size, DieOperand(value, kind != "ref", kind == "type")))
                        out += bytes(size)
                elif kind == "block":
                    out += uleb128(len(value)) + value
                elif kind == "block1":
                    out.append(len(value))
                    out += value
                elif kind == "expr":
                    inner, inner_relocs = value.encode(encoding)
                    out += uleb128(len(inner))
                    # Its relocated fields (a DW_OP_regval_type's base type, an address) move with it: their
                    # sizes are fixed, so the length just written stays true.
                    relocs.extend((len(out) + at, size, operand) for at, size, operand in inner_relocs)
                    out += inner
                else:
                    size, signed = _FIXED[kind]
                    out += value.to_bytes(size, order, signed=signed)
        data = bytes(out)
        self._cache = (key, data, relocs)
        return data, relocs

    def _error(self, code: int, message: str) -> DescriptionError:
        return DescriptionError(f"{self!r}: {_NAMES[code]} {message}")


class TlsOffset(Address):
    """The operand :meth:`Expr.tls_address` records: a symbol's offset in its TLS block (not its address), which
    :meth:`Expr.encode` reports beside the addresses; the writers relocate it as ``RelocKind.TLS_OFFSET``."""

    __slots__ = ()


_CONST8U, _CONST4U = DW_OP_name2opcode["DW_OP_const8u"], DW_OP_name2opcode["DW_OP_const4u"]


class DieOperand:
    """A DIE operand of an encoded expression: ``relative`` offsets count from the DIE's unit (else from the start of
    .debug_info, relocated like DW_FORM_ref_addr); ``leb`` ones are ULEB128, padded to their field."""

    __slots__ = ("die", "relative", "leb")

    def __init__(self, die: Any, relative: bool, leb: bool) -> None:
        self.die, self.relative, self.leb = die, relative, leb

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DieOperand) and (self.die, self.relative, self.leb) == (other.die, other.relative,
                                                                                          other.leb)

    def __hash__(self) -> int:
        return hash((id(self.die), self.relative, self.leb))


def _check(op: str, kind: str, value: Any) -> Any:
    """The operand, normalised, or a DescriptionError naming the operation."""
    if kind == "addr":
        if isinstance(value, bool) or not isinstance(value, (Address, int, str)):
            raise DescriptionError(f"DW_OP_{op} needs an address, got {value!r}")
        address = as_address(value)
        if address.symbol is None and address.offset < 0:
            raise DescriptionError(f"DW_OP_{op} address {value} is negative")
        return address
    if kind in ("block", "block1"):
        if not isinstance(value, (bytes, bytearray)):
            raise DescriptionError(f"DW_OP_{op} needs bytes, got {value!r}")
        if kind == "block1" and len(value) > 255:
            raise DescriptionError(f"DW_OP_{op}: a constant of {len(value)} bytes does not fit its 1-byte size")
        return bytes(value)
    if kind in _DIE_KINDS:
        if type(value).__name__ == "Die":   # the class lives above this module (dwarfkit.info.die)
            return value
        if not isinstance(value, int) or isinstance(value, bool):
            raise DescriptionError(f"DW_OP_{op} needs a DIE (or its offset), got {value!r}")
        if value < 0:
            raise DescriptionError(f"DW_OP_{op} offset {value} is negative")
        if kind in ("ref2", "ref4") and value >> (16 if kind == "ref2" else 32):
            raise DescriptionError(f"DW_OP_{op} offset {value:#x} does not fit {kind[-1]} bytes")
        if kind == "type" and value >> 64:
            raise DescriptionError(f"DW_OP_{op} offset {value:#x} does not fit 64 bits")
        return value
    if kind == "expr":
        if not isinstance(value, Expr):
            raise DescriptionError(f"DW_OP_{op} needs an Expr, got {value!r}")
        depth = _depth(value)
        if depth >= _MAX_NESTING:
            raise DescriptionError(f"DW_OP_{op}: expressions nested {depth + 1} deep (at most {_MAX_NESTING})")
        # A copy of what the expression holds now: changing it later cannot change this one, nor make a cycle.
        snapshot = Expr()
        snapshot._ops = list(value._ops)
        snapshot.simple = None if value.simple is None else bytearray(value.simple)
        return snapshot
    if not isinstance(value, int) or isinstance(value, bool):
        raise DescriptionError(f"DW_OP_{op} operand must be an integer, got {value!r}")
    if kind == "u" and value < 0:
        raise DescriptionError(f"DW_OP_{op} operand {value} is negative")
    if kind in _LEB_RANGE:   # readers decode LEB128 operands to 64-bit integers
        low, high = _LEB_RANGE[kind]
        if not low <= value < high:
            sign = "signed" if kind == "s" else "unsigned"
            raise DescriptionError(f"DW_OP_{op} operand {value:#x} does not fit 64 {sign} bits")
    if kind in _FIXED:
        size, signed = _FIXED[kind]
        low, high = (-(1 << (8 * size - 1)), 1 << (8 * size - 1)) if signed else (0, 1 << (8 * size))
        if not low <= value < high:
            sign = "signed" if signed else "unsigned"
            raise DescriptionError(f"DW_OP_{op} operand {value} does not fit {size} {sign} byte(s)")
    return value


# Entry values nest an expression in an expression; gcc nests one or two. Deeper is a mistake, and would recurse.
_MAX_NESTING = 16


def _depth(expr: Expr) -> int:
    """How deep expressions nest inside ``expr`` (0: no nested expression); iterative, as nesting is bounded."""
    depth, level = 0, [expr]
    while True:
        level = [v for e in level for _, kinds, values in e._ops
                 for k, v in zip(kinds, values, strict=True) if k == "expr"]
        if not level:
            return depth
        depth += 1


def _method(short: str) -> Callable[..., Expr]:
    code, _, kinds = _INFO[short]
    if short in _REFUSED:
        def method(self: Expr, *operands: Any) -> Expr:
            return self.op(short, *operands)   # reports the refusal
    elif kinds == ():
        def method(self: Expr) -> Expr:   # type: ignore[misc]
            self._ops.append((code, kinds, ()))
            self._cache = self._block = None
            if self.simple is not None:
                self.simple.append(code)
            return self
    elif kinds in (("s",), ("u",)):
        leb = sleb128 if kinds == ("s",) else uleb128
        low, high = _LEB_RANGE[kinds[0]]

        def method(self: Expr, *operands: Any) -> Expr:
            # The common case (fbreg, plus_uconst, ...) without the general checks' overhead.
            if len(operands) != 1 or type(operands[0]) is not int or not low <= operands[0] < high:
                return self.op(short, *operands)   # reports the error
            self._ops.append((code, kinds, operands))
            self._cache = self._block = None
            if self.simple is not None:
                self.simple.append(code)
                self.simple += leb(operands[0])
            return self
    else:
        def method(self: Expr, *operands: Any) -> Expr:
            return self.op(short, *operands)
    method.__name__ = short
    method.__doc__ = f"Appends DW_OP_{short}."
    return method


# One method per operation: Expr().fbreg(-8).deref(), Expr().plus_uconst(4), Expr().call_frame_cfa();
# and_(), or_(), not_() for the three that are Python keywords.
for _short in sorted({name[len("DW_OP_"):] for name in DW_OP_name2opcode}):
    _attr = _short + "_" if keyword.iskeyword(_short) else _short
    if not hasattr(Expr, _attr):
        setattr(Expr, _attr, _method(_short))
