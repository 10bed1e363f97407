"""Containers the corpus does not hold as such, made from it with real tools: fat Mach-O, compressed ELF sections."""
from __future__ import annotations

import io
import subprocess

import pytest
from conftest import require_tool
from dump_compare import require_reader_corpus

from dwarfkit.errors import ContainerError
from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.dump import dump_text
from dwarfkit.reader.text import DumpOptions


def text(path, arch=None) -> str:
    out = io.StringIO()
    dump_text(open_debug_file(path, arch), out, {"debug-info", "debug-line"}, DumpOptions())
    return out.getvalue().split("\n", 1)[1]  # without the line naming the file


def test_fat_file_slices_by_arch(tmp_path):
    corpus = require_reader_corpus()
    fat = tmp_path / "fat.o"
    subprocess.run([require_tool("llvm-lipo-14"), "-create", str(corpus / "macho/shapes-x86_64.o"),
                    str(corpus / "macho/shapes-arm64.o"), "-output", str(fat)], check=True)
    assert text(fat, "arm64") == text(corpus / "macho/shapes-arm64.o")
    assert text(fat, "x86_64") == text(corpus / "macho/shapes-x86_64.o")
    with pytest.raises(ContainerError, match="choose one with --arch"):
        open_debug_file(fat)
    with pytest.raises(ContainerError, match="no i386"):
        open_debug_file(fat, "i386")


@pytest.mark.parametrize("how", ["zlib", "zlib-gnu"])
@pytest.mark.parametrize("name", ["elf/shapes-gcc-x86_64", "elf/shapes-gcc-O2-dwarf5.o"])
def test_compressed_sections_read_like_plain_ones(tmp_path, how, name):
    corpus = require_reader_corpus()
    out = tmp_path / "compressed"
    subprocess.run([require_tool("objcopy"), f"--compress-debug-sections={how}", str(corpus / name), str(out)],
                   check=True)
    sections = subprocess.run([require_tool("readelf"), "-S", "-W", str(out)], capture_output=True, text=True).stdout
    assert (".zdebug_info" in sections) == (how == "zlib-gnu")
    assert text(out) == text(corpus / name)


def test_dsym_bundle_and_its_file_are_the_same():
    corpus = require_reader_corpus()
    bundle = corpus / "macho/shapes-x86_64.dSYM"
    assert text(bundle) == text(bundle / "Contents/Resources/DWARF/shapes-x86_64")
    assert open_debug_file(bundle).uuid == open_debug_file(corpus / "macho/shapes-x86_64").uuid
