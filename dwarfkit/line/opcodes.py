"""Encoding a sequence's rows as line-number program opcodes, smallest opcode first.

The state machine starts fresh for every sequence (``DW_LNE_set_address`` ... ``DW_LNE_end_sequence``), so each
sequence encodes on its own: that is what lets one function's rows be rewritten in place (see :func:`no_op_padding`).
"""
from __future__ import annotations

from functools import lru_cache
from itertools import count

from elftools.dwarf.constants import DW_LNE, DW_LNS

from ..encoding import sleb128, uleb128, uleb128_padded
from ..errors import DescriptionError
from .sequence import BASIC_BLOCK, EPILOGUE_BEGIN, IS_STMT, OP_INDEX_SHIFT, PROLOGUE_END, LineSequence

# pyelftools' typed enums, as plain ints (they are written into bytes on the hot path).
DW_LNE_end_sequence = int(DW_LNE.end_sequence)
DW_LNE_set_address = int(DW_LNE.set_address)
DW_LNE_set_discriminator = int(DW_LNE.set_discriminator)
DW_LNS_advance_line = int(DW_LNS.advance_line)
DW_LNS_advance_pc = int(DW_LNS.advance_pc)
DW_LNS_const_add_pc = int(DW_LNS.const_add_pc)
DW_LNS_fixed_advance_pc = int(DW_LNS.fixed_advance_pc)
DW_LNS_negate_stmt = int(DW_LNS.negate_stmt)
DW_LNS_set_basic_block = int(DW_LNS.set_basic_block)
DW_LNS_set_column = int(DW_LNS.set_column)
DW_LNS_set_epilogue_begin = int(DW_LNS.set_epilogue_begin)
DW_LNS_set_file = int(DW_LNS.set_file)
DW_LNS_set_isa = int(DW_LNS.set_isa)
DW_LNS_set_prologue_end = int(DW_LNS.set_prologue_end)

# Operand counts of the standard opcodes 1..12 (DWARF 5, 6.2.4 item 12); opcodes past 12 get 0.
STANDARD_OPCODE_LENGTHS = (0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1)

# Opcodes the encoder needs in every program: copy .. fixed_advance_pc.
MIN_OPCODE_BASE = 10

# LEB128 encodings of small operands (two bytes at most), made with arithmetic: calling the encoders for each was a
# quarter of dwarfkit's import time. Larger operands go through the encoders (line advances through a cache).
_TABLE = 1 << 10
_ULEB = [bytes((i,)) for i in range(128)] + [bytes((i & 0x7F | 0x80, i >> 7)) for i in range(128, _TABLE)]
_SLEB_BIAS = _TABLE >> 1
_SLEB = [bytes((v & 0x7F,)) if -64 <= v < 64 else bytes((v & 0x7F | 0x80, (v >> 7) & 0x7F))
         for v in range(-_SLEB_BIAS, _SLEB_BIAS)]
_END_SEQUENCE = bytes((0, 1, DW_LNE_end_sequence))
# Line advances past the table: a function's first row jumps far from line 1, and a program repeats such jumps.
_sleb_far = lru_cache(maxsize=1 << 14)(sleb128)



def _uleb(value: int) -> bytes:
    return _ULEB[value] if value < _TABLE else uleb128(value)


class SequenceEncoder:
    """Encodes sequences of one program. Tables that depend on the header are computed once, here."""

    def __init__(self, *, program: str, version: int, address_size: int, byteorder: str, file_range: range,
                 min_instruction_length: int, line_base: int, line_range: int, opcode_base: int,
                 default_is_stmt: bool, max_ops_per_instruction: int = 1) -> None:
        self.program = program
        self.version = version
        self.address_size = address_size
        self.byteorder = byteorder
        self.file_range = file_range
        self.min_len = min_instruction_length
        self.max_ops = max_ops_per_instruction   # > 1: VLIW, rows carry an op_index (flags >> OP_INDEX_SHIFT)
        self.line_base = line_base
        self.line_range = line_range
        self.opcode_base = opcode_base
        self.default_stmt = IS_STMT if default_is_stmt else 0
        # How far DW_LNS_const_add_pc moves, in instructions: the address advance of special opcode 255.
        self.const_add = (255 - opcode_base) // line_range
        self.set_address_head = bytes((0,)) + uleb128(1 + address_size) + bytes((DW_LNE_set_address,))

    # -- errors --------------------------------------------------------------------------------------------------
    def _error(self, seq: LineSequence, row: int | str | None, message: str) -> DescriptionError:
        """``row``: the row's index, a place (``"start"``) or None for the end of the sequence."""
        where = row if isinstance(row, str) else "end of sequence" if row is None else f"row {row}"
        return DescriptionError(f"line program {self.program!r}, sequence at {seq.start}, {where}: {message}")

    def bad_rows(self, seq: LineSequence) -> DescriptionError:
        return self._error(seq, "rows", "a row field is not a non-negative integer (address, line, column, file, isa, "
                                        "discriminator), or a value is too large")

    def _need_opcode(self, seq: LineSequence, row: int, opcode: int, name: str) -> None:
        if opcode >= self.opcode_base:
            raise self._error(seq, row, f"{name} needs opcode_base > {opcode} (it is {self.opcode_base})")

    # -- encoding ------------------------------------------------------------------------------------------------
    def encode(self, seq: LineSequence, out: bytearray, padding: int = 0) -> int:
        """Appends ``seq`` to ``out``; returns the position in ``out`` of the start address field.

        ``padding`` bytes of no-ops are placed before the final address advance (see :func:`no_op_padding`).
        Rows are not checked when they are added (the hot path): a field that is no integer raises TypeError here,
        which :class:`LineProgram` reports with :meth:`bad_rows`.
        """
        if seq.end_address is None:
            raise self._error(seq, None, "the sequence has no end (call end(address))")
        min_len = self.min_len
        line_base = self.line_base
        line_top = line_base + self.line_range
        line_range = self.line_range
        opcode_base = self.opcode_base
        const_add = self.const_add
        const_add_ops = const_add * line_range
        files = self.file_range
        zero_line_special = line_base <= 0 < line_top
        max_ops = self.max_ops
        scale = min_len != 1 or max_ops != 1   # advances are not plain byte counts
        op = 0   # the state machine's op_index (VLIW)
        r_op = 0
        uleb = _ULEB
        sleb = _SLEB
        append = out.append

        if padding == 1:
            # The one size plain no-op opcodes cannot fill: widen set_address's length field by a byte instead.
            out += b"\0" + uleb128_padded(1 + self.address_size, 2) + bytes((DW_LNE_set_address,))
            padding = 0
        else:
            out += self.set_address_head
        address_pos = len(out)
        start = seq.start.offset
        if seq.start.symbol is None and not 0 <= start < 1 << (8 * self.address_size):
            raise self._error(seq, "start", f"address {start:#x} does not fit {self.address_size} bytes")
        if seq.start.symbol is None and start + seq.end_address > 1 << (8 * self.address_size):
            raise self._error(seq, None, f"end {start + seq.end_address:#x} lies past the {self.address_size}-byte "
                                         f"address space")
        # A symbolic start holds its addend (see sections.py), as a two's complement when it is negative.
        out += (start & ((1 << (8 * self.address_size)) - 1)).to_bytes(self.address_size,
                                                                       self.byteorder)  # type: ignore[arg-type]

        address = 0
        line = 1
        column = 0
        file = 1
        stmt = self.default_stmt
        isa = 0
        pairs = seq.pairs
        first = 0
        for last, (r_column, r_file, r_flags, r_isa, r_disc) in seq.runs:
            # The rows first..last share these fields. The sticky ones (file, column, is_stmt, isa) change at the
            # first row only; basic_block, prologue_end, epilogue_begin and the discriminator apply to every row.
            row = first
            if r_flags >> OP_INDEX_SHIFT:
                r_op = r_flags >> OP_INDEX_SHIFT
                if max_ops == 1 or not 0 <= r_op < max_ops:
                    raise self._error(seq, row, f"op_index {r_op} needs maximum_operations_per_instruction > {r_op} "
                                                f"(it is {max_ops})")
            else:
                r_op = 0
            if r_file != file:
                if r_file not in files:
                    raise self._error(seq, row, f"file index {r_file} does not exist (valid: "
                                                f"{files.start}..{files.stop - 1})")
                append(DW_LNS_set_file)
                out += _uleb(r_file)
                file = r_file
            if r_column != column:
                if r_column < 0:
                    raise self._error(seq, row, f"negative column {r_column}")
                append(DW_LNS_set_column)
                out += _uleb(r_column)
                column = r_column
            if (r_flags ^ stmt) & IS_STMT:
                append(DW_LNS_negate_stmt)
                stmt ^= IS_STMT
            each = b""   # opcodes for every row of the run
            if r_flags & BASIC_BLOCK:
                each += bytes((DW_LNS_set_basic_block,))
            if r_flags & PROLOGUE_END:
                self._need_opcode(seq, row, DW_LNS_set_prologue_end, "prologue_end")
                each += bytes((DW_LNS_set_prologue_end,))
            if r_flags & EPILOGUE_BEGIN:
                self._need_opcode(seq, row, DW_LNS_set_epilogue_begin, "epilogue_begin")
                each += bytes((DW_LNS_set_epilogue_begin,))
            out += each
            if r_isa != isa:
                self._need_opcode(seq, row, DW_LNS_set_isa, "isa")
                if r_isa < 0:
                    raise self._error(seq, row, f"negative isa {r_isa}")
                append(DW_LNS_set_isa)
                out += _uleb(r_isa)
                isa = r_isa
            if r_disc:
                if r_disc < 0:
                    raise self._error(seq, row, f"negative discriminator {r_disc}")
                operand = _uleb(r_disc)
                discriminator = bytes((0,)) + uleb[1 + len(operand)] + bytes((DW_LNE_set_discriminator,)) + operand
                out += discriminator
                each += discriminator
            it = iter(pairs[2 * first:2 * last])
            for row, r_address, r_line in zip(count(first), it, it):
                if each and row != first:
                    out += each
                delta = r_address - address
                if delta < 0:
                    raise self._error(seq, row, f"address {r_address:#x} goes backwards (previous row at "
                                                f"{address:#x})")
                if scale:
                    delta, rest = divmod(delta, min_len)
                    if rest:
                        raise self._error(seq, row, f"address {r_address:#x} is not a multiple of the minimum "
                                                    f"instruction length {min_len}")
                    if max_ops != 1:   # an operation advance: whole instructions times max_ops, plus op_index
                        delta = delta * max_ops + r_op - op
                        if delta < 0:
                            raise self._error(seq, row, f"op_index {r_op} at {r_address:#x} goes backwards")
                        op = r_op
                address = r_address
                if r_line < 0:
                    raise self._error(seq, row, f"negative line {r_line}")
                line_delta = r_line - line
                if not line_base <= line_delta < line_top:
                    append(DW_LNS_advance_line)
                    out += (sleb[line_delta + _SLEB_BIAS] if -_SLEB_BIAS <= line_delta < _SLEB_BIAS else
                            _sleb_far(line_delta))
                    if not zero_line_special:
                        if delta:
                            self._advance(out, delta)
                        append(1)  # DW_LNS_copy
                        line = r_line
                        continue
                    line_delta = 0
                line = r_line
                # Special opcode: line advance and address advance (in instructions) in one byte.
                opcode = line_delta - line_base + opcode_base + line_range * delta
                if opcode <= 255:
                    append(opcode)
                elif delta >= const_add and opcode - const_add_ops <= 255:
                    append(DW_LNS_const_add_pc)
                    append(opcode - const_add_ops)
                else:
                    base = line_delta - line_base + opcode_base
                    most = (255 - base) // line_range  # the largest advance a special opcode for this line_delta has
                    self._advance(out, delta - most)
                    append(base + line_range * most)

            first = last

        end = seq.end_address
        delta = end - address
        if delta < 0:
            raise self._error(seq, None, f"end {end:#x} lies before the last row at {address:#x}")
        if delta % min_len:
            raise self._error(seq, None, f"end {end:#x} is not a multiple of the minimum instruction length {min_len}")
        if padding:
            out += no_op_padding(padding)
        delta //= min_len
        if max_ops != 1:
            delta = delta * max_ops - op   # to op_index 0 of the end address
        if delta and delta == const_add:
            append(DW_LNS_const_add_pc)
        elif delta:
            self._advance(out, delta)
        out += _END_SEQUENCE
        return address_pos

    def _advance(self, out: bytearray, delta: int) -> None:
        """Advances the address by ``delta`` instructions with the smaller of advance_pc and fixed_advance_pc."""
        operand = _uleb(delta)
        fixed = delta * self.min_len
        if len(operand) > 2 and fixed <= 0xFFFF and self.max_ops == 1:   # fixed_advance_pc resets op_index
            out.append(DW_LNS_fixed_advance_pc)
            out += fixed.to_bytes(2, self.byteorder)  # type: ignore[arg-type]
        else:
            out.append(DW_LNS_advance_pc)
            out += operand


def no_op_padding(size: int) -> bytes:
    """``size`` bytes (not 1) of line-program opcodes that change nothing: ``DW_LNS_advance_pc 0``.

    The operand is a stretched ULEB128 zero, split into pieces of at most 8 bytes so that no reader sees an
    over-long LEB128. No single opcode is one byte long and changes nothing; :meth:`SequenceEncoder.encode` fills a
    1-byte gap by widening a length field instead.
    """
    if size == 1 or size < 0:
        raise ValueError(f"no line-program no-op is {size} byte(s) long")
    out = bytearray()
    while size:
        piece = min(size, 9)
        if size - piece == 1:
            piece -= 1  # never leave a 1-byte rest
        out.append(DW_LNS_advance_pc)
        out += uleb128_padded(0, piece - 1)
        size -= piece
    return bytes(out)
