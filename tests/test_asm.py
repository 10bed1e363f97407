"""dwarfkit.asm: keystone-assembled functions, label offsets and instruction starts, judged by GNU objdump."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from freed_heap import fill_freed_heap

from dwarfkit import Arch, DescriptionError, Encoding
from dwarfkit.asm import assemble, check_instruction_starts, check_line_program, encode, radix_free
from dwarfkit.line import LineProgram

X86_FUNCTIONS = [
    ("f", """
        push rbp
        mov rbp, rsp
    loop:                       # the same local label name as in g
        dec rdi
        jnz loop
        call g
        test rax, rax
        je done
        """ + "add rax, 0x12345678\n" * 40 + """
    done:
        pop rbp
        ret
    """),
    ("g", """
        xor eax, eax
    loop: inc rax
        cmp rax, 10
        jb loop
        ret
    """),
]

A64_FUNCTIONS = [
    ("f", """
        stp x29, x30, [sp, #-16]!   // frame record
        mov x29, sp
    loop:
        subs x0, x0, #1
        b.ne loop
        bl g
        ldp x29, x30, [sp], #16
        ret
    """),
    ("g", """
        mov x0, #42
        ret
    """),
]


def objdump(arch: Arch, code: bytes, tmp_path) -> dict[int, str]:
    """offset -> disassembly text, from GNU objdump over the raw bytes."""
    tool, machine = (("objdump", "i386:x86-64") if arch is Arch.X86_64 else ("aarch64-linux-gnu-objdump", "aarch64"))
    path = tmp_path / "code.bin"
    path.write_bytes(code)
    args = [require_tool(tool), "-D", "-b", "binary", "-m", machine, str(path)]
    if arch is Arch.X86_64:
        args[2:2] = ["-M", "intel"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    # A long x86 instruction continues its bytes on a line with no text, which this skips.
    return {int(m.group(1), 16): re.split(r"\s*//", m.group(2))[0].strip()  # without objdump's comments
            for m in re.finditer(r"^\s*([0-9a-f]+):\t[^\t\n]+\t(.*)$", out, re.M)}



def test_x86_64_layout_labels_and_instruction_starts(tmp_path):
    asm = assemble(Arch.X86_64, X86_FUNCTIONS)
    listing = objdump(Arch.X86_64, asm.code, tmp_path)
    assert asm.instruction_starts == sorted(listing)
    f_start, f_end = asm.functions["f"]
    g_start, g_end = asm.functions["g"]
    assert f_start == 0 and g_start % 16 == 0 and f_end <= g_start < f_end + 16
    assert g_end == len(asm.code)
    assert all(listing[o] == "int3" for o in asm.instruction_starts if f_end <= o < g_start)
    # Branches land on the labels we report (objdump prints the target address).
    texts = [listing[o] for o in asm.instruction_starts]
    jnz = next(t for t in texts if t.startswith("jne"))
    assert int(jnz.split()[-1], 16) == asm.labels["f.loop"] == 4
    call = next(t for t in texts if t.startswith("call"))
    assert int(call.split()[-1], 16) == asm.labels["g"] == g_start
    je = next(t for t in texts if t.startswith("je"))
    assert int(je.split()[-1], 16) == asm.labels["f.done"] == f_end - 2  # pop rbp; ret
    jb = next(t for t in texts if t.startswith("jb"))
    assert int(jb.split()[-1], 16) == asm.labels["g.loop"] == g_start + 2
    assert "loop" not in asm.labels and asm.labels["done"] == asm.labels["f.done"]  # bare only when unique


def test_aarch64_layout_labels_and_instruction_starts(tmp_path):
    asm = assemble(Arch.AARCH64, A64_FUNCTIONS, align=16)
    listing = objdump(Arch.AARCH64, asm.code, tmp_path)
    assert asm.instruction_starts == sorted(listing) == list(range(0, len(asm.code), 4))
    assert asm.functions == {"f": (0, 28), "g": (32, 40)}
    assert listing[28] == "nop"
    texts = {o: listing[o] for o in asm.instruction_starts}
    assert texts[12].startswith("b.ne") and int(texts[12].split()[-1], 16) == asm.labels["f.loop"] == 8
    assert texts[16].startswith("bl") and int(texts[16].split()[-1], 16) == asm.labels["g"] == 32
    assert assemble(Arch.AARCH64, A64_FUNCTIONS).functions == {"f": (0, 28), "g": (28, 36)}


def test_check_instruction_starts_lists_every_bad_address():
    asm = assemble(Arch.X86_64, X86_FUNCTIONS)
    base = 0x401000
    check_instruction_starts(Arch.X86_64, asm.code, [base + o for o in asm.instruction_starts] + [base + len(asm.code)],
                             base)
    with pytest.raises(DescriptionError, match=r"2 address\(es\) are not instruction starts .*: 0x401002, 0x401005"):
        check_instruction_starts(Arch.X86_64, asm.code, [base, base + 2, base + 5, base + 4], base)


def test_line_program_rows_checked_against_the_code():
    asm = assemble(Arch.AARCH64, A64_FUNCTIONS)
    p = LineProgram(Encoding(5), comp_dir="/c", name="a.c", min_instruction_length=4)
    f = p.sequence("f")
    for line, offset in enumerate(range(0, 28, 4)):
        f.row(offset, line + 1)
    f.end(28)
    g = p.sequence(0x10000 + asm.functions["g"][0])
    g.row(0, 10)
    g.end(8)
    check_line_program(p, asm, base=0x10000)
    g.row(6, 11)
    with pytest.raises(DescriptionError, match=r"line program 'a.c': sequence at 0x1001c, row 1: offset 0x6 "
                                               r"\(code offset 0x22\) is not an instruction start"):
        check_line_program(p, asm, base=0x10000)


def test_bad_sources_name_the_function_and_line():
    with pytest.raises(DescriptionError, match=r"function 'h': 'movx rbp, rsp' does not assemble"):
        assemble(Arch.X86_64, [("f", "ret"), ("h", "push rbp\nmovx rbp, rsp\nret")])
    with pytest.raises(DescriptionError, match=r"function 'h': 'b nowhere' does not assemble"):
        assemble(Arch.AARCH64, [("h", "b nowhere")])
    with pytest.raises(DescriptionError, match="one instruction per line"):
        assemble(Arch.X86_64, [("f", "nop; ret")])
    with pytest.raises(DescriptionError, match="label 'x' defined twice"):
        assemble(Arch.X86_64, [("f", "x: nop\nx: ret")])
    with pytest.raises(DescriptionError, match="has no instructions"):
        assemble(Arch.X86_64, [("f", "# nothing")])


def test_lines_keystone_accepts_silently_are_named():
    """keystone emits nothing for some malformed aarch64 lines and merges a lone x86 prefix with the next line."""
    with pytest.raises(DescriptionError, match=r"function 'f': 'stp x29, x30, \[sp,' does not assemble"):
        assemble(Arch.AARCH64, [("f", "mov x29, sp\nstp x29, x30, [sp,\nret")])
    with pytest.raises(DescriptionError, match=r"function 'f': 'rep' is not a whole instruction"):
        assemble(Arch.X86_64, [("f", "nop\nrep\nret")])


def test_call_frames_checked_against_the_code():
    from dwarfkit.asm import check_call_frames
    from dwarfkit.frame import CallFrames
    asm = assemble(Arch.X86_64, X86_FUNCTIONS)
    frames = CallFrames(Arch.X86_64, Encoding(5))
    start, end = asm.functions["f"]
    fde = frames.fde(None, "f", end - start)
    fde.advance_to(1)        # after push rbp
    fde.def_cfa_offset(16)
    fde.advance_to(4)        # after mov rbp, rsp
    fde.def_cfa_register("rbp")
    check_call_frames(frames, asm)
    fde.advance_to(5)        # inside dec rdi (3 bytes at 4)
    g = frames.fde(None, 0x1000 + asm.functions["g"][0], 3)
    with pytest.raises(DescriptionError, match=r"FDE at f, location 0x5: code offset 0x5 is not an instruction "
                                               r"start; FDE at 0x1\w+, end: code offset 0x\w+ is not"):
        check_call_frames(frames, asm, base=0x1000)
    assert g.locations == []


# Decimal literals in every position the code generators use, and what GNU objdump must print for them.
DECIMALS = {
    Arch.X86_64: ("sub rsp, 40\nlea rax, [rbp - 24]\nmov eax, 60\nmov qword ptr [rbp - 200], 0\n"
                  "movabs rcx, 81985529216486895\nmov rax, -1000\nadd rax, 16",
                  ["sub    rsp,0x28", "lea    rax,[rbp-0x18]", "mov    eax,0x3c", "mov    QWORD PTR [rbp-0xc8],0x0",
                   "movabs rcx,0x123456789abcdef", "mov    rax,0xfffffffffffffc18", "add    rax,0x10"]),
    Arch.AARCH64: ("stp x29, x30, [sp, #-16]!\nsub x9, x29, #24\nmovk x0, #4660, lsl #16\nmov x8, #93\n"
                   "ldr x1, [sp], #16\n.word 4096",
                   ["stp\tx29, x30, [sp, #-16]!", "sub\tx9, x29, #0x18", "movk\tx0, #0x1234, lsl #16",
                    "mov\tx8, #0x5d", "ldr\tx1, [sp], #16", "udf\t#4096"]),
}


@pytest.mark.parametrize("arch", list(DECIMALS), ids=lambda a: a.info.name)
def test_decimal_literals_are_decimal_whatever_keystone_finds_in_memory(tmp_path, arch):
    """Regression (issue #8): keystone leaves its default radix uninitialised; where the heap held 16, every decimal
    literal was read as hex (``mov eax, 60`` as ``mov eax, 0x60``), so minic's programs now and then called
    gettimeofday instead of exit and crashed. A heap full of 16s makes that certain for an engine made now."""
    source, expected = DECIMALS[arch]
    fill_freed_heap(16)
    code = assemble(arch, [("f", source)]).code
    assert list(objdump(arch, code, tmp_path).values()) == expected
    fill_freed_heap(16)
    assert encode(arch, source) == code


def test_radix_free_rewrites_only_decimal_literals():
    assert radix_free("lea rax, [rbp - 24]\nmov r8d, 10") == "lea rax, [rbp - 0x18]\nmov r8d, 0xa"
    assert radix_free("stp x29, x30, [sp, #-16]!") == "stp x29, x30, [sp, #-0x10]!"
    untouched = "jmp __dk_0_12\nmov eax, 0x60\nmov eax, 0\nb main.L12\nmov x0, #017\n.ascii \"a 12\""
    assert radix_free(untouched) == untouched
