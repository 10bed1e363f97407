"""Test-only: small x86-64 programs for the COFF backend, and running the real tools on what it writes.

Code is assembled one instruction per line with keystone (``dwarfkit.asm.encode``); an operand ``{symbol}`` becomes a
relocation: the last 4 bytes of a ``call``/RIP-relative instruction (PCREL, addend -4) or the 8-byte immediate of
``movabs`` (ADDRESS).
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from dwarfkit import ContentSection, Image, Relocation, RelocKind, SectionKind, Symbol, SymbolKind
from dwarfkit.arch import Arch
from dwarfkit.asm import encode

EXIT_CODE = 59
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
            encoding = encode(Arch.X86_64, _OPERAND.sub("0", line), len(code))
            if match:
                if line.lstrip().startswith("movabs"):
                    relocations.append(Relocation(len(code) + len(encoding) - 8, 8, RelocKind.ADDRESS, match[1]))
                else:
                    relocations.append(Relocation(len(code) + len(encoding) - 4, 4, RelocKind.PCREL, match[1], -4))
            code += encoding
        fn.end = len(code)
    return bytes(code), relocations


def exit_program(*, call_import_by_name: bool = False) -> tuple[Image, list[Function]]:
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
                 Symbol(imported, None, kind=SymbolKind.NOTYPE)],
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


# The C source the DWARF describes, line by line (the program is hand-written assembly of it):
SOURCE = """\
int value = 50;
static int nine = 9;
int *pointer = &nine;
struct pair { int a; long long b; };
int answer(void)
{
    int sum = value + *pointer;
    return sum;
}
void start(void)
{
    struct pair p;
    ExitProcess(answer());
}
"""
SOURCE_NAME = "prog.c"
COMP_DIR = "/src/coff"
# Source line of each instruction of exit_program()'s functions.
LINES = {"answer": [6, 6, 7, 7, 7, 9, 9], "start": [11, 13, 13, 13]}


def dwarf_program(version: int = 5, *, call_import_by_name: bool = False,
                  offset_size: int = 4) -> tuple[Image, list[Function]]:
    """exit_program() with DWARF from the builder: one unit for SOURCE with types, globals, both functions with a
    local each, and a line row per instruction."""
    from dwarfkit import Address, Encoding
    from dwarfkit.expr import Expr
    from dwarfkit.program import DwarfBuilder

    image, functions = exit_program(call_import_by_name=call_import_by_name)
    end = functions[-1].end
    dw = DwarfBuilder(Encoding(version=version, offset_size=offset_size, address_size=8))
    cu = dw.compile_unit(SOURCE_NAME, comp_dir=COMP_DIR, producer="dwarfkit coff test", language="C99",
                         low_pc=Address("answer"), high_pc=end)
    int_t = cu.base_type("int", 4, "signed")
    long_long = cu.base_type("long long int", 8, "signed")
    pair = cu.struct_type("pair", 16, [("a", int_t, 0), ("b", long_long, 8)])
    cu.die("variable", name="value", type=int_t, decl_file=cu.file(SOURCE_NAME), decl_line=1, external=True,
           location=Expr().addr(Address("value")))
    cu.die("variable", name="nine", type=int_t, decl_file=cu.file(SOURCE_NAME), decl_line=2,
           location=Expr().addr(Address("nine")))
    cu.die("variable", name="pointer", type=cu.pointer_type(int_t), decl_file=cu.file(SOURCE_NAME), decl_line=3,
           external=True, location=Expr().addr(Address("pointer")))
    answer = cu.die("subprogram", name="answer", type=int_t, prototyped=True, external=True, decl_line=5,
                    decl_file=cu.file(SOURCE_NAME), low_pc=Address("answer"), high_pc=functions[0].end
                    - functions[0].start, frame_base=Expr().reg(6))
    answer.die("variable", name="sum", type=int_t, decl_line=7, decl_file=cu.file(SOURCE_NAME),
               location=Expr().fbreg(-4))
    start = cu.die("subprogram", name="start", external=True, decl_line=10, decl_file=cu.file(SOURCE_NAME),
                   prototyped=True, low_pc=Address("start"), high_pc=functions[1].end - functions[1].start,
                   frame_base=Expr().breg(7, 40))
    start.die("variable", name="p", type=pair, decl_line=12, decl_file=cu.file(SOURCE_NAME),
              location=Expr().fbreg(-24))
    for fn in functions:
        seq = cu.line.sequence(Address(fn.name))
        for offset, line in zip(fn.line_offsets, LINES[fn.name], strict=True):
            seq.row(offset - fn.start, line)
        seq.end(fn.end - fn.start)
    image.dwarf = dw.emit()
    return image, functions


def add_call_frames(image: Image, functions: list[Function], *, eh_frame: bool) -> None:
    """.debug_frame (and .eh_frame) for dwarf_program()'s functions: the CFA after each push / stack adjustment."""
    from dwarfkit import Address
    from dwarfkit.frame import CallFrames

    assert image.dwarf is not None
    frames = CallFrames(Arch.X86_64, image.dwarf.encoding)
    answer, start = functions
    fde = frames.fde(None, Address("answer"), answer.end - answer.start)
    fde.advance_to(answer.line_offsets[1] - answer.start)
    fde.def_cfa_offset(16)
    fde.offset("rbp", -16)
    fde.advance_to(answer.line_offsets[2] - answer.start)
    fde.def_cfa_register("rbp")
    fde = frames.fde(None, Address("start"), start.end - start.start)
    fde.advance_to(start.line_offsets[1] - start.start)
    fde.def_cfa_offset(48)
    image.dwarf.add(frames.debug_frame())
    if eh_frame:
        image.dwarf.add(frames.eh_frame())
