"""``dwarfkit dump --debug-line`` text: one line table's prologue and rows in llvm-dwarfdump's layout."""
from __future__ import annotations

from typing import TextIO

from .lines import BASIC_BLOCK, END_SEQUENCE, EPILOGUE_BEGIN, IS_STMT, PROLOGUE_END, STANDARD_OPCODES, LineTable
from .text import escape


def dump_line_table(t: LineTable, out: TextIO) -> None:
    w = []
    w.append(f"debug_line[0x{t.offset:08x}]\nLine table prologue:\n")
    w.append(f"    total_length: 0x{t.unit_length:0{2 * t.offset_size}x}\n")
    w.append(f"          format: {'DWARF64' if t.offset_size == 8 else 'DWARF32'}\n")
    w.append(f"         version: {t.version}\n")
    if t.version >= 5:
        w.append(f"    address_size: {t.address_size}\n seg_select_size: {t.seg_select_size}\n")
    w.append(f" prologue_length: 0x{t.header_length:0{2 * t.offset_size}x}\n")
    w.append(f" min_inst_length: {t.min_inst_length}\nmax_ops_per_inst: {t.max_ops_per_inst}\n")
    w.append(f" default_is_stmt: {t.default_is_stmt}\n       line_base: {t.line_base}\n")
    w.append(f"      line_range: {t.line_range}\n     opcode_base: {t.opcode_base}\n")
    for i, n in enumerate(t.standard_opcode_lengths):
        name = STANDARD_OPCODES[i] if i < len(STANDARD_OPCODES) else f"DW_LNS_unknown_{i + 1:x}"
        w.append(f"standard_opcode_lengths[{name}] = {n}\n")
    first = 0 if t.version >= 5 else 1
    for i, d in enumerate(t.include_dirs, first):
        w.append(f'include_directories[{i:3}] = "{escape(d)}"\n')
    for i, f in enumerate(t.files, first):
        w.append(f"file_names[{i:3}]:\n           name: \"{escape(f.name)}\"\n      dir_index: {f.dir_index}\n")
        if t.has_md5 and f.md5 is not None:
            w.append(f"   md5_checksum: {f.md5.hex()}\n")
        if t.version < 5:
            w.append(f"       mod_time: 0x{f.mtime:08x}\n         length: 0x{f.length:08x}\n")
    w.append("\n")
    if t.rows:
        w.append("Address            Line   Column File   ISA Discriminator Flags\n"
                 "------------------ ------ ------ ------ --- ------------- -------------\n")
        for a, line, col, fi, isa, disc, flags in t.rows:
            w.append(f"0x{a:016x} {line:6} {col:6} {fi:6} {isa:3} {disc:13} "
                     + (" is_stmt" if flags & IS_STMT else "") + (" basic_block" if flags & BASIC_BLOCK else "")
                     + (" prologue_end" if flags & PROLOGUE_END else "")
                     + (" epilogue_begin" if flags & EPILOGUE_BEGIN else "")
                     + (" end_sequence" if flags & END_SEQUENCE else "") + "\n")
            if flags & END_SEQUENCE:
                w.append("\n")
    out.write("".join(w))
