"""`dwarfkit verify` on real files: clean where llvm-dwarfdump-14 --verify is, and it finds what is broken."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import require_tool
from dump_compare import REPO, require_reader_corpus
from test_dump_llvm import corpus_files

from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.verify import verify

# Files with findings, each also reported by llvm-dwarfdump-14 (--verify or its line-table warnings).
EXPECTED_FINDINGS = {
    "third_party/pyelftools/dwarf_v3_ticcs.elf": "not a file index",
    "third_party/pyelftools/dwarf_v4_ticcs.elf": "not a file index",
    "third_party/pyelftools/lineprogram.elf": "not terminated",
}


def dwarfkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dwarfkit", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120)


@pytest.mark.parametrize("name", corpus_files())
def test_verify_finishes_on_every_corpus_file(name):
    findings = verify(str(require_reader_corpus() / name))
    if name in EXPECTED_FINDINGS:
        assert findings and all(EXPECTED_FINDINGS[name] in f for f in findings[:3]), findings[:3]
    else:
        assert findings == []


@pytest.mark.parametrize("name", ["elf/shapes-gcc-O0-dwarf5.o", "elf/shapes-clang-aarch64",
                                  "coff/shapes-clang-x86_64.obj", "macho/shapes-x86_64.dSYM",
                                  "third_party/pyelftools/dwarf_v4_ticcs.elf"])
def test_verify_agrees_with_llvm_dwarfdump(name):
    path = str(require_reader_corpus() / name)
    llvm = subprocess.run([require_tool("llvm-dwarfdump-14"), "--verify", path], capture_output=True, text=True,
                          timeout=120).stdout
    ours = dwarfkit("verify", path)
    if "No errors." in llvm:
        assert ours.returncode == 0, ours.stdout
    else:
        assert ours.returncode == 1
        their_dies = re.findall(r"invalid file index.*\n\n(0x[0-9a-f]{8}):", llvm)
        our_dies = re.findall(r"\[(0x[0-9a-f]+)\]: DW_AT_decl_file", ours.stdout)
        assert [int(x, 16) for x in our_dies] == [int(x, 16) for x in their_dies]


def _patched(tmp_path, name: str, section: str, patch) -> str:
    """A copy of a corpus file with bytes of one DWARF section changed in place."""
    src = require_reader_corpus() / name
    df = open_debug_file(src)
    data = bytearray(src.read_bytes())
    start = df.section_offsets[section]
    patch(data, start, df)
    out = tmp_path / src.name
    out.write_bytes(bytes(data))
    return str(out)


def test_reference_into_the_middle_of_a_die_is_found(tmp_path):
    # shapes-gcc-x86_64: the DW_AT_type ref4 at 0xb3+... Find a ref4 and point it one byte further.
    name = "elf/shapes-gcc-x86_64"
    text = dwarfkit("dump", "--debug-info", "-v", str(require_reader_corpus() / name)).stdout
    assert text

    def patch(data, start, df):
        from dwarfkit.reader.units import DwarfContext
        ctx = DwarfContext(df)
        unit = ctx.load(ctx.units()[1])
        for i, ab in enumerate(unit.abbs):
            if ab is None:
                continue
            # the first DW_AT_type as DW_FORM_ref4 of this DIE
            v = next((value for (at, form, _c), value in zip(ab.attrs, unit.vals[i], strict=False)
                      if at == 0x49 and form == 0x13), None)
            if v is None:
                continue
            # find the 4-byte value in the DIE's bytes and bump it
            raw = int.to_bytes(v, 4, "little")
            k = bytes(data[start + unit.offs[i]:start + unit.offs[i] + 64]).find(raw)
            data[start + unit.offs[i] + k] += 1
            return
    path = _patched(tmp_path, name, "debug_info", patch)
    r = dwarfkit("verify", path)
    assert r.returncode == 1
    assert re.search(r"\.debug_info\[0x[0-9a-f]+\]: DW_AT_type refers to 0x[0-9a-f]+, which is not the start of a DIE",
                     r.stdout), r.stdout


def test_line_rows_off_instruction_starts_are_found(tmp_path):
    """Shift one sequence of line rows by 2 bytes; objdump says which rows then miss an instruction start."""
    name = "elf/shapes-gcc-x86_64"
    corpus = require_reader_corpus()
    low = 0x40102a  # the shapes.c sequence's DW_LNE_set_address operand (llvm-dwarfdump's first row of that table)
    assert re.search(r"^0x000000000040102a ", subprocess.run([require_tool("llvm-dwarfdump-14"), "--debug-line",
                     str(corpus / name)], capture_output=True, text=True).stdout, re.M)

    def patch(data, start, df):
        needle = b"\x00\x09\x02" + low.to_bytes(8, "little")
        k = bytes(data).find(needle, start)
        assert k > 0
        data[k + 3:k + 11] = (low + 2).to_bytes(8, "little")
    path = _patched(tmp_path, name, "debug_line", patch)
    r = dwarfkit("verify", path)
    assert r.returncode == 1
    flagged = {int(a, 16) for a in re.findall(r"address (0x[0-9a-f]+) is not an instruction start", r.stdout)}
    objdump = subprocess.run([require_tool("objdump"), "-d", str(corpus / name)], capture_output=True, text=True).stdout
    starts = {int(a, 16) for a in re.findall(r"^ +([0-9a-f]+):\t", objdump, re.M)}
    from dwarfkit.reader.dump import line_tables
    from dwarfkit.reader.units import DwarfContext
    rows = [row[0] for t in line_tables(DwarfContext(open_debug_file(path))) for row in t.rows if not row[6] & 4]
    in_functions = [a for a in rows if low + 2 <= a < 0x401300]  # inside shapes.c's functions
    expected = {a for a in in_functions if a not in starts}
    assert expected and flagged == expected


def test_dsym_uuid_must_match_its_binary(tmp_path):
    corpus = require_reader_corpus()
    assert dwarfkit("verify", str(corpus / "macho/shapes-x86_64.dSYM")).returncode == 0
    r = dwarfkit("verify", "--binary", str(corpus / "macho/shapes-arm64"), str(corpus / "macho/shapes-x86_64.dSYM"))
    assert r.returncode == 1 and "dSYM: UUID" in r.stdout
    # llvm's own view of the two UUIDs
    uuids = subprocess.run([require_tool("llvm-dwarfdump-14"), "--uuid", str(corpus / "macho/shapes-x86_64.dSYM"),
                            str(corpus / "macho/shapes-arm64")], capture_output=True, text=True).stdout
    found = re.findall(r"UUID: ([0-9A-F-]+)", uuids)
    assert len(set(found)) == 2
    assert found[0].replace("-", "").lower() in r.stdout


def test_truncated_unit_length_is_one_finding_with_section_and_offset(tmp_path):
    def patch(data, start, df):
        data[start:start + 4] = (0x7FFFFFF0).to_bytes(4, "little")
    r = dwarfkit("verify", _patched(tmp_path, "elf/shapes-gcc-x86_64", "debug_info", patch))
    assert r.returncode == 1
    assert ".debug_info[0x0]: unit length 0x7ffffff0 runs past the end of the section" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
