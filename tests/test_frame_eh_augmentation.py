""".eh_frame CIEs with personality, LSDA and FDE augmentation data ("zPLR" and its subsets), as C++ units carry.

Checked against readelf and llvm-dwarfdump-14, against the shape g++ -O2 gives a function with try/catch, and by
linking with GNU ld and ld.lld with --eh-frame-hdr (both parse every CIE and FDE to build the lookup table).
"""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from elftools.elf.elffile import ELFFile

from dwarfkit import Address, Arch, DescriptionError, DwarfSections, Encoding
from dwarfkit.backends.elf import write_object
from dwarfkit.frame import CallFrames
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol, SymbolKind
from dwarfkit.sections import Relocation, RelocKind

# main: sub rsp,8; xor eax,eax; add rsp,8; ret | pers: xor eax,eax; ret
CODE = bytes.fromhex("4883ec08" "31c0" "4883c408" "c3") + bytes.fromhex("31c0c3")
# A minimal LSDA: no LPStart, no type table, ULEB128 call sites, an empty call-site table.
LSDA = bytes.fromhex("ff ff 01 00")


def cxx_like_image(**cie_options) -> Image:
    """One function with an LSDA and an indirect personality, as g++ lays them out (DW.ref.<personality> holds
    the routine's address)."""
    frames = CallFrames(Arch.X86_64, Encoding(4, 4, 8))
    cie = frames.cie(**cie_options)
    fde = frames.fde(cie, "main", 11, lsda="LLSDA0" if cie.lsda_encoding is not None else None)
    fde.advance_to(4)
    fde.def_cfa_offset(16)
    fde.advance_to(10)
    fde.def_cfa_offset(8)
    frames.fde(cie, "pers", 3)
    dwarf = DwarfSections(frames.encoding)
    dwarf.add(frames.eh_frame())
    sections = [ContentSection(".text", SectionKind.CODE, CODE),
                ContentSection(".gcc_except_table", SectionKind.RODATA, LSDA, alignment=4),
                ContentSection(".data.DW.ref.pers", SectionKind.DATA, bytes(8), alignment=8,
                               relocations=[Relocation(0, 8, RelocKind.ADDRESS, "pers")])]
    symbols = [Symbol("main", ".text", 0, 11), Symbol("pers", ".text", 11, 3),
               Symbol("LLSDA0", ".gcc_except_table", 0, 0, SymbolKind.NOTYPE, is_global=False),
               Symbol("DW.ref.pers", ".data.DW.ref.pers", 0, 8, SymbolKind.OBJECT, is_global=False)]
    return Image(Arch.X86_64, sections, symbols, dwarf)


def readelf_frames(path) -> str:
    return subprocess.run([require_tool("readelf"), "--debug-dump=frames", str(path)], check=True,
                          capture_output=True, text=True).stdout


def cie_shape(text: str) -> tuple[str, list[str], list[str]]:
    """(augmentation, CIE augmentation data bytes, first FDE's augmentation data bytes) from readelf."""
    augmentation = re.search(r'Augmentation:\s+"(\w*)"', text).group(1)
    data = re.findall(r"Augmentation data:\s+([0-9a-f ]+)", text)
    return augmentation, data[0].split(), data[1].split() if len(data) > 1 else []


def link(tool: str, obj, out) -> subprocess.CompletedProcess:
    return subprocess.run([require_tool(tool), "--eh-frame-hdr", "-e", "main", "-o", str(out), str(obj)],
                          capture_output=True, text=True)


ZPLR = {"personality": "DW.ref.pers", "lsda_encoding": 0x1b}


def test_zplr_has_the_shape_gcc_gives_a_try_catch(tmp_path):
    source = tmp_path / "ex.cc"
    source.write_text("int g(int);\nint f(int x) { try { return g(x); } catch (int e) { return e; } }\n")
    theirs = tmp_path / "ex.o"
    subprocess.run([require_tool("g++"), "-O2", "-c", str(source), "-o", str(theirs)], check=True)
    ours = tmp_path / "ours.o"
    write_object(cxx_like_image(**ZPLR), ours)
    their_aug, their_cie, their_fde = cie_shape(readelf_frames(theirs))
    our_aug, our_cie, our_fde = cie_shape(readelf_frames(ours))
    assert their_aug == our_aug == "zPLR"
    # personality encoding, 4 bytes of (relocated) pointer, LSDA encoding, FDE encoding; FDE: a 4-byte LSDA pointer
    assert len(our_cie) == len(their_cie) == 7 and our_cie[0] == their_cie[0] == "9b"
    assert our_cie[5:] == their_cie[5:] == ["1b", "1b"]
    assert len(our_fde) == len(their_fde) == 4
    # The relocations are the kinds g++ uses: PC32 against the personality pointer and the LSDA.
    relocs = subprocess.run([require_tool("readelf"), "-rW", str(ours)], check=True, capture_output=True,
                            text=True).stdout.split(".rela.eh_frame")[1]
    assert re.search(r"R_X86_64_PC32\s+0+ DW\.ref\.pers \+ 0", relocs)
    assert re.search(r"R_X86_64_PC32\s+0+ LLSDA0 \+ 0", relocs)


@pytest.mark.parametrize("linker", ["ld", "ld.lld-14"])
def test_linkers_build_the_eh_frame_hdr_and_llvm_reads_personality_and_lsda(tmp_path, linker):
    obj, exe = tmp_path / "x.o", tmp_path / "x"
    write_object(cxx_like_image(**ZPLR), obj)
    result = link(linker, obj, exe)
    assert result.returncode == 0 and not result.stderr, result.stderr
    with open(exe, "rb") as f:
        elf = ELFFile(f)
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        hdr = elf.get_section_by_name(".eh_frame_hdr")
        assert hdr is not None and hdr.data_size >= 12 + 2 * 8   # header + one table entry per FDE
        assert int.from_bytes(hdr.data()[8:12], "little") == 2   # fde_count
    text = subprocess.run([require_tool("llvm-dwarfdump-14"), "--eh-frame", str(exe)], check=True,
                          capture_output=True, text=True).stdout
    assert 'Augmentation:          "zPLR"' in text
    assert f"Personality Address: {symbols['DW.ref.pers']:016x}" in text
    assert f"LSDA Address: {symbols['LLSDA0']:016x}" in text
    assert f"pc={symbols['main']:08x}...{symbols['main'] + 11:08x}" in text
    assert f"pc={symbols['pers']:08x}...{symbols['pers'] + 3:08x}" in text


@pytest.mark.parametrize("options,augmentation,cie_data", [
    ({}, "zR", {0: "1b"}),
    ({"personality": "pers", "personality_encoding": 0x00}, "zPR", {0: "00", 9: "1b"}),   # 8-byte absolute
    ({"lsda_encoding": 0x03}, "zLR", {0: "03", 1: "1b"}),
    ({"fde_encoding": 0x00, "signal_frame": True}, "zS", {}),
    ({**ZPLR, "signal_frame": True}, "zPLRS", {0: "9b", 5: "1b", 6: "1b"}),
])
def test_each_augmentation_links_and_decodes(tmp_path, options, augmentation, cie_data):
    obj, exe = tmp_path / "x.o", tmp_path / "x"
    write_object(cxx_like_image(**options), obj)
    text = readelf_frames(obj)
    assert f'Augmentation:          "{augmentation}"' in text
    if cie_data:   # the encodings; readelf shows the pointers with their relocations applied
        data = re.search(r"Augmentation data:\s+([0-9a-f ]+)", text).group(1).split()
        assert len(data) == max(cie_data) + 1 and {i: data[i] for i in cie_data} == cie_data
    else:
        assert "Augmentation data" not in text.split(" FDE ")[0]
    for linker in ("ld", "ld.lld-14"):
        result = link(linker, obj, exe)
        assert result.returncode == 0 and not result.stderr, (linker, result.stderr)
        dump = subprocess.run([require_tool("llvm-dwarfdump-14"), "--eh-frame", str(exe)], check=True,
                              capture_output=True, text=True)
        assert "error" not in dump.stderr and dump.stdout.count(" FDE ") == 2, dump.stderr


@pytest.mark.parametrize("call,message", [
    (lambda f: f.cie(personality_encoding=0x01), "pointer encoding 0x01"),          # uleb128
    (lambda f: f.cie(lsda_encoding=0x9b), "LSDA: pointer encoding 0x9b"),          # indirect is for P only
    (lambda f: f.cie(fde_encoding=0x3b), "FDE address: pointer encoding 0x3b"),    # datarel
    (lambda f: f.cie(personality=3.5), "personality 3.5"),
    (lambda f: f.cie(signal_frame=1), "signal_frame 1"),
    (lambda f: f.fde(None, "main", 4, lsda="x"), "needs a CIE with an lsda_encoding"),
])
def test_bad_augmentations_are_refused(call, message):
    with pytest.raises(DescriptionError, match=re.escape(message)):
        call(CallFrames(Arch.X86_64, Encoding(4, 4, 8)))


def test_plain_pointers_need_the_section_address():
    frames = CallFrames(Arch.X86_64, Encoding(4, 4, 8))
    cie = frames.cie(personality=Address(None, 0x401000))
    frames.fde(cie, Address(None, 0x401000), 4)
    with pytest.raises(DescriptionError, match="CIE 0: personality: a plain address"):
        frames.eh_frame()
    data = frames.eh_frame(address=0x402000).data
    assert int.from_bytes(data[0x12:0x16], "little", signed=True) == 0x401000 - (0x402000 + 0x12)
