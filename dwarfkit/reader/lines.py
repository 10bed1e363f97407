"""Line-number programs (``.debug_line``), versions 2-5: the header, file names and the rows the program makes."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..encoding import decode_initial_length
from ..encoding import decode_sleb128 as sleb
from ..encoding import decode_uleb128 as uleb
from .debugfile import ByteOrder
from .forms import F
from .units import cstring

DW_LNCT_path, DW_LNCT_directory_index, DW_LNCT_timestamp, DW_LNCT_size, DW_LNCT_MD5 = 1, 2, 3, 4, 5
# Row flags
IS_STMT, BASIC_BLOCK, END_SEQUENCE, PROLOGUE_END, EPILOGUE_BEGIN = 1, 2, 4, 8, 16
STANDARD_OPCODES = ["DW_LNS_copy", "DW_LNS_advance_pc", "DW_LNS_advance_line", "DW_LNS_set_file",
                    "DW_LNS_set_column", "DW_LNS_negate_stmt", "DW_LNS_set_basic_block", "DW_LNS_const_add_pc",
                    "DW_LNS_fixed_advance_pc", "DW_LNS_set_prologue_end", "DW_LNS_set_epilogue_begin",
                    "DW_LNS_set_isa"]


@dataclass
class FileEntry:
    name: str
    dir_index: int = 0
    mtime: int = 0
    length: int = 0
    md5: bytes | None = None


@dataclass
class LineTable:
    offset: int
    unit_length: int = 0
    offset_size: int = 4
    version: int = 0
    address_size: int | None = None
    seg_select_size: int = 0
    header_length: int = 0
    min_inst_length: int = 1
    max_ops_per_inst: int = 1
    default_is_stmt: int = 1
    line_base: int = 0
    line_range: int = 0
    opcode_base: int = 0
    standard_opcode_lengths: list[int] = field(default_factory=list)
    include_dirs: list[str] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    """(address, line, column, file, isa, discriminator, flags), flags a mask of IS_STMT... END_SEQUENCE."""
    end: int = 0
    program: int = 0
    """Where the line-number program (the opcodes after the header) starts."""
    problems: list[str] = field(default_factory=list)
    has_md5: bool = False
    tables_end: int | None = None
    """Where the directory and file tables ended (DWARF 2-4: where header_length should put the program)."""
    address_fields: list[tuple[int, int]] = field(default_factory=list)
    """``(row index, offset in .debug_line)`` of each DW_LNE_set_address operand: the rows from that index on count
    from that address (the loader looks up an object's relocation there)."""

    def file_path(self, index: int, comp_dir: str) -> str | None:
        """The absolute path of file ``index``, as llvm-dwarfdump resolves DW_AT_decl_file."""
        if self.version >= 5:
            if not 0 <= index < len(self.files):
                return None
            entry = self.files[index]
        else:
            if not 1 <= index <= len(self.files):
                return None
            entry = self.files[index - 1]
        name = entry.name
        if _absolute(name):
            return name
        include = ""
        if self.version >= 5:
            if entry.dir_index < len(self.include_dirs):
                include = self.include_dirs[entry.dir_index]
        elif 0 < entry.dir_index <= len(self.include_dirs):
            include = self.include_dirs[entry.dir_index - 1]
        parts = []
        if comp_dir and not _absolute(include) and (self.version < 5 or entry.dir_index != 0):
            parts.append(comp_dir)
        parts += [include, name]
        return _join(parts)


def _absolute(path: str) -> bool:
    return path.startswith("/") or path.startswith("\\") or (len(path) > 2 and path[1] == ":" and path[2] in "/\\")


def _join(parts: list[str]) -> str:
    out = ""
    for p in parts:
        if not p:
            continue
        if _absolute(p) and p.startswith("/"):
            out = p
        elif out and not out.endswith(("/", "\\")):
            out += "/" + p
        else:
            out += p
    return out


def parse_line_table(data: bytes, offset: int, order: ByteOrder, address_size: int, strings: bytes, line_strings: bytes,
                     rows: bool = True) -> LineTable:
    """Decode the table at ``offset``. Problems are listed in ``problems``; what decodes is kept."""
    t = LineTable(offset)
    e = "<" if order == "little" else ">"
    where = f".debug_line[0x{offset:x}]"
    try:
        off = offset
        if len(data) < offset + 4:
            raise IndexError
        length, t.offset_size, off = decode_initial_length(data, off, order)
        t.unit_length = length
        t.end = off + length
        if t.end > len(data):
            t.problems.append(f"{where}: table length 0x{length:x} runs past the end of the section (0x{len(data):x})")
            t.end = len(data)
        end = t.end
        t.version = struct.unpack_from(e + "H", data, off)[0]
        off += 2
        if t.version not in (2, 3, 4, 5):
            t.problems.append(f"{where}: line table version {t.version} is not 2, 3, 4 or 5")
            return t
        if t.version >= 5:
            t.address_size, t.seg_select_size = data[off], data[off + 1]
            off += 2
        osz = "I" if t.offset_size == 4 else "Q"
        t.header_length = struct.unpack_from(e + osz, data, off)[0]
        off += t.offset_size
        program = t.program = off + t.header_length
        if program > end:
            t.problems.append(f"{where}: header length 0x{t.header_length:x} runs past the end of the table")
            return t
        t.min_inst_length = data[off]
        off += 1
        if t.version >= 4:
            t.max_ops_per_inst = data[off]
            off += 1
        t.default_is_stmt = data[off]
        t.line_base = struct.unpack_from("b", data, off + 1)[0]
        t.line_range = data[off + 2]
        t.opcode_base = data[off + 3]
        off += 4
        t.standard_opcode_lengths = list(data[off:off + max(0, t.opcode_base - 1)])
        off += max(0, t.opcode_base - 1)
        if t.version >= 5:
            off = _v5_entries(t, data, off, program, order, strings, line_strings, dirs=True)
            off = _v5_entries(t, data, off, program, order, strings, line_strings, dirs=False)
        else:
            while off < program and data[off] != 0:
                nul = data.index(0, off)
                t.include_dirs.append(data[off:nul].decode("utf-8", "surrogateescape"))
                off = nul + 1
            off += 1
            while off < program and data[off] != 0:
                nul = data.index(0, off)
                name = data[off:nul].decode("utf-8", "surrogateescape")
                off = nul + 1
                d, off = uleb(data, off)
                m, off = uleb(data, off)
                n, off = uleb(data, off)
                t.files.append(FileEntry(name, d, m, n))
            t.tables_end = off + 1 if off < program else off
        if rows:
            _run(t, data, program, end, order, address_size if t.address_size is None else t.address_size)
    except (IndexError, ValueError, struct.error):
        t.problems.append(f"{where}: table is truncated")
    return t


def _v5_entries(t: LineTable, data: bytes, off: int, limit: int, order: ByteOrder, strings: bytes, line_strings: bytes,
                dirs: bool) -> int:
    count = data[off]
    off += 1
    formats = []
    for _ in range(count):
        ct, off = uleb(data, off)
        form, off = uleb(data, off)
        formats.append((ct, form))
    n, off = uleb(data, off)
    # Each entry takes at least one byte per format: bound the count by what the header can hold.
    if n > limit - off:
        raise IndexError
    for _ in range(n):
        entry = FileEntry("")
        for ct, form in formats:
            value, off = _form_value(data, off, form, order, t.offset_size)
            if ct == DW_LNCT_path:
                if isinstance(value, bytes):
                    if form == F["string"]:
                        entry.name = value.decode("utf-8", "surrogateescape")
                elif form == F["line_strp"]:
                    entry.name = cstring(line_strings, value) or ""
                elif form == F["strp"]:
                    entry.name = cstring(strings, value) or ""
            elif ct == DW_LNCT_directory_index:
                entry.dir_index = value if isinstance(value, int) else 0
                if not isinstance(value, int):
                    t.problems.append(f".debug_line[0x{t.offset:x}]: DW_LNCT_directory_index in form 0x{form:x} "
                                      "is not a number")
            elif ct == DW_LNCT_timestamp:
                entry.mtime = value if isinstance(value, int) else 0
            elif ct == DW_LNCT_size:
                entry.length = value if isinstance(value, int) else 0
            elif ct == DW_LNCT_MD5:
                # DWARF 5 says data16; anything else cannot be printed as a checksum
                entry.md5 = value if isinstance(value, bytes) and len(value) == 16 else None
                t.has_md5 = True
                if entry.md5 is None:
                    t.problems.append(f".debug_line[0x{t.offset:x}]: DW_LNCT_MD5 in form 0x{form:x} is not 16 bytes")
        if dirs:
            t.include_dirs.append(entry.name)
        else:
            t.files.append(entry)
    return off


def _form_value(data: bytes, off: int, form: int, order: ByteOrder, offset_size: int) -> tuple[int | bytes, int]:
    fixed = {F["data1"]: 1, F["data2"]: 2, F["data4"]: 4, F["data8"]: 8, F["strx1"]: 1, F["strx2"]: 2,
             F["strx4"]: 4}
    if form in fixed:
        n = fixed[form]
        if off + n > len(data):
            raise IndexError
        return int.from_bytes(data[off:off + n], order), off + n
    if form in (F["udata"], F["strx"]):
        return uleb(data, off)
    if form in (F["strp"], F["line_strp"], F["sec_offset"]):
        if off + offset_size > len(data):
            raise IndexError
        return int.from_bytes(data[off:off + offset_size], order), off + offset_size
    if form == F["string"]:
        nul = data.index(0, off)
        return data[off:nul], nul + 1
    if form == F["data16"]:
        if off + 16 > len(data):
            raise IndexError
        return data[off:off + 16], off + 16
    if form == F["block"]:
        n, off = uleb(data, off)
        if off + n > len(data):
            raise IndexError
        return data[off:off + n], off + n
    raise ValueError(f"form 0x{form:x} in a line table header")


def _run(t: LineTable, data: bytes, off: int, end: int, order: ByteOrder, address_size: int) -> None:
    rows = t.rows
    base, lrange, opbase, mil = t.line_base, t.line_range, t.opcode_base, t.min_inst_length
    lengths = t.standard_opcode_lengths
    where = f".debug_line[0x{t.offset:x}]"
    default_stmt = IS_STMT if t.default_is_stmt else 0

    def reset() -> tuple[int, int, int, int, int, int, int]:
        return 0, 1, 1, 0, 0, 0, default_stmt

    address, file, line, column, isa, disc, flags = 0, 1, 1, 0, 0, 0, default_stmt
    sequence_open = False
    while off < end:
        op = data[off]
        off += 1
        if op >= opbase:
            if lrange == 0:
                t.problems.append(f"{where}: special opcode at 0x{off - 1:x} with line_range 0")
                return
            adj = op - opbase
            address += (adj // lrange) * mil
            line += base + adj % lrange
            rows.append((address, line, column, file, isa, disc, flags))
            sequence_open = True
            flags &= IS_STMT
            disc = 0
        elif op == 0:
            n, off = uleb(data, off)
            if n == 0:
                continue
            sub_end = off + n
            if sub_end > end:
                t.problems.append(f"{where}: extended opcode at 0x{off:x} runs past the end of the table")
                return
            sub = data[off]
            if sub == 1:
                rows.append((address, line, column, file, isa, disc, flags | END_SEQUENCE))
                address, file, line, column, isa, disc, flags = 0, 1, 1, 0, 0, 0, default_stmt
                sequence_open = False
            elif sub == 2:
                size = n - 1
                t.address_fields.append((len(rows), off + 1))
                address = int.from_bytes(data[off + 1:sub_end], order)
                if size != address_size and address_size:
                    t.problems.append(f"{where}: DW_LNE_set_address at 0x{off:x} has a {size}-byte operand, "
                                      f"the address size is {address_size}")
            elif sub == 3:
                nul = data.index(0, off + 1)
                name = data[off + 1:nul].decode("utf-8", "surrogateescape")
                p = nul + 1
                d, p = uleb(data, p)
                m, p = uleb(data, p)
                ln, p = uleb(data, p)
                t.files.append(FileEntry(name, d, m, ln))
            elif sub == 4:
                disc, _ = uleb(data, off + 1)
            off = sub_end
        elif op == 1:
            rows.append((address, line, column, file, isa, disc, flags))
            sequence_open = True
            flags &= IS_STMT
            disc = 0
        elif op == 2:
            v, off = uleb(data, off)
            address += v * mil
        elif op == 3:
            v, off = sleb(data, off)
            line += v
        elif op == 4:
            file, off = uleb(data, off)
        elif op == 5:
            column, off = uleb(data, off)
        elif op == 6:
            flags ^= IS_STMT
        elif op == 7:
            flags |= BASIC_BLOCK
        elif op == 8:
            if lrange:
                address += ((255 - opbase) // lrange) * mil
        elif op == 9:
            if off + 2 > end:
                raise IndexError
            address += int.from_bytes(data[off:off + 2], order)
            off += 2
        elif op == 10:
            flags |= PROLOGUE_END
        elif op == 11:
            flags |= EPILOGUE_BEGIN
        elif op == 12:
            isa, off = uleb(data, off)
        else:
            for _ in range(lengths[op - 1] if op - 1 < len(lengths) else 0):
                _v, off = uleb(data, off)
        address &= (1 << 64) - 1
    if sequence_open:
        t.problems.append(f"{where}: last sequence is not terminated by DW_LNE_end_sequence")
