"""Every DW_CFA instruction of the builder, decoded by llvm-dwarfdump-14 and readelf (GNU-only opcodes)."""
from __future__ import annotations

import subprocess

import pytest
from conftest import require_tool
from minimal_elf import EM_AARCH64, EM_X86_64, elf_with_dwarf

from dwarfkit import Address, Arch, DescriptionError, DwarfSections, Encoding, Expr
from dwarfkit.frame import CallFrames


def every_instruction(arch: Arch) -> CallFrames:
    frames = CallFrames(arch, Encoding(4, 4, 8))
    f = frames.fde(None, "f", 64)
    f.advance_to(4)
    f.expression(3, Expr().breg(7, 8))
    f.val_expression(6, Expr().breg(7, 16).deref())
    f.def_cfa_expression(Expr().breg(7, 8).deref())
    f.gnu_args_size(16)
    f.val_offset(12, -16)      # factored 2: DW_CFA_val_offset
    f.val_offset(13, 16)       # factored -2: DW_CFA_val_offset_sf
    f.val_offset_sf(14, -8)
    f.advance_to(8)
    f.def_cfa_sf(7, 16)
    f.def_cfa_offset_sf(32)
    f.offset_extended_sf(3, -16)
    f.offset_extended(15, -24)
    f.restore_extended(3)
    if arch is Arch.AARCH64:
        f.negate_ra_state()
    f.nop()
    return frames


def dump(tmp_path, frames: CallFrames, machine: int, tool: str, option: str) -> str:
    sections = DwarfSections(frames.encoding)
    sections.add(frames.debug_frame())
    sections.add(frames.eh_frame())
    path = elf_with_dwarf(tmp_path / "cfa.o", sections, symbols={"f": 0x1000}, stmt_list=None,
                          addresses={".eh_frame": 0x8000}, machine=machine)
    result = subprocess.run([require_tool(tool), option, str(path)], capture_output=True, text=True, check=True)
    assert "error" not in result.stderr.lower(), result.stderr
    return result.stdout


@pytest.mark.parametrize("arch,machine,sp,r", [(Arch.X86_64, EM_X86_64, "RSP", {3: "RBX", 6: "RBP", 7: "RSP"}),
                                               (Arch.AARCH64, EM_AARCH64, "W7", {3: "W3", 6: "W6", 7: "W7"})])
@pytest.mark.parametrize("option", ["--debug-frame", "--eh-frame"])
def test_llvm_dwarfdump_decodes_every_instruction(tmp_path, arch, machine, sp, r, option):
    text = dump(tmp_path, every_instruction(arch), machine, "llvm-dwarfdump-14", option)
    fde = text.split(" FDE ")[1]
    b7 = f"DW_OP_breg7 {r[7]}"
    for line in (f"DW_CFA_expression: {r[3]} {b7}+8", f"DW_CFA_val_expression: {r[6]} {b7}+16, DW_OP_deref",
                 f"DW_CFA_def_cfa_expression: {b7}+8, DW_OP_deref", ": +16",  # llvm 14 has no name for GNU_args_size
                 "DW_CFA_def_cfa_sf:", "DW_CFA_def_cfa_offset_sf: 32", f"DW_CFA_offset_extended_sf: {r[3]} -16",
                 "DW_CFA_restore_extended:"):
        assert line in fde, (line, fde)
    assert fde.count("DW_CFA_val_offset_sf:") == 2 and fde.count("DW_CFA_val_offset:") == 1
    assert ("DW_CFA_AARCH64_negate_ra_state" in fde) == (arch is Arch.AARCH64)
    # The unwind rows after the second advance: the values the rules compute.
    row = next(line for line in fde.splitlines() if line.strip().startswith(f"{0x1008:#x}:"))
    assert "CFA=" in row and "+32" in row, row
    for rule in ("=CFA-16", "=CFA+16", "=CFA-8", "=[CFA-24]", f"{r[6]}=DW_OP_breg7 {r[7]}+16, DW_OP_deref"):
        assert rule in row, (rule, row)


def test_readelf_decodes_the_gnu_negative_offset(tmp_path):
    frames = CallFrames(Arch.X86_64, Encoding(4, 4, 8))
    f = frames.fde(None, "f", 8)
    f.gnu_negative_offset_extended("r12", 24)
    f.gnu_args_size(32)
    text = dump(tmp_path, frames, EM_X86_64, "readelf", "--debug-dump=frames")
    assert "DW_CFA_GNU_negative_offset_extended: r12 (r12) at cfa+24" in text
    assert "DW_CFA_GNU_args_size: 32" in text


@pytest.mark.parametrize("call,message", [
    (lambda f: f.expression(3, Expr().addr(Address("x"))), "relocated address"),
    (lambda f: f.expression(3, b"\x77\x08"), "is not an Expr"),
    (lambda f: f.def_cfa_expression(None), "is not an Expr"),
    (lambda f: f.gnu_args_size(-1), "argument size -1"),
    (lambda f: f.gnu_args_size(True), "argument size True"),
    (lambda f: f.negate_ra_state(), "AArch64's; this is x86_64"),
    (lambda f: f.offset_extended(3, 16), "cannot hold (unsigned)"),
    (lambda f: f.gnu_negative_offset_extended(3, -16), "zero or less"),
    (lambda f: f.val_offset(3, 12), "not a multiple of the data alignment factor"),
    (lambda f: f.val_expression(999, Expr().lit(0)), "register 999"),
    (lambda f: f.def_cfa_sf("nosuch", 8), "nosuch"),
])
def test_bad_operands_name_the_fde_and_instruction(call, message):
    frames = CallFrames(Arch.X86_64, Encoding(4, 4, 8))
    f = frames.fde(None, "f", 8)
    f.nop()
    with pytest.raises(DescriptionError, match="FDE at f, instruction 1: ") as error:
        call(f)
    assert message in str(error.value)
