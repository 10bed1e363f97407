"""`.eh_frame` in descriptions (issue 16, item 1): `eh_frame: {cies, fdes}` (as `debug_frame`, with the CIE's
augmentation and an FDE's LSDA) is written as the executable's `.eh_frame`; readelf decodes it, and gdb unwinds with
it alone (no `.debug_frame`)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

from dwarfkit import debuggers
from dwarfkit.description import build_file
from dwarfkit.errors import DescriptionError

DESCRIPTION = """\
functions:
  main: |
    push rbp
    pushed:
    mov rbp, rsp
    body:
    mov eax, 3
    pop rbp
    ret
eh_frame:
  cies:
    - code_alignment: 1
      data_alignment: -8
      return_address_register: rip
      signal_frame: true
      instructions: [[def_cfa, rsp, 8], [offset, rip, -8]]
  fdes:
    - cie: 0
      start: main
      length: 11
      instructions: [[advance_to, 1], [def_cfa_offset, 16], [offset, rbp, -16], [advance_to, 4],
                     [def_cfa_register, rbp]]
units:
  - name: eh.c
    dies:
      - {tag: subprogram, name: main, low_pc: main}
    lines:
      - {function: main, rows: [[0, 1], [4, 2]]}
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("eh")
    (folder / "eh.yaml").write_text(DESCRIPTION)
    return build_file(folder / "eh.yaml").write(folder / "eh")


def test_readelf_decodes_the_eh_frame(program: Path) -> None:
    readelf = require_tool("readelf")
    sections = subprocess.run([readelf, "-S", "-W", str(program)], capture_output=True, text=True, check=True).stdout
    assert ".eh_frame" in sections and ".debug_frame" not in sections
    main = next(line.split()[1] for line in subprocess.run([readelf, "-s", "-W", str(program)], capture_output=True,
                text=True, check=True).stdout.splitlines() if line.endswith(" main"))
    frames = subprocess.run([readelf, "--debug-dump=frames", str(program)], capture_output=True, text=True,
                            check=True).stdout
    assert 'Augmentation:          "zRS"' in frames
    start = int(main, 16)
    assert f"pc={start:016x}..{start + 11:016x}" in frames
    assert "DW_CFA_offset: r6 (rbp) at cfa-16" in frames and "DW_CFA_def_cfa_register: r6 (rbp)" in frames


def test_gdb_unwinds_with_it(program: Path) -> None:
    try:
        session = debuggers.gdb(program, breakpoints=["*main+4"], commands_per_stop=["info frame"], max_stops=1)
    except debuggers.ToolMissing as missing:
        pytest.skip(str(missing))
    frame = session.stops[0].outputs[0].output
    assert "Saved registers:" in frame and "rbp at 0x" in frame and "rip at 0x" in frame


@pytest.mark.parametrize("old, new, message", [
    ("functions:", "output: macho-object\nfunctions:", "eh.yaml:12: eh_frame: is written into an ELF file"),
    ("      length: 11\n", "      length: 11\n      lsda: main\n",
     "eh_frame.fdes[0]: FDE at main: an LSDA needs a CIE with an lsda_encoding"),
    ("      signal_frame: true\n", "      signal_frame: 1\n", "eh_frame.cies[0]: CIE 0: signal_frame 1 is not True"),
])
def test_bad_eh_frames_name_file_line_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in DESCRIPTION
    (tmp_path / "eh.yaml").write_text(DESCRIPTION.replace(old, new, 1))
    with pytest.raises(DescriptionError) as error:
        build_file(tmp_path / "eh.yaml")
    assert message in str(error.value)
