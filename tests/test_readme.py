"""The README's example runs as written, and gdb debugs what it wrote."""
from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO, require_tool


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "the README has exactly one Python example"
    return blocks[0]


def test_readme_example_builds_a_program_gdb_debugs(tmp_path):
    gdb = require_tool("gdb")
    (tmp_path / "example.py").write_text(readme_example())
    subprocess.run([sys.executable, "example.py"], cwd=tmp_path, check=True, timeout=120)
    assert subprocess.run([str(tmp_path / "demo")], timeout=10).returncode == 7
    out = subprocess.run([gdb, "-nx", "-batch", "-ex", "break demo.c:3", "-ex", "run", "-ex", "info locals",
                          "-ex", "info line demo.c:2", str(tmp_path / "demo")],
                         capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"Breakpoint 1, main \(\) at demo\.c:3", out), out
    assert "x = 7" in out, out
    assert re.search(r'Line 2 of "demo\.c" starts at address 0x[0-9a-f]+ <main\+4>', out), out
