"""`dwarfkit dump` prints the same DIE trees and line rows as llvm-dwarfdump-14 for every corpus file."""
from __future__ import annotations

import io
import subprocess

import pytest
from conftest import require_tool
from dump_compare import CORPUS, decoding_errors_agree, first_difference, normalise, require_reader_corpus

from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.dump import dump_text
from dwarfkit.reader.text import DumpOptions


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file() and "/src/" not in str(p)
             and p.suffix not in (".md", ".tsv", ".sh", ".plist") and p.name != "LICENSE"
             and ".dSYM" not in str(p)]
    files += sorted(CORPUS.glob("macho/*.dSYM"))
    return [str(p.relative_to(CORPUS)) for p in files]


# llvm-dwarfdump-14 treats opcodes 6..12 as standard opcodes even when the header's opcode_base (6 here) makes
# them special opcodes, as DWARF says; our rows follow the standard, so this file's rows are not compared.
LLVM_LINE_TABLE_WRONG = {"third_party/pyelftools/lineprogram.elf"}


def ours(path, *, show_form=False, sections=("debug-info", "debug-line")) -> str:
    out = io.StringIO()
    dump_text(open_debug_file(path), out, set(sections), DumpOptions(show_form=show_form))
    return out.getvalue()


@pytest.mark.parametrize("name", corpus_files())
def test_dump_agrees_with_llvm_dwarfdump(name):
    corpus = require_reader_corpus()
    tool = require_tool("llvm-dwarfdump-14")
    path = corpus / name
    flags = ["--debug-info"] if name in LLVM_LINE_TABLE_WRONG else ["--debug-info", "--debug-line"]
    llvm = subprocess.run([tool, *flags, str(path)], capture_output=True, text=True, errors="surrogateescape",
                          timeout=120).stdout
    relocatable = name.endswith((".o", ".obj", ".o.elf"))
    sections = [f.lstrip("-") for f in flags]
    theirs = normalise(llvm, relocatable)
    mine = decoding_errors_agree(normalise(ours(path, sections=sections), relocatable), theirs)
    assert any(line.startswith("0x") for line in theirs) or not open_debug_file(path).section("debug_info")
    diff = first_difference(mine, theirs)
    assert diff is None, f"{name}: {diff}"


@pytest.mark.parametrize("name", ["elf/shapes-gcc-O0-dwarf5.o", "coff/shapes-clang-x86_64.obj",
                                  "macho/shapes-arm64.dSYM"])
def test_show_form_agrees_with_llvm_dwarfdump(name):
    corpus = require_reader_corpus()
    tool = require_tool("llvm-dwarfdump-14")
    llvm = subprocess.run([tool, "--debug-info", "--show-form", str(corpus / name)], capture_output=True,
                          text=True).stdout
    theirs = normalise(llvm, True)
    mine = normalise(ours(corpus / name, show_form=True, sections=["debug-info"]), True)
    assert any("[DW_FORM_" in line for line in theirs)
    assert first_difference(mine, theirs) is None


@pytest.mark.parametrize("flag", ["--debug-abbrev", "--debug-aranges", "--debug-str", "--debug-line-str",
                                  "--debug-pubnames", "--debug-pubtypes", "--debug-addr"])
@pytest.mark.parametrize("name", ["elf/shapes-gcc-O0-dwarf5.o", "elf/shapes-gcc-O0-dwarf64.o", "elf/shapes-gcc-x86_64",
                                  "elf/shapes-clang-O0-dwarf5.o", "coff/shapes-mingw-O2-dwarf5.exe",
                                  "macho/shapes-arm64.dSYM", "third_party/pyelftools/dwarf_v4_ticcs.elf",
                                  "third_party/pyelftools/penalty_64_clang.o.elf"])
def test_table_sections_match_llvm_dwarfdump(name, flag):
    path = require_reader_corpus() / name
    llvm = subprocess.run([require_tool("llvm-dwarfdump-14"), flag, str(path)], capture_output=True, text=True,
                          errors="surrogateescape").stdout
    out = io.StringIO()
    dump_text(open_debug_file(path), out, {flag[2:]}, DumpOptions())

    def lines(text):  # the first line names the file; blank lines between sections differ
        return [line for line in text.splitlines()[1:] if line.strip() and not line.endswith("contents:")]
    assert lines(out.getvalue()) == lines(llvm)


def test_parallel_dump_is_the_sequential_dump(monkeypatch):
    """Large sections are formatted by forked workers; the text must be byte for byte the one-process text."""
    from dwarfkit.reader import parallel
    path = require_reader_corpus() / "third_party/pyelftools/dwarf_gnuops4.so.elf"
    sequential = ours(path, sections=["debug-info"])
    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(parallel, "RUN_BYTES", 4096)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    assert ours(path, sections=["debug-info"]) == sequential
