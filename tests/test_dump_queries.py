"""`dwarfkit dump --json/--lookup/--name/--summary` hold the same facts llvm-dwarfdump-14 prints."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import require_tool
from dump_compare import REPO, require_reader_corpus

FILES = ["elf/shapes-gcc-x86_64", "elf/shapes-clang-aarch64", "coff/shapes-mingw-O0-dwarf4.exe",
         "macho/shapes-x86_64.dSYM"]


def dwarfkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dwarfkit", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=60)


def llvm(*args: str) -> str:
    return subprocess.run([require_tool("llvm-dwarfdump-14"), *args], capture_output=True, text=True,
                          timeout=60).stdout


@pytest.mark.parametrize("name", FILES)
def test_json_has_llvm_dwarfdump_dies_and_rows(name):
    path = str(require_reader_corpus() / name)
    doc = json.loads(dwarfkit("dump", "--json", path).stdout)
    text = llvm("--debug-info", "--debug-line", path)
    theirs = [(int(m.group(1), 16), m.group(2)) for m in re.finditer(r"^0x([0-9a-f]{8}): +(DW_TAG_\w+)", text, re.M)]
    mine = [(d["offset"], d["tag"]) for u in doc["units"] for d in u["dies"] if d["tag"]]
    assert mine == theirs
    rows = [(int(m.group(1), 16), int(m.group(2))) for m in re.finditer(r"^0x([0-9a-f]{16}) +(\d+) ", text, re.M)]
    assert [(r["address"], r["line"]) for t in doc["line_tables"] for r in t["rows"]] == rows
    # attribute values are the llvm-dwarfdump text
    name_values = re.findall(r"DW_AT_name\t\((.*)\)$", text, re.M)
    assert [a["value"] for u in doc["units"] for d in u["dies"] if d["tag"] for a in d["attributes"]
            if a["name"] == "DW_AT_name"] == name_values


@pytest.mark.parametrize("name,address", [("elf/shapes-gcc-x86_64", 0x401100), ("elf/shapes-clang-aarch64", None)])
def test_lookup_finds_the_function_and_line_llvm_dwarfdump_finds(name, address):
    path = str(require_reader_corpus() / name)
    if address is None:  # the middle of the first function llvm-dwarfdump lists
        m = re.search(r"DW_TAG_subprogram\n(?:.*\n)*?\s+DW_AT_low_pc\t\((0x[0-9a-f]+)\)", llvm("--debug-info", path))
        address = int(m.group(1), 16) + 8
    theirs = llvm("--lookup", hex(address), path)
    ours = dwarfkit("dump", "--lookup", hex(address), path)
    assert ours.returncode == 0, ours.stderr
    their_dies = re.findall(r"^0x([0-9a-f]{8}): +(DW_TAG_\w+)", theirs, re.M)
    assert re.findall(r"^0x([0-9a-f]{8}): +(DW_TAG_\w+)", ours.stdout, re.M) == their_dies
    line = re.search(r"line (\d+), column (\d+)", theirs).groups()
    assert re.search(r"line (\d+), column (\d+)", ours.stdout).groups() == line


def test_lookup_outside_every_unit_is_a_finding():
    path = str(require_reader_corpus() / "elf/shapes-gcc-x86_64")
    r = dwarfkit("dump", "--lookup", "0x10", path)
    assert r.returncode == 1 and "no unit covers address 0x10" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("name", ["area", "point", "s", "run"])
def test_name_finds_the_dies_llvm_dwarfdump_finds(name):
    path = str(require_reader_corpus() / "elf/shapes-gcc-O2-x86_64")
    theirs = re.findall(r"^0x([0-9a-f]{8}):", llvm("--name", name, path), re.M)
    ours = re.findall(r"^0x([0-9a-f]{8}):", dwarfkit("dump", "--name", name, path).stdout, re.M)
    assert ours == theirs and theirs


def test_summary_counts_dies_per_unit_like_llvm_dwarfdump():
    path = str(require_reader_corpus() / "coff/shapes-mingw-O2-dwarf5.exe")
    text = llvm("--debug-info", path)
    units = re.split(r"^0x[0-9a-f]{8}: Compile Unit", text, flags=re.M)[1:]
    expected = [len(re.findall(r"^0x[0-9a-f]{8}: +DW_TAG_", u, re.M)) for u in units]
    rows = re.findall(r"^0x[0-9a-f]{8}  \.debug_info .* (\d+) +\d+$", dwarfkit("dump", "--summary", path).stdout, re.M)
    assert [int(r) for r in rows] == expected
