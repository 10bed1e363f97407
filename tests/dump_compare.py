"""Normalising llvm-dwarfdump-14's and dwarfkit's text dumps so the two can be compared line by line."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
from conftest import CORPUS  # noqa: E402,F401 - re-exported to tests
from conftest import require_corpus as require_reader_corpus  # noqa: E402,F401 - re-exported to tests

_DIE = re.compile(r"^0x[0-9a-f]{8}: +(DW_TAG_\w+|NULL)")
_ATTR = re.compile(r"^ +(DW_AT_\w+)(?: \[DW_FORM_\w+\])?\t\(")
_ROW = re.compile(r"^0x[0-9a-f]{16} +\d+ +\d+ +\d+ +\d+ +\d+ ")
# llvm-dwarfdump-14 applies an object's relocations to attribute values but not inside location expressions;
# dwarfkit applies them everywhere, so DW_OP_addr operands of relocatable files are compared without their value.
_OP_ADDR = re.compile(r"DW_OP_addr 0x[0-9a-f]+")


def decoding_errors_agree(ours: list[str], llvm: list[str]) -> list[str]:
    """llvm-dwarfdump-14 cannot decode some expressions (DW_OP_deref_type, DW_OP_implicit_pointer in a few
    files) and prints "<decoding error>" and the raw bytes; we decode them. Compare such lines up to that point."""
    fixed = list(ours)
    for i, (a, b) in enumerate(zip(ours, llvm, strict=False)):
        if a != b and "<decoding error>" in b:
            cut = b.index("<decoding error>")
            if a[:cut] == b[:cut]:
                fixed[i] = b
    return fixed


def normalise(text: str, relocatable: bool) -> list[str]:
    """DIE lines, attribute lines (with continuation lines of ranges and location lists) and line-table rows."""
    out: list[str] = []
    for line in text.splitlines():
        if _DIE.match(line) or _ROW.match(line):
            out.append(" ".join(line.split()))
        elif _ATTR.match(line) or (out and out[-1].startswith("DW_AT_") and line.startswith(" " * 17)
                                   and line.lstrip().startswith(("[", "<"))):
            s = " ".join(line.split())
            if relocatable:
                s = _OP_ADDR.sub("DW_OP_addr <reloc>", s)
            if line.startswith("      ") and out and not _ATTR.match(line):
                out[-1] += " " + s
            else:
                out.append(s)
    return out


def llvm_dump(path: str, *flags: str) -> str:
    return subprocess.run(["llvm-dwarfdump-14", *flags, path], capture_output=True, text=True,
                          errors="surrogateescape", timeout=120).stdout


def our_dump(path: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dwarfkit", "dump", *flags, str(Path(path).resolve())],
                          capture_output=True, text=True, errors="surrogateescape", timeout=120, cwd=REPO)


def first_difference(a: list[str], b: list[str]) -> str | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"line {i}: ours {x!r}\n        llvm {y!r}"
    if len(a) != len(b):
        return f"ours has {len(a)} lines, llvm-dwarfdump {len(b)}"
    return None


if __name__ == "__main__":  # a developer's view of every difference on one file
    import difflib
    path = sys.argv[1]
    flags = sys.argv[2:] or ["--debug-info", "--debug-line"]
    reloc = "relocatable" in subprocess.run(["file", "-L", path], capture_output=True, text=True).stdout or \
        path.endswith((".o", ".obj"))
    ours = normalise(our_dump(path, *flags).stdout, reloc)
    theirs = normalise(llvm_dump(path, *flags), reloc)
    ours = decoding_errors_agree(ours, theirs)
    sys.stdout.writelines(difflib.unified_diff([x + "\n" for x in ours], [x + "\n" for x in theirs], "ours", "llvm",
                                               n=1))
