"""Oracles for the ELF rewriter's tests, all through pyelftools and the real tools, never through our own reader's
idea of the file beyond what the rewriter is given.

* :func:`own_dwarf` -- a file's own DWARF as ``DwarfSections`` (the reader's section bytes and
  ``DebugFile.relocations``; each field's width from the input's relocation type, which ``SymbolRef`` does not keep).
* :func:`assert_rest_unchanged` -- every section that is not debug information has the same header fields (indices
  compared by what they name) and the same contents (symbols, relocations, groups compared by what they name).
* :func:`debug_info_text` -- ``llvm-dwarfdump-14 --debug-info`` without its first line (the file name).
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from conftest import require_tool
from elf_tools import run
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_RELOC_TYPE_AARCH64, ENUM_RELOC_TYPE_x64
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from dwarfkit.encoding import Encoding
from dwarfkit.reader.container import open_debug_file
from dwarfkit.sections import DwarfSections, Relocation, RelocKind, Section

KINDS = {"address": RelocKind.ADDRESS, "tls": RelocKind.TLS_OFFSET, "section": RelocKind.SECTION,
         "pcrel": RelocKind.PCREL}
_WIDE = {ENUM_RELOC_TYPE_x64[n] for n in ("R_X86_64_64", "R_X86_64_DTPOFF64", "R_X86_64_PC64")} | \
        {ENUM_RELOC_TYPE_AARCH64[n] for n in ("R_AARCH64_ABS64", "R_AARCH64_PREL64")}


def is_debug(name: str) -> bool:
    base = name[len(".rela"):] if name.startswith(".rela") else name
    return base.startswith((".debug_", ".zdebug_")) or base == ".gdb_index"


def _field_widths(path: Path) -> dict[str, dict[int, int]]:
    widths: dict[str, dict[int, int]] = {}
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for s in elf.iter_sections():
            if isinstance(s, RelocationSection) and s["sh_info"]:
                target = elf.get_section(s["sh_info"]).name.replace(".zdebug_", ".debug_")
                for r in s.iter_relocations():
                    widths.setdefault(target, {})[r["r_offset"]] = 8 if r["r_info_type"] in _WIDE else 4
    return widths


def own_dwarf(path: Path) -> DwarfSections:
    debug = open_debug_file(path)
    widths = _field_widths(path)
    info = debug.sections["debug_info"]
    dwarf64 = info[:4] == b"\xff" * 4
    version = int.from_bytes(info[12:14] if dwarf64 else info[4:6], "little")
    dwarf = DwarfSections(Encoding(version, 8 if dwarf64 else 4, 8))
    for name, data in debug.sections.items():
        if name == "eh_frame":
            continue
        relocations = [Relocation(offset, widths["." + name][offset], KINDS[ref.kind],
                                  "." + ref.symbol if ref.kind == "section" else ref.symbol, ref.addend)
                       for offset, ref in sorted(debug.relocations.get(name, {}).items())]
        dwarf.add(Section("." + name, bytearray(data), relocations))
    return dwarf


def debug_info_text(path: Path, *flags: str) -> str:
    out = run(require_tool("llvm-dwarfdump-14"), *flags, path).stdout
    return out.split("\n", 1)[1]


def _symbol(elf: ELFFile, sym: object) -> tuple:
    shndx = sym["st_shndx"]  # type: ignore[index]
    where = elf.get_section(shndx).name if isinstance(shndx, int) and shndx else shndx
    return (sym.name, sym["st_value"], sym["st_size"], sym["st_info"]["type"], sym["st_info"]["bind"],  # type: ignore
            sym["st_other"]["visibility"], where)  # type: ignore[index]


def _section_view(elf: ELFFile, index: int) -> tuple:
    """A section's header and contents with every index replaced by what it names."""
    s = elf.get_section(index)
    name_of = lambda i: elf.get_section(i).name if i else 0  # noqa: E731
    header = (s.name, s["sh_type"], s["sh_flags"], s["sh_addr"], s["sh_size"], s["sh_addralign"], s["sh_entsize"],
              name_of(s["sh_link"]))
    if isinstance(s, SymbolTableSection):
        symbols = [_symbol(elf, sym) for sym in s.iter_symbols()
                   if not (isinstance(sym["st_shndx"], int) and sym["st_shndx"]
                           and is_debug(elf.get_section(sym["st_shndx"]).name))]
        return header[:4] + header[5:], symbols
    if isinstance(s, RelocationSection):
        table = elf.get_section(s["sh_link"])
        records = [(r["r_offset"], r["r_info_type"], r.entry.get("r_addend"),
                    _symbol(elf, table.get_symbol(r["r_info_sym"]))) for r in s.iter_relocations()]
        return header + (name_of(s["sh_info"]),), records
    if s["sh_type"] == "SHT_GROUP":
        table = elf.get_section(s["sh_link"])
        members = [elf.get_section(m).name for m in
                   (int.from_bytes(s.data()[k:k + 4], "little") for k in range(4, s.data_size, 4))]
        return header[:4], (s.data()[:4], _symbol(elf, table.get_symbol(s["sh_info"])),
                            [m for m in members if not is_debug(m)])
    if s["sh_type"] == "SHT_STRTAB" or s["sh_type"] == 0x6FFF4C03:   # names, and addrsig's symbol indices
        return header[:4] + header[5:], None
    return header + (s["sh_info"],), s.data()


def assert_rest_unchanged(before: bytes, after: bytes, *, same_indices: bool = False) -> None:
    """Every non-debug section of ``before`` is in ``after`` with the same header fields (offsets and name offsets
    aside, indices compared by name) and contents; a linked file keeps its program headers and allocated sections'
    offsets and bytes. ``same_indices``: the section indices stayed, so every such section (the section name table
    aside) has the very same bytes and header fields, symbol tables and relocations included."""
    old, new = ELFFile(io.BytesIO(before)), ELFFile(io.BytesIO(after))
    kept = [i for i, s in enumerate(old.iter_sections()) if i and not is_debug(s.name)]
    now = [i for i, s in enumerate(new.iter_sections()) if i and not is_debug(s.name) and s.name != ".gnu_debuglink"]
    assert [old.get_section(i).name for i in kept] == [new.get_section(i).name for i in now]
    for i, j in zip(kept, now, strict=True):
        assert _section_view(old, i) == _section_view(new, j), old.get_section(i).name
    if same_indices:
        assert kept == now
        for i in kept:
            a, b = old.get_section(i), new.get_section(i)
            if i != old["e_shstrndx"]:
                assert a.data() == b.data(), a.name
                assert [a[f] for f in _FIELDS] == [b[f] for f in _FIELDS], a.name
    if old["e_type"] != "ET_REL":
        # The ELF header but e_shoff, e_shnum, e_shstrndx; the program headers.
        assert (before[:0x28], before[0x30:0x3C]) == (after[:0x28], after[0x30:0x3C])
        phdrs = slice(old["e_phoff"], old["e_phoff"] + old["e_phnum"] * old["e_phentsize"])
        assert before[phdrs] == after[phdrs]
        for i, j in zip(kept, now, strict=True):
            a, b = old.get_section(i), new.get_section(j)
            if a["sh_flags"] & 2:   # SHF_ALLOC
                assert (i, a["sh_offset"]) == (j, b["sh_offset"]), a.name


_FIELDS = ("sh_type", "sh_flags", "sh_addr", "sh_size", "sh_link", "sh_info", "sh_addralign", "sh_entsize")


def without_pids(transcript: str) -> str:
    return re.sub(r"process \d+", "process N", transcript)
