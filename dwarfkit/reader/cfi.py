"""Call-frame information (``.debug_frame``, ``.eh_frame``): CIEs, FDEs, their instructions and the unwind rows
they produce, printed as llvm-dwarfdump prints them."""
from __future__ import annotations

from typing import Any, TextIO

from ..encoding import decode_initial_length
from ..encoding import decode_sleb128 as sleb
from ..encoding import decode_uleb128 as uleb
from .debugfile import ByteOrder
from .errors_text import where
from .expr import REGISTERS, format_expr

# Operand kinds: R register, F factored code offset, O offset (%+d), U unsigned factored data offset,
# S signed factored data offset, A address, E expression.
_OPS = {0x00: ("DW_CFA_nop", ""), 0x01: ("DW_CFA_set_loc", "A"), 0x02: ("DW_CFA_advance_loc1", "F"),
        0x03: ("DW_CFA_advance_loc2", "F"), 0x04: ("DW_CFA_advance_loc4", "F"),
        0x05: ("DW_CFA_offset_extended", "RU"), 0x06: ("DW_CFA_restore_extended", "R"),
        0x07: ("DW_CFA_undefined", "R"), 0x08: ("DW_CFA_same_value", "R"), 0x09: ("DW_CFA_register", "RR"),
        0x0a: ("DW_CFA_remember_state", ""), 0x0b: ("DW_CFA_restore_state", ""), 0x0c: ("DW_CFA_def_cfa", "RO"),
        0x0d: ("DW_CFA_def_cfa_register", "R"), 0x0e: ("DW_CFA_def_cfa_offset", "O"),
        0x0f: ("DW_CFA_def_cfa_expression", "E"), 0x10: ("DW_CFA_expression", "RE"),
        0x11: ("DW_CFA_offset_extended_sf", "RS"), 0x12: ("DW_CFA_def_cfa_sf", "RS"),
        0x13: ("DW_CFA_def_cfa_offset_sf", "S"), 0x14: ("DW_CFA_val_offset", "RU"),
        0x15: ("DW_CFA_val_offset_sf", "RS"), 0x16: ("DW_CFA_val_expression", "RE"),
        0x2e: ("DW_CFA_GNU_args_size", "O"), 0x2f: ("DW_CFA_GNU_negative_offset_extended", "RU")}
MAX_STATE_STACK = 1024

# A parsed CIE: its header fields by name (version, aug, code_align, data_align, ra, fde_enc, instructions, ...).
Cie = dict[str, Any]
# One CFA instruction: its name, its operand kinds (see _OPS), its operands: ints, or bytes for an expression ("E").
Instruction = tuple[str, str, list[Any]]
# An unwind row: address (None before the first), CFA rule (("reg", register, offset) or ("expr", bytes)), and
# the register rules as text.
Cfa = tuple[Any, ...] | None
Row = tuple[int | None, Cfa, dict[int, str]]


class CfiError(Exception):
    pass


def _pointer(data: bytes, off: int, enc: int, order: ByteOrder, address_size: int,
             section_address: int) -> tuple[int | None, int]:
    """A DW_EH_PE-encoded pointer: (value, offset after it); None for DW_EH_PE_omit."""
    if enc == 0xFF:
        return None, off
    start = off
    fmt = enc & 0x0F
    if fmt == 0x00:
        size = address_size
        value = int.from_bytes(data[off:off + size], order)
        off += size
    elif fmt == 0x01:
        value, off = uleb(data, off)
    elif fmt == 0x09:
        value, off = sleb(data, off)
    elif fmt in (0x02, 0x03, 0x04, 0x0A, 0x0B, 0x0C):
        size = {0x02: 2, 0x03: 4, 0x04: 8, 0x0A: 2, 0x0B: 4, 0x0C: 8}[fmt]
        if off + size > len(data):
            raise IndexError
        value = int.from_bytes(data[off:off + size], order, signed=fmt >= 0x0A)
        off += size
    else:
        raise CfiError(f"pointer encoding 0x{enc:02x} is not supported")
    if enc & 0x70 == 0x10:  # pcrel
        value += section_address + start
    return value & ((1 << 64) - 1), off


class FrameDumper:
    def __init__(self, data: bytes, is_eh: bool, order: ByteOrder, address_size: int, arch: str, section_address: int,
                 name: str):
        self.data, self.is_eh, self.order, self.asz = data, is_eh, order, address_size
        self.regs = REGISTERS.get(arch, {})
        self.arch = arch
        self.base = section_address
        self.name = name
        self.cies: dict[int, Cie] = {}
        self.problems: list[str] = []

    def reg(self, n: int) -> str:
        return self.regs.get(n, f"reg{n}")

    def dump(self, out: TextIO) -> list[str]:
        data, order = self.data, self.order
        off = 0
        w = out.write
        while off < len(data):
            start = off
            try:
                if off + 4 > len(data):
                    raise IndexError
                length, offset_size, off = decode_initial_length(data, off, order)
                dwarf64 = offset_size == 8
                if length == 0:
                    w(f"{start:08x} ZERO terminator\n")
                    continue
                end = off + length
                if end > len(data):
                    self.problems.append(where(self.name, start, f"entry length 0x{length:x} runs past the end "
                                                                 f"of the section (0x{len(data):x})"))
                    return self.problems
                idsize = 8 if dwarf64 else 4
                id_off = off
                cie_id = int.from_bytes(data[off:off + idsize], order)
                off += idsize
                is_cie = cie_id == 0 if self.is_eh else cie_id == (1 << (8 * idsize)) - 1
                lw = 16 if dwarf64 else 8
                iw = 16 if dwarf64 and not self.is_eh else 8
                if is_cie:
                    self.cie(out, start, length, cie_id, off, end, dwarf64, lw, iw)
                else:
                    cie_at = id_off - cie_id if self.is_eh else cie_id
                    self.fde(out, start, length, cie_id, cie_at, off, end, dwarf64, lw, iw)
                off = end
            except (IndexError, CfiError, ValueError) as e:
                self.problems.append(where(self.name, start, f"entry is malformed{': ' + str(e) if str(e) else ''}"))
                return self.problems
        return self.problems

    def parse_cie(self, start: int) -> Cie | None:
        """The CIE at ``start`` (cached), or None when no CIE starts there. FDEs may name CIEs after them."""
        if start in self.cies:
            return self.cies[start]
        data, order = self.data, self.order
        if start < 0 or start + 4 > len(data):
            return None
        length, offset_size, off = decode_initial_length(data, start, order)
        dwarf64 = offset_size == 8
        end = off + length
        idsize = 8 if dwarf64 else 4
        if length == 0 or end > len(data):
            return None
        cie_id = int.from_bytes(data[off:off + idsize], order)
        if cie_id != (0 if self.is_eh else (1 << (8 * idsize)) - 1):
            return None
        off += idsize
        version = data[off]
        off += 1
        nul = data.index(0, off, end)
        aug = data[off:nul].decode("latin-1")
        off = nul + 1
        asz, seg = self.asz, 0
        if version >= 4:
            asz, seg = data[off], data[off + 1]
            off += 2
        code_align, off = uleb(data, off)
        data_align, off = sleb(data, off)
        if version == 1:
            ra = data[off]
            off += 1
        else:
            ra, off = uleb(data, off)
        aug_data = b""
        fde_enc, lsda_enc, personality = 0x00, 0xFF, None
        if aug.startswith("z"):
            n, off = uleb(data, off)
            aug_data = data[off:off + n]
            p = off
            off += n
            for c in aug[1:]:
                if c == "R":
                    fde_enc = data[p]
                    p += 1
                elif c == "L":
                    lsda_enc = data[p]
                    p += 1
                elif c == "P":
                    personality, p = _pointer(data, p + 1, data[p], self.order, self.asz, self.base)
        cie = {"start": start, "length": length, "id": cie_id, "dwarf64": dwarf64, "version": version,
               "aug": aug, "asz": asz, "seg": seg, "code_align": code_align, "data_align": data_align, "ra": ra,
               "aug_data": aug_data, "fde_enc": fde_enc, "lsda_enc": lsda_enc, "personality": personality,
               "instructions": (off, end)}
        self.cies[start] = cie
        return cie

    def cie(self, out: TextIO, start: int, length: int, cie_id: int, off: int, end: int, dwarf64: bool, lw: int,
            iw: int) -> None:
        cie = self.parse_cie(start)
        if cie is None:
            raise CfiError("CIE header is malformed")
        w = out.write
        fmt = "DWARF64" if dwarf64 else "DWARF32"
        w(f"{start:08x} {length:0{lw}x} {cie_id:0{iw}x} CIE\n  Format:                {fmt}\n")
        if self.is_eh and cie["version"] != 1:
            w("WARNING: unsupported CIE version\n")
        w(f"  Version:               {cie['version']}\n  Augmentation:          \"{cie['aug']}\"\n")
        if cie["version"] >= 4:
            w(f"  Address size:          {cie['asz']}\n  Segment desc size:     {cie['seg']}\n")
        w(f"  Code alignment factor: {cie['code_align']}\n  Data alignment factor: {cie['data_align']}\n"
          f"  Return address column: {cie['ra']}\n")
        if cie["personality"] is not None:
            w(f"  Personality Address: {cie['personality']:016x}\n")
        if cie["aug_data"]:
            w("  Augmentation data:    " + "".join(f" {b:02X}" for b in cie["aug_data"]) + "\n")
        w("\n")
        first, insns_end = cie["instructions"]
        insns = self.instructions(first, insns_end, cie)
        self.print_instructions(out, insns, cie)
        w("\n")
        rows, _state = self.rows(insns, cie, None, None)
        for row in rows:
            w("  " + self.row_text(row) + "\n")
        w("\n")

    def fde(self, out: TextIO, start: int, length: int, cie_field: int, cie_at: int, off: int, end: int,
            dwarf64: bool, lw: int, iw: int) -> None:
        cie = self.parse_cie(cie_at)
        w = out.write
        data = self.data
        if cie is None:
            self.problems.append(where(self.name, start, f"FDE names a CIE at 0x{cie_at:x}, where there is none"))
            size = self.asz
            pc = int.from_bytes(data[off:off + size], self.order)
            rng = int.from_bytes(data[off + size:off + 2 * size], self.order)
            w(f"{start:08x} {length:0{lw}x} {cie_field:0{iw}x} FDE cie=<invalid offset> "
              f"pc={pc:08x}...{pc + rng:08x}\n  Format:       {'DWARF64' if dwarf64 else 'DWARF32'}\n")
            unknown = {"code_align": None, "data_align": None, "asz": size}
            self.print_instructions(out, self.instructions(off + 2 * size, end, unknown), unknown)
            w("\n\n")
            return
        if self.is_eh:
            enc = cie["fde_enc"]
            start_pc, off = _pointer(data, off, enc, self.order, self.asz, self.base)
            pc_range, off = _pointer(data, off, enc & 0x0F, self.order, self.asz, self.base)
            if start_pc is None or pc_range is None:  # a CIE whose FDE encoding is DW_EH_PE_omit
                raise CfiError("the FDE's address is omitted (pointer encoding 0xff)")
            pc, rng = start_pc, pc_range
        else:
            size = cie["asz"]
            pc = int.from_bytes(data[off:off + size], self.order)
            rng = int.from_bytes(data[off + size:off + 2 * size], self.order)
            off += 2 * size
        lsda = None
        if cie["aug"].startswith("z"):
            n, p = uleb(data, off)
            if cie["lsda_enc"] != 0xFF and n:
                lsda, _ = _pointer(data, p, cie["lsda_enc"], self.order, self.asz, self.base)
            off = p + n
        w(f"{start:08x} {length:0{lw}x} {cie_field:0{iw}x} FDE cie={cie_at:08x} pc={pc:08x}...{pc + rng:08x}\n"
          f"  Format:       {'DWARF64' if dwarf64 else 'DWARF32'}\n")
        if lsda is not None:
            w(f"  LSDA Address: {lsda:016x}\n")
        insns = self.instructions(off, end, cie)
        self.print_instructions(out, insns, cie)
        w("\n")
        first, cie_end = cie["instructions"]
        cie_insns = self.instructions(first, cie_end, cie)
        _rows, initial = self.rows(cie_insns, cie, None, None)
        rows, _ = self.rows(insns, cie, pc, initial)
        for row in rows:
            w("  " + self.row_text(row) + "\n")
        w("\n")

    def instructions(self, off: int, end: int, cie: dict[str, Any]) -> list[Instruction]:
        data = self.data
        out: list[Instruction] = []
        v: int | bytes
        while off < end:
            op = data[off]
            off += 1
            high = op & 0xC0
            if high == 0x40:
                out.append(("DW_CFA_advance_loc", "F", [op & 0x3F]))
                continue
            if high == 0x80:
                v, off = uleb(data, off)
                out.append(("DW_CFA_offset", "RU", [op & 0x3F, v]))
                continue
            if high == 0xC0:
                out.append(("DW_CFA_restore", "R", [op & 0x3F]))
                continue
            if op not in _OPS:
                raise CfiError(f"unknown call frame instruction 0x{op:02x}")
            name, kinds = _OPS[op]
            values: list[Any] = []
            for k in kinds:
                if k in "RUO":
                    v, off = uleb(data, off)
                elif k == "S":
                    v, off = sleb(data, off)
                elif k == "F":
                    size = {0x02: 1, 0x03: 2, 0x04: 4}[op]
                    if off + size > end:
                        raise IndexError
                    v = int.from_bytes(data[off:off + size], self.order)
                    off += size
                elif k == "A":
                    v = int.from_bytes(data[off:off + cie["asz"]], self.order)
                    off += cie["asz"]
                elif k == "E":
                    n, off = uleb(data, off)
                    block = data[off:off + n]
                    if len(block) != n:
                        raise IndexError
                    v = block
                    off += n
                values.append(v)
            out.append((name, kinds, values))
        return out

    def print_instructions(self, out: TextIO, insns: list[Instruction], cie: Cie) -> None:
        ca, da = cie["code_align"], cie["data_align"]
        for name, kinds, values in insns:
            parts = [f"  {name}:"]
            for k, v in zip(kinds, values, strict=True):
                if k == "R":
                    parts.append(" " + self.reg(v))
                elif k == "F":
                    parts.append(f" {v * ca}" if ca is not None else f" {v}*code_alignment_factor")
                elif k == "O":
                    parts.append(f" {v:+d}")
                elif k in "US":
                    parts.append(f" {v * da}" if da is not None else f" {v}*data_alignment_factor")
                elif k == "A":
                    parts.append(f" 0x{v:x}")
                elif k == "E":
                    parts.append(" " + format_expr(v, self.arch, self.asz, 4, self.order))
            out.write("".join(parts) + "\n")

    def rows(self, insns: list[Instruction], cie: Cie, address: int | None,
             initial: tuple[Cfa, dict[int, str]] | None) -> tuple[list[Row], tuple[Cfa, dict[int, str]]]:
        """Run the instructions: the rows llvm-dwarfdump prints (one per address advance, then the last)."""
        ca, da = cie["code_align"], cie["data_align"]
        cfa, regs = (initial[0], dict(initial[1])) if initial else (None, {})
        stack: list = []
        rows = []
        for name, _kinds, v in insns:
            if name.startswith("DW_CFA_advance_loc") or name == "DW_CFA_set_loc":
                rows.append((address, cfa, dict(regs)))
                address = v[0] if name == "DW_CFA_set_loc" else (address or 0) + v[0] * ca
            elif name == "DW_CFA_def_cfa":
                cfa = ("reg", v[0], v[1])
            elif name in ("DW_CFA_def_cfa_sf",):
                cfa = ("reg", v[0], v[1] * da)
            elif name == "DW_CFA_def_cfa_register":
                cfa = ("reg", v[0], cfa[2] if cfa and cfa[0] == "reg" else 0)
            elif name == "DW_CFA_def_cfa_offset":
                cfa = ("reg", cfa[1] if cfa and cfa[0] == "reg" else 0, v[0])
            elif name == "DW_CFA_def_cfa_offset_sf":
                cfa = ("reg", cfa[1] if cfa and cfa[0] == "reg" else 0, v[0] * da)
            elif name == "DW_CFA_def_cfa_expression":
                cfa = ("expr", v[0])
            elif name in ("DW_CFA_offset", "DW_CFA_offset_extended", "DW_CFA_offset_extended_sf"):
                regs[v[0]] = f"[CFA{_signed(v[1] * da)}]"
            elif name in ("DW_CFA_val_offset", "DW_CFA_val_offset_sf"):
                regs[v[0]] = f"CFA{_signed(v[1] * da)}"
            elif name in ("DW_CFA_restore", "DW_CFA_restore_extended"):
                if initial and v[0] in initial[1]:
                    regs[v[0]] = initial[1][v[0]]
                else:
                    regs.pop(v[0], None)
            elif name == "DW_CFA_undefined":
                regs[v[0]] = "undefined"
            elif name == "DW_CFA_same_value":
                regs[v[0]] = "same"
            elif name == "DW_CFA_register":
                regs[v[0]] = self.reg(v[1])
            elif name in ("DW_CFA_expression", "DW_CFA_val_expression"):
                text = format_expr(v[1], self.arch, self.asz, 4, self.order)
                regs[v[0]] = f"[{text}]" if name == "DW_CFA_expression" else text
            elif name == "DW_CFA_remember_state":
                if len(stack) < MAX_STATE_STACK:
                    stack.append((cfa, dict(regs)))
            elif name == "DW_CFA_restore_state":
                if stack:
                    cfa, regs = stack.pop()
        if cfa is not None or regs:
            rows.append((address, cfa, dict(regs)))
        return rows, (cfa, regs)

    def row_text(self, row: Row) -> str:
        address, cfa, regs = row
        s = f"0x{address:x}: " if address is not None else ""
        if cfa is None:
            s += "CFA=unspecified"
        elif cfa[0] == "expr":
            s += "CFA=" + format_expr(cfa[1], self.arch, self.asz, 4, self.order)
        else:
            s += f"CFA={self.reg(cfa[1])}" + (_signed(cfa[2]) if cfa[2] else "")
        if regs:
            s += ": " + ", ".join(f"{self.reg(r)}={regs[r]}" for r in sorted(regs))
        return s


def _signed(v: int) -> str:
    return f"{v:+d}" if v else ""
