"""Test-only: small x86-64 programs for the COFF backend, and running the real tools on what it writes.

Code is assembled one instruction per line with keystone; an operand ``{symbol}`` becomes a relocation: the last 4
bytes of a ``call``/RIP-relative instruction (PCREL, addend -4) or the 8-byte immediate of ``movabs`` (ADDRESS).
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from keystone import KS_ARCH_X86, KS_MODE_64, Ks

from dwarfkit import ContentSection, Image, Relocation, RelocKind, SectionKind, Symbol, SymbolKind
from dwarfkit.arch import Arch

EXIT_CODE = 59
_KS = Ks(KS_ARCH_X86, KS_MODE_64)
_OPERAND = re.compile(r"\{([A-Za-z_$.][\w$.@]*)\}")


@dataclass
class Function:
    name: str
    lines: list[str]
    start: int = 0
    end: int = 0
    line_offsets: list[int] = field(default_factory=list)
    """Offset in the section of each instruction line."""


def assemble(functions: list[Function]) -> tuple[bytes, list[Relocation]]:
    """Code of ``functions`` back to back (16-byte aligned, int3 fill) and its symbol relocations."""
    code = bytearray()
    relocations: list[Relocation] = []
    for fn in functions:
        code += b"\xcc" * (-len(code) % 16)
        fn.start = len(code)
        for line in fn.lines:
            fn.line_offsets.append(len(code))
            match = _OPERAND.search(line)
            encoding = bytes(_KS.asm(_OPERAND.sub("0", line), len(code))[0])
            if match:
                if line.lstrip().startswith("movabs"):
                    relocations.append(Relocation(len(code) + len(encoding) - 8, 8, RelocKind.ADDRESS, match[1]))
                else:
                    relocations.append(Relocation(len(code) + len(encoding) - 4, 4, RelocKind.PCREL, match[1], -4))
            code += encoding
        fn.end = len(code)
    return bytes(code), relocations


def exit_program(*, call_import_by_name: bool = False, extra_symbols: list[Symbol] | None = None) -> tuple[Image, list[Function]]:
    """``start`` calls ``answer`` (50 from .data plus 9 through an absolute pointer) and exits with 59 through
    ``kernel32.dll!ExitProcess``, via ``__imp_ExitProcess`` or, with ``call_import_by_name``, a thunk."""
    exit_call = "call {ExitProcess}" if call_import_by_name else "call qword ptr [rip + {__imp_ExitProcess}]"
    functions = [
        Function("answer", ["push rbp", "mov rbp, rsp", "mov eax, dword ptr [rip + {value}]",
                            "mov rcx, qword ptr [rip + {pointer}]", "add eax, dword ptr [rcx]", "pop rbp", "ret"]),
        Function("start", ["sub rsp, 40", "call {answer}", "mov ecx, eax", exit_call]),
    ]
    code, relocations = assemble(functions)
    data = (50).to_bytes(4, "little") + bytes(4) + (9).to_bytes(4, "little") + bytes(4) + bytes(8)
    imported = "ExitProcess" if call_import_by_name else "__imp_ExitProcess"
    image = Image(
        Arch.X86_64,
        sections=[ContentSection(".text", SectionKind.CODE, code, relocations=relocations),
                  ContentSection(".data", SectionKind.DATA, data, alignment=8,
                                 relocations=[Relocation(16, 8, RelocKind.ADDRESS, "nine")])],
        symbols=[*(Symbol(f.name, ".text", f.start, f.end - f.start) for f in functions),
                 Symbol("value", ".data", 0, 4, SymbolKind.OBJECT),
                 Symbol("nine", ".data", 8, 4, SymbolKind.OBJECT, is_global=False),
                 Symbol("pointer", ".data", 16, 8, SymbolKind.OBJECT),
                 Symbol(imported, None, kind=SymbolKind.NOTYPE), *(extra_symbols or [])],
        entry="start")
    return image, functions


KERNEL32 = {"kernel32.dll": ["ExitProcess"]}


def run(args: list[str | os.PathLike[str]], *, timeout: float = 60, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **(env or {})})
    if check:
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def readobj(path: Path, *options: str) -> str:
    from conftest import require_tool
    return run([require_tool("llvm-readobj-14"), *options, path]).stdout
