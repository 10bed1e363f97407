"""A tiny program with hand-encoded DWARF 4, independent of the DWARF core, for container-level ELF tests.

It uses every relocation kind the core can emit: SECTION (abbrev offset, strp, stmt_list, aranges), UNIT (a type
reference by ref_addr), ENTRY (ref4), ADDRESS (low_pc, DW_OP_addr, set_address, .debug_frame) and PCREL (.eh_frame).

The program: ``_start`` calls ``add(20)``, which returns its argument plus 22; ``_start`` exits with that (42).
Source lines of the invented ``prog.c``: ``_start`` is lines 3-5, ``add`` lines 10-11; ``counter`` is a global int.
"""
from __future__ import annotations

import capstone
from elftools.dwarf.constants import (
    DW_CFA_advance_loc,
    DW_CFA_def_cfa,
    DW_CFA_def_cfa_offset,
    DW_CFA_nop,
    DW_CFA_offset,
    DW_CFA_restore,
    DW_CFA_undefined,
    DW_LNE_end_sequence,
    DW_LNE_set_address,
    DW_LNS_advance_line,
    DW_LNS_advance_pc,
    DW_LNS_copy,
)
from elftools.dwarf.dwarf_expr import DW_OP_name2opcode
from elftools.dwarf.enums import ENUM_DW_AT, ENUM_DW_ATE, ENUM_DW_FORM, ENUM_DW_LANG, ENUM_DW_TAG

from dwarfkit import (
    Arch,
    ContentSection,
    DwarfSections,
    Encoding,
    Image,
    Relocation,
    RelocKind,
    Section,
    SectionKind,
    Symbol,
    SymbolKind,
)
from dwarfkit.asm import encode
from dwarfkit.sections import RelocKind as Kind
from dwarfkit.strings import StringTable
from dwarfkit.writer import SectionWriter

SOURCE = "prog.c"
START_LINES = {"_start": 3, "add": 10}

_CODE = {
    Arch.X86_64: [
        ("_start", ["mov edi, 20", "call add", "mov edi, eax", "mov eax, 60", "syscall"], [3, 4, 5, 5, 5]),
        ("add", ["push rbp", "mov rbp, rsp", "lea eax, [rdi + 22]", "pop rbp", "ret"], [10, 10, 11, 11, 11]),
    ],
    Arch.AARCH64: [
        ("_start", ["mov x0, #20", "bl add", "mov x8, #93", "svc #0"], [3, 4, 5, 5]),
        ("add", ["str x29, [sp, #-16]!", "add x0, x0, #22", "ldr x29, [sp], #16", "ret"], [10, 11, 11, 11]),
    ],
}


def assemble_sample(arch: Arch) -> tuple[bytes, dict[str, tuple[int, int]], dict[str, list[tuple[int, int]]]]:
    """Code, function ranges, and (offset from the function, line) for every instruction."""
    functions = _CODE[arch]
    text = "\n".join(f"{name}:\n" + "\n".join(body) for name, body, _ in functions)
    code = encode(arch, text)
    cs = capstone.Cs(*((capstone.CS_ARCH_X86, capstone.CS_MODE_64) if arch is Arch.X86_64
                       else (capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)))
    starts = [i.address for i in cs.disasm(code, 0)] + [len(code)]
    ranges, rows, n = {}, {}, 0
    for name, body, lines in functions:
        first = starts[n]
        rows[name] = [(starts[n + i] - first, line) for i, line in enumerate(lines)]
        n += len(body)
        ranges[name] = (first, starts[n])
    assert n == len(starts) - 1
    return code, ranges, rows


def sample_image(arch: Arch, *, dwarf64: bool = False, eh_frame: bool = True) -> Image:
    code, ranges, rows = assemble_sample(arch)
    encoding = Encoding(version=4, offset_size=8 if dwarf64 else 4)
    image = Image(arch, entry="_start")
    image.sections = [
        ContentSection(".text", SectionKind.CODE, code),
        ContentSection(".data", SectionKind.DATA, bytes(16), alignment=8,
                       relocations=[Relocation(8, 8, Kind.ADDRESS, "add", 0)]),
        ContentSection(".bss", SectionKind.BSS, size=32),
    ]
    image.symbols = [Symbol(name, ".text", start, end - start) for name, (start, end) in ranges.items()]
    image.symbols += [Symbol("counter", ".data", 0, 4, SymbolKind.OBJECT),
                      Symbol("add_pointer", ".data", 8, 8, SymbolKind.OBJECT)]
    image.dwarf = describe(arch, encoding, ranges, rows, START_LINES, variables=["counter"], eh_frame=eh_frame)
    return image


def describe(arch: Arch, encoding: Encoding, ranges: dict[str, tuple[int, int]],
             rows: dict[str, list[tuple[int, int]]], decl_lines: dict[str, int], *, variables: list[str] = (),
             frames: bool = True, eh_frame: bool = True) -> DwarfSections:
    """DWARF for functions (name -> [start, end) in address order, addresses by symbol) and int variables.

    ``rows`` gives (offset in the function, line) per function; the outermost frame is ``_start``.
    """
    dwarf = DwarfSections(encoding)
    strings = StringTable()
    TAG, AT, FORM = ENUM_DW_TAG, ENUM_DW_AT, ENUM_DW_FORM
    abbrev = SectionWriter(".debug_abbrev", encoding)
    abbrevs = [
        (TAG["DW_TAG_compile_unit"], True, [("producer", "strp"), ("language", "data2"), ("name", "strp"),
                                             ("comp_dir", "strp"), ("low_pc", "addr"), ("high_pc", "data8"),
                                             ("stmt_list", "sec_offset")]),
        (TAG["DW_TAG_base_type"], False, [("name", "string"), ("encoding", "data1"), ("byte_size", "data1")]),
        (TAG["DW_TAG_subprogram"], False, [("external", "flag_present"), ("name", "strp"), ("decl_file", "data1"),
                                           ("decl_line", "data1"), ("type", "ref_addr"), ("low_pc", "addr"),
                                           ("high_pc", "data8"), ("frame_base", "exprloc")]),
        (TAG["DW_TAG_variable"], False, [("name", "strp"), ("type", "ref4"), ("external", "flag_present"),
                                         ("location", "exprloc")]),
    ]
    for code, (tag, children, attrs) in enumerate(abbrevs, start=1):
        abbrev.uleb(code)
        abbrev.uleb(tag)
        abbrev.u8(int(children))
        for at, form in attrs:
            abbrev.uleb(AT[f"DW_AT_{at}"])
            abbrev.uleb(FORM[f"DW_FORM_{form}"])
        abbrev.raw(b"\0\0")
    abbrev.u8(0)

    first = next(iter(ranges))
    text_start, text_end = ranges[first][0], max(end for _, end in ranges.values())
    info = SectionWriter(".debug_info", encoding)
    unit = info.begin_length()
    info.u16(encoding.version)
    info.offset_field(0, RelocKind.SECTION, ".debug_abbrev")
    info.u8(encoding.address_size)
    info.uleb(1)
    for text in ("dwarfkit handmade", None, SOURCE, "/tmp"):
        if text is None:
            info.u16(ENUM_DW_LANG["DW_LANG_C99"])
        else:
            info.offset_field(strings.add(text), RelocKind.SECTION, ".debug_str")
    info.address_field(first)
    info.u64(text_end - text_start)
    info.offset_field(0, RelocKind.SECTION, ".debug_line")
    int_offset = info.pos
    info.uleb(2)
    info.cstr("int")
    info.u8(ENUM_DW_ATE["DW_ATE_signed"])
    info.u8(4)
    for name, (start, end) in ranges.items():
        info.uleb(3)
        info.offset_field(strings.add(name), RelocKind.SECTION, ".debug_str")
        info.u8(1)
        info.u8(decl_lines[name])
        info.offset_field(int_offset, RelocKind.UNIT, ".debug_info")
        info.address_field(name)
        info.u64(end - start)
        info.uleb(1)
        info.u8(DW_OP_name2opcode["DW_OP_call_frame_cfa"])
    for variable in variables:
        info.uleb(4)
        info.offset_field(strings.add(variable), RelocKind.SECTION, ".debug_str")
        info.section.relocations.append(Relocation(info.pos, 4, RelocKind.ENTRY, ".debug_info", int_offset))
        info.u32(int_offset)
        info.uleb(9)
        info.u8(DW_OP_name2opcode["DW_OP_addr"])
        info.address_field(variable)
    info.u8(0)
    info.end_length(unit)

    for section in (abbrev.section, info.section, strings.to_section(), _line(encoding, ranges, rows),
                    _aranges(encoding, ranges)):
        dwarf.add(section)
    if frames:
        dwarf.add(_frames(arch, encoding, ranges, rows, eh=False))
    if frames and eh_frame:
        dwarf.add(_frames(arch, encoding, ranges, rows, eh=True))
    return dwarf


def _line(encoding: Encoding, ranges: dict[str, tuple[int, int]], rows: dict[str, list[tuple[int, int]]]) -> Section:
    w = SectionWriter(".debug_line", encoding)
    unit = w.begin_length()
    w.u16(4)
    header = w.pos
    w.uint(0, encoding.offset_size)
    body = w.pos
    w.raw(bytes([1, 1, 1, (-5) & 0xFF, 14, 13]))
    w.raw(bytes([0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]))
    w.u8(0)  # no include directories
    w.cstr(SOURCE)
    w.raw(b"\0\0\0")
    w.u8(0)
    w.patch_uint(header, w.pos - body, encoding.offset_size)
    for name, (start, end) in ranges.items():
        w.raw(bytes([0, 1 + encoding.address_size, DW_LNE_set_address]))
        w.address_field(name)
        line = 1
        previous = 0
        for offset, row_line in rows[name]:
            w.u8(DW_LNS_advance_pc)
            w.uleb(offset - previous)
            w.u8(DW_LNS_advance_line)
            w.sleb(row_line - line)
            w.u8(DW_LNS_copy)
            previous, line = offset, row_line
        w.u8(DW_LNS_advance_pc)
        w.uleb(end - start - previous)
        w.raw(bytes([0, 1, DW_LNE_end_sequence]))
    w.end_length(unit)
    return w.section


def _aranges(encoding: Encoding, ranges: dict[str, tuple[int, int]]) -> Section:
    w = SectionWriter(".debug_aranges", encoding)
    unit = w.begin_length()
    w.u16(2)
    w.offset_field(0, RelocKind.SECTION, ".debug_info")
    w.u8(encoding.address_size)
    w.u8(0)
    w.align(2 * encoding.address_size)
    for name, (start, end) in ranges.items():
        w.address_field(name)
        w.u64(end - start)
    w.u64(0)
    w.u64(0)
    w.end_length(unit)
    return w.section


def _frames(arch: Arch, encoding: Encoding, ranges: dict[str, tuple[int, int]],
            rows: dict[str, list[tuple[int, int]]], *, eh: bool) -> Section:
    """One CIE and an FDE per function: ``.eh_frame`` (PC-relative) or ``.debug_frame`` (absolute)."""
    x86 = arch is Arch.X86_64
    ra = arch.info.return_address_register
    w = SectionWriter(".eh_frame" if eh else ".debug_frame", Encoding(4, 4, 8) if eh else encoding)
    cie = w.pos
    length = w.begin_length()
    w.uint(0 if eh else (1 << (8 * w.encoding.offset_size)) - 1, w.encoding.offset_size)
    w.u8(1 if eh else 4)
    w.cstr("zR" if eh else "")
    if not eh:
        w.u8(8)  # address size
        w.u8(0)  # segment selector size
    w.uleb(arch.info.min_instruction_length)
    w.sleb(-8 if x86 else -4)
    w.uleb(ra)
    if eh:
        w.uleb(1)
        w.u8(0x1B)  # DW_EH_PE_pcrel | DW_EH_PE_sdata4
    if x86:  # at entry the CFA is rsp + 8 and the return address is at CFA - 8
        w.raw(bytes([DW_CFA_def_cfa, 7, 8, DW_CFA_offset | 16, 1]))
    else:  # at entry the CFA is sp and the return address is in x30
        w.raw(bytes([DW_CFA_def_cfa, 31, 0]))
    w.align(8, DW_CFA_nop)
    w.end_length(length)
    for name, (start, end) in ranges.items():
        fde = w.begin_length()
        if eh:
            w.u32(w.pos - cie)
            w.pcrel_field(name)
            w.u32(end - start)
            w.uleb(0)
        else:
            w.offset_field(cie, RelocKind.SECTION, ".debug_frame")
            w.address_field(name)
            w.u64(end - start)
        if name == "_start":  # the outermost frame: no caller to unwind to
            w.raw(bytes([DW_CFA_undefined, ra]))
        else:  # the frame pointer is saved by the first instruction and restored before the last
            unit = arch.info.min_instruction_length
            saved, restored = rows[name][1][0], rows[name][-1][0]
            w.raw(bytes([DW_CFA_advance_loc | saved // unit, DW_CFA_def_cfa_offset, 16,
                         DW_CFA_offset | arch.info.fp_register, 16 // (8 if x86 else 4),
                         DW_CFA_advance_loc | (restored - saved) // unit, DW_CFA_def_cfa_offset, 8 if x86 else 0,
                         DW_CFA_restore | arch.info.fp_register]))
        w.align(8, DW_CFA_nop)
        w.end_length(fde)
    if eh:
        w.u32(0)  # terminator
    return w.section
