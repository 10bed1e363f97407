"""A small real program for the Mach-O tests: two functions (main calls helper on x86_64), data and bss.

``build_image(arch)`` gives the container-neutral Image; ``helper`` is local, ``main`` and ``counter`` global,
``scratch`` a local in bss. ``add_dwarf(image, ...)`` describes it as if compiled from SOURCE (``/src/prog.c``):
units, types, functions with their variables and locations, a line row per instruction.
"""
from __future__ import annotations

from dwarfkit import (
    Address,
    Arch,
    ContentSection,
    Encoding,
    Image,
    Relocation,
    RelocKind,
    SectionKind,
    Symbol,
    SymbolKind,
)
from dwarfkit.asm import assemble
from dwarfkit.expr import Expr
from dwarfkit.frame import CallFrames
from dwarfkit.program import DwarfBuilder

SOURCE = """\
static int helper(int x)
{
    return x + 1;
}
int counter = 7;
static long scratch;
int main(void)
{
    int r = helper(41);
    return r;
}
"""
COMP_DIR, FILE = "/src", "prog.c"

# Machine code, written once per architecture, each instruction with its source line. x86_64: main calls helper
# through a PC-relative field.
CODE: dict[Arch, dict[str, list[tuple[str, int]]]] = {
    Arch.X86_64: {
        "helper": [("push rbp", 2), ("mov rbp, rsp", 2), ("mov dword ptr [rbp - 4], edi", 2),
                   ("mov eax, dword ptr [rbp - 4]", 3), ("add eax, 1", 3), ("pop rbp", 3), ("ret", 3)],
        "main": [("push rbp", 8), ("mov rbp, rsp", 8), ("sub rsp, 16", 8), ("mov edi, 41", 9), ("call helper", 9),
                 ("mov dword ptr [rbp - 4], eax", 9), ("mov eax, dword ptr [rbp - 4]", 10), ("add rsp, 16", 10),
                 ("pop rbp", 10), ("ret", 10)],
    },
    Arch.AARCH64: {
        "helper": [("sub sp, sp, #16", 2), ("str w0, [sp, #12]", 2), ("ldr w8, [sp, #12]", 3),
                   ("add w0, w8, #1", 3), ("add sp, sp, #16", 3), ("ret", 3)],
        "main": [("sub sp, sp, #16", 8), ("mov w8, #42", 9), ("str w8, [sp, #12]", 9), ("ldr w0, [sp, #12]", 10),
                 ("add sp, sp, #16", 10), ("ret", 10)],
    },
}
# Where each function keeps its variable: (frame base register, offset from it).
FRAME = {Arch.X86_64: ("rbp", -4), Arch.AARCH64: ("sp", 12)}


ROWS: dict[Arch, dict[str, list[tuple[int, int]]]] = {}
"""Per architecture and function: (offset in the function, line) of every instruction, filled by build_image."""


def build_image(arch: Arch) -> tuple[Image, dict[str, tuple[int, int]]]:
    """The Image, and each function's (start, end) offset in .text."""
    # 16-byte alignment leaves a gap after helper on both architectures, so that each function's line sequence ends
    # before the next starts (dsymutil joins sequences that touch, which lldb would then show as one).
    assembly = assemble(arch, [(name, "\n".join(text for text, _ in instructions))
                               for name, instructions in CODE[arch].items()], align=16)
    code = bytearray(assembly.code)
    functions = assembly.functions
    for name, instructions in CODE[arch].items():
        start, end = functions[name]
        starts = [at for at in assembly.instruction_starts if start <= at < end]
        ROWS.setdefault(arch, {})[name] = [(at - start, line)
                                           for at, (_, line) in zip(starts, instructions, strict=False)]
    relocations = []
    if arch is Arch.X86_64:  # main calls helper: a rel32 field, relocated (ELF-style addend: 4 back from its end)
        index = [text for text, _ in CODE[arch]["main"]].index("call helper")
        call = functions["main"][0] + ROWS[arch]["main"][index][0]
        assert code[call] == 0xE8  # call rel32
        code[call + 1:call + 5] = bytes(4)
        relocations.append(Relocation(call + 1, 4, RelocKind.PCREL, "helper", -4))
    image = Image(arch, entry="main", sections=[
        ContentSection(".text", SectionKind.CODE, bytes(code), 16, relocations=relocations),
        ContentSection(".data", SectionKind.DATA, (7).to_bytes(4, "little") + bytes(4), 8),
        ContentSection(".bss", SectionKind.BSS, alignment=4, size=8),
    ], symbols=[
        Symbol("helper", ".text", functions["helper"][0], functions["helper"][1] - functions["helper"][0],
               is_global=False),
        Symbol("main", ".text", functions["main"][0], functions["main"][1] - functions["main"][0]),
        Symbol("counter", ".data", 0, 4, SymbolKind.OBJECT),
        Symbol("scratch", ".bss", 0, 8, SymbolKind.OBJECT, is_global=False),
    ])
    return image, functions


# Call-frame rules per function: (offset of the instruction after which they hold, [(rule, operands), ...]).
CFA: dict[Arch, list[tuple[int, list[tuple[str, tuple]]]]] = {
    Arch.X86_64: [(1, [("def_cfa_offset", (16,)), ("offset", ("rbp", -16))]), (4, [("def_cfa_register", ("rbp",))])],
    Arch.AARCH64: [(4, [("def_cfa_offset", (16,))])],
}


def add_dwarf(image: Image, functions: dict[str, tuple[int, int]], version: int = 4, line_strings: bool = True
              ) -> None:
    """Describes the program in ``image.dwarf``, as a compiler would for SOURCE, with a .debug_frame."""
    arch = image.arch
    register, offset = FRAME[arch]
    dw = DwarfBuilder(Encoding(version=version, address_size=8), line_strings=line_strings)
    start = min(s for s, _ in functions.values())
    end = max(e for _, e in functions.values())
    cu = dw.compile_unit(FILE, comp_dir=COMP_DIR, producer="dwarfkit tests", language="C99",
                         low_pc=Address("helper"), high_pc=end - start)
    int_t = cu.base_type("int", 4, "signed")
    long_t = cu.base_type("long", 8, "signed")
    cu.die("variable", name="counter", type=int_t, external=True, decl_file=cu.file(FILE), decl_line=5,
           location=Expr().addr(Address("counter")))
    cu.die("variable", name="scratch", type=long_t, decl_file=cu.file(FILE), decl_line=6,
           location=Expr().addr(Address("scratch")))
    decl = {"helper": 1, "main": 7}
    for name, (low, high) in functions.items():
        fn = cu.die("subprogram", name=name, type=int_t, low_pc=Address(name), high_pc=high - low,
                    external=True if name == "main" else None, decl_file=cu.file(FILE), decl_line=decl[name],
                    prototyped=True, frame_base=Expr().reg(arch.register(register)))
        variable = ("formal_parameter", "x", 1) if name == "helper" else ("variable", "r", 9)
        fn.die(variable[0], name=variable[1], type=int_t, decl_file=cu.file(FILE), decl_line=variable[2],
               location=Expr().fbreg(offset))
        seq = cu.line.sequence(Address(name))
        for at, line in ROWS[arch][name]:
            seq.row(at, line)
        seq.end(high - low)
    image.dwarf = dw.emit()
    frames = CallFrames(arch, dw.encoding)
    for name, (low, high) in functions.items():
        fde = frames.fde(None, Address(name), high - low)
        for at, rules in CFA[arch]:
            fde.advance_to(at)
            for rule, operands in rules:
                getattr(fde, rule)(*operands)
    image.dwarf.add(frames.debug_frame())
